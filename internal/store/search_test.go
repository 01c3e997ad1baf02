package store

import (
	"testing"

	"github.com/northstar-pm/northstar"
)

func TestRankSearch(t *testing.T) {
	hit := func(id int64, title, template, description string) searchHit {
		return searchHit{SearchResult: northstar.SearchResult{Ref: title, Title: title}, id: id, template: template, description: description}
	}
	hits := []searchHit{
		hit(1, "Export stock", "", "the barcode scanner crashes"),
		hit(2, "Barcode scanning on phones", "", "scan with the camera"),
		hit(3, "Reports", "as a manager I want barcode labels", ""),
		hit(4, "Barcode barcode", "", ""),
	}
	got := rankSearch(hits, []string{"barcode"}, 10)
	order := []string{}
	for _, r := range got {
		order = append(order, r.Ref)
	}
	// Title matches first (the shorter title, with two matches, on top),
	// then the template, then the description.
	want := []string{"Barcode barcode", "Barcode scanning on phones", "Reports", "Export stock"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order = %q, want %q", order, want)
		}
	}
	if got := rankSearch(hits, []string{"barcode"}, 2); len(got) != 2 {
		t.Errorf("limit not applied: %d", len(got))
	}
	// Prefixes count for words of three letters or more, not shorter.
	if got := rankSearch([]searchHit{hit(1, "scanning", "", "")}, []string{"sca"}, 1); got[0].Score == 0 {
		t.Error("prefix sca did not score scanning")
	}
	if got := rankSearch([]searchHit{hit(1, "scanning", "", "")}, []string{"sc"}, 1); got[0].Score != 0 {
		t.Error("two-letter prefix scored")
	}
	if q := ftsQuery([]string{"sc", "scan"}); q != `"sc" "scan"*` {
		t.Errorf("ftsQuery = %s", q)
	}
}
