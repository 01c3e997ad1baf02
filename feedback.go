package northstar

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Customer is an end user or a customer account that feedback comes from.
// Customers belong to the organization, so one customer's words can reach
// several products.
type Customer struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Company   string    `json:"company"`
	Segment   string    `json:"segment"`
	Value     *float64  `json:"value"` // revenue, seats…: what the customer is worth
	Feedback  int       `json:"feedback_count"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CustomerInput is the input for creating or changing a customer.
type CustomerInput struct {
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Company string   `json:"company"`
	Segment string   `json:"segment"`
	Value   *float64 `json:"value"`
}

// Validate checks the input.
func (in *CustomerInput) Validate() error {
	if err := checkText("name", &in.Name, true, MaxNameLen); err != nil {
		return err
	}
	if strings.TrimSpace(in.Email) != "" {
		email, err := NormalizeEmail(in.Email)
		if err != nil {
			return err
		}
		in.Email = email
	} else {
		in.Email = ""
	}
	if err := checkText("company", &in.Company, false, MaxNameLen); err != nil {
		return err
	}
	if err := checkText("segment", &in.Segment, false, MaxNameLen); err != nil {
		return err
	}
	if in.Value != nil && (math.IsNaN(*in.Value) || math.IsInf(*in.Value, 0) || *in.Value < 0) {
		return FieldError("value", "value must be a number of zero or more.")
	}
	return nil
}

// FeedbackSource says where feedback came from.
type FeedbackSource string

// The feedback sources.
const (
	SourceInterview FeedbackSource = "interview"
	SourceSupport   FeedbackSource = "support"
	SourceSales     FeedbackSource = "sales"
	SourceSurvey    FeedbackSource = "survey"
	SourcePortal    FeedbackSource = "portal"
	SourceOther     FeedbackSource = "other"
)

// FeedbackSources lists the sources.
var FeedbackSources = []FeedbackSource{SourceInterview, SourceSupport, SourceSales, SourceSurvey, SourcePortal, SourceOther}

// Valid reports whether s is known.
func (s FeedbackSource) Valid() bool {
	for _, x := range FeedbackSources {
		if x == s {
			return true
		}
	}
	return false
}

// Label returns the source for people.
func (s FeedbackSource) Label() string { return capitalize(string(s)) }

// FeedbackStatus is where feedback is in triage.
type FeedbackStatus string

// The feedback statuses.
const (
	FeedbackNew      FeedbackStatus = "new"
	FeedbackTriaged  FeedbackStatus = "triaged"
	FeedbackArchived FeedbackStatus = "archived"
)

// FeedbackStatuses lists the statuses.
var FeedbackStatuses = []FeedbackStatus{FeedbackNew, FeedbackTriaged, FeedbackArchived}

// Valid reports whether s is known.
func (s FeedbackStatus) Valid() bool {
	for _, x := range FeedbackStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Label returns the status for people.
func (s FeedbackStatus) Label() string { return capitalize(string(s)) }

// Importance is how much a piece of feedback says a feature matters.
type Importance string

// The importances, from least to most.
const (
	NiceToHave Importance = "nice_to_have"
	Important  Importance = "important"
	Critical   Importance = "critical"
)

// Importances lists the importances.
var Importances = []Importance{NiceToHave, Important, Critical}

// Valid reports whether i is known.
func (i Importance) Valid() bool {
	for _, x := range Importances {
		if x == i {
			return true
		}
	}
	return false
}

// Label returns the importance for people.
func (i Importance) Label() string {
	switch i {
	case NiceToHave:
		return "Nice to have"
	case Important:
		return "Important"
	case Critical:
		return "Critical"
	}
	return string(i)
}

// Weight is the importance as a number, for summing demand.
func (i Importance) Weight() int {
	switch i {
	case NiceToHave:
		return 1
	case Important:
		return 2
	case Critical:
		return 3
	}
	return 0
}

// Feedback is what an end user said: an interview note, a support ticket,
// a sales call, a survey answer or a portal idea. Passages of it are
// linked to features as insights.
type Feedback struct {
	ID         int64          `json:"id"`
	ProductKey string         `json:"product"`
	ProductID  int64          `json:"-"`
	Source     FeedbackSource `json:"source"`
	Title      string         `json:"title"`
	Text       string         `json:"text"`
	Status     FeedbackStatus `json:"status"`
	Customer   *Customer      `json:"customer"`
	CapturedBy *UserRef       `json:"captured_by"`
	Links      []*Insight     `json:"insights"`
	PortalIdea *int64         `json:"portal_idea_id"`
	Votes      int            `json:"votes"`
	Version    int            `json:"version"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// FeedbackInput is the input for recording feedback.
type FeedbackInput struct {
	Source     FeedbackSource `json:"source"`
	Title      string         `json:"title"`
	Text       string         `json:"text"`
	CustomerID *int64         `json:"customer_id"`
	// Insights are linked in the same transaction: an interview logged as
	// one note with several insights.
	Insights []InsightInput `json:"insights"`
}

// Validate checks the input.
func (in *FeedbackInput) Validate() error {
	if in.Source == "" {
		in.Source = SourceOther
	}
	if !in.Source.Valid() || in.Source == SourcePortal {
		return FieldError("source", "source %q is not one of interview, support, sales, survey, other.", in.Source)
	}
	if err := checkText("text", &in.Text, true, MaxFeedbackLen); err != nil {
		return err
	}
	if err := checkText("title", &in.Title, false, MaxTitleLen); err != nil {
		return err
	}
	if in.Title == "" {
		in.Title = summarize(in.Text, 80)
	}
	if len(in.Insights) > MaxCriteria {
		return FieldError("insights", "at most %d insights at once.", MaxCriteria)
	}
	for i := range in.Insights {
		if err := in.Insights[i].Validate(); err != nil {
			if e, ok := err.(*Error); ok {
				e.Field = fmt.Sprintf("insights[%d].%s", i, e.Field)
			}
			return err
		}
	}
	return nil
}

// summarize returns the first line of text, cut at n characters.
func summarize(text string, n int) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	line = strings.TrimSpace(strings.TrimLeft(line, "#>*- "))
	if r := []rune(line); len(r) > n {
		return strings.TrimSpace(string(r[:n-1])) + "…"
	}
	return line
}

// Insight links a passage of feedback to a feature, with how important
// the customer said it is.
type Insight struct {
	ID         int64      `json:"id"`
	FeedbackID int64      `json:"feedback_id"`
	FeatureRef string     `json:"feature"`
	Feature    string     `json:"feature_title"`
	Passage    string     `json:"passage"`
	Importance Importance `json:"importance"`
	CreatedBy  *UserRef   `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
}

// InsightInput links a passage to an existing feature (Feature, a ref) or
// to a new feature idea (NewIdea, its title).
type InsightInput struct {
	Passage    string     `json:"passage"`
	Importance Importance `json:"importance"`
	Feature    string     `json:"feature"`
	NewIdea    string     `json:"new_idea"`
}

// Validate checks the input.
func (in *InsightInput) Validate() error {
	if err := checkText("passage", &in.Passage, false, MaxPassageLen); err != nil {
		return err
	}
	if in.Importance == "" {
		in.Importance = Important
	}
	if !in.Importance.Valid() {
		return FieldError("importance", "importance %q is not one of nice_to_have, important, critical.", in.Importance)
	}
	in.Feature = strings.TrimSpace(in.Feature)
	if err := checkText("new_idea", &in.NewIdea, false, MaxTitleLen); err != nil {
		return err
	}
	if (in.Feature == "") == (in.NewIdea == "") {
		return FieldError("feature", `give either "feature" (a ref) or "new_idea" (a title).`)
	}
	return nil
}

// FeedbackFilter selects feedback in a product's inbox.
type FeedbackFilter struct {
	Source     FeedbackSource
	Status     FeedbackStatus
	CustomerID int64
	Segment    string
	Linked     *bool
	Query      string
	Before     int64 // id of the last item of the previous page (newest first)
	Limit      int
}

// FeatureStatus is where a feature is between idea and release.
type FeatureStatus string

// The feature statuses.
const (
	FeatureIdea               FeatureStatus = "idea"
	FeatureUnderConsideration FeatureStatus = "under_consideration"
	FeaturePlanned            FeatureStatus = "planned"
	FeatureInProgress         FeatureStatus = "in_progress"
	FeatureReleased           FeatureStatus = "released"
	FeatureRejected           FeatureStatus = "rejected"
)

// FeatureStatuses lists the statuses in order.
var FeatureStatuses = []FeatureStatus{FeatureIdea, FeatureUnderConsideration, FeaturePlanned, FeatureInProgress, FeatureReleased, FeatureRejected}

// Valid reports whether s is known.
func (s FeatureStatus) Valid() bool {
	for _, x := range FeatureStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Label returns the status for people.
func (s FeatureStatus) Label() string { return capitalize(strings.ReplaceAll(string(s), "_", " ")) }
