package northstar

import (
	"fmt"
	"strings"
	"time"
)

// Limits on teams and sprints.
const (
	MaxColumns       = 12
	MaxRetroLen      = 10000
	MaxSprintStories = 500
)

// Team is a cross-functional team: people with their capacity, the
// products it works on, and its board's columns.
type Team struct {
	ID       int64          `json:"id"`
	Name     string         `json:"name"`
	Members  []*TeamMember  `json:"members"`
	Products []string       `json:"products"`
	Columns  []*BoardColumn `json:"columns"`
	Version  int            `json:"version"`
}

// HasProduct reports whether the team works on the product.
func (t *Team) HasProduct(key string) bool {
	for _, k := range t.Products {
		if k == key {
			return true
		}
	}
	return false
}

// TeamMember is a person in a team with their capacity for a sprint: the
// share of their time the team gets, and days off in the sprint.
type TeamMember struct {
	UserRef
	Capacity int `json:"capacity"` // percent
	DaysOff  int `json:"days_off"`
}

// TeamInput is the input for creating or renaming a team.
type TeamInput struct {
	Name     string   `json:"name"`
	Products []string `json:"products"`
}

// Validate checks the input.
func (in *TeamInput) Validate() error {
	if err := checkText("name", &in.Name, true, MaxNameLen); err != nil {
		return err
	}
	seen := map[string]bool{}
	var keys []string
	for _, k := range in.Products {
		k = strings.ToUpper(strings.TrimSpace(k))
		if k == "" || seen[k] {
			continue
		}
		if err := ValidateProductKey(k); err != nil {
			err.Field = "products"
			return err
		}
		seen[k] = true
		keys = append(keys, k)
	}
	in.Products = keys
	return nil
}

// CheckCapacity validates a member's capacity and days off.
func CheckCapacity(capacity, daysOff int) error {
	if capacity < 0 || capacity > 100 {
		return FieldError("capacity", "capacity is a percentage from 0 to 100, not %d.", capacity)
	}
	if daysOff < 0 || daysOff > 366 {
		return FieldError("days_off", "days_off must be from 0 to 366.")
	}
	return nil
}

// BoardColumn is a column of a team's board, mapped to a story status.
type BoardColumn struct {
	ID       int64       `json:"id"`
	Name     string      `json:"name"`
	Status   StoryStatus `json:"status"`
	WIPLimit *int        `json:"wip_limit"`
}

// Validate checks the column.
func (c *BoardColumn) Validate() error {
	if err := checkText("name", &c.Name, true, MaxNameLen); err != nil {
		return err
	}
	if !c.Status.Valid() {
		return FieldError("status", "status %q is not one of %s.", c.Status, statusList())
	}
	if c.WIPLimit != nil && (*c.WIPLimit < 1 || *c.WIPLimit > 1000) {
		return FieldError("wip_limit", "wip_limit must be from 1 to 1000, or null for none.")
	}
	return nil
}

// DefaultColumns are a new team's board: one column per status.
func DefaultColumns() []*BoardColumn {
	out := make([]*BoardColumn, len(StoryStatuses))
	for i, s := range StoryStatuses {
		out[i] = &BoardColumn{Name: s.Label(), Status: s}
	}
	return out
}

// SprintStatus is where a sprint is.
type SprintStatus string

// The sprint statuses.
const (
	SprintPlanned SprintStatus = "planned"
	SprintActive  SprintStatus = "active"
	SprintClosed  SprintStatus = "closed"
)

// Label returns the status for people.
func (s SprintStatus) Label() string { return capitalize(string(s)) }

// Sprint is a team's time-box with a goal and a committed set of stories.
type Sprint struct {
	ID              int64        `json:"id"`
	TeamID          int64        `json:"team_id"`
	TeamName        string       `json:"team"`
	Name            string       `json:"name"`
	Goal            string       `json:"goal"`
	Start           Date         `json:"start"`
	End             Date         `json:"end"`
	Status          SprintStatus `json:"status"`
	CommittedPoints int          `json:"committed_points"`
	CommittedCount  int          `json:"committed_count"`
	CompletedPoints int          `json:"completed_points"`
	CompletedCount  int          `json:"completed_count"`
	AddedPoints     int          `json:"added_points"`
	RemovedPoints   int          `json:"removed_points"`
	Retro           Retro        `json:"retro"`
	StartedAt       *time.Time   `json:"started_at"`
	ClosedAt        *time.Time   `json:"closed_at"`
	Version         int          `json:"version"`
}

// Retro holds a sprint's retrospective notes.
type Retro struct {
	WentWell  string `json:"went_well"`
	ToImprove string `json:"to_improve"`
	Actions   string `json:"actions"`
}

// Days returns the sprint's calendar days, start to end inclusive.
func (s *Sprint) Days() []time.Time {
	var out []time.Time
	for d := s.Start.Time; !d.After(s.End.Time); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out
}

// WorkingDays counts Monday to Friday from start to end inclusive.
func (s *Sprint) WorkingDays() int {
	n := 0
	for _, d := range s.Days() {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			n++
		}
	}
	return n
}

// SprintInput is the input for creating or changing a sprint.
type SprintInput struct {
	Name  string `json:"name"`
	Goal  string `json:"goal"`
	Start Date   `json:"start"`
	End   Date   `json:"end"`
	Retro *Retro `json:"retro"`
}

// Validate checks the input.
func (in *SprintInput) Validate() error {
	if err := checkText("name", &in.Name, true, MaxNameLen); err != nil {
		return err
	}
	if err := checkText("goal", &in.Goal, false, MaxDescriptionLen); err != nil {
		return err
	}
	if in.Start.IsZero() {
		return FieldError("start", "start is required.")
	}
	if in.End.IsZero() {
		return FieldError("end", "end is required.")
	}
	if !in.End.After(in.Start.Time) {
		return FieldError("end", "end (%s) must be after start (%s).", in.End, in.Start)
	}
	if in.End.Sub(in.Start.Time) > 92*24*time.Hour {
		return FieldError("end", "a sprint lasts at most three months.")
	}
	if in.Retro != nil {
		for _, f := range []struct {
			name string
			v    *string
		}{{"went_well", &in.Retro.WentWell}, {"to_improve", &in.Retro.ToImprove}, {"actions", &in.Retro.Actions}} {
			if err := checkText(f.name, f.v, false, MaxRetroLen); err != nil {
				return err
			}
		}
	}
	return nil
}

// Carry says where a closing sprint's unfinished stories go.
type Carry string

// The carry-over choices.
const (
	CarryToBacklog    Carry = "backlog"
	CarryToNextSprint Carry = "next"
)

// CloseSprint is the input for closing a sprint.
type CloseSprint struct {
	Carry Carry  `json:"carry"`
	Retro *Retro `json:"retro"`
}

// Validate checks the input.
func (c *CloseSprint) Validate() error {
	if c.Carry == "" {
		return FieldError("carry", `say where unfinished stories go: "backlog" (top of the backlog) or "next" (the next sprint).`)
	}
	if c.Carry != CarryToBacklog && c.Carry != CarryToNextSprint {
		return FieldError("carry", `carry must be "backlog" or "next".`)
	}
	return nil
}

// Planning is what sprint planning shows: the commitment so far against
// the team's velocity and capacity, and what needs attention.
type Planning struct {
	Sprint          *Sprint  `json:"sprint"`
	Stories         []*Story `json:"stories"`
	Points          int      `json:"points"`
	Velocity        *float64 `json:"velocity"` // mean completed points of the last three closed sprints
	VelocitySprints int      `json:"velocity_sprints"`
	Availability    float64  `json:"availability"` // share of the team's full time available, 0–1
	Capacity        *float64 `json:"capacity"`     // velocity × availability, in points
	Unestimated     []string `json:"unestimated"`
	NotReady        []string `json:"not_ready"`
}

// Over reports whether the commitment exceeds the capacity.
func (p *Planning) Over() bool { return p.Capacity != nil && float64(p.Points) > *p.Capacity }

// Availability computes the share of the team's time available in a
// sprint from each member's capacity and days off.
func Availability(members []*TeamMember, workingDays int) float64 {
	if len(members) == 0 || workingDays == 0 {
		return 0
	}
	var have, full float64
	for _, m := range members {
		days := float64(workingDays - m.DaysOff)
		if days < 0 {
			days = 0
		}
		have += days * float64(m.Capacity) / 100
		full += float64(workingDays)
	}
	return have / full
}

// Board is the active sprint's board: columns with their cards.
type Board struct {
	Sprint  *Sprint             `json:"sprint"`
	Team    *Team               `json:"team"`
	Columns []*BoardColumnCards `json:"columns"`
}

// BoardColumnCards is a column with its cards in board order.
type BoardColumnCards struct {
	*BoardColumn
	Cards     []*Story `json:"cards"`
	OverLimit bool     `json:"over_limit"`
}

// CardMove moves a card to a column, before or after another card.
type CardMove struct {
	Column int64  `json:"column"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// StoryEvent is a story's status, points and sprint after a change.
type StoryEvent struct {
	StoryID  int64
	SprintID int64 // 0: none
	Kind     string
	Status   StoryStatus
	Points   *int
	At       time.Time
}

// ChartPoint is one day of a chart series.
type ChartPoint struct {
	Day   Date    `json:"day"`
	Value float64 `json:"value"`
}

// Burndown is a sprint's burndown and burn-up: remaining points per day
// against the ideal line, completed points, and the scope.
type Burndown struct {
	Sprint    *Sprint      `json:"sprint"`
	Remaining []ChartPoint `json:"remaining"`
	Ideal     []ChartPoint `json:"ideal"`
	Completed []ChartPoint `json:"completed"`
	Scope     []ChartPoint `json:"scope"`
	// ScopeChanges lists the days the scope grew or shrank.
	ScopeChanges []ChartPoint `json:"scope_changes"`
}

// VelocityPoint is one sprint of the velocity chart.
type VelocityPoint struct {
	Sprint    string `json:"sprint"`
	SprintID  int64  `json:"sprint_id"`
	Committed int    `json:"committed"`
	Completed int    `json:"completed"`
}

// FlowDay is one day of a cumulative flow diagram: stories per status.
type FlowDay struct {
	Day    Date                `json:"day"`
	Counts map[StoryStatus]int `json:"counts"`
}

// String names the sprint for messages.
func (s *Sprint) String() string { return fmt.Sprintf("sprint %q", s.Name) }
