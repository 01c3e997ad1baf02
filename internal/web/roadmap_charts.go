package web

// The roadmap's pictures, drawn on the server as SVG: the timeline (on the
// roadmap page, on the shared page, as a standalone image to download and,
// across products, on the portfolio page) and the value/effort 2×2 of the
// prioritisation page. Like the sparklines they use attributes and classes
// only: the content security policy allows no inline styles. Every element
// carries a presentation attribute for its colour, which the page's
// stylesheet (roadmap.css) overrides by class for the light and dark
// themes; the standalone image has no stylesheet and keeps the attributes.

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
)

// The colours of the standalone image (the light theme's).
const (
	rmInkText   = "#121826"
	rmInkMuted  = "#5f6b7a"
	rmInkGrid   = "#e3e6eb"
	rmInkBand   = "#f1f3f6"
	rmInkToday  = "#dc2626"
	rmInkAccent = "#4f46e5"
	rmInkPaper  = "#ffffff"
	rmFont      = "ui-sans-serif, system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
)

// featureStatusInk is each feature status's colour in the standalone image.
var featureStatusInk = map[northstar.FeatureStatus]string{
	northstar.FeatureIdea:               "#8a94a3",
	northstar.FeatureUnderConsideration: "#0891b2",
	northstar.FeaturePlanned:            "#2563eb",
	northstar.FeatureInProgress:         "#d97706",
	northstar.FeatureReleased:           "#16a34a",
	northstar.FeatureRejected:           "#dc2626",
}

// clip shortens s to at most n characters, with an ellipsis.
func roadmapClip(s string, n int) string {
	if n < 2 {
		n = 2
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// --- Timeline ---

// The timeline's scales and groupings.
const (
	rmScaleMonths    = "months"
	rmScaleQuarters  = "quarters"
	rmGroupTheme     = "theme"
	rmGroupObjective = "objective"
	rmGroupProduct   = "product" // the portfolio's: a row group per product
	rmLabelW         = 280.0
	rmRowH           = 30.0
	rmGroupH         = 30.0
	rmAxisH          = 44.0
	rmLaneH          = 20.0
	rmTitleH         = 44.0
)

// roadmapTimelineSpec says how to draw a timeline.
type roadmapTimelineSpec struct {
	Scale string // rmScaleMonths or rmScaleQuarters
	Group string // rmGroupTheme, rmGroupObjective or rmGroupProduct
	// Products are the groups of rmGroupProduct, in order. Each
	// product's heading links to its roadmap and carries its releases'
	// markers, as the roadmap's features and releases span products.
	Products []*northstar.PortfolioProduct
	// LinkBase, when set, links each feature's row to LinkBase + its ref;
	// LinkFeatures links it to its page in its own product.
	LinkBase     string
	LinkFeatures bool
	// Standalone draws a document of its own (the export): with the XML
	// namespace, a white page and a heading.
	Standalone bool
	Heading    string
	Now        time.Time
}

// roadmapTimelineRow is a group heading (F nil) or a feature under one;
// Product is the group's product when grouped by product.
type roadmapTimelineRow struct {
	Group   string
	Product *northstar.PortfolioProduct
	F       *northstar.Feature
}

// roadmapTimeline is a drawn timeline and what it could not place.
type roadmapTimeline struct {
	SVG template.HTML
	// Scheduled counts the features with dates; Unscheduled lists the
	// others (not rejected), for the page to list beside the picture.
	Scheduled   int
	Unscheduled []*northstar.Feature
	Width       float64
}

// rmMonthPos is t's place in months since year 0, with the day as a
// fraction of its month.
func rmMonthPos(t time.Time) float64 {
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	days := first.AddDate(0, 1, 0).Sub(first).Hours() / 24
	return float64(t.Year()*12+int(t.Month())-1) + float64(t.Day()-1)/days
}

func rmMonthIndex(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// featureSpan returns a feature's first and last day on the timeline;
// one date alone is a one-day span.
func featureSpan(f *northstar.Feature) (time.Time, time.Time, bool) {
	s, e := f.Start.Time, f.End.Time
	switch {
	case f.Start.IsZero() && f.End.IsZero():
		return time.Time{}, time.Time{}, false
	case f.Start.IsZero():
		s = e
	case f.End.IsZero():
		e = s
	}
	return s, e, true
}

// roadmapTimelineGroups orders the scheduled features into groups: by theme
// (themes by name, then those without one), by objective (a feature
// serving two objectives shows under both, then those serving none) or by
// product (the spec's products in order; one with no feature on the
// timeline still shows when marked says it has a release there).
func roadmapTimelineGroups(rm *app.Roadmap, fs []*northstar.Feature, spec roadmapTimelineSpec, marked map[string]bool) []roadmapTimelineRow {
	slices.SortStableFunc(fs, func(a, b *northstar.Feature) int {
		as, _, _ := featureSpan(a)
		bs, _, _ := featureSpan(b)
		return cmp.Or(as.Compare(bs), cmp.Compare(a.Number, b.Number))
	})
	var rows []roadmapTimelineRow
	add := func(name string, match func(f *northstar.Feature) bool) {
		first := true
		for _, f := range fs {
			if !match(f) {
				continue
			}
			if first {
				rows = append(rows, roadmapTimelineRow{Group: name})
				first = false
			}
			rows = append(rows, roadmapTimelineRow{Group: name, F: f})
		}
	}
	if spec.Group == rmGroupProduct {
		for _, p := range spec.Products {
			head := roadmapTimelineRow{Group: p.Key + " " + p.Name, Product: p}
			n := len(rows)
			add(head.Group, func(f *northstar.Feature) bool { return f.ProductKey == p.Key })
			if len(rows) == n && marked[p.Key] {
				rows = append(rows, head)
			}
			for i := n; i < len(rows); i++ {
				rows[i].Product = p
			}
		}
		return rows
	}
	if spec.Group == rmGroupObjective {
		for _, o := range rm.Objectives {
			add(o.Title, func(f *northstar.Feature) bool {
				return slices.ContainsFunc(f.Objectives, func(r northstar.NamedRef) bool { return r.ID == o.ID })
			})
		}
		add("No objective", func(f *northstar.Feature) bool { return len(f.Objectives) == 0 })
		return rows
	}
	for _, t := range rm.Themes {
		add(t.Name, func(f *northstar.Feature) bool { return f.Theme != nil && f.Theme.ID == t.ID })
	}
	add("No theme", func(f *northstar.Feature) bool { return f.Theme == nil })
	return rows
}

// drawRoadmapTimeline draws the roadmap's features with dates as bars over
// months or quarters, grouped by theme, objective or product, with each
// release as a marker at its target date (under the axis, or by product in
// its heading) and a line at today.
func drawRoadmapTimeline(rm *app.Roadmap, spec roadmapTimelineSpec) roadmapTimeline {
	esc := html.EscapeString
	unit := 1
	maxCols := 36
	if spec.Scale == rmScaleQuarters {
		unit, maxCols = 3, 16
	}
	colW := 72.0
	if unit == 3 {
		colW = 132
	}
	now := spec.Now.UTC()
	shippedLongAgo := now.AddDate(0, -6, 0)

	var out roadmapTimeline
	var scheduled []*northstar.Feature
	for _, f := range rm.Features {
		if f.Status == northstar.FeatureRejected {
			continue
		}
		if _, end, ok := featureSpan(f); ok {
			if f.Status == northstar.FeatureReleased && end.Before(shippedLongAgo) {
				continue // a roadmap looks ahead: old history stays on the features list
			}
			scheduled = append(scheduled, f)
		} else {
			out.Unscheduled = append(out.Unscheduled, f)
		}
	}
	out.Scheduled = len(scheduled)

	// The period: every date shown, and today, in whole columns.
	lo, hi := rmMonthIndex(now), rmMonthIndex(now)
	for _, f := range scheduled {
		s, e, _ := featureSpan(f)
		lo, hi = min(lo, rmMonthIndex(s)), max(hi, rmMonthIndex(e))
	}
	for _, r := range rm.Releases {
		if !r.Target.IsZero() && !(r.Status == northstar.ReleaseReleased && r.Target.Before(shippedLongAgo)) {
			lo, hi = min(lo, rmMonthIndex(r.Target.Time)), max(hi, rmMonthIndex(r.Target.Time))
		}
	}
	m0 := lo - ((lo%unit)+unit)%unit
	cols := (hi-m0)/unit + 1
	if cols > maxCols {
		// Dates years apart (or typed wrong): show from a year ago.
		m0 = max(lo, rmMonthIndex(now)-12)
		m0 -= ((m0 % unit) + unit) % unit
		cols = maxCols
	}
	minCols := 6
	if unit == 3 {
		minCols = 4
	}
	cols = max(cols, minCols)
	chartW := float64(cols) * colW
	width := rmLabelW + chartW
	out.Width = width
	m1 := float64(m0 + cols*unit)
	x := func(t time.Time) float64 {
		p := (rmMonthPos(t) - float64(m0)) / float64(unit) * colW
		return rmLabelW + min(max(p, 0), chartW)
	}
	inside := func(t time.Time) bool { p := rmMonthPos(t); return p >= float64(m0) && p <= m1 }

	// Releases in the period, with their labels stacked in lanes so
	// that close dates do not overlap: under the axis, or each product's
	// in its heading.
	type marker struct {
		r    *northstar.Release
		x    float64
		lane int
		left bool
	}
	place := func(rs []*northstar.Release) ([]marker, int) {
		var markers []marker
		var laneEnd []float64
		for _, r := range rs {
			if r.Target.IsZero() || !inside(r.Target.Time) {
				continue
			}
			label := releaseLabel(r)
			mx := x(r.Target.Time)
			textW := float64(utf8.RuneCountInString(label))*6.6 + 16
			left := mx+textW > width-4
			from, to := mx, mx+textW
			if left {
				from, to = mx-textW, mx
			}
			lane := 0
			for lane < len(laneEnd) && laneEnd[lane] > from {
				lane++
			}
			if lane == len(laneEnd) {
				if lane >= 3 {
					lane = 2
				} else {
					laneEnd = append(laneEnd, 0)
				}
			}
			laneEnd[lane] = to + 8
			markers = append(markers, marker{r, mx, lane, left})
		}
		return markers, len(laneEnd)
	}
	var markers []marker
	lanes := 0
	productMarkers := map[string][]marker{}
	productLanes := map[string]int{}
	marked := map[string]bool{}
	if spec.Group == rmGroupProduct {
		rs := map[string][]*northstar.Release{}
		for _, r := range rm.Releases {
			rs[r.ProductKey] = append(rs[r.ProductKey], r)
		}
		for key, list := range rs {
			productMarkers[key], productLanes[key] = place(list)
			marked[key] = len(productMarkers[key]) > 0
		}
	} else {
		markers, lanes = place(rm.Releases)
		lanes = max(lanes, 1)
	}
	rows := roadmapTimelineGroups(rm, scheduled, spec, marked)
	headingH := func(row roadmapTimelineRow) float64 {
		if row.Product == nil {
			return rmGroupH
		}
		return rmGroupH + float64(max(productLanes[row.Product.Key], 1)-1)*rmLaneH
	}
	top := rmAxisH + float64(lanes)*rmLaneH + 6
	height := top + 8
	released, products := len(markers), 0
	for _, row := range rows {
		if row.F == nil {
			height += headingH(row)
			if row.Product != nil {
				released += len(productMarkers[row.Product.Key])
				products++
			}
		} else {
			height += rmRowH
		}
	}
	if len(rows) == 0 {
		height += rmRowH * 2
	}
	offset := 0.0
	if spec.Standalone {
		offset = rmTitleH
	}
	total := height + offset

	var b strings.Builder
	by := map[bool]string{true: "quarter", false: "month"}[unit == 3]
	summary := fmt.Sprintf("Roadmap timeline by %s: %d features with dates, %d releases", by, len(scheduled), released)
	if spec.Group == rmGroupProduct {
		summary = fmt.Sprintf("Roadmap timeline across %d products by %s: %d features with dates, %d releases", products, by, len(scheduled), released)
	}
	if spec.Standalone {
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="%s" font-size="12">`, width, total, width, total, rmFont)
		fmt.Fprintf(&b, `<title>%s</title><rect width="%g" height="%g" fill="%s"/>`, esc(spec.Heading), width, total, rmInkPaper)
		fmt.Fprintf(&b, `<text x="12" y="28" font-size="17" font-weight="700" fill="%s">%s</text>`, rmInkText, esc(spec.Heading))
		fmt.Fprintf(&b, `<g transform="translate(0 %g)">`, offset)
	} else {
		fmt.Fprintf(&b, `<svg class="timeline-chart" width="%g" height="%g" viewBox="0 0 %g %g" font-size="12" aria-label="%s">`, width, total, width, total, esc(summary))
		fmt.Fprintf(&b, `<title>%s</title>`, esc(summary))
	}

	// The axis: years above, months or quarters below, grid lines down.
	fmt.Fprintf(&b, `<rect class="tl-axis-bg" x="0" y="0" width="%g" height="%g" fill="%s"/>`, width, rmAxisH, rmInkBand)
	fmt.Fprintf(&b, `<text class="tl-axis-title" x="12" y="28" fill="%s" font-weight="600">Feature</text>`, rmInkMuted)
	for i := range cols {
		m := m0 + i*unit
		year, month := m/12, m%12+1
		cx := rmLabelW + float64(i)*colW
		fmt.Fprintf(&b, `<line class="tl-grid" x1="%g" x2="%g" y1="0" y2="%g" stroke="%s"/>`, cx, cx, height, rmInkGrid)
		label := time.Month(month).String()[:3]
		if unit == 3 {
			label = fmt.Sprintf("Q%d", (month-1)/3+1)
		}
		fmt.Fprintf(&b, `<text class="tl-axis-label" x="%g" y="36" text-anchor="middle" fill="%s">%s</text>`, cx+colW/2, rmInkMuted, label)
		if i == 0 || month == 1 {
			fmt.Fprintf(&b, `<text class="tl-axis-year" x="%g" y="16" fill="%s" font-weight="700">%d</text>`, cx+6, rmInkText, year)
		}
	}
	fmt.Fprintf(&b, `<line class="tl-grid" x1="%g" x2="%g" y1="0" y2="%g" stroke="%s"/>`, width-0.5, width-0.5, height, rmInkGrid)
	fmt.Fprintf(&b, `<line class="tl-axis-line" x1="0" x2="%g" y1="%g" y2="%g" stroke="%s"/>`, width, rmAxisH, rmAxisH, rmInkGrid)
	if len(markers) > 0 {
		fmt.Fprintf(&b, `<text class="tl-lane-title" x="12" y="%g" fill="%s" font-size="11" font-weight="600">RELEASES</text>`, rmAxisH+15, rmInkMuted)
	}
	if lanes > 0 {
		fmt.Fprintf(&b, `<line class="tl-axis-line" x1="0" x2="%g" y1="%g" y2="%g" stroke="%s"/>`, width, top-3, top-3, rmInkGrid)
	}

	// The rows; a product's heading spans its rows, for its releases.
	type span struct {
		key         string
		top, bottom float64
	}
	var spans []span
	y := top
	if len(rows) == 0 {
		fmt.Fprintf(&b, `<text class="tl-empty" x="12" y="%g" fill="%s">No feature has dates yet.</text>`, y+rmRowH, rmInkMuted)
	}
	for _, row := range rows {
		if row.F == nil {
			h := headingH(row)
			fmt.Fprintf(&b, `<rect class="tl-group-bg" x="0" y="%g" width="%g" height="%g" fill="%s"/>`, y+2, width, h-4, rmInkBand)
			if p := row.Product; p != nil {
				if len(spans) > 0 {
					spans[len(spans)-1].bottom = y
				}
				spans = append(spans, span{key: p.Key, top: y})
				keyW := float64(utf8.RuneCountInString(p.Key))*7 + 8
				room := rmLabelW - 12 - keyW - 12
				fmt.Fprintf(&b, `<a class="tl-group-link" href="%s"><title>%s</title>`, esc(roadmapURL(p.Key, "")), esc(p.Key+" "+p.Name+" · its roadmap"))
				fmt.Fprintf(&b, `<text class="tl-group" x="12" y="%g" fill="%s" font-weight="700"><tspan class="tl-group-key" fill="%s" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="11">%s</tspan> <tspan x="%g">%s</tspan></text></a>`,
					y+rmGroupH/2+4, rmInkText, rmInkMuted, esc(p.Key), 12+keyW, esc(roadmapClip(p.Name, int(room/7.2))))
			} else {
				fmt.Fprintf(&b, `<text class="tl-group" x="12" y="%g" fill="%s" font-weight="700">%s</text>`, y+rmGroupH/2+4, rmInkText, esc(roadmapClip(row.Group, 60)))
			}
			y += h
			continue
		}
		f := row.F
		s, e, _ := featureSpan(f)
		mid := y + rmRowH/2
		tip := featureTip(f, rm.Internal)
		href := ""
		if spec.LinkBase != "" {
			href = spec.LinkBase + f.Ref
		} else if spec.LinkFeatures {
			href = featureURL(f.ProductKey, f.Ref)
		}
		if href != "" {
			fmt.Fprintf(&b, `<a class="tl-link" href="%s">`, esc(href))
		} else {
			b.WriteString(`<g class="tl-item">`)
		}
		fmt.Fprintf(&b, `<title>%s</title>`, esc(tip))
		fmt.Fprintf(&b, `<rect class="tl-hit" x="0" y="%g" width="%g" height="%g" fill="transparent"/>`, y, width, rmRowH)
		refW := float64(len(f.Ref))*7 + 10
		fmt.Fprintf(&b, `<text class="tl-ref" x="12" y="%g" fill="%s" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="11">%s</text>`, mid+4, rmInkMuted, esc(f.Ref))
		room := rmLabelW - 12 - refW - 10
		if f.MVP {
			room -= 36
			fmt.Fprintf(&b, `<rect class="tl-mvp" x="%g" y="%g" width="30" height="16" rx="8" fill="%s"/><text class="tl-mvp-text" x="%g" y="%g" text-anchor="middle" font-size="9.5" font-weight="700" fill="%s">MVP</text>`,
				rmLabelW-44, mid-8, rmInkAccent, rmLabelW-29, mid+3.5, rmInkPaper)
		}
		fmt.Fprintf(&b, `<text class="tl-title" x="%g" y="%g" fill="%s">%s</text>`, 12+refW, mid+4, rmInkText, esc(roadmapClip(f.Title, int(room/6.7))))
		x1, x2 := x(s), x(e.AddDate(0, 0, 1))
		if x2-x1 < 8 {
			x1, x2 = x1-4, x1+4
		}
		if x2 > rmLabelW && x1 < width {
			fill := featureStatusInk[f.Status]
			fmt.Fprintf(&b, `<rect class="tl-bar fs-%s" x="%.1f" y="%g" width="%.1f" height="16" rx="4" fill="%s" fill-opacity="0.35"/>`, f.Status, x1, mid-8, x2-x1, fill)
			if p := f.Progress.Ratio(); p > 0 {
				fmt.Fprintf(&b, `<rect class="tl-progress fs-%s" x="%.1f" y="%g" width="%.1f" height="16" rx="4" fill="%s"/>`, f.Status, x1, mid-8, (x2-x1)*p, fill)
			}
			fmt.Fprintf(&b, `<rect class="tl-bar-edge fs-%s" x="%.1f" y="%g" width="%.1f" height="16" rx="4" fill="none" stroke="%s"/>`, f.Status, x1, mid-8, x2-x1, fill)
		}
		if href != "" {
			b.WriteString(`</a>`)
		} else {
			b.WriteString(`</g>`)
		}
		y += rmRowH
	}
	if len(spans) > 0 {
		spans[len(spans)-1].bottom = y
	}

	// Releases: a diamond and a name in their lane, a dashed line down
	// to the bottom, or to the end of their product's rows.
	drawMarker := func(m marker, ly, bottom float64) {
		class := "tl-release"
		if m.r.Status == northstar.ReleaseReleased {
			class += " is-released"
		}
		if m.r.MVP {
			class += " is-mvp"
		}
		fmt.Fprintf(&b, `<g class="%s"><title>%s</title>`, class, esc(releaseTip(m.r)))
		fmt.Fprintf(&b, `<line class="tl-release-line" x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="%s" stroke-dasharray="4 3"/>`, m.x, m.x, ly, bottom, rmInkAccent)
		fmt.Fprintf(&b, `<path class="tl-release-mark" d="M%.1f %gl5 5-5 5-5-5z" fill="%s"/>`, m.x, ly-9, rmInkAccent)
		tx, anchor := m.x+9, "start"
		if m.left {
			tx, anchor = m.x-9, "end"
		}
		fmt.Fprintf(&b, `<text class="tl-release-label" x="%.1f" y="%g" text-anchor="%s" fill="%s" font-size="11.5" font-weight="600">%s</text></g>`, tx, ly, anchor, rmInkAccent, esc(releaseLabel(m.r)))
	}
	for _, m := range markers {
		drawMarker(m, rmAxisH+float64(m.lane)*rmLaneH+14, height)
	}
	for _, sp := range spans {
		for _, m := range productMarkers[sp.key] {
			drawMarker(m, sp.top+rmGroupH/2+4+float64(m.lane)*rmLaneH, sp.bottom)
		}
	}
	// Today.
	if inside(now) {
		tx := x(now)
		fmt.Fprintf(&b, `<g class="tl-today"><title>Today, %s</title><line class="tl-today-line" x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="%s" stroke-width="1.5"/>`, now.Format("2 Jan 2006"), tx, tx, rmAxisH-6, height, rmInkToday)
		fmt.Fprintf(&b, `<circle class="tl-today-dot" cx="%.1f" cy="%g" r="3" fill="%s"/></g>`, tx, rmAxisH-6, rmInkToday)
	}
	if spec.Standalone {
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	out.SVG = template.HTML(b.String())
	return out
}

func releaseLabel(r *northstar.Release) string {
	if r.MVP {
		return roadmapClip(r.Name, 28) + " · MVP"
	}
	return roadmapClip(r.Name, 32)
}

func releaseTip(r *northstar.Release) string {
	tip := "Release " + r.Name
	if r.MVP {
		tip += " (MVP)"
	}
	tip += " · " + r.Status.Label()
	if !r.Target.IsZero() {
		tip += " · target " + r.Target.Format("2 Jan 2006")
	}
	if r.ReleasedAt != nil {
		tip += " · released " + r.ReleasedAt.UTC().Format("2 Jan 2006")
	}
	return tip
}

// featureTip is a feature's hover text on the timeline: what, where, when
// and how far; with internal fields, who and the scores.
func featureTip(f *northstar.Feature, internal bool) string {
	parts := []string{f.Ref + " " + f.Title, f.Status.Label()}
	if f.MVP {
		parts = append(parts, "MVP")
	}
	parts = append(parts, featureDates(f))
	if f.Release != nil {
		parts = append(parts, "release "+f.Release.Name)
	}
	if f.Progress.StoriesTotal > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d stories done", f.Progress.StoriesDone, f.Progress.StoriesTotal))
	}
	if internal {
		if f.Owner != nil {
			parts = append(parts, "owner "+f.Owner.Name)
		}
		if f.Computed.RICE != nil {
			parts = append(parts, "RICE "+formatNumber(*f.Computed.RICE))
		}
	}
	return strings.Join(parts, " · ")
}

// featureDates writes a feature's span: "1 Mar – 30 Apr 2026".
func featureDates(f *northstar.Feature) string {
	switch {
	case f.Start.IsZero() && f.End.IsZero():
		return "no dates"
	case f.Start.IsZero():
		return "until " + f.End.Format("2 Jan 2006")
	case f.End.IsZero():
		return "from " + f.Start.Format("2 Jan 2006")
	}
	return period(f.Start, f.End)
}

// --- Value / effort ---

const (
	rmMatrixW     = 600.0
	rmMatrixH     = 440.0
	rmMatrixLeft  = 52.0
	rmMatrixRight = 16.0
	rmMatrixTop   = 16.0
	rmMatrixBot   = 48.0
)

// quadrant names where a feature falls on the value/effort 2×2; the
// effort's midpoint is half the axis.
func valueEffortQuadrant(value, effort, mid float64) (class, label string) {
	high := value > 5
	cheap := effort <= mid
	switch {
	case high && cheap:
		return "quick-wins", "Quick wins"
	case high:
		return "big-bets", "Big bets"
	case cheap:
		return "fill-ins", "Fill-ins"
	}
	return "money-pits", "Money pits"
}

// rmNiceStep returns a round step (1, 2 or 5 times a power of ten) for about
// n ticks up to v.
func rmNiceStep(v float64, n int) float64 {
	raw := v / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// valueEffortAxis returns the effort axis's end and step for features.
func valueEffortAxis(fs []*northstar.Feature) (float64, float64) {
	top := 0.0
	for _, f := range fs {
		if f.Scores.Effort != nil {
			top = max(top, *f.Scores.Effort)
		}
	}
	top = max(top*1.1, 2)
	step := rmNiceStep(top, 5)
	return math.Ceil(top/step) * step, step
}

// valueEffortChart draws features that have a value and an effort on the
// 2×2: effort across, value up; each point links to its feature
// (linkBase + ref) and says on hover what it is and where it falls.
func valueEffortChart(fs []*northstar.Feature, linkBase string) template.HTML {
	esc := html.EscapeString
	var pts []*northstar.Feature
	for _, f := range fs {
		if f.Scores.Value != nil && f.Scores.Effort != nil {
			pts = append(pts, f)
		}
	}
	xmax, step := valueEffortAxis(pts)
	mid := xmax / 2
	pw, ph := rmMatrixW-rmMatrixLeft-rmMatrixRight, rmMatrixH-rmMatrixTop-rmMatrixBot
	x := func(e float64) float64 { return rmMatrixLeft + min(e/xmax, 1)*pw }
	y := func(v float64) float64 { return rmMatrixTop + (1-v/10)*ph }

	var b strings.Builder
	summary := fmt.Sprintf("Value against effort: %d features", len(pts))
	fmt.Fprintf(&b, `<svg class="matrix" viewBox="0 0 %g %g" width="%g" height="%g" font-size="12" aria-label="%s"><title>%s</title>`,
		rmMatrixW, rmMatrixH, rmMatrixW, rmMatrixH, esc(summary), esc(summary))
	// The quadrants, tinted, with their names in the outer corners.
	quads := []struct {
		class, label   string
		x0, y0, x1, y1 float64
		anchor         string
		lx, ly         float64
	}{
		{"quick-wins", "Quick wins", 0, 10, mid, 5, "start", x(0) + 10, y(10) + 20},
		{"big-bets", "Big bets", mid, 10, xmax, 5, "end", x(xmax) - 10, y(10) + 20},
		{"fill-ins", "Fill-ins", 0, 5, mid, 0, "start", x(0) + 10, y(0) - 12},
		{"money-pits", "Money pits", mid, 5, xmax, 0, "end", x(xmax) - 10, y(0) - 12},
	}
	for _, q := range quads {
		fmt.Fprintf(&b, `<rect class="mx-quad mx-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.06"/>`,
			q.class, x(q.x0), y(q.y0), x(q.x1)-x(q.x0), y(q.y1)-y(q.y0), rmInkAccent)
		fmt.Fprintf(&b, `<text class="mx-quad-label mx-%s" x="%.1f" y="%.1f" text-anchor="%s" font-weight="700" font-size="13">%s</text>`, q.class, q.lx, q.ly, q.anchor, q.label)
	}
	// Ticks and grid.
	for v := 0.0; v <= 10; v += 2 {
		fmt.Fprintf(&b, `<line class="mx-grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, x(0), x(xmax), y(v), y(v), rmInkGrid)
		fmt.Fprintf(&b, `<text class="mx-tick" x="%.1f" y="%.1f" text-anchor="end" fill="%s">%g</text>`, x(0)-8, y(v)+4, rmInkMuted, v)
	}
	for e := 0.0; e <= xmax+step/1000; e += step {
		fmt.Fprintf(&b, `<line class="mx-grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, x(e), x(e), y(0), y(10), rmInkGrid)
		fmt.Fprintf(&b, `<text class="mx-tick" x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, x(e), y(0)+17, rmInkMuted, formatNumber(e))
	}
	fmt.Fprintf(&b, `<line class="mx-split" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, x(mid), x(mid), y(0), y(10), rmInkMuted)
	fmt.Fprintf(&b, `<line class="mx-split" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, x(0), x(xmax), y(5), y(5), rmInkMuted)
	fmt.Fprintf(&b, `<text class="mx-axis" x="%.1f" y="%.1f" text-anchor="middle" fill="%s">Effort (person-months) →</text>`, x(xmax/2), rmMatrixH-8, rmInkMuted)
	fmt.Fprintf(&b, `<text class="mx-axis" x="14" y="%.1f" text-anchor="middle" fill="%s" transform="rotate(-90 14 %.1f)">Value →</text>`, y(5), rmInkMuted, y(5))

	// The points; several at one place fan out around it.
	seen := map[[2]int]int{}
	for _, f := range pts {
		v, e := *f.Scores.Value, *f.Scores.Effort
		px, py := x(e), y(v)
		k := [2]int{int(px / 6), int(py / 6)}
		if n := seen[k]; n > 0 {
			a := float64(n) * 2 * math.Pi / 6
			px, py = px+9*math.Cos(a), py+9*math.Sin(a)
		}
		seen[k]++
		class, label := valueEffortQuadrant(v, e, mid)
		tip := fmt.Sprintf("%s %s — value %s, effort %s person-months: %s", f.Ref, f.Title, formatNumber(v), formatNumber(e), strings.ToLower(label))
		if f.Computed.ValueEffort != nil {
			tip += fmt.Sprintf(" (value/effort %s)", formatNumber(*f.Computed.ValueEffort))
		}
		anchor, lx := "start", px+10
		if px > rmMatrixW-120 {
			anchor, lx = "end", px-10
		}
		fmt.Fprintf(&b, `<a class="mx-point mx-%s" href="%s"><title>%s</title>`, class, esc(linkBase+f.Ref), esc(tip))
		fmt.Fprintf(&b, `<circle class="mx-hit" cx="%.1f" cy="%.1f" r="12" fill="transparent"/>`, px, py)
		fmt.Fprintf(&b, `<circle class="mx-dot" cx="%.1f" cy="%.1f" r="6.5" fill="%s"/>`, px, py, rmInkAccent)
		fmt.Fprintf(&b, `<text class="mx-label" x="%.1f" y="%.1f" text-anchor="%s" fill="%s" font-size="11.5">%s</text></a>`, lx, py+4, anchor, rmInkText, esc(roadmapClip(f.Title, 22)))
	}
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text class="mx-empty" x="%.1f" y="%.1f" text-anchor="middle" fill="%s">Give features a value and an effort to place them here.</text>`, x(xmax/2), y(5)-10, rmInkMuted)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
