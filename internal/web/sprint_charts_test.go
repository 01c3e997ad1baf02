package web

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
)

// svgDoc parses a chart as XML: it must be well-formed, with an <svg>
// root and a title; it returns the elements by class ("line remaining"
// counts for "line" and "remaining") and every number in a coordinate.
func svgDoc(t *testing.T, svg string) (classes map[string]int, titles []string) {
	t.Helper()
	if strings.Contains(svg, "style=") || strings.Contains(svg, "<script") {
		t.Errorf("chart has an inline style or a script:\n%s", svg)
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Errorf("chart has NaN or Inf:\n%s", svg)
	}
	classes = map[string]int{}
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	depth, root, inTitle := 0, "", false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v\n%s", err, svg)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				root = el.Name.Local
			}
			depth++
			inTitle = el.Name.Local == "title"
			for _, a := range el.Attr {
				switch a.Name.Local {
				case "class":
					for _, c := range strings.Fields(a.Value) {
						classes[el.Name.Local+"."+c]++
					}
				case "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "width", "height":
					v, err := strconv.ParseFloat(a.Value, 64)
					if err != nil {
						t.Errorf("<%s %s=%q>: not a number", el.Name.Local, a.Name.Local, a.Value)
					}
					if v < -1 || v > 1001 {
						t.Errorf("<%s %s=%q>: outside the picture", el.Name.Local, a.Name.Local, a.Value)
					}
				}
			}
		case xml.EndElement:
			depth--
			inTitle = false
		case xml.CharData:
			if inTitle {
				titles = append(titles, string(el))
			}
		}
	}
	if root != "svg" {
		t.Errorf("root element is <%s>, want <svg>", root)
	}
	if depth != 0 {
		t.Errorf("unbalanced elements")
	}
	if len(titles) == 0 {
		t.Errorf("chart has no <title>")
	}
	return classes, titles
}

func sprintDay(s string) northstar.Date {
	d, err := time.Parse(northstar.DateLayout, s)
	if err != nil {
		panic(err)
	}
	return northstar.Date{Time: d}
}

func testSprint() *northstar.Sprint {
	return &northstar.Sprint{ID: 7, Name: `Sprint <7> & "friends"`, Start: sprintDay("2026-03-02"), End: sprintDay("2026-03-13"),
		Status: northstar.SprintActive, CommittedPoints: 20}
}

func TestBurndownChart(t *testing.T) {
	s := testSprint()
	b := &northstar.Burndown{Sprint: s}
	// Ten days of ideal line, five days of data, the scope grew on day 3.
	for i, d := range s.Days() {
		b.Ideal = append(b.Ideal, northstar.ChartPoint{Day: northstar.Date{Time: d}, Value: 20 * float64(11-i) / 11})
		if i < 5 {
			scope := 20.0
			if i >= 2 {
				scope = 25
			}
			done := float64(i * 3)
			b.Scope = append(b.Scope, northstar.ChartPoint{Day: northstar.Date{Time: d}, Value: scope})
			b.Completed = append(b.Completed, northstar.ChartPoint{Day: northstar.Date{Time: d}, Value: done})
			b.Remaining = append(b.Remaining, northstar.ChartPoint{Day: northstar.Date{Time: d}, Value: scope - done})
		}
	}
	b.ScopeChanges = []northstar.ChartPoint{{Day: b.Scope[2].Day, Value: 5}}
	now := sprintDay("2026-03-06").Time.Add(10 * time.Hour)

	svg := string(burndownChart(b, now))
	classes, titles := svgDoc(t, svg)
	if got := classes["circle.dot"]; got != 5 {
		t.Errorf("burndown has %d points, want 5 (one per day so far)", got)
	}
	if classes["polyline.ideal"] != 1 || classes["polyline.remaining"] != 1 {
		t.Errorf("burndown lines: %v", classes)
	}
	if got := strings.Count(polylinePoints(svg, "ideal"), ","); got != len(s.Days()) {
		t.Errorf("the ideal line has %d points, want %d (every day)", got, len(s.Days()))
	}
	if classes["g.scope-change"] != 1 || classes["g.up"] != 1 {
		t.Errorf("scope changes marked: %v", classes)
	}
	// Saturday 7 and Sunday 8 March are shaded.
	if classes["rect.weekend"] != 2 {
		t.Errorf("%d weekend days shaded, want 2", classes["rect.weekend"])
	}
	if classes["line.today"] != 1 {
		t.Errorf("today is not marked")
	}
	for _, want := range []string{
		`Burndown of Sprint <7> & "friends": 20 committed points, 13 points remaining on 6 Mar, scope changed 1 time`,
		"Wed 4 Mar: 5 points added to the sprint (scope now 25)",
		"Fri 6 Mar: 13 points remaining of 25 in scope (ideal 12.7)",
	} {
		if !sprintContains(titles, want) {
			t.Errorf("no title %q in %q", want, titles)
		}
	}

	// Burn-up: scope and completed, one point each per day.
	classes, titles = svgDoc(t, string(burnupChart(b, now)))
	if classes["g.completed"] != 5 || classes["g.scope"] != 5 || classes["path.area"] != 1 {
		t.Errorf("burn-up: %v", classes)
	}
	if !sprintContains(titles, "Fri 6 Mar: 12 points completed of 25") {
		t.Errorf("burn-up titles: %q", titles)
	}

	// A planned sprint: the ideal line and a note, no points.
	planned := *s
	planned.Status = northstar.SprintPlanned
	classes, _ = svgDoc(t, string(burndownChart(&northstar.Burndown{Sprint: &planned, Ideal: b.Ideal}, now)))
	if classes["circle.dot"] != 0 || classes["text.chart-note"] != 1 || classes["polyline.ideal"] != 1 {
		t.Errorf("planned burndown: %v", classes)
	}
	// A one-day sprint and no days at all still draw.
	one := &northstar.Burndown{Sprint: s, Ideal: b.Ideal[:1], Remaining: b.Remaining[:1], Scope: b.Scope[:1], Completed: b.Completed[:1]}
	svgDoc(t, string(burndownChart(one, now)))
	svgDoc(t, string(burnupChart(one, now)))
	svgDoc(t, string(burndownChart(&northstar.Burndown{Sprint: s}, now)))
}

func TestVelocityChart(t *testing.T) {
	var v []northstar.VelocityPoint
	for i := 1; i <= 10; i++ {
		v = append(v, northstar.VelocityPoint{Sprint: "Sprint number " + strconv.Itoa(i), SprintID: int64(i), Committed: 20 + i, Completed: 15 + i})
	}
	classes, titles := svgDoc(t, string(velocityChart(v)))
	if classes["rect.committed"] != 10 || classes["rect.completed"] != 10 {
		t.Errorf("velocity bars: %v, want 10 committed and 10 completed", classes)
	}
	if classes["line.avg"] != 1 {
		t.Errorf("no average line")
	}
	for _, want := range []string{"Sprint number 10: 30 points committed", "Sprint number 10: 25 points completed", "Average of the last 3: 24 points"} {
		if !sprintContains(titles, want) {
			t.Errorf("no title %q in %q", want, titles)
		}
	}
	// Long names are cut to fit their band, with the whole name on hover.
	if !sprintContains(titles, "Sprint number 7") {
		t.Errorf("the full sprint name is not a title")
	}
	// No closed sprint: a note, no bars.
	classes, _ = svgDoc(t, string(velocityChart(nil)))
	if classes["rect.bar"] != 0 || classes["text.chart-note"] != 1 {
		t.Errorf("empty velocity: %v", classes)
	}
	// One sprint with zero points.
	svgDoc(t, string(velocityChart([]northstar.VelocityPoint{{Sprint: "S", Committed: 0, Completed: 0}})))
}

func TestFlowChart(t *testing.T) {
	var days []northstar.FlowDay
	start := sprintDay("2026-03-01")
	for i := 0; i < 30; i++ {
		days = append(days, northstar.FlowDay{Day: northstar.Date{Time: start.AddDate(0, 0, i)}, Counts: map[northstar.StoryStatus]int{
			northstar.StatusNew: 2, northstar.StatusReady: 3, northstar.StatusInProgress: 2, northstar.StatusInReview: 1, northstar.StatusDone: i / 3,
		}})
	}
	svg := string(flowChart(days))
	classes, titles := svgDoc(t, svg)
	if classes["path.flow"] != 5 {
		t.Errorf("%d flow areas, want one per status", classes["path.flow"])
	}
	if classes["rect.day-hit"] != 30 {
		t.Errorf("%d day columns, want 30", classes["rect.day-hit"])
	}
	// Each area runs over every day and back.
	for _, m := range regexp.MustCompile(`<path class="flow [^"]+" d="([^"]+)"`).FindAllStringSubmatch(svg, -1) {
		if n := strings.Count(m[1], "L") + 1; n != 60 {
			t.Errorf("a flow area has %d points, want 60", n)
		}
	}
	if !sprintContains(titles, "Mon 30 Mar: 2 new, 3 ready, 2 in progress, 1 in review, 9 done") {
		t.Errorf("flow titles: %q", titles[len(titles)-3:])
	}
	// Nothing at all: a note.
	empty := []northstar.FlowDay{{Day: start, Counts: map[northstar.StoryStatus]int{}}}
	if classes, _ := svgDoc(t, string(flowChart(empty))); classes["text.chart-note"] != 1 {
		t.Errorf("empty flow: %v", classes)
	}
}

func TestCapacityBar(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name       string
		p          northstar.Planning
		over, mark bool
	}{
		{"no velocity", northstar.Planning{Points: 13}, false, false},
		{"under", northstar.Planning{Points: 13, Velocity: f(20), Capacity: f(18)}, false, true},
		{"over", northstar.Planning{Points: 24, Velocity: f(20), Capacity: f(18)}, true, true},
		{"empty", northstar.Planning{}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := string(capacityBar(&tc.p))
			classes, _ := svgDoc(t, svg)
			if got := classes["svg.over"] == 1; got != tc.over {
				t.Errorf("over = %v, want %v", got, tc.over)
			}
			if got := classes["rect.cap-over"] == 1; got != tc.over {
				t.Errorf("the part over the capacity drawn: %v, want %v", got, tc.over)
			}
			if got := classes["line.cap-mark"] == 1; got != tc.mark {
				t.Errorf("capacity mark: %v, want %v", got, tc.mark)
			}
		})
	}
}

func sprintContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// polylinePoints returns the points attribute of the polyline of a class.
func polylinePoints(svg, class string) string {
	m := regexp.MustCompile(`<polyline class="` + class + `" points="([^"]+)"`).FindStringSubmatch(svg)
	if m == nil {
		return ""
	}
	return m[1]
}
