package cli_test

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

const cliJira = `Summary,Issue key,Issue Type,Status,Created,Description,Sprint,Custom field (Story Points),Custom field (Epic Link),Fix Version/s
Checkout,SHOP-1,Epic,In Progress,01/Mar/24 9:00 AM,Pay for things,,,,1.0
Pay by card,SHOP-2,Story,To Do,12/Mar/24 3:04 PM,*bold* text,Sprint 1,5,SHOP-1,
Card declined,SHOP-3,Bug,Done,12/Mar/24 3:04 PM,,Sprint 1,4,,
`

func TestImportExportCommands(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "shop.csv")
	if err := os.WriteFile(file, []byte(cliJira), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("Name;Estimate\nGood;3\nBad;lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range storetest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			dsn := storetest.DSN(t, e)
			// Nobody to import as yet.
			if r := run(t, "import", "jira", "--db", dsn, "--product", "SHOP", "--file", file); r.code != 1 || !strings.Contains(r.stderr, "admin") {
				t.Errorf("import without an admin: exit %d, stderr %s", r.code, r.stderr)
			}
			mustRun(t, "user", "create", "--db", dsn, "--email", "ada@example.com", "--name", "Ada", "--admin", "--password", "correct horse battery")
			if r := run(t, "import", "--db", dsn, "--file", file); r.code != 2 {
				t.Errorf("import without a kind: exit %d", r.code)
			}

			r := mustRun(t, "import", "jira", "--db", dsn, "--product", "SHOP", "--file", file, "--dry-run")
			if !strings.Contains(r.stdout, "Dry run") || !strings.Contains(r.stdout, "stories:  2 created") {
				t.Errorf("dry run output:\n%s", r.stdout)
			}
			r = mustRun(t, "import", "jira", "--db", dsn, "--product", "SHOP", "--file", file)
			for _, want := range []string{"stories:  2 created, 0 updated", "features: 1 created", "releases created: 1.0", "sprints created: 1 (Sprint 1)", "moved to the point scale: 1"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("import output lacks %q:\n%s", want, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, "100% 3/3") {
				t.Errorf("no progress bar on stderr: %q", r.stderr)
			}
			r = mustRun(t, "import", "jira", "--db", dsn, "--product", "SHOP", "--file", file)
			if !strings.Contains(r.stdout, "stories:  0 created, 2 updated") {
				t.Errorf("re-import output:\n%s", r.stdout)
			}

			// A generic CSV with a mapping: the bad row is reported, the
			// good one imported; all-or-nothing writes nothing and fails.
			r = run(t, "import", "csv", "--db", dsn, "--product", "SHEET", "--file", bad, "--map", "title=Name,points=Estimate", "--all-or-nothing")
			if r.code != 1 || !strings.Contains(r.stdout, `line 3, column "Estimate"`) || !strings.Contains(r.stdout, "stories:  0 created") {
				t.Errorf("all-or-nothing: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			r = mustRun(t, "import", "csv", "--db", dsn, "--product", "SHEET", "--file", bad, "--map", "title=Name,points=Estimate", "--json")
			var rep struct {
				StoriesCreated int `json:"stories_created"`
				Errors         []struct {
					Line   int    `json:"line"`
					Column string `json:"column"`
				} `json:"errors"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("--json: %v\n%s", err, r.stdout)
			}
			if rep.StoriesCreated != 1 || len(rep.Errors) != 1 || rep.Errors[0].Line != 3 || rep.Errors[0].Column != "Estimate" {
				t.Errorf("csv report = %+v", rep)
			}
			if r := run(t, "import", "csv", "--db", dsn, "--product", "SHEET", "--file", bad, "--map", "colour=Name"); r.code != 1 {
				t.Errorf("bad mapping: exit %d", r.code)
			}

			// Export to JSON and ZIP, and read the JSON back into another
			// installation.
			out := filepath.Join(t.TempDir(), "shop.json")
			r = mustRun(t, "export", "--db", dsn, "--product", "SHOP", "--out", out)
			if !strings.Contains(r.stdout, "2 stories, 1 features") {
				t.Errorf("export output: %s", r.stdout)
			}
			zipOut := filepath.Join(t.TempDir(), "all.zip")
			mustRun(t, "export", "--db", dsn, "--all", "--out", zipOut)
			zr, err := zip.OpenReader(zipOut)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range zr.File {
				names = append(names, f.Name)
			}
			zr.Close()
			if strings.Join(names, ",") != "export.json,stories.csv,features.csv" {
				t.Errorf("zip holds %v", names)
			}
			if r := run(t, "export", "--db", dsn, "--out", out); r.code != 2 {
				t.Errorf("export without --product or --all: exit %d", r.code)
			}

			other := storetest.DSN(t, e)
			mustRun(t, "user", "create", "--db", other, "--email", "ada@example.com", "--name", "Ada", "--admin", "--password", "correct horse battery")
			r = mustRun(t, "import", "export-file", "--db", other, "--file", out)
			if !strings.Contains(r.stdout, "Imported into SHOP (export)") || !strings.Contains(r.stdout, "stories:  2 created") {
				t.Errorf("import export-file:\n%s", r.stdout)
			}
			again := filepath.Join(t.TempDir(), "again.json")
			mustRun(t, "export", "--db", other, "--product", "SHOP", "--out", again)
			if a, b := storyLines(t, out), storyLines(t, again); a != b {
				t.Errorf("round trip differs:\n%s\n---\n%s", a, b)
			}
		})
	}
}

// storyLines summarises an export's stories and features for comparison.
func storyLines(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Products []struct {
			Stories []struct {
				Title, Status, Description, Sprint string
				Points                             *int
				ExternalRef                        string `json:"external_ref"`
				ExternalPoints                     *float64
				Feature                            *struct{ Title string }
			}
			Features []struct{ Title, Status, Problem string }
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range doc.Products {
		for _, s := range p.Stories {
			f := ""
			if s.Feature != nil {
				f = s.Feature.Title
			}
			pts := -1
			if s.Points != nil {
				pts = *s.Points
			}
			lines = append(lines, strings.Join([]string{s.Title, s.Status, s.Description, s.Sprint, f, s.ExternalRef, string(rune('0' + pts%10))}, "|"))
		}
		for _, f := range p.Features {
			lines = append(lines, f.Title+"|"+f.Status+"|"+f.Problem)
		}
	}
	return strings.Join(lines, "\n")
}

// TestMoveSQLiteToPostgres moves a product from SQLite to PostgreSQL by
// export and import, and compares the two exports.
func TestMoveSQLiteToPostgres(t *testing.T) {
	engines := storetest.Engines(t)
	if len(engines) < 2 {
		t.Skip("PostgreSQL is not configured (NORTHSTAR_TEST_POSTGRES)")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "shop.csv")
	if err := os.WriteFile(file, []byte(cliJira), 0o600); err != nil {
		t.Fatal(err)
	}
	lite, pg := storetest.DSN(t, store.SQLite), storetest.DSN(t, store.Postgres)
	for _, dsn := range []string{lite, pg} {
		mustRun(t, "user", "create", "--db", dsn, "--email", "ada@example.com", "--name", "Ada", "--admin", "--password", "correct horse battery")
	}
	mustRun(t, "import", "jira", "--db", lite, "--product", "SHOP", "--file", file)
	out := filepath.Join(dir, "all.json")
	mustRun(t, "export", "--db", lite, "--all", "--out", out)
	r := mustRun(t, "import", "export-file", "--db", pg, "--file", out)
	if !strings.Contains(r.stdout, "stories:  2 created") || !strings.Contains(r.stdout, "features: 1 created") {
		t.Errorf("import into PostgreSQL:\n%s", r.stdout)
	}
	again := filepath.Join(dir, "again.json")
	mustRun(t, "export", "--db", pg, "--all", "--out", again)
	if a, b := storyLines(t, out), storyLines(t, again); a != b {
		t.Errorf("SQLite and PostgreSQL exports differ:\n%s\n---\n%s", a, b)
	}
}
