package northstar

import (
	"fmt"
	"strings"
)

// Ranks order the backlog. A rank is a string that sorts (byte-wise) into
// the backlog's order, so moving a story writes one row: its new rank is
// chosen between its new neighbours' ranks, and nothing else changes.
//
// A rank is an integer part and an optional fraction. The integer part is
// a head letter that gives its length ('a' one digit follows, 'b' two, …;
// 'Z' one digit, 'Y' two, … for the integers below "a0") and base-62
// digits. Appending and prepending step the integer, so a backlog built by
// adding at the bottom keeps ranks of a few characters; only repeated
// inserts between the same two stories lengthen the fraction, and those
// are rebalanced (see RanksBetween).

const rankDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// FirstRank is the rank of the first story of an empty backlog.
const FirstRank = "a0"

// MaxRankLen is the length beyond which a rank should be rebalanced.
const MaxRankLen = 40

func digitValue(c byte) int { return strings.IndexByte(rankDigits, c) }

// intLen returns the length of an integer part from its head letter.
func intLen(head byte) (int, error) {
	switch {
	case head >= 'a' && head <= 'z':
		return int(head-'a') + 2, nil
	case head >= 'A' && head <= 'Z':
		return int('Z'-head) + 2, nil
	}
	return 0, fmt.Errorf("invalid rank head %q", head)
}

// splitRank returns a rank's integer part and fraction.
func splitRank(r string) (integer, fraction string, err error) {
	if r == "" {
		return "", "", fmt.Errorf("empty rank")
	}
	n, err := intLen(r[0])
	if err != nil {
		return "", "", err
	}
	if len(r) < n {
		return "", "", fmt.Errorf("rank %q is too short", r)
	}
	for i := 1; i < len(r); i++ {
		if digitValue(r[i]) < 0 {
			return "", "", fmt.Errorf("rank %q has an invalid digit", r)
		}
	}
	if len(r) > n && r[len(r)-1] == '0' {
		return "", "", fmt.Errorf("rank %q ends in a zero fraction digit", r)
	}
	return r[:n], r[n:], nil
}

// ValidRank reports whether r is a well-formed rank.
func ValidRank(r string) bool {
	_, _, err := splitRank(r)
	return err == nil
}

// smallestInt is the least integer part: nothing can be ranked before it
// except through a fraction.
var smallestInt = "A" + strings.Repeat("0", 26)

// incrementInt returns the next integer part, or "" past the largest.
func incrementInt(x string) string {
	head, digits := x[0], []byte(x[1:])
	for i := len(digits) - 1; i >= 0; i-- {
		if d := digitValue(digits[i]); d < len(rankDigits)-1 {
			digits[i] = rankDigits[d+1]
			return string(head) + string(digits)
		}
		digits[i] = '0'
	}
	// All digits overflowed: move to the next head.
	switch {
	case head == 'Z':
		return "a0"
	case head == 'z':
		return ""
	}
	next := head + 1
	n, _ := intLen(next)
	if head >= 'A' && head < 'Z' {
		// Shorter negative integers follow longer ones.
		return string(next) + strings.Repeat("0", n-1)
	}
	return string(next) + strings.Repeat("0", n-1)
}

// decrementInt returns the previous integer part, or "" before the smallest.
func decrementInt(x string) string {
	head, digits := x[0], []byte(x[1:])
	for i := len(digits) - 1; i >= 0; i-- {
		if d := digitValue(digits[i]); d > 0 {
			digits[i] = rankDigits[d-1]
			return string(head) + string(digits)
		}
		digits[i] = 'z'
	}
	switch {
	case head == 'a':
		return "Zz"
	case head == 'A':
		return ""
	}
	prev := head - 1
	n, _ := intLen(prev)
	return string(prev) + strings.Repeat("z", n-1)
}

// midFraction returns a fraction strictly between a and b, where b == ""
// means no upper bound. Neither ends in '0', and so neither does the result.
func midFraction(a, b string) string {
	if b != "" {
		// Keep the common prefix (a padded with zeros) and decide after it.
		n := 0
		for n < len(b) {
			ca := byte('0')
			if n < len(a) {
				ca = a[n]
			}
			if ca != b[n] {
				break
			}
			n++
		}
		if n > 0 {
			rest := ""
			if n < len(a) {
				rest = a[n:]
			}
			return b[:n] + midFraction(rest, b[n:])
		}
	}
	da := 0
	if a != "" {
		da = digitValue(a[0])
	}
	db := len(rankDigits)
	if b != "" {
		db = digitValue(b[0])
	}
	if db-da > 1 {
		return string(rankDigits[(da+db)/2])
	}
	// Adjacent first digits.
	if b != "" && len(b) > 1 {
		return b[:1]
	}
	rest := ""
	if len(a) > 1 {
		rest = a[1:]
	}
	return string(rankDigits[da]) + midFraction(rest, "")
}

// RankBetween returns a rank strictly between a and b. An empty a means
// "before b" (the top), an empty b "after a" (the bottom); both empty give
// FirstRank. a must sort before b.
func RankBetween(a, b string) (string, error) {
	if a != "" && b != "" && a >= b {
		return "", fmt.Errorf("rank between %q and %q: not in order", a, b)
	}
	switch {
	case a == "" && b == "":
		return FirstRank, nil
	case a == "":
		ib, fb, err := splitRank(b)
		if err != nil {
			return "", err
		}
		if ib == smallestInt {
			return ib + midFraction("", fb), nil
		}
		if fb != "" {
			return ib, nil
		}
		return decrementInt(ib), nil
	case b == "":
		ia, fa, err := splitRank(a)
		if err != nil {
			return "", err
		}
		if i := incrementInt(ia); i != "" {
			return i, nil
		}
		return ia + midFraction(fa, ""), nil
	}
	ia, fa, err := splitRank(a)
	if err != nil {
		return "", err
	}
	ib, fb, err := splitRank(b)
	if err != nil {
		return "", err
	}
	if ia == ib {
		return ia + midFraction(fa, fb), nil
	}
	if i := incrementInt(ia); i != "" && i < b {
		return i, nil
	}
	return ia + midFraction(fa, ""), nil
}

// RanksBetween returns n ranks in order strictly between a and b (either
// may be empty, as for RankBetween), spread so that they stay short: it
// rebalances a crowded stretch of the backlog, and seeds a new one.
func RanksBetween(a, b string, n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	if b == "" {
		// Appending: step the integer part from a.
		out := make([]string, 0, n)
		prev := a
		for i := 0; i < n; i++ {
			r, err := RankBetween(prev, "")
			if err != nil {
				return nil, err
			}
			out = append(out, r)
			prev = r
		}
		return out, nil
	}
	if a == "" {
		out := make([]string, n)
		next := b
		for i := n - 1; i >= 0; i-- {
			r, err := RankBetween("", next)
			if err != nil {
				return nil, err
			}
			out[i] = r
			next = r
		}
		return out, nil
	}
	mid, err := RankBetween(a, b)
	if err != nil {
		return nil, err
	}
	left, err := RanksBetween(a, mid, n/2)
	if err != nil {
		return nil, err
	}
	right, err := RanksBetween(mid, b, n-n/2-1)
	if err != nil {
		return nil, err
	}
	out := append(left, mid)
	return append(out, right...), nil
}
