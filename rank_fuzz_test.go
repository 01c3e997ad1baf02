package northstar

import (
	"slices"
	"testing"
)

// FuzzRanksBetween checks the ranks a rebalance hands out: n of them,
// valid, in strictly ascending order, strictly between the bounds.
// RankBetween alone is fuzzed by FuzzRankBetween.
func FuzzRanksBetween(f *testing.F) {
	f.Add("a0", "a1", uint8(10))
	f.Add("", "", uint8(200))
	f.Add("", "a0", uint8(3))
	f.Add("a0V", "", uint8(50))
	f.Add("Zz", "a0001", uint8(255))
	f.Add("a0", "a0V", uint8(1))
	f.Fuzz(func(t *testing.T, a, b string, n uint8) {
		if (a != "" && !ValidRank(a)) || (b != "" && !ValidRank(b)) || (a != "" && b != "" && a >= b) {
			return
		}
		ks, err := RanksBetween(a, b, int(n))
		if err != nil {
			return // no room, e.g. before the smallest rank's integer
		}
		if len(ks) != int(n) {
			t.Fatalf("RanksBetween(%q, %q, %d) gave %d ranks", a, b, n, len(ks))
		}
		for i, k := range ks {
			if !ValidRank(k) || (a != "" && k <= a) || (b != "" && k >= b) || (i > 0 && ks[i-1] >= k) {
				t.Fatalf("RanksBetween(%q, %q, %d): rank %d is %q (previous %q)", a, b, n, i, k, ks[max(i-1, 0)])
			}
		}
	})
}

// FuzzRankSequence inserts stories one after another at places the input
// chooses, as a backlog does over its life, and checks each new rank is
// valid and strictly between its neighbours, so that the backlog stays
// in the order the user made.
func FuzzRankSequence(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{255, 255, 255, 255, 255, 255})
	f.Add([]byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	f.Add([]byte("the same gap again and again and again"))
	f.Fuzz(func(t *testing.T, places []byte) {
		if len(places) > 300 { // a long run of inserts is slow to fuzz and adds little
			places = places[:300]
		}
		ranks := []string{}
		for _, p := range places {
			i := int(p) % (len(ranks) + 1) // insert before ranks[i]
			var lo, hi string
			if i > 0 {
				lo = ranks[i-1]
			}
			if i < len(ranks) {
				hi = ranks[i]
			}
			k, err := RankBetween(lo, hi)
			if err != nil {
				t.Fatalf("RankBetween(%q, %q) after %d inserts: %v", lo, hi, len(ranks), err)
			}
			if !ValidRank(k) || (lo != "" && k <= lo) || (hi != "" && k >= hi) {
				t.Fatalf("RankBetween(%q, %q) = %q", lo, hi, k)
			}
			ranks = slices.Insert(ranks, i, k)
		}
	})
}
