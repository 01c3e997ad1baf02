package northstar

import (
	"strings"
	"time"
)

// Limits on the public feedback portal, which anyone may write to.
const (
	MaxPortalTitleLen   = 150
	MaxPortalBodyLen    = 5000
	MaxPortalCommentLen = 2000
)

// PortalStatus is what the portal tells end users about an idea; the
// product manager sets it.
type PortalStatus string

// The portal statuses.
const (
	PortalUnderReview PortalStatus = "under_review"
	PortalPlanned     PortalStatus = "planned"
	PortalInProgress  PortalStatus = "in_progress"
	PortalReleased    PortalStatus = "released"
	PortalDeclined    PortalStatus = "declined"
)

// PortalStatuses lists the statuses.
var PortalStatuses = []PortalStatus{PortalUnderReview, PortalPlanned, PortalInProgress, PortalReleased, PortalDeclined}

// Valid reports whether s is known.
func (s PortalStatus) Valid() bool {
	for _, x := range PortalStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// Label returns the status for people.
func (s PortalStatus) Label() string { return capitalize(strings.ReplaceAll(string(s), "_", " ")) }

// PortalIdea is an idea an end user submitted on a product's public portal.
// Email addresses are never shown on the portal.
type PortalIdea struct {
	ID         int64        `json:"id"`
	ProductKey string       `json:"product"`
	ProductID  int64        `json:"-"`
	Title      string       `json:"title"`
	Body       string       `json:"body"`
	AuthorName string       `json:"author_name"`
	Email      string       `json:"email,omitempty"` // for the team only
	Verified   bool         `json:"verified"`
	Status     PortalStatus `json:"status"`
	Hidden     bool         `json:"hidden"`
	Votes      int          `json:"votes"`
	Comments   int          `json:"comment_count"`
	FeedbackID int64        `json:"feedback_id,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
}

// PortalComment is a comment on a portal idea, by an end user or the team.
type PortalComment struct {
	ID         int64     `json:"id"`
	AuthorName string    `json:"author_name"`
	FromTeam   bool      `json:"from_team"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// PortalSubmission is what an end user sends: an idea, a vote or a
// comment. Website is a honeypot: people leave it empty, bots fill it in.
type PortalSubmission struct {
	Title   string `json:"title"`
	Body    string `json:"body"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Website string `json:"website"`
}

// ValidateIdea checks an idea submission.
func (s *PortalSubmission) ValidateIdea() error {
	if err := checkText("title", &s.Title, true, MaxPortalTitleLen); err != nil {
		return err
	}
	if err := checkText("body", &s.Body, false, MaxPortalBodyLen); err != nil {
		return err
	}
	return s.validateAuthor()
}

// ValidateComment checks a comment submission.
func (s *PortalSubmission) ValidateComment() error {
	if err := checkText("body", &s.Body, true, MaxPortalCommentLen); err != nil {
		return err
	}
	return s.validateAuthor()
}

// ValidateVote checks a vote.
func (s *PortalSubmission) ValidateVote() error {
	email, err := NormalizeEmail(s.Email)
	if err != nil {
		return err
	}
	s.Email = email
	return nil
}

func (s *PortalSubmission) validateAuthor() error {
	if err := checkText("name", &s.Name, false, MaxNameLen); err != nil {
		return err
	}
	if s.Name == "" {
		s.Name = "Anonymous"
	}
	return s.ValidateVote()
}

// IsBot reports whether the honeypot field was filled in.
func (s *PortalSubmission) IsBot() bool { return strings.TrimSpace(s.Website) != "" }

// PortalSettings are a product's portal settings.
type PortalSettings struct {
	Enabled bool   `json:"enabled"`
	Intro   string `json:"intro"`
}
