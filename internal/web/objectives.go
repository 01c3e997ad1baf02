package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// newKeyResultRows is how many key-result rows the new-objective form
// offers; blank rows are ignored, and more can be added later.
const newKeyResultRows = 3

// objectiveCard is one objective on the page, with what the card shows
// besides the objective itself.
type objectiveCard struct {
	O        *northstar.Objective
	Parent   *northstar.Objective // the company objective it rolls up to
	Progress float64
	// Timing says where the period stands: "12 days left", "ended".
	Timing string
}

type ownerOption struct{ Email, Name string }

// objectivesView is the objectives page of the company (Product nil) or
// of a product.
type objectivesView struct {
	page
	alerts
	Product *northstar.Product
	Cards   []objectiveCard
	// Company lists the company objectives a product objective may roll
	// up to.
	Company []*northstar.Objective
	Owners  []ownerOption
	CanEdit bool
	Action  string // where the new-objective form posts
	// The new-objective form's defaults: this quarter, the current user.
	DefaultStart, DefaultEnd, DefaultOwner string
	KRRows                                 []int
	// Summary of the page.
	AvgProgress float64
	NeedCare    int // at risk or off track
}

func objectivesURL(key string) string {
	if key == "" {
		return "/objectives"
	}
	return "/products/" + key + "/objectives"
}

// quarter returns the first and last day of t's quarter.
func quarter(t time.Time) (time.Time, time.Time) {
	q := (int(t.Month()) - 1) / 3
	start := time.Date(t.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 3, -1)
}

// timing describes where an objective's period stands today.
func timing(o *northstar.Objective, now time.Time) string {
	day := 24 * time.Hour
	switch {
	case o.End.IsZero():
		return ""
	case now.Before(o.Start.Time):
		return "starts in " + plural(int(o.Start.Sub(now)/day)+1, "day")
	case now.After(o.End.Time.Add(day)):
		return "ended " + o.End.Format("2 Jan")
	}
	left := int(o.End.Time.Add(day).Sub(now) / day)
	if left <= 0 {
		return "last day"
	}
	return plural(left, "day") + " left"
}

func (web *Web) objectivesView(w http.ResponseWriter, r *http.Request, key string) (*objectivesView, error) {
	ctx := r.Context()
	user := northstar.UserFromContext(ctx)
	view := &objectivesView{}
	title, section := "Company objectives", "objectives"
	if key != "" {
		p, err := web.app.Product(ctx, key)
		if err != nil {
			return nil, err
		}
		key = p.Key
		view.Product, title, section = p, p.Name+" objectives", "products"
		view.CanEdit = canProduct(user, p, northstar.ActionManageProduct)
		members, err := web.app.Members(ctx, p.Key)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			view.Owners = append(view.Owners, ownerOption{m.Email, m.Name})
		}
		if view.Company, err = web.app.Objectives(ctx, ""); err != nil {
			return nil, err
		}
	} else {
		rights, err := web.orgRights(ctx)
		if err != nil {
			return nil, err
		}
		view.CanEdit = rights.ManageObjectives
		if user.Admin {
			users, err := web.app.Users(ctx)
			if err != nil {
				return nil, err
			}
			for _, u := range users {
				if !u.Disabled {
					view.Owners = append(view.Owners, ownerOption{u.Email, u.Name})
				}
			}
		} else {
			view.Owners = []ownerOption{{user.Email, user.Name}}
		}
	}
	view.page = web.newPage(w, r, title, section)
	objs, err := web.app.Objectives(ctx, key)
	if err != nil {
		return nil, err
	}
	parents := map[int64]*northstar.Objective{}
	for _, c := range view.Company {
		parents[c.ID] = c
	}
	now := time.Now()
	sum := 0.0
	for _, o := range objs {
		c := objectiveCard{O: o, Progress: o.Progress(), Timing: timing(o, now)}
		if o.ParentID != nil {
			c.Parent = parents[*o.ParentID]
		}
		if o.Status == northstar.AtRisk || o.Status == northstar.OffTrack {
			view.NeedCare++
		}
		sum += c.Progress
		view.Cards = append(view.Cards, c)
	}
	if len(objs) > 0 {
		view.AvgProgress = sum / float64(len(objs))
	}
	view.Action = objectivesURL(key)
	start, end := quarter(now)
	view.DefaultStart, view.DefaultEnd, view.DefaultOwner = start.Format(northstar.DateLayout), end.Format(northstar.DateLayout), user.Email
	for i := range newKeyResultRows {
		view.KRRows = append(view.KRRows, i)
	}
	return view, nil
}

// KRSent returns what the new-objective form sent for a key-result row's
// field after an error.
func (v *objectivesView) KRSent(name string, i int) string {
	if v.Alert == nil || v.Alert.Section != "objective-new" {
		return ""
	}
	if vals := v.Alert.Values[name]; i < len(vals) {
		return vals[i]
	}
	return ""
}

func (web *Web) companyObjectives(w http.ResponseWriter, r *http.Request) error {
	view, err := web.objectivesView(w, r, "")
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "objectives", view)
}

func (web *Web) productObjectives(w http.ResponseWriter, r *http.Request) error {
	view, err := web.objectivesView(w, r, r.PathValue("key"))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "objectives", view)
}

// objectiveDone answers an objective form: back to the page of key (""
// for the company's) at the anchor, or that page with the error at the
// form that was sent.
func (web *Web) objectiveDone(w http.ResponseWriter, r *http.Request, key, section, anchor, done string, err error) error {
	if err == nil {
		setFlash(w, done)
		redirect(w, r, objectivesURL(key)+"#"+anchor)
		return nil
	}
	if !formProblem(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
		return err
	}
	view, verr := web.objectivesView(w, r, key)
	if verr != nil {
		return verr
	}
	view.Alert = newAlert(r, section, err)
	return web.render(w, r, httpx.Status(err), "objectives", view)
}

// objectiveInput reads the objective form; with key results, the rows of
// the new-objective form that are not blank.
func objectiveInput(f url.Values, withKeyResults bool) (northstar.ObjectiveInput, error) {
	in := northstar.ObjectiveInput{Title: f.Get("title"), Description: f.Get("description"), Owner: f.Get("owner"),
		Status: northstar.ObjectiveStatus(f.Get("status"))}
	var err error
	if strings.TrimSpace(f.Get("start")) != "" {
		if in.Start, err = northstar.ParseDate("start", f.Get("start")); err != nil {
			return in, err
		}
	}
	if strings.TrimSpace(f.Get("end")) != "" {
		if in.End, err = northstar.ParseDate("end", f.Get("end")); err != nil {
			return in, err
		}
	}
	if p := strings.TrimSpace(f.Get("parent_id")); p != "" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return in, northstar.FieldError("parent_id", "Choose a company objective from the list.")
		}
		in.ParentID = &id
	}
	if !withKeyResults {
		return in, nil
	}
	names, units, starts, targets := f["kr_name"], f["kr_unit"], f["kr_start"], f["kr_target"]
	at := func(vals []string, i int) string {
		if i < len(vals) {
			return vals[i]
		}
		return ""
	}
	for i := range names {
		name, unit, start, target := at(names, i), at(units, i), at(starts, i), at(targets, i)
		if strings.TrimSpace(name+unit+start+target) == "" {
			continue
		}
		kr, err := keyResultInput(name, unit, start, target, "", fmt.Sprintf("key result %d: ", len(in.KeyResults)+1))
		if err != nil {
			return in, err
		}
		in.KeyResults = append(in.KeyResults, kr)
	}
	return in, nil
}

// keyResultInput reads a key result's fields; prefix names the row in
// messages.
func keyResultInput(name, unit, start, target, current, prefix string) (northstar.KeyResultInput, error) {
	kr := northstar.KeyResultInput{Name: name, Unit: unit}
	var err error
	if kr.Start, err = parseNumber("start", start); err != nil {
		return kr, northstar.FieldError("start", "%sthe start must be a number, like 0 or 3.5.", prefix)
	}
	if kr.Target, err = parseNumber("target", target); err != nil {
		return kr, northstar.FieldError("target", "%sthe target must be a number, like 100 or 2.5.", prefix)
	}
	if kr.Current, err = parseNumber("current", current); err != nil {
		return kr, northstar.FieldError("current", "%sthe current value must be a number.", prefix)
	}
	if prefix != "" {
		// Name the row in the app's messages too.
		if err := kr.Validate(); err != nil {
			return kr, northstar.FieldError(northstar.ErrorField(err), "%s%s", prefix, northstar.ErrorMessage(err))
		}
	}
	return kr, nil
}

func (web *Web) createObjective(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := ""
	if r.PathValue("key") != "" {
		key = normalizeKey(r.PathValue("key"))
	}
	in, err := objectiveInput(r.PostForm, true)
	var o *northstar.Objective
	if err == nil {
		o, err = web.app.CreateObjective(r.Context(), key, in)
	}
	if err != nil {
		return web.objectiveDone(w, r, key, "objective-new", "new-objective", "", err)
	}
	return web.objectiveDone(w, r, key, "", fmt.Sprintf("objective-%d", o.ID), "Objective created.", nil)
}

// loadObjectiveScope finds the objective of the path, for the page its
// forms return to.
func (web *Web) loadObjectiveScope(r *http.Request) (*northstar.Objective, error) {
	id, err := parseID(r, "id", "Objective")
	if err != nil {
		return nil, err
	}
	return web.app.Objective(r.Context(), id)
}

// loadKeyResultScope finds the objective of the path and reads its key
// result's id.
func (web *Web) loadKeyResultScope(r *http.Request) (*northstar.Objective, int64, error) {
	o, err := web.loadObjectiveScope(r)
	if err != nil {
		return nil, 0, err
	}
	krID, err := parseID(r, "kr", "Key result")
	return o, krID, err
}

func (web *Web) updateObjective(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	o, err := web.loadObjectiveScope(r)
	if err != nil {
		return err
	}
	section := fmt.Sprintf("objective-%d-edit", o.ID)
	in, err := objectiveInput(r.PostForm, false)
	if err == nil {
		version, _ := strconv.Atoi(r.PostForm.Get("version"))
		_, err = web.app.UpdateObjective(r.Context(), o.ID, version, in)
	}
	return web.objectiveDone(w, r, o.ProductKey, section, fmt.Sprintf("objective-%d", o.ID), "Objective saved.", err)
}

func (web *Web) deleteObjective(w http.ResponseWriter, r *http.Request) error {
	o, err := web.loadObjectiveScope(r)
	if err != nil {
		return err
	}
	if err := web.app.DeleteObjective(r.Context(), o.ID); err != nil {
		return err
	}
	setFlash(w, "Objective “"+o.Title+"” deleted.")
	redirect(w, r, objectivesURL(o.ProductKey))
	return nil
}

func (web *Web) addKeyResult(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	o, err := web.loadObjectiveScope(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	kr, err := keyResultInput(f.Get("name"), f.Get("unit"), f.Get("start"), f.Get("target"), f.Get("current"), "")
	if err == nil {
		_, err = web.app.AddKeyResult(r.Context(), o.ID, kr)
	}
	return web.objectiveDone(w, r, o.ProductKey, fmt.Sprintf("objective-%d-kr-new", o.ID), fmt.Sprintf("objective-%d", o.ID), "Key result added.", err)
}

func (web *Web) updateKeyResult(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	o, krID, err := web.loadKeyResultScope(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	kr, err := keyResultInput(f.Get("name"), f.Get("unit"), f.Get("start"), f.Get("target"), f.Get("current"), "")
	if err == nil {
		_, err = web.app.UpdateKeyResult(r.Context(), o.ID, krID, kr)
	}
	return web.objectiveDone(w, r, o.ProductKey, fmt.Sprintf("kr-%d-edit", krID), fmt.Sprintf("kr-%d", krID), "Key result saved.", err)
}

func (web *Web) deleteKeyResult(w http.ResponseWriter, r *http.Request) error {
	o, krID, err := web.loadKeyResultScope(r)
	if err != nil {
		return err
	}
	if _, err := web.app.DeleteKeyResult(r.Context(), o.ID, krID); err != nil {
		return err
	}
	setFlash(w, "Key result deleted.")
	redirect(w, r, objectivesURL(o.ProductKey)+fmt.Sprintf("#objective-%d", o.ID))
	return nil
}

func (web *Web) checkIn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	o, krID, err := web.loadKeyResultScope(r)
	if err != nil {
		return err
	}
	value, err := parseNumber("value", r.PostForm.Get("value"))
	if err == nil && value == nil {
		err = northstar.FieldError("value", "Enter the key result's value today.")
	}
	if err == nil {
		_, err = web.app.CheckIn(r.Context(), o.ID, krID, *value, r.PostForm.Get("note"))
	}
	return web.objectiveDone(w, r, o.ProductKey, fmt.Sprintf("kr-%d-checkin", krID), fmt.Sprintf("kr-%d", krID), "Check-in recorded.", err)
}

// linkKeyResultFeature links a feature to a key result.
func (web *Web) linkKeyResultFeature(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	o, krID, err := web.loadKeyResultScope(r)
	if err != nil {
		return err
	}
	ref := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("feature")))
	_, err = web.app.LinkKeyResultFeature(r.Context(), o.ID, krID, ref)
	return web.objectiveDone(w, r, o.ProductKey, fmt.Sprintf("kr-%d-features", krID), fmt.Sprintf("kr-%d", krID), ref+" linked: it shows against the key result's check-ins.", err)
}

// unlinkKeyResultFeature removes a feature from a key result.
func (web *Web) unlinkKeyResultFeature(w http.ResponseWriter, r *http.Request) error {
	o, krID, err := web.loadKeyResultScope(r)
	if err != nil {
		return err
	}
	ref := r.PathValue("ref")
	_, err = web.app.UnlinkKeyResultFeature(r.Context(), o.ID, krID, ref)
	return web.objectiveDone(w, r, o.ProductKey, fmt.Sprintf("kr-%d-features", krID), fmt.Sprintf("kr-%d", krID), ref+" unlinked.", err)
}
