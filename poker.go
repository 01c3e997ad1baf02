package northstar

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// MaxPokerStories bounds the stories of one planning-poker round.
const MaxPokerStories = 50

// PokerStatus is whether a planning-poker round takes votes.
type PokerStatus string

// The poker round statuses.
const (
	PokerOpen   PokerStatus = "open"
	PokerClosed PokerStatus = "closed"
)

// PokerRound is a planning-poker session: the Product Owner opens it for
// some stories, team members vote on each, the votes stay hidden until the
// Product Owner reveals a story, and the value agreed on becomes the
// story's estimate, kept with who voted what.
type PokerRound struct {
	ID         int64        `json:"id"`
	ProductID  int64        `json:"-"`
	ProductKey string       `json:"product"`
	Title      string       `json:"title"`
	Status     PokerStatus  `json:"status"`
	CreatedBy  *UserRef     `json:"created_by"`
	Items      []*PokerItem `json:"stories"`
	Version    int          `json:"version"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
	ClosedAt   *time.Time   `json:"closed_at"`
}

// PokerItem is one story of a round with its votes.
type PokerItem struct {
	ID       int64  `json:"-"`
	StoryID  int64  `json:"-"`
	Ref      string `json:"ref"`
	Title    string `json:"title"`
	Points   *int   `json:"points"` // the story's estimate now
	Revealed bool   `json:"revealed"`
	// Voters are who has voted, always shown; Votes are their values,
	// shown only once revealed; MyVote is the viewer's own.
	Voters   []UserRef    `json:"voters"`
	Votes    []PokerVote  `json:"votes"`
	MyVote   *int         `json:"my_vote"`
	Agreed   *int         `json:"agreed"`
	AgreedBy *UserRef     `json:"agreed_by"`
	AgreedAt *time.Time   `json:"agreed_at"`
	Spread   *PokerSpread `json:"spread"`
	// Suggestion is the model's suggestion, shown as a reference only
	// after the reveal so that it cannot anchor the votes.
	Suggestion *Suggestion `json:"suggestion"`
}

// PokerVote is one person's vote.
type PokerVote struct {
	Voter   UserRef   `json:"voter"`
	Points  int       `json:"points"`
	VotedAt time.Time `json:"voted_at"`
}

// PokerSpread summarises revealed votes: the lowest and highest, the most
// common (the higher on a tie) and whether everyone agreed.
type PokerSpread struct {
	Min       int  `json:"min"`
	Max       int  `json:"max"`
	Mode      int  `json:"mode"`
	Consensus bool `json:"consensus"`
}

// Item returns the round's item for a story ref, or nil.
func (r *PokerRound) Item(ref string) *PokerItem {
	for _, it := range r.Items {
		if strings.EqualFold(it.Ref, ref) {
			return it
		}
	}
	return nil
}

// ForViewer prepares a round for one person: their own votes, and other
// people's values only where revealed. It is the one place that hides
// votes.
func (r *PokerRound) ForViewer(userID int64) {
	for _, it := range r.Items {
		it.Voters = make([]UserRef, 0, len(it.Votes))
		it.MyVote = nil
		for _, v := range it.Votes {
			it.Voters = append(it.Voters, v.Voter)
			if v.Voter.ID == userID {
				p := v.Points
				it.MyVote = &p
			}
		}
		if !it.Revealed {
			it.Votes = []PokerVote{}
			it.Spread = nil
			it.Suggestion = nil
			continue
		}
		it.Spread = spreadOf(it.Votes)
	}
}

func spreadOf(votes []PokerVote) *PokerSpread {
	if len(votes) == 0 {
		return nil
	}
	s := &PokerSpread{Min: votes[0].Points, Max: votes[0].Points}
	count := map[int]int{}
	for _, v := range votes {
		s.Min, s.Max = min(s.Min, v.Points), max(s.Max, v.Points)
		count[v.Points]++
	}
	best := -1
	for _, p := range slices.Sorted(maps.Keys(count)) {
		if count[p] >= best {
			s.Mode, best = p, count[p]
		}
	}
	s.Consensus = s.Min == s.Max
	return s
}

// NewPokerRound is the input for opening a round.
type NewPokerRound struct {
	Title   string   `json:"title"`
	Stories []string `json:"stories"`
}

// Validate checks the input.
func (in *NewPokerRound) Validate() error {
	if err := checkText("title", &in.Title, true, MaxNameLen); err != nil {
		return err
	}
	if len(in.Stories) == 0 {
		return FieldError("stories", "name at least one story to estimate.")
	}
	if len(in.Stories) > MaxPokerStories {
		return FieldError("stories", "a round holds at most %d stories.", MaxPokerStories)
	}
	return nil
}

// CheckVote checks a vote's points: on the scale.
func CheckVote(points int) error {
	if !ValidPoints(points) {
		return FieldError("points", "points %d are not on the scale %s.", points, pointScaleList())
	}
	return nil
}
