package web

// The Scrum charts, drawn on the server as SVG: the sprint burndown and
// burn-up, the team's velocity and its cumulative flow, and the capacity
// bar of sprint planning. Like the sparklines they use classes and
// presentation attributes only (the content security policy allows no
// inline styles), so the theme's colours apply, and every point, bar and
// area carries a <title> that browsers show on hover. They read without
// JavaScript.

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

const (
	scW = 640.0
	scH = 260.0
	// The plot's margins: room for the value axis on the left and the
	// day or sprint labels below.
	scLeft   = 40.0
	scRight  = 14.0
	scTop    = 16.0
	scBottom = 30.0
)

var scEsc = html.EscapeString

// sprintPlot maps values to the chart's coordinates: n slots along x (days or
// sprints) and 0..max up the y axis.
type sprintPlot struct {
	n    int
	max  float64
	step float64 // between value gridlines
	// bars puts each slot in the middle of its own band (bar charts);
	// otherwise the first and last slots sit on the plot's edges.
	bars bool
}

func newSprintPlot(n int, top float64, bars bool) sprintPlot {
	step := sprintNiceStep(top)
	max := math.Ceil(top/step) * step
	if max <= 0 {
		max, step = 4, 1
	}
	return sprintPlot{n: n, max: max, step: step, bars: bars}
}

// sprintNiceStep picks a gridline step (1, 2 or 5 times a power of ten) that
// gives four to six lines up to top.
func sprintNiceStep(top float64) float64 {
	if top <= 4 {
		return 1
	}
	raw := top / 4
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}

func (p sprintPlot) band() float64 {
	w := scW - scLeft - scRight
	if p.bars {
		return w / float64(max(p.n, 1))
	}
	if p.n <= 1 {
		return w
	}
	return w / float64(p.n-1)
}

func (p sprintPlot) x(i int) float64 {
	if p.bars {
		return scLeft + (float64(i)+0.5)*p.band()
	}
	if p.n <= 1 {
		return scLeft + (scW-scLeft-scRight)/2
	}
	return scLeft + float64(i)*p.band()
}

func (p sprintPlot) y(v float64) float64 {
	return scTop + (1-v/p.max)*(scH-scTop-scBottom)
}

func (p sprintPlot) bottom() float64 { return scH - scBottom }

// open starts a chart: the svg element, its title and the value grid.
func (p sprintPlot) open(b *strings.Builder, class, summary, unit string) {
	fmt.Fprintf(b, `<svg class="chart %s" viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet">`,
		class, scW, scH, scEsc(summary))
	fmt.Fprintf(b, `<title>%s</title>`, scEsc(summary))
	b.WriteString(`<g class="grid">`)
	for v := 0.0; v <= p.max+p.step/2; v += p.step {
		y := p.y(v)
		fmt.Fprintf(b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, scLeft, scW-scRight, y, y)
		fmt.Fprintf(b, `<text class="axis" x="%g" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, scLeft-8, y, formatNumber(v))
	}
	b.WriteString(`</g>`)
	if unit != "" {
		fmt.Fprintf(b, `<text class="axis unit" x="%g" y="%g" text-anchor="start">%s</text>`, 4.0, scTop-6, scEsc(unit))
	}
}

// dayLabels writes the day labels under a chart, at most about eight.
func (p sprintPlot) dayLabels(b *strings.Builder, days []time.Time) {
	every := (len(days) + 7) / 8
	every = max(every, 1)
	b.WriteString(`<g class="x-labels">`)
	for i, d := range days {
		if i%every != 0 && i != len(days)-1 {
			continue
		}
		if i != len(days)-1 && len(days)-1-i < every && i%every == 0 && i != 0 {
			continue // too close to the last label
		}
		anchor := "middle"
		switch {
		case i == 0 && !p.bars && p.n > 1:
			anchor = "start"
		case i == len(days)-1 && !p.bars && p.n > 1:
			anchor = "end"
		}
		fmt.Fprintf(b, `<text class="axis" x="%.1f" y="%g" text-anchor="%s">%s</text>`, p.x(i), scH-10, anchor, d.Format("2 Jan"))
	}
	b.WriteString(`</g>`)
}

// weekends shades the Saturdays and Sundays of a day axis.
func (p sprintPlot) weekends(b *strings.Builder, days []time.Time) {
	if len(days) < 2 {
		return
	}
	w := p.band()
	for i, d := range days {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			continue
		}
		x0 := max(p.x(i)-w/2, scLeft)
		x1 := min(p.x(i)+w/2, scW-scRight)
		fmt.Fprintf(b, `<rect class="weekend" x="%.1f" y="%g" width="%.1f" height="%g"><title>%s: weekend</title></rect>`,
			x0, scTop, x1-x0, p.bottom()-scTop, d.Format("Mon 2 Jan"))
	}
}

func sprintPolyline(p sprintPlot, vals []float64) string {
	var s strings.Builder
	for i, v := range vals {
		if i > 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%.1f,%.1f", p.x(i), p.y(v))
	}
	return s.String()
}

// sprintPoint writes one data point with its hover text; the larger invisible
// circle makes it easy to hit.
func sprintPoint(b *strings.Builder, class string, x, y float64, title string) {
	fmt.Fprintf(b, `<g class="pt %s"><title>%s</title><circle class="hit" cx="%.1f" cy="%.1f" r="9"/><circle class="dot" cx="%.1f" cy="%.1f" r="3.2"/></g>`,
		class, scEsc(title), x, y, x, y)
}

func sprintPts(v float64) string {
	if v == 1 {
		return "1 point"
	}
	return formatNumber(v) + " points"
}

func sprintDays(b *northstar.Burndown) []time.Time {
	days := make([]time.Time, len(b.Ideal))
	for i, p := range b.Ideal {
		days[i] = p.Day.Time
	}
	return days
}

// sprintTodayMark draws a line at today when it is one of the days.
func sprintTodayMark(b *strings.Builder, p sprintPlot, days []time.Time, now time.Time) {
	t := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for i, d := range days {
		if d.Equal(t) && len(days) > 1 {
			fmt.Fprintf(b, `<line class="today" x1="%.1f" x2="%.1f" y1="%g" y2="%g"><title>Today, %s</title></line>`,
				p.x(i), p.x(i), scTop-4, p.bottom(), t.Format("Mon 2 Jan"))
		}
	}
}

// burndownChart draws a sprint's remaining points per day against the
// ideal line, with the days the scope changed marked.
func burndownChart(bd *northstar.Burndown, now time.Time) template.HTML {
	days := sprintDays(bd)
	top := 1.0
	for _, s := range [][]northstar.ChartPoint{bd.Ideal, bd.Remaining, bd.Scope} {
		for _, c := range s {
			top = max(top, c.Value)
		}
	}
	p := newSprintPlot(len(days), top, false)
	s := bd.Sprint
	summary := fmt.Sprintf("Burndown of %s: %d committed points", s.Name, s.CommittedPoints)
	if n := len(bd.Remaining); n > 0 {
		summary += fmt.Sprintf(", %s remaining on %s", sprintPts(bd.Remaining[n-1].Value), bd.Remaining[n-1].Day.Format("2 Jan"))
	}
	if len(bd.ScopeChanges) > 0 {
		summary += fmt.Sprintf(", scope changed %d %s", len(bd.ScopeChanges), sprintPlural(len(bd.ScopeChanges), "time", "times"))
	}
	var b strings.Builder
	p.open(&b, "burndown", summary, "points")
	p.weekends(&b, days)
	sprintTodayMark(&b, p, days, now)
	if len(days) > 0 {
		ideal := make([]float64, len(bd.Ideal))
		for i, c := range bd.Ideal {
			ideal[i] = c.Value
		}
		fmt.Fprintf(&b, `<polyline class="ideal" points="%s"><title>Ideal: from %s on %s to none on %s</title></polyline>`,
			sprintPolyline(p, ideal), sprintPts(ideal[0]), days[0].Format("2 Jan"), days[len(days)-1].Format("2 Jan"))
	}
	if len(bd.Remaining) == 0 {
		msg := "The burndown starts with the sprint."
		if len(days) > 0 {
			msg = "The burndown starts with the sprint, on " + days[0].Format("Mon 2 Jan") + "."
		}
		fmt.Fprintf(&b, `<text class="chart-note" x="%g" y="%g" text-anchor="middle">%s</text>`, scW/2, scH/2, scEsc(msg))
	} else {
		rem := make([]float64, len(bd.Remaining))
		for i, c := range bd.Remaining {
			rem[i] = c.Value
		}
		fmt.Fprintf(&b, `<polyline class="line remaining" points="%s"/>`, sprintPolyline(p, rem))
		// The scope changes: a marker above the day, a guide down to the line.
		index := map[string]int{}
		for i, c := range bd.Remaining {
			index[c.Day.String()] = i
		}
		for _, c := range bd.ScopeChanges {
			i, ok := index[c.Day.String()]
			if !ok {
				continue
			}
			x, y := p.x(i), p.y(rem[i])
			word, class := "added to", "up"
			if c.Value < 0 {
				word, class = "taken out of", "down"
			}
			title := fmt.Sprintf("%s: %s %s the sprint (scope now %s)", c.Day.Format("Mon 2 Jan"), sprintPts(math.Abs(c.Value)), word, formatNumber(bd.Scope[i].Value))
			fmt.Fprintf(&b, `<g class="scope-change %s"><title>%s</title><line x1="%.1f" x2="%.1f" y1="%g" y2="%.1f"/><path d="M%.1f %g l-5 -7 h10 z"/></g>`,
				class, scEsc(title), x, x, scTop+2, y, x, scTop+2)
		}
		for i, c := range bd.Remaining {
			title := fmt.Sprintf("%s: %s remaining", c.Day.Format("Mon 2 Jan"), sprintPts(c.Value))
			if i < len(bd.Scope) {
				title += fmt.Sprintf(" of %s in scope", formatNumber(bd.Scope[i].Value))
			}
			if i < len(bd.Ideal) {
				title += fmt.Sprintf(" (ideal %s)", formatNumber(math.Round(bd.Ideal[i].Value*10)/10))
			}
			sprintPoint(&b, "remaining", p.x(i), p.y(c.Value), title)
		}
	}
	p.dayLabels(&b, days)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// burnupChart draws a sprint's completed points per day against its
// scope: the gap between the lines is the work left.
func burnupChart(bd *northstar.Burndown, now time.Time) template.HTML {
	days := sprintDays(bd)
	top := 1.0
	for _, s := range [][]northstar.ChartPoint{bd.Scope, bd.Completed} {
		for _, c := range s {
			top = max(top, c.Value)
		}
	}
	top = max(top, float64(bd.Sprint.CommittedPoints))
	p := newSprintPlot(len(days), top, false)
	summary := "Burn-up of " + bd.Sprint.Name
	if n := len(bd.Completed); n > 0 {
		summary += fmt.Sprintf(": %s of %s completed on %s", formatNumber(bd.Completed[n-1].Value), sprintPts(bd.Scope[n-1].Value), bd.Completed[n-1].Day.Format("2 Jan"))
	}
	var b strings.Builder
	p.open(&b, "burnup", summary, "points")
	p.weekends(&b, days)
	sprintTodayMark(&b, p, days, now)
	if len(bd.Completed) == 0 {
		fmt.Fprintf(&b, `<text class="chart-note" x="%g" y="%g" text-anchor="middle">%s</text>`, scW/2, scH/2, "The burn-up starts with the sprint.")
	} else {
		scope := make([]float64, len(bd.Scope))
		for i, c := range bd.Scope {
			scope[i] = c.Value
		}
		done := make([]float64, len(bd.Completed))
		for i, c := range bd.Completed {
			done[i] = c.Value
		}
		// The completed area, closed along the bottom.
		n := len(done)
		fmt.Fprintf(&b, `<path class="area completed" d="M%.1f %.1f L%s L%.1f %.1f Z"/>`,
			p.x(0), p.bottom(), strings.ReplaceAll(sprintPolyline(p, done), " ", " L"), p.x(n-1), p.bottom())
		fmt.Fprintf(&b, `<polyline class="line scope" points="%s"/>`, sprintPolyline(p, scope))
		fmt.Fprintf(&b, `<polyline class="line completed" points="%s"/>`, sprintPolyline(p, done))
		for i, c := range bd.Scope {
			sprintPoint(&b, "scope", p.x(i), p.y(c.Value), fmt.Sprintf("%s: scope %s", c.Day.Format("Mon 2 Jan"), sprintPts(c.Value)))
		}
		for i, c := range bd.Completed {
			sprintPoint(&b, "completed", p.x(i), p.y(c.Value), fmt.Sprintf("%s: %s completed of %s", c.Day.Format("Mon 2 Jan"), sprintPts(c.Value), formatNumber(scope[i])))
		}
	}
	p.dayLabels(&b, days)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// velocityChart draws committed against completed points of the last
// sprints, oldest first, with the average of the last three.
func velocityChart(v []northstar.VelocityPoint) template.HTML {
	top := 1.0
	for _, s := range v {
		top = max(top, float64(s.Committed), float64(s.Completed))
	}
	p := newSprintPlot(len(v), top*1.1, true)
	avg := averageVelocity(v, 3)
	summary := "Velocity: no closed sprints yet"
	if avg != nil {
		summary = fmt.Sprintf("Velocity of the last %d %s: %s completed on average over the last %d", len(v), sprintPlural(len(v), "sprint", "sprints"),
			sprintPts(math.Round(*avg*10)/10), min(3, len(v)))
	}
	var b strings.Builder
	p.open(&b, "velocity", summary, "points")
	if len(v) == 0 {
		fmt.Fprintf(&b, `<text class="chart-note" x="%g" y="%g" text-anchor="middle">%s</text>`, scW/2, scH/2,
			"Velocity shows once the team has closed a sprint.")
	}
	band := p.band()
	bw := math.Min(34, band*0.34)
	for i, s := range v {
		cx := p.x(i)
		for _, bar := range []struct {
			class string
			x     float64
			val   int
			what  string
		}{{"committed", cx - bw - 1.5, s.Committed, "committed"}, {"completed", cx + 1.5, s.Completed, "completed"}} {
			y := p.y(float64(bar.val))
			h := p.bottom() - y
			fmt.Fprintf(&b, `<g class="bar-group"><title>%s: %s %s</title><rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3"/>`,
				scEsc(s.Sprint), sprintPts(float64(bar.val)), bar.what, bar.class, bar.x, y, bw, h)
			fmt.Fprintf(&b, `<text class="bar-value" x="%.1f" y="%.1f" text-anchor="middle">%d</text></g>`, bar.x+bw/2, y-5, bar.val)
		}
		name := s.Sprint
		maxChars := int(band / 6.6)
		if r := []rune(name); len(r) > maxChars && maxChars > 1 {
			name = string(r[:maxChars-1]) + "…"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%g" text-anchor="middle">%s<title>%s</title></text>`, cx, scH-10, scEsc(name), scEsc(s.Sprint))
	}
	if avg != nil {
		y := p.y(*avg)
		fmt.Fprintf(&b, `<line class="avg" x1="%g" x2="%g" y1="%.1f" y2="%.1f"><title>Average of the last %d: %s</title></line>`,
			scLeft, scW-scRight, y, y, min(3, len(v)), sprintPts(math.Round(*avg*10)/10))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// sprintFlowOrder stacks the statuses from the bottom: done first, new on top.
var sprintFlowOrder = []northstar.StoryStatus{northstar.StatusDone, northstar.StatusInReview, northstar.StatusInProgress, northstar.StatusReady, northstar.StatusNew}

// flowChart draws a cumulative flow diagram: for each day, the stories of
// the team's sprints per status, stacked.
func flowChart(days []northstar.FlowDay) template.HTML {
	top := 1.0
	for _, d := range days {
		total := 0
		for _, c := range d.Counts {
			total += c
		}
		top = max(top, float64(total))
	}
	p := newSprintPlot(len(days), top, false)
	summary := fmt.Sprintf("Cumulative flow over %d days", len(days))
	if n := len(days); n > 0 {
		var parts []string
		for i := len(sprintFlowOrder) - 1; i >= 0; i-- {
			s := sprintFlowOrder[i]
			parts = append(parts, fmt.Sprintf("%d %s", days[n-1].Counts[s], strings.ToLower(s.Label())))
		}
		summary += ": sprintToday " + strings.Join(parts, ", ")
	}
	var b strings.Builder
	p.open(&b, "flow", summary, "stories")
	lower := make([]float64, len(days))
	empty := top <= 1
	for _, s := range sprintFlowOrder {
		upper := make([]float64, len(days))
		for i, d := range days {
			upper[i] = lower[i] + float64(d.Counts[s])
		}
		if len(days) > 0 {
			var d strings.Builder
			fmt.Fprintf(&d, "M%s", strings.ReplaceAll(sprintPolyline(p, upper), " ", " L"))
			for i := len(days) - 1; i >= 0; i-- {
				fmt.Fprintf(&d, " L%.1f,%.1f", p.x(i), p.y(lower[i]))
			}
			d.WriteString(" Z")
			fmt.Fprintf(&b, `<path class="flow flow-%s" d="%s"><title>%s: %d now</title></path>`, s, d.String(), s.Label(), days[len(days)-1].Counts[s])
		}
		lower = upper
	}
	if empty {
		total := 0
		if len(days) > 0 {
			for _, c := range days[len(days)-1].Counts {
				total += c
			}
		}
		if total == 0 {
			fmt.Fprintf(&b, `<text class="chart-note" x="%g" y="%g" text-anchor="middle">%s</text>`, scW/2, scH/2,
				"No stories in the team's sprints in these days.")
		}
	}
	// One hover column per day with its counts.
	w := p.band()
	dates := make([]time.Time, len(days))
	for i, d := range days {
		dates[i] = d.Day.Time
		var parts []string
		for j := len(sprintFlowOrder) - 1; j >= 0; j-- {
			s := sprintFlowOrder[j]
			parts = append(parts, fmt.Sprintf("%d %s", d.Counts[s], strings.ToLower(s.Label())))
		}
		x0 := max(p.x(i)-w/2, scLeft)
		x1 := min(p.x(i)+w/2, scW-scRight)
		fmt.Fprintf(&b, `<rect class="day-hit" x="%.1f" y="%g" width="%.1f" height="%g"><title>%s: %s</title></rect>`,
			x0, scTop, x1-x0, p.bottom()-scTop, d.Day.Format("Mon 2 Jan"), strings.Join(parts, ", "))
	}
	p.dayLabels(&b, dates)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// capacityBar draws the committed points against the team's capacity:
// the part over the capacity in the warning colour, a mark at the
// capacity and one at the velocity when they differ.
func capacityBar(pl *northstar.Planning) template.HTML {
	const w, h = 1000.0, 14.0
	points := float64(pl.Points)
	scale := max(points, 1)
	if pl.Capacity != nil {
		scale = max(scale, *pl.Capacity)
	}
	if pl.Velocity != nil {
		scale = max(scale, *pl.Velocity)
	}
	scale *= 1.1
	x := func(v float64) float64 { return math.Min(v, scale) / scale * w }
	summary := fmt.Sprintf("%s committed", sprintPts(points))
	if pl.Capacity != nil {
		summary += fmt.Sprintf(" of a capacity of %s", sprintPts(math.Round(*pl.Capacity*10)/10))
	}
	class := "capacity-bar"
	if pl.Over() {
		class += " over"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="%s" viewBox="0 0 %g %g" preserveAspectRatio="none" role="img" aria-label="%s"><title>%s</title>`,
		class, w, h, scEsc(summary), scEsc(summary))
	fmt.Fprintf(&b, `<rect class="cap-track" x="0" y="0" width="%g" height="%g"/>`, w, h)
	within := points
	if pl.Capacity != nil {
		within = math.Min(points, *pl.Capacity)
	}
	fmt.Fprintf(&b, `<rect class="cap-fill" x="0" y="0" width="%.1f" height="%g"><title>%s committed</title></rect>`, x(within), h, sprintPts(points))
	if pl.Capacity != nil && points > *pl.Capacity {
		fmt.Fprintf(&b, `<rect class="cap-over" x="%.1f" y="0" width="%.1f" height="%g"><title>%s over the capacity</title></rect>`,
			x(*pl.Capacity), x(points)-x(*pl.Capacity), h, sprintPts(math.Round((points-*pl.Capacity)*10)/10))
	}
	if pl.Velocity != nil && (pl.Capacity == nil || math.Abs(*pl.Velocity-*pl.Capacity) > 0.05) {
		fmt.Fprintf(&b, `<line class="cap-velocity" x1="%.1f" x2="%.1f" y1="0" y2="%g"><title>Velocity: %s</title></line>`,
			x(*pl.Velocity), x(*pl.Velocity), h, sprintPts(math.Round(*pl.Velocity*10)/10))
	}
	if pl.Capacity != nil {
		fmt.Fprintf(&b, `<line class="cap-mark" x1="%.1f" x2="%.1f" y1="0" y2="%g"><title>Capacity: %s</title></line>`,
			x(*pl.Capacity), x(*pl.Capacity), h, sprintPts(math.Round(*pl.Capacity*10)/10))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
