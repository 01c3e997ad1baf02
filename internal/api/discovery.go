package api

// The Product Manager's discovery: the strategy page with its segments and
// personas, company and product objectives with key results and
// check-ins, customers, the feedback inbox with its insights, and feature
// ideas. The public portal is in portal.go.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// discoveryRoutes lists the discovery routes; Routes includes them.
func (a *API) discoveryRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/v1/products/{key}/strategy", Handler: authed(a.getStrategy)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}/strategy", Handler: authed(a.updateStrategy)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/segments", Handler: authed(a.createSegment)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}/segments/{id}", Handler: authed(a.updateSegment)},
		{Method: "DELETE", Pattern: "/api/v1/products/{key}/segments/{id}", Handler: authed(deleteProductItem(a.app.DeleteSegment))},
		{Method: "POST", Pattern: "/api/v1/products/{key}/personas", Handler: authed(a.createPersona)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}/personas/{id}", Handler: authed(a.updatePersona)},
		{Method: "DELETE", Pattern: "/api/v1/products/{key}/personas/{id}", Handler: authed(deleteProductItem(a.app.DeletePersona))},

		{Method: "GET", Pattern: "/api/v1/objectives", Handler: authed(a.listCompanyObjectives)},
		{Method: "POST", Pattern: "/api/v1/objectives", Handler: authed(a.createCompanyObjective)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/objectives", Handler: authed(a.listProductObjectives)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/objectives", Handler: authed(a.createProductObjective)},
		{Method: "GET", Pattern: "/api/v1/objectives/{id}", Handler: authed(a.getObjective)},
		{Method: "PATCH", Pattern: "/api/v1/objectives/{id}", Handler: authed(a.updateObjective)},
		{Method: "DELETE", Pattern: "/api/v1/objectives/{id}", Handler: authed(a.deleteObjective)},
		{Method: "POST", Pattern: "/api/v1/objectives/{id}/key-results", Handler: authed(a.addKeyResult)},
		{Method: "PATCH", Pattern: "/api/v1/objectives/{id}/key-results/{kr}", Handler: authed(a.updateKeyResult)},
		{Method: "DELETE", Pattern: "/api/v1/objectives/{id}/key-results/{kr}", Handler: authed(a.deleteKeyResult)},
		{Method: "POST", Pattern: "/api/v1/objectives/{id}/key-results/{kr}/check-ins", Handler: authed(a.checkIn)},
		{Method: "POST", Pattern: "/api/v1/objectives/{id}/key-results/{kr}/features", Handler: authed(a.linkKeyResultFeature)},
		{Method: "DELETE", Pattern: "/api/v1/objectives/{id}/key-results/{kr}/features/{ref}", Handler: authed(a.unlinkKeyResultFeature)},

		{Method: "GET", Pattern: "/api/v1/customers", Handler: authed(a.listCustomers)},
		{Method: "POST", Pattern: "/api/v1/customers", Handler: authed(a.createCustomer)},
		{Method: "GET", Pattern: "/api/v1/customers/{id}", Handler: authed(a.getCustomer)},
		{Method: "PATCH", Pattern: "/api/v1/customers/{id}", Handler: authed(a.updateCustomer)},
		{Method: "DELETE", Pattern: "/api/v1/customers/{id}", Handler: authed(a.deleteCustomer)},

		{Method: "GET", Pattern: "/api/v1/products/{key}/feedback", Handler: authed(a.listFeedback)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/feedback", Handler: authed(a.addFeedback)},
		{Method: "GET", Pattern: "/api/v1/products/{key}/feedback/{id}", Handler: authed(a.getFeedback)},
		{Method: "PATCH", Pattern: "/api/v1/products/{key}/feedback/{id}", Handler: authed(a.updateFeedback)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/feedback/{id}/insights", Handler: authed(a.linkInsight)},
		{Method: "DELETE", Pattern: "/api/v1/products/{key}/feedback/{id}/insights/{insight}", Handler: authed(a.unlinkInsight)},

		{Method: "GET", Pattern: "/api/v1/products/{key}/ideas", Handler: authed(a.listIdeas)},
		{Method: "POST", Pattern: "/api/v1/products/{key}/ideas", Handler: authed(a.proposeIdea)},
	}
}

// emptyChange is the answer to a PATCH that changes nothing.
func emptyChange(fields string) error {
	return northstar.Errorf(northstar.EINVALID, "The body changes nothing: send at least one of %s.", fields)
}

// --- Strategy, segments and personas ---

func (a *API) getStrategy(w http.ResponseWriter, r *http.Request) error {
	st, err := a.app.Strategy(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	setETag(w, st.Version)
	httpx.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (a *API) updateStrategy(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var req northstar.StrategyUpdate
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Vision == nil && req.TargetMarket == nil && req.NorthStarMetric == nil {
		return emptyChange("vision, target_market, north_star_metric")
	}
	st, err := a.app.UpdateStrategy(r.Context(), r.PathValue("key"), version, req)
	if err != nil {
		return err
	}
	setETag(w, st.Version)
	httpx.WriteJSON(w, http.StatusOK, st)
	return nil
}

type segmentRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type segmentChange struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (a *API) createSegment(w http.ResponseWriter, r *http.Request) error {
	var req segmentRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	s, err := a.app.SaveSegment(r.Context(), r.PathValue("key"), northstar.Segment{Name: req.Name, Description: req.Description})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, s)
	return nil
}

func (a *API) updateSegment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req segmentChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Description == nil {
		return emptyChange("name, description")
	}
	// The change applies to the segment as it is now.
	st, err := a.app.Strategy(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	var seg *northstar.Segment
	for _, s := range st.Segments {
		if s.ID == id {
			seg = s
		}
	}
	if seg == nil {
		return northstar.Errorf(northstar.ENOTFOUND, "Segment %d not found.", id)
	}
	if req.Name != nil {
		seg.Name = *req.Name
	}
	if req.Description != nil {
		seg.Description = *req.Description
	}
	s, err := a.app.SaveSegment(r.Context(), r.PathValue("key"), *seg)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s)
	return nil
}

type personaRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Goals       string `json:"goals"`
	Pains       string `json:"pains"`
}

type personaChange struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Goals       *string `json:"goals"`
	Pains       *string `json:"pains"`
}

func (a *API) createPersona(w http.ResponseWriter, r *http.Request) error {
	var req personaRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	pe, err := a.app.SavePersona(r.Context(), r.PathValue("key"),
		northstar.Persona{Name: req.Name, Description: req.Description, Goals: req.Goals, Pains: req.Pains})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, pe)
	return nil
}

func (a *API) updatePersona(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req personaChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Description == nil && req.Goals == nil && req.Pains == nil {
		return emptyChange("name, description, goals, pains")
	}
	st, err := a.app.Strategy(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	var pe *northstar.Persona
	for _, p := range st.Personas {
		if p.ID == id {
			pe = p
		}
	}
	if pe == nil {
		return northstar.Errorf(northstar.ENOTFOUND, "Persona %d not found.", id)
	}
	for _, f := range []struct {
		from *string
		to   *string
	}{{req.Name, &pe.Name}, {req.Description, &pe.Description}, {req.Goals, &pe.Goals}, {req.Pains, &pe.Pains}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	saved, err := a.app.SavePersona(r.Context(), r.PathValue("key"), *pe)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, saved)
	return nil
}

// --- Objectives and key results ---

// keyResultJSON is a key result with its computed progress.
type keyResultJSON struct {
	*northstar.KeyResult
	// Progress is how far the current value has come from start to
	// target, from 0 to 1.
	Progress float64 `json:"progress"`
}

// objectiveJSON is an objective as the API shows it: its key results and
// the objectives rolling up to it with their progress, and its own
// progress, the mean of its key results'.
type objectiveJSON struct {
	*northstar.Objective
	KeyResults []keyResultJSON `json:"key_results"`
	Children   []objectiveJSON `json:"children,omitempty"`
	Progress   float64         `json:"progress"`
}

func objectiveView(o *northstar.Objective) objectiveJSON {
	v := objectiveJSON{Objective: o, KeyResults: make([]keyResultJSON, len(o.KeyResults)), Progress: o.Progress()}
	for i, kr := range o.KeyResults {
		if kr.CheckIns == nil {
			kr.CheckIns = []*northstar.CheckIn{}
		}
		v.KeyResults[i] = keyResultJSON{KeyResult: kr, Progress: kr.Progress()}
	}
	for _, c := range o.Children {
		v.Children = append(v.Children, objectiveView(c))
	}
	return v
}

// writeObjective answers with an objective and its version as the ETag.
func writeObjective(w http.ResponseWriter, status int, o *northstar.Objective) {
	setETag(w, o.Version)
	httpx.WriteJSON(w, status, objectiveView(o))
}

func writeObjectives(w http.ResponseWriter, os []*northstar.Objective) {
	items := make([]objectiveJSON, len(os))
	for i, o := range os {
		items[i] = objectiveView(o)
	}
	httpx.WriteJSON(w, http.StatusOK, Page[objectiveJSON]{Items: items})
}

// objectiveRequest creates an objective. Dates are read here rather than
// by northstar.Date so that a malformed one names its field.
type objectiveRequest struct {
	Title       string                     `json:"title"`
	Description string                     `json:"description"`
	Start       string                     `json:"start"`
	End         string                     `json:"end"`
	Owner       string                     `json:"owner"`
	Status      northstar.ObjectiveStatus  `json:"status"`
	ParentID    *int64                     `json:"parent_id"`
	KeyResults  []northstar.KeyResultInput `json:"key_results"`
}

// objectiveChange changes an objective; absent fields stay, null clears
// the owner or the parent.
type objectiveChange struct {
	Title       *string                    `json:"title"`
	Description *string                    `json:"description"`
	Start       *string                    `json:"start"`
	End         *string                    `json:"end"`
	Owner       northstar.Optional[string] `json:"owner"`
	Status      *northstar.ObjectiveStatus `json:"status"`
	ParentID    northstar.Optional[int64]  `json:"parent_id"`
}

// parseDate reads a date field; "" stays unset, for Validate to report.
func parseDate(field, s string) (northstar.Date, error) {
	if strings.TrimSpace(s) == "" {
		return northstar.Date{}, nil
	}
	return northstar.ParseDate(field, s)
}

func (a *API) listCompanyObjectives(w http.ResponseWriter, r *http.Request) error {
	os, err := a.app.Objectives(r.Context(), "")
	if err != nil {
		return err
	}
	writeObjectives(w, os)
	return nil
}

func (a *API) listProductObjectives(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	if strings.TrimSpace(key) == "" {
		return northstar.Errorf(northstar.ENOTFOUND, "Product %q not found.", key)
	}
	os, err := a.app.Objectives(r.Context(), key)
	if err != nil {
		return err
	}
	writeObjectives(w, os)
	return nil
}

func (a *API) createCompanyObjective(w http.ResponseWriter, r *http.Request) error {
	return a.createObjective(w, r, "")
}

func (a *API) createProductObjective(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	if strings.TrimSpace(key) == "" {
		// "" would make it a company objective.
		return northstar.Errorf(northstar.ENOTFOUND, "Product %q not found.", key)
	}
	return a.createObjective(w, r, key)
}

func (a *API) createObjective(w http.ResponseWriter, r *http.Request, key string) error {
	var req objectiveRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	in := northstar.ObjectiveInput{Title: req.Title, Description: req.Description, Owner: req.Owner, Status: req.Status,
		ParentID: req.ParentID, KeyResults: req.KeyResults}
	var err error
	if in.Start, err = parseDate("start", req.Start); err != nil {
		return err
	}
	if in.End, err = parseDate("end", req.End); err != nil {
		return err
	}
	o, err := a.app.CreateObjective(r.Context(), key, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/objectives/"+strconv.FormatInt(o.ID, 10))
	writeObjective(w, http.StatusCreated, o)
	return nil
}

func (a *API) getObjective(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := a.app.Objective(r.Context(), id)
	if err != nil {
		return err
	}
	writeObjective(w, http.StatusOK, o)
	return nil
}

func (a *API) updateObjective(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req objectiveChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Title == nil && req.Description == nil && req.Start == nil && req.End == nil && !req.Owner.Set && req.Status == nil && !req.ParentID.Set {
		return emptyChange("title, description, start, end, owner, status, parent_id")
	}
	// The change applies to the objective as it is now; without If-Match
	// the version read here guards the merge against a concurrent change.
	o, err := a.app.Objective(r.Context(), id)
	if err != nil {
		return err
	}
	if version == 0 {
		version = o.Version
	}
	in := northstar.ObjectiveInput{Title: o.Title, Description: o.Description, Start: o.Start, End: o.End, Status: o.Status, ParentID: o.ParentID}
	if o.Owner != nil {
		in.Owner = o.Owner.Email
	}
	if req.Title != nil {
		in.Title = *req.Title
	}
	if req.Description != nil {
		in.Description = *req.Description
	}
	if req.Start != nil {
		if in.Start, err = northstar.ParseDate("start", *req.Start); err != nil {
			return err
		}
	}
	if req.End != nil {
		if in.End, err = northstar.ParseDate("end", *req.End); err != nil {
			return err
		}
	}
	if req.Owner.Set {
		in.Owner = ""
		if !req.Owner.Null {
			in.Owner = req.Owner.Value
		}
	}
	if req.Status != nil {
		in.Status = *req.Status
		if in.Status == "" {
			return northstar.FieldError("status", "status must be one of on_track, at_risk, off_track, done.")
		}
	}
	if req.ParentID.Set {
		in.ParentID = nil
		if !req.ParentID.Null {
			in.ParentID = &req.ParentID.Value
		}
	}
	o, err = a.app.UpdateObjective(r.Context(), id, version, in)
	if err != nil {
		return err
	}
	writeObjective(w, http.StatusOK, o)
	return nil
}

func (a *API) deleteObjective(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.app.DeleteObjective(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type keyResultChange struct {
	Name    *string  `json:"name"`
	Unit    *string  `json:"unit"`
	Start   *float64 `json:"start"`
	Target  *float64 `json:"target"`
	Current *float64 `json:"current"`
}

func (a *API) addKeyResult(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req northstar.KeyResultInput
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	o, err := a.app.AddKeyResult(r.Context(), id, req)
	if err != nil {
		return err
	}
	writeObjective(w, http.StatusCreated, o)
	return nil
}

func (a *API) updateKeyResult(w http.ResponseWriter, r *http.Request) error {
	id, krID, err := keyResultPath(r)
	if err != nil {
		return err
	}
	var req keyResultChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && req.Unit == nil && req.Start == nil && req.Target == nil && req.Current == nil {
		return emptyChange("name, unit, start, target, current")
	}
	o, err := a.app.Objective(r.Context(), id)
	if err != nil {
		return err
	}
	var kr *northstar.KeyResult
	for _, k := range o.KeyResults {
		if k.ID == krID {
			kr = k
		}
	}
	if kr == nil {
		return northstar.Errorf(northstar.ENOTFOUND, "Key result %d not found on objective %d.", krID, id)
	}
	// Absent fields keep their values; current in particular must not
	// fall back to the start.
	in := northstar.KeyResultInput{Name: kr.Name, Unit: kr.Unit, Start: &kr.Start, Target: &kr.Target, Current: &kr.Current}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Unit != nil {
		in.Unit = *req.Unit
	}
	if req.Start != nil {
		in.Start = req.Start
	}
	if req.Target != nil {
		in.Target = req.Target
	}
	if req.Current != nil {
		in.Current = req.Current
	}
	o, err = a.app.UpdateKeyResult(r.Context(), id, krID, in)
	if err != nil {
		return err
	}
	writeObjective(w, http.StatusOK, o)
	return nil
}

func (a *API) deleteKeyResult(w http.ResponseWriter, r *http.Request) error {
	id, krID, err := keyResultPath(r)
	if err != nil {
		return err
	}
	o, err := a.app.DeleteKeyResult(r.Context(), id, krID)
	if err != nil {
		return err
	}
	writeObjective(w, http.StatusOK, o)
	return nil
}

type checkInRequest struct {
	Value *float64 `json:"value"`
	Note  string   `json:"note"`
}

func (a *API) checkIn(w http.ResponseWriter, r *http.Request) error {
	id, krID, err := keyResultPath(r)
	if err != nil {
		return err
	}
	var req checkInRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Value == nil {
		return northstar.FieldError("value", "value is required.")
	}
	o, err := a.app.CheckIn(r.Context(), id, krID, *req.Value, req.Note)
	if err != nil {
		return err
	}
	writeObjective(w, http.StatusCreated, o)
	return nil
}

type keyResultFeatureRequest struct {
	Feature string `json:"feature"`
}

// linkKeyResultFeature links a feature to a key result as meant to move it.
func (a *API) linkKeyResultFeature(w http.ResponseWriter, r *http.Request) error {
	id, krID, err := keyResultPath(r)
	if err != nil {
		return err
	}
	var req keyResultFeatureRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	o, err := a.app.LinkKeyResultFeature(r.Context(), id, krID, req.Feature)
	if err != nil {
		return err
	}
	writeObjective(w, http.StatusOK, o)
	return nil
}

// unlinkKeyResultFeature removes a feature from a key result.
func (a *API) unlinkKeyResultFeature(w http.ResponseWriter, r *http.Request) error {
	id, krID, err := keyResultPath(r)
	if err != nil {
		return err
	}
	o, err := a.app.UnlinkKeyResultFeature(r.Context(), id, krID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeObjective(w, http.StatusOK, o)
	return nil
}

// keyResultPath reads an objective's and a key result's ids from the path.
func keyResultPath(r *http.Request) (id, krID int64, err error) {
	if id, err = pathID(r, "id"); err != nil {
		return 0, 0, err
	}
	krID, err = pathID(r, "kr")
	return id, krID, err
}

// --- Customers ---

// maxCustomerCursor bounds a customer cursor: an id and a name of up to
// MaxNameLen characters of up to four bytes.
const maxCustomerCursor = 24 + 4*northstar.MaxNameLen

type customerChange struct {
	Name    *string                     `json:"name"`
	Email   northstar.Optional[string]  `json:"email"`
	Company *string                     `json:"company"`
	Segment *string                     `json:"segment"`
	Value   northstar.Optional[float64] `json:"value"`
}

func (a *API) listCustomers(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParamsUpTo(r, maxCustomerCursor)
	if err != nil {
		return err
	}
	q, err := queryText(r.URL.Query(), "q", northstar.MaxSearchQueryLen)
	if err != nil {
		return err
	}
	// The cursor holds the id and the name of the page's last customer:
	// customers sort by name, then id.
	var afterID int64
	var afterName string
	if after != "" {
		idText, name, ok := strings.Cut(after, ":")
		if afterID, err = strconv.ParseInt(idText, 10, 64); !ok || err != nil || afterID < 1 {
			return northstar.FieldError("cursor", "cursor is not one this server gave out.")
		}
		afterName = name
	}
	cs, err := a.app.Customers(r.Context(), q, afterName, afterID, limit+1)
	if err != nil {
		return err
	}
	page := Page[*northstar.Customer]{Items: cs}
	if len(cs) > limit {
		page.Items = cs[:limit]
		last := cs[limit-1]
		page.NextCursor = encodeCursor(strconv.FormatInt(last.ID, 10) + ":" + last.Name)
	}
	if page.Items == nil {
		page.Items = []*northstar.Customer{}
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

func writeCustomer(w http.ResponseWriter, status int, c *northstar.Customer) {
	setETag(w, c.Version)
	httpx.WriteJSON(w, status, c)
}

func (a *API) createCustomer(w http.ResponseWriter, r *http.Request) error {
	var req northstar.CustomerInput
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.app.SaveCustomer(r.Context(), 0, 0, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/customers/"+strconv.FormatInt(c.ID, 10))
	writeCustomer(w, http.StatusCreated, c)
	return nil
}

func (a *API) getCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := a.app.Customer(r.Context(), id)
	if err != nil {
		return err
	}
	writeCustomer(w, http.StatusOK, c)
	return nil
}

func (a *API) updateCustomer(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req customerChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name == nil && !req.Email.Set && req.Company == nil && req.Segment == nil && !req.Value.Set {
		return emptyChange("name, email, company, segment, value")
	}
	c, err := a.app.Customer(r.Context(), id)
	if err != nil {
		return err
	}
	if version == 0 {
		version = c.Version
	}
	in := northstar.CustomerInput{Name: c.Name, Email: c.Email, Company: c.Company, Segment: c.Segment, Value: c.Value}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Email.Set {
		in.Email = req.Email.Value // null and "" remove the address
	}
	if req.Company != nil {
		in.Company = *req.Company
	}
	if req.Segment != nil {
		in.Segment = *req.Segment
	}
	if req.Value.Set {
		in.Value = nil
		if !req.Value.Null {
			in.Value = &req.Value.Value
		}
	}
	c, err = a.app.SaveCustomer(r.Context(), id, version, in)
	if err != nil {
		return err
	}
	writeCustomer(w, http.StatusOK, c)
	return nil
}

func (a *API) deleteCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := a.app.DeleteCustomer(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- Feedback and insights ---

// feedbackFilter reads the inbox filters from the query.
func feedbackFilter(q url.Values) (northstar.FeedbackFilter, error) {
	var f northstar.FeedbackFilter
	if s := strings.TrimSpace(q.Get("source")); s != "" {
		f.Source = northstar.FeedbackSource(s)
		if !f.Source.Valid() {
			return f, northstar.FieldError("source", "source %q is not one of %s.", s, joinValues(northstar.FeedbackSources))
		}
	}
	if s := strings.TrimSpace(q.Get("status")); s != "" {
		f.Status = northstar.FeedbackStatus(s)
		if !f.Status.Valid() {
			return f, northstar.FieldError("status", "status %q is not one of %s.", s, joinValues(northstar.FeedbackStatuses))
		}
	}
	if s := strings.TrimSpace(q.Get("customer")); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			return f, northstar.FieldError("customer", "customer must be a customer's id, a positive whole number.")
		}
		f.CustomerID = id
	}
	var err error
	if f.Segment, err = queryText(q, "segment", northstar.MaxNameLen); err != nil {
		return f, err
	}
	if f.Query, err = queryText(q, "q", northstar.MaxSearchQueryLen); err != nil {
		return f, err
	}
	linked, set, err := queryBool(q, "linked")
	if err != nil {
		return f, err
	}
	if set {
		f.Linked = &linked
	}
	return f, nil
}

func (a *API) listFeedback(w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	f, err := feedbackFilter(r.URL.Query())
	if err != nil {
		return err
	}
	if after != "" {
		// The cursor holds the id of the page's last item: the inbox is
		// newest first, so the next page starts below it.
		if f.Before, err = strconv.ParseInt(after, 10, 64); err != nil || f.Before < 1 {
			return northstar.FieldError("cursor", "cursor is not one this server gave out.")
		}
	}
	f.Limit = limit + 1
	fs, err := a.app.FeedbackList(r.Context(), r.PathValue("key"), f)
	if err != nil {
		return err
	}
	page := Page[feedbackJSON]{}
	if len(fs) > limit {
		fs = fs[:limit]
		page.NextCursor = encodeCursor(strconv.FormatInt(fs[limit-1].ID, 10))
	}
	page.Items = make([]feedbackJSON, len(fs))
	for i, f := range fs {
		page.Items[i] = feedbackView(f)
	}
	httpx.WriteJSON(w, http.StatusOK, page)
	return nil
}

// customerRefJSON is the customer feedback came from: who they are, not
// their bookkeeping (version, counts), which GET /customers/{id} has.
type customerRefJSON struct {
	ID      int64    `json:"id"`
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Company string   `json:"company"`
	Segment string   `json:"segment"`
	Value   *float64 `json:"value"`
}

// feedbackJSON is feedback as the API shows it.
type feedbackJSON struct {
	*northstar.Feedback
	Customer *customerRefJSON `json:"customer"`
}

func feedbackView(f *northstar.Feedback) feedbackJSON {
	if f.Links == nil {
		f.Links = []*northstar.Insight{}
	}
	v := feedbackJSON{Feedback: f}
	if c := f.Customer; c != nil {
		v.Customer = &customerRefJSON{ID: c.ID, Name: c.Name, Email: c.Email, Company: c.Company, Segment: c.Segment, Value: c.Value}
	}
	return v
}

func writeFeedback(w http.ResponseWriter, status int, f *northstar.Feedback) {
	setETag(w, f.Version)
	httpx.WriteJSON(w, status, feedbackView(f))
}

func (a *API) addFeedback(w http.ResponseWriter, r *http.Request) error {
	var req northstar.FeedbackInput
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	f, err := a.app.AddFeedback(r.Context(), r.PathValue("key"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/products/"+f.ProductKey+"/feedback/"+strconv.FormatInt(f.ID, 10))
	writeFeedback(w, http.StatusCreated, f)
	return nil
}

func (a *API) getFeedback(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := a.app.Feedback(r.Context(), r.PathValue("key"), id)
	if err != nil {
		return err
	}
	writeFeedback(w, http.StatusOK, f)
	return nil
}

type feedbackChange struct {
	Title      *string                   `json:"title"`
	Text       *string                   `json:"text"`
	Status     *northstar.FeedbackStatus `json:"status"`
	CustomerID northstar.Optional[int64] `json:"customer_id"`
}

func (a *API) updateFeedback(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req feedbackChange
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Title == nil && req.Text == nil && req.Status == nil && !req.CustomerID.Set {
		return emptyChange("title, text, status, customer_id")
	}
	f, err := a.app.UpdateFeedback(r.Context(), r.PathValue("key"), id, version,
		app.FeedbackChange{Title: req.Title, Text: req.Text, Status: req.Status, CustomerID: req.CustomerID})
	if err != nil {
		return err
	}
	writeFeedback(w, http.StatusOK, f)
	return nil
}

func (a *API) linkInsight(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req northstar.InsightInput
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	f, _, err := a.app.LinkInsight(r.Context(), r.PathValue("key"), id, req)
	if err != nil {
		return err
	}
	writeFeedback(w, http.StatusCreated, f)
	return nil
}

func (a *API) unlinkInsight(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	insight, err := pathID(r, "insight")
	if err != nil {
		return err
	}
	if err := a.app.UnlinkInsight(r.Context(), r.PathValue("key"), id, insight); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// --- Feature ideas ---

type ideaRequest struct {
	Title   string `json:"title"`
	Problem string `json:"problem"`
}

// ideaJSON is a feature idea: a problem worth solving, as the discovery
// API shows it. Ideas are features still in their first status; the rest
// of a feature (solution, scores, roadmap place) is the features API's.
type ideaJSON struct {
	Ref          string                  `json:"ref"`
	Product      string                  `json:"product"`
	Number       int                     `json:"number"`
	Title        string                  `json:"title"`
	Problem      string                  `json:"problem"`
	Status       northstar.FeatureStatus `json:"status"`
	InsightCount int                     `json:"insight_count"`
	CreatedBy    *northstar.UserRef      `json:"created_by"`
	Version      int                     `json:"version"`
	CreatedAt    time.Time               `json:"created_at"`
	UpdatedAt    time.Time               `json:"updated_at"`
}

func ideaView(f *northstar.Feature) ideaJSON {
	return ideaJSON{Ref: f.Ref, Product: f.ProductKey, Number: f.Number, Title: f.Title, Problem: f.Problem, Status: f.Status,
		InsightCount: f.Insights, CreatedBy: f.CreatedBy, Version: f.Version, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

func (a *API) listIdeas(w http.ResponseWriter, r *http.Request) error {
	fs, err := a.app.FeaturesFiltered(r.Context(), r.PathValue("key"), northstar.FeatureFilter{Statuses: []northstar.FeatureStatus{northstar.FeatureIdea}})
	if err != nil {
		return err
	}
	ideas := make([]ideaJSON, 0, len(fs))
	for _, f := range fs {
		if f.Status == northstar.FeatureIdea {
			ideas = append(ideas, ideaView(f))
		}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[ideaJSON]{Items: ideas})
	return nil
}

func (a *API) proposeIdea(w http.ResponseWriter, r *http.Request) error {
	var req ideaRequest
	if err := httpx.DecodeJSON(w, r, &req); err != nil {
		return err
	}
	f, err := a.app.ProposeIdea(r.Context(), r.PathValue("key"), req.Title, req.Problem)
	if err != nil {
		return err
	}
	setETag(w, f.Version)
	httpx.WriteJSON(w, http.StatusCreated, ideaView(f))
	return nil
}
