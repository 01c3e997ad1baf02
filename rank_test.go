package northstar

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRankBetweenBasics(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"", "", "a0"},
		{"a0", "", "a1"},
		{"az", "", "b00"},
		{"", "a0", "Zz"},
		{"", "Z0", "Yzz"},
		{"a0", "a1", "a0V"},
		{"a0V", "a1", "a0k"},
		{"a0", "a0V", "a0F"},
		{"a1", "a3", "a2"},
		{"Zz", "a0", "ZzV"},
		{"a0z", "a1", "a0zV"},
	}
	for _, tt := range tests {
		got, err := RankBetween(tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("RankBetween(%q, %q) = %q, %v; want %q", tt.a, tt.b, got, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{"a1", "a0"}, {"a0", "a0"}, {"#", ""}, {"", "a"}, {"a00", ""}} {
		if _, err := RankBetween(bad[0], bad[1]); err == nil {
			t.Errorf("RankBetween(%q, %q) succeeded, want an error", bad[0], bad[1])
		}
	}
}

// TestRanksStayOrdered inserts at random places many times and checks the
// ranks stay strictly ordered and valid, and that appends stay short.
func TestRanksStayOrdered(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ranks []string
	for i := 0; i < 5000; i++ {
		pos := r.IntN(len(ranks) + 1)
		var a, b string
		if pos > 0 {
			a = ranks[pos-1]
		}
		if pos < len(ranks) {
			b = ranks[pos]
		}
		k, err := RankBetween(a, b)
		if err != nil {
			t.Fatalf("insert %d between %q and %q: %v", i, a, b, err)
		}
		if !ValidRank(k) || (a != "" && k <= a) || (b != "" && k >= b) {
			t.Fatalf("RankBetween(%q, %q) = %q, out of order or invalid", a, b, k)
		}
		ranks = slices.Insert(ranks, pos, k)
	}
	if !slices.IsSorted(ranks) {
		t.Fatal("ranks not sorted")
	}
	var longest int
	for _, k := range ranks {
		longest = max(longest, len(k))
	}
	if longest > 12 {
		t.Errorf("random inserts made a rank of %d characters", longest)
	}

	// 100,000 appends and prepends stay short.
	last, first := FirstRank, FirstRank
	for i := 0; i < 100000; i++ {
		next, _ := RankBetween(last, "")
		prev, _ := RankBetween("", first)
		if next <= last || prev >= first {
			t.Fatalf("append/prepend out of order at %d", i)
		}
		last, first = next, prev
	}
	if len(last) > 4 || len(first) > 4 {
		t.Errorf("after 100,000 appends the ranks are %q and %q", last, first)
	}
}

func TestRepeatedInsertAtOnePlaceGrowsThenRebalances(t *testing.T) {
	a, b := "a0", "a1"
	for i := 0; i < 300; i++ {
		k, err := RankBetween(a, b)
		if err != nil {
			t.Fatal(err)
		}
		b = k // always insert right after a
	}
	if len(b) < MaxRankLen {
		t.Fatalf("expected the rank to grow past %d, got %d", MaxRankLen, len(b))
	}
	ks, err := RanksBetween("a0", "a1", 300)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 300 || !slices.IsSorted(ks) || ks[0] <= "a0" || ks[299] >= "a1" {
		t.Fatalf("RanksBetween: %d ranks, sorted %v", len(ks), slices.IsSorted(ks))
	}
	for _, k := range ks {
		if len(k) > 6 || !ValidRank(k) {
			t.Errorf("rebalanced rank %q", k)
		}
	}
	if n := len(slices.Compact(slices.Clone(ks))); n != 300 {
		t.Errorf("rebalanced ranks have duplicates: %d unique", n)
	}
	for _, tc := range []struct{ a, b string }{{"", ""}, {"", "a5"}, {"a5", ""}} {
		ks, err := RanksBetween(tc.a, tc.b, 1000)
		if err != nil || len(ks) != 1000 || !slices.IsSorted(ks) {
			t.Errorf("RanksBetween(%q, %q, 1000): %v", tc.a, tc.b, err)
		}
	}
}

func FuzzRankBetween(f *testing.F) {
	f.Add("a0", "a1")
	f.Add("", "a0")
	f.Add("Zz", "")
	f.Fuzz(func(t *testing.T, a, b string) {
		if (a != "" && !ValidRank(a)) || (b != "" && !ValidRank(b)) || (a != "" && b != "" && a >= b) {
			if _, err := RankBetween(a, b); err == nil && a != "" && b != "" && a >= b {
				t.Fatalf("RankBetween(%q, %q) accepted out-of-order bounds", a, b)
			}
			return
		}
		k, err := RankBetween(a, b)
		if err != nil {
			return // e.g. nothing fits before the smallest rank's integer
		}
		if !ValidRank(k) || (a != "" && k <= a) || (b != "" && k >= b) {
			t.Fatalf("RankBetween(%q, %q) = %q", a, b, k)
		}
	})
}
