package server_test

// Scenario tests of the discovery API: the strategy page, objectives with
// key results and check-ins, customers, the feedback inbox with insights
// and ideas, and the feedback portal, the team's side and the public one,
// through HTTP on every engine.

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
)

// The JSON shapes of the discovery API, as the tests read them.
type (
	apiSegment struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	apiPersona struct {
		ID          int64  `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Goals       string `json:"goals"`
		Pains       string `json:"pains"`
	}
	apiStrategy struct {
		Product         string       `json:"product"`
		Vision          string       `json:"vision"`
		TargetMarket    string       `json:"target_market"`
		NorthStarMetric string       `json:"north_star_metric"`
		Segments        []apiSegment `json:"segments"`
		Personas        []apiPersona `json:"personas"`
		Version         int          `json:"version"`
	}
	apiCheckIn struct {
		ID    int64   `json:"id"`
		Value float64 `json:"value"`
		Note  string  `json:"note"`
		Actor string  `json:"actor"`
		At    string  `json:"at"`
	}
	apiKeyResult struct {
		ID       int64          `json:"id"`
		Name     string         `json:"name"`
		Unit     string         `json:"unit"`
		Start    float64        `json:"start"`
		Target   float64        `json:"target"`
		Current  float64        `json:"current"`
		CheckIns []apiCheckIn   `json:"check_ins"`
		Progress float64        `json:"progress"`
		Features []apiKRFeature `json:"features"`
	}
	apiKRFeature struct {
		Product        string   `json:"product"`
		Ref            string   `json:"ref"`
		Title          string   `json:"title"`
		Status         string   `json:"status"`
		ReleasedAt     *string  `json:"released_at"`
		ValueAtRelease *float64 `json:"value_at_release"`
	}
	apiObjective struct {
		ID          int64          `json:"id"`
		Product     string         `json:"product"`
		ParentID    *int64         `json:"parent_id"`
		Title       string         `json:"title"`
		Description string         `json:"description"`
		Start       string         `json:"start"`
		End         string         `json:"end"`
		Owner       *apiUserRef    `json:"owner"`
		Status      string         `json:"status"`
		KeyResults  []apiKeyResult `json:"key_results"`
		Children    []apiObjective `json:"children"`
		Progress    float64        `json:"progress"`
		Version     int            `json:"version"`
	}
	apiCustomer struct {
		ID            int64    `json:"id"`
		Name          string   `json:"name"`
		Email         string   `json:"email"`
		Company       string   `json:"company"`
		Segment       string   `json:"segment"`
		Value         *float64 `json:"value"`
		FeedbackCount int      `json:"feedback_count"`
		Version       int      `json:"version"`
	}
	apiInsight struct {
		ID           int64  `json:"id"`
		FeedbackID   int64  `json:"feedback_id"`
		Feature      string `json:"feature"`
		FeatureTitle string `json:"feature_title"`
		Passage      string `json:"passage"`
		Importance   string `json:"importance"`
	}
	apiFeedback struct {
		ID         int64        `json:"id"`
		Product    string       `json:"product"`
		Source     string       `json:"source"`
		Title      string       `json:"title"`
		Text       string       `json:"text"`
		Status     string       `json:"status"`
		Customer   *apiCustomer `json:"customer"`
		CapturedBy *apiUserRef  `json:"captured_by"`
		Insights   []apiInsight `json:"insights"`
		PortalIdea *int64       `json:"portal_idea_id"`
		Votes      int          `json:"votes"`
		Version    int          `json:"version"`
	}
	apiIdea struct {
		Ref          string `json:"ref"`
		Title        string `json:"title"`
		Problem      string `json:"problem"`
		Status       string `json:"status"`
		InsightCount int    `json:"insight_count"`
	}
	apiTeamIdea struct {
		ID           int64  `json:"id"`
		Title        string `json:"title"`
		Body         string `json:"body"`
		AuthorName   string `json:"author_name"`
		Email        string `json:"email"`
		Status       string `json:"status"`
		Hidden       bool   `json:"hidden"`
		Votes        int    `json:"votes"`
		CommentCount int    `json:"comment_count"`
		FeedbackID   int64  `json:"feedback_id"`
	}
	apiPortalComment struct {
		ID         int64  `json:"id"`
		AuthorName string `json:"author_name"`
		FromTeam   bool   `json:"from_team"`
		Body       string `json:"body"`
	}
	apiPublicIdea struct {
		ID           int64              `json:"id"`
		Title        string             `json:"title"`
		Body         string             `json:"body"`
		AuthorName   string             `json:"author_name"`
		Status       string             `json:"status"`
		Votes        int                `json:"votes"`
		CommentCount int                `json:"comment_count"`
		Comments     []apiPortalComment `json:"comments"`
	}
	apiPublicPortal struct {
		Product string          `json:"product"`
		Name    string          `json:"name"`
		Intro   string          `json:"intro"`
		Ideas   []apiPublicIdea `json:"ideas"`
	}
	apiReceipt struct {
		Status  string            `json:"status"`
		Idea    *apiPublicIdea    `json:"idea"`
		Comment *apiPortalComment `json:"comment"`
	}
)

// decodeAs decodes a response's JSON body.
func decodeAs[T any](t *testing.T, r *response) T {
	t.Helper()
	var v T
	r.decode(t, &v)
	return v
}

// near compares computed progress.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// noEmails fails if a public answer shows an e-mail address: no "@" at
// all, and no "email" member (an error may still name the field).
func noEmails(t *testing.T, r *response) {
	t.Helper()
	if body := string(r.body); strings.Contains(body, "@") || strings.Contains(body, `"email":`) {
		t.Errorf("%s reveals an e-mail address: %s", r.req, short(r.body))
	}
}

// submitIdea posts an idea to the public portal anonymously.
func (e *env) submitIdea(t *testing.T, key, title, email string) apiPublicIdea {
	t.Helper()
	res := e.anon().post(t, "/api/v1/portal/"+key+"/ideas", map[string]string{"title": title, "body": "Please.", "name": "Reader", "email": email}).
		want(t, http.StatusCreated)
	rc := decodeAs[apiReceipt](t, res)
	if rc.Status != "received" || rc.Idea == nil {
		t.Fatalf("%s: receipt %+v, want received with the idea", res.req, rc)
	}
	return *rc.Idea
}

// seedPortalIdea stores an end user's idea through the application from
// an address of its own, so that seeding does not count against the
// limits of the tests' one client address.
func (e *env) seedPortalIdea(t *testing.T, key, title string, n int) int64 {
	t.Helper()
	sub := northstar.PortalSubmission{Title: title, Name: "Seeder", Email: fmt.Sprintf("seed%d@example.com", n)}
	idea, err := e.app.SubmitPortalIdea(context.Background(), key, sub, fmt.Sprintf("10.77.%d.%d", n/250, n%250))
	if err != nil || idea == nil {
		t.Fatalf("seed portal idea in %s: %v", key, err)
	}
	return idea.ID
}

// The "done when", through the API: the vision and a persona; an
// objective with two key results and a check-in; an interview with a
// customer, two insights linked to two new ideas; the portal opened; an
// end user's idea and its votes arriving in the inbox.
func TestDiscoveryDoneWhen(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		p := tm.product(t, "BOOK", "Book inventory")

		// The strategy: the vision and the market, with the product's
		// version as the ETag.
		res := tm.pm.patch(t, "/api/v1/products/BOOK/strategy", map[string]string{
			"vision": "Every *independent* bookshop knows its stock.", "target_market": "Independent bookshops in Europe", "north_star_metric": "Titles sold from stock",
		}, "If-Match", strconv.Itoa(p.Version)).want(t, http.StatusOK)
		st := decodeAs[apiStrategy](t, res)
		if st.Vision != "Every *independent* bookshop knows its stock." || st.TargetMarket != "Independent bookshops in Europe" ||
			st.NorthStarMetric != "Titles sold from stock" || st.Version != p.Version+1 || res.header.Get("ETag") != fmt.Sprintf(`"%d"`, p.Version+1) {
			t.Errorf("strategy after PATCH = %+v (ETag %s)", st, res.header.Get("ETag"))
		}
		if got := tm.viewer.getProduct(t, "BOOK"); got.Vision != st.Vision {
			t.Errorf("product vision = %q, want the strategy's", got.Vision)
		}
		persona := decodeAs[apiPersona](t, tm.pm.post(t, "/api/v1/products/BOOK/personas",
			map[string]string{"name": "Shop owner", "description": "Runs one shop", "goals": "Sell more", "pains": "Empty shelves"}).want(t, http.StatusCreated))
		if persona.ID == 0 || persona.Name != "Shop owner" || persona.Pains != "Empty shelves" {
			t.Errorf("persona = %+v", persona)
		}
		persona = decodeAs[apiPersona](t, tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/personas/%d", persona.ID),
			map[string]string{"pains": "Empty shelves before the weekend"}).want(t, http.StatusOK))
		if persona.Goals != "Sell more" || persona.Pains != "Empty shelves before the weekend" {
			t.Errorf("persona after PATCH = %+v, want goals kept", persona)
		}
		tm.pm.post(t, "/api/v1/products/BOOK/segments", map[string]string{"name": "Independents"}).want(t, http.StatusCreated)
		res = tm.viewer.get(t, "/api/v1/products/book/strategy").want(t, http.StatusOK)
		st = decodeAs[apiStrategy](t, res)
		if len(st.Personas) != 1 || st.Personas[0].Pains != persona.Pains || len(st.Segments) != 1 || res.header.Get("ETag") != fmt.Sprintf(`"%d"`, st.Version) {
			t.Errorf("viewer reads the strategy: %+v (ETag %s)", st, res.header.Get("ETag"))
		}

		// A company objective and a product objective rolling up to it,
		// with two key results.
		company := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/objectives",
			map[string]any{"title": "Grow revenue", "start": "2026-01-01", "end": "2026-12-31"}).want(t, http.StatusCreated))
		if company.Product != "" || company.Progress != 0 || len(company.KeyResults) != 0 {
			t.Errorf("company objective = %+v", company)
		}
		res = tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{
			"title": "Win independent shops", "start": "2026-10-01", "end": "2026-12-31", "owner": "PM@example.com", "parent_id": company.ID,
			"key_results": []map[string]any{
				{"name": "Paying shops", "unit": "shops", "start": 100, "target": 200},
				{"name": "Churn", "unit": "%", "start": 5, "target": 2, "current": 4},
			},
		}).want(t, http.StatusCreated)
		o := decodeAs[apiObjective](t, res)
		if res.header.Get("Location") != fmt.Sprintf("/api/v1/objectives/%d", o.ID) || res.header.Get("ETag") != `"1"` {
			t.Errorf("created objective: Location %q, ETag %q", res.header.Get("Location"), res.header.Get("ETag"))
		}
		if o.Product != "BOOK" || o.ParentID == nil || *o.ParentID != company.ID || o.Owner == nil || o.Owner.Email != "pm@example.com" ||
			o.Status != "on_track" || o.Start != "2026-10-01" || o.End != "2026-12-31" || len(o.KeyResults) != 2 {
			t.Fatalf("objective = %+v", o)
		}
		if kr := o.KeyResults[1]; kr.Current != 4 || !near(kr.Progress, 1.0/3) || kr.CheckIns == nil {
			t.Errorf("churn key result = %+v, want progress 1/3 and an empty history", kr)
		}
		res = tm.pm.post(t, fmt.Sprintf("/api/v1/objectives/%d/key-results/%d/check-ins", o.ID, o.KeyResults[0].ID),
			map[string]any{"value": 150, "note": "Autumn fair"}).want(t, http.StatusCreated)
		o = decodeAs[apiObjective](t, res)
		// (150-100)/(200-100) = 0.5 and (4-5)/(2-5) = 1/3.
		if !near(o.Progress, (0.5+1.0/3)/2) || !near(o.KeyResults[0].Progress, 0.5) || o.KeyResults[0].Current != 150 {
			t.Errorf("after the check-in: progress %v, key result %+v", o.Progress, o.KeyResults[0])
		}
		if ci := o.KeyResults[0].CheckIns; len(ci) != 1 || ci[0].Value != 150 || ci[0].Note != "Autumn fair" || ci[0].Actor != "Pat Manager" || ci[0].At == "" {
			t.Errorf("check-ins = %+v", ci)
		}
		if o.Version != 2 || res.header.Get("ETag") != `"2"` {
			t.Errorf("a check-in moves the objective to version 2: %d, ETag %s", o.Version, res.header.Get("ETag"))
		}
		got := decodeAs[apiObjective](t, tm.viewer.get(t, fmt.Sprintf("/api/v1/objectives/%d", o.ID)).want(t, http.StatusOK))
		if !near(got.Progress, o.Progress) || len(got.KeyResults[0].CheckIns) != 1 {
			t.Errorf("GET objective = %+v", got)
		}
		companies := list[apiObjective](t, tm.viewer, "/api/v1/objectives")
		if len(companies) != 1 || len(companies[0].Children) != 1 || companies[0].Children[0].ID != o.ID || !near(companies[0].Children[0].Progress, o.Progress) {
			t.Errorf("company objectives = %+v, want Grow revenue with BOOK's objective rolled up", companies)
		}
		if seen := list[apiObjective](t, tm.outsider, "/api/v1/objectives"); len(seen) != 1 || len(seen[0].Children) != 0 {
			t.Errorf("an outsider sees BOOK's objective under the company's: %+v", seen)
		}
		if ps := list[apiObjective](t, tm.dev, "/api/v1/products/BOOK/objectives"); len(ps) != 1 || ps[0].ID != o.ID {
			t.Errorf("BOOK's objectives = %+v", ps)
		}

		// A customer, and an interview with them: two insights linked to
		// two new ideas in one request.
		res = tm.stakeholder.post(t, "/api/v1/customers", map[string]any{
			"name": "Ana Books", "email": "Ana@AnaBooks.example", "company": "Ana Books Ltd", "segment": "Independent", "value": 1200,
		}).want(t, http.StatusCreated)
		ana := decodeAs[apiCustomer](t, res)
		if ana.Email != "ana@anabooks.example" || ana.Value == nil || *ana.Value != 1200 || res.header.Get("Location") != fmt.Sprintf("/api/v1/customers/%d", ana.ID) {
			t.Errorf("customer = %+v (Location %s)", ana, res.header.Get("Location"))
		}
		text := "We count stock by hand every Sunday.\nI would love reorder suggestions before the weekend rush.\nAlso: barcode scanning on my phone."
		res = tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{
			"source": "interview", "text": text, "customer_id": ana.ID,
			"insights": []map[string]string{
				{"passage": "reorder suggestions before the weekend rush", "importance": "critical", "new_idea": "Reorder suggestions"},
				{"passage": "barcode scanning on my phone", "new_idea": "Phone scanning"},
			},
		}).want(t, http.StatusCreated)
		fb := decodeAs[apiFeedback](t, res)
		if res.header.Get("Location") != fmt.Sprintf("/api/v1/products/BOOK/feedback/%d", fb.ID) {
			t.Errorf("feedback Location = %q", res.header.Get("Location"))
		}
		if fb.Status != "triaged" || fb.Source != "interview" || fb.Title != "We count stock by hand every Sunday." ||
			fb.Customer == nil || fb.Customer.Name != "Ana Books" || fb.CapturedBy == nil || fb.CapturedBy.Email != "pm@example.com" || len(fb.Insights) != 2 {
			t.Fatalf("interview = %+v", fb)
		}
		if in := fb.Insights; in[0].Feature != "BOOK-1" || in[0].FeatureTitle != "Reorder suggestions" || in[0].Importance != "critical" ||
			in[1].Feature != "BOOK-2" || in[1].Importance != "important" {
			t.Errorf("insights = %+v", in)
		}
		ideas := list[apiIdea](t, tm.viewer, "/api/v1/products/BOOK/ideas")
		if len(ideas) != 2 || ideas[0].Ref != "BOOK-1" || ideas[0].InsightCount != 1 || ideas[1].Title != "Phone scanning" || ideas[1].Status != "idea" ||
			!strings.Contains(ideas[0].Problem, "reorder suggestions") {
			t.Errorf("ideas = %+v", ideas)
		}
		if c := decodeAs[apiCustomer](t, tm.viewer.get(t, fmt.Sprintf("/api/v1/customers/%d", ana.ID)).want(t, http.StatusOK)); c.FeedbackCount != 1 {
			t.Errorf("customer's feedback count = %d, want 1", c.FeedbackCount)
		}

		// The portal: closed until the PM opens it.
		e.anon().get(t, "/api/v1/portal/BOOK").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true, "intro": "Tell us what to build next."}).want(t, http.StatusOK)
		portal := decodeAs[apiPublicPortal](t, e.anon().get(t, "/api/v1/portal/book").want(t, http.StatusOK))
		if portal.Product != "BOOK" || portal.Name != "Book inventory" || portal.Intro != "Tell us what to build next." || portal.Ideas == nil || len(portal.Ideas) != 0 {
			t.Errorf("portal = %+v", portal)
		}

		// An end user's idea, two more votes and a comment.
		res = e.anon().post(t, "/api/v1/portal/BOOK/ideas", map[string]string{
			"title": "Dark mode", "body": "<script>alert(1)</script> for night shifts", "name": "Night Reader", "email": "Reader@Example.com",
		}).want(t, http.StatusCreated)
		noEmails(t, res)
		rc := decodeAs[apiReceipt](t, res)
		if rc.Status != "received" || rc.Idea == nil || rc.Idea.Votes != 1 || rc.Idea.Status != "under_review" || rc.Idea.AuthorName != "Night Reader" {
			t.Fatalf("receipt = %+v", rc)
		}
		idea := rc.Idea.ID
		if loc := res.header.Get("Location"); loc != fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d", idea) {
			t.Errorf("idea Location = %q", loc)
		}
		for i, email := range []string{"fan@example.com", "second.fan@example.com"} {
			res := e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/votes", idea), map[string]string{"email": email}).want(t, http.StatusCreated)
			noEmails(t, res)
			if rc := decodeAs[apiReceipt](t, res); rc.Idea == nil || rc.Idea.Votes != i+2 {
				t.Errorf("vote %d: receipt %+v, want %d votes", i+1, rc, i+2)
			}
		}
		res = e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/comments", idea), map[string]string{"body": "+1, the glare hurts", "email": "fan@example.com"}).
			want(t, http.StatusCreated)
		noEmails(t, res)
		if rc := decodeAs[apiReceipt](t, res); rc.Comment == nil || rc.Comment.AuthorName != "Anonymous" || rc.Comment.FromTeam {
			t.Errorf("comment receipt = %+v", rc)
		}

		// They arrive in the PM's inbox with the vote count.
		inbox := list[apiFeedback](t, tm.pm, "/api/v1/products/BOOK/feedback?source=portal")
		if len(inbox) != 1 || inbox[0].Votes != 3 || inbox[0].Status != "new" || inbox[0].PortalIdea == nil || *inbox[0].PortalIdea != idea ||
			inbox[0].Title != "Dark mode" || !strings.Contains(inbox[0].Text, "<script>") {
			t.Fatalf("portal feedback in the inbox = %+v", inbox)
		}
		if all := list[apiFeedback](t, tm.viewer, "/api/v1/products/BOOK/feedback"); len(all) != 2 || all[0].Source != "portal" || all[1].ID != fb.ID {
			t.Errorf("inbox, newest first = %+v", all)
		}
		team := list[apiTeamIdea](t, tm.pm, "/api/v1/products/BOOK/portal/ideas")
		if len(team) != 1 || team[0].Votes != 3 || team[0].CommentCount != 1 || team[0].Email != "reader@example.com" || team[0].FeedbackID != inbox[0].ID {
			t.Errorf("the team's portal ideas = %+v", team)
		}
		if team := list[apiTeamIdea](t, tm.viewer, "/api/v1/products/BOOK/portal/ideas"); len(team) != 1 || team[0].Email != "" {
			t.Errorf("a viewer sees the submitter's address: %+v", team)
		}

		// The PM sets the status the portal shows; a developer answers.
		updated := decodeAs[apiTeamIdea](t, tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/portal/ideas/%d", idea), map[string]string{"status": "planned"}).want(t, http.StatusOK))
		if updated.Status != "planned" || updated.Hidden {
			t.Errorf("portal idea after PATCH = %+v", updated)
		}
		answer := decodeAs[apiPortalComment](t, tm.dev.post(t, fmt.Sprintf("/api/v1/products/BOOK/portal/ideas/%d/comments", idea), map[string]string{"body": "On the roadmap."}).
			want(t, http.StatusCreated))
		if !answer.FromTeam || !strings.Contains(answer.AuthorName, "Dev Eloper") {
			t.Errorf("team answer = %+v", answer)
		}
		res = e.anon().get(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d", idea)).want(t, http.StatusOK)
		noEmails(t, res)
		detail := decodeAs[apiPublicIdea](t, res)
		if detail.Status != "planned" || detail.Votes != 3 || len(detail.Comments) != 2 || !detail.Comments[1].FromTeam || detail.Comments[0].Body != "+1, the glare hurts" {
			t.Errorf("public idea = %+v", detail)
		}
		res = e.anon().get(t, "/api/v1/portal/BOOK").want(t, http.StatusOK)
		noEmails(t, res)
		if portal := decodeAs[apiPublicPortal](t, res); len(portal.Ideas) != 1 || portal.Ideas[0].Status != "planned" || portal.Ideas[0].Votes != 3 {
			t.Errorf("portal = %+v", portal)
		}
	})
}

// The discovery permission matrix through the API: every new action
// against every role. A member without the right gets 403 and nothing is
// written; someone who belongs to no product learns nothing (404), or gets
// 403 for an organization-wide action.
func TestDiscoveryPermissions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		everyone := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer}
		signedIn := append(slices.Clone(everyone), tm.outsider)
		managers := []*client{tm.admin, tm.pm}
		triagers := []*client{tm.admin, tm.pm, tm.po}
		contributors := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder}
		admins := []*client{tm.admin}

		// target holds what an action works on, created fresh for each
		// caller: "key", a number "n" of its own, and whatever the
		// action needs.
		type target map[string]string
		actions := []struct {
			name    string
			method  string
			path    string // {name} is replaced by the target's values
			body    any
			needs   []string
			allowed []*client
			// outsider is what the outsider gets when not allowed:
			// 404 for product actions, 403 for organization ones.
			outsider int
		}{
			// Reading: every member.
			{name: "read strategy", method: "GET", path: "/api/v1/products/{key}/strategy", allowed: everyone},
			{name: "list objectives", method: "GET", path: "/api/v1/products/{key}/objectives", allowed: everyone},
			{name: "read objective", method: "GET", path: "/api/v1/objectives/{objective}", needs: []string{"objective"}, allowed: everyone},
			{name: "list feedback", method: "GET", path: "/api/v1/products/{key}/feedback", allowed: everyone},
			{name: "read feedback", method: "GET", path: "/api/v1/products/{key}/feedback/{feedback}", needs: []string{"feedback"}, allowed: everyone},
			{name: "list ideas", method: "GET", path: "/api/v1/products/{key}/ideas", allowed: everyone},
			{name: "read portal settings", method: "GET", path: "/api/v1/products/{key}/portal", allowed: everyone},
			{name: "list portal ideas", method: "GET", path: "/api/v1/products/{key}/portal/ideas", allowed: everyone},
			// Strategy: product managers.
			{name: "write strategy", method: "PATCH", path: "/api/v1/products/{key}/strategy", body: map[string]string{"vision": "Changed"}, allowed: managers},
			{name: "add persona", method: "POST", path: "/api/v1/products/{key}/personas", body: map[string]string{"name": "Buyer {n}"}, allowed: managers},
			{name: "change persona", method: "PATCH", path: "/api/v1/products/{key}/personas/{persona}", body: map[string]string{"goals": "More"}, needs: []string{"persona"}, allowed: managers},
			{name: "delete persona", method: "DELETE", path: "/api/v1/products/{key}/personas/{persona}", needs: []string{"persona"}, allowed: managers},
			{name: "add segment", method: "POST", path: "/api/v1/products/{key}/segments", body: map[string]string{"name": "Chains {n}"}, allowed: managers},
			{name: "delete segment", method: "DELETE", path: "/api/v1/products/{key}/segments/{segment}", needs: []string{"segment"}, allowed: managers},
			// Objectives: product managers.
			{name: "create objective", method: "POST", path: "/api/v1/products/{key}/objectives",
				body: map[string]string{"title": "Grow", "start": "2026-01-01", "end": "2026-03-31"}, allowed: managers},
			{name: "change objective", method: "PATCH", path: "/api/v1/objectives/{objective}", body: map[string]string{"status": "at_risk"}, needs: []string{"objective"}, allowed: managers},
			{name: "delete objective", method: "DELETE", path: "/api/v1/objectives/{objective}", needs: []string{"objective"}, allowed: managers},
			{name: "add key result", method: "POST", path: "/api/v1/objectives/{objective}/key-results",
				body: map[string]any{"name": "Shops", "start": 0, "target": 10}, needs: []string{"objective"}, allowed: managers},
			{name: "change key result", method: "PATCH", path: "/api/v1/objectives/{objective}/key-results/{kr}",
				body: map[string]any{"target": 20}, needs: []string{"objective"}, allowed: managers},
			{name: "check in", method: "POST", path: "/api/v1/objectives/{objective}/key-results/{kr}/check-ins",
				body: map[string]any{"value": 5}, needs: []string{"objective"}, allowed: managers},
			// Feedback: adding is for everyone but viewers; triage and
			// links for product managers and owners.
			{name: "add feedback", method: "POST", path: "/api/v1/products/{key}/feedback", body: map[string]string{"source": "sales", "text": "They want exports."}, allowed: contributors},
			{name: "triage feedback", method: "PATCH", path: "/api/v1/products/{key}/feedback/{feedback}", body: map[string]string{"status": "archived"},
				needs: []string{"feedback"}, allowed: triagers},
			{name: "link insight", method: "POST", path: "/api/v1/products/{key}/feedback/{feedback}/insights", body: map[string]string{"feature": "{feature}"},
				needs: []string{"feedback", "feature"}, allowed: triagers},
			{name: "unlink insight", method: "DELETE", path: "/api/v1/products/{key}/feedback/{feedback}/insights/{insight}",
				needs: []string{"insight"}, allowed: triagers},
			// Ideas: product managers and owners propose.
			{name: "propose idea", method: "POST", path: "/api/v1/products/{key}/ideas", body: map[string]string{"title": "Exports"}, allowed: triagers},
			{name: "link to a new idea", method: "POST", path: "/api/v1/products/{key}/feedback/{feedback}/insights", body: map[string]string{"new_idea": "Exports"},
				needs: []string{"feedback"}, allowed: triagers},
			// The portal: settings and statuses are the PM's; answering
			// is commenting.
			{name: "portal settings", method: "PUT", path: "/api/v1/products/{key}/portal", body: map[string]any{"enabled": true}, allowed: managers},
			{name: "portal status", method: "PATCH", path: "/api/v1/products/{key}/portal/ideas/{idea}", body: map[string]string{"status": "planned"},
				needs: []string{"idea"}, allowed: managers},
			{name: "portal hide", method: "PATCH", path: "/api/v1/products/{key}/portal/ideas/{idea}", body: map[string]bool{"hidden": true},
				needs: []string{"idea"}, allowed: managers},
			{name: "portal answer", method: "POST", path: "/api/v1/products/{key}/portal/ideas/{idea}/comments", body: map[string]string{"body": "Thanks!"},
				needs: []string{"idea"}, allowed: contributors},
			// Organization-wide: company objectives and customers.
			{name: "list company objectives", method: "GET", path: "/api/v1/objectives", allowed: signedIn},
			{name: "create company objective", method: "POST", path: "/api/v1/objectives",
				body: map[string]string{"title": "Grow", "start": "2026-01-01", "end": "2026-12-31"}, allowed: managers, outsider: http.StatusForbidden},
			{name: "change company objective", method: "PATCH", path: "/api/v1/objectives/{company}", body: map[string]string{"status": "done"},
				needs: []string{"company"}, allowed: managers, outsider: http.StatusForbidden},
			{name: "list customers", method: "GET", path: "/api/v1/customers", allowed: signedIn},
			{name: "read customer", method: "GET", path: "/api/v1/customers/{customer}", needs: []string{"customer"}, allowed: signedIn},
			{name: "add customer", method: "POST", path: "/api/v1/customers", body: map[string]string{"name": "Ana"}, allowed: contributors, outsider: http.StatusForbidden},
			{name: "change customer", method: "PATCH", path: "/api/v1/customers/{customer}", body: map[string]string{"segment": "Chains"},
				needs: []string{"customer"}, allowed: contributors, outsider: http.StatusForbidden},
			{name: "delete customer", method: "DELETE", path: "/api/v1/customers/{customer}", needs: []string{"customer"}, allowed: admins, outsider: http.StatusForbidden},
		}

		seeded := 0
		seed := func(t *testing.T, key string, needs []string) target {
			t.Helper()
			seeded++
			tg := target{"key": key, "n": fmt.Sprint(seeded)}
			for _, need := range needs {
				seeded++
				switch need {
				case "objective":
					o := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/"+key+"/objectives", map[string]any{
						"title": "Objective", "start": "2026-01-01", "end": "2026-06-30", "key_results": []map[string]any{{"name": "KR", "start": 0, "target": 10}},
					}).want(t, http.StatusCreated))
					tg["objective"], tg["kr"] = fmt.Sprint(o.ID), fmt.Sprint(o.KeyResults[0].ID)
				case "company":
					o := decodeAs[apiObjective](t, tm.admin.post(t, "/api/v1/objectives", map[string]string{"title": "Company", "start": "2026-01-01", "end": "2026-12-31"}).
						want(t, http.StatusCreated))
					tg["company"] = fmt.Sprint(o.ID)
				case "persona":
					pe := decodeAs[apiPersona](t, tm.pm.post(t, "/api/v1/products/"+key+"/personas", map[string]string{"name": fmt.Sprintf("Persona %d", seeded)}).
						want(t, http.StatusCreated))
					tg["persona"] = fmt.Sprint(pe.ID)
				case "segment":
					s := decodeAs[apiSegment](t, tm.pm.post(t, "/api/v1/products/"+key+"/segments", map[string]string{"name": fmt.Sprintf("Segment %d", seeded)}).
						want(t, http.StatusCreated))
					tg["segment"] = fmt.Sprint(s.ID)
				case "feedback":
					f := decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/"+key+"/feedback", map[string]string{"text": "They count stock by hand."}).
						want(t, http.StatusCreated))
					tg["feedback"] = fmt.Sprint(f.ID)
				case "feature":
					tg["feature"] = decodeAs[apiIdea](t, tm.pm.post(t, "/api/v1/products/"+key+"/ideas", map[string]string{"title": "Stock counts"}).
						want(t, http.StatusCreated)).Ref
				case "insight":
					f := decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/"+key+"/feedback", map[string]any{
						"text": "They count stock by hand.", "insights": []map[string]string{{"new_idea": "Stock counts"}},
					}).want(t, http.StatusCreated))
					tg["feedback"], tg["insight"] = fmt.Sprint(f.ID), fmt.Sprint(f.Insights[0].ID)
				case "idea":
					tm.pm.put(t, "/api/v1/products/"+key+"/portal", map[string]any{"enabled": true}).want(t, http.StatusOK)
					tg["idea"] = fmt.Sprint(e.seedPortalIdea(t, key, "Dark mode", seeded))
				case "customer":
					c := decodeAs[apiCustomer](t, tm.admin.post(t, "/api/v1/customers", map[string]string{"name": fmt.Sprintf("Customer %d", seeded)}).
						want(t, http.StatusCreated))
					tg["customer"] = fmt.Sprint(c.ID)
				default:
					t.Fatalf("unknown need %q", need)
				}
			}
			return tg
		}
		fill := func(s string, tg target) string {
			for k, v := range tg {
				s = strings.ReplaceAll(s, "{"+k+"}", v)
			}
			return s
		}

		callers := []*client{tm.admin, tm.pm, tm.po, tm.dev, tm.stakeholder, tm.viewer, tm.outsider}
		for i, a := range actions {
			// Each action gets its own product, each caller its own target.
			key := fmt.Sprintf("D%d", i+1)
			tm.product(t, key, "Product "+key)
			for _, who := range callers {
				tg := seed(t, key, a.needs)
				path := fill(a.path, tg)
				var body any
				if a.body != nil {
					b, _ := json.Marshal(a.body)
					body = fill(string(b), tg)
				}
				t.Run(a.name+"/"+who.name, func(t *testing.T) {
					if slices.Contains(a.allowed, who) {
						res := who.do(t, a.method, path, body)
						if res.status != http.StatusOK && res.status != http.StatusCreated && res.status != http.StatusNoContent {
							t.Errorf("%s: got %d, want success; body: %s", res.req, res.status, short(res.body))
						}
						return
					}
					want := http.StatusForbidden
					if who == tm.outsider {
						want = cmp.Or(a.outsider, http.StatusNotFound)
					}
					before := e.snapshot(t)
					res := who.do(t, a.method, path, body)
					res.wantError(t, want, map[int]string{403: northstar.EFORBIDDEN, 404: northstar.ENOTFOUND}[want], "")
					e.wantUnchanged(t, before, "a refused "+a.name)
				})
			}
		}

		// Recording feedback with insights needs the right to triage: a
		// stakeholder's interview with a link is refused whole.
		before := e.snapshot(t)
		tm.stakeholder.post(t, "/api/v1/products/D1/feedback", map[string]any{"text": "x", "insights": []map[string]string{{"new_idea": "y"}}}).
			wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		e.wantUnchanged(t, before, "a stakeholder's feedback with insights")
		// Whoever recorded feedback may correct its text, not triage it.
		f := decodeAs[apiFeedback](t, tm.dev.post(t, "/api/v1/products/D1/feedback", map[string]string{"text": "Exprots"}).want(t, http.StatusCreated))
		tm.dev.patch(t, fmt.Sprintf("/api/v1/products/D1/feedback/%d", f.ID), map[string]string{"text": "Exports"}).want(t, http.StatusOK)
		tm.stakeholder.patch(t, fmt.Sprintf("/api/v1/products/D1/feedback/%d", f.ID), map[string]string{"text": "Mine now"}).
			wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")

		// A retired product's discovery is read-only, for its PM too.
		tm.pm.changeStage(t, "D1", "retired", "")
		before = e.snapshot(t)
		for _, w := range []struct {
			method, path string
			body         any
		}{
			{"PATCH", "/api/v1/products/D1/strategy", map[string]string{"vision": "x"}},
			{"POST", "/api/v1/products/D1/personas", map[string]string{"name": "x"}},
			{"POST", "/api/v1/products/D1/objectives", map[string]string{"title": "x", "start": "2026-01-01", "end": "2026-02-01"}},
			{"POST", "/api/v1/products/D1/feedback", map[string]string{"text": "x"}},
			{"POST", "/api/v1/products/D1/ideas", map[string]string{"title": "x"}},
			{"PUT", "/api/v1/products/D1/portal", map[string]any{"enabled": false}},
		} {
			tm.pm.do(t, w.method, w.path, w.body).wantError(t, http.StatusUnprocessableEntity, northstar.EUNPROCESSABLE, "")
		}
		e.wantUnchanged(t, before, "writes to a retired product's discovery")
	})
}

// Bad input to the discovery API, the list first: a 4xx with a
// message that names the field, and nothing written.
func TestDiscoveryBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.product(t, "EBOOK", "Ebooks")
		long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
		company := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/objectives", map[string]string{"title": "Grow", "start": "2026-01-01", "end": "2026-12-31"}).
			want(t, http.StatusCreated))
		o := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{
			"title": "Win shops", "start": "2026-04-01", "end": "2026-06-30",
			"key_results": []map[string]any{{"name": "Shops", "start": 10, "target": 20, "current": 12}},
		}).want(t, http.StatusCreated))
		kr := o.KeyResults[0].ID
		ana := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]string{"name": "Ana", "email": "ana@example.com"}).want(t, http.StatusCreated))
		fb := decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]string{"text": "We count stock by hand."}).want(t, http.StatusCreated))
		elsewhere := decodeAs[apiIdea](t, tm.pm.post(t, "/api/v1/products/EBOOK/ideas", map[string]string{"title": "Elsewhere"}).want(t, http.StatusCreated))
		pe := decodeAs[apiPersona](t, tm.pm.post(t, "/api/v1/products/BOOK/personas", map[string]string{"name": "Shop owner"}).want(t, http.StatusCreated))
		tm.pm.post(t, "/api/v1/products/BOOK/segments", map[string]string{"name": "Chains"}).want(t, http.StatusCreated)
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true}).want(t, http.StatusOK)
		idea := e.seedPortalIdea(t, "BOOK", "Dark mode", 1)

		objective := fmt.Sprintf("/api/v1/objectives/%d", o.ID)
		keyResult := fmt.Sprintf("%s/key-results/%d", objective, kr)
		feedback := fmt.Sprintf("/api/v1/products/BOOK/feedback/%d", fb.ID)
		twoKRs := func(second map[string]any) map[string]any {
			return map[string]any{"title": "x", "start": "2026-01-01", "end": "2026-02-01",
				"key_results": []map[string]any{{"name": "fine", "start": 0, "target": 1}, second}}
		}
		hundredOne := make([]map[string]string, 101)
		for i := range hundredOne {
			hundredOne[i] = map[string]string{"new_idea": "x"}
		}
		cases := []struct {
			name         string
			method, path string
			body         any
			header       []string
			status       int
			code, field  string
		}{
			// The list: targets equal to starts…
			{"key-result target equals start", "POST", "/api/v1/products/BOOK/objectives", twoKRs(map[string]any{"name": "flat", "start": 3, "target": 3}), nil, 400, northstar.EINVALID, "key_results[1].target"},
			{"added key result target equals start", "POST", objective + "/key-results", map[string]any{"name": "flat", "start": 3, "target": 3}, nil, 400, northstar.EINVALID, "target"},
			{"key result changed to target its start", "PATCH", keyResult, map[string]any{"target": 10}, nil, 400, northstar.EINVALID, "target"},
			{"key result changed to start at its target", "PATCH", keyResult, map[string]any{"start": 20}, nil, 400, northstar.EINVALID, "target"},
			// …dates out of order…
			{"objective ends before it starts", "POST", "/api/v1/products/BOOK/objectives", map[string]string{"title": "x", "start": "2026-05-01", "end": "2026-04-01"}, nil, 400, northstar.EINVALID, "end"},
			{"objective ends the day it starts", "POST", "/api/v1/objectives", map[string]string{"title": "x", "start": "2026-05-01", "end": "2026-05-01"}, nil, 400, northstar.EINVALID, "end"},
			{"objective changed to end before its start", "PATCH", objective, map[string]string{"end": "2026-03-01"}, nil, 400, northstar.EINVALID, "end"},
			{"objective changed to start after its end", "PATCH", objective, map[string]string{"start": "2026-07-01"}, nil, 400, northstar.EINVALID, "end"},
			{"malformed start", "POST", "/api/v1/objectives", map[string]string{"title": "x", "start": "2026-13-01", "end": "2026-12-31"}, nil, 400, northstar.EINVALID, "start"},
			{"start in another format", "POST", "/api/v1/objectives", map[string]string{"title": "x", "start": "01/02/2026", "end": "2026-12-31"}, nil, 400, northstar.EINVALID, "start"},
			{"start not a string", "POST", "/api/v1/objectives", map[string]any{"title": "x", "start": 20260101, "end": "2026-12-31"}, nil, 400, northstar.EINVALID, "start"},
			{"no end", "POST", "/api/v1/objectives", map[string]string{"title": "x", "start": "2026-01-01"}, nil, 400, northstar.EINVALID, "end"},
			{"malformed end on update", "PATCH", objective, map[string]string{"end": "soon"}, nil, 400, northstar.EINVALID, "end"},
			// …unknown customers…
			{"feedback from an unknown customer", "POST", "/api/v1/products/BOOK/feedback", map[string]any{"text": "x", "customer_id": 999}, nil, 422, northstar.EUNPROCESSABLE, "customer_id"},
			{"feedback moved to an unknown customer", "PATCH", feedback, map[string]any{"customer_id": 999}, nil, 422, northstar.EUNPROCESSABLE, "customer_id"},
			{"unknown customer", "GET", "/api/v1/customers/999", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"change an unknown customer", "PATCH", "/api/v1/customers/999", map[string]string{"name": "x"}, nil, 404, northstar.ENOTFOUND, ""},
			{"customer filter not an id", "GET", "/api/v1/products/BOOK/feedback?customer=ana", nil, nil, 400, northstar.EINVALID, "customer"},
			// Interviews are written whole or not at all.
			{"interview with a bad second insight", "POST", "/api/v1/products/BOOK/feedback", map[string]any{"text": "x",
				"insights": []map[string]string{{"new_idea": "Good idea"}, {"feature": "BOOK-99"}}}, nil, 404, northstar.ENOTFOUND, "insights[1].feature"},
			{"interview with a misquoted passage", "POST", "/api/v1/products/BOOK/feedback", map[string]any{"text": "We need exports.",
				"insights": []map[string]string{{"new_idea": "Exports"}, {"passage": "imports", "new_idea": "Imports"}}}, nil, 400, northstar.EINVALID, "insights[1].passage"},
			{"interview with an unknown importance", "POST", "/api/v1/products/BOOK/feedback", map[string]any{"text": "x",
				"insights": []map[string]string{{"new_idea": "x", "importance": "urgent"}}}, nil, 400, northstar.EINVALID, "insights[0].importance"},
			{"interview with 101 insights", "POST", "/api/v1/products/BOOK/feedback", map[string]any{"text": "x", "insights": hundredOne}, nil, 400, northstar.EINVALID, "insights"},
			// Strategy, segments and personas.
			{"empty strategy change", "PATCH", "/api/v1/products/BOOK/strategy", map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"stale strategy", "PATCH", "/api/v1/products/BOOK/strategy", map[string]string{"vision": "x"}, []string{"If-Match", `"7"`}, 409, northstar.ECONFLICT, ""},
			{"north-star metric too long", "PATCH", "/api/v1/products/BOOK/strategy", map[string]string{"north_star_metric": long(2001)}, nil, 400, northstar.EINVALID, "north_star_metric"},
			{"target market too long", "PATCH", "/api/v1/products/BOOK/strategy", map[string]string{"target_market": long(50001)}, nil, 400, northstar.EINVALID, "target_market"},
			{"strategy version in the body", "PATCH", "/api/v1/products/BOOK/strategy", map[string]any{"version": 1}, nil, 400, northstar.EINVALID, "version"},
			{"persona without a name", "POST", "/api/v1/products/BOOK/personas", map[string]string{"goals": "x"}, nil, 400, northstar.EINVALID, "name"},
			{"persona twice", "POST", "/api/v1/products/BOOK/personas", map[string]string{"name": "Shop owner"}, nil, 409, northstar.ECONFLICT, "name"},
			{"persona pains too long", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/personas/%d", pe.ID), map[string]string{"pains": long(2001)}, nil, 400, northstar.EINVALID, "pains"},
			{"persona with an id", "POST", "/api/v1/products/BOOK/personas", map[string]any{"id": 5, "name": "x"}, nil, 400, northstar.EINVALID, "id"},
			{"unknown persona", "PATCH", "/api/v1/products/BOOK/personas/999", map[string]string{"name": "x"}, nil, 404, northstar.ENOTFOUND, ""},
			{"another product's persona", "DELETE", fmt.Sprintf("/api/v1/products/EBOOK/personas/%d", pe.ID), nil, nil, 404, northstar.ENOTFOUND, ""},
			{"segment twice", "POST", "/api/v1/products/BOOK/segments", map[string]string{"name": "Chains"}, nil, 409, northstar.ECONFLICT, "name"},
			{"segment name too long", "POST", "/api/v1/products/BOOK/segments", map[string]string{"name": long(101)}, nil, 400, northstar.EINVALID, "name"},
			{"segment id not a number", "PATCH", "/api/v1/products/BOOK/segments/first", map[string]string{"name": "x"}, nil, 400, northstar.EINVALID, "id"},
			// Objectives and key results.
			{"objective without a title", "POST", "/api/v1/products/BOOK/objectives", map[string]string{"start": "2026-01-01", "end": "2026-02-01"}, nil, 400, northstar.EINVALID, "title"},
			{"unknown status", "POST", "/api/v1/products/BOOK/objectives", map[string]string{"title": "x", "start": "2026-01-01", "end": "2026-02-01", "status": "great"}, nil, 400, northstar.EINVALID, "status"},
			{"empty status on update", "PATCH", objective, map[string]string{"status": ""}, nil, 400, northstar.EINVALID, "status"},
			{"unknown owner", "POST", "/api/v1/products/BOOK/objectives", map[string]string{"title": "x", "start": "2026-01-01", "end": "2026-02-01", "owner": "ghost@example.com"}, nil, 400, northstar.EINVALID, "owner"},
			{"parent is a product objective", "POST", "/api/v1/products/BOOK/objectives", map[string]any{"title": "x", "start": "2026-01-01", "end": "2026-02-01", "parent_id": o.ID}, nil, 400, northstar.EINVALID, "parent_id"},
			{"company objective with a parent", "POST", "/api/v1/objectives", map[string]any{"title": "x", "start": "2026-01-01", "end": "2026-02-01", "parent_id": company.ID}, nil, 400, northstar.EINVALID, "parent_id"},
			{"unknown parent", "PATCH", objective, map[string]any{"parent_id": 999}, nil, 400, northstar.EINVALID, "parent_id"},
			{"21 key results", "POST", "/api/v1/products/BOOK/objectives", map[string]any{"title": "x", "start": "2026-01-01", "end": "2026-02-01",
				"key_results": slices.Repeat([]map[string]any{{"name": "k", "start": 0, "target": 1}}, 21)}, nil, 400, northstar.EINVALID, "key_results"},
			{"key result without a target", "POST", objective + "/key-results", map[string]any{"name": "k", "start": 0}, nil, 400, northstar.EINVALID, "target"},
			{"key result unit too long", "POST", objective + "/key-results", map[string]any{"name": "k", "start": 0, "target": 1, "unit": long(21)}, nil, 400, northstar.EINVALID, "unit"},
			{"key result target a string", "PATCH", keyResult, map[string]any{"target": "ten"}, nil, 400, northstar.EINVALID, "target"},
			{"key results in an objective change", "PATCH", objective, map[string]any{"key_results": []any{}}, nil, 400, northstar.EINVALID, "key_results"},
			{"empty objective change", "PATCH", objective, map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"stale objective", "PATCH", objective, map[string]string{"title": "x"}, []string{"If-Match", `"7"`}, 409, northstar.ECONFLICT, ""},
			{"malformed If-Match", "PATCH", objective, map[string]string{"title": "x"}, []string{"If-Match", "seven"}, 400, northstar.EINVALID, "If-Match"},
			{"unknown objective", "GET", "/api/v1/objectives/999", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"objective id not a number", "GET", "/api/v1/objectives/abc", nil, nil, 400, northstar.EINVALID, "id"},
			{"unknown key result", "POST", objective + "/key-results/999/check-ins", map[string]any{"value": 1}, nil, 404, northstar.ENOTFOUND, ""},
			{"key result id zero", "DELETE", objective + "/key-results/0", nil, nil, 400, northstar.EINVALID, "kr"},
			{"check-in without a value", "POST", keyResult + "/check-ins", map[string]string{"note": "x"}, nil, 400, northstar.EINVALID, "value"},
			{"check-in value a string", "POST", keyResult + "/check-ins", map[string]string{"value": "15"}, nil, 400, northstar.EINVALID, "value"},
			{"check-in note too long", "POST", keyResult + "/check-ins", map[string]any{"value": 15, "note": long(2001)}, nil, 400, northstar.EINVALID, "note"},
			// Customers.
			{"customer without a name", "POST", "/api/v1/customers", map[string]string{"email": "x@example.com"}, nil, 400, northstar.EINVALID, "name"},
			{"customer with a bad address", "POST", "/api/v1/customers", map[string]string{"name": "x", "email": "not an address"}, nil, 400, northstar.EINVALID, "email"},
			{"customer address twice", "POST", "/api/v1/customers", map[string]string{"name": "x", "email": "ANA@example.com"}, nil, 409, northstar.ECONFLICT, "email"},
			{"customer worth less than nothing", "PATCH", fmt.Sprintf("/api/v1/customers/%d", ana.ID), map[string]any{"value": -1}, nil, 400, northstar.EINVALID, "value"},
			{"stale customer", "PATCH", fmt.Sprintf("/api/v1/customers/%d", ana.ID), map[string]string{"name": "x"}, []string{"If-Match", `"9"`}, 409, northstar.ECONFLICT, ""},
			{"customer list over 200", "GET", "/api/v1/customers?limit=201", nil, nil, 400, northstar.EINVALID, "limit"},
			{"customer cursor made up", "GET", "/api/v1/customers?cursor=" + encodeTestCursor("Ana"), nil, nil, 400, northstar.EINVALID, "cursor"},
			{"customer query too long", "GET", "/api/v1/customers?q=" + strings.Repeat("q", 201), nil, nil, 400, northstar.EINVALID, "q"},
			// Feedback.
			{"feedback without text", "POST", "/api/v1/products/BOOK/feedback", map[string]string{"source": "sales"}, nil, 400, northstar.EINVALID, "text"},
			{"feedback too long", "POST", "/api/v1/products/BOOK/feedback", map[string]string{"text": long(20001)}, nil, 400, northstar.EINVALID, "text"},
			{"feedback posing as the portal", "POST", "/api/v1/products/BOOK/feedback", map[string]string{"source": "portal", "text": "x"}, nil, 400, northstar.EINVALID, "source"},
			{"feedback from an unknown source", "POST", "/api/v1/products/BOOK/feedback", map[string]string{"source": "blog", "text": "x"}, nil, 400, northstar.EINVALID, "source"},
			{"feedback to an unknown status", "PATCH", feedback, map[string]string{"status": "done"}, nil, 400, northstar.EINVALID, "status"},
			{"feedback emptied", "PATCH", feedback, map[string]string{"text": " "}, nil, 400, northstar.EINVALID, "text"},
			{"empty feedback change", "PATCH", feedback, map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"stale feedback", "PATCH", feedback, map[string]string{"status": "archived"}, []string{"If-Match", `"3"`}, 409, northstar.ECONFLICT, ""},
			{"unknown feedback", "GET", "/api/v1/products/BOOK/feedback/999", nil, nil, 404, northstar.ENOTFOUND, ""},
			{"another product's feedback", "GET", fmt.Sprintf("/api/v1/products/EBOOK/feedback/%d", fb.ID), nil, nil, 404, northstar.ENOTFOUND, ""},
			{"inbox source unknown", "GET", "/api/v1/products/BOOK/feedback?source=blog", nil, nil, 400, northstar.EINVALID, "source"},
			{"inbox status unknown", "GET", "/api/v1/products/BOOK/feedback?status=open", nil, nil, 400, northstar.EINVALID, "status"},
			{"inbox linked not a bool", "GET", "/api/v1/products/BOOK/feedback?linked=maybe", nil, nil, 400, northstar.EINVALID, "linked"},
			{"inbox limit zero", "GET", "/api/v1/products/BOOK/feedback?limit=0", nil, nil, 400, northstar.EINVALID, "limit"},
			{"inbox cursor made up", "GET", "/api/v1/products/BOOK/feedback?cursor=" + encodeTestCursor("last"), nil, nil, 400, northstar.EINVALID, "cursor"},
			{"inbox segment too long", "GET", "/api/v1/products/BOOK/feedback?segment=" + strings.Repeat("s", 101), nil, nil, 400, northstar.EINVALID, "segment"},
			{"link to feature and new idea", "POST", feedback + "/insights", map[string]string{"feature": "BOOK-1", "new_idea": "x"}, nil, 400, northstar.EINVALID, "feature"},
			{"link to nothing", "POST", feedback + "/insights", map[string]string{"passage": "stock"}, nil, 400, northstar.EINVALID, "feature"},
			{"link to an unknown feature", "POST", feedback + "/insights", map[string]string{"feature": "BOOK-99"}, nil, 404, northstar.ENOTFOUND, "feature"},
			{"link to another product's idea", "POST", feedback + "/insights", map[string]string{"feature": elsewhere.Ref}, nil, 422, northstar.EUNPROCESSABLE, "feature"},
			{"link to a malformed ref", "POST", feedback + "/insights", map[string]string{"feature": "idea one"}, nil, 400, northstar.EINVALID, "feature"},
			{"link a misquoted passage", "POST", feedback + "/insights", map[string]string{"passage": "by machine", "new_idea": "x"}, nil, 400, northstar.EINVALID, "passage"},
			{"unlink an unknown insight", "DELETE", feedback + "/insights/999", nil, nil, 404, northstar.ENOTFOUND, ""},
			// Ideas.
			{"idea without a title", "POST", "/api/v1/products/BOOK/ideas", map[string]string{"problem": "x"}, nil, 400, northstar.EINVALID, "title"},
			{"idea title too long", "POST", "/api/v1/products/BOOK/ideas", map[string]string{"title": long(201)}, nil, 400, northstar.EINVALID, "title"},
			// The team's portal.
			{"portal settings without enabled", "PUT", "/api/v1/products/BOOK/portal", map[string]string{"intro": "x"}, nil, 400, northstar.EINVALID, "enabled"},
			{"portal intro too long", "PUT", "/api/v1/products/BOOK/portal", map[string]any{"enabled": true, "intro": long(2001)}, nil, 400, northstar.EINVALID, "intro"},
			{"portal status unknown", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/portal/ideas/%d", idea), map[string]string{"status": "shipped"}, nil, 400, northstar.EINVALID, "status"},
			{"empty portal idea change", "PATCH", fmt.Sprintf("/api/v1/products/BOOK/portal/ideas/%d", idea), map[string]any{}, nil, 400, northstar.EINVALID, ""},
			{"unknown portal idea", "PATCH", "/api/v1/products/BOOK/portal/ideas/999", map[string]string{"status": "planned"}, nil, 404, northstar.ENOTFOUND, ""},
			{"another product's portal idea", "PATCH", fmt.Sprintf("/api/v1/products/EBOOK/portal/ideas/%d", idea), map[string]string{"status": "planned"}, nil, 404, northstar.ENOTFOUND, ""},
			{"empty team answer", "POST", fmt.Sprintf("/api/v1/products/BOOK/portal/ideas/%d/comments", idea), map[string]string{"body": ""}, nil, 400, northstar.EINVALID, "body"},
			// Text no database can take.
			{"NUL in a persona", "POST", "/api/v1/products/BOOK/personas", map[string]string{"name": "a\x00b"}, nil, 400, northstar.EINVALID, "name"},
			{"NUL in a customer query", "GET", "/api/v1/customers?q=a%00b", nil, nil, 400, northstar.EINVALID, "q"},
			{"invalid UTF-8 in an inbox query", "GET", "/api/v1/products/BOOK/feedback?q=a%FFb", nil, nil, 400, northstar.EINVALID, "q"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := tm.pm.do(t, tc.method, tc.path, tc.body, tc.header...)
				if res.status < 400 || res.status >= 500 {
					t.Fatalf("%s: got %d, want a 4xx; body: %s", res.req, res.status, short(res.body))
				}
				res.wantError(t, tc.status, tc.code, tc.field)
				e.wantUnchanged(t, before, tc.name)
			})
		}

		// Deleting is for admins, who learn that the customer is unknown.
		before := e.snapshot(t)
		tm.admin.delete(t, "/api/v1/customers/999").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.pm.delete(t, fmt.Sprintf("/api/v1/customers/%d", ana.ID)).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		e.wantUnchanged(t, before, "deleting customers")

		// Keys no database can compare: a 4xx on either engine.
		for _, path := range []string{"/api/v1/products/BO%00OK/strategy", "/api/v1/products/BO%FFOK/feedback", "/api/v1/portal/BO%00OK",
			"/api/v1/products/BO%00OK/objectives", "/api/v1/products/BO%FFOK/ideas"} {
			for _, method := range []string{"GET", "POST"} {
				before := e.snapshot(t)
				res := tm.pm.do(t, method, path, map[string]string{"title": "x", "text": "x"})
				if res.status < 400 || res.status >= 500 {
					t.Errorf("%s: got %d, want a 4xx; body: %s", res.req, res.status, short(res.body))
				}
				e.wantUnchanged(t, before, method+" "+path)
			}
		}

		// The limits themselves are allowed.
		tm.pm.patch(t, "/api/v1/products/BOOK/strategy", map[string]string{"north_star_metric": long(2000), "target_market": long(50000)}).want(t, http.StatusOK)
		tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{"title": long(200), "start": "2026-01-01", "end": "2026-01-02",
			"key_results": slices.Repeat([]map[string]any{{"name": long(200), "unit": long(20), "start": 0, "target": -1}}, 20)}).want(t, http.StatusCreated)
		tm.pm.post(t, keyResult+"/check-ins", map[string]any{"value": 15, "note": long(2000)}).want(t, http.StatusCreated)
		tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{"text": long(20000), "title": long(200)}).want(t, http.StatusCreated)
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true, "intro": long(2000)}).want(t, http.StatusOK)
	})
}

// encodeTestCursor makes a cursor the server never gave out.
func encodeTestCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Objectives: ETag and If-Match, partial changes that keep the rest, key
// results added, changed and removed, and a deleted company objective's
// product objectives left without a parent.
func TestObjectiveVersions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		company := decodeAs[apiObjective](t, tm.admin.post(t, "/api/v1/objectives", map[string]string{"title": "Grow", "start": "2026-01-01", "end": "2026-12-31"}).
			want(t, http.StatusCreated))
		o := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{
			"title": "Win shops", "description": "Independents first.", "start": "2026-04-01", "end": "2026-06-30", "owner": "po@example.com", "parent_id": company.ID,
			"key_results": []map[string]any{{"name": "Shops", "unit": "shops", "start": 10, "target": 20}},
		}).want(t, http.StatusCreated))
		path := fmt.Sprintf("/api/v1/objectives/%d", o.ID)
		kr := o.KeyResults[0].ID
		krPath := fmt.Sprintf("%s/key-results/%d", path, kr)

		res := tm.pm.patch(t, path, map[string]string{"status": "at_risk"}, "If-Match", `"1"`).want(t, http.StatusOK)
		o = decodeAs[apiObjective](t, res)
		if o.Status != "at_risk" || o.Title != "Win shops" || o.Description != "Independents first." || o.Owner == nil || o.Owner.Email != "po@example.com" ||
			o.ParentID == nil || o.Start != "2026-04-01" || o.Version != 2 || res.header.Get("ETag") != `"2"` {
			t.Errorf("after changing the status: %+v (ETag %s)", o, res.header.Get("ETag"))
		}
		before := e.snapshot(t)
		tm.pm.patch(t, path, map[string]string{"title": "Lost update"}, "If-Match", `"1"`).wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		e.wantUnchanged(t, before, "a stale objective change")
		o = decodeAs[apiObjective](t, tm.pm.patch(t, path, map[string]any{"owner": nil, "parent_id": nil, "end": "2026-09-30"}, "If-Match", "2").want(t, http.StatusOK))
		if o.Owner != nil || o.ParentID != nil || o.End != "2026-09-30" || o.Status != "at_risk" {
			t.Errorf("after clearing owner and parent: %+v", o)
		}

		// A check-in, then a change to the key result's target: the
		// current value stays.
		tm.pm.post(t, krPath+"/check-ins", map[string]any{"value": 15}).want(t, http.StatusCreated)
		o = decodeAs[apiObjective](t, tm.pm.patch(t, krPath, map[string]any{"target": 30, "name": "Paying shops"}).want(t, http.StatusOK))
		if k := o.KeyResults[0]; k.Current != 15 || k.Target != 30 || k.Start != 10 || k.Unit != "shops" || k.Name != "Paying shops" || !near(k.Progress, 0.25) || len(k.CheckIns) != 1 {
			t.Errorf("key result after PATCH = %+v", k)
		}
		// Past the target, progress stops at 1; below the start, at 0.
		o = decodeAs[apiObjective](t, tm.pm.post(t, krPath+"/check-ins", map[string]any{"value": 45}).want(t, http.StatusCreated))
		if !near(o.KeyResults[0].Progress, 1) || !near(o.Progress, 1) {
			t.Errorf("beyond the target: %+v", o.KeyResults[0])
		}
		o = decodeAs[apiObjective](t, tm.pm.post(t, krPath+"/check-ins", map[string]any{"value": 2}).want(t, http.StatusCreated))
		if !near(o.KeyResults[0].Progress, 0) || len(o.KeyResults[0].CheckIns) != 3 {
			t.Errorf("below the start: %+v", o.KeyResults[0])
		}
		o = decodeAs[apiObjective](t, tm.pm.post(t, path+"/key-results", map[string]any{"name": "NPS", "start": 20, "target": 40, "current": 30}).want(t, http.StatusCreated))
		if len(o.KeyResults) != 2 || !near(o.Progress, 0.25) {
			t.Errorf("with a second key result: progress %v, %+v", o.Progress, o.KeyResults)
		}
		res = tm.pm.delete(t, krPath).want(t, http.StatusOK)
		o = decodeAs[apiObjective](t, res)
		if len(o.KeyResults) != 1 || o.KeyResults[0].Name != "NPS" || !near(o.Progress, 0.5) || res.header.Get("ETag") != fmt.Sprintf(`"%d"`, o.Version) {
			t.Errorf("after removing the first key result: %+v", o)
		}
		tm.pm.delete(t, krPath).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")

		// Deleting the company objective leaves the product's without a
		// parent; deleting that one removes it.
		o = decodeAs[apiObjective](t, tm.pm.patch(t, path, map[string]any{"parent_id": company.ID}).want(t, http.StatusOK))
		tm.admin.delete(t, fmt.Sprintf("/api/v1/objectives/%d", company.ID)).want(t, http.StatusNoContent)
		if got := decodeAs[apiObjective](t, tm.pm.get(t, path).want(t, http.StatusOK)); got.ParentID != nil {
			t.Errorf("parent after deleting it = %v", *got.ParentID)
		}
		tm.pm.delete(t, path).want(t, http.StatusNoContent)
		tm.pm.get(t, path).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		if os := list[apiObjective](t, tm.pm, "/api/v1/products/BOOK/objectives"); len(os) != 0 {
			t.Errorf("objectives after deleting = %+v", os)
		}
	})
}

// Customers page by name with ?limit= and an opaque cursor, in order,
// each once, and filter by ?q=; changes are partial and versioned.
func TestCustomerPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		names := []string{"Émile Livres", "Ana Books", "Zed Reads", "Bo Books", "Ana Books", "Carla: Books & More", strings.Repeat("名", 100)}
		for i, n := range names {
			tm.stakeholder.post(t, "/api/v1/customers", map[string]string{"name": n, "company": fmt.Sprintf("Company %d", i)}).want(t, http.StatusCreated)
		}
		all := list[apiCustomer](t, tm.viewer, "/api/v1/customers?limit=200")
		if len(all) != len(names) {
			t.Fatalf("%d customers listed, want %d", len(all), len(names))
		}
		// By name (as the database collates), then by id.
		at := func(name string) []int {
			var is []int
			for i, c := range all {
				if c.Name == name {
					is = append(is, i)
				}
			}
			return is
		}
		ana, bo, zed := at("Ana Books"), at("Bo Books"), at("Zed Reads")
		if len(ana) != 2 || ana[1] != ana[0]+1 || all[ana[0]].ID > all[ana[1]].ID || bo[0] < ana[1] || zed[0] < bo[0] {
			t.Errorf("customers out of order: %+v", all)
		}
		for _, limit := range []int{1, 2, 3} {
			var ids []int64
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > len(names) {
					t.Fatalf("limit %d: too many pages", limit)
				}
				q := url.Values{"limit": {fmt.Sprint(limit)}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				p := decodeAs[page[apiCustomer]](t, tm.viewer.get(t, "/api/v1/customers?"+q.Encode()).want(t, http.StatusOK))
				for _, c := range p.Items {
					ids = append(ids, c.ID)
				}
				if p.NextCursor == "" {
					break
				}
				cursor = p.NextCursor
			}
			var want []int64
			for _, c := range all {
				want = append(want, c.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("limit %d: paged ids %v, want %v", limit, ids, want)
			}
		}
		if got := list[apiCustomer](t, tm.viewer, "/api/v1/customers?q=books"); len(got) != 4 {
			t.Errorf("q=books found %d customers, want 4", len(got))
		}
		if got := list[apiCustomer](t, tm.viewer, "/api/v1/customers?q=company+3"); len(got) != 1 || got[0].Name != "Bo Books" {
			t.Errorf("q=company 3 found %+v", got)
		}

		// A partial change keeps the rest; null clears the value.
		c := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]any{"name": "Dora", "email": "dora@example.com", "segment": "Chains", "value": 50}).
			want(t, http.StatusCreated))
		path := fmt.Sprintf("/api/v1/customers/%d", c.ID)
		res := tm.pm.patch(t, path, map[string]any{"value": nil, "company": "Dora Ltd"}, "If-Match", `"1"`).want(t, http.StatusOK)
		c = decodeAs[apiCustomer](t, res)
		if c.Value != nil || c.Company != "Dora Ltd" || c.Email != "dora@example.com" || c.Segment != "Chains" || c.Version != 2 || res.header.Get("ETag") != `"2"` {
			t.Errorf("customer after PATCH = %+v", c)
		}
		c = decodeAs[apiCustomer](t, tm.pm.patch(t, path, map[string]any{"email": nil}).want(t, http.StatusOK))
		if c.Email != "" || c.Name != "Dora" {
			t.Errorf("customer after clearing the address = %+v", c)
		}
		// Only admins delete customers; their feedback stays.
		f := decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{"text": "Multi-shop stock.", "customer_id": c.ID}).want(t, http.StatusCreated))
		tm.pm.delete(t, path).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		tm.admin.delete(t, path).want(t, http.StatusNoContent)
		if got := decodeAs[apiFeedback](t, tm.pm.get(t, fmt.Sprintf("/api/v1/products/BOOK/feedback/%d", f.ID)).want(t, http.StatusOK)); got.Customer != nil {
			t.Errorf("feedback of a deleted customer = %+v", got.Customer)
		}
	})
}

// The inbox: newest first, filtered by source, status, customer, segment,
// links and text, paged by an opaque cursor; triage with If-Match.
func TestFeedbackInbox(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		ana := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]string{"name": "Ana", "segment": "Independent"}).want(t, http.StatusCreated))
		bo := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]string{"name": "Bo", "segment": "Chains"}).want(t, http.StatusCreated))
		add := func(who *client, body map[string]any) apiFeedback {
			t.Helper()
			return decodeAs[apiFeedback](t, who.post(t, "/api/v1/products/BOOK/feedback", body).want(t, http.StatusCreated))
		}
		f1 := add(tm.stakeholder, map[string]any{"source": "sales", "text": "Chains want multi-shop stock.", "customer_id": bo.ID})
		f2 := add(tm.po, map[string]any{"source": "interview", "text": "Reorder before the weekend.", "customer_id": ana.ID,
			"insights": []map[string]string{{"new_idea": "Reorder suggestions"}}})
		f3 := add(tm.dev, map[string]any{"source": "support", "text": "The export crashes.", "title": "Export crash"})
		f4 := add(tm.pm, map[string]any{"text": "Exports in CSV, please.", "customer_id": ana.ID})
		if f4.Source != "other" || f3.Title != "Export crash" || f2.Status != "triaged" || f1.Status != "new" {
			t.Errorf("recorded feedback: %+v %+v %+v %+v", f1, f2, f3, f4)
		}
		ids := func(query string) []int64 {
			t.Helper()
			var out []int64
			for _, f := range list[apiFeedback](t, tm.viewer, "/api/v1/products/BOOK/feedback?"+query) {
				out = append(out, f.ID)
			}
			return out
		}
		filters := []struct {
			query string
			want  []int64
		}{
			{"", []int64{f4.ID, f3.ID, f2.ID, f1.ID}},
			{"source=sales", []int64{f1.ID}},
			{"status=triaged", []int64{f2.ID}},
			{fmt.Sprintf("customer=%d", ana.ID), []int64{f4.ID, f2.ID}},
			{"segment=independent", []int64{f4.ID, f2.ID}},
			{"linked=true", []int64{f2.ID}},
			{"linked=false", []int64{f4.ID, f3.ID, f1.ID}},
			{"q=EXPORT", []int64{f4.ID, f3.ID}},
			{fmt.Sprintf("q=export&customer=%d&source=other", ana.ID), []int64{f4.ID}},
			{"customer=9999", nil},
		}
		for _, tc := range filters {
			if got := ids(tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("?%s = %v, want %v", tc.query, got, tc.want)
			}
		}
		// Pages of one, each item once, newest first.
		var paged []int64
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			q := url.Values{"limit": {"1"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			p := decodeAs[page[apiFeedback]](t, tm.viewer.get(t, "/api/v1/products/BOOK/feedback?"+q.Encode()).want(t, http.StatusOK))
			for _, f := range p.Items {
				paged = append(paged, f.ID)
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if want := []int64{f4.ID, f3.ID, f2.ID, f1.ID}; !slices.Equal(paged, want) {
			t.Errorf("paged inbox = %v, want %v", paged, want)
		}

		// Triage: status and customer, checked against the version.
		path := fmt.Sprintf("/api/v1/products/BOOK/feedback/%d", f3.ID)
		res := tm.po.get(t, path).want(t, http.StatusOK)
		if res.header.Get("ETag") != `"1"` {
			t.Errorf("feedback ETag = %q", res.header.Get("ETag"))
		}
		got := decodeAs[apiFeedback](t, tm.po.patch(t, path, map[string]any{"status": "triaged", "customer_id": bo.ID}, "If-Match", `"1"`).want(t, http.StatusOK))
		if got.Status != "triaged" || got.Customer == nil || got.Customer.ID != bo.ID || got.Version != 2 {
			t.Errorf("after triage: %+v", got)
		}
		tm.po.patch(t, path, map[string]string{"status": "archived"}, "If-Match", `"1"`).wantError(t, http.StatusConflict, northstar.ECONFLICT, "")
		got = decodeAs[apiFeedback](t, tm.po.patch(t, path, map[string]any{"customer_id": nil}).want(t, http.StatusOK))
		if got.Customer != nil || got.Status != "triaged" {
			t.Errorf("after clearing the customer: %+v", got)
		}

		// Links: to an existing idea by ref, and removed again.
		res = tm.po.post(t, fmt.Sprintf("/api/v1/products/BOOK/feedback/%d/insights", f4.ID),
			map[string]string{"feature": "book-1", "passage": "Exports  in CSV", "importance": "nice_to_have"}).want(t, http.StatusCreated)
		linked := decodeAs[apiFeedback](t, res)
		if len(linked.Insights) != 1 || linked.Insights[0].Feature != "BOOK-1" || linked.Status != "triaged" || res.header.Get("ETag") != fmt.Sprintf(`"%d"`, linked.Version) {
			t.Fatalf("after linking: %+v", linked)
		}
		if ideas := list[apiIdea](t, tm.viewer, "/api/v1/products/BOOK/ideas"); len(ideas) != 1 || ideas[0].InsightCount != 2 {
			t.Errorf("ideas = %+v, want BOOK-1 with two insights", ideas)
		}
		tm.po.delete(t, fmt.Sprintf("/api/v1/products/BOOK/feedback/%d/insights/%d", f4.ID, linked.Insights[0].ID)).want(t, http.StatusNoContent)
		if got := decodeAs[apiFeedback](t, tm.po.get(t, fmt.Sprintf("/api/v1/products/BOOK/feedback/%d", f4.ID)).want(t, http.StatusOK)); len(got.Insights) != 0 {
			t.Errorf("insights after unlinking = %+v", got.Insights)
		}
		// A proposed idea takes the next number, shared with stories.
		tm.po.createStory(t, "BOOK", "A story")
		idea := decodeAs[apiIdea](t, tm.po.post(t, "/api/v1/products/BOOK/ideas", map[string]string{"title": "Exports", "problem": "Shops re-type stock."}).want(t, http.StatusCreated))
		if idea.Ref != "BOOK-3" || idea.Status != "idea" || idea.InsightCount != 0 {
			t.Errorf("proposed idea = %+v, want BOOK-3", idea)
		}
	})
}

// The public portal: nothing of a closed, archived or retired portal,
// never an e-mail address, never a hidden idea; one vote per address; the
// honeypot accepted and dropped; posts over the limits refused whole.
func TestPortalPublic(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		// Closed: every public route is a 404, and writes nothing.
		before := e.snapshot(t)
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/portal/BOOK", nil},
			{"GET", "/api/v1/portal/NOPE", nil},
			{"GET", "/api/v1/portal/BOOK/ideas/1", nil},
			{"POST", "/api/v1/portal/BOOK/ideas", map[string]string{"title": "x", "email": "x@example.com"}},
			{"POST", "/api/v1/portal/NOPE/ideas", map[string]string{"title": "x", "email": "x@example.com"}},
			{"POST", "/api/v1/portal/BOOK/ideas/1/votes", map[string]string{"email": "x@example.com"}},
			{"POST", "/api/v1/portal/BOOK/ideas/1/comments", map[string]string{"body": "x", "email": "x@example.com"}},
		} {
			res := e.anon().do(t, r.method, r.path, r.body)
			res.wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
			// A closed portal and a missing product answer alike.
			if strings.Contains(string(res.body), "Book inventory") || strings.Contains(string(res.body), "BOOK") {
				t.Errorf("%s reveals the product: %s", res.req, short(res.body))
			}
		}
		e.wantUnchanged(t, before, "posts to a closed portal")

		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true, "intro": "Ideas welcome"}).want(t, http.StatusOK)
		shown := e.submitIdea(t, "BOOK", "Dark mode", "shown@example.com")
		hidden := e.submitIdea(t, "BOOK", "Buy followers", "spam@example.com")
		tm.pm.patch(t, fmt.Sprintf("/api/v1/products/BOOK/portal/ideas/%d", hidden.ID), map[string]bool{"hidden": true}).want(t, http.StatusOK)

		// Hidden ideas are nowhere on the portal, and take no votes or
		// comments; the team still sees them.
		res := e.anon().get(t, "/api/v1/portal/BOOK").want(t, http.StatusOK)
		noEmails(t, res)
		if p := decodeAs[apiPublicPortal](t, res); len(p.Ideas) != 1 || p.Ideas[0].ID != shown.ID || strings.Contains(string(res.body), "Buy followers") {
			t.Errorf("portal shows %+v, want only the visible idea", p.Ideas)
		}
		before = e.snapshot(t)
		e.anon().get(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d", hidden.ID)).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/votes", hidden.ID), map[string]string{"email": "x@example.com"}).
			wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/comments", hidden.ID), map[string]string{"body": "x", "email": "x@example.com"}).
			wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.wantUnchanged(t, before, "reaching a hidden idea")
		if team := list[apiTeamIdea](t, tm.viewer, "/api/v1/products/BOOK/portal/ideas"); len(team) != 2 {
			t.Errorf("the team sees %d ideas, want 2", len(team))
		}

		// One vote per address, whatever its case; the author has voted.
		votes := fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/votes", shown.ID)
		e.anon().post(t, votes, map[string]string{"email": "fan@example.com"}).want(t, http.StatusCreated)
		before = e.snapshot(t)
		for _, email := range []string{"fan@example.com", "FAN@Example.com", "shown@example.com"} {
			res := e.anon().post(t, votes, map[string]string{"email": email})
			res.wantError(t, http.StatusConflict, northstar.ECONFLICT, "email")
			noEmails(t, res)
		}
		e.wantUnchanged(t, before, "votes twice")

		// The honeypot: a bot is told its post was received, and nothing
		// is stored.
		before = e.snapshot(t)
		for _, r := range []struct{ path, body string }{
			{"/api/v1/portal/BOOK/ideas", `{"title": "Cheap pills", "email": "bot@example.com", "website": "http://spam.example"}`},
			{votes, `{"email": "bot@example.com", "website": "http://spam.example"}`},
			{fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/comments", shown.ID), `{"body": "Cheap pills", "email": "bot@example.com", "website": "x"}`},
		} {
			res := e.anon().post(t, r.path, r.body).want(t, http.StatusCreated)
			if got := strings.TrimSpace(string(res.body)); got != `{"status":"received"}` {
				t.Errorf("%s: honeypot answer %s, want {\"status\":\"received\"}", res.req, got)
			}
		}
		e.wantUnchanged(t, before, "honeypot posts")

		// Posts over the limits or malformed: a 400 naming the field.
		long := func(n int) string { return strings.Repeat("é", n) }
		comments := fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/comments", shown.ID)
		bad := []struct {
			name, path string
			body       any
			field      string
		}{
			{"title over 150", "/api/v1/portal/BOOK/ideas", map[string]string{"title": long(151), "email": "a@example.com"}, "title"},
			{"no title", "/api/v1/portal/BOOK/ideas", map[string]string{"body": "x", "email": "a@example.com"}, "title"},
			{"body over 5000", "/api/v1/portal/BOOK/ideas", map[string]string{"title": "x", "body": long(5001), "email": "a@example.com"}, "body"},
			{"name over 100", "/api/v1/portal/BOOK/ideas", map[string]string{"title": "x", "name": long(101), "email": "a@example.com"}, "name"},
			{"no email", "/api/v1/portal/BOOK/ideas", map[string]string{"title": "x"}, "email"},
			{"bad email", "/api/v1/portal/BOOK/ideas", map[string]string{"title": "x", "email": "me at home"}, "email"},
			{"email too long", "/api/v1/portal/BOOK/ideas", map[string]string{"title": "x", "email": strings.Repeat("a", 250) + "@example.com"}, "email"},
			{"unknown field", "/api/v1/portal/BOOK/ideas", map[string]string{"title": "x", "email": "a@example.com", "status": "planned"}, "status"},
			{"title with NUL", "/api/v1/portal/BOOK/ideas", map[string]string{"title": "a\x00b", "email": "a@example.com"}, "title"},
			{"comment over 2000", comments, map[string]string{"body": long(2001), "email": "a@example.com"}, "body"},
			{"empty comment", comments, map[string]string{"body": " ", "email": "a@example.com"}, "body"},
			{"comment without email", comments, map[string]string{"body": "x"}, "email"},
			{"vote without email", votes, map[string]string{}, "email"},
			{"vote with a title", votes, map[string]string{"email": "a@example.com", "title": "x"}, "title"},
			{"idea id not a number", "/api/v1/portal/BOOK/ideas/one/votes", map[string]string{"email": "a@example.com"}, "id"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				before := e.snapshot(t)
				res := e.anon().post(t, tc.path, tc.body)
				res.wantError(t, http.StatusBadRequest, northstar.EINVALID, tc.field)
				e.wantUnchanged(t, before, tc.name)
			})
		}
		// The limits themselves are allowed.
		e.anon().post(t, "/api/v1/portal/BOOK/ideas", map[string]string{"title": long(150), "body": long(5000), "name": long(100), "email": "limits@example.com"}).
			want(t, http.StatusCreated)
		e.anon().post(t, comments, map[string]string{"body": long(2000), "email": "limits@example.com"}).want(t, http.StatusCreated)

		// The public answers never carry an address.
		for _, path := range []string{"/api/v1/portal/BOOK", fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d", shown.ID)} {
			noEmails(t, e.anon().get(t, path).want(t, http.StatusOK))
		}

		// Closed again, archived or retired: 404.
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": false}).want(t, http.StatusOK)
		e.anon().get(t, "/api/v1/portal/BOOK").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.anon().get(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d", shown.ID)).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true}).want(t, http.StatusOK)
		tm.pm.changeStage(t, "BOOK", "retired", "")
		before = e.snapshot(t)
		e.anon().get(t, "/api/v1/portal/BOOK").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.anon().post(t, "/api/v1/portal/BOOK/ideas", map[string]string{"title": "x", "email": "late@example.com"}).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.anon().post(t, votes, map[string]string{"email": "late@example.com"}).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		e.wantUnchanged(t, before, "posts to a retired product's portal")
		tm.pm.patch(t, "/api/v1/products/BOOK", map[string]bool{"archived": true}).want(t, http.StatusOK)
		e.anon().get(t, "/api/v1/portal/BOOK").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
	})
}

// A flooded portal answers 429 with Retry-After and writes nothing: per
// e-mail address, then per client address.
func TestPortalFlood(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true}).want(t, http.StatusOK)
		flooded := func(res *response, what string) {
			t.Helper()
			res.wantError(t, http.StatusTooManyRequests, northstar.ERATELIMITED, "")
			if ra, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || ra <= 0 {
				t.Errorf("%s: Retry-After %q, want a number of seconds", what, res.header.Get("Retry-After"))
			}
		}
		// Five ideas per address an hour.
		for i := 1; i <= 5; i++ {
			e.submitIdea(t, "BOOK", fmt.Sprintf("Idea %d", i), "busy@example.com")
		}
		before := e.snapshot(t)
		flooded(e.anon().post(t, "/api/v1/portal/BOOK/ideas", map[string]string{"title": "Idea 6", "email": "BUSY@example.com"}), "sixth idea from one address")
		e.wantUnchanged(t, before, "a sixth idea from one address")
		// Ten ideas per client address an hour, whatever the addresses.
		for i := 6; i <= 10; i++ {
			e.submitIdea(t, "BOOK", fmt.Sprintf("Idea %d", i), fmt.Sprintf("person%d@example.com", i))
		}
		before = e.snapshot(t)
		flooded(e.anon().post(t, "/api/v1/portal/BOOK/ideas", map[string]string{"title": "Idea 11", "email": "new@example.com"}), "eleventh idea from one network")
		e.wantUnchanged(t, before, "an eleventh idea from one network")
		if ideas := list[apiTeamIdea](t, tm.pm, "/api/v1/products/BOOK/portal/ideas"); len(ideas) != 10 {
			t.Errorf("%d ideas stored, want 10", len(ideas))
		}
		if inbox := list[apiFeedback](t, tm.pm, "/api/v1/products/BOOK/feedback?source=portal"); len(inbox) != 10 {
			t.Errorf("%d ideas in the inbox, want 10", len(inbox))
		}

		// Thirty comments an hour.
		ideas := list[apiTeamIdea](t, tm.pm, "/api/v1/products/BOOK/portal/ideas")
		comments := fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/comments", ideas[0].ID)
		for i := 1; i <= 30; i++ {
			e.anon().post(t, comments, map[string]string{"body": fmt.Sprintf("Comment %d", i), "email": fmt.Sprintf("c%d@example.com", i)}).want(t, http.StatusCreated)
		}
		before = e.snapshot(t)
		flooded(e.anon().post(t, comments, map[string]string{"body": "One more", "email": "late@example.com"}), "31st comment")
		e.wantUnchanged(t, before, "a 31st comment")
		// The team is not limited.
		tm.pm.post(t, fmt.Sprintf("/api/v1/products/BOOK/portal/ideas/%d/comments", ideas[0].ID), map[string]string{"body": "Thanks, all."}).want(t, http.StatusCreated)
	})
}

// The discovery JSON has exactly the members the OpenAPI document lists
// for it: what a client reads is what the document says.
func TestDiscoveryJSONMatchesOpenAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		var doc struct {
			Components struct {
				Schemas map[string]struct {
					Properties map[string]json.RawMessage `json:"properties"`
					AllOf      []struct {
						Ref        string                     `json:"$ref"`
						Properties map[string]json.RawMessage `json:"properties"`
					} `json:"allOf"`
				} `json:"schemas"`
			} `json:"components"`
		}
		e.anon().get(t, "/api/v1/openapi.json").want(t, http.StatusOK).decode(t, &doc)
		var props func(name string) map[string]bool
		props = func(name string) map[string]bool {
			s, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("schema %s is not documented", name)
			}
			out := map[string]bool{}
			for k := range s.Properties {
				out[k] = true
			}
			for _, part := range s.AllOf {
				if part.Ref != "" {
					for k := range props(strings.TrimPrefix(part.Ref, "#/components/schemas/")) {
						out[k] = true
					}
				}
				for k := range part.Properties {
					out[k] = true
				}
			}
			return out
		}
		// check compares a JSON object with its schema; optional members
		// may be absent.
		check := func(schema string, raw json.RawMessage, optional ...string) map[string]json.RawMessage {
			t.Helper()
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				t.Fatalf("%s: %v in %s", schema, err, raw)
			}
			want := props(schema)
			for k := range obj {
				if !want[k] {
					t.Errorf("%s JSON has %q, which the document does not list", schema, k)
				}
			}
			for k := range want {
				if _, ok := obj[k]; !ok && !slices.Contains(optional, k) {
					t.Errorf("%s JSON lacks the documented %q: %s", schema, k, raw)
				}
			}
			return obj
		}
		first := func(raw json.RawMessage) json.RawMessage {
			t.Helper()
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
				t.Fatalf("want a non-empty array, got %s", raw)
			}
			return items[0]
		}
		get := func(c *client, path string) json.RawMessage {
			t.Helper()
			return json.RawMessage(c.get(t, path).want(t, http.StatusOK).body)
		}

		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.pm.post(t, "/api/v1/products/BOOK/personas", map[string]string{"name": "Shop owner"}).want(t, http.StatusCreated)
		tm.pm.post(t, "/api/v1/products/BOOK/segments", map[string]string{"name": "Independents"}).want(t, http.StatusCreated)
		company := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/objectives", map[string]string{"title": "Grow", "start": "2026-01-01", "end": "2026-12-31"}).want(t, http.StatusCreated))
		o := decodeAs[apiObjective](t, tm.pm.post(t, "/api/v1/products/BOOK/objectives", map[string]any{
			"title": "Win shops", "start": "2026-01-01", "end": "2026-06-30", "owner": "pm@example.com", "parent_id": company.ID,
			"key_results": []map[string]any{{"name": "Shops", "start": 0, "target": 10}},
		}).want(t, http.StatusCreated))
		tm.pm.post(t, fmt.Sprintf("/api/v1/objectives/%d/key-results/%d/check-ins", o.ID, o.KeyResults[0].ID), map[string]any{"value": 3}).want(t, http.StatusCreated)
		c := decodeAs[apiCustomer](t, tm.pm.post(t, "/api/v1/customers", map[string]any{"name": "Ana", "email": "ana@example.com", "value": 3}).want(t, http.StatusCreated))
		f := decodeAs[apiFeedback](t, tm.pm.post(t, "/api/v1/products/BOOK/feedback", map[string]any{
			"text": "We count stock by hand.", "customer_id": c.ID, "insights": []map[string]string{{"new_idea": "Stock counts"}},
		}).want(t, http.StatusCreated))
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true}).want(t, http.StatusOK)
		idea := e.submitIdea(t, "BOOK", "Dark mode", "reader@example.com")
		answer := tm.pm.post(t, fmt.Sprintf("/api/v1/products/BOOK/portal/ideas/%d/comments", idea.ID), map[string]string{"body": "Noted."}).want(t, http.StatusCreated)

		st := check("Strategy", get(tm.viewer, "/api/v1/products/BOOK/strategy"))
		check("Persona", first(st["personas"]))
		check("Segment", first(st["segments"]))
		obj := check("Objective", get(tm.viewer, fmt.Sprintf("/api/v1/objectives/%d", o.ID)), "children")
		check("UserRef", obj["owner"])
		kr := check("KeyResult", first(obj["key_results"]))
		check("CheckIn", first(kr["check_ins"]))
		var companies page[json.RawMessage]
		json.Unmarshal(get(tm.viewer, "/api/v1/objectives"), &companies)
		co := check("Objective", companies.Items[0], "product")
		check("Objective", first(co["children"]), "children")
		check("Customer", get(tm.viewer, fmt.Sprintf("/api/v1/customers/%d", c.ID)))
		fb := check("Feedback", get(tm.viewer, fmt.Sprintf("/api/v1/products/BOOK/feedback/%d", f.ID)))
		check("CustomerRef", fb["customer"])
		check("Insight", first(fb["insights"]))
		var ideas page[json.RawMessage]
		json.Unmarshal(get(tm.viewer, "/api/v1/products/BOOK/ideas"), &ideas)
		check("Idea", ideas.Items[0])
		check("PortalSettings", get(tm.viewer, "/api/v1/products/BOOK/portal"))
		var team page[json.RawMessage]
		json.Unmarshal(get(tm.pm, "/api/v1/products/BOOK/portal/ideas"), &team)
		check("TeamPortalIdea", team.Items[0])
		check("PortalComment", json.RawMessage(answer.body))
		portal := check("PublicPortal", get(e.anon(), "/api/v1/portal/BOOK"))
		check("PublicIdea", first(portal["ideas"]))
		check("PublicIdeaDetail", get(e.anon(), fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d", idea.ID)))
		res := e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/votes", idea.ID), map[string]string{"email": "fan@example.com"}).want(t, http.StatusCreated)
		check("PortalReceipt", json.RawMessage(res.body), "comment")
		res = e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/comments", idea.ID), map[string]string{"body": "+1", "email": "fan@example.com"}).want(t, http.StatusCreated)
		check("PortalReceipt", json.RawMessage(res.body), "idea")
	})
}
