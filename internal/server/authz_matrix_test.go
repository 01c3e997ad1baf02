package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
)

// The authorisation matrix: every route the server answers (HTML and API,
// listed by the router itself) × every kind of principal × the object in
// the principal's own product, in another product and one that does not
// exist. What each principal may do comes from the one permission table
// (northstar.Can and northstar.CanOrg) through the rule of the route in
// routeRules; a route without a rule fails the test.
//
// A refusal is 401 (or the sign-in page) for who is not signed in, 404 for
// who may not read the product (it is not shown to exist) and 403 or 404
// for a member without the right. An allowed request may still be refused
// for its (empty) input or a state it is not in, but never with 401 or
// 403, and no answer is ever a 5xx.
func TestAuthorizationMatrix(t *testing.T) {
	forEachEngine(t, testAuthorizationMatrix)
}

// rule says who may use a route: "public" (anyone), "user" (anyone signed
// in; objects of their own), "admin", "author" (who wrote the comment:
// none of the principals), "org:<OrgAction>", or a product action
// ("read", "edit_stories", …) on the product the path names.
type rule string

// routeRules is the expectation of every route. Kept by hand: a new route
// fails the matrix until it is given its rule here.
var routeRules = map[string]rule{
	"GET /account":                                     "user",
	"POST /account/password":                           "user",
	"POST /account/tokens":                             "user",
	"POST /account/tokens/{id}/revoke":                 "user",
	"GET /admin":                                       "admin",
	"POST /admin/invitations/{id}/revoke":              "admin",
	"POST /admin/settings":                             "admin",
	"POST /admin/users/{email}":                        "admin",
	"GET /alignment":                                   "user",
	"POST /comments/{id}":                              "author",
	"POST /comments/{id}/delete":                       "admin",
	"GET /customers":                                   "user",
	"POST /customers":                                  "org:edit_customers",
	"POST /customers/{id}":                             "org:edit_customers",
	"POST /customers/{id}/delete":                      "admin",
	"GET /discussion/{kind}/{ref...}":                  "read",
	"POST /discussion/{kind}/{ref...}":                 "comment",
	"GET /healthz":                                     "public",
	"POST /invitations":                                "org:invite",
	"GET /invitations/{secret}":                        "public",
	"POST /invitations/{secret}":                       "public",
	"GET /login":                                       "public",
	"POST /login":                                      "public",
	"GET /login/oidc":                                  "public",
	"GET /login/oidc/callback":                         "public",
	"POST /logout":                                     "public",
	"GET /notifications":                               "user",
	"GET /notifications/count":                         "user",
	"POST /notifications/read":                         "user",
	"POST /notifications/{id}/read":                    "user",
	"GET /objectives":                                  "user",
	"POST /objectives":                                 "org:manage_objectives",
	"POST /objectives/{id}":                            "manage_product",
	"POST /objectives/{id}/delete":                     "manage_product",
	"POST /objectives/{id}/key-results":                "manage_product",
	"POST /objectives/{id}/key-results/{kr}":           "manage_product",
	"POST /objectives/{id}/key-results/{kr}/check-ins": "manage_product",
	"POST /objectives/{id}/key-results/{kr}/features":  "manage_product",
	"POST /objectives/{id}/key-results/{kr}/features/{ref}/remove":       "manage_product",
	"POST /objectives/{id}/key-results/{kr}/delete":                      "manage_product",
	"GET /portal/verify/{secret}":                                        "public",
	"POST /portal/verify/{secret}":                                       "public",
	"GET /portal/{key}":                                                  "public",
	"POST /portal/{key}":                                                 "public",
	"GET /portal/{key}/ideas/{idea}":                                     "public",
	"POST /portal/{key}/ideas/{idea}/comments":                           "public",
	"POST /portal/{key}/ideas/{idea}/vote":                               "public",
	"GET /portfolio":                                                     "user",
	"GET /portfolio/shipped":                                             "user",
	"GET /portfolio/shipped.md":                                          "user",
	"GET /products":                                                      "user",
	"POST /products":                                                     "org:create_product",
	"GET /products/new":                                                  "org:create_product",
	"GET /products/{key}":                                                "read",
	"GET /products/{key}/activity":                                       "read",
	"GET /products/{key}/activity.csv":                                   "read",
	"GET /products/{key}/alignment":                                      "read",
	"POST /products/{key}/archive":                                       "manage_product",
	"GET /products/{key}/backlog":                                        "read",
	"GET /products/{key}/export.json":                                    "read",
	"GET /products/{key}/features":                                       "read",
	"POST /products/{key}/features":                                      "propose_feature",
	"GET /products/{key}/features/{ref}":                                 "read",
	"POST /products/{key}/features/{ref}":                                "propose_feature",
	"POST /products/{key}/features/{ref}/delete":                         "manage_features",
	"POST /products/{key}/features/{ref}/horizon":                        "manage_features",
	"GET /products/{key}/features/{ref}/release-loop":                    "read",
	"POST /products/{key}/features/{ref}/release-note":                   "manage_features",
	"POST /products/{key}/features/{ref}/stories":                        "edit_stories",
	"GET /products/{key}/feedback":                                       "read",
	"POST /products/{key}/feedback":                                      "add_feedback",
	"GET /products/{key}/feedback/{feedback}":                            "read",
	"POST /products/{key}/feedback/{feedback}":                           "triage_feedback",
	"POST /products/{key}/feedback/{feedback}/insights":                  "triage_feedback",
	"POST /products/{key}/feedback/{feedback}/insights/{insight}/delete": "triage_feedback",
	"GET /products/{key}/forecast":                                       "read",
	"POST /products/{key}/ideas":                                         "propose_feature",
	"GET /products/{key}/import":                                         "edit_stories",
	"POST /products/{key}/import":                                        "edit_stories",
	"GET /products/{key}/import/{token}":                                 "edit_stories",
	"POST /products/{key}/import/{token}":                                "edit_stories",
	"POST /products/{key}/markdown-preview":                              "read",
	"POST /products/{key}/members":                                       "manage_product",
	"POST /products/{key}/members/{email}/remove":                        "manage_product",
	"GET /products/{key}/mentions":                                       "read",
	"GET /products/{key}/metrics":                                        "read",
	"POST /products/{key}/metrics":                                       "manage_product",
	"POST /products/{key}/metrics/{id}/points":                           "manage_product",
	"POST /products/{key}/metrics/{id}/upload":                           "manage_product",
	"GET /products/{key}/objectives":                                     "read",
	"POST /products/{key}/objectives":                                    "manage_product",
	"POST /products/{key}/personas":                                      "manage_product",
	"POST /products/{key}/personas/{id}":                                 "manage_product",
	"POST /products/{key}/personas/{id}/delete":                          "manage_product",
	"GET /products/{key}/poker":                                          "read",
	"POST /products/{key}/poker":                                         "read",
	"GET /products/{key}/poker/{id}":                                     "read",
	"POST /products/{key}/poker/{id}":                                    "edit_stories",
	"GET /products/{key}/portal":                                         "read",
	"POST /products/{key}/portal":                                        "manage_product",
	"POST /products/{key}/portal/ideas/{idea}":                           "manage_features",
	"POST /products/{key}/portal/ideas/{idea}/comments":                  "comment",
	"GET /products/{key}/prioritise":                                     "read",
	"GET /products/{key}/releases":                                       "read",
	"POST /products/{key}/releases":                                      "read",
	"GET /products/{key}/releases/{id}":                                  "read",
	"POST /products/{key}/releases/{id}":                                 "manage_features",
	"POST /products/{key}/releases/{id}/delete":                          "manage_features",
	"POST /products/{key}/releases/{id}/features":                        "manage_features",
	"GET /products/{key}/releases/{id}/forecast":                         "read",
	"POST /products/{key}/releases/{id}/ship":                            "manage_features",
	"GET /products/{key}/roadmap":                                        "read",
	"GET /products/{key}/roadmap.csv":                                    "read",
	"GET /products/{key}/roadmap.svg":                                    "read",
	"POST /products/{key}/roadmap/links":                                 "manage_features",
	"POST /products/{key}/roadmap/links/{id}/revoke":                     "manage_features",
	"POST /products/{key}/score-criteria":                                "read",
	"POST /products/{key}/score-criteria/{id}":                           "manage_features",
	"POST /products/{key}/score-criteria/{id}/delete":                    "manage_features",
	"POST /products/{key}/segments":                                      "manage_product",
	"POST /products/{key}/segments/{id}":                                 "manage_product",
	"POST /products/{key}/segments/{id}/delete":                          "manage_product",
	"GET /products/{key}/settings":                                       "read",
	"POST /products/{key}/settings":                                      "manage_product",
	"POST /products/{key}/stage":                                         "change_stage",
	"POST /products/{key}/stories":                                       "edit_stories",
	"GET /products/{key}/stories/{ref}":                                  "read",
	"POST /products/{key}/stories/{ref}":                                 "edit_stories",
	"POST /products/{key}/stories/{ref}/criteria":                        "edit_stories",
	"POST /products/{key}/stories/{ref}/criteria/{id}":                   "edit_stories",
	"POST /products/{key}/stories/{ref}/criteria/{id}/delete":            "edit_stories",
	"POST /products/{key}/stories/{ref}/delete":                          "edit_stories",
	"POST /products/{key}/stories/{ref}/move":                            "edit_stories",
	"GET /products/{key}/stories/{ref}/suggestion":                       "read",
	"POST /products/{key}/stories/{ref}/suggestion/accept":               "work_stories",
	"POST /products/{key}/stories/{ref}/tasks":                           "work_stories",
	"POST /products/{key}/stories/{ref}/tasks/{id}":                      "work_stories",
	"POST /products/{key}/stories/{ref}/tasks/{id}/delete":               "work_stories",
	"GET /products/{key}/strategy":                                       "read",
	"POST /products/{key}/strategy":                                      "manage_product",
	"POST /products/{key}/themes":                                        "manage_features",
	"POST /products/{key}/themes/{id}":                                   "manage_features",
	"POST /products/{key}/themes/{id}/delete":                            "manage_features",
	"GET /products/{key}/webhooks":                                       "manage_product",
	"POST /products/{key}/webhooks":                                      "manage_product",
	"POST /products/{key}/webhooks/{id}":                                 "manage_product",
	"POST /products/{key}/webhooks/{id}/delete":                          "manage_product",
	"POST /products/{key}/webhooks/{id}/deliveries/{delivery}/redeliver": "manage_product",
	"GET /readyz":                                                    "public",
	"GET /roadmaps/{secret}":                                         "public",
	"GET /signup":                                                    "public",
	"POST /signup":                                                   "public",
	"GET /sprints/{id}":                                              "read",
	"POST /sprints/{id}":                                             "edit_stories",
	"POST /sprints/{id}/cards/{ref}/move":                            "work_stories",
	"POST /sprints/{id}/close":                                       "edit_stories",
	"POST /sprints/{id}/fill":                                        "edit_stories",
	"GET /sprints/{id}/plan":                                         "read",
	"GET /sprints/{id}/review":                                       "read",
	"POST /sprints/{id}/start":                                       "edit_stories",
	"POST /sprints/{id}/stories":                                     "edit_stories",
	"POST /sprints/{id}/stories/{ref}/accept":                        "accept_story",
	"POST /sprints/{id}/stories/{ref}/remove":                        "edit_stories",
	"GET /static/":                                                   "public",
	"GET /teams":                                                     "user",
	"POST /teams":                                                    "org:manage_teams",
	"GET /teams/{id}":                                                "read",
	"POST /teams/{id}":                                               "edit_stories",
	"GET /teams/{id}/board":                                          "read",
	"POST /teams/{id}/columns":                                       "edit_stories",
	"POST /teams/{id}/columns/{column}":                              "edit_stories",
	"POST /teams/{id}/columns/{column}/delete":                       "edit_stories",
	"POST /teams/{id}/columns/{column}/move":                         "edit_stories",
	"POST /teams/{id}/delete":                                        "edit_stories",
	"POST /teams/{id}/members":                                       "edit_stories",
	"POST /teams/{id}/members/{email}/remove":                        "edit_stories",
	"GET /teams/{id}/reports":                                        "read",
	"GET /teams/{id}/sprints":                                        "read",
	"POST /teams/{id}/sprints":                                       "edit_stories",
	"GET /unsubscribe/{secret}":                                      "public",
	"POST /unsubscribe/{secret}":                                     "public",
	"POST /watch/{kind}/{ref...}":                                    "read",
	"GET /{$}":                                                       "user",
	"GET /api/v1/alignment":                                          "user",
	"PATCH /api/v1/comments/{id}":                                    "author",
	"DELETE /api/v1/comments/{id}":                                   "admin",
	"GET /api/v1/customers":                                          "user",
	"POST /api/v1/customers":                                         "org:edit_customers",
	"GET /api/v1/customers/{id}":                                     "user",
	"PATCH /api/v1/customers/{id}":                                   "org:edit_customers",
	"DELETE /api/v1/customers/{id}":                                  "admin",
	"GET /api/v1/events":                                             "read",
	"GET /api/v1/features/{ref}":                                     "read",
	"PATCH /api/v1/features/{ref}":                                   "propose_feature",
	"DELETE /api/v1/features/{ref}":                                  "manage_features",
	"GET /api/v1/features/{ref}/activity":                            "read",
	"GET /api/v1/features/{ref}/comments":                            "read",
	"POST /api/v1/features/{ref}/comments":                           "comment",
	"GET /api/v1/features/{ref}/release-loop":                        "read",
	"PUT /api/v1/features/{ref}/release-note":                        "manage_features",
	"POST /api/v1/features/{ref}/stories":                            "edit_stories",
	"GET /api/v1/features/{ref}/watch":                               "read",
	"PUT /api/v1/features/{ref}/watch":                               "read",
	"DELETE /api/v1/features/{ref}/watch":                            "read",
	"GET /api/v1/invitations":                                        "admin",
	"POST /api/v1/invitations":                                       "org:invite",
	"DELETE /api/v1/invitations/{id}":                                "admin",
	"GET /api/v1/me":                                                 "user",
	"POST /api/v1/me/password":                                       "user",
	"GET /api/v1/notifications":                                      "user",
	"POST /api/v1/notifications/read":                                "user",
	"GET /api/v1/notifications/unread-count":                         "user",
	"GET /api/v1/objectives":                                         "user",
	"POST /api/v1/objectives":                                        "org:manage_objectives",
	"GET /api/v1/objectives/{id}":                                    "read",
	"PATCH /api/v1/objectives/{id}":                                  "manage_product",
	"DELETE /api/v1/objectives/{id}":                                 "manage_product",
	"POST /api/v1/objectives/{id}/key-results":                       "manage_product",
	"PATCH /api/v1/objectives/{id}/key-results/{kr}":                 "manage_product",
	"DELETE /api/v1/objectives/{id}/key-results/{kr}":                "manage_product",
	"POST /api/v1/objectives/{id}/key-results/{kr}/check-ins":        "manage_product",
	"POST /api/v1/objectives/{id}/key-results/{kr}/features":         "manage_product",
	"DELETE /api/v1/objectives/{id}/key-results/{kr}/features/{ref}": "manage_product",
	"GET /api/v1/openapi.json":                                       "public",
	"GET /api/v1/poker/{id}":                                         "read",
	"POST /api/v1/poker/{id}/close":                                  "edit_stories",
	"POST /api/v1/poker/{id}/stories/{ref}/agree":                    "edit_stories",
	"POST /api/v1/poker/{id}/stories/{ref}/reveal":                   "edit_stories",
	"POST /api/v1/poker/{id}/stories/{ref}/revote":                   "edit_stories",
	"PUT /api/v1/poker/{id}/stories/{ref}/vote":                      "work_stories",
	"GET /api/v1/portal/{key}":                                       "public",
	"POST /api/v1/portal/{key}/ideas":                                "public",
	"GET /api/v1/portal/{key}/ideas/{id}":                            "public",
	"POST /api/v1/portal/{key}/ideas/{id}/comments":                  "public",
	"POST /api/v1/portal/{key}/ideas/{id}/votes":                     "public",
	"GET /api/v1/portfolio":                                          "user",
	"GET /api/v1/portfolio/shipped":                                  "user",
	"GET /api/v1/products":                                           "user",
	"POST /api/v1/products":                                          "org:create_product",
	"GET /api/v1/products/{key}":                                     "read",
	"PATCH /api/v1/products/{key}":                                   "manage_product",
	"GET /api/v1/products/{key}/activity":                            "read",
	"GET /api/v1/products/{key}/activity.csv":                        "read",
	"GET /api/v1/products/{key}/alignment":                           "read",
	"GET /api/v1/products/{key}/comments":                            "read",
	"POST /api/v1/products/{key}/comments":                           "comment",
	"GET /api/v1/products/{key}/export":                              "read",
	"GET /api/v1/products/{key}/features":                            "read",
	"POST /api/v1/products/{key}/features":                           "propose_feature",
	"GET /api/v1/products/{key}/features.csv":                        "read",
	"GET /api/v1/products/{key}/feedback":                            "read",
	"POST /api/v1/products/{key}/feedback":                           "add_feedback",
	"GET /api/v1/products/{key}/feedback/{id}":                       "read",
	"PATCH /api/v1/products/{key}/feedback/{id}":                     "triage_feedback",
	"GET /api/v1/products/{key}/feedback/{id}/activity":              "read",
	"GET /api/v1/products/{key}/feedback/{id}/comments":              "read",
	"POST /api/v1/products/{key}/feedback/{id}/comments":             "comment",
	"POST /api/v1/products/{key}/feedback/{id}/insights":             "triage_feedback",
	"DELETE /api/v1/products/{key}/feedback/{id}/insights/{insight}": "triage_feedback",
	"GET /api/v1/products/{key}/feedback/{id}/watch":                 "read",
	"PUT /api/v1/products/{key}/feedback/{id}/watch":                 "read",
	"DELETE /api/v1/products/{key}/feedback/{id}/watch":              "read",
	"GET /api/v1/products/{key}/forecast":                            "read",
	"GET /api/v1/products/{key}/forecast/date":                       "read",
	"GET /api/v1/products/{key}/ideas":                               "read",
	"POST /api/v1/products/{key}/ideas":                              "propose_feature",
	"POST /api/v1/products/{key}/imports":                            "edit_stories",
	"GET /api/v1/products/{key}/members":                             "read",
	"PUT /api/v1/products/{key}/members/{email}":                     "manage_product",
	"DELETE /api/v1/products/{key}/members/{email}":                  "manage_product",
	"GET /api/v1/products/{key}/metrics":                             "read",
	"POST /api/v1/products/{key}/metrics":                            "manage_product",
	"GET /api/v1/products/{key}/metrics/{id}":                        "read",
	"POST /api/v1/products/{key}/metrics/{id}/points":                "manage_product",
	"GET /api/v1/products/{key}/objectives":                          "read",
	"POST /api/v1/products/{key}/objectives":                         "manage_product",
	"POST /api/v1/products/{key}/personas":                           "manage_product",
	"PATCH /api/v1/products/{key}/personas/{id}":                     "manage_product",
	"DELETE /api/v1/products/{key}/personas/{id}":                    "manage_product",
	"GET /api/v1/products/{key}/poker":                               "read",
	"POST /api/v1/products/{key}/poker":                              "edit_stories",
	"GET /api/v1/products/{key}/portal":                              "read",
	"PUT /api/v1/products/{key}/portal":                              "manage_product",
	"GET /api/v1/products/{key}/portal/ideas":                        "read",
	"PATCH /api/v1/products/{key}/portal/ideas/{id}":                 "manage_features",
	"POST /api/v1/products/{key}/portal/ideas/{id}/comments":         "comment",
	"GET /api/v1/products/{key}/releases":                            "read",
	"POST /api/v1/products/{key}/releases":                           "manage_features",
	"GET /api/v1/products/{key}/releases/{id}":                       "read",
	"PATCH /api/v1/products/{key}/releases/{id}":                     "manage_features",
	"DELETE /api/v1/products/{key}/releases/{id}":                    "manage_features",
	"GET /api/v1/products/{key}/releases/{id}/forecast":              "read",
	"POST /api/v1/products/{key}/releases/{id}/ship":                 "manage_features",
	"GET /api/v1/products/{key}/roadmap":                             "read",
	"GET /api/v1/products/{key}/roadmap-links":                       "manage_features",
	"POST /api/v1/products/{key}/roadmap-links":                      "manage_features",
	"DELETE /api/v1/products/{key}/roadmap-links/{id}":               "manage_features",
	"GET /api/v1/products/{key}/roadmap.csv":                         "read",
	"GET /api/v1/products/{key}/score-criteria":                      "read",
	"POST /api/v1/products/{key}/score-criteria":                     "manage_features",
	"PATCH /api/v1/products/{key}/score-criteria/{id}":               "manage_features",
	"DELETE /api/v1/products/{key}/score-criteria/{id}":              "manage_features",
	"POST /api/v1/products/{key}/segments":                           "manage_product",
	"PATCH /api/v1/products/{key}/segments/{id}":                     "manage_product",
	"DELETE /api/v1/products/{key}/segments/{id}":                    "manage_product",
	"POST /api/v1/products/{key}/stage":                              "change_stage",
	"GET /api/v1/products/{key}/stages":                              "read",
	"GET /api/v1/products/{key}/stories":                             "read",
	"POST /api/v1/products/{key}/stories":                            "edit_stories",
	"GET /api/v1/products/{key}/stories.csv":                         "read",
	"GET /api/v1/products/{key}/strategy":                            "read",
	"PATCH /api/v1/products/{key}/strategy":                          "manage_product",
	"GET /api/v1/products/{key}/themes":                              "read",
	"POST /api/v1/products/{key}/themes":                             "manage_features",
	"PATCH /api/v1/products/{key}/themes/{id}":                       "manage_features",
	"DELETE /api/v1/products/{key}/themes/{id}":                      "manage_features",
	"GET /api/v1/products/{key}/watch":                               "read",
	"PUT /api/v1/products/{key}/watch":                               "read",
	"DELETE /api/v1/products/{key}/watch":                            "read",
	"GET /api/v1/products/{key}/webhooks":                            "manage_product",
	"POST /api/v1/products/{key}/webhooks":                           "manage_product",
	"PATCH /api/v1/products/{key}/webhooks/{id}":                     "manage_product",
	"DELETE /api/v1/products/{key}/webhooks/{id}":                    "manage_product",
	"GET /api/v1/products/{key}/webhooks/{id}/deliveries":            "manage_product",
	"POST /api/v1/products/{key}/webhooks/{id}/redeliveries":         "manage_product",
	"GET /api/v1/roadmaps/{secret}":                                  "public",
	"GET /api/v1/search":                                             "user",
	"GET /api/v1/settings":                                           "admin",
	"PATCH /api/v1/settings":                                         "admin",
	"POST /api/v1/signup":                                            "public",
	"GET /api/v1/sprints/{id}":                                       "read",
	"PATCH /api/v1/sprints/{id}":                                     "edit_stories",
	"GET /api/v1/sprints/{id}/activity":                              "read",
	"GET /api/v1/sprints/{id}/burndown":                              "read",
	"POST /api/v1/sprints/{id}/cards/{ref}/move":                     "work_stories",
	"POST /api/v1/sprints/{id}/close":                                "edit_stories",
	"GET /api/v1/sprints/{id}/comments":                              "read",
	"POST /api/v1/sprints/{id}/comments":                             "comment",
	"POST /api/v1/sprints/{id}/fill":                                 "edit_stories",
	"GET /api/v1/sprints/{id}/forecast":                              "read",
	"GET /api/v1/sprints/{id}/plan":                                  "read",
	"POST /api/v1/sprints/{id}/start":                                "edit_stories",
	"POST /api/v1/sprints/{id}/stories":                              "edit_stories",
	"DELETE /api/v1/sprints/{id}/stories/{ref}":                      "edit_stories",
	"GET /api/v1/sprints/{id}/watch":                                 "read",
	"PUT /api/v1/sprints/{id}/watch":                                 "read",
	"DELETE /api/v1/sprints/{id}/watch":                              "read",
	"POST /api/v1/stories/bulk":                                      "work_stories",
	"GET /api/v1/stories/{ref}":                                      "read",
	"PATCH /api/v1/stories/{ref}":                                    "edit_stories",
	"DELETE /api/v1/stories/{ref}":                                   "edit_stories",
	"GET /api/v1/stories/{ref}/activity":                             "read",
	"GET /api/v1/stories/{ref}/comments":                             "read",
	"POST /api/v1/stories/{ref}/comments":                            "comment",
	"POST /api/v1/stories/{ref}/criteria":                            "edit_stories",
	"PATCH /api/v1/stories/{ref}/criteria/{id}":                      "work_stories",
	"DELETE /api/v1/stories/{ref}/criteria/{id}":                     "edit_stories",
	"POST /api/v1/stories/{ref}/move":                                "edit_stories",
	"GET /api/v1/stories/{ref}/suggestion":                           "read",
	"POST /api/v1/stories/{ref}/suggestion/accept":                   "work_stories",
	"POST /api/v1/stories/{ref}/tasks":                               "work_stories",
	"PATCH /api/v1/stories/{ref}/tasks/{id}":                         "work_stories",
	"DELETE /api/v1/stories/{ref}/tasks/{id}":                        "work_stories",
	"GET /api/v1/stories/{ref}/watch":                                "read",
	"PUT /api/v1/stories/{ref}/watch":                                "read",
	"DELETE /api/v1/stories/{ref}/watch":                             "read",
	"GET /api/v1/teams":                                              "user",
	"POST /api/v1/teams":                                             "org:manage_teams",
	"GET /api/v1/teams/{id}":                                         "read",
	"PATCH /api/v1/teams/{id}":                                       "edit_stories",
	"DELETE /api/v1/teams/{id}":                                      "edit_stories",
	"GET /api/v1/teams/{id}/board":                                   "read",
	"POST /api/v1/teams/{id}/columns":                                "edit_stories",
	"PUT /api/v1/teams/{id}/columns":                                 "edit_stories",
	"PATCH /api/v1/teams/{id}/columns/{column}":                      "edit_stories",
	"DELETE /api/v1/teams/{id}/columns/{column}":                     "edit_stories",
	"GET /api/v1/teams/{id}/flow":                                    "read",
	"PUT /api/v1/teams/{id}/members/{email}":                         "edit_stories",
	"DELETE /api/v1/teams/{id}/members/{email}":                      "edit_stories",
	"GET /api/v1/teams/{id}/sprints":                                 "read",
	"POST /api/v1/teams/{id}/sprints":                                "edit_stories",
	"GET /api/v1/teams/{id}/velocity":                                "read",
	"GET /api/v1/tokens":                                             "user",
	"POST /api/v1/tokens":                                            "public",
	"DELETE /api/v1/tokens/{id}":                                     "user",
	"GET /api/v1/users":                                              "admin",
	"PATCH /api/v1/users/{email}":                                    "admin",
}

// principal is one kind of caller of the matrix.
type principal struct {
	name    string
	role    northstar.Role // in the own product
	admin   bool
	valid   bool // signed in with a working credential
	token   string
	session *http.Cookie
	email   string
}

func testAuthorizationMatrix(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.app.SeedDemo(ctx, nil); err != nil {
		t.Fatalf("seed demo: %v", err)
	}
	const own, other = "BOOK", "EBOOK"
	adminC := (&client{env: e, name: "demo admin"}).withToken(apiToken(t, e, "admin@northstar.test"))

	// One fresh account per role in the own product only, so that the
	// other product is one they have no part in.
	var ps []*principal
	add := func(name string, role northstar.Role, admin bool) *principal {
		email := strings.ReplaceAll(name, " ", "-") + "@matrix.test"
		if _, err := e.app.CreateUser(app.SystemContext(ctx), northstar.NewUser{Name: name, Email: email, Password: password}, admin); err != nil {
			t.Fatalf("create %s: %v", email, err)
		}
		if role != "" {
			adminC.setMember(t, own, email, string(role))
		}
		p := &principal{name: name, role: role, admin: admin, valid: true, email: email, token: apiToken(t, e, email), session: e.login(t, email).session}
		ps = append(ps, p)
		return p
	}
	ps = append(ps, &principal{name: "anonymous"})
	add("no-role", "", false)
	for _, r := range []northstar.Role{northstar.RoleViewer, northstar.RoleStakeholder, northstar.RoleDeveloper, northstar.RoleProductOwner, northstar.RoleProductManager} {
		add(string(r), r, false)
	}
	add("admin", "", true)
	revoked := add("revoked", northstar.RoleProductManager, false)
	disabled := add("disabled", northstar.RoleProductManager, false)
	// The revoked principal's token is revoked and its session signed
	// out; the disabled one keeps both, but is disabled.
	revokedC := (&client{env: e, name: "revoked"}).withToken(revoked.token)
	var toks []struct {
		ID int64 `json:"id"`
	}
	revokedC.get(t, "/api/v1/tokens").want(t, http.StatusOK).decode(t, &struct {
		Items *[]struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}{Items: &toks})
	for _, tk := range toks {
		revokedC.delete(t, fmt.Sprintf("/api/v1/tokens/%d", tk.ID)).check(t, http.StatusNoContent)
	}
	(&client{env: e, name: "revoked", session: revoked.session}).post(t, "/logout", url.Values{})
	revoked.valid = false
	adminC.patch(t, "/api/v1/users/"+disabled.email, map[string]bool{"disabled": true}).want(t, http.StatusOK)
	disabled.valid = false

	// A bystander is the member and user that routes about members and
	// users change, so that the principals keep their roles.
	if _, err := e.app.CreateUser(app.SystemContext(ctx), northstar.NewUser{Name: "Bystander", Email: "bystander@matrix.test", Password: password}, false); err != nil {
		t.Fatal(err)
	}
	fx := newFixtures(t, adminC, own, other)
	bodies := newSampleBodies(t, e)

	routes := e.server.Routes()
	destructive := regexp.MustCompile(`/(delete|remove|revoke)$`)
	// Reads first, then writes, then what deletes: a deleted object would
	// otherwise be missing for the rows after it.
	weight := func(method, pattern string) int {
		switch {
		case pattern == "/logout":
			return 4 // ends the principals' sessions
		case pattern == "/account/password" || pattern == "/api/v1/me/password":
			return 3 // a new password may end the other sessions
		case method == "POST" && (pattern == "/products" || pattern == "/api/v1/products"):
			return 3 // makes its creator a product manager, and so changes what they may do
		case method == "GET":
			return 0
		case method == "DELETE" || destructive.MatchString(pattern):
			return 2
		}
		return 1
	}
	sort.SliceStable(routes, func(i, j int) bool {
		return weight(routes[i].Method, routes[i].Pattern) < weight(routes[j].Method, routes[j].Pattern)
	})

	// NORTHSTAR_AUTHZ_DISCOVER=1 logs every answer of every route instead
	// of judging them: what a new route's rule is checked against.
	discover := os.Getenv("NORTHSTAR_AUTHZ_DISCOVER") != ""
	var missing, unexpected []string
	// denied counts the requests the table refuses (signed in, an existing
	// object); refused those refused as such rather than for their input.
	requests, denied, refused := 0, 0, 0
	inputFirst := map[string]int{} // route → denied requests refused for their input
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		r, ok := routeRules[key]
		if !ok && !discover {
			missing = append(missing, key)
			continue
		}
		var seen []string
		variants := []string{"own", "other", "none"}
		if !strings.Contains(rt.Pattern, "{") || rt.Pattern == "/{$}" {
			variants = variants[:1] // no object: one answer
		}
		for _, variant := range variants {
			path, ok := fx.path(rt.Pattern, variant)
			if !ok {
				continue
			}
			if q, ok := sampleQuery[rt.Pattern]; ok {
				path += "?" + q
			}
			for _, p := range ps {
				a := matrixRequest(t, e, p, rt.Method, path, fx.fill(bodies.body(rt.Method, rt.Pattern), variant))
				requests++
				mark := ""
				if a.flash != "" {
					mark = "f"
					if refusalFlash(a.flash) {
						mark = "F"
					}
				}
				seen = append(seen, fmt.Sprintf("%s/%s=%d%s", variant, p.name, a.status, mark))
				if discover {
					continue
				}
				if why := r.judge(p, variant, path, strings.Contains(rt.Pattern, "{"), a); why != "" {
					unexpected = append(unexpected, fmt.Sprintf("%s %s as %s (%s): %d %s%s: %s", rt.Method, path, p.name, variant, a.status, a.location, a.flash, why))
				}
				if allowed, _ := r.allows(p, variant); p.valid && !allowed && variant != "none" && r != "public" {
					denied++
					if a.outcome(path) == refusal {
						refused++
					} else {
						inputFirst[key]++
					}
				}
			}
		}
		if discover {
			t.Logf("DISCOVER %q: %s", key, strings.Join(seen, " "))
		}
	}
	t.Logf("authorisation matrix: %d routes × %d principals × 3 object variants: %d requests, %d unexpected answers; %d of %d requests the table refuses were refused for who asked, the others for their input first", len(routes), len(ps), requests, len(unexpected), refused, denied)
	for _, k := range slices.Sorted(maps.Keys(inputFirst)) {
		t.Logf("input checked before the permission: %s (%d requests)", k, inputFirst[k])
	}
	for _, m := range missing {
		t.Errorf("route %s has no rule in routeRules", m)
	}
	for _, u := range unexpected {
		t.Error(u)
	}
}

// outcome is what an answer means for the matrix.
type outcome int

const (
	served        outcome = iota
	signInRefusal         // 401, or the sign-in page
	refusal               // 403 or 404, or a form's message that says so
	inputRefusal          // the input or the object's state refused (400, 409, 422, …)
)

// answer is a response as the matrix reads it.
type answer struct {
	status   int
	location string
	flash    string // a form's error message after a redirect
}

func (a answer) outcome(path string) outcome {
	switch {
	case a.status == http.StatusUnauthorized:
		return signInRefusal
	case a.status >= 300 && a.status < 400 && strings.HasPrefix(a.location, "/login") && !strings.HasPrefix(path, "/api/"):
		return signInRefusal
	case a.status == http.StatusForbidden || a.status == http.StatusNotFound:
		return refusal
	case a.flash != "" && refusalFlash(a.flash):
		return refusal
	case a.flash != "", a.status >= 400 && a.status < 500:
		return inputRefusal
	}
	return served
}

// judge returns why an answer is wrong, or "". hasObject says the path
// names an object (so the "none" variant names one that does not exist).
func (r rule) judge(p *principal, variant, path string, hasObject bool, a answer) string {
	if a.status >= 500 {
		return "a server error"
	}
	if r == "public" {
		return ""
	}
	o := a.outcome(path)
	if !p.valid {
		if o != signInRefusal {
			return "wants the sign-in refusal"
		}
		return ""
	}
	if o == signInRefusal {
		return "a signed-in principal refused as signed out"
	}
	allowed, product := r.allows(p, variant)
	switch {
	case variant == "none" && hasObject && r != "user":
		// A person's own objects (tokens, notifications) may be
		// marked read or revoked idempotently; the rest must exist.
		if o == served {
			return "answered for an object that does not exist"
		}
	case allowed:
		if a.status == http.StatusForbidden || (o == refusal && strings.Contains(a.flash, "may not")) {
			return "allowed by the permission table, but refused"
		}
	default:
		if o == served {
			return "refused by the permission table, but answered"
		}
		hidden := product && (p.role == "" || variant != "own") && !p.admin
		if o == refusal && hidden && a.status == http.StatusForbidden {
			return "a product the principal has no part in must not be shown to exist (404, not 403)"
		}
	}
	return ""
}

// allows says whether the permission table lets p use a route of this
// rule on the variant's object, and whether the rule is a product's.
func (r rule) allows(p *principal, variant string) (allowed, product bool) {
	s := string(r)
	switch {
	case s == "user":
		return true, false
	case s == "admin":
		return p.admin, false
	case s == "author":
		// Only who wrote it, and the demo admin wrote every fixture.
		return false, true
	case strings.HasPrefix(s, "org:"):
		st := northstar.OrgStanding{
			ManagesAProduct:   p.role == northstar.RoleProductManager,
			GivesFeedbackSome: northstar.Can(false, p.role, northstar.ActionAddFeedback),
			PlansSomewhere:    northstar.Can(false, p.role, northstar.ActionEditStories),
		}
		return northstar.CanOrg(&northstar.User{Admin: p.admin}, st, northstar.OrgAction(strings.TrimPrefix(s, "org:"))), false
	}
	role := p.role
	if variant != "own" {
		role = ""
	}
	return northstar.Can(p.admin, role, northstar.Action(s)), true
}

// refusalFlash says whether a form's error message refuses the person
// rather than the input.
func refusalFlash(msg string) bool {
	return strings.Contains(msg, "may not") || strings.Contains(msg, "not found")
}

// matrixRequest sends one request as p and returns the status and where a
// redirect leads. An event stream answers its headers and is closed.
func matrixRequest(t *testing.T, e *env, p *principal, method, path, body string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	contentType := "application/x-www-form-urlencoded"
	if strings.HasPrefix(path, "/api/") {
		contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if method != "GET" {
		req.Header.Set("Content-Type", contentType)
	}
	if strings.HasPrefix(path, "/api/") && p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	} else if p.session != nil {
		req.AddCookie(&http.Cookie{Name: p.session.Name, Value: p.session.Value})
	}
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, path, p.name, err)
	}
	res.Body.Close()
	a := answer{status: res.StatusCode, location: res.Header.Get("Location")}
	// A form refused after a redirect says so in its flash message.
	for _, c := range res.Cookies() {
		if c.Name == "northstar_flash" && strings.HasPrefix(c.Value, "%21") {
			a.flash, _ = url.QueryUnescape(c.Value)
		}
	}
	return a
}

// apiToken gives an account a fresh API token.
func apiToken(t *testing.T, e *env, email string) string {
	t.Helper()
	var cr credentials
	e.anon().post(t, "/api/v1/tokens", map[string]string{"email": email, "password": passwordOf(email), "name": "matrix"}).
		want(t, http.StatusCreated).decode(t, &cr)
	return cr.Token
}

// passwordOf is the password of a demo account or of one this test made.
func passwordOf(email string) string {
	if strings.HasSuffix(email, "@northstar.test") {
		return app.DemoPassword
	}
	return password
}

// fixtures finds, for each path parameter, an object of the own product,
// of the other product and one that does not exist.
type fixtures struct {
	t      *testing.T
	values map[string]map[string]string // variant → parameter kind → value
}

func newFixtures(t *testing.T, admin *client, own, other string) *fixtures {
	fx := &fixtures{t: t, values: map[string]map[string]string{}}
	for variant, key := range map[string]string{"own": own, "other": other} {
		fx.values[variant] = collectFixtures(t, admin, key)
	}
	none := map[string]string{}
	for k := range fx.values["own"] {
		none[k] = "987654"
	}
	for _, k := range []string{"tokens", "notifications", "delivery", "token"} {
		none[k] = "987654"
	}
	none["kind"] = "story"
	none["key"] = "NOPE"
	none["story"], none["feature"] = "NOPE-1", "NOPE-2"
	none["email"] = "nobody@matrix.test"
	none["secret"] = "rm_unknown"
	fx.values["none"] = none
	return fx
}

// collectFixtures makes sure the product has one object of each kind a
// route's path names, made by the demo admin, and returns their ids.
func collectFixtures(t *testing.T, admin *client, key string) map[string]string {
	t.Helper()
	base := "/api/v1/products/" + key
	create := func(path string, body any) string {
		t.Helper()
		res := admin.do(t, "POST", path, body)
		if res.status != http.StatusCreated && res.status != http.StatusOK {
			t.Fatalf("fixture %s: %d %s", path, res.status, short(res.body))
		}
		var v struct {
			ID      json.Number `json:"id"`
			Ref     string      `json:"ref"`
			Webhook struct {
				ID json.Number `json:"id"`
			} `json:"webhook"`
		}
		res.decode(t, &v)
		switch {
		case v.Ref != "":
			return v.Ref
		case v.ID != "":
			return v.ID.String()
		}
		return v.Webhook.ID.String()
	}
	v := map[string]string{"key": key, "email": "bystander@matrix.test"}
	admin.setMember(t, key, "bystander@matrix.test", "viewer")
	v["story"] = create(base+"/stories", map[string]string{"title": "Matrix story"})
	v["cards"] = v["story"]
	v["feature"] = create(base+"/features", map[string]string{"title": "Matrix feature"})
	// Criteria and tasks are answered with their story.
	admin.post(t, "/api/v1/stories/"+v["story"]+"/criteria", map[string]string{"text": "Matrix criterion"}).want(t, http.StatusCreated)
	admin.post(t, "/api/v1/stories/"+v["story"]+"/tasks", map[string]string{"text": "Matrix task"}).want(t, http.StatusCreated)
	var story struct {
		Criteria []struct {
			ID int64 `json:"id"`
		} `json:"criteria"`
		Tasks []struct {
			ID int64 `json:"id"`
		} `json:"tasks"`
	}
	admin.get(t, "/api/v1/stories/"+v["story"]).want(t, http.StatusOK).decode(t, &story)
	if len(story.Criteria) != 1 || len(story.Tasks) != 1 {
		t.Fatalf("story %s: %d criteria, %d tasks, want 1 each", v["story"], len(story.Criteria), len(story.Tasks))
	}
	v["criteria"], v["tasks"] = fmt.Sprint(story.Criteria[0].ID), fmt.Sprint(story.Tasks[0].ID)
	v["releases"] = create(base+"/releases", map[string]string{"name": "Matrix release"})
	v["themes"] = create(base+"/themes", map[string]string{"name": "Matrix theme"})
	v["score-criteria"] = create(base+"/score-criteria", map[string]any{"name": "Matrix criterion", "kind": "manual", "weight": 1})
	v["segments"] = create(base+"/segments", map[string]string{"name": "Matrix segment"})
	v["personas"] = create(base+"/personas", map[string]string{"name": "Matrix persona"})
	v["feedback"] = create(base+"/feedback", map[string]string{"text": "Matrix feedback"})
	v["insights"] = create(base+"/feedback/"+v["feedback"]+"/insights", map[string]string{"feature": v["feature"], "importance": "important"})
	v["objectives"] = create(base+"/objectives", map[string]string{"title": "Matrix objective", "start": "2026-01-01", "end": "2026-12-31"})
	v["key-results"] = create("/api/v1/objectives/"+v["objectives"]+"/key-results", map[string]any{"name": "Matrix KR", "start": 0, "target": 10})
	v["kr"] = v["key-results"]
	v["webhooks"] = create(base+"/webhooks", map[string]string{"url": publicHook})
	// A metric is named by its key in paths.
	admin.post(t, base+"/metrics", map[string]string{"name": "Matrix metric", "key": "matrix"}).want(t, http.StatusCreated)
	v["metrics"] = "matrix"
	v["poker"] = create(base+"/poker", map[string]any{"title": "Matrix round", "stories": []string{v["story"]}})
	v["roadmap-links"] = create(base+"/roadmap-links", map[string]string{"name": "Matrix link"})
	v["links"] = v["roadmap-links"]
	v["comments"] = create(base+"/comments", map[string]string{"body": "Matrix comment"})
	admin.put(t, base+"/portal", map[string]any{"enabled": true}).want(t, http.StatusOK)
	v["ideas"] = create("/api/v1/portal/"+key+"/ideas", map[string]string{"title": "Matrix idea", "email": "idea@matrix.test"})
	v["idea"] = v["ideas"]
	v["teams"] = create("/api/v1/teams", map[string]any{"name": "Matrix team " + key, "products": []string{key}})
	v["sprints"] = create("/api/v1/teams/"+v["teams"]+"/sprints", map[string]string{"name": "Matrix sprint", "start": "2026-12-01", "end": "2026-12-14"})
	var team struct {
		Columns []struct {
			ID int64 `json:"id"`
		} `json:"columns"`
	}
	admin.get(t, "/api/v1/teams/"+v["teams"]).want(t, http.StatusOK).decode(t, &team)
	if len(team.Columns) == 0 {
		t.Fatalf("team %s has no columns", v["teams"])
	}
	v["column"] = fmt.Sprint(team.Columns[0].ID)
	v["insight"] = v["insights"]
	v["customers"] = create("/api/v1/customers", map[string]string{"name": "Matrix customer " + key})
	v["invitations"] = create("/api/v1/invitations", map[string]string{"email": "invited-" + strings.ToLower(key) + "@matrix.test", "product": key, "role": "viewer"})
	v["kind"] = "story"
	return v
}

// fill puts the variant's story and feature in a request body's
// placeholders (refs are letters, digits and a dash: safe in JSON and in
// a form as they are).
func (fx *fixtures) fill(body, variant string) string {
	vals := fx.values[variant]
	return strings.NewReplacer("{story}", vals["story"], "{feature}", vals["feature"], "%7Bstory%7D", vals["story"], "%7Bfeature%7D", vals["feature"]).Replace(body)
}

// path fills a route pattern with the variant's objects; false when the
// pattern has a parameter without a fixture.
func (fx *fixtures) path(pattern, variant string) (string, bool) {
	p := strings.TrimSuffix(pattern, "{$}")
	vals := fx.values[variant]
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		param := strings.Trim(s, "{}.")
		kind := param
		if param == "id" || param == "ref" {
			kind = segs[i-1]
		}
		switch kind {
		case "stories", "cards":
			kind = "story"
		case "features":
			kind = "feature"
		}
		val, ok := vals[kind]
		if !ok || val == "" {
			return "", false
		}
		segs[i] = url.PathEscape(val)
	}
	if slices.Contains(segs, "") && pattern == "/static/" {
		return "/static/app.css", true
	}
	return strings.Join(segs, "/"), true
}

// Removing a member takes effect on the very next request, through a
// token as through a browser session, as revoking a token and disabling
// an account do (TestTokens, TestDisabledUserIsRefused).
func TestRemovedMemberIsRefusedAtOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		web := e.login(t, tm.dev.email)
		tm.dev.get(t, "/api/v1/products/BOOK/stories").want(t, http.StatusOK)
		web.get(t, "/products/BOOK/backlog").want(t, http.StatusOK)

		tm.pm.delete(t, "/api/v1/products/BOOK/members/"+tm.dev.email).want(t, http.StatusNoContent)
		tm.dev.get(t, "/api/v1/products/BOOK/stories").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		web.get(t, "/products/BOOK/backlog").want(t, http.StatusNotFound)
		tm.dev.post(t, "/api/v1/products/BOOK/stories", map[string]string{"title": "After removal"}).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
	})
}
