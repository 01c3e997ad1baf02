package northstar

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Limits on discovery items.
const (
	MaxSegments    = 50
	MaxPersonas    = 50
	MaxKeyResults  = 20
	MaxUnitLen     = 20
	MaxFeedbackLen = 20000
	MaxPassageLen  = 2000
)

// Strategy is a product's strategy page: its vision (on the product), the
// market it targets with its segments and personas, and the north-star
// metric the team steers by.
type Strategy struct {
	ProductKey      string     `json:"product"`
	Vision          string     `json:"vision"`
	TargetMarket    string     `json:"target_market"`
	NorthStarMetric string     `json:"north_star_metric"`
	Segments        []*Segment `json:"segments"`
	Personas        []*Persona `json:"personas"`
	Version         int        `json:"version"` // the product's version
}

// StrategyUpdate changes the strategy's texts; nil fields stay.
type StrategyUpdate struct {
	Vision          *string `json:"vision"`
	TargetMarket    *string `json:"target_market"`
	NorthStarMetric *string `json:"north_star_metric"`
}

// Validate checks the input.
func (u *StrategyUpdate) Validate() error {
	if u.Vision != nil {
		if err := checkText("vision", u.Vision, false, MaxMarkdownLen); err != nil {
			return err
		}
	}
	if u.TargetMarket != nil {
		if err := checkText("target_market", u.TargetMarket, false, MaxMarkdownLen); err != nil {
			return err
		}
	}
	if u.NorthStarMetric != nil {
		if err := checkText("north_star_metric", u.NorthStarMetric, false, MaxDescriptionLen); err != nil {
			return err
		}
	}
	return nil
}

// Segment is a part of the market the product serves.
type Segment struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Validate checks the segment.
func (s *Segment) Validate() error {
	if err := checkText("name", &s.Name, true, MaxNameLen); err != nil {
		return err
	}
	return checkText("description", &s.Description, false, MaxDescriptionLen)
}

// Persona is an archetypal user of the product; stories say "as a …" of one.
type Persona struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Goals       string    `json:"goals"`
	Pains       string    `json:"pains"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Validate checks the persona.
func (p *Persona) Validate() error {
	if err := checkText("name", &p.Name, true, MaxNameLen); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"description", &p.Description}, {"goals", &p.Goals}, {"pains", &p.Pains}} {
		if err := checkText(f.name, f.v, false, MaxDescriptionLen); err != nil {
			return err
		}
	}
	return nil
}

// ObjectiveStatus says how an objective is going.
type ObjectiveStatus string

// The objective statuses.
const (
	OnTrack  ObjectiveStatus = "on_track"
	AtRisk   ObjectiveStatus = "at_risk"
	OffTrack ObjectiveStatus = "off_track"
	Achieved ObjectiveStatus = "done"
)

// ObjectiveStatuses lists the statuses.
var ObjectiveStatuses = []ObjectiveStatus{OnTrack, AtRisk, OffTrack, Achieved}

// Valid reports whether s is known.
func (s ObjectiveStatus) Valid() bool {
	for _, x := range ObjectiveStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Label returns the status for people.
func (s ObjectiveStatus) Label() string {
	switch s {
	case OnTrack:
		return "On track"
	case AtRisk:
		return "At risk"
	case OffTrack:
		return "Off track"
	case Achieved:
		return "Done"
	}
	return string(s)
}

// Date is a calendar day, written as 2006-01-02 in JSON and forms.
type Date struct{ time.Time }

// DateLayout is how dates are written.
const DateLayout = "2006-01-02"

// ParseDate reads a date for the named field.
func ParseDate(field, s string) (Date, error) {
	t, err := time.Parse(DateLayout, strings.TrimSpace(s))
	if err != nil {
		return Date{}, FieldError(field, "%s must be a date like 2026-01-31.", field)
	}
	return Date{t}, nil
}

// String formats the date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format(DateLayout)
}

// MarshalJSON writes the date as "2006-01-02", or null when unset.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.Format(DateLayout) + `"`), nil
}

// UnmarshalJSON reads "2006-01-02" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := jsonUnmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return fmt.Errorf("date %q is not like 2026-01-31", s)
	}
	*d = Date{t}
	return nil
}

// Objective is a company- or product-level goal with measurable key
// results. Product objectives may roll up to a company objective.
type Objective struct {
	ID          int64           `json:"id"`
	ProductKey  string          `json:"product,omitempty"` // "" for a company objective
	ProductID   int64           `json:"-"`
	ParentID    *int64          `json:"parent_id"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Start       Date            `json:"start"`
	End         Date            `json:"end"`
	Owner       *UserRef        `json:"owner"`
	Status      ObjectiveStatus `json:"status"`
	KeyResults  []*KeyResult    `json:"key_results"`
	Children    []*Objective    `json:"children,omitempty"`
	Version     int             `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Progress is the mean progress of the key results, from 0 to 1; 0 with
// none.
func (o *Objective) Progress() float64 {
	if len(o.KeyResults) == 0 {
		return 0
	}
	sum := 0.0
	for _, kr := range o.KeyResults {
		sum += kr.Progress()
	}
	return sum / float64(len(o.KeyResults))
}

// ObjectiveInput is the input for creating or changing an objective.
type ObjectiveInput struct {
	Title       string           `json:"title"`
	Description string           `json:"description"`
	Start       Date             `json:"start"`
	End         Date             `json:"end"`
	Owner       string           `json:"owner"` // email
	Status      ObjectiveStatus  `json:"status"`
	ParentID    *int64           `json:"parent_id"`
	KeyResults  []KeyResultInput `json:"key_results"` // on create only
}

// Validate checks the input.
func (in *ObjectiveInput) Validate() error {
	if err := checkText("title", &in.Title, true, MaxTitleLen); err != nil {
		return err
	}
	if err := checkText("description", &in.Description, false, MaxMarkdownLen); err != nil {
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
	if in.Status == "" {
		in.Status = OnTrack
	}
	if !in.Status.Valid() {
		return FieldError("status", "status %q is not one of on_track, at_risk, off_track, done.", in.Status)
	}
	if len(in.KeyResults) > MaxKeyResults {
		return FieldError("key_results", "an objective has at most %d key results.", MaxKeyResults)
	}
	for i := range in.KeyResults {
		if err := in.KeyResults[i].Validate(); err != nil {
			if e, ok := err.(*Error); ok {
				e.Field = fmt.Sprintf("key_results[%d].%s", i, e.Field)
			}
			return err
		}
	}
	return nil
}

// KeyResult is a measurable result of an objective: a metric moving from
// a start value to a target.
type KeyResult struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Unit     string     `json:"unit"`
	Start    float64    `json:"start"`
	Target   float64    `json:"target"`
	Current  float64    `json:"current"`
	CheckIns []*CheckIn `json:"check_ins"`
	// Features are the features meant to move it, released first.
	Features []*KeyResultFeature `json:"features"`
}

// KeyResultFeature is a feature linked to a key result as meant to move
// it: output set against the outcome.
type KeyResultFeature struct {
	Product    string        `json:"product"`
	Ref        string        `json:"ref"`
	Title      string        `json:"title"`
	Status     FeatureStatus `json:"status"`
	ReleasedAt *time.Time    `json:"released_at"`
	// Then is the key result's value when the feature was released, to
	// compare with Current; nil until it is released.
	Then      *float64 `json:"value_at_release"`
	ProductID int64    `json:"-"`
}

// MaxKeyResultFeatures bounds the features linked to one key result.
const MaxKeyResultFeatures = 20

// ValueAt returns the key result's value at t: its last check-in at or
// before t, or its start value before the first.
func (kr *KeyResult) ValueAt(t time.Time) float64 {
	v := kr.Start
	for _, c := range kr.CheckIns { // in time order
		if c.At.After(t) {
			break
		}
		v = c.Value
	}
	return v
}

// SetOutcomes fills each released feature's value at release from the
// check-ins (which must be loaded).
func (kr *KeyResult) SetOutcomes() {
	for _, f := range kr.Features {
		if f.ReleasedAt != nil {
			v := kr.ValueAt(*f.ReleasedAt)
			f.Then = &v
		}
	}
}

// Progress is how far the current value has come from start to target,
// from 0 to 1. Targets may lie below the start (reduce churn to 2 %).
func (kr *KeyResult) Progress() float64 {
	if kr.Target == kr.Start {
		return 0
	}
	p := (kr.Current - kr.Start) / (kr.Target - kr.Start)
	return math.Max(0, math.Min(1, p))
}

// KeyResultInput is the input for a key result.
type KeyResultInput struct {
	Name    string   `json:"name"`
	Unit    string   `json:"unit"`
	Start   *float64 `json:"start"`
	Target  *float64 `json:"target"`
	Current *float64 `json:"current"`
}

// Validate checks the input: a target equal to the start leaves no
// progress to compute.
func (in *KeyResultInput) Validate() error {
	if err := checkText("name", &in.Name, true, MaxTitleLen); err != nil {
		return err
	}
	if err := checkText("unit", &in.Unit, false, MaxUnitLen); err != nil {
		return err
	}
	if in.Start == nil {
		return FieldError("start", "start is required.")
	}
	if in.Target == nil {
		return FieldError("target", "target is required.")
	}
	for _, v := range []struct {
		name string
		v    *float64
	}{{"start", in.Start}, {"target", in.Target}, {"current", in.Current}} {
		if v.v != nil && (math.IsNaN(*v.v) || math.IsInf(*v.v, 0)) {
			return FieldError(v.name, "%s must be a finite number.", v.name)
		}
	}
	if *in.Target == *in.Start {
		return FieldError("target", "target must differ from start (%g), or no progress can be computed.", *in.Start)
	}
	if in.Current == nil {
		in.Current = in.Start
	}
	return nil
}

// CheckIn records a key result's value on a day.
type CheckIn struct {
	ID    int64     `json:"id"`
	Value float64   `json:"value"`
	Note  string    `json:"note"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
}
