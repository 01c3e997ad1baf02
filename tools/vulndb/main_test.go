package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLastFix(t *testing.T) {
	semverRange := func(events ...[2]string) osvRange {
		r := osvRange{Type: "SEMVER"}
		for _, ev := range events {
			r.Events = append(r.Events, struct {
				Introduced string `json:"introduced"`
				Fixed      string `json:"fixed"`
			}{ev[0], ev[1]})
		}
		return r
	}
	tests := []struct {
		name   string
		ranges []osvRange
		want   string
	}{
		{"no fix", []osvRange{semverRange([2]string{"0", ""})}, ""},
		{"one fix", []osvRange{semverRange([2]string{"0", ""}, [2]string{"", "1.2.3"})}, "1.2.3"},
		{"two branches", []osvRange{
			semverRange([2]string{"0", ""}, [2]string{"", "1.26.9"}),
			semverRange([2]string{"1.27.0-0", ""}, [2]string{"", "1.27.2"}),
		}, "1.27.2"},
		{"compares as semver, not as text", []osvRange{
			semverRange([2]string{"0", ""}, [2]string{"", "1.9.0"}, [2]string{"1.10.0", ""}, [2]string{"", "1.10.2"}),
		}, "1.10.2"},
		{"introduced again after the last fix", []osvRange{
			semverRange([2]string{"0", ""}, [2]string{"", "1.2.0"}),
			semverRange([2]string{"2.0.0", ""}),
		}, ""},
		{"pseudo-versions", []osvRange{
			semverRange([2]string{"0", ""}, [2]string{"", "0.0.0-20260626085133-7cb96ac80a6d"}),
		}, "0.0.0-20260626085133-7cb96ac80a6d"},
		{"other range types do not count", []osvRange{{Type: "ECOSYSTEM"}}, ""},
	}
	for _, tt := range tests {
		if got := lastFix(tt.ranges); got != tt.want {
			t.Errorf("%s: lastFix = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// writeEntries writes OSV entries, given as JSON, to a new directory laid
// out like the vulndb module's data/osv.
func writeEntries(t *testing.T, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for id, body := range entries {
		if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuild(t *testing.T) {
	src := writeEntries(t, map[string]string{
		"GO-2026-0001": `{"id": "GO-2026-0001", "modified": "0001-01-01T00:00:00Z", "aliases": ["CVE-2026-1"],
			"affected": [
				{"package": {"name": "stdlib"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.26.9"}]}]},
				{"package": {"name": "stdlib"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.27.0-0"}, {"fixed": "1.27.2"}]}]},
				{"package": {"name": "golang.org/x/net"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.60.0"}]}]}
			]}`,
		"GO-2026-0002": `{"id": "GO-2026-0002", "modified": "2026-03-01T10:00:00Z",
			"affected": [{"package": {"name": "example.com/m"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]}`,
	})
	out := t.TempDir()
	modified := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st, err := build(src, out, modified, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stats{entries: 2, stdlib: 1, modules: 3}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}

	read := func(name string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var db dbMeta
	read("index/db.json", &db)
	// The latest entry is later than the module's own date.
	if want := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC); !db.Modified.Equal(want) {
		t.Errorf("db.json modified = %v, want %v", db.Modified, want)
	}

	var modules []moduleMeta
	read("index/modules.json", &modules)
	zero := time.Time{}
	wantModules := []moduleMeta{
		{Path: "example.com/m", Vulns: []moduleVuln{{ID: "GO-2026-0002", Modified: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}}},
		{Path: "golang.org/x/net", Vulns: []moduleVuln{{ID: "GO-2026-0001", Modified: zero, Fixed: "0.60.0"}}},
		// Once per module, with the fix of its latest branch.
		{Path: "stdlib", Vulns: []moduleVuln{{ID: "GO-2026-0001", Modified: zero, Fixed: "1.27.2"}}},
	}
	if !reflect.DeepEqual(modules, wantModules) {
		t.Errorf("modules.json = %+v\nwant %+v", modules, wantModules)
	}

	var vulns []vulnMeta
	read("index/vulns.json", &vulns)
	if len(vulns) != 2 || vulns[0].ID != "GO-2026-0001" || !reflect.DeepEqual(vulns[0].Aliases, []string{"CVE-2026-1"}) {
		t.Errorf("vulns.json = %+v", vulns)
	}

	// Entries are copied as they are.
	got, err := os.ReadFile(filepath.Join(out, "ID", "GO-2026-0002.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(src, "GO-2026-0002.json"))
	if string(got) != string(want) {
		t.Errorf("ID/GO-2026-0002.json differs from its source")
	}
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name    string
		entries map[string]string
		want    string
	}{
		{"no entries", map[string]string{}, "no OSV entries"},
		{"file named after another entry", map[string]string{
			"GO-2026-0001": `{"id": "GO-2026-0009", "affected": [{"package": {"name": "stdlib"}}]}`,
		}, `holds entry "GO-2026-0009"`},
		{"no standard library entry", map[string]string{
			"GO-2026-0001": `{"id": "GO-2026-0001", "affected": [{"package": {"name": "example.com/m"}}]}`,
		}, "no entry for the standard library"},
		{"not JSON", map[string]string{"GO-2026-0001": `id: GO-2026-0001`}, "invalid character"},
	}
	for _, tt := range tests {
		_, err := build(writeEntries(t, tt.entries), t.TempDir(), time.Time{}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// TestGovulncheckFails builds a database whose one entry makes fmt.Println
// vulnerable in the running Go version, and checks that the pinned
// govulncheck reads it and fails on a program that calls it: a database
// in a layout govulncheck did not understand would pass every scan.
func TestGovulncheckFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs govulncheck")
	}
	src := writeEntries(t, map[string]string{
		"GO-2026-9999": `{"schema_version": "1.3.1", "id": "GO-2026-9999", "modified": "2026-01-01T00:00:00Z",
			"summary": "Test vulnerability in fmt.Println",
			"affected": [{"package": {"name": "stdlib", "ecosystem": "Go"},
				"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
				"ecosystem_specific": {"imports": [{"path": "fmt", "symbols": ["Println"]}]}}],
			"database_specific": {"url": "https://pkg.go.dev/vuln/GO-2026-9999"}}`,
	})
	db := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := build(src, db, time.Time{}, io.Discard); err != nil {
		t.Fatal(err)
	}

	prog := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/prog\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(prog, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "tool", "govulncheck", "-C", prog, "-db", "file://"+filepath.ToSlash(db), "./...")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("govulncheck: %v, want exit status 3 (vulnerabilities found)\n%s", err, out)
	}
	if !strings.Contains(string(out), "GO-2026-9999") || !strings.Contains(string(out), "fmt.Println") {
		t.Errorf("govulncheck output does not name GO-2026-9999 and fmt.Println:\n%s", out)
	}
	t.Logf("govulncheck:\n%s", out)
}
