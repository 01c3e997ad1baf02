package northstar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on stories, documented in the README and the OpenAPI document.
const (
	MaxStoryTitleLen   = 300
	MaxTemplateLen     = 500 // persona, want, benefit
	MaxCriteria        = 100
	MaxCriterionLen    = 1000
	MaxTasks           = 100
	MaxTaskLen         = 500
	MaxLabels          = 20
	MaxLabelLen        = 50
	MaxBulkRefs        = 500
	MaxSearchQueryLen  = 200
	DefaultSearchLimit = 20
)

// StoryType is the kind of a backlog item.
type StoryType string

// The story types.
const (
	TypeStory StoryType = "story"
	TypeBug   StoryType = "bug"
	TypeTask  StoryType = "task"
	TypeSpike StoryType = "spike"
)

// StoryTypes lists the story types.
var StoryTypes = []StoryType{TypeStory, TypeBug, TypeTask, TypeSpike}

// Valid reports whether t is a known type.
func (t StoryType) Valid() bool { return slices.Contains(StoryTypes, t) }

// Label returns the type's name for people.
func (t StoryType) Label() string { return capitalize(string(t)) }

// StoryStatus is where a story is in its workflow.
type StoryStatus string

// The story statuses, in workflow order.
const (
	StatusNew        StoryStatus = "new"
	StatusReady      StoryStatus = "ready"
	StatusInProgress StoryStatus = "in_progress"
	StatusInReview   StoryStatus = "in_review"
	StatusDone       StoryStatus = "done"
)

// StoryStatuses lists the statuses in workflow order.
var StoryStatuses = []StoryStatus{StatusNew, StatusReady, StatusInProgress, StatusInReview, StatusDone}

// Valid reports whether s is a known status.
func (s StoryStatus) Valid() bool { return slices.Contains(StoryStatuses, s) }

// Label returns the status's name for people.
func (s StoryStatus) Label() string { return capitalize(strings.ReplaceAll(string(s), "_", " ")) }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// PointScale is the scale story points are estimated on.
var PointScale = []int{0, 1, 2, 3, 5, 8, 13, 20, 40, 100}

// ValidPoints reports whether p is on the scale.
func ValidPoints(p int) bool { return slices.Contains(PointScale, p) }

func pointScaleList() string {
	s := make([]string, len(PointScale))
	for i, p := range PointScale {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// UserRef names a user inside another item.
type UserRef struct {
	ID    int64  `json:"-"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// FeatureRef names the feature a story belongs to.
type FeatureRef struct {
	Ref   string `json:"ref"`
	Title string `json:"title"`
}

// Criterion is one acceptance criterion of a story.
type Criterion struct {
	ID   int64  `json:"id"`
	Text string `json:"text"`
	Met  bool   `json:"met"`
}

// Task is a developer's sub-step of a story.
type Task struct {
	ID       int64    `json:"id"`
	Text     string   `json:"text"`
	Done     bool     `json:"done"`
	Assignee *UserRef `json:"assignee"`
}

// Story is the Product Owner's unit of work: "As a … I want … so that …",
// with acceptance criteria, an estimate, a place in the backlog and a status.
type Story struct {
	ID          int64       `json:"-"`
	ProductID   int64       `json:"-"`
	ProductKey  string      `json:"product"`
	Number      int         `json:"number"`
	Ref         string      `json:"ref"`
	Type        StoryType   `json:"type"`
	Title       string      `json:"title"`
	Persona     string      `json:"persona"`
	Want        string      `json:"want"`
	Benefit     string      `json:"benefit"`
	Description string      `json:"description"`
	Points      *int        `json:"points"`
	Status      StoryStatus `json:"status"`
	Accepted    bool        `json:"accepted"`
	AcceptedAt  *time.Time  `json:"accepted_at"`
	AcceptedBy  *UserRef    `json:"accepted_by"`
	Assignee    *UserRef    `json:"assignee"`
	Labels      []string    `json:"labels"`
	FeatureID   *int64      `json:"-"`
	Feature     *FeatureRef `json:"feature"`
	SprintID    *int64      `json:"sprint_id"`
	Rank        string      `json:"rank"`
	// BoardColumnID and BoardRank place the story on its team's board
	// while it is in a sprint.
	BoardColumnID *int64      `json:"-"`
	BoardRank     string      `json:"-"`
	Criteria      []Criterion `json:"criteria"`
	Tasks         []Task      `json:"tasks"`
	CreatedBy     *UserRef    `json:"created_by"`
	UpdatedBy     *UserRef    `json:"updated_by"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	Version       int         `json:"version"`
}

// Sentence returns the user-story template as one sentence, or "" when the
// template is empty.
func (s *Story) Sentence() string {
	if s.Persona == "" && s.Want == "" && s.Benefit == "" {
		return ""
	}
	var b strings.Builder
	if s.Persona != "" {
		fmt.Fprintf(&b, "As %s, ", withArticle(s.Persona))
	}
	if s.Want != "" {
		if b.Len() == 0 {
			b.WriteString("I want ")
		} else {
			b.WriteString("I want ")
		}
		b.WriteString(strings.TrimSuffix(s.Want, "."))
	}
	if s.Benefit != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString("so that ")
		b.WriteString(strings.TrimSuffix(s.Benefit, "."))
	}
	out := strings.TrimSuffix(strings.TrimSpace(b.String()), ",")
	return capitalize(out) + "."
}

// withArticle puts "a" or "an" before a persona unless it has an article
// or is a name ("As Priya, …").
func withArticle(p string) string {
	lower := strings.ToLower(p)
	for _, a := range []string{"a ", "an ", "the ", "my ", "our "} {
		if strings.HasPrefix(lower, a) {
			return p
		}
	}
	if r, _ := utf8.DecodeRuneInString(p); r >= 'A' && r <= 'Z' {
		return p // a name or a persona's proper name
	}
	if strings.ContainsRune("aeiou", rune(lower[0])) {
		return "an " + p
	}
	return "a " + p
}

// CriteriaMet reports whether every acceptance criterion is met.
func (s *Story) CriteriaMet() bool {
	for _, c := range s.Criteria {
		if !c.Met {
			return false
		}
	}
	return true
}

// MetCount returns how many criteria are met.
func (s *Story) MetCount() int {
	n := 0
	for _, c := range s.Criteria {
		if c.Met {
			n++
		}
	}
	return n
}

// TasksDone returns how many tasks are done.
func (s *Story) TasksDone() int {
	n := 0
	for _, t := range s.Tasks {
		if t.Done {
			n++
		}
	}
	return n
}

// ReadyProblems lists what keeps a story from being ready for a sprint:
// a template sentence, at least one criterion and an estimate.
func (s *Story) ReadyProblems() []string {
	var p []string
	if s.Persona == "" || s.Want == "" || s.Benefit == "" {
		p = append(p, "complete the \"as a … I want … so that …\" sentence")
	}
	if len(s.Criteria) == 0 {
		p = append(p, "add an acceptance criterion")
	}
	if s.Points == nil {
		p = append(p, "estimate it")
	}
	return p
}

// IsReady reports whether the story is ready for a sprint.
func (s *Story) IsReady() bool { return len(s.ReadyProblems()) == 0 }

// CheckAccept applies the acceptance rule: every criterion must be met.
func (s *Story) CheckAccept() error {
	if !s.CriteriaMet() {
		return &Error{Code: EUNPROCESSABLE, Field: "accepted", Message: fmt.Sprintf(
			"%s cannot be accepted: %d of %d acceptance criteria are met.", s.Ref, s.MetCount(), len(s.Criteria))}
	}
	return nil
}

// FormatRef returns the ref of item number n of a product: BOOK-42.
func FormatRef(key string, n int) string { return key + "-" + strconv.Itoa(n) }

// ParseRef splits a ref such as BOOK-42 (any case) into its product key and
// number.
func ParseRef(ref string) (key string, n int, err error) {
	ref = strings.TrimSpace(ref)
	i := strings.LastIndexByte(ref, '-')
	if i <= 0 {
		return "", 0, FieldError("ref", "%q is not a ref like BOOK-42.", ref)
	}
	key = strings.ToUpper(ref[:i])
	n, convErr := strconv.Atoi(ref[i+1:])
	if ValidateProductKey(key) != nil || convErr != nil || n < 1 || strconv.Itoa(n) != ref[i+1:] {
		return "", 0, FieldError("ref", "%q is not a ref like BOOK-42.", ref)
	}
	return key, n, nil
}

// NewStory is the input for creating a story.
type NewStory struct {
	Type        StoryType   `json:"type"`
	Title       string      `json:"title"`
	Persona     string      `json:"persona"`
	Want        string      `json:"want"`
	Benefit     string      `json:"benefit"`
	Description string      `json:"description"`
	Points      *int        `json:"points"`
	Status      StoryStatus `json:"status"`
	Assignee    string      `json:"assignee"` // email
	Labels      []string    `json:"labels"`
	Criteria    []string    `json:"criteria"`
	Tasks       []string    `json:"tasks"`
	Feature     string      `json:"feature"` // ref of the feature the story belongs to
	// Position places the story: "bottom" (default) or "top".
	Position string `json:"position"`
}

// Validate normalises the input and checks it.
func (n *NewStory) Validate() error {
	if n.Type == "" {
		n.Type = TypeStory
	}
	if !n.Type.Valid() {
		return FieldError("type", "type %q is not one of story, bug, task, spike.", n.Type)
	}
	if n.Status == "" {
		n.Status = StatusNew
	}
	if !n.Status.Valid() {
		return FieldError("status", "status %q is not one of %s.", n.Status, statusList())
	}
	if err := validateStoryText(&n.Title, &n.Persona, &n.Want, &n.Benefit, &n.Description); err != nil {
		return err
	}
	if n.Points != nil && !ValidPoints(*n.Points) {
		return FieldError("points", "points %d are not on the scale %s.", *n.Points, pointScaleList())
	}
	labels, err := NormalizeLabels(n.Labels)
	if err != nil {
		return err
	}
	n.Labels = labels
	if len(n.Criteria) > MaxCriteria {
		return FieldError("criteria", "a story has at most %d acceptance criteria.", MaxCriteria)
	}
	for i := range n.Criteria {
		if err := checkText("criteria", &n.Criteria[i], true, MaxCriterionLen); err != nil {
			return err
		}
	}
	if len(n.Tasks) > MaxTasks {
		return FieldError("tasks", "a story has at most %d tasks.", MaxTasks)
	}
	for i := range n.Tasks {
		if err := checkText("tasks", &n.Tasks[i], true, MaxTaskLen); err != nil {
			return err
		}
	}
	switch n.Position {
	case "":
		n.Position = "bottom"
	case "top", "bottom":
	default:
		return FieldError("position", "position must be top or bottom.")
	}
	return nil
}

func validateStoryText(title, persona, want, benefit, description *string) error {
	if title != nil {
		if err := checkText("title", title, true, MaxStoryTitleLen); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"persona", persona}, {"want", want}, {"benefit", benefit}} {
		if f.v != nil {
			if err := checkText(f.name, f.v, false, MaxTemplateLen); err != nil {
				return err
			}
		}
	}
	if description != nil {
		if err := checkText("description", description, false, MaxMarkdownLen); err != nil {
			return err
		}
	}
	return nil
}

func statusList() string {
	s := make([]string, len(StoryStatuses))
	for i, st := range StoryStatuses {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// NormalizeLabels trims labels, drops empty ones and duplicates (ignoring
// case, keeping the first spelling) and checks their number and length.
func NormalizeLabels(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, l := range in {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if err := checkText("labels", &l, true, MaxLabelLen); err != nil {
			return nil, err
		}
		if strings.ContainsAny(l, ",\n\r\t") {
			return nil, FieldError("labels", "label %q may not contain commas, tabs or line breaks.", l)
		}
		if k := strings.ToLower(l); !seen[k] {
			seen[k] = true
			out = append(out, l)
		}
	}
	if len(out) > MaxLabels {
		return nil, FieldError("labels", "a story has at most %d labels.", MaxLabels)
	}
	return out, nil
}

// StoryUpdate is a partial change to a story; nil fields stay as they are.
// Which fields are set decides the permission needed: editing the story
// (title, template, description, type, labels) is the Product Owner's and
// Product Manager's; status, points and assignee are also the developers';
// accepting is the Product Owner's.
type StoryUpdate struct {
	Type        *StoryType       `json:"type"`
	Title       *string          `json:"title"`
	Persona     *string          `json:"persona"`
	Want        *string          `json:"want"`
	Benefit     *string          `json:"benefit"`
	Description *string          `json:"description"`
	Labels      *[]string        `json:"labels"`
	Points      Optional[int]    `json:"points"`
	Status      *StoryStatus     `json:"status"`
	Assignee    Optional[string] `json:"assignee"` // email, or null to unassign
	Accepted    *bool            `json:"accepted"`
	Feature     Optional[string] `json:"feature"` // feature ref, or null for none
}

// Optional is a JSON field that distinguishes absent (Set false) from null
// (Set true, Null true) and a value.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was present.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return jsonUnmarshal(b, &o.Value)
}

// Validate normalises the input and checks it.
func (u *StoryUpdate) Validate() error {
	if u.Type != nil && !u.Type.Valid() {
		return FieldError("type", "type %q is not one of story, bug, task, spike.", *u.Type)
	}
	if u.Status != nil && !u.Status.Valid() {
		return FieldError("status", "status %q is not one of %s.", *u.Status, statusList())
	}
	if err := validateStoryText(u.Title, u.Persona, u.Want, u.Benefit, u.Description); err != nil {
		return err
	}
	if u.Points.Set && !u.Points.Null && !ValidPoints(u.Points.Value) {
		return FieldError("points", "points %d are not on the scale %s.", u.Points.Value, pointScaleList())
	}
	if u.Labels != nil {
		labels, err := NormalizeLabels(*u.Labels)
		if err != nil {
			return err
		}
		*u.Labels = labels
	}
	return nil
}

// Edits reports whether the update changes what only story editors may.
func (u *StoryUpdate) Edits() bool {
	return u.Type != nil || u.Title != nil || u.Persona != nil || u.Want != nil || u.Benefit != nil ||
		u.Description != nil || u.Labels != nil || u.Feature.Set
}

// Empty reports whether the update changes nothing.
func (u *StoryUpdate) Empty() bool {
	return !u.Edits() && !u.Points.Set && u.Status == nil && !u.Assignee.Set && u.Accepted == nil
}

// StoryFilter selects stories of one product's backlog.
type StoryFilter struct {
	Statuses    []StoryStatus
	Types       []StoryType
	Assignee    string // email, "none" for unassigned
	AssigneeID  *int64 // resolved from Assignee; 0 for unassigned
	Label       string
	Unestimated bool
	NotReady    bool
	Query       string // full-text
	After       string // rank of the last story of the previous page
	Limit       int
}

// SearchResult is one hit of a full-text search.
type SearchResult struct {
	Ref        string      `json:"ref"`
	ProductKey string      `json:"product"`
	Kind       string      `json:"kind"`
	Title      string      `json:"title"`
	Type       StoryType   `json:"type"`
	Status     StoryStatus `json:"status"`
	Score      float64     `json:"score"`
}

// Move says where a story goes in the backlog: before or after another
// story of the same product, or to the top or bottom.
type Move struct {
	Before   string `json:"before"`
	After    string `json:"after"`
	Position string `json:"position"`
}

// Validate checks that exactly one place is given.
func (m *Move) Validate() error {
	n := 0
	for _, s := range []string{m.Before, m.After, m.Position} {
		if strings.TrimSpace(s) != "" {
			n++
		}
	}
	if n != 1 {
		return FieldError("position", `give exactly one of "before", "after" or "position".`)
	}
	if m.Position != "" && m.Position != "top" && m.Position != "bottom" {
		return FieldError("position", "position must be top or bottom.")
	}
	return nil
}

// BulkUpdate changes many stories at once.
type BulkUpdate struct {
	Refs         []string         `json:"refs"`
	Status       *StoryStatus     `json:"status"`
	Assignee     Optional[string] `json:"assignee"`
	AddLabels    []string         `json:"add_labels"`
	RemoveLabels []string         `json:"remove_labels"`
}

// Validate checks the input.
func (b *BulkUpdate) Validate() error {
	if len(b.Refs) == 0 {
		return FieldError("refs", "refs lists the stories to change.")
	}
	if len(b.Refs) > MaxBulkRefs {
		return FieldError("refs", "a bulk update changes at most %d stories, not %d.", MaxBulkRefs, len(b.Refs))
	}
	if b.Status != nil && !b.Status.Valid() {
		return FieldError("status", "status %q is not one of %s.", *b.Status, statusList())
	}
	var err error
	if b.AddLabels, err = NormalizeLabels(b.AddLabels); err != nil {
		err.(*Error).Field = "add_labels"
		return err
	}
	if b.RemoveLabels, err = NormalizeLabels(b.RemoveLabels); err != nil {
		err.(*Error).Field = "remove_labels"
		return err
	}
	if b.Status == nil && !b.Assignee.Set && len(b.AddLabels) == 0 && len(b.RemoveLabels) == 0 {
		return FieldError("refs", "say what to change: status, assignee, add_labels or remove_labels.")
	}
	return nil
}
