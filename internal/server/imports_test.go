package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/importer"
	"github.com/northstar-pm/northstar/internal/store"
)

// importReport is the JSON shape of an import's answer.
type importReport struct {
	Product         string `json:"product"`
	DryRun          bool   `json:"dry_run"`
	Written         bool   `json:"written"`
	Rows            int    `json:"rows"`
	Items           int    `json:"items"`
	StoriesCreated  int    `json:"stories_created"`
	StoriesUpdated  int    `json:"stories_updated"`
	FeaturesCreated int    `json:"features_created"`
	FeaturesUpdated int    `json:"features_updated"`
	Comments        int    `json:"comments"`
	SprintsCreated  []string
	ReleasesCreated []string `json:"releases_created"`
	PeopleMatched   int      `json:"people_matched"`
	PeopleAsText    []string `json:"people_kept_as_text"`
	UnknownStatuses []struct {
		Value string `json:"value"`
		Count int    `json:"count"`
	} `json:"unknown_statuses"`
	Errors []struct {
		Line   int    `json:"line"`
		Column string `json:"column"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// jiraExport is a small "Export → CSV (all fields)" file: an epic, stories
// under it in two sprints, a bug with an unknown status, a sub-task, wiki
// markup, repeated columns and comments.
const jiraExport = `Summary,Issue key,Issue id,Issue Type,Status,Priority,Assignee,Reporter,Created,Updated,Description,Labels,Labels,Sprint,Sprint,Fix Version/s,Custom field (Story Points),Custom field (Epic Link),Parent id,Comment,Comment
Checkout,SHOP-1,10001,Epic,In Progress,High,,pm@example.com,01/Mar/24 9:00 AM,02/Mar/24 10:30 AM,Pay for things,,,,,1.0,,,,,
Pay by card,SHOP-2,10002,Story,To Do,Medium,dev@example.com,Olu Owner,12/Mar/24 3:04 PM,13/Mar/24 8:00 AM,"h2. Steps
* open *cart*
* pay",payments,web,Sprint 1,Sprint 2,1.0,5,SHOP-1,,"12/Mar/24 4:00 PM;po;Looks _good_","13/Mar/24 9:00 AM;jdoe;Done; really"
Card declined,SHOP-3,10003,Bug,Waiting for Vendor,Low,jdoe,,12/Mar/24 3:04 PM,12/Mar/24 3:04 PM,,,,Sprint 2,,,4,,,,
Write tests,SHOP-4,10004,Sub-task,Done,,,,12/Mar/24 3:04 PM,12/Mar/24 3:04 PM,,,,,,,,,10002,,
`

// importedStory is the part of a story the import tests read.
type importedStory struct {
	Ref         string   `json:"ref"`
	Title       string   `json:"title"`
	Type        string   `json:"type"`
	Status      string   `json:"status"`
	Points      *int     `json:"points"`
	Description string   `json:"description"`
	Labels      []string `json:"labels"`
	Feature     *struct {
		Title string `json:"title"`
	} `json:"feature"`
	Assignee *struct {
		Email string `json:"email"`
	} `json:"assignee"`
	SprintID  *int64 `json:"sprint_id"`
	CreatedAt string `json:"created_at"`
}

func (c *client) importCSV(t *testing.T, key, query, body string) *response {
	t.Helper()
	return c.post(t, "/api/v1/products/"+key+"/imports?"+query, body, "Content-Type", "text/csv")
}

func storyTitles(t *testing.T, c *client, key string) []string {
	t.Helper()
	var titles []string
	for _, s := range list[struct {
		Title string `json:"title"`
	}](t, c, "/api/v1/products/"+key+"/stories?limit=200") {
		titles = append(titles, s.Title)
	}
	sort.Strings(titles)
	return titles
}

func TestImportJira(t *testing.T) {
	forEachEngine(t, testImportJira)
}

func testImportJira(t *testing.T, e *env) {
	tm := e.newTeam(t)
	tm.product(t, "SHOP", "Shop")

	// Who may import: product managers, product owners and admins.
	tm.dev.importCSV(t, "SHOP", "", jiraExport).wantError(t, http.StatusForbidden, "forbidden", "")
	tm.outsider.importCSV(t, "SHOP", "", jiraExport).wantError(t, http.StatusNotFound, "not_found", "")
	e.anon().importCSV(t, "SHOP", "", jiraExport).want(t, http.StatusUnauthorized)

	// A dry run reports and writes nothing.
	before := e.snapshot(t)
	var dry importReport
	tm.po.importCSV(t, "SHOP", "dry_run=true&points_field=Story+Points", jiraExport).want(t, http.StatusOK).decode(t, &dry)
	e.wantUnchanged(t, before, "a dry run")
	if !dry.DryRun || dry.Written || dry.StoriesCreated != 3 || dry.FeaturesCreated != 1 || len(dry.ReleasesCreated) != 1 {
		t.Errorf("dry run report = %+v", dry)
	}
	if len(dry.UnknownStatuses) != 1 || dry.UnknownStatuses[0].Value != "Waiting for Vendor" {
		t.Errorf("unknown statuses = %+v", dry.UnknownStatuses)
	}

	var rep importReport
	tm.po.importCSV(t, "SHOP", "points_field=Story+Points&status_map=Waiting+for+Vendor%3Din_review", jiraExport).want(t, http.StatusOK).decode(t, &rep)
	if !rep.Written || rep.StoriesCreated != 3 || rep.FeaturesCreated != 1 || rep.Comments != 2 || len(rep.Errors) != 0 {
		t.Fatalf("report = %+v", rep)
	}
	if len(rep.UnknownStatuses) != 0 {
		t.Errorf("a mapped status is reported unknown: %+v", rep.UnknownStatuses)
	}
	// dev@example.com and "Olu Owner" are members; jdoe is not.
	if rep.PeopleMatched != 3 || strings.Join(rep.PeopleAsText, ",") != "jdoe" {
		t.Errorf("people matched %d, kept as text %v", rep.PeopleMatched, rep.PeopleAsText)
	}
	stories := list[importedStory](t, tm.pm, "/api/v1/products/SHOP/stories")
	if len(stories) != 3 {
		t.Fatalf("%d stories, want 3", len(stories))
	}
	card := stories[0]
	if card.Title != "Pay by card" || card.Type != "story" || card.Status != "new" || card.Points == nil || *card.Points != 5 {
		t.Errorf("story = %+v", card)
	}
	if card.Description != "## Steps\n\n- open **cart**\n- pay" {
		t.Errorf("description = %q", card.Description)
	}
	if card.Feature == nil || card.Feature.Title != "Checkout" {
		t.Errorf("feature = %+v", card.Feature)
	}
	if card.Assignee == nil || card.Assignee.Email != "dev@example.com" {
		t.Errorf("assignee = %+v", card.Assignee)
	}
	if card.SprintID == nil {
		t.Error("the story is in no sprint")
	}
	if !strings.HasPrefix(card.CreatedAt, "2024-03-12T15:04:00") {
		t.Errorf("created_at = %s, want Jira's time", card.CreatedAt)
	}
	if got := strings.Join(card.Labels, ","); got != "payments,priority:medium,release:1.0,web" {
		t.Errorf("labels = %s", got)
	}
	bug, sub := stories[1], stories[2]
	if bug.Type != "bug" || bug.Status != "in_review" || bug.Points == nil || *bug.Points != 5 {
		t.Errorf("bug = %+v", bug)
	}
	if sub.Type != "task" || sub.Status != "done" || !strings.HasPrefix(sub.Description, "Sub-task of SHOP-2.") {
		t.Errorf("sub-task = %+v", sub)
	}

	// A re-import updates instead of duplicating.
	changed := strings.Replace(jiraExport, "Pay by card,", "Pay by card or wallet,", 1)
	var again importReport
	tm.pm.importCSV(t, "SHOP", "points_field=Story+Points", changed).want(t, http.StatusOK).decode(t, &again)
	if again.StoriesCreated != 0 || again.StoriesUpdated != 3 || again.FeaturesCreated != 0 || again.FeaturesUpdated != 1 || again.Comments != 0 {
		t.Errorf("re-import report = %+v", again)
	}
	if len(again.ReleasesCreated) != 0 {
		t.Errorf("re-import created releases again: %v", again.ReleasesCreated)
	}
	want := []string{"Card declined", "Pay by card or wallet", "Write tests"}
	if got := storyTitles(t, tm.pm, "SHOP"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("titles after re-import = %v, want %v", got, want)
	}

	// The same file as a multipart upload, settings in form fields.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("points_field", "Story Points")
	mw.WriteField("dry_run", "true")
	fw, _ := mw.CreateFormFile("file", "shop.csv")
	fw.Write([]byte(jiraExport))
	mw.Close()
	var multi importReport
	tm.po.post(t, "/api/v1/products/SHOP/imports", body.Bytes(), "Content-Type", mw.FormDataContentType()).want(t, http.StatusOK).decode(t, &multi)
	if !multi.DryRun || multi.StoriesUpdated != 3 {
		t.Errorf("multipart dry run = %+v", multi)
	}
}

func TestImportCSVRowErrors(t *testing.T) {
	forEachEngine(t, testImportCSVRowErrors)
}

func testImportCSVRowErrors(t *testing.T, e *env) {
	tm := e.newTeam(t)
	tm.product(t, "SHEET", "Spreadsheet")
	file := "Name;Estimate;Kind;Notes\n" +
		"Search the catalogue;3;story;\"multi\nline\"\n" +
		"Export to CSV;lots;story;\n" +
		"Import from CSV;5;bug;\n" +
		"\"Bulk edit\";8;task;NULL\n"
	q := url.Values{"format": {"csv"}, "map": {"title=Name,points=Estimate,type=Kind,description=Notes"}}

	// All or nothing: one bad row, nothing written.
	before := e.snapshot(t)
	q.Set("all_or_nothing", "true")
	var none importReport
	tm.po.importCSV(t, "SHEET", q.Encode(), file).want(t, http.StatusOK).decode(t, &none)
	e.wantUnchanged(t, before, "an all-or-nothing import with a bad row")
	if none.Written || len(none.Errors) != 1 || none.StoriesCreated != 0 {
		t.Errorf("all-or-nothing report = %+v", none)
	}

	// Without it the bad row is reported with its line and column, and
	// every other row is imported.
	q.Del("all_or_nothing")
	var rep importReport
	tm.po.importCSV(t, "SHEET", q.Encode(), file).want(t, http.StatusOK).decode(t, &rep)
	if !rep.Written || rep.Rows != 4 || rep.StoriesCreated != 3 {
		t.Errorf("report = %+v", rep)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Line != 4 || rep.Errors[0].Column != "Estimate" || !strings.Contains(rep.Errors[0].Reason, "lots") {
		t.Errorf("errors = %+v, want line 4 (the quoted field spans lines 2-3), column Estimate", rep.Errors)
	}
	want := []string{"Bulk edit", "Import from CSV", "Search the catalogue"}
	if got := storyTitles(t, tm.po, "SHEET"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("titles = %v, want %v", got, want)
	}

	// Bad input: a clear 400, nothing written.
	before = e.snapshot(t)
	tm.po.importCSV(t, "SHEET", "format=csv&map=title%3DNope", file).wantError(t, http.StatusBadRequest, "invalid", "file")
	tm.po.importCSV(t, "SHEET", "format=csv&map=colour%3DName", file).wantError(t, http.StatusBadRequest, "invalid", "map")
	tm.po.importCSV(t, "SHEET", "format=xml", file).wantError(t, http.StatusBadRequest, "invalid", "format")
	tm.po.importCSV(t, "SHEET", "", "").wantError(t, http.StatusBadRequest, "invalid", "file")
	tm.po.importCSV(t, "SHEET", "", "a,b\x00\n1,2\n").wantError(t, http.StatusBadRequest, "invalid", "file")
	tm.po.importCSV(t, "SHEET", "", "Name,Other\nx,y\n").wantError(t, http.StatusBadRequest, "invalid", "file")
	tm.po.importCSV(t, "SHEET", "dry_run=maybe", file).wantError(t, http.StatusBadRequest, "invalid", "dry_run")
	e.wantUnchanged(t, before, "refused imports")
}

func TestExportRoundTrip(t *testing.T) {
	forEachEngine(t, testExportRoundTrip)
}

func testExportRoundTrip(t *testing.T, e *env) {
	tm := e.newTeam(t)
	tm.product(t, "SHOP", "Shop")
	tm.po.importCSV(t, "SHOP", "points_field=Story+Points", jiraExport).want(t, http.StatusOK)
	tm.po.post(t, "/api/v1/products/SHOP/stories", map[string]any{"title": "Gift cards", "points": 3, "criteria": []string{"a card can be redeemed"}, "tasks": []string{"print the cards"}}).
		want(t, http.StatusCreated)

	tm.viewer.get(t, "/api/v1/products/SHOP/export").want(t, http.StatusOK)
	tm.outsider.get(t, "/api/v1/products/SHOP/export").wantError(t, http.StatusNotFound, "not_found", "")
	res := tm.pm.get(t, "/api/v1/products/SHOP/export").want(t, http.StatusOK)
	var doc map[string]json.RawMessage
	res.decode(t, &doc)
	var products []map[string]json.RawMessage
	if err := json.Unmarshal(doc["products"], &products); err != nil || len(products) != 1 {
		t.Fatalf("products: %v (%d)", err, len(products))
	}
	for _, k := range []string{"product", "members", "strategy", "objectives", "releases", "themes", "sprints", "features", "stories", "feedback", "comments", "activity"} {
		if _, ok := products[0][k]; !ok {
			t.Errorf("the export has no %q", k)
		}
	}

	// Import the export as a new product's content (as a move to another
	// installation would) and export again: the stories and features
	// come back.
	f, err := importer.ReadExport(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	f.Products[0].Product.Key = "COPY"
	ctx := adminContext(t, e)
	// The streamed reader, on the export as another installation would
	// get it: the product under a new key, one member without an account.
	moved := bytes.ReplaceAll(res.body, []byte(`"key":"SHOP"`), []byte(`"key":"COPY"`))
	moved = bytes.ReplaceAll(moved, []byte("viewer@example.com"), []byte("newbie@example.com"))
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(moved)), nil }
	reps, err := e.app.ImportExportStream(ctx, open, "", app.ImportOptions{})
	if err != nil || len(reps) != 1 || len(reps[0].Errors) != 0 {
		t.Fatalf("import export: %v %+v", err, reps)
	}
	if r := reps[0]; r.StoriesCreated != 4 || r.FeaturesCreated != 1 || r.Comments != 2 || r.MembersRestored != 5 ||
		strings.Join(r.UsersCreated, ",") != "newbie@example.com" || strings.Join(r.ReleasesCreated, ",") != "1.0" ||
		strings.Join(r.SprintsCreated, ",") != "Sprint 1,Sprint 2" && strings.Join(r.SprintsCreated, ",") != "Sprint 2,Sprint 1" {
		t.Errorf("round-trip report = %+v", r)
	}
	members := list[member](t, tm.admin, "/api/v1/products/COPY/members")
	if len(members) != 6 { // the five restored and the admin who created COPY
		t.Errorf("COPY has %d members: %+v", len(members), members)
	}
	var out bytes.Buffer
	if _, err := e.app.Export(ctx, []string{"COPY"}, false, &out); err != nil {
		t.Fatal(err)
	}
	g, err := importer.ReadExport(&out)
	if err != nil {
		t.Fatal(err)
	}
	summary := func(p importer.ExportedProduct) string {
		var lines []string
		for _, s := range p.Stories {
			pts := "-"
			if s.Points != nil {
				pts = strings.Repeat("*", *s.Points)
			}
			feature := ""
			if s.Feature != nil {
				feature = s.Feature.Title
			}
			var crit []string
			for _, c := range s.Criteria {
				crit = append(crit, fmt.Sprint(c.Text, c.Met))
			}
			for _, tk := range s.Tasks {
				crit = append(crit, fmt.Sprint("task ", tk.Text, tk.Done))
			}
			lines = append(lines, strings.Join([]string{s.Title, string(s.Type), string(s.Status), pts, s.Description,
				strings.Join(s.Labels, ","), feature, s.Sprint, strings.Join(crit, ";"), s.CreatedAt.Format(time.RFC3339)}, "|"))
		}
		for _, ft := range p.Features {
			lines = append(lines, ft.Title+"|"+string(ft.Status)+"|"+ft.Problem)
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	if a, b := summary(f.Products[0]), summary(g.Products[0]); a != b {
		t.Errorf("round trip differs:\n--- exported\n%s\n--- after import and export\n%s", a, b)
	}
	// Imported again (read whole this time), the export updates instead
	// of duplicating.
	reps, err = e.app.ImportExport(ctx, f, "COPY", app.ImportOptions{})
	if err != nil || reps[0].StoriesCreated != 0 || reps[0].StoriesUpdated != 4 {
		t.Errorf("second import of the export: %v %+v", err, reps)
	}
	// A newer version's export is refused with a message.
	if _, err := importer.ReadExport(strings.NewReader(`{"format":"northstar-export","version":99,"northstar_version":"9.0"}`)); err == nil ||
		!strings.Contains(err.Error(), "newer") {
		t.Errorf("newer export: %v", err)
	}
}

// adminContext acts as the first admin, for calls to the app itself.
func adminContext(t *testing.T, e *env) context.Context {
	t.Helper()
	ctx := context.Background()
	users, err := e.app.Users(app.SystemContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Admin {
			return northstar.NewContextWithUser(ctx, u)
		}
	}
	t.Fatal("no admin")
	return nil
}

// TestImportRealStoryPoints imports the 16 real Jira files of
// ../shared/data/storypoints through the API and checks that every row and
// every point value is kept.
func TestImportRealStoryPoints(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/data/storypoints/*.csv")
	if len(files) == 0 {
		t.Skip("../shared/data/storypoints is not here (it is not part of a clone); skipping the real-data import")
	}
	if testing.Short() {
		t.Skip("-short: skipping the real-data import")
	}
	// SQLite only: the speed target is the embedded database's, and the
	// import path is the same on PostgreSQL (tested above).
	t.Run("sqlite", func(t *testing.T) {
		e := newEnv(t, store.SQLite)
		admin := e.signUpAdmin(t)
		total := 0
		start := time.Now()
		for i, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			key := "REAL" + string(rune('A'+i))
			admin.createProduct(t, key, filepath.Base(f))
			var rep importReport
			admin.importCSV(t, key, "points_field=storypoint", string(b)).want(t, http.StatusOK).decode(t, &rep)
			if len(rep.Errors) != 0 || rep.StoriesCreated != rep.Rows {
				t.Errorf("%s: %d rows, %d created, errors %+v", f, rep.Rows, rep.StoriesCreated, rep.Errors[:min(3, len(rep.Errors))])
			}
			total += rep.StoriesCreated
		}
		t.Logf("%s: imported %d issues from %d files in %s", e.engine, total, len(files), time.Since(start).Round(time.Millisecond))
	})
}

func TestExportCSV(t *testing.T) {
	forEachEngine(t, testExportCSV)
}

func testExportCSV(t *testing.T, e *env) {
	tm := e.newTeam(t)
	tm.product(t, "SHOP", "Shop")
	tm.po.importCSV(t, "SHOP", "points_field=Story+Points", jiraExport).want(t, http.StatusOK)
	tm.po.post(t, "/api/v1/products/SHOP/stories", map[string]any{"title": "=HYPERLINK(\"http://evil\")", "type": "bug"}).want(t, http.StatusCreated)

	res := tm.viewer.get(t, "/api/v1/products/SHOP/stories.csv?type=bug").want(t, http.StatusOK)
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type = %s", ct)
	}
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "ref" || rows[1][2] != "Card declined" || rows[2][2] != `'=HYPERLINK("http://evil")` {
		t.Errorf("bugs CSV = %q", rows)
	}
	res = tm.viewer.get(t, "/api/v1/products/SHOP/stories.csv").want(t, http.StatusOK)
	if rows, _ := csv.NewReader(bytes.NewReader(res.body)).ReadAll(); len(rows) != 5 {
		t.Errorf("all stories: %d rows, want a header and 4", len(rows))
	}
	res = tm.viewer.get(t, "/api/v1/products/SHOP/features.csv?status=in_progress").want(t, http.StatusOK)
	if rows, _ := csv.NewReader(bytes.NewReader(res.body)).ReadAll(); len(rows) != 2 || rows[1][1] != "Checkout" || rows[1][3] != "1.0" {
		t.Errorf("features CSV = %q", rows)
	}
	tm.viewer.get(t, "/api/v1/products/SHOP/stories.csv?status=bogus").wantError(t, http.StatusBadRequest, "invalid", "status")
	tm.outsider.get(t, "/api/v1/products/SHOP/features.csv").wantError(t, http.StatusNotFound, "not_found", "")
}
