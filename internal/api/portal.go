package api

// The public feedback portal: the team's side (settings, the ideas with
// their submitters, statuses, answers) and the public side, which anyone
// may read and write to without an account while the product manager
// keeps it open. The public side shows only what the public may see: no
// e-mail address, no hidden idea, nothing of a closed portal.

import (
	"net/http"
	"strconv"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// portalRoutes lists the portal routes; Routes includes them. The public
// ones (under /api/v1/portal/) need no account.
func (a *API) portalRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/products/{key}/portal", Handler: authed(a.getPortalSettings)},
		{Method: "PUT", Pattern: "/api/v1/products/{key}/portal", Handler: authed(a.setPortalSettings)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/portal/ideas", Handler: authed(a.listTeamPortalIdeas)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}/portal/ideas/{id}", Handler: authed(a.updatePortalIdea)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/portal/ideas/{id}/comments", Handler: authed(a.teamComment)},

		{Method: "GET", Pattern: "/api/v1/portal/{key}", Handler: handle(a.publicPortal)},
		{Method: "GET", Pattern: "/api/v1/portal/{key}/ideas/{id}", Handler: handle(a.publicPortalIdea)},
		{Method: "POST", Pattern: "/api/v1/portal/{key}/ideas", Handler: handle(a.submitPortalIdea)},
		{Method: "POST", Pattern: "/api/v1/portal/{key}/ideas/{id}/votes", Handler: handle(a.votePortalIdea)},
		{Method: "POST", Pattern: "/api/v1/portal/{key}/ideas/{id}/comments", Handler: handle(a.commentPortalIdea)},
	}
}

// --- The team's side ---

type portalSettingsRequest struct {
	Enabled *bool  `json:"enabled"`
	Intro   string `json:"intro"`
}

func (a *API) getPortalSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.app.PortalSettings(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) setPortalSettings(w http.ResponseWriter, r *http.Request) error {
	var req portalSettingsRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return northstar.FieldError("enabled", "enabled is required: true opens the portal, false closes it.")
	}
	s, err := a.app.SetPortalSettings(r.Context(), r.PathValue("key"), northstar.PortalSettings{Enabled: *req.Enabled, Intro: req.Intro})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s)
	return nil
}

func (a *API) listTeamPortalIdeas(w http.ResponseWriter, r *http.Request) error {
	ideas, err := a.app.TeamPortalIdeas(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	if ideas == nil {
		ideas = []*northstar.PortalIdea{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[*northstar.PortalIdea]{Items: ideas})
	return nil
}

type portalIdeaChange struct {
	Status *northstar.PortalStatus `json:"status"`
	Hidden *bool                   `json:"hidden"`
}

func (a *API) updatePortalIdea(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req portalIdeaChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Status == nil && req.Hidden == nil {
		return emptyChange("status, hidden")
	}
	idea, err := a.app.UpdatePortalIdea(r.Context(), r.PathValue("key"), id, app.PortalIdeaChange{Status: req.Status, Hidden: req.Hidden})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, idea)
	return nil
}

type teamCommentRequest struct {
	Body string `json:"body"`
}

func (a *API) teamComment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req teamCommentRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.app.TeamComment(r.Context(), r.PathValue("key"), id, req.Body)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, c)
	return nil
}

// --- The public side ---

// publicIdeaJSON is a portal idea as the public sees it. It is its own
// type, not northstar.PortalIdea, so that no field added for the team
// (the submitter's e-mail address, the feedback it became) can reach the
// public by accident.
type publicIdeaJSON struct {
	ID         int64                  `json:"id"`
	Title      string                 `json:"title"`
	Body       string                 `json:"body"`
	AuthorName string                 `json:"author_name"`
	Status     northstar.PortalStatus `json:"status"`
	Votes      int                    `json:"votes"`
	Comments   int                    `json:"comment_count"`
	CreatedAt  time.Time              `json:"created_at"`
}

func publicIdea(i *northstar.PortalIdea) publicIdeaJSON {
	return publicIdeaJSON{ID: i.ID, Title: i.Title, Body: i.Body, AuthorName: i.AuthorName, Status: i.Status,
		Votes: i.Votes, Comments: i.Comments, CreatedAt: i.CreatedAt}
}

// publicCommentJSON is a comment as the public sees it.
type publicCommentJSON struct {
	ID         int64     `json:"id"`
	AuthorName string    `json:"author_name"`
	FromTeam   bool      `json:"from_team"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

func publicComment(c *northstar.PortalComment) publicCommentJSON {
	return publicCommentJSON{ID: c.ID, AuthorName: c.AuthorName, FromTeam: c.FromTeam, Body: c.Body, CreatedAt: c.CreatedAt}
}

// publicPortalJSON is a product's open portal.
type publicPortalJSON struct {
	Product string           `json:"product"`
	Name    string           `json:"name"`
	Intro   string           `json:"intro"`
	Ideas   []publicIdeaJSON `json:"ideas"`
}

// publicIdeaDetailJSON is an idea with its comments, oldest first.
type publicIdeaDetailJSON struct {
	publicIdeaJSON
	CommentList []publicCommentJSON `json:"comments"`
}

// receivedStatus is the status of every accepted portal post.
const receivedStatus = "received"

// portalReceipt answers a portal post. Status is always "received"; idea
// or comment is what was stored, as the portal shows it. A post caught by
// the honeypot gets the same status with nothing stored and nothing
// else, so that a bot cannot tell it was caught.
type portalReceipt struct {
	Status  string             `json:"status"`
	Idea    *publicIdeaJSON    `json:"idea,omitempty"`
	Comment *publicCommentJSON `json:"comment,omitempty"`
}

// ideaSubmission is an end user's idea; website is the honeypot.
type ideaSubmission struct {
	Title   string `json:"title"`
	Body    string `json:"body"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Website string `json:"website"`
}

type voteSubmission struct {
	Email   string `json:"email"`
	Website string `json:"website"`
}

type commentSubmission struct {
	Body    string `json:"body"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Website string `json:"website"`
}

func (a *API) publicPortal(w http.ResponseWriter, r *http.Request) error {
	v, err := a.app.Portal(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	out := publicPortalJSON{Product: v.Key, Name: v.Name, Intro: v.Intro, Ideas: make([]publicIdeaJSON, len(v.Ideas))}
	for i, idea := range v.Ideas {
		out.Ideas[i] = publicIdea(idea)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) publicPortalIdea(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	idea, comments, err := a.app.PortalIdea(r.Context(), r.PathValue("key"), id)
	if err != nil {
		return err
	}
	out := publicIdeaDetailJSON{publicIdeaJSON: publicIdea(idea), CommentList: make([]publicCommentJSON, len(comments))}
	for i, c := range comments {
		out.CommentList[i] = publicComment(c)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) submitPortalIdea(w http.ResponseWriter, r *http.Request) error {
	var req ideaSubmission
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	sub := northstar.PortalSubmission{Title: req.Title, Body: req.Body, Name: req.Name, Email: req.Email, Website: req.Website}
	idea, err := a.app.SubmitPortalIdea(r.Context(), r.PathValue("key"), sub, httpx.ClientIP(r))
	if err != nil {
		return err
	}
	receipt := portalReceipt{Status: receivedStatus}
	if idea != nil {
		v := publicIdea(idea)
		receipt.Idea = &v
		w.Header().Set("Location", "/api/v1/portal/"+idea.ProductKey+"/ideas/"+strconv.FormatInt(idea.ID, 10))
	}
	httpx.WriteJSON(w, http.StatusCreated, receipt)
	return nil
}

func (a *API) votePortalIdea(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req voteSubmission
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	idea, err := a.app.VotePortalIdea(r.Context(), r.PathValue("key"), id, northstar.PortalSubmission{Email: req.Email, Website: req.Website}, httpx.ClientIP(r))
	if err != nil {
		return err
	}
	receipt := portalReceipt{Status: receivedStatus}
	if idea != nil {
		v := publicIdea(idea)
		receipt.Idea = &v
	}
	httpx.WriteJSON(w, http.StatusCreated, receipt)
	return nil
}

func (a *API) commentPortalIdea(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req commentSubmission
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	sub := northstar.PortalSubmission{Body: req.Body, Name: req.Name, Email: req.Email, Website: req.Website}
	c, err := a.app.CommentPortalIdea(r.Context(), r.PathValue("key"), id, sub, httpx.ClientIP(r))
	if err != nil {
		return err
	}
	receipt := portalReceipt{Status: receivedStatus}
	if c != nil {
		v := publicComment(c)
		receipt.Comment = &v
	}
	httpx.WriteJSON(w, http.StatusCreated, receipt)
	return nil
}
