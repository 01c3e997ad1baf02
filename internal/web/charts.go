package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// Small server-rendered SVG charts. They use presentation attributes and
// CSS classes only (the content security policy allows no inline styles),
// and every point carries a <title> that browsers show on hover.

const (
	sparkWidth  = 180.0
	sparkHeight = 44.0
	sparkPad    = 5.0
)

// sparkPoint is one value on a day.
type sparkPoint struct {
	At    time.Time
	Value float64
	Title string
}

// sparkline draws a key result's history as a step chart: the value holds
// from one check-in to the next, starting at the start value on the first
// day of the objective; a dashed line marks the target and a thin one
// today.
func sparkline(o *northstar.Objective, kr *northstar.KeyResult) template.HTML {
	return sparklineAt(o, kr, time.Now())
}

func sparklineAt(o *northstar.Objective, kr *northstar.KeyResult, now time.Time) template.HTML {
	unit := func(v float64) string {
		if kr.Unit == "" {
			return formatNumber(v)
		}
		if kr.Unit == "%" {
			return formatNumber(v) + "%"
		}
		return formatNumber(v) + " " + kr.Unit
	}
	start := o.Start.Time
	if start.IsZero() {
		start = o.CreatedAt
	}
	points := []sparkPoint{{At: start, Value: kr.Start, Title: "Start " + o.Start.Format("2 Jan 2006") + ": " + unit(kr.Start)}}
	for _, c := range kr.CheckIns {
		title := c.At.UTC().Format("2 Jan 2006") + ": " + unit(c.Value)
		if c.Actor != "" {
			title += " · " + c.Actor
		}
		if c.Note != "" {
			title += " — " + c.Note
		}
		points = append(points, sparkPoint{At: c.At, Value: c.Value, Title: title})
	}

	// The time axis spans the objective's period and every check-in.
	t0, t1 := start, o.End.Time
	if t1.IsZero() || !t1.After(t0) {
		t1 = t0.Add(24 * time.Hour)
	}
	for _, p := range points {
		if p.At.Before(t0) {
			t0 = p.At
		}
		if p.At.After(t1) {
			t1 = p.At
		}
	}
	// The value axis spans start, target and every value, with a margin.
	lo, hi := min(kr.Start, kr.Target), max(kr.Start, kr.Target)
	for _, p := range points {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	margin := (hi - lo) * 0.12
	lo, hi = lo-margin, hi+margin

	x := func(t time.Time) float64 {
		f := float64(t.Sub(t0)) / float64(t1.Sub(t0))
		return sparkPad + f*(sparkWidth-2*sparkPad)
	}
	y := func(v float64) float64 {
		return sparkHeight - sparkPad - (v-lo)/(hi-lo)*(sparkHeight-2*sparkPad)
	}

	var line strings.Builder
	fmt.Fprintf(&line, "M%.1f %.1f", x(points[0].At), y(points[0].Value))
	for _, p := range points[1:] {
		fmt.Fprintf(&line, "H%.1f V%.1f", x(p.At), y(p.Value))
	}
	last := points[len(points)-1]
	end := last.At
	if now.After(end) {
		end = now
		if end.After(t1) {
			end = t1
		}
		if end.Before(last.At) {
			end = last.At
		}
	}
	fmt.Fprintf(&line, "H%.1f", x(end))

	summary := fmt.Sprintf("%s: %d check-ins, now %s, target %s", kr.Name, len(kr.CheckIns), unit(kr.Current), unit(kr.Target))
	if len(kr.CheckIns) == 0 {
		summary = fmt.Sprintf("%s: no check-ins yet; start %s, target %s", kr.Name, unit(kr.Start), unit(kr.Target))
	}
	esc := html.EscapeString

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s">`,
		sparkWidth, sparkHeight, sparkWidth, sparkHeight, esc(summary))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(summary))
	if !now.Before(t0) && !now.After(t1) {
		fmt.Fprintf(&b, `<line class="spark-today" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"><title>Today</title></line>`,
			x(now), x(now), sparkPad/2, sparkHeight-sparkPad/2)
	}
	fmt.Fprintf(&b, `<line class="spark-target" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"><title>Target: %s</title></line>`,
		sparkPad, sparkWidth-sparkPad, y(kr.Target), y(kr.Target), esc(unit(kr.Target)))
	// What shipped against the check-ins: a mark at each linked
	// feature's release, inside the time axis.
	for _, f := range kr.Features {
		if f.ReleasedAt == nil || f.ReleasedAt.Before(t0) || f.ReleasedAt.After(t1) {
			continue
		}
		fx := x(*f.ReleasedAt)
		fmt.Fprintf(&b, `<g class="spark-ship"><title>%s shipped %s: %s</title><line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><path d="M%.1f %.1fl3 -4h-6z"/></g>`,
			esc(f.Ref), f.ReleasedAt.Format("2 Jan 2006"), esc(f.Title), fx, fx, sparkPad/2+4, sparkHeight-sparkPad/2, fx, sparkPad/2+4)
	}
	fmt.Fprintf(&b, `<path class="spark-line" d="%s"/>`, line.String())
	for i, p := range points {
		class := "spark-dot"
		if i == 0 {
			class += " spark-start"
		}
		if i == len(points)-1 && i > 0 {
			class += " spark-last"
		}
		fmt.Fprintf(&b, `<g class="spark-point"><title>%s</title><circle class="spark-hit" cx="%.1f" cy="%.1f" r="7"/><circle class="%s" cx="%.1f" cy="%.1f" r="2.6"/></g>`,
			esc(p.Title), x(p.At), y(p.Value), class, x(p.At), y(p.Value))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
