package importer

import (
	"strings"
	"testing"

	"github.com/northstar-pm/northstar"
)

func TestWalkExport(t *testing.T) {
	const doc = `{"format":"northstar-export","version":1,"northstar_version":"dev","users":[{"email":"a@example.com"}],
	"products":[{"product":{"key":"SHOP","name":"Shop"},"members":[],"strategy":{"vision":"x"},"sprints":null,
	"features":[{"ref":"SHOP-1","title":"Checkout","status":"planned","created_at":"2024-03-01T09:00:00Z","updated_at":"2024-03-01T09:00:00Z"}],
	"stories":[{"ref":"SHOP-2","type":"story","title":"Pay","status":"new","feature":{"ref":"SHOP-1","title":"Checkout"},"points":5,"external_ref":"JIRA-7",
	  "created_at":"2024-03-02T09:00:00Z","updated_at":"2024-03-02T09:00:00Z"},
	  {"ref":"SHOP-3","type":"saga","title":"Odd","status":"new","created_at":"2024-03-02T09:00:00Z","updated_at":"2024-03-02T09:00:00Z"}],
	"feedback":[],"comments":[{"item_kind":"story","item":"SHOP-2","author":"a@example.com","body":"hi","created_at":"2024-03-03T09:00:00Z"}],
	"activity":[{"id":1},{"id":2}]}]}`
	c := NewExportConverter()
	var products []string
	var items []*Item
	var bad []RowError
	// Comments first, as the app's first pass does.
	if err := WalkExport(strings.NewReader(doc), ExportVisitor{Comment: func(ec *ExportedComment) error { c.AddComment(ec); return nil }}); err != nil {
		t.Fatal(err)
	}
	err := WalkExport(strings.NewReader(doc), ExportVisitor{
		Product: func(p *northstar.Product) error { products = append(products, p.Key); return nil },
		Feature: func(f *ExportedFeature) error { items = append(items, c.Feature(f)); return nil },
		Story: func(s *ExportedStory) error {
			it, b := c.Story(s)
			if b != nil {
				bad = append(bad, *b)
			} else {
				items = append(items, it)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(products, ",") != "SHOP" || len(items) != 2 || len(bad) != 1 || bad[0].Ref != "SHOP-3" {
		t.Fatalf("products %v, items %d, bad %v", products, len(items), bad)
	}
	f, s := items[0], items[1]
	if f.Kind != KindFeature || f.Key != "SHOP-1" || f.FeatureStatus != northstar.FeaturePlanned {
		t.Errorf("feature item = %+v", f)
	}
	if s.Key != "JIRA-7" || s.Parent != "SHOP-1" || *s.Points != 5 || len(s.Comments) != 1 || s.Comments[0].Text != "hi" {
		t.Errorf("story item = %+v", s)
	}

	for name, in := range map[string]string{
		"newer":      `{"format":"northstar-export","version":2,"products":[]}`,
		"not export": `{"format":"other","version":1}`,
		"no format":  `{"products":[]}`,
		"not json":   `hello`,
		"truncated":  `{"format":"northstar-export","version":1,"products":[{"product":{"key":"A"},"stories":[{"ref":`,
	} {
		if err := WalkExport(strings.NewReader(in), ExportVisitor{}); err == nil {
			t.Errorf("%s: no error", name)
		} else if _, ok := err.(*ErrFile); !ok {
			t.Errorf("%s: error %T %v is not an ErrFile", name, err, err)
		}
	}
}
