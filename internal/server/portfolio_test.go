package server_test

// Portfolio and outcomes: product metrics (definitions, points pushed by
// a daily job or uploaded as CSV, the lifecycle suggestion) on both
// engines, with the bad-input table of the issue.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar/internal/mailtest"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
)

func init() {
	// The GET walk opens the metrics page and series of a metric.
	walkSeeders = append(walkSeeders, func(t *testing.T, e *env, tm *team, seed *walkSeed) {
		t.Helper()
		tm.pm.post(t, "/api/v1/products/BOOK/metrics", map[string]string{"name": "Sales", "unit": "books"}).want(t, http.StatusCreated)
		tm.pm.post(t, "/api/v1/products/BOOK/metrics/sales/points", map[string]any{"points": []map[string]any{{"date": "2026-01-02", "value": 3}}}).want(t, http.StatusOK)
		seed.ids["metrics"] = "sales"
	})
}

type metricJSON struct {
	Key       string  `json:"key"`
	Name      string  `json:"name"`
	Unit      string  `json:"unit"`
	Direction string  `json:"direction"`
	Points    int     `json:"points"`
	Last      string  `json:"last"`
	LastValue float64 `json:"last_value"`
}

type pointsResultJSON struct {
	Inserted int      `json:"inserted"`
	Updated  int      `json:"updated"`
	Notes    []string `json:"notes"`
}

type seriesJSON struct {
	Metric metricJSON `json:"metric"`
	Points []struct {
		Date  string  `json:"date"`
		Value float64 `json:"value"`
	} `json:"points"`
	Stages     []map[string]any `json:"stages"`
	Suggestion struct {
		Stage     string `json:"stage"`
		Reason    string `json:"reason"`
		Recorded  string `json:"recorded"`
		Disagrees bool   `json:"disagrees"`
	} `json:"suggestion"`
}

// salesYear is a year of daily sales ending yesterday, rising and
// accelerating (the early part of an S-curve), as CSV with a header.
func salesYear(unit string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "date,value (%s)\n", unit)
	end := time.Now().UTC().AddDate(0, 0, -1)
	for i := 364; i >= 0; i-- {
		d := end.AddDate(0, 0, -i)
		day := float64(364 - i)
		v := 10000 / (1 + math.Exp(-(day-540)/60))
		// A weekly rhythm, so the curve is not too smooth.
		v *= 1 + 0.05*math.Sin(day*2*math.Pi/7)
		fmt.Fprintf(&b, "%s,%.1f\n", d.Format("2006-01-02"), v)
	}
	return b.String()
}

func TestMetrics(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.pm.changeStage(t, "BOOK", "introduction", "")
		base := "/api/v1/products/BOOK/metrics"

		// Defining: product managers only; members read.
		var m metricJSON
		tm.pm.post(t, base, map[string]string{"name": "Sales", "unit": "books"}).want(t, http.StatusCreated).decode(t, &m)
		if m.Key != "sales" || m.Direction != "up" {
			t.Errorf("created %+v, want key sales going up", m)
		}
		tm.pm.post(t, base, map[string]string{"name": "Sales again", "key": "sales"}).wantError(t, http.StatusConflict, northstar.ECONFLICT, "key")
		tm.pm.post(t, base, map[string]string{"name": "Churn", "unit": "%", "direction": "sideways"}).wantError(t, http.StatusBadRequest, northstar.EINVALID, "direction")
		tm.po.post(t, base, map[string]string{"name": "Revenue"}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		tm.outsider.get(t, base).wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.viewer.get(t, base).want(t, http.StatusOK)

		// A daily job pushes points with a token.
		points := base + "/sales/points"
		var res pointsResultJSON
		tm.pm.post(t, points, map[string]any{"points": []map[string]any{
			{"date": "2026-01-01", "value": 10}, {"date": "2026-01-02", "value": 12.5}, {"date": "2026-01-01", "value": 11},
		}}).want(t, http.StatusOK).decode(t, &res)
		if res.Inserted != 2 || res.Updated != 0 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "row 3 repeats 2026-01-01") {
			t.Errorf("first push = %+v, want 2 inserted and a note on row 3", res)
		}
		// Pushing the same day again updates it, and says so.
		tm.pm.post(t, points, map[string]any{"points": []map[string]any{{"date": "2026-01-02", "value": 13}, {"date": "2026-01-03", "value": 14}}}).
			want(t, http.StatusOK).decode(t, &res)
		if res.Inserted != 1 || res.Updated != 1 || len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "2026-01-02") {
			t.Errorf("second push = %+v, want 1 inserted, 1 updated and a note naming 2026-01-02", res)
		}
		var s seriesJSON
		tm.viewer.get(t, base+"/sales").want(t, http.StatusOK).decode(t, &s)
		if len(s.Points) != 3 || s.Points[0].Value != 11 || s.Points[1].Value != 13 {
			t.Errorf("series = %+v, want 11, 13, 14", s.Points)
		}
		if s.Suggestion.Stage != "" || !strings.Contains(s.Suggestion.Reason, "Not enough data") {
			t.Errorf("suggestion on 3 days = %+v", s.Suggestion)
		}

		// Bad input: a clear 4xx naming the row and field, nothing written.
		tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
		csvHeader := []string{"Content-Type", "text/csv"}
		bad := []struct {
			name    string
			who     *client
			path    string
			body    any
			headers []string
			status  int
			code    string
			field   string
			message string
		}{
			{"future date", tm.pm, points, map[string]any{"points": []map[string]any{{"date": "2026-01-04", "value": 1}, {"date": tomorrow, "value": 2}}}, nil, 400, northstar.EINVALID, "points.1.date", "row 2: date " + tomorrow + " is in the future"},
			{"not a date", tm.pm, points, map[string]any{"points": []map[string]any{{"date": "04/01/2026", "value": 1}}}, nil, 400, northstar.EINVALID, "points.0.date", "row 1"},
			{"non-numeric value", tm.pm, points, `{"points":[{"date":"2026-01-04","value":"lots"}]}`, nil, 400, northstar.EINVALID, "points.0.value", ""},
			{"missing value", tm.pm, points, map[string]any{"points": []map[string]any{{"date": "2026-01-04"}}}, nil, 400, northstar.EINVALID, "points.0.value", "row 1: value is required"},
			{"no points", tm.pm, points, map[string]any{"points": []any{}}, nil, 400, northstar.EINVALID, "points", ""},
			{"unknown metric", tm.pm, base + "/revenue/points", map[string]any{"points": []map[string]any{{"date": "2026-01-04", "value": 1}}}, nil, 404, northstar.ENOTFOUND, "", "revenue"},
			{"unknown metric CSV", tm.pm, base + "/revenue/points", "2026-01-04,1\n", csvHeader, 404, northstar.ENOTFOUND, "", "revenue"},
			{"CSV non-numeric", tm.pm, points, "date,value\n2026-01-04,1\n2026-01-05,abc\n", csvHeader, 400, northstar.EINVALID, "row 3.value", `row 3: value "abc" is not a number`},
			{"CSV future date", tm.pm, points, "2026-01-04,1\n" + tomorrow + ",2\n", csvHeader, 400, northstar.EINVALID, "row 2.date", "is in the future"},
			{"CSV other unit in header", tm.pm, points, "date,value (EUR)\n2026-01-04,1\n", csvHeader, 400, northstar.EINVALID, "row 1.unit", `the file's unit "eur" is not the metric's unit "books"`},
			{"CSV other unit in a row", tm.pm, points, "date,value,unit\n2026-01-04,1,books\n2026-01-05,2,EUR\n", csvHeader, 400, northstar.EINVALID, "row 3.unit", `row 3: unit "EUR"`},
			{"CSV short row", tm.pm, points, "2026-01-04,1\n2026-01-05\n", csvHeader, 400, northstar.EINVALID, "row 2.value", "row 2: expected date,value"},
			{"CSV empty", tm.pm, points, "date,value\n", csvHeader, 400, northstar.EINVALID, "file", ""},
			{"developer pushes", tm.dev, points, map[string]any{"points": []map[string]any{{"date": "2026-01-04", "value": 1}}}, nil, 403, northstar.EFORBIDDEN, "", ""},
			{"outsider pushes", tm.outsider, points, map[string]any{"points": []map[string]any{{"date": "2026-01-04", "value": 1}}}, nil, 404, northstar.ENOTFOUND, "", ""},
			{"series: bad from", tm.viewer, base + "/sales?from=yesterday", nil, nil, 400, northstar.EINVALID, "from", ""},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				before := e.snapshot(t)
				var r *response
				if strings.Contains(tt.path, "?") {
					r = tt.who.get(t, tt.path)
				} else {
					r = tt.who.do(t, "POST", tt.path, tt.body, tt.headers...)
				}
				got := r.wantError(t, tt.status, tt.code, tt.field)
				if tt.message != "" && !strings.Contains(got.Message, tt.message) {
					t.Errorf("message = %q, want it to contain %q", got.Message, tt.message)
				}
				e.wantUnchanged(t, before, tt.name)
			})
		}

		// A year of sales as CSV: the curve suggests growth, which the
		// recorded stage (introduction) disagrees with. The stage stays.
		tm.pm.post(t, base, map[string]string{"name": "Books sold", "key": "books-sold", "unit": "books"}).want(t, http.StatusCreated)
		tm.pm.do(t, "POST", base+"/books-sold/points", salesYear("books"), csvHeader...).want(t, http.StatusOK).decode(t, &res)
		if res.Inserted != 365 || res.Updated != 0 {
			t.Errorf("year upload = %+v, want 365 inserted", res)
		}
		tm.viewer.get(t, base+"/books-sold").want(t, http.StatusOK).decode(t, &s)
		if s.Suggestion.Stage != "growth" || !s.Suggestion.Disagrees || s.Suggestion.Recorded != "introduction" {
			t.Errorf("suggestion = %+v, want growth disagreeing with introduction", s.Suggestion)
		}
		if !strings.Contains(s.Suggestion.Reason, "12-week growth rate") {
			t.Errorf("reason = %q", s.Suggestion.Reason)
		}
		if len(s.Stages) != 2 {
			t.Errorf("stages = %d, want the history of 2", len(s.Stages))
		}
		if p := tm.pm.getProduct(t, "BOOK"); p.Stage != "introduction" {
			t.Errorf("stage = %s; a suggestion must not change it", p.Stage)
		}
		// Uploading the same year again updates every day.
		tm.pm.do(t, "POST", base+"/books-sold/points", salesYear("books"), csvHeader...).want(t, http.StatusOK).decode(t, &res)
		if res.Inserted != 0 || res.Updated != 365 {
			t.Errorf("second upload = %+v, want 365 updated", res)
		}
		var list struct{ Items []metricJSON }
		tm.viewer.get(t, base).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 2 || list.Items[0].Key != "books-sold" || list.Items[0].Points != 365 {
			t.Errorf("metrics = %+v", list.Items)
		}
		s.Points = nil
		tm.viewer.get(t, base+"/books-sold?from="+time.Now().UTC().AddDate(0, 0, -7).Format("2006-01-02")).want(t, http.StatusOK).decode(t, &s)
		if len(s.Points) != 7 || s.Suggestion.Stage != "growth" {
			t.Errorf("last week: %d points, suggestion %q; want 7 and the whole series' growth", len(s.Points), s.Suggestion.Stage)
		}
	})
}

// The metrics section in the browser: the product page loads it, a PM
// uploads a CSV and adds a point through forms, bad files are shown with
// the row and nothing written.
func TestMetricsPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.pm.changeStage(t, "BOOK", "introduction", "")
		pm := e.login(t, "pm@example.com")
		viewer := e.login(t, "viewer@example.com")

		page := pm.get(t, "/products/BOOK").want(t, http.StatusOK)
		if !strings.Contains(string(page.body), `hx-get="/products/BOOK/metrics?section=1"`) {
			t.Error("the product page does not load the metrics section")
		}
		pm.post(t, "/products/BOOK/metrics", url.Values{"name": {"Sales"}, "unit": {"books"}}).want(t, http.StatusSeeOther)
		pm.post(t, "/products/BOOK/metrics", url.Values{"name": {""}}).want(t, http.StatusBadRequest)

		upload := func(c *client, csv string) *response {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			mw.WriteField("back", "/products/BOOK")
			fw, _ := mw.CreateFormFile("file", "sales.csv")
			fw.Write([]byte(csv))
			mw.Close()
			return c.post(t, "/products/BOOK/metrics/sales/upload", body.Bytes(), "Content-Type", mw.FormDataContentType())
		}
		before := e.snapshot(t)
		res := upload(pm, "date,value\n2026-01-01,5\n2026-01-02,five\n")
		res.want(t, http.StatusBadRequest)
		if !strings.Contains(string(res.body), "row 3: value &#34;five&#34; is not a number") {
			t.Errorf("bad upload page does not name row 3: %s", short(res.body))
		}
		e.wantUnchanged(t, before, "a bad upload")
		res = upload(pm, salesYear("books")).want(t, http.StatusSeeOther)
		if loc := res.header.Get("Location"); loc != "/products/BOOK" {
			t.Errorf("upload went to %q, want back to the product", loc)
		}
		upload(viewer, "2026-01-01,5\n").want(t, http.StatusForbidden)
		pm.post(t, "/products/BOOK/metrics/sales/points", url.Values{"date": {time.Now().UTC().Format("2006-01-02")}, "value": {"4200"}}).want(t, http.StatusSeeOther)
		pm.post(t, "/products/BOOK/metrics/sales/points", url.Values{"date": {"2026-01-01"}, "value": {"x"}}).want(t, http.StatusBadRequest)

		section := string(viewer.get(t, "/products/BOOK/metrics?section=1").want(t, http.StatusOK).body)
		for _, want := range []string{`class="metric-chart"`, `class="stage-band stage-introduction"`, `id="stage-suggestion"`, "The curve looks like", "12-week growth rate", "Introduction"} {
			if !strings.Contains(section, want) {
				t.Errorf("metrics section lacks %q", want)
			}
		}
		if strings.Contains(section, `id="metric-upload"`) {
			t.Error("a viewer sees the upload form")
		}
		full := string(pm.get(t, "/products/BOOK/metrics").want(t, http.StatusOK).body)
		if !strings.Contains(full, `id="metric-upload"`) || !strings.Contains(full, `id="define-metric"`) {
			t.Error("the PM's metrics page lacks its forms")
		}
	})
}

// alignmentFixture builds, through the use cases, a team on BOOK with a
// closed sprint (aligned 5 + orphan 3 done, 2 carried back), an active
// sprint (8 aligned, 1 orphan through a feature without objectives) and a
// planned one (empty).
func alignmentFixture(t *testing.T, e *env, tm *team) {
	t.Helper()
	ctx := context.Background()
	pm, err := e.app.UserByToken(ctx, tm.pm.token)
	if err != nil {
		t.Fatal(err)
	}
	as := northstar.NewContextWithUser(ctx, pm)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	day := func(n int) northstar.Date {
		now := time.Now().UTC()
		return northstar.Date{Time: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)}
	}
	obj, err := e.app.CreateObjective(as, "BOOK", northstar.ObjectiveInput{Title: "Shops stock without counting", Start: day(-30), End: day(60)})
	must(err)
	str := func(s string) *string { return &s }
	served, err := e.app.CreateFeature(as, "BOOK", northstar.FeatureInput{Title: str("Barcode scanning"), Objectives: &[]int64{obj.ID}})
	must(err)
	unserved, err := e.app.CreateFeature(as, "BOOK", northstar.FeatureInput{Title: str("Dark mode")})
	must(err)
	team, err := e.app.CreateTeam(as, northstar.TeamInput{Name: "Alignment", Products: []string{"BOOK"}})
	must(err)
	story := func(title, feature string, points int) string {
		s, err := e.app.CreateStory(as, "BOOK", northstar.NewStory{Title: title, Points: &points, Feature: feature})
		must(err)
		return s.Ref
	}
	scan := story("Scan a barcode", served.Ref, 5)
	chore := story("Upgrade the database driver", "", 3)
	carried := story("Scan in bulk", served.Ref, 2)
	closed, err := e.app.CreateSprint(as, team.ID, northstar.SprintInput{Name: "Sprint A", Start: day(-14), End: day(-1)})
	must(err)
	_, err = e.app.AddToSprint(as, closed.ID, []string{scan, chore, carried})
	must(err)
	_, err = e.app.StartSprint(as, closed.ID)
	must(err)
	done := northstar.StatusDone
	for _, ref := range []string{scan, chore} {
		_, err = e.app.UpdateStory(as, ref, 0, northstar.StoryUpdate{Status: &done})
		must(err)
	}
	_, _, err = e.app.CloseSprint(as, closed.ID, northstar.CloseSprint{Carry: northstar.CarryToBacklog})
	must(err)
	active, err := e.app.CreateSprint(as, team.ID, northstar.SprintInput{Name: "Sprint B", Start: day(0), End: day(13)})
	must(err)
	_, err = e.app.AddToSprint(as, active.ID, []string{story("Scan with the phone", served.Ref, 8), story("Dark toolbar", unserved.Ref, 1)})
	must(err)
	_, err = e.app.StartSprint(as, active.ID)
	must(err)
	_, err = e.app.CreateSprint(as, team.ID, northstar.SprintInput{Name: "Sprint C", Start: day(14), End: day(27)})
	must(err)
}

type alignmentJSON struct {
	Product   string `json:"product"`
	Delivered struct {
		Points, Aligned int
		Share           float64
	} `json:"delivered"`
	Planned struct {
		Points, Aligned int
		Share           float64
	} `json:"planned"`
	ByProduct []struct {
		Product string `json:"product"`
	} `json:"by_product"`
	Closed   []struct{ Name string } `json:"closed_sprints"`
	Upcoming []struct{ Name string } `json:"upcoming_sprints"`
	Orphans  []struct {
		Ref     string `json:"ref"`
		Points  int    `json:"points"`
		Feature string `json:"feature"`
		Sprint  string `json:"sprint"`
	} `json:"orphans"`
}

func TestAlignment(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.admin.createProduct(t, "EBOOK", "Ebook subscriptions")
		alignmentFixture(t, e, tm)

		var al alignmentJSON
		tm.viewer.get(t, "/api/v1/products/BOOK/alignment").want(t, http.StatusOK).decode(t, &al)
		if al.Delivered.Points != 8 || al.Delivered.Aligned != 5 || math.Abs(al.Delivered.Share-5.0/8) > 1e-9 {
			t.Errorf("delivered = %+v, want 5 of 8", al.Delivered)
		}
		if al.Planned.Points != 9 || al.Planned.Aligned != 8 {
			t.Errorf("planned = %+v, want 8 of 9", al.Planned)
		}
		if len(al.Closed) != 1 || len(al.Upcoming) != 2 {
			t.Errorf("sprints: closed %v, upcoming %v; want A, and B and C", al.Closed, al.Upcoming)
		}
		if len(al.Orphans) != 2 || al.Orphans[0].Points != 3 || al.Orphans[0].Feature != "" || al.Orphans[1].Feature == "" || al.Orphans[0].Sprint != "Sprint A" {
			t.Errorf("orphans = %+v, want the 3-point chore then the 1-point dark toolbar", al.Orphans)
		}
		// The company: the admin sees BOOK (EBOOK has no sprints); the
		// outsider sees nothing.
		tm.admin.get(t, "/api/v1/alignment").want(t, http.StatusOK).decode(t, &al)
		if al.Delivered.Points != 8 || len(al.ByProduct) != 1 || al.ByProduct[0].Product != "BOOK" {
			t.Errorf("company = %+v", al)
		}
		al = alignmentJSON{}
		tm.outsider.get(t, "/api/v1/alignment").want(t, http.StatusOK).decode(t, &al)
		if al.Delivered.Points != 0 || len(al.Orphans) != 0 || len(al.Closed) != 0 {
			t.Errorf("an outsider sees %+v", al)
		}
		tm.outsider.get(t, "/api/v1/products/BOOK/alignment").wantError(t, http.StatusNotFound, northstar.ENOTFOUND, "")
		tm.viewer.get(t, "/api/v1/products/BOOK/alignment?sprints=0").wantError(t, http.StatusBadRequest, northstar.EINVALID, "sprints")
		tm.viewer.get(t, "/api/v1/alignment?sprints=101").wantError(t, http.StatusBadRequest, northstar.EINVALID, "sprints")

		// The pages.
		viewer := e.login(t, "viewer@example.com")
		page := string(viewer.get(t, "/products/BOOK/alignment").want(t, http.StatusOK).body)
		for _, want := range []string{"63 %", "89 %", "Upgrade the database driver", "No feature", "serves no objective"} {
			if !strings.Contains(page, want) {
				t.Errorf("product alignment page lacks %q", want)
			}
		}
		page = string(e.login(t, "ada@example.com").get(t, "/alignment?sprints=3").want(t, http.StatusOK).body)
		if !strings.Contains(page, `id="alignment-products"`) || !strings.Contains(page, "63 %") {
			t.Error("company alignment page lacks the product table")
		}
	})
}

type releaseLoopJSON struct {
	Feature  string `json:"feature"`
	Released bool   `json:"released"`
	Note     string `json:"release_note"`
	Told     struct {
		InApp        int `json:"in_app"`
		Mailed       int `json:"mailed"`
		Pending      int `json:"pending"`
		Failed       int `json:"failed"`
		Unsubscribed int `json:"unsubscribed"`
	} `json:"told"`
}

// mailTo finds the message to an address.
func mailTo(msgs []string, addr string) string {
	for _, m := range msgs {
		if strings.Contains(m, "To: "+addr+"\r\n") && strings.Contains(m, "Subject: Shipped: ") {
			return m
		}
	}
	return ""
}

// Closing the loop: releasing a feature tells the people who asked for
// it, once; an unsubscribed address is not mailed again.
func TestReleaseLoop(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		sink := mailtest.Start(t)
		e.app.Mail = &app.MailConfig{Addr: sink.Addr, From: "northstar@example.com", BaseURL: e.url}
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")

		// A customer's interview (captured by the stakeholder) asks for
		// two ideas; a portal idea with two more votes asks for both too.
		var ana struct{ ID int64 }
		tm.stakeholder.post(t, "/api/v1/customers", map[string]any{"name": "Ana Books", "email": "ana@anabooks.example"}).want(t, http.StatusCreated).decode(t, &ana)
		tm.stakeholder.post(t, "/api/v1/products/BOOK/feedback", map[string]any{"source": "interview", "text": "Reorder before the weekend; scan on my phone.", "customer_id": ana.ID}).want(t, http.StatusCreated)
		var fbs []struct {
			ID     int64  `json:"id"`
			Source string `json:"source"`
		}
		tm.pm.put(t, "/api/v1/products/BOOK/portal", map[string]any{"enabled": true}).want(t, http.StatusOK)
		var rc struct{ Idea struct{ ID int64 } }
		e.anon().post(t, "/api/v1/portal/BOOK/ideas", map[string]string{"title": "Reorder alerts", "body": "Please", "name": "Night Reader", "email": "reader@example.com"}).want(t, http.StatusCreated).decode(t, &rc)
		for _, v := range []string{"fan@example.com", "second.fan@example.com"} {
			e.anon().post(t, fmt.Sprintf("/api/v1/portal/BOOK/ideas/%d/votes", rc.Idea.ID), map[string]string{"email": v}).want(t, http.StatusCreated)
		}
		fbs = list[struct {
			ID     int64  `json:"id"`
			Source string `json:"source"`
		}](t, tm.pm, "/api/v1/products/BOOK/feedback")
		reorder := tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Reorder suggestions"})
		scan := tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Phone scanning"})
		for _, fb := range fbs {
			for _, f := range []string{reorder.Ref, scan.Ref} {
				tm.pm.post(t, fmt.Sprintf("/api/v1/products/BOOK/feedback/%d/insights", fb.ID), map[string]string{"feature": f}).want(t, http.StatusCreated)
			}
		}

		// The note, then the release by status.
		note := "Northstar now suggests what to reorder every Friday morning."
		tm.dev.put(t, "/api/v1/features/"+reorder.Ref+"/release-note", map[string]string{"release_note": "x"}).wantError(t, http.StatusForbidden, northstar.EFORBIDDEN, "")
		var loop releaseLoopJSON
		tm.pm.put(t, "/api/v1/features/"+reorder.Ref+"/release-note", map[string]string{"release_note": note}).want(t, http.StatusOK).decode(t, &loop)
		if loop.Note != note || loop.Released || loop.Told.InApp+loop.Told.Mailed != 0 {
			t.Errorf("before release: %+v", loop)
		}
		// The portal author was asked to confirm the address; nothing else.
		if n := len(sink.WaitFor(t, 1)); n != 1 {
			t.Fatalf("%d mails before the release, want the confirmation only", n)
		}
		tm.pm.patch(t, "/api/v1/features/"+reorder.Ref, map[string]string{"status": "released"}).want(t, http.StatusOK)
		msgs := sink.WaitFor(t, 5)
		for _, to := range []string{"ana@anabooks.example", "reader@example.com", "fan@example.com", "second.fan@example.com"} {
			m := mailTo(msgs, to)
			if m == "" || !strings.Contains(m, "Subject: Shipped: Reorder suggestions") || !strings.Contains(m, note) || !strings.Contains(m, e.url+"/unsubscribe/un_") {
				t.Errorf("mail to %s = %q", to, m)
			}
		}
		// Every try is recorded; wait for the last one.
		deadline := time.Now().Add(5 * time.Second)
		for loop.Told.Mailed < 4 && time.Now().Before(deadline) {
			tm.viewer.get(t, "/api/v1/features/"+reorder.Ref+"/release-loop").want(t, http.StatusOK).decode(t, &loop)
			time.Sleep(20 * time.Millisecond)
		}
		if !loop.Released || loop.Told.Mailed != 4 || loop.Told.InApp != 1 || loop.Told.Pending+loop.Told.Failed != 0 {
			t.Errorf("after release: %+v, want 4 mailed and the stakeholder in the app", loop)
		}
		var notes struct {
			Items []struct {
				Activity struct {
					Action string `json:"action"`
					Ref    string `json:"ref"`
				} `json:"activity"`
			} `json:"items"`
		}
		tm.stakeholder.get(t, "/api/v1/notifications").want(t, http.StatusOK).decode(t, &notes)
		found := false
		for _, n := range notes.Items {
			found = found || n.Activity.Action == "announced"
		}
		if !found {
			t.Errorf("the stakeholder's notifications lack the release: %s", short(tm.stakeholder.get(t, "/api/v1/notifications").body))
		}
		// A later edit tells nobody again.
		tm.pm.patch(t, "/api/v1/features/"+reorder.Ref, map[string]string{"problem": "Counting by hand"}).want(t, http.StatusOK)

		// The fan unsubscribes through the link (GET asks, POST does).
		m := mailTo(msgs, "fan@example.com")
		i := strings.Index(m, "/unsubscribe/")
		link := strings.TrimSpace(m[i : i+strings.IndexAny(m[i:], "\r\n")])
		if !strings.Contains(string(e.anon().get(t, link).want(t, http.StatusOK).body), `id="unsubscribe"`) {
			t.Error("the unsubscribe page has no button")
		}
		if !strings.Contains(string(e.anon().post(t, link, url.Values{}).want(t, http.StatusOK).body), "fan@example.com will get no more mail") {
			t.Error("unsubscribing does not say so")
		}
		e.anon().post(t, "/unsubscribe/un_unknown", url.Values{}).want(t, http.StatusNotFound)

		// Shipping a release with the second feature: three mails, the
		// fan counted as unsubscribed.
		var rel struct{ ID int64 }
		tm.pm.post(t, "/api/v1/products/BOOK/releases", map[string]any{"name": "Spring", "status": "planned"}).want(t, http.StatusCreated).decode(t, &rel)
		tm.pm.patch(t, "/api/v1/features/"+scan.Ref, map[string]any{"release_id": rel.ID}).want(t, http.StatusOK)
		tm.pm.post(t, fmt.Sprintf("/api/v1/products/BOOK/releases/%d/ship", rel.ID), nil).want(t, http.StatusOK)
		msgs = sink.WaitFor(t, 8)
		time.Sleep(200 * time.Millisecond)
		if n := len(sink.Messages()); n != 8 {
			t.Errorf("%d messages after the second release, want 8", n)
		}
		for _, m := range msgs[5:] {
			if strings.Contains(m, "To: fan@example.com\r\n") {
				t.Error("the unsubscribed fan was mailed")
			}
		}
		deadline = time.Now().Add(5 * time.Second)
		for loop = (releaseLoopJSON{}); loop.Told.Mailed < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			tm.viewer.get(t, "/api/v1/features/"+scan.Ref+"/release-loop").want(t, http.StatusOK).decode(t, &loop)
		}
		if loop.Told.Mailed != 3 || loop.Told.Unsubscribed != 1 || loop.Told.InApp != 1 {
			t.Errorf("second release: %+v", loop)
		}

		// The feature page's card says how many were told.
		card := string(e.login(t, "viewer@example.com").get(t, "/products/BOOK/features/"+reorder.Ref+"/release-loop?section=1").want(t, http.StatusOK).body)
		if !strings.Contains(card, "<strong>5</strong> people were told") {
			t.Errorf("release card: %s", short([]byte(card)))
		}
	})
}

// The portfolio: the stage board with the curve's hint, the roadmap and
// objectives across products, and what shipped this month with its
// Markdown; each person sees only the products they may read.
func TestPortfolio(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tm := e.newTeam(t)
		tm.product(t, "BOOK", "Book inventory")
		tm.pm.changeStage(t, "BOOK", "introduction", "")
		tm.admin.createProduct(t, "EBOOK", "Ebook subscriptions")
		tm.pm.post(t, "/api/v1/products/BOOK/metrics", map[string]string{"name": "Sales", "unit": "books"}).want(t, http.StatusCreated)
		tm.pm.do(t, "POST", "/api/v1/products/BOOK/metrics/sales/points", salesYear("books"), "Content-Type", "text/csv").want(t, http.StatusOK)
		planned := tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Reorder suggestions", "horizon": "now"})
		shipped := tm.pm.createFeature(t, "BOOK", map[string]any{"title": "Barcode *scanning*"})
		tm.pm.put(t, "/api/v1/features/"+shipped.Ref+"/release-note", map[string]string{"release_note": "Scan with\nany phone."}).want(t, http.StatusOK)
		tm.pm.patch(t, "/api/v1/features/"+shipped.Ref, map[string]string{"status": "released"}).want(t, http.StatusOK)

		var pf struct {
			Board []struct {
				Stage    string
				Products []struct {
					Key            string
					SuggestedStage string `json:"suggested_stage"`
					Disagrees      bool
				}
			}
			Roadmap []struct{ Ref, Horizon string }
		}
		tm.viewer.get(t, "/api/v1/portfolio").want(t, http.StatusOK).decode(t, &pf)
		if len(pf.Board) != 7 || pf.Board[2].Stage != "introduction" || len(pf.Board[2].Products) != 1 {
			t.Fatalf("board = %+v", pf.Board)
		}
		if p := pf.Board[2].Products[0]; p.Key != "BOOK" || p.SuggestedStage != "growth" || !p.Disagrees {
			t.Errorf("BOOK on the board = %+v, want the curve's growth against introduction", p)
		}
		if len(pf.Board[0].Products) != 0 {
			t.Errorf("the viewer sees EBOOK: %+v", pf.Board[0])
		}
		if len(pf.Roadmap) != 1 || pf.Roadmap[0].Ref != planned.Ref || pf.Roadmap[0].Horizon != "now" {
			t.Errorf("roadmap = %+v", pf.Roadmap)
		}
		tm.admin.get(t, "/api/v1/portfolio").want(t, http.StatusOK).decode(t, &pf)
		if len(pf.Board[0].Products) != 1 || pf.Board[0].Products[0].Key != "EBOOK" {
			t.Errorf("the admin's conceived column = %+v", pf.Board[0])
		}

		var d struct {
			Month    string
			Markdown string
			Features []struct{ Ref, Note string }
		}
		tm.viewer.get(t, "/api/v1/portfolio/shipped").want(t, http.StatusOK).decode(t, &d)
		if d.Month != time.Now().UTC().Format("2006-01") || len(d.Features) != 1 || d.Features[0].Ref != shipped.Ref {
			t.Errorf("digest = %+v", d)
		}
		if !strings.Contains(d.Markdown, "## Book inventory") || !strings.Contains(d.Markdown, `**Barcode \*scanning\***`) || !strings.Contains(d.Markdown, "Scan with any phone.") {
			t.Errorf("markdown = %q", d.Markdown)
		}
		tm.viewer.get(t, "/api/v1/portfolio/shipped?month=2020-01").want(t, http.StatusOK).decode(t, &d)
		if len(d.Features) != 0 || !strings.Contains(d.Markdown, "Nothing shipped") {
			t.Errorf("January 2020 = %+v", d)
		}
		tm.viewer.get(t, "/api/v1/portfolio/shipped?month=soon").wantError(t, http.StatusBadRequest, northstar.EINVALID, "month")
		tm.outsider.get(t, "/api/v1/portfolio/shipped").want(t, http.StatusOK).decode(t, &d)
		if len(d.Features) != 0 {
			t.Errorf("an outsider sees %+v", d.Features)
		}

		viewer := e.login(t, "viewer@example.com")
		page := string(viewer.get(t, "/portfolio").want(t, http.StatusOK).body)
		for _, want := range []string{`id="stage-board"`, `data-stage="introduction"`, "curve: Growth", planned.Ref, `id="objectives-rollup"`} {
			if !strings.Contains(page, want) {
				t.Errorf("portfolio page lacks %q", want)
			}
		}
		page = string(viewer.get(t, "/portfolio/shipped").want(t, http.StatusOK).body)
		if !strings.Contains(page, shipped.Ref) || !strings.Contains(page, `id="shipped-markdown"`) {
			t.Error("the shipped page lacks the feature or the Markdown link")
		}
		res := viewer.get(t, "/portfolio/shipped.md").want(t, http.StatusOK)
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/markdown") || !strings.HasPrefix(string(res.body), "# What shipped in ") {
			t.Errorf("markdown export: %s %q", ct, short(res.body))
		}
	})
}
