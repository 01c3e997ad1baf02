package northstar

// Closing the loop: when a feature is released, the people who asked for
// it are told, with the release note its product manager wrote.

// The statuses of a release notice.
const (
	NoticeSent         = "sent"
	NoticePending      = "pending"
	NoticeFailed       = "failed"
	NoticeUnsubscribed = "unsubscribed"
)

// MaxNoticeAttempts bounds the tries to mail one notice: an address that
// bounces is not retried forever.
const MaxNoticeAttempts = 3

// ReleaseNotice is one person told that a feature was released: in the
// app (a user) or by mail (a customer, a portal author or voter).
type ReleaseNotice struct {
	ID        int64  `json:"-"`
	FeatureID int64  `json:"-"`
	Channel   string `json:"channel"` // app or mail
	UserID    int64  `json:"-"`
	Email     string `json:"-"`
	Name      string `json:"-"`
	Status    string `json:"status"`
}

// NoticeCounts says how many were told of a feature's release, and how.
type NoticeCounts struct {
	InApp        int `json:"in_app"`
	Mailed       int `json:"mailed"`
	Pending      int `json:"pending"`
	Failed       int `json:"failed"`
	Unsubscribed int `json:"unsubscribed"`
}

// Told is everyone who was told: in the app or by a mail that went out.
func (c NoticeCounts) Told() int { return c.InApp + c.Mailed }

// ReleaseLoop is a feature's release note and who was told.
type ReleaseLoop struct {
	Feature  string       `json:"feature"`
	Released bool         `json:"released"`
	Note     string       `json:"release_note"`
	Counts   NoticeCounts `json:"told"`
}

// CheckReleaseNote validates a release note.
func CheckReleaseNote(note *string) error {
	return checkText("release_note", note, false, MaxMarkdownLen)
}
