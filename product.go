package northstar

import (
	"fmt"
	"strings"
	"time"
)

// Product is something the organization builds and sells, from its first
// idea to its retirement.
type Product struct {
	ID          int64     `json:"-"`
	Key         string    `json:"key"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Vision      string    `json:"vision"`
	Stage       Stage     `json:"stage"`
	Archived    bool      `json:"archived"`
	Version     int       `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	// Role is the requesting user's role in the product, "" if none; it is
	// filled in by reads made on a user's behalf.
	Role Role `json:"role,omitempty"`
}

// ReadOnly reports whether the product refuses changes: a retired product
// is read-only until it is moved to another stage.
func (p *Product) ReadOnly() bool { return p.Stage == StageRetired }

// NewProduct is the input for creating a product.
type NewProduct struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Vision      string `json:"vision"`
	Stage       Stage  `json:"stage"`
}

// Validate normalises the input and checks it.
func (n *NewProduct) Validate() error {
	n.Key = strings.TrimSpace(n.Key)
	if err := ValidateProductKey(n.Key); err != nil {
		return err
	}
	if err := checkText("name", &n.Name, true, MaxNameLen); err != nil {
		return err
	}
	if err := checkText("description", &n.Description, false, MaxDescriptionLen); err != nil {
		return err
	}
	if err := checkText("vision", &n.Vision, false, MaxMarkdownLen); err != nil {
		return err
	}
	if n.Stage == "" {
		n.Stage = StageConceived
	}
	if !n.Stage.Valid() {
		return FieldError("stage", "stage %q is not one of %s.", n.Stage, StageList())
	}
	return nil
}

// ProductUpdate is a partial change to a product; nil fields stay as they are.
type ProductUpdate struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Vision      *string `json:"vision"`
	Archived    *bool   `json:"archived"`
}

// Validate normalises the input and checks it.
func (u *ProductUpdate) Validate() error {
	if u.Name != nil {
		if err := checkText("name", u.Name, true, MaxNameLen); err != nil {
			return err
		}
	}
	if u.Description != nil {
		if err := checkText("description", u.Description, false, MaxDescriptionLen); err != nil {
			return err
		}
	}
	if u.Vision != nil {
		if err := checkText("vision", u.Vision, false, MaxMarkdownLen); err != nil {
			return err
		}
	}
	return nil
}

// Apply copies the set fields onto p.
func (u *ProductUpdate) Apply(p *Product) {
	if u.Name != nil {
		p.Name = *u.Name
	}
	if u.Description != nil {
		p.Description = *u.Description
	}
	if u.Vision != nil {
		p.Vision = *u.Vision
	}
	if u.Archived != nil {
		p.Archived = *u.Archived
	}
}

// ValidateProductKey checks a product key: 2–10 characters, A–Z and 0–9,
// starting with a letter. Keys prefix item refs such as BOOK-42.
func ValidateProductKey(key string) *Error {
	if len(key) < 2 || len(key) > 10 {
		return FieldError("key", "key must be 2 to 10 characters (A–Z, 0–9, starting with a letter).")
	}
	for i, c := range key {
		letter := c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		if !letter && !(digit && i > 0) {
			return FieldError("key", "key %q must be upper-case letters A–Z and digits 0–9, starting with a letter.", key)
		}
	}
	return nil
}

// ProductFilter selects products in a list.
type ProductFilter struct {
	IncludeArchived bool
	Limit           int
	After           string // key of the last product of the previous page
}

// Stage is a step in a product's market lifecycle.
type Stage string

// The lifecycle stages, in order.
const (
	StageConceived    Stage = "conceived"
	StageDevelopment  Stage = "development"
	StageIntroduction Stage = "introduction"
	StageGrowth       Stage = "growth"
	StageMaturity     Stage = "maturity"
	StageDecline      Stage = "decline"
	StageRetired      Stage = "retired"
)

// Stages lists the lifecycle in order.
var Stages = []Stage{StageConceived, StageDevelopment, StageIntroduction, StageGrowth, StageMaturity, StageDecline, StageRetired}

// Index returns the stage's position in the lifecycle, or -1 if unknown.
func (s Stage) Index() int {
	for i, st := range Stages {
		if st == s {
			return i
		}
	}
	return -1
}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return s.Index() >= 0 }

// Label returns the stage name for people.
func (s Stage) Label() string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// StageList returns the stages as a comma-separated list for messages.
func StageList() string {
	names := make([]string, len(Stages))
	for i, s := range Stages {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// StageChange is one entry in a product's append-only lifecycle history. The
// first entry of every product has an empty From.
type StageChange struct {
	ID      int64     `json:"-"`
	From    Stage     `json:"from"`
	To      Stage     `json:"to"`
	Note    string    `json:"note"`
	ActorID int64     `json:"-"`
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
}

// CheckStageChange applies the lifecycle rules to a move from one stage to
// another: the target must exist and differ, and moving backwards needs a
// note saying why.
func CheckStageChange(from, to Stage, note *string) error {
	if err := checkText("note", note, false, MaxNoteLen); err != nil {
		return err
	}
	if !to.Valid() {
		return FieldError("stage", "stage %q is not one of %s.", to, StageList())
	}
	if from == to {
		return &Error{Code: EUNPROCESSABLE, Field: "stage", Message: fmt.Sprintf("The product is already in %s.", to)}
	}
	if to.Index() < from.Index() && *note == "" {
		return &Error{Code: EUNPROCESSABLE, Field: "note", Message: fmt.Sprintf("Moving back from %s to %s needs a note saying why.", from, to)}
	}
	return nil
}
