package web

// Shared by the discovery pages (strategy, objectives, customers, feedback
// and the portal): the product sub-navigation, organization-level
// permissions for hiding what a person may not do, number formatting and
// form parsing.

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/northstar-pm/northstar"
)

// productNavView is the product sub-navigation: the tabs shared by the
// product's pages, with the current one marked.
type productNavView struct {
	Product *northstar.Product
	Key     string
	Active  string
}

// orgRights is what the current user may do in the organization, to hide
// what they may not (the app enforces it either way).
type orgRights struct {
	ManageObjectives bool
	EditCustomers    bool
	DeleteCustomers  bool
}

// orgRights works out the organization-level rights of the current user
// from the roles they hold across products, as the app does.
func (web *Web) orgRights(ctx context.Context) (orgRights, error) {
	u := northstar.UserFromContext(ctx)
	if u == nil {
		return orgRights{}, nil
	}
	var st northstar.OrgStanding
	if !u.Admin {
		ps, err := web.app.Products(ctx, northstar.ProductFilter{IncludeArchived: true})
		if err != nil {
			return orgRights{}, err
		}
		for _, p := range ps {
			st.ManagesAProduct = st.ManagesAProduct || p.Role == northstar.RoleProductManager
			st.GivesFeedbackSome = st.GivesFeedbackSome || northstar.Can(false, p.Role, northstar.ActionAddFeedback)
		}
	}
	return orgRights{
		ManageObjectives: northstar.CanOrg(u, st, northstar.OrgManageObjectives),
		EditCustomers:    northstar.CanOrg(u, st, northstar.OrgEditCustomers),
		DeleteCustomers:  northstar.CanOrg(u, st, northstar.OrgManageUsers),
	}, nil
}

// canProduct reports whether the current user may perform an action in a
// product that is not read-only.
func canProduct(u *northstar.User, p *northstar.Product, a northstar.Action) bool {
	return u != nil && !p.ReadOnly() && northstar.Can(u.Admin, p.Role, a)
}

func discoveryFuncs() template.FuncMap {
	return template.FuncMap{
		"productNav": func(p *northstar.Product, active string) productNavView {
			return productNavView{Product: p, Key: p.Key, Active: active}
		},
		"num":               formatNumber,
		"numPtr":            func(v *float64) string { return formatNumberPtr(v) },
		"pct":               func(p float64) int { return int(math.Round(p * 100)) },
		"lines":             lines,
		"excerpt":           excerpt,
		"sparkline":         sparkline,
		"objectiveStatuses": func() []northstar.ObjectiveStatus { return northstar.ObjectiveStatuses },
		"feedbackSources":   func() []northstar.FeedbackSource { return northstar.FeedbackSources },
		"feedbackStatuses":  func() []northstar.FeedbackStatus { return northstar.FeedbackStatuses },
		"importances":       func() []northstar.Importance { return northstar.Importances },
		"portalStatuses":    func() []northstar.PortalStatus { return northstar.PortalStatuses },
		"period":            period,
		"dateValue":         func(d northstar.Date) string { return d.String() },
		"invalid":           invalid,
		"dict":              dict,
		"unmark":            unmark,
		"lastCheckIn": func(cs []*northstar.CheckIn) *northstar.CheckIn {
			if len(cs) == 0 {
				return nil
			}
			return cs[len(cs)-1]
		},
		"idOf": func(id *int64) int64 {
			if id == nil {
				return 0
			}
			return *id
		},
	}
}

// formatNumber writes a number for people: no exponent, no trailing
// zeros, thousands grouped (12,500; 3.75; -0.5).
func formatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i > 3 {
		// Long fractions from division: two decimals are enough to read.
		s = strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	}
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

func formatNumberPtr(v *float64) string {
	if v == nil {
		return ""
	}
	return formatNumber(*v)
}

// lines splits a text into its non-empty lines, without list markers, for
// goals and pains written one per line.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "-*•"))
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// excerpt returns the start of a Markdown text as plain text of at most n
// characters, for lists.
func excerpt(s string, n int) string {
	s = strings.NewReplacer("**", "", "__", "", "`", "", "#", "", "> ", "", "\r", "").Replace(s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return strings.TrimRightFunc(string(r[:n-1]), unicode.IsSpace) + "…"
	}
	return s
}

// period writes an objective's period: "1 Jan – 31 Mar 2026".
func period(start, end northstar.Date) string {
	if start.IsZero() || end.IsZero() {
		return start.String() + " – " + end.String()
	}
	if start.Year() == end.Year() {
		return start.Format("2 Jan") + " – " + end.Format("2 Jan 2006")
	}
	return start.Format("2 Jan 2006") + " – " + end.Format("2 Jan 2006")
}

// parseNumber reads a number from a form field; "" gives nil.
func parseNumber(field, s string) (*float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	s = strings.NewReplacer(",", "", "_", "", " ", "", "\u00a0", "").Replace(s)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, northstar.FieldError(field, "%s must be a number, like 42 or 3.5.", field)
	}
	return &v, nil
}

// parseID reads an id from a path value; a bad one is a missing page.
func parseID(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, northstar.Errorf(northstar.ENOTFOUND, "%s %q not found.", what, r.PathValue(name))
	}
	return id, nil
}

// invalid reports whether a form error is about a field, for aria-invalid.
func invalid(e *formError, field string) bool { return e != nil && e.Field == field }

// formAlert is what went wrong with one form of a page with many: the
// form (its section), the error and what was sent, so that the page shows
// the message at that form, opened, with the person's input kept.
type formAlert struct {
	Section string
	Error   *formError
	Values  url.Values
}

// alerts gives a view the form alert's helpers; views embed it.
type alerts struct {
	Alert *formAlert
}

// ErrorFor returns the error of a section's form, or nil.
func (a alerts) ErrorFor(section string) *formError {
	if a.Alert != nil && a.Alert.Section == section {
		return a.Alert.Error
	}
	return nil
}

// OpenFor reports whether a section's form has an error, to show it open.
func (a alerts) OpenFor(section string) bool { return a.ErrorFor(section) != nil }

// Sent returns what the section's form sent for a field after an error,
// else fallback: the value it has.
func (a alerts) Sent(section, name string, fallback any) string {
	if a.Alert != nil && a.Alert.Section == section && a.Alert.Values != nil {
		if _, ok := a.Alert.Values[name]; ok {
			return a.Alert.Values.Get(name)
		}
	}
	switch v := fallback.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case *float64:
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	case northstar.Date:
		return v.String()
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(fallback)
}

// Invalid reports whether a section's error is about a field.
func (a alerts) Invalid(section, field string) bool { return invalid(a.ErrorFor(section), field) }

func newAlert(r *http.Request, section string, err error) *formAlert {
	return &formAlert{Section: section, Error: toFormError(err), Values: r.PostForm}
}

// dict builds a map for a sub-template from pairs of names and values.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// unmark removes Markdown's emphasis and code marks from a quote.
func unmark(s string) string {
	return strings.NewReplacer("**", "", "__", "", "`", "").Replace(s)
}

// formProblem reports whether an error belongs at the form that was sent:
// the person's to fix. A refusal is a page of its own, since the form is
// not shown to those who may not use it.
func formProblem(err error) bool {
	switch northstar.ErrorCode(err) {
	case northstar.EFORBIDDEN, northstar.EUNAUTHORIZED:
		return false
	}
	return userError(err)
}
