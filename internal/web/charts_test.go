package web

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

func TestSparkline(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(northstar.DateLayout, s); return d }
	o := &northstar.Objective{Start: northstar.Date{Time: day("2026-01-01")}, End: northstar.Date{Time: day("2026-03-31")}}
	kr := &northstar.KeyResult{Name: "Churn", Unit: "%", Start: 8, Target: 2, Current: 5, CheckIns: []*northstar.CheckIn{
		{Value: 6, At: day("2026-01-20"), Actor: "Priya"},
		{Value: 5, At: day("2026-02-10"), Note: `<script>alert("x")</script>`},
	}}
	svg := string(sparklineAt(o, kr, day("2026-02-15")))
	for _, want := range []string{
		`<svg class="spark"`, `role="img"`, `<title>Churn: 2 check-ins, now 5%, target 2%</title>`,
		`<title>Start 1 Jan 2026: 8%</title>`, `<title>20 Jan 2026: 6% · Priya</title>`,
		`&lt;script&gt;`, `class="spark-target"`, `<title>Today</title>`, `class="spark-dot spark-last"`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("sparkline lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<script>") || strings.Contains(svg, "style=") {
		t.Errorf("sparkline has a script or an inline style:\n%s", svg)
	}
	// Every coordinate lies inside the picture.
	for _, m := range regexp.MustCompile(`c[xy]="(-?[\d.]+)"`).FindAllStringSubmatch(svg, -1) {
		if strings.HasPrefix(m[1], "-") {
			t.Errorf("point outside the chart: %s", m[0])
		}
	}
	// Without check-ins, and with start = target (no progress) it still
	// draws.
	flat := string(sparklineAt(o, &northstar.KeyResult{Name: "Flat", Start: 3, Target: 3, Current: 3}, day("2026-05-01")))
	if !strings.Contains(flat, "no check-ins yet") || strings.Contains(flat, "NaN") || strings.Contains(flat, "Today") {
		t.Errorf("flat sparkline:\n%s", flat)
	}
}

func TestFormatNumber(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 42: "42", 1200: "1,200", 1234567.5: "1,234,567.5", -12500: "-12,500", 3.75: "3.75", 1.0 / 3: "0.33", 0.05: "0.05"} {
		if got := formatNumber(v); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestQuoteFromSource(t *testing.T) {
	src := "She counts stock **by hand** every Sunday.\n\nThe [distributor](https://example.com) needs _a week_."
	for _, tc := range []struct{ passage, want string }{
		{"counts stock", "counts stock"},
		{"counts  stock\n", "counts  stock\n"}, // spacing differs only: as it is
		{"counts stock by", "counts stock **by"},
		{"stock by hand every", "stock **by hand** every"},
		{"ounts stock by ha", "ounts stock **by ha"},
		{"needs a week", "needs _a week"},
		{"hand", "hand"},
		{"words she never said", "words she never said"},
		{"", ""},
	} {
		if got := quoteFromSource(src, tc.passage); got != tc.want {
			t.Errorf("quoteFromSource(%q) = %q, want %q", tc.passage, got, tc.want)
		}
	}
}
