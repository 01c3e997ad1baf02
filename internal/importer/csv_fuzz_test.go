package importer

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
)

// FuzzReadCSV feeds arbitrary files through everything an upload goes
// through: reading (encodings, separators, quoting), guessing the mapping,
// and parsing as Jira and as a mapped CSV. Nothing may panic; items that
// come out are valid enough to import, and rows that cannot be read are
// reported with their line.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"Summary,Issue key,Issue Type,Status,Story Points\nA story,BOOK-1,Story,To Do,3\nAn epic,BOOK-2,Epic,Done,\n",
		"Summary,Labels,Labels,Comment,Sprint\nx,a,b,\"01/Jan/24 10:00;jdoe;hello\",S1\n",
		"title;points;status\n\"multi\nline\";5;in progress\n",
		"title\tdescription\na\t{code}x{code} *b*\n",
		"\xef\xbb\xbftitle,points\nx,2.5\n",
		"\xff\xfet\x00i\x00t\x00l\x00e\x00\n\x00a\x00\n\x00",
		"Summary,Created\nx,32/Foo/99 25:61\n",
		"title\n\"unterminated\n",
		"a,b\n1,2,3\n",
		",,,\n,,,\n",
		"",
		"\x00\x01\x02",
		"Summary,Issue key,Parent id,Issue id\nchild,K-2,1,2\nparent,K-1,,1\n",
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		table, err := ReadCSV(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, row := range table.Rows {
			if row.Line < 1 {
				t.Fatalf("row with line %d", row.Line)
			}
		}
		opts := Options{PointsField: "Story Points", Now: now, Markup: true}
		check := func(how string, res *Result, err error) {
			if err != nil {
				return
			}
			for _, it := range res.Items {
				if !utf8.ValidString(it.Title) || !utf8.ValidString(it.Description) {
					t.Fatalf("%s: item of line %d has invalid UTF-8", how, it.Line)
				}
				if it.Status != "" && !northstar.StoryStatus(it.Status).Valid() {
					t.Fatalf("%s: item of line %d has status %q", how, it.Line, it.Status)
				}
			}
			for _, e := range res.Errors {
				if e.Line < 0 || strings.TrimSpace(e.Reason) == "" {
					t.Fatalf("%s: row error %+v", how, e)
				}
			}
		}
		res, err := ParseJira(table, opts)
		check("ParseJira", res, err)
		m := GuessMapping(table.Header)
		res, err = ParseCSV(table, m, opts)
		check("ParseCSV", res, err)
	})
}

// FuzzParseMapping checks the --map flag's parser: no panic, and a
// mapping it accepts maps only fields Northstar knows.
func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{"title=Summary,points=Story Points", `title=A\,B`, "=", ",,", `\`, "title=", "x=y=z", "title=Summary,title=Other"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMapping(s)
		if err != nil {
			return
		}
		for field := range m {
			if !knownField(field) {
				t.Fatalf("ParseMapping(%q) maps the unknown field %q", s, field)
			}
		}
	})
}

// FuzzWalkExport reads arbitrary bytes as a Northstar export file, the
// way an import of one streams it: nothing may panic.
func FuzzWalkExport(f *testing.F) {
	for _, s := range []string{
		`{"format":"northstar-export","version":1,"products":[{"product":{"key":"BOOK","name":"Books"},"features":[{"ref":"BOOK-1","title":"F"}],"stories":[{"ref":"BOOK-2","title":"S","criteria":[{"text":"c"}]}],"comments":[{"item":"BOOK-2","body":"hi"}]}]}`,
		`{"format":"northstar-export","version":99}`,
		`{"products":[]}`,
		`{"format":"northstar-export","products":[{"stories":[null, 1, "x", {}]}]}`,
		`[`, `{`, `{"format":`, `null`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		count := func() error { n++; return nil }
		WalkExport(bytes.NewReader(data), ExportVisitor{
			Product:    func(*northstar.Product) error { return count() },
			Feature:    func(*ExportedFeature) error { return count() },
			Story:      func(*ExportedStory) error { return count() },
			Comment:    func(*ExportedComment) error { return count() },
			Members:    func([]northstar.Member) error { return count() },
			Releases:   func([]northstar.Release) error { return count() },
			Sprints:    func([]northstar.Sprint) error { return count() },
			EndProduct: func(*northstar.Product) error { return count() },
		})
		ReadExport(bytes.NewReader(data))
	})
}
