package cli_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The two evaluation commands on small files whose answers can be worked
// out by hand, and on the bad files the issue names.
func TestEvalCommands(t *testing.T) {
	train := writeFile(t, "train.csv", "issuekey,title,description,storypoint\n"+
		"A-1,Export the report as CSV,NULL,3\n"+
		"A-2,Export the invoice as PDF,\"Multi\nline {code}x{code}\",3\n"+
		"A-3,Rebuild the search index,NULL,8\n"+
		"A-4,Rebuild the search cluster,,8\n"+
		"A-5,Broken row,NULL,many\n")
	test := writeFile(t, "test.csv", "issuekey,title,description,storypoint\nA-6,Export the report as PDF,NULL,3\nA-7,Rebuild the search index again,NULL,8\n")
	var est struct {
		N   int     `json:"n"`
		MAE float64 `json:"mae"`
	}
	r := mustRun(t, "estimate", "eval", "--train", train, "--test", test, "--json")
	if err := json.Unmarshal([]byte(r.stdout), &est); err != nil || est.N != 2 || est.MAE != 0 {
		t.Errorf("estimate eval: %s (%v), want n 2 and MAE 0", r.stdout, err)
	}
	if !strings.Contains(r.stderr, "line 6, column storypoint") {
		t.Errorf("the row with points \"many\" is not named: %q", r.stderr)
	}

	// A board that always delivers its commitment of 10: predicted exactly.
	var hist strings.Builder
	hist.WriteString("boardid,sprintid,committed_points,velocity_difference\n")
	for i := range 8 {
		hist.WriteString("b1," + string(rune('a'+i)) + ",10,0\n")
	}
	history := writeFile(t, "history.csv", hist.String())
	future := writeFile(t, "future.csv", "boardid,sprintid,committed_points,velocity_difference\nb1,x,10,0\nb1,y,10,0\n")
	var fc struct {
		N          int     `json:"n"`
		MAE        float64 `json:"mae"`
		Coverage85 float64 `json:"coverage85"`
	}
	r = mustRun(t, "forecast", "eval", "--history", history, "--test", future, "--json")
	if err := json.Unmarshal([]byte(r.stdout), &fc); err != nil || fc.N != 2 || math.Abs(fc.MAE) > 1e-9 || fc.Coverage85 != 1 {
		t.Errorf("forecast eval: %s (%v), want n 2, MAE 0, coverage 1", r.stdout, err)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"empty file", []string{"estimate", "eval", "--train", writeFile(t, "empty.csv", ""), "--test", test}, "empty.csv: the file is empty"},
		{"missing column", []string{"estimate", "eval", "--train", writeFile(t, "cols.csv", "issuekey,title\nA-1,x\n"), "--test", test}, `cols.csv line 1: no column "description"`},
		{"no usable row", []string{"estimate", "eval", "--train", writeFile(t, "nopoints.csv", "issuekey,title,description,storypoint\nA-1,x,NULL,?\n"), "--test", test}, "no row with a number of points"},
		{"non-numeric commitment", []string{"forecast", "eval", "--history", history, "--test", writeFile(t, "bad.csv", "boardid,committed_points,velocity_difference\nb1,ten,0\n")}, `bad.csv line 2, column committed_points: "ten" is not a number`},
		{"test without sprints", []string{"forecast", "eval", "--history", history, "--test", writeFile(t, "none.csv", "boardid,committed_points,velocity_difference\n")}, "no sprint to predict"},
		{"no subcommand", []string{"forecast", "--history", history, "--test", future}, "Usage: northstar forecast eval"},
	} {
		r := run(t, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want it to say %q", tc.name, r.code, r.stderr, tc.want)
		}
	}
}
