package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

const customersPageSize = 50

// customersView is the organization's customers: a searchable list and
// the form to add one or edit the one chosen.
type customersView struct {
	page
	alerts
	Customers []*northstar.Customer
	Q         string
	MoreURL   string
	Rights    orgRights
	// Editing is the customer in the form; nil adds a new one.
	Editing  *northstar.Customer
	Segments []string // suggestions for the segment field
}

func customersURL(q, afterName string, afterID int64, edit int64) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if afterID > 0 {
		v.Set("after", afterName)
		v.Set("after_id", strconv.FormatInt(afterID, 10))
	}
	if edit > 0 {
		v.Set("edit", strconv.FormatInt(edit, 10))
	}
	if len(v) == 0 {
		return "/customers"
	}
	return "/customers?" + v.Encode()
}

func (web *Web) customersView(w http.ResponseWriter, r *http.Request, edit int64) (*customersView, error) {
	ctx := r.Context()
	q := r.URL.Query()
	view := &customersView{page: web.newPage(w, r, "Customers", "customers"), Q: strings.TrimSpace(q.Get("q"))}
	var err error
	if view.Rights, err = web.orgRights(ctx); err != nil {
		return nil, err
	}
	afterID, _ := strconv.ParseInt(q.Get("after_id"), 10, 64)
	cs, err := web.app.Customers(ctx, view.Q, q.Get("after"), afterID, customersPageSize+1)
	if err != nil {
		return nil, err
	}
	if len(cs) > customersPageSize {
		cs = cs[:customersPageSize]
		last := cs[len(cs)-1]
		view.MoreURL = customersURL(view.Q, last.Name, last.ID, 0)
	}
	view.Customers = cs
	for _, c := range cs {
		if c.Segment != "" && !slices.Contains(view.Segments, c.Segment) {
			view.Segments = append(view.Segments, c.Segment)
		}
	}
	slices.Sort(view.Segments)
	if edit > 0 {
		if view.Editing, err = web.app.Customer(ctx, edit); err != nil {
			return nil, err
		}
	}
	return view, nil
}

func (web *Web) customers(w http.ResponseWriter, r *http.Request) error {
	edit, _ := strconv.ParseInt(r.URL.Query().Get("edit"), 10, 64)
	view, err := web.customersView(w, r, edit)
	if err != nil {
		return err
	}
	return web.render(w, r, http.StatusOK, "customers", view)
}

// saveCustomer adds a customer (no id in the path) or changes one.
func (web *Web) saveCustomer(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = parseID(r, "id", "Customer"); err != nil {
			return err
		}
	}
	f := r.PostForm
	in := northstar.CustomerInput{Name: f.Get("name"), Email: f.Get("email"), Company: f.Get("company"), Segment: f.Get("segment")}
	value, err := parseNumber("value", f.Get("value"))
	var c *northstar.Customer
	if err == nil {
		in.Value = value
		version, _ := strconv.Atoi(f.Get("version"))
		c, err = web.app.SaveCustomer(r.Context(), id, version, in)
	}
	if err != nil {
		if !formProblem(err) {
			return err
		}
		view, verr := web.customersView(w, r, id)
		if verr != nil {
			return verr
		}
		view.Alert = newAlert(r, "customer", err)
		return web.render(w, r, httpx.Status(err), "customers", view)
	}
	if id == 0 {
		setFlash(w, "Customer "+c.Name+" added.")
	} else {
		setFlash(w, "Customer "+c.Name+" saved.")
	}
	redirect(w, r, "/customers?q="+url.QueryEscape(c.Name)+"#customer-"+strconv.FormatInt(c.ID, 10))
	return nil
}

func (web *Web) deleteCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r, "id", "Customer")
	if err != nil {
		return err
	}
	if err := web.app.DeleteCustomer(r.Context(), id); err != nil {
		return err
	}
	setFlash(w, "Customer deleted. Their feedback stays, without a customer.")
	redirect(w, r, "/customers")
	return nil
}
