package northstar

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Feature is the Product Manager's unit: a problem worth solving and a
// proposed solution, scored, scheduled into a release and placed on the
// roadmap. It starts as an idea, often from feedback, and shares the
// product's numbering with stories.
type Feature struct {
	ID             int64             `json:"-"`
	ProductID      int64             `json:"-"`
	ProductKey     string            `json:"product"`
	Number         int               `json:"number"`
	Ref            string            `json:"ref"`
	Title          string            `json:"title"`
	Problem        string            `json:"problem"`
	Solution       string            `json:"solution"`
	Status         FeatureStatus     `json:"status"`
	RejectedReason string            `json:"rejected_reason"`
	MVP            bool              `json:"mvp"`
	Release        *NamedRef         `json:"release"`
	Theme          *NamedRef         `json:"theme"`
	Objectives     []NamedRef        `json:"objectives"`
	Owner          *UserRef          `json:"owner"`
	Horizon        Horizon           `json:"horizon"`
	Start          Date              `json:"start"`
	End            Date              `json:"end"`
	MoSCoW         MoSCoW            `json:"moscow"`
	Scores         Scores            `json:"scores"`
	Custom         map[int64]float64 `json:"custom_scores"`
	Computed       ComputedScores    `json:"computed"`
	Voice          Voice             `json:"voice_of_customer"`
	Progress       Progress          `json:"progress"`
	Insights       int               `json:"insight_count"`
	CreatedBy      *UserRef          `json:"created_by"`
	Version        int               `json:"version"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// NamedRef names another item: a release, a theme, an objective.
type NamedRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Horizon places a feature on the now / next / later roadmap.
type Horizon string

// The horizons; "" is not placed.
const (
	HorizonNow   Horizon = "now"
	HorizonNext  Horizon = "next"
	HorizonLater Horizon = "later"
)

// Horizons lists the horizons in order.
var Horizons = []Horizon{HorizonNow, HorizonNext, HorizonLater}

// Valid reports whether h is a horizon or unset.
func (h Horizon) Valid() bool {
	return h == "" || h == HorizonNow || h == HorizonNext || h == HorizonLater
}

// Label returns the horizon for people.
func (h Horizon) Label() string {
	if h == "" {
		return "Unplaced"
	}
	return capitalize(string(h))
}

// MoSCoW is a feature's must / should / could / won't priority.
type MoSCoW string

// The MoSCoW priorities; "" is not set.
const (
	Must   MoSCoW = "must"
	Should MoSCoW = "should"
	Could  MoSCoW = "could"
	Wont   MoSCoW = "wont"
)

// Valid reports whether m is a priority or unset.
func (m MoSCoW) Valid() bool { return m == "" || m == Must || m == Should || m == Could || m == Wont }

// Label returns the priority for people.
func (m MoSCoW) Label() string {
	switch m {
	case Must:
		return "Must have"
	case Should:
		return "Should have"
	case Could:
		return "Could have"
	case Wont:
		return "Won't have"
	}
	return ""
}

// Scores are the inputs a product manager gives a feature. RICE: reach
// (people or events per period), impact (0.25 minimal … 3 massive),
// confidence (0–100 %), effort (person-months, > 0). Value (1–10) against
// the same effort gives value/effort.
type Scores struct {
	Reach      *float64 `json:"reach"`
	Impact     *float64 `json:"impact"`
	Confidence *float64 `json:"confidence"`
	Effort     *float64 `json:"effort"`
	Value      *float64 `json:"value"`
}

// ImpactScale lists the RICE impact values.
var ImpactScale = []float64{0.25, 0.5, 1, 2, 3}

// Validate checks the scores' ranges.
func (s *Scores) Validate() error {
	finite := func(field string, v *float64) error {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			return FieldError(field, "%s must be a finite number.", field)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"reach", s.Reach}, {"impact", s.Impact}, {"confidence", s.Confidence}, {"effort", s.Effort}, {"value", s.Value}} {
		if err := finite(f.name, f.v); err != nil {
			return err
		}
	}
	if s.Reach != nil && *s.Reach < 0 {
		return FieldError("reach", "reach must be zero or more.")
	}
	if s.Impact != nil {
		ok := false
		for _, v := range ImpactScale {
			ok = ok || *s.Impact == v
		}
		if !ok {
			return FieldError("impact", "impact must be one of 0.25, 0.5, 1, 2, 3.")
		}
	}
	if s.Confidence != nil && (*s.Confidence < 0 || *s.Confidence > 100) {
		return FieldError("confidence", "confidence is a percentage from 0 to 100, not %g.", *s.Confidence)
	}
	if s.Effort != nil && *s.Effort <= 0 {
		return FieldError("effort", "effort must be more than zero (person-months).")
	}
	if s.Value != nil && (*s.Value < 1 || *s.Value > 10) {
		return FieldError("value", "value is from 1 to 10.")
	}
	return nil
}

// ComputedScores are derived from the inputs whenever a feature is read,
// so they are never stale.
type ComputedScores struct {
	RICE        *float64 `json:"rice"`
	ValueEffort *float64 `json:"value_effort"`
	Weighted    *float64 `json:"weighted"`
}

// RICE returns reach × impact × confidence ÷ effort, or nil while an input
// is missing.
func (s Scores) RICE() *float64 {
	if s.Reach == nil || s.Impact == nil || s.Confidence == nil || s.Effort == nil || *s.Effort <= 0 {
		return nil
	}
	v := *s.Reach * *s.Impact * (*s.Confidence / 100) / *s.Effort
	return &v
}

// ValueEffort returns value ÷ effort, or nil while an input is missing.
func (s Scores) ValueEffort() *float64 {
	if s.Value == nil || s.Effort == nil || *s.Effort <= 0 {
		return nil
	}
	v := *s.Value / *s.Effort
	return &v
}

// Voice is the voice of the customer on a feature: how much feedback is
// linked, how important customers said it is, and what they are worth.
type Voice struct {
	Count         int     `json:"count"`
	Importance    int     `json:"importance"` // sum of importance weights (1–3)
	CustomerValue float64 `json:"customer_value"`
	Customers     int     `json:"customers"`
}

// Progress is how far a feature's stories have come.
type Progress struct {
	StoriesDone  int `json:"stories_done"`
	StoriesTotal int `json:"stories_total"`
	PointsDone   int `json:"points_done"`
	PointsTotal  int `json:"points_total"`
}

// Ratio returns the share of stories done, 0 when there are none.
func (p Progress) Ratio() float64 {
	if p.StoriesTotal == 0 {
		return 0
	}
	return float64(p.StoriesDone) / float64(p.StoriesTotal)
}

// CriterionKind says where a custom criterion's value comes from.
type CriterionKind string

// The criterion kinds.
const (
	CriterionManual    CriterionKind = "manual"    // the PM scores each feature 0–10
	CriterionDemand    CriterionKind = "demand"    // from linked feedback, 0–10 across the product
	CriterionObjective CriterionKind = "objective" // 10 when the feature serves the objective, else 0
)

// ScoreCriterion is a criterion of a product's custom weighted score.
type ScoreCriterion struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	Weight      float64       `json:"weight"`
	Kind        CriterionKind `json:"kind"`
	ObjectiveID *int64        `json:"objective_id"`
}

// Validate checks the criterion.
func (c *ScoreCriterion) Validate() error {
	if err := checkText("name", &c.Name, true, MaxNameLen); err != nil {
		return err
	}
	if math.IsNaN(c.Weight) || c.Weight <= 0 || c.Weight > 100 {
		return FieldError("weight", "weight must be more than 0 and at most 100.")
	}
	if c.Kind == "" {
		c.Kind = CriterionManual
	}
	switch c.Kind {
	case CriterionManual, CriterionDemand:
		c.ObjectiveID = nil
	case CriterionObjective:
		if c.ObjectiveID == nil {
			return FieldError("objective_id", "an objective criterion names its objective.")
		}
	default:
		return FieldError("kind", "kind must be manual, demand or objective.")
	}
	return nil
}

// WeightedScore computes the custom score, 0–10: the weighted mean of the
// criteria values. demand is the feature's feedback demand on a 0–10
// scale; serves tells whether it serves an objective.
func WeightedScore(criteria []*ScoreCriterion, manual map[int64]float64, demand float64, serves func(objectiveID int64) bool) *float64 {
	if len(criteria) == 0 {
		return nil
	}
	var sum, weights float64
	for _, c := range criteria {
		var v float64
		switch c.Kind {
		case CriterionManual:
			v = manual[c.ID]
		case CriterionDemand:
			v = demand
		case CriterionObjective:
			if c.ObjectiveID != nil && serves(*c.ObjectiveID) {
				v = 10
			}
		}
		sum += c.Weight * v
		weights += c.Weight
	}
	score := sum / weights
	return &score
}

// FeatureInput is the input for creating a feature, and for replacing its
// fields with PATCH (nil fields stay).
type FeatureInput struct {
	Title          *string            `json:"title"`
	Problem        *string            `json:"problem"`
	Solution       *string            `json:"solution"`
	Status         *FeatureStatus     `json:"status"`
	RejectedReason *string            `json:"rejected_reason"`
	MVP            *bool              `json:"mvp"`
	Release        Optional[int64]    `json:"release_id"`
	Theme          Optional[int64]    `json:"theme_id"`
	Objectives     *[]int64           `json:"objective_ids"`
	Owner          Optional[string]   `json:"owner"`
	Horizon        *Horizon           `json:"horizon"`
	Start          Optional[Date]     `json:"start"`
	End            Optional[Date]     `json:"end"`
	MoSCoW         *MoSCoW            `json:"moscow"`
	Scores         *Scores            `json:"scores"`
	Custom         map[int64]*float64 `json:"custom_scores"`
}

// Validate checks the input; creating (create true) needs a title.
func (in *FeatureInput) Validate(create bool) error {
	if create && in.Title == nil {
		return FieldError("title", "title is required.")
	}
	if in.Title != nil {
		if err := checkText("title", in.Title, true, MaxTitleLen); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"problem", in.Problem, MaxMarkdownLen}, {"solution", in.Solution, MaxMarkdownLen}, {"rejected_reason", in.RejectedReason, MaxDescriptionLen}} {
		if f.v != nil {
			if err := checkText(f.name, f.v, false, f.max); err != nil {
				return err
			}
		}
	}
	if in.Status != nil && !in.Status.Valid() {
		return FieldError("status", "status %q is not one of idea, under_consideration, planned, in_progress, released, rejected.", *in.Status)
	}
	if in.Horizon != nil && !in.Horizon.Valid() {
		return FieldError("horizon", "horizon must be now, next, later or empty.")
	}
	if in.MoSCoW != nil && !in.MoSCoW.Valid() {
		return FieldError("moscow", "moscow must be must, should, could, wont or empty.")
	}
	if in.Scores != nil {
		if err := in.Scores.Validate(); err != nil {
			return err
		}
	}
	for id, v := range in.Custom {
		if v != nil && (math.IsNaN(*v) || *v < 0 || *v > 10) {
			return FieldError("custom_scores", "custom score %d must be from 0 to 10.", id)
		}
	}
	if in.Objectives != nil && len(*in.Objectives) > 20 {
		return FieldError("objective_ids", "a feature serves at most 20 objectives.")
	}
	return nil
}

// CheckFeature applies the rules that span fields: a rejected feature says
// why, and the timeline ends after it starts.
func CheckFeature(f *Feature) error {
	if f.Status == FeatureRejected && strings.TrimSpace(f.RejectedReason) == "" {
		return &Error{Code: EUNPROCESSABLE, Field: "rejected_reason", Message: fmt.Sprintf("Say why %s is rejected.", f.Ref)}
	}
	if !f.Start.IsZero() && !f.End.IsZero() && f.End.Before(f.Start.Time) {
		return FieldError("end", "end (%s) must not be before start (%s).", f.End, f.Start)
	}
	return nil
}

// FeatureFilter selects a product's features.
type FeatureFilter struct {
	Statuses []FeatureStatus
	Horizon  *Horizon
	Release  int64
	Theme    int64
	MVP      *bool
}

// ReleaseStatus is where a release is.
type ReleaseStatus string

// The release statuses.
const (
	ReleasePlanned    ReleaseStatus = "planned"
	ReleaseInProgress ReleaseStatus = "in_progress"
	ReleaseReleased   ReleaseStatus = "released"
)

// Valid reports whether s is known.
func (s ReleaseStatus) Valid() bool {
	return s == ReleasePlanned || s == ReleaseInProgress || s == ReleaseReleased
}

// Label returns the status for people.
func (s ReleaseStatus) Label() string { return capitalize(strings.ReplaceAll(string(s), "_", " ")) }

// Release is a named delivery with a goal and a target date; the first
// can be the MVP.
type Release struct {
	ID         int64         `json:"id"`
	ProductKey string        `json:"product"`
	ProductID  int64         `json:"-"`
	Name       string        `json:"name"`
	Goal       string        `json:"goal"`
	Target     Date          `json:"target_date"`
	Status     ReleaseStatus `json:"status"`
	MVP        bool          `json:"mvp"`
	ReleasedAt *time.Time    `json:"released_at"`
	Features   int           `json:"feature_count"`
	Progress   Progress      `json:"progress"`
	Version    int           `json:"version"`
}

// ReleaseInput is the input for creating or changing a release.
type ReleaseInput struct {
	Name   string        `json:"name"`
	Goal   string        `json:"goal"`
	Target Date          `json:"target_date"`
	Status ReleaseStatus `json:"status"`
	MVP    bool          `json:"mvp"`
}

// Validate checks the input.
func (in *ReleaseInput) Validate() error {
	if err := checkText("name", &in.Name, true, MaxNameLen); err != nil {
		return err
	}
	if err := checkText("goal", &in.Goal, false, MaxDescriptionLen); err != nil {
		return err
	}
	if in.Status == "" {
		in.Status = ReleasePlanned
	}
	if !in.Status.Valid() {
		return FieldError("status", "status must be planned, in_progress or released.")
	}
	return nil
}

// Theme groups features: a theme, or an initiative with themes under it.
type Theme struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ParentID    *int64 `json:"parent_id"`
}

// Validate checks the theme.
func (t *Theme) Validate() error {
	if err := checkText("name", &t.Name, true, MaxNameLen); err != nil {
		return err
	}
	return checkText("description", &t.Description, false, MaxDescriptionLen)
}

// CheckThemeParent refuses a parent that would make a cycle: parentOf
// returns a theme's parent id (0 for none).
func CheckThemeParent(id int64, parent *int64, parentOf func(int64) int64) error {
	if parent == nil {
		return nil
	}
	seen := map[int64]bool{id: true}
	for p := *parent; p != 0; p = parentOf(p) {
		if seen[p] {
			return &Error{Code: EUNPROCESSABLE, Field: "parent_id", Message: "That parent would put the theme inside itself."}
		}
		seen[p] = true
	}
	return nil
}

// RoadmapLink is a published, read-only link to a product's roadmap.
type RoadmapLink struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	Prefix       string     `json:"prefix"`
	HideInternal bool       `json:"hide_internal"`
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
}
