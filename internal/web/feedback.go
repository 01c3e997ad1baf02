package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

const (
	feedbackPageSize = 50
	// customerChoices bounds the customer selects of the feedback pages.
	customerChoices = 200
)

// feedbackQuery is the inbox's query string: the filters and the cursor.
// It round-trips through the filter form, so a filtered inbox has a URL.
type feedbackQuery struct {
	Source   string
	Status   string
	Customer int64
	Segment  string
	Linked   string // "", "yes" or "no"
	Q        string
	Before   int64
}

func parseFeedbackQuery(q url.Values) feedbackQuery {
	fq := feedbackQuery{Source: q.Get("source"), Status: q.Get("status"), Segment: strings.TrimSpace(q.Get("segment")),
		Linked: q.Get("linked"), Q: strings.TrimSpace(q.Get("q"))}
	fq.Customer, _ = strconv.ParseInt(q.Get("customer"), 10, 64)
	fq.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	// Unknown values come from hand-edited URLs: ignore them.
	if !northstar.FeedbackSource(fq.Source).Valid() {
		fq.Source = ""
	}
	if !northstar.FeedbackStatus(fq.Status).Valid() {
		fq.Status = ""
	}
	if fq.Linked != "yes" && fq.Linked != "no" {
		fq.Linked = ""
	}
	if utf8.RuneCountInString(fq.Q) > 200 {
		fq.Q = string([]rune(fq.Q)[:200])
	}
	return fq
}

func (fq feedbackQuery) filter() northstar.FeedbackFilter {
	f := northstar.FeedbackFilter{Source: northstar.FeedbackSource(fq.Source), Status: northstar.FeedbackStatus(fq.Status),
		CustomerID: fq.Customer, Segment: fq.Segment, Query: fq.Q, Before: fq.Before, Limit: feedbackPageSize + 1}
	if fq.Linked != "" {
		linked := fq.Linked == "yes"
		f.Linked = &linked
	}
	return f
}

// Filtered reports whether any filter narrows the inbox.
func (fq feedbackQuery) Filtered() bool {
	return fq.Source != "" || fq.Status != "" || fq.Customer != 0 || fq.Segment != "" || fq.Linked != "" || fq.Q != ""
}

func (fq feedbackQuery) values(before int64) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("source", fq.Source)
	set("status", fq.Status)
	if fq.Customer != 0 {
		v.Set("customer", strconv.FormatInt(fq.Customer, 10))
	}
	set("segment", fq.Segment)
	set("linked", fq.Linked)
	set("q", fq.Q)
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	return v
}

func feedbackURL(key string, v url.Values) string {
	u := "/products/" + key + "/feedback"
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// feedbackView is a product's feedback inbox.
type feedbackView struct {
	page
	alerts
	Product    *northstar.Product
	Query      feedbackQuery
	Items      []*northstar.Feedback
	MoreURL    string
	ClearURL   string
	NewerURL   string
	Customers  []*northstar.Customer
	Segments   []string
	Ideas      []*northstar.Feature
	CanAdd     bool
	CanTriage  bool
	CanPropose bool
}

// Sources are the sources a person may record (portal feedback comes from
// the portal).
func (v *feedbackView) Sources() []northstar.FeedbackSource {
	return slices.DeleteFunc(slices.Clone(northstar.FeedbackSources), func(s northstar.FeedbackSource) bool { return s == northstar.SourcePortal })
}

// customerChoicesFor lists customers for a select, and the segments known
// from them and from the product's strategy.
func (web *Web) customerChoices(r *http.Request, key string) ([]*northstar.Customer, []string, error) {
	ctx := r.Context()
	cs, err := web.app.Customers(ctx, "", "", 0, customerChoices)
	if err != nil {
		return nil, nil, err
	}
	var segments []string
	if key != "" {
		st, err := web.app.Strategy(ctx, key)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range st.Segments {
			segments = append(segments, s.Name)
		}
	}
	for _, c := range cs {
		if c.Segment != "" && !slices.ContainsFunc(segments, func(s string) bool { return strings.EqualFold(s, c.Segment) }) {
			segments = append(segments, c.Segment)
		}
	}
	slices.SortFunc(segments, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return cs, segments, nil
}

func (web *Web) feedbackView(w http.ResponseWriter, r *http.Request, key string, fq feedbackQuery) (*feedbackView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	view := &feedbackView{page: web.newPage(w, r, p.Name+" feedback", "products"), Product: p, Query: fq}
	view.CanAdd = canProduct(view.User, p, northstar.ActionAddFeedback)
	view.CanTriage = canProduct(view.User, p, northstar.ActionTriageFeedback)
	view.CanPropose = canProduct(view.User, p, northstar.ActionProposeFeature)
	if view.Customers, view.Segments, err = web.customerChoices(r, p.Key); err != nil {
		return nil, err
	}
	items, err := web.app.FeedbackList(ctx, p.Key, fq.filter())
	if err != nil {
		return nil, err
	}
	if len(items) > feedbackPageSize {
		items = items[:feedbackPageSize]
		view.MoreURL = feedbackURL(p.Key, fq.values(items[len(items)-1].ID))
	}
	view.Items = items
	if fq.Before > 0 {
		view.NewerURL = feedbackURL(p.Key, fq.values(0))
	}
	view.ClearURL = feedbackURL(p.Key, nil)
	features, err := web.app.Features(ctx, p.Key)
	if err != nil {
		return nil, err
	}
	for _, f := range features {
		if f.Status == northstar.FeatureIdea {
			view.Ideas = append(view.Ideas, f)
		}
	}
	slices.SortStableFunc(view.Ideas, func(a, b *northstar.Feature) int { return cmp.Compare(b.Insights, a.Insights) })
	return view, nil
}

func (web *Web) feedbackInbox(w http.ResponseWriter, r *http.Request) error {
	view, err := web.feedbackView(w, r, r.PathValue("key"), parseFeedbackQuery(r.URL.Query()))
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "feedback", view)
}

// customerID reads a customer select: "" is none.
func customerID(s string) (*int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return nil, northstar.FieldError("customer_id", "Choose a customer from the list.")
	}
	return &id, nil
}

func (web *Web) recordFeedback(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	f := r.PostForm
	in := northstar.FeedbackInput{Source: northstar.FeedbackSource(f.Get("source")), Title: f.Get("title"), Text: f.Get("text")}
	cid, err := customerID(f.Get("customer_id"))
	var fb *northstar.Feedback
	if err == nil {
		in.CustomerID = cid
		fb, err = web.app.AddFeedback(r.Context(), key, in)
	}
	if err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.feedbackView(w, r, key, feedbackQuery{})
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "record", err)
		return web.render(w, r, httpx.Status(err), "feedback", view)
	}
	msg := "Feedback recorded."
	if fb.Source == northstar.SourceInterview {
		msg = "Interview recorded. Select passages of the note to link each insight to an idea."
	}
	setFlash(w, msg)
	redirect(w, r, feedbackItemURL(key, fb.ID))
	return nil
}

func feedbackItemURL(key string, id int64) string {
	return "/products/" + key + "/feedback/" + strconv.FormatInt(id, 10)
}

func (web *Web) proposeIdea(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	f, err := web.app.ProposeIdea(r.Context(), key, r.PostForm.Get("title"), r.PostForm.Get("problem"))
	if err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.feedbackView(w, r, key, feedbackQuery{})
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "idea", err)
		return web.render(w, r, httpx.Status(err), "feedback", view)
	}
	setFlash(w, "Idea "+f.Ref+" proposed.")
	redirect(w, r, feedbackURL(key, nil)+"#ideas")
	return nil
}

// feedbackItemView is one piece of feedback: its text, customer and
// insights, and the triage panel.
type feedbackItemView struct {
	page
	alerts
	Product   *northstar.Product
	F         *northstar.Feedback
	Features  []*northstar.Feature
	Customers []*northstar.Customer
	CanTriage bool
	// CanPropose: new ideas may be created from the feedback.
	CanPropose bool
	// CanEdit: the title and text may be corrected (its author, triage).
	CanEdit bool
	Back    string
}

func (web *Web) feedbackItemView(w http.ResponseWriter, r *http.Request) (*feedbackItemView, error) {
	ctx := r.Context()
	key := normalizeKey(r.PathValue("key"))
	id, err := parseID(r, "feedback", "Feedback")
	if err != nil {
		return nil, err
	}
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	f, err := web.app.Feedback(ctx, p.Key, id)
	if err != nil {
		return nil, err
	}
	view := &feedbackItemView{page: web.newPage(w, r, f.Title, "products"), Product: p, F: f, Back: feedbackURL(p.Key, nil)}
	u := view.User
	view.CanTriage = canProduct(u, p, northstar.ActionTriageFeedback)
	view.CanPropose = canProduct(u, p, northstar.ActionProposeFeature)
	view.CanEdit = view.CanTriage || (canProduct(u, p, northstar.ActionAddFeedback) && f.CapturedBy != nil && f.CapturedBy.Email == u.Email)
	if view.CanTriage {
		if view.Features, err = web.app.Features(ctx, p.Key); err != nil {
			return nil, err
		}
		if view.Customers, _, err = web.customerChoices(r, ""); err != nil {
			return nil, err
		}
	}
	return view, nil
}

func (web *Web) feedbackItem(w http.ResponseWriter, r *http.Request) error {
	view, err := web.feedbackItemView(w, r)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "feedback_item", view)
}

// feedbackItemDone answers a form of the feedback page.
func (web *Web) feedbackItemDone(w http.ResponseWriter, r *http.Request, section, anchor, done string, err error) error {
	if err == nil {
		setFlash(w, done)
		redirect(w, r, "/products/"+normalizeKey(r.PathValue("key"))+"/feedback/"+r.PathValue("feedback")+"#"+anchor)
		return nil
	}
	if !formProblem(err) && northstar.ErrorField(err) == "" {
		return err
	}
	view, verr := web.feedbackItemView(w, r)
	if verr != nil {
		return verr
	}
	view.Alert = newAlert(r, section, err)
	return web.render(w, r, httpx.Status(err), "feedback_item", view)
}

func (web *Web) updateFeedback(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "feedback", "Feedback")
	if err != nil {
		return err
	}
	f := r.PostForm
	section := f.Get("section")
	var c app.FeedbackChange
	switch section {
	case "text":
		title, text := f.Get("title"), f.Get("text")
		c.Title, c.Text = &title, &text
	default:
		section = "triage"
		if s := f.Get("status"); s != "" {
			st := northstar.FeedbackStatus(s)
			c.Status = &st
		}
		if _, ok := f["customer_id"]; ok {
			cid, err := customerID(f.Get("customer_id"))
			if err != nil {
				return web.feedbackItemDone(w, r, section, section, "", err)
			}
			c.CustomerID.Set = true
			if cid == nil {
				c.CustomerID.Null = true
			} else {
				c.CustomerID.Value = *cid
			}
		}
	}
	version, _ := strconv.Atoi(f.Get("version"))
	_, err = web.app.UpdateFeedback(r.Context(), r.PathValue("key"), id, version, c)
	return web.feedbackItemDone(w, r, section, section, "Saved.", err)
}

func (web *Web) linkInsight(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "feedback", "Feedback")
	if err != nil {
		return err
	}
	key := normalizeKey(r.PathValue("key"))
	f := r.PostForm
	passage := strings.TrimSpace(f.Get("passage"))
	if passage == "" {
		passage = strings.TrimSpace(f.Get("passage_text"))
	}
	if passage != "" {
		// The selection was made in the rendered text; quote the source.
		fb, err := web.app.Feedback(r.Context(), key, id)
		if err != nil {
			return err
		}
		passage = quoteFromSource(fb.Text, passage)
	}
	in := northstar.InsightInput{Passage: passage, Importance: northstar.Importance(f.Get("importance")),
		Feature: f.Get("feature"), NewIdea: f.Get("new_idea")}
	_, insight, err := web.app.LinkInsight(r.Context(), key, id, in)
	msg := ""
	if err == nil {
		msg = "Insight linked to " + insight.FeatureRef + " " + insight.Feature + "."
	}
	return web.feedbackItemDone(w, r, "link", "insights", msg, err)
}

func (web *Web) unlinkInsight(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "feedback", "Feedback")
	if err != nil {
		return err
	}
	insight, err := parseID(r, "insight", "Insight")
	if err != nil {
		return err
	}
	if err := web.app.UnlinkInsight(r.Context(), r.PathValue("key"), id, insight); err != nil {
		return err
	}
	setFlash(w, "Insight removed. The idea stays.")
	redirect(w, r, feedbackItemURL(normalizeKey(r.PathValue("key")), id)+"#insights")
	return nil
}

// quoteFromSource finds a passage, selected in the rendered text, in the
// Markdown source. The rendered text has no Markdown marks (**, _, links'
// targets), so when the passage is not in the source as it is, its words
// are matched in order, allowing marks between them, and the source's
// span is quoted. The first and last words may be cut (a selection can
// start or end inside a word). Without a match the passage is returned
// as it is, for the app to refuse with its message.
func quoteFromSource(src, passage string) string {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	if strings.Contains(norm(src), norm(passage)) {
		return passage
	}
	sw, qw := words(src), words(passage)
	n := len(qw)
	if n == 0 {
		return passage
	}
	for i := 0; i+n <= len(sw); i++ {
		first, last := sw[i], sw[i+n-1]
		if n == 1 {
			if j := strings.Index(first.text, qw[0].text); j >= 0 {
				return src[first.start+j : first.start+j+len(qw[0].text)]
			}
			continue
		}
		if !strings.HasSuffix(first.text, qw[0].text) || !strings.HasPrefix(last.text, qw[n-1].text) {
			continue
		}
		ok := true
		for k := 1; k < n-1; k++ {
			if sw[i+k].text != qw[k].text {
				ok = false
				break
			}
		}
		if ok {
			return src[first.end-len(qw[0].text) : last.start+len(qw[n-1].text)]
		}
	}
	return passage
}

type word struct {
	text       string
	start, end int
}

// words splits a text into runs of letters and digits, with their byte
// offsets.
func words(s string) []word {
	var out []word
	start := -1
	for i, c := range s {
		in := unicode.IsLetter(c) || unicode.IsDigit(c) || c == '\'' || c == '’'
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			out = append(out, word{s[start:i], start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, word{s[start:], start, len(s)})
	}
	return out
}
