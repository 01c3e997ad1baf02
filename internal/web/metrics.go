package web

// Product metrics in the browser: the metrics page (and its section on
// the product page, loaded by htmx), a line chart with the lifecycle
// stages shaded behind the curve, the stage the curve suggests with its
// reason, and forms to define a metric, add a point and upload a CSV.

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// maxMetricUpload bounds a CSV upload from the browser.
const maxMetricUpload = 4 << 20

func (web *Web) metricRoutes() []httpx.Route {
	a := web.authed
	return []httpx.Route{
		{Method: "GET", Pattern: "/products/{key}/metrics", Handler: a(web.metricsPage)},
		{Method: "POST", Pattern: "/products/{key}/metrics", Handler: a(web.createMetric)},
		{Method: "POST", Pattern: "/products/{key}/metrics/{id}/points", Handler: a(web.addMetricPoint)},
		{Method: "POST", Pattern: "/products/{key}/metrics/{id}/upload", Handler: a(web.uploadMetricCSV)},
	}
}

type metricsView struct {
	page
	Product  *northstar.Product
	Metrics  []*northstar.Metric
	Series   *app.MetricSeries
	Chart    template.HTML
	CanEdit  bool
	Error    *formError
	Form     northstar.MetricInput
	Today    string
	Periods  []metricPeriod
	Latest   string
	Back     string
	Embedded bool
}

// metricPeriod is a lifecycle stage in the chart's legend.
type metricPeriod struct {
	Stage northstar.Stage
	Since string
}

func (web *Web) metricsView(w http.ResponseWriter, r *http.Request, key, metric string) (*metricsView, error) {
	ctx := r.Context()
	p, err := web.app.Product(ctx, key)
	if err != nil {
		return nil, err
	}
	ms, err := web.app.Metrics(ctx, p.Key)
	if err != nil {
		return nil, err
	}
	u := northstar.UserFromContext(ctx)
	v := &metricsView{page: web.newPage(w, r, "Metrics · "+p.Name, "products"), Product: p, Metrics: ms,
		CanEdit: northstar.Can(u.Admin, p.Role, northstar.ActionManageProduct) && !p.ReadOnly(),
		Today:   time.Now().UTC().Format(northstar.DateLayout), Back: "/products/" + p.Key + "/metrics"}
	if metric == "" && len(ms) > 0 {
		metric = ms[0].Key
	}
	if metric != "" {
		s, err := web.app.Series(ctx, p.Key, metric, time.Time{}, time.Time{})
		if err != nil {
			return nil, err
		}
		v.Series = s
		v.Back += "?metric=" + s.Metric.Key
		v.Chart = metricChart(s)
		for _, per := range s.Periods {
			v.Periods = append(v.Periods, metricPeriod{Stage: per.Stage, Since: per.Start.Format("2 Jan 2006")})
		}
		if n := len(s.Points); n > 0 {
			v.Latest = fmt.Sprintf("%s %s on %s", metricNum(s.Points[n-1].Value), s.Metric.Unit, s.Points[n-1].Date.Format("2 Jan 2006"))
		}
	}
	return v, nil
}

// metricsPage is the metrics page; ?section=1 (the product page's htmx
// load) answers only its section.
func (web *Web) metricsPage(w http.ResponseWriter, r *http.Request) error {
	v, err := web.metricsView(w, r, r.PathValue("key"), r.URL.Query().Get("metric"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("section") != "" {
		v.Embedded, v.Back = true, "/products/"+v.Product.Key
		return web.renderPartial(w, http.StatusOK, "metrics", "metrics-section", v)
	}
	return web.render(w, r, http.StatusOK, "metrics", v)
}

// metricFormDone ends a metric form: a flash and back where the form
// came from, or the page again with the error.
func (web *Web) metricFormDone(w http.ResponseWriter, r *http.Request, metric, flash string, err error, form northstar.MetricInput) error {
	if err != nil && !userError(err) {
		return err
	}
	key := r.PathValue("key")
	back := localPath(r.FormValue("back"), "/products/"+key+"/metrics?metric="+metric)
	if err == nil {
		setFlash(w, flash)
		redirect(w, r, back)
		return nil
	}
	v, verr := web.metricsView(w, r, key, metric)
	if verr != nil {
		return verr
	}
	v.Error, v.Form = toFormError(err), form
	return web.render(w, r, httpx.Status(err), "metrics", v)
}

func (web *Web) createMetric(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	in := northstar.MetricInput{Name: r.PostForm.Get("name"), Key: r.PostForm.Get("key"), Unit: r.PostForm.Get("unit"),
		Direction: northstar.MetricDirection(r.PostForm.Get("direction")), Description: r.PostForm.Get("description")}
	m, err := web.app.CreateMetric(r.Context(), r.PathValue("key"), in)
	if err != nil {
		return web.metricFormDone(w, r, "", "", err, in)
	}
	return web.metricFormDone(w, r, m.Key, "Metric "+m.Name+" defined.", nil, in)
}

func (web *Web) addMetricPoint(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	metric := r.PathValue("id")
	raw := strings.TrimSpace(r.PostForm.Get("value"))
	v, perr := strconv.ParseFloat(raw, 64)
	if perr != nil {
		return web.metricFormDone(w, r, metric, "", northstar.FieldError("value", "Value %q is not a number.", raw), northstar.MetricInput{})
	}
	res, err := web.app.RecordPoints(r.Context(), r.PathValue("key"), metric, []northstar.PointInput{{Date: r.PostForm.Get("date"), Value: &v}})
	if err != nil {
		return web.metricFormDone(w, r, metric, "", err, northstar.MetricInput{})
	}
	return web.metricFormDone(w, r, metric, pointsFlash(res), nil, northstar.MetricInput{})
}

func pointsFlash(res *northstar.PointsResult) string {
	msg := fmt.Sprintf("Recorded %d new %s", res.Inserted, pluralWord(res.Inserted, "point"))
	if res.Updated > 0 {
		msg += fmt.Sprintf(", updated %d", res.Updated)
	}
	msg += "."
	if len(res.Notes) > 0 {
		msg += " " + strings.Join(res.Notes, "; ") + "."
	}
	return msg
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

func (web *Web) uploadMetricCSV(w http.ResponseWriter, r *http.Request) error {
	metric := r.PathValue("id")
	r.Body = http.MaxBytesReader(w, r.Body, maxMetricUpload)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return web.metricFormDone(w, r, metric, "", northstar.FieldError("file", "Choose a CSV file to upload."), northstar.MetricInput{})
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return web.metricFormDone(w, r, metric, "", northstar.FieldError("file", "The upload cannot be read."), northstar.MetricInput{})
	}
	var res *northstar.PointsResult
	back := ""
	for res == nil && err == nil {
		part, perr := mr.NextPart()
		if errors.Is(perr, io.EOF) {
			break
		}
		if perr != nil {
			err = northstar.FieldError("file", "The upload cannot be read.")
			break
		}
		switch part.FormName() {
		case "back":
			b, _ := io.ReadAll(io.LimitReader(part, 300))
			back = string(b)
		case "file":
			res, err = web.app.ImportMetricCSV(r.Context(), r.PathValue("key"), metric, part)
		}
	}
	if res == nil && err == nil {
		err = northstar.FieldError("file", "Choose a CSV file to upload.")
	}
	// The form's fields are read from the stream, not the parsed form.
	r.Form = map[string][]string{"back": {back}}
	if err != nil {
		return web.metricFormDone(w, r, metric, "", err, northstar.MetricInput{})
	}
	return web.metricFormDone(w, r, metric, pointsFlash(res), nil, northstar.MetricInput{})
}

// metricNum writes a value for people: thousands separated, at most two
// decimals.
func metricNum(v float64) string {
	neg := v < 0
	v = math.Abs(v)
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if v >= 100 {
		s = strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	} else if strings.Contains(s, ".") {
		s = strconv.FormatFloat(v, 'f', 2, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// Chart geometry.
const (
	mcW, mcH                      = 720.0, 260.0
	mcLeft, mcRight, mcTop, mcBot = 56.0, 12.0, 14.0, 28.0
)

// metricChart draws the series as a line over the lifecycle stages
// shaded behind it. Long series are drawn by week (the mean of each
// week), which keeps five years of daily values to some 260 points.
func metricChart(s *app.MetricSeries) template.HTML {
	ps := s.Points
	if len(ps) == 0 {
		return template.HTML(`<p class="muted">No points yet: add one, upload a CSV of date,value rows, or push them through the API.</p>`)
	}
	type pt struct {
		t time.Time
		v float64
	}
	var line []pt
	if len(ps) > 180 {
		weekly := northstar.WeeklyMeans(ps)
		for i, v := range weekly {
			line = append(line, pt{ps[0].Date.AddDate(0, 0, 7*i), v})
		}
	} else {
		for _, p := range ps {
			line = append(line, pt{p.Date.Time, p.Value})
		}
	}
	// The plot runs to the end of the last day, so a stage entered that
	// day still shows.
	t0, t1 := ps[0].Date.Time, ps[len(ps)-1].Date.AddDate(0, 0, 1)
	lo, hi := 0.0, 0.0
	for _, p := range line {
		lo, hi = math.Min(lo, p.v), math.Max(hi, p.v)
	}
	if hi == lo {
		hi = lo + 1
	}
	step := sprintNiceStep(hi - lo)
	hi = math.Ceil(hi/step) * step
	lo = math.Floor(lo/step) * step
	plotW, plotH := mcW-mcLeft-mcRight, mcH-mcTop-mcBot
	x := func(t time.Time) float64 { return mcLeft + plotW*t.Sub(t0).Hours()/t1.Sub(t0).Hours() }
	y := func(v float64) float64 { return mcTop + plotH*(1-(v-lo)/(hi-lo)) }
	var b strings.Builder
	unit := s.Metric.Unit
	fmt.Fprintf(&b, `<svg class="metric-chart" viewBox="0 0 %g %g" role="img" aria-labelledby="mc-title"><title id="mc-title">%s from %s to %s, latest %s %s, with the lifecycle stages behind it</title>`,
		mcW, mcH, scEsc(s.Metric.Name), t0.Format("2 Jan 2006"), ps[len(ps)-1].Date.Format("2 Jan 2006"), metricNum(ps[len(ps)-1].Value), scEsc(unit))
	// Stages behind the curve.
	for _, per := range s.Periods {
		start, end := per.Start, per.End
		if end.IsZero() || end.After(t1) {
			end = t1
		}
		if start.Before(t0) {
			start = t0
		}
		if !end.After(start) {
			continue
		}
		x0, x1 := x(start), x(end)
		fmt.Fprintf(&b, `<rect class="stage-band stage-%s" x="%.1f" y="%g" width="%.1f" height="%g"><title>%s from %s</title></rect>`,
			per.Stage, x0, mcTop, x1-x0, plotH, per.Stage.Label(), per.Start.Format("2 Jan 2006"))
		if x1-x0 > 50 {
			fmt.Fprintf(&b, `<text class="stage-band-label" x="%.1f" y="%g">%s</text>`, x0+4, mcTop+12, per.Stage.Label())
		}
	}
	// Value gridlines.
	for v := lo; v <= hi+step/2; v += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/><text class="axis" x="%g" y="%.1f" text-anchor="end">%s</text>`,
			mcLeft, mcW-mcRight, y(v), y(v), mcLeft-6, y(v)+4, metricNum(v))
	}
	// Year or month ticks.
	for _, tick := range metricTicks(t0, t1) {
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%g" text-anchor="middle">%s</text>`, x(tick.t), mcH-8, tick.label)
	}
	var pts strings.Builder
	for i, p := range line {
		if i > 0 {
			pts.WriteByte(' ')
		}
		fmt.Fprintf(&pts, "%.1f,%.1f", x(p.t), y(p.v))
	}
	fmt.Fprintf(&b, `<polyline class="metric-line" points="%s"/>`, pts.String())
	last := line[len(line)-1]
	fmt.Fprintf(&b, `<circle class="metric-last" cx="%.1f" cy="%.1f" r="3.5"><title>%s %s</title></circle>`, x(last.t), y(last.v), metricNum(last.v), scEsc(unit))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type metricTick struct {
	t     time.Time
	label string
}

// metricTicks labels the time axis: months for a short series, years for
// a long one.
func metricTicks(t0, t1 time.Time) []metricTick {
	var out []metricTick
	months := int(t1.Sub(t0).Hours() / 24 / 30)
	every := 1
	switch {
	case months > 36:
		every = 12
	case months > 18:
		every = 6
	case months > 8:
		every = 2
	}
	t := time.Date(t0.Year(), t0.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	if every == 12 {
		t = time.Date(t0.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for ; t.Before(t1); t = t.AddDate(0, every, 0) {
		label := t.Format("Jan")
		if t.Month() == 1 || every == 12 {
			label = t.Format("2006")
		}
		out = append(out, metricTick{t, label})
	}
	return out
}
