package importer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

// jiraSample is a small "Export → CSV (all fields)" file with Jira's
// repeated columns, wiki markup, a multi-line field and its date format.
const jiraSample = `Summary,Issue key,Issue id,Issue Type,Status,Priority,Assignee,Reporter,Created,Updated,Description,Labels,Labels,Sprint,Sprint,Fix Version/s,Custom field (Story Points),Custom field (Epic Link),Parent id,Comment,Comment
Checkout,SHOP-1,10001,Epic,In Progress,High,,alice@example.com,01/Mar/24 9:00 AM,02/Mar/24 10:30 AM,Pay for things,,,,,1.0,,,,,
Pay by card,SHOP-2,10002,Story,To Do,Medium,bob@example.com,Alice Adams,12/Mar/24 3:04 PM,2024-03-13T08:00:00.000+0100,"h2. Steps
* open *cart*
* pay",payments,web,Sprint 1,Sprint 2,1.0,5,SHOP-1,,"12/Mar/24 4:00 PM;alice;Looks _good_","13/Mar/24 9:00 AM;bob;Done; really"
Card declined,SHOP-3,10003,Bug,Waiting for Vendor,Low,,,12/Mar/24 3:04 PM,12/Mar/24 3:04 PM,,,,Sprint 2,,,4,,,,
Write tests,SHOP-4,10004,Sub-task,Done,,,,12/Mar/24 3:04 PM,12/Mar/24 3:04 PM,,,,,,,,,10002,,
`

func readTable(t *testing.T, s string) *Table {
	t.Helper()
	tab, err := ReadCSV(strings.NewReader(s))
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	return tab
}

func TestParseJira(t *testing.T) {
	res, err := ParseJira(readTable(t, jiraSample), Options{PointsField: "Story Points"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("errors: %v", res.Errors)
	}
	if len(res.Items) != 4 {
		t.Fatalf("got %d items, want 4", len(res.Items))
	}
	epic, story, bug, sub := res.Items[0], res.Items[1], res.Items[2], res.Items[3]
	if epic.Kind != KindFeature || epic.Key != "SHOP-1" || epic.Status != northstar.StatusInProgress {
		t.Errorf("epic = %+v", epic)
	}
	if story.Kind != KindStory || story.Type != northstar.TypeStory || story.Status != northstar.StatusNew {
		t.Errorf("story kind/type/status = %s/%s/%s", story.Kind, story.Type, story.Status)
	}
	if story.Line != 3 || bug.Line != 6 {
		t.Errorf("lines = %d, %d; want 3, 6", story.Line, bug.Line)
	}
	if want := "## Steps\n\n- open **cart**\n- pay"; story.Description != want {
		t.Errorf("description = %q, want %q", story.Description, want)
	}
	if got := strings.Join(story.Labels, ","); got != "payments,web,priority:medium,release:1.0" {
		t.Errorf("labels = %q", got)
	}
	if got := strings.Join(story.Sprints, ","); got != "Sprint 1,Sprint 2" {
		t.Errorf("sprints = %q", got)
	}
	if story.Parent != "SHOP-1" || sub.Parent != "SHOP-2" {
		t.Errorf("parents = %q, %q", story.Parent, sub.Parent)
	}
	if story.Points == nil || *story.Points != 5 {
		t.Errorf("points = %v", story.Points)
	}
	if bug.Points == nil || *bug.Points != 5 || *bug.RawPoints != 4 || res.Rounded != 1 {
		t.Errorf("bug points = %v raw %v rounded %d", bug.Points, bug.RawPoints, res.Rounded)
	}
	if want := time.Date(2024, 3, 12, 15, 4, 0, 0, time.UTC); story.Created == nil || !story.Created.Equal(want) {
		t.Errorf("created = %v, want %v", story.Created, want)
	}
	if want := time.Date(2024, 3, 13, 7, 0, 0, 0, time.UTC); story.Updated == nil || !story.Updated.Equal(want) {
		t.Errorf("updated = %v, want %v", story.Updated, want)
	}
	if len(story.Comments) != 2 || story.Comments[0].Author != "alice" || story.Comments[0].Text != "Looks *good*" ||
		story.Comments[1].Text != "Done; really" {
		t.Errorf("comments = %+v", story.Comments)
	}
	if story.Assignee != "bob@example.com" || story.Reporter != "Alice Adams" {
		t.Errorf("people = %q, %q", story.Assignee, story.Reporter)
	}
	if bug.Type != northstar.TypeBug || sub.Type != northstar.TypeTask || sub.Status != northstar.StatusDone {
		t.Errorf("bug %s, sub-task %s %s", bug.Type, sub.Type, sub.Status)
	}
	if len(res.UnknownStatuses) != 1 || res.UnknownStatuses[0].Value != "Waiting for Vendor" {
		t.Errorf("unknown statuses = %v", res.UnknownStatuses)
	}
	if strings.Join(epic.FixVersions, ",") != "1.0" {
		t.Errorf("fix versions = %v", epic.FixVersions)
	}

	// A status the caller maps is no longer unknown.
	res, _ = ParseJira(readTable(t, jiraSample), Options{StatusMap: map[string]northstar.StoryStatus{"waiting for vendor": "in_review"}})
	if len(res.UnknownStatuses) != 0 || res.Items[2].Status != northstar.StatusInReview {
		t.Errorf("mapped status: unknown %v, status %s", res.UnknownStatuses, res.Items[2].Status)
	}
}

func TestParseJiraMissingPointsField(t *testing.T) {
	_, err := ParseJira(readTable(t, jiraSample), Options{PointsField: "Estimate"})
	if err == nil || !strings.Contains(err.Error(), "Estimate") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadCSVVariants(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		header   string
		rows     int
		encoding string
	}{
		{"bom", "\xEF\xBB\xBFtitle,points\nA,1\n", "title|points", 1, "UTF-8"},
		{"semicolons", "title;points\n\"A; still A\";1\nB;2\n", "title|points", 2, "UTF-8"},
		{"tabs", "title\tpoints\nA\t1\n", "title|points", 1, "UTF-8"},
		{"multi-line", "title,description\nA,\"line 1\nline 2\"\nB,x\n", "title|description", 2, "UTF-8"},
		{"windows-1252", "title\nCaf\xe9\n", "title", 1, "Windows-1252"},
		{"utf-16", "\xFF\xFEt\x00i\x00t\x00l\x00e\x00\n\x00A\x00\n\x00", "title", 1, "UTF-16"},
		{"blank lines", "title\n\nA\n\n", "title", 1, "UTF-8"},
		{"crlf", "title,points\r\nA,1\r\n", "title|points", 1, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := readTable(t, tt.in)
			if got := strings.Join(tab.Header, "|"); got != tt.header {
				t.Errorf("header = %q, want %q", got, tt.header)
			}
			if len(tab.Rows) != tt.rows {
				t.Errorf("rows = %d, want %d", len(tab.Rows), tt.rows)
			}
			if tab.Encoding != tt.encoding {
				t.Errorf("encoding = %s, want %s", tab.Encoding, tt.encoding)
			}
		})
	}
	tab := readTable(t, "title\nCaf\xe9\n")
	if tab.Rows[0].Fields[0] != "Café" {
		t.Errorf("decoded %q", tab.Rows[0].Fields[0])
	}
	tab = readTable(t, "title,description\nA,\"line 1\nline 2\"\nB,x\n")
	if tab.Rows[1].Line != 4 {
		t.Errorf("second row line = %d, want 4", tab.Rows[1].Line)
	}
}

func TestReadCSVBadFiles(t *testing.T) {
	for name, in := range map[string]string{
		"empty":  "",
		"spaces": "  \n ",
		"nul":    "title\nA\x00\n",
	} {
		if _, err := ReadCSV(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	tab := readTable(t, "title,points\nA,1\nB,2,3\nC,3\n")
	if len(tab.Rows) != 2 || len(tab.Problems) != 1 || tab.Problems[0].Line != 3 {
		t.Errorf("rows %d problems %v", len(tab.Rows), tab.Problems)
	}
}

func TestParseCSVMapping(t *testing.T) {
	m, err := ParseMapping(`title=Summary,points=Story Points,labels=Tags\, more`)
	if err != nil {
		t.Fatal(err)
	}
	if m["title"] != "Summary" || m["points"] != "Story Points" || m["labels"] != "Tags, more" {
		t.Fatalf("mapping = %v", m)
	}
	for _, bad := range []string{"title", "colour=Red", "title="} {
		if _, err := ParseMapping(bad); err == nil {
			t.Errorf("ParseMapping(%q): no error", bad)
		}
	}
	in := "Summary,Story Points,Kind,When,Status\n" +
		"Good,3,bug,2024-01-02,Doing\n" +
		",5,story,,\n" +
		"Bad points,many,story,,\n" +
		"Bad type,1,saga,,\n" +
		"Bad date,1,story,yesterday,\n" +
		"Also good,,,,NULL\n"
	res, err := ParseCSV(readTable(t, in), Mapping{"title": "Summary", "points": "Story Points", "type": "Kind", "created": "When", "status": "Status"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 2 || res.Items[0].Title != "Good" || res.Items[1].Title != "Also good" {
		t.Fatalf("items = %+v", res.Items)
	}
	if res.Items[0].Status != northstar.StatusInProgress || res.Items[1].Status != northstar.StatusNew {
		t.Errorf("statuses = %s, %s", res.Items[0].Status, res.Items[1].Status)
	}
	want := []RowError{
		{Line: 3, Column: "Summary"},
		{Line: 4, Column: "Story Points"},
		{Line: 5, Column: "Kind"},
		{Line: 6, Column: "When"},
	}
	if len(res.Errors) != len(want) {
		t.Fatalf("errors = %v", res.Errors)
	}
	for i, w := range want {
		if got := res.Errors[i]; got.Line != w.Line || got.Column != w.Column || got.Reason == "" {
			t.Errorf("error %d = %+v, want line %d column %s", i, got, w.Line, w.Column)
		}
	}
	if _, err := ParseCSV(readTable(t, in), Mapping{"title": "Nope"}, Options{}); err == nil {
		t.Error("a missing column is not reported")
	}
}

func TestParseCSVDuplicateKeys(t *testing.T) {
	res, err := ParseCSV(readTable(t, "key,title\nA-1,x\nA-2,y\na-1,z\n"), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 2 || len(res.Errors) != 1 || res.Errors[0].Line != 4 || res.Errors[0].Column != "key" {
		t.Fatalf("items %d errors %v", len(res.Items), res.Errors)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"12/Mar/24 3:04 PM":             time.Date(2024, 3, 12, 15, 4, 0, 0, time.UTC),
		"2/Jan/24 11:30 AM":             time.Date(2024, 1, 2, 11, 30, 0, 0, time.UTC),
		"12/Mar/2024 15:04":             time.Date(2024, 3, 12, 15, 4, 0, 0, time.UTC),
		"2024-03-12T15:04:05Z":          time.Date(2024, 3, 12, 15, 4, 5, 0, time.UTC),
		"2024-03-12T15:04:05.000+0100":  time.Date(2024, 3, 12, 14, 4, 5, 0, time.UTC),
		"2024-03-12 15:04":              time.Date(2024, 3, 12, 15, 4, 0, 0, time.UTC),
		"2024-03-12":                    time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC),
		"2024-03-12T15:04:05.123+02:00": time.Date(2024, 3, 12, 13, 4, 5, 123e6, time.UTC),
	} {
		got, err := ParseTime(in, time.Time{})
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseTime("soon", time.Time{}); err == nil {
		t.Error("ParseTime(soon): no error")
	}
}

func TestParsePoints(t *testing.T) {
	for in, want := range map[string][3]float64{ // raw, points, rounded
		"5": {5, 5, 0}, "3.0": {3, 3, 0}, "4": {4, 5, 1}, "0.5": {0.5, 1, 1}, "21": {21, 20, 1}, "1000": {1000, 100, 1}, "0,5": {0.5, 1, 1},
	} {
		raw, pts, rounded, err := ParsePoints(in)
		if err != nil || raw != want[0] || float64(pts) != want[1] || rounded != (want[2] == 1) {
			t.Errorf("ParsePoints(%q) = %v %v %v %v, want %v", in, raw, pts, rounded, err, want)
		}
	}
	for _, bad := range []string{"-1", "x", "NaN", "Inf"} {
		if _, _, _, err := ParsePoints(bad); err == nil {
			t.Errorf("ParsePoints(%q): no error", bad)
		}
	}
}

// TestRealStoryPoints reads the 16 real Jira exports in
// ../shared/data/storypoints (issuekey,title,description,storypoint) and
// checks that every row and every point value is kept.
func TestRealStoryPoints(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/data/storypoints/*.csv")
	if len(files) == 0 {
		t.Skip("../shared/data/storypoints is not here (it is not part of a clone); skipping the real-data test")
	}
	total := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		tab, err := ReadCSV(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		res, err := ParseJira(tab, Options{PointsField: "storypoint"})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(res.Errors) > 0 {
			t.Errorf("%s: %d errors, first %v", f, len(res.Errors), res.Errors[0])
		}
		for _, it := range res.Items {
			if it.RawPoints == nil {
				t.Errorf("%s line %d: no points", f, it.Line)
			}
		}
		total += len(res.Items)
	}
	t.Logf("%d items from %d files", total, len(files))
}

func TestReleaseLabel(t *testing.T) {
	for in, want := range map[string]string{
		"1.0":                   "release:1.0",
		"Spring 2024, GA":       "release:Spring-2024-GA",
		strings.Repeat("x", 80): "release:" + strings.Repeat("x", 42),
	} {
		if got := ReleaseLabel(in); got != want {
			t.Errorf("ReleaseLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
