package northstar

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// Strategy alignment: how much of the team's delivered and planned work
// traces to an objective through its feature. A story serves an objective
// when its feature is linked to at least one; anything else is orphan
// work.

// DefaultAlignmentSprints is how many closed sprints of each team the
// alignment looks back on when not told.
const (
	DefaultAlignmentSprints = 6
	MaxAlignmentSprints     = 100
)

// AlignmentSprint is a sprint as the alignment sees it.
type AlignmentSprint struct {
	ID     int64     `json:"id"`
	TeamID int64     `json:"team_id"`
	Team   string    `json:"team"`
	Name   string    `json:"name"`
	Status string    `json:"status"` // planned, active or closed
	Start  Date      `json:"start"`
	End    Date      `json:"end"`
	Closed time.Time `json:"-"`
}

// AlignmentItem is one story in a sprint the alignment counts.
type AlignmentItem struct {
	ProductKey   string `json:"product"`
	Ref          string `json:"ref"`
	Title        string `json:"title"`
	Points       int    `json:"points"`
	Done         bool   `json:"done"`
	SprintID     int64  `json:"sprint_id"`
	Sprint       string `json:"sprint"`
	FeatureRef   string `json:"feature,omitempty"`
	FeatureTitle string `json:"feature_title,omitempty"`
	Objectives   int    `json:"objectives"`
}

// Aligned reports whether the story serves an objective through its
// feature.
func (it *AlignmentItem) Aligned() bool { return it.Objectives > 0 }

// AlignmentShare is aligned points out of all points.
type AlignmentShare struct {
	Points  int     `json:"points"`
	Aligned int     `json:"aligned"`
	Share   float64 `json:"share"` // 0..1; 0 when there are no points
}

// Percent writes the share as a whole percentage, "—" with no points.
func (s AlignmentShare) Percent() string {
	if s.Points == 0 {
		return "—"
	}
	return fmt.Sprintf("%d %%", int(math.Round(s.Share*100)))
}

func (s *AlignmentShare) add(points int, aligned bool) {
	s.Points += points
	if aligned {
		s.Aligned += points
	}
	if s.Points > 0 {
		s.Share = float64(s.Aligned) / float64(s.Points)
	}
}

// Alignment is the share of points that serve an objective: delivered in
// the last closed sprints of each team, and planned in the active and
// next (planned) ones; and the orphan work, largest first.
type Alignment struct {
	ProductKey string             `json:"product,omitempty"` // "" for the company
	Sprints    int                `json:"sprints"`           // closed sprints looked back on, per team
	Delivered  AlignmentShare     `json:"delivered"`
	Planned    AlignmentShare     `json:"planned"`
	ByProduct  []*ProductAlign    `json:"by_product,omitempty"`
	Closed     []*AlignmentSprint `json:"closed_sprints"`
	Upcoming   []*AlignmentSprint `json:"upcoming_sprints"`
	Orphans    []*AlignmentItem   `json:"orphans"`
}

// ProductAlign is one product's part of the company's alignment.
type ProductAlign struct {
	ProductKey string         `json:"product"`
	Delivered  AlignmentShare `json:"delivered"`
	Planned    AlignmentShare `json:"planned"`
}

// PickAlignmentSprints keeps, for each team, its last n closed sprints (by
// end date) and its active sprint and next planned one.
func PickAlignmentSprints(all []*AlignmentSprint, n int) (closed, upcoming []*AlignmentSprint) {
	byTeam := map[int64][]*AlignmentSprint{}
	for _, s := range all {
		byTeam[s.TeamID] = append(byTeam[s.TeamID], s)
	}
	for _, ss := range byTeam {
		slices.SortFunc(ss, func(a, b *AlignmentSprint) int { return cmp.Or(a.End.Compare(b.End.Time), cmp.Compare(a.ID, b.ID)) })
		var c []*AlignmentSprint
		nextPlanned := false
		for _, s := range ss {
			switch s.Status {
			case "closed":
				c = append(c, s)
			case "active":
				upcoming = append(upcoming, s)
			case "planned":
				if !nextPlanned {
					upcoming = append(upcoming, s)
					nextPlanned = true
				}
			}
		}
		closed = append(closed, c[max(0, len(c)-n):]...)
	}
	order := func(a, b *AlignmentSprint) int { return cmp.Or(b.End.Compare(a.End.Time), cmp.Compare(a.ID, b.ID)) }
	slices.SortFunc(closed, order)
	slices.SortFunc(upcoming, order)
	return closed, upcoming
}

// ComputeAlignment sums the items of the chosen sprints: points of done
// stories in closed sprints are delivered, points of every story in the
// upcoming sprints are planned. Orphans are the unaligned items with
// points, largest first.
func ComputeAlignment(productKey string, n int, closed, upcoming []*AlignmentSprint, items []*AlignmentItem) *Alignment {
	if closed == nil {
		closed = []*AlignmentSprint{}
	}
	if upcoming == nil {
		upcoming = []*AlignmentSprint{}
	}
	a := &Alignment{ProductKey: productKey, Sprints: n, Closed: closed, Upcoming: upcoming, Orphans: []*AlignmentItem{}}
	isClosed := map[int64]bool{}
	for _, s := range closed {
		isClosed[s.ID] = true
	}
	isUpcoming := map[int64]bool{}
	for _, s := range upcoming {
		isUpcoming[s.ID] = true
	}
	products := map[string]*ProductAlign{}
	for _, it := range items {
		pa := products[it.ProductKey]
		if pa == nil {
			pa = &ProductAlign{ProductKey: it.ProductKey}
			products[it.ProductKey] = pa
		}
		switch {
		case isClosed[it.SprintID] && it.Done:
			a.Delivered.add(it.Points, it.Aligned())
			pa.Delivered.add(it.Points, it.Aligned())
		case isUpcoming[it.SprintID]:
			a.Planned.add(it.Points, it.Aligned())
			pa.Planned.add(it.Points, it.Aligned())
		default:
			continue // not done in a closed sprint
		}
		if !it.Aligned() && it.Points > 0 {
			a.Orphans = append(a.Orphans, it)
		}
	}
	slices.SortFunc(a.Orphans, func(x, y *AlignmentItem) int {
		return cmp.Or(cmp.Compare(y.Points, x.Points), cmp.Compare(x.ProductKey, y.ProductKey), cmp.Compare(x.Ref, y.Ref))
	})
	if productKey == "" {
		for _, pa := range products {
			a.ByProduct = append(a.ByProduct, pa)
		}
		slices.SortFunc(a.ByProduct, func(x, y *ProductAlign) int { return cmp.Compare(x.ProductKey, y.ProductKey) })
	}
	return a
}
