package web

// The board of a team's active sprint: columns with their cards, a filter
// by assignee and swimlanes by assignee or feature. board.js drags cards
// with SortableJS and polls the columns so that other people's moves show
// up; without JavaScript each card has a form to move it to a column.

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/httpx"
)

// boardQuery is the board's query string.
type boardQuery struct {
	Assignee string // an email, "none" for unassigned, "" for everyone
	Lanes    string // "", "assignee" or "feature"
}

func parseBoardQuery(q url.Values) boardQuery {
	bq := boardQuery{Assignee: strings.TrimSpace(q.Get("assignee")), Lanes: q.Get("lanes")}
	if bq.Lanes != "assignee" && bq.Lanes != "feature" {
		bq.Lanes = ""
	}
	return bq
}

func (bq boardQuery) values() url.Values {
	v := url.Values{}
	if bq.Assignee != "" {
		v.Set("assignee", bq.Assignee)
	}
	if bq.Lanes != "" {
		v.Set("lanes", bq.Lanes)
	}
	return v
}

func (bq boardQuery) keep(s *northstar.Story) bool {
	switch bq.Assignee {
	case "":
		return true
	case "none":
		return s.Assignee == nil
	}
	return s.Assignee != nil && strings.EqualFold(s.Assignee.Email, bq.Assignee)
}

// boardCell is one column of one swimlane.
type boardCell struct {
	Column *northstar.BoardColumnCards
	Cards  []*northstar.Story
}

// boardLane is a swimlane: every column, with the cards of one assignee
// or feature (or all cards, when the board has no lanes).
type boardLane struct {
	Key    string // "" for the single lane of a board without lanes
	Title  string
	Sub    string // the feature's ref, the assignee's email
	Kind   string // "assignee", "feature" or ""
	Cells  []boardCell
	Count  int
	Points int
}

type assigneeOption struct{ Email, Name string }

type boardView struct {
	page
	Nav    teamNav
	Team   *northstar.Team
	Rights teamRights
	Board  *northstar.Board // nil when the team has no active sprint
	Next   *northstar.Sprint
	Query  boardQuery
	Lanes  []boardLane
	People []assigneeOption
	Stats  sprintStats
	// URL is this board with its filters: what the columns are polled
	// from and where the move forms return to.
	URL      string
	Hidden   int // cards the filter hides
	DaysLeft int
	// OOB marks the sprint's numbers as sent out of band with the polled
	// columns.
	OOB bool
}

// Filtered reports whether the assignee filter hides cards.
func (v *boardView) Filtered() bool { return v.Query.Assignee != "" }

// Points sums the points of cards.
func (v *boardView) Points(cards []*northstar.Story) int {
	n := 0
	for _, c := range cards {
		if c.Points != nil {
			n += *c.Points
		}
	}
	return n
}

// CanMove reports whether the user may move a card.
func (v *boardView) CanMove(s *northstar.Story) bool {
	return v.Rights.WorkIn(s.ProductKey) || (v.User != nil && v.User.Admin)
}

// DonePct is the share of the sprint's points done, 0–1.
func (v *boardView) DonePct() float64 { return v.Stats.DonePct() }

func (web *Web) boardView(w http.ResponseWriter, r *http.Request) (*boardView, error) {
	ctx := r.Context()
	id, err := parseID(r, "id", "Team")
	if err != nil {
		return nil, err
	}
	t, err := web.app.Team(ctx, id)
	if err != nil {
		return nil, err
	}
	rights, _, err := web.teamRights(ctx, t)
	if err != nil {
		return nil, err
	}
	bq := parseBoardQuery(r.URL.Query())
	view := &boardView{page: web.newPage(w, r, t.Name+" board", "teams"), Team: t, Rights: rights, Query: bq,
		Nav: teamNav{Team: t, Active: "board"}}
	view.URL = teamURL(id) + "/board"
	if v := bq.values(); len(v) > 0 {
		view.URL += "?" + v.Encode()
	}
	active, next, _, err := web.teamSprints(ctx, id)
	if err != nil {
		return nil, err
	}
	view.Next = next
	if active == nil {
		return view, nil
	}
	b, err := web.app.Board(ctx, id)
	if err != nil {
		if northstar.ErrorCode(err) == northstar.ENOTFOUND {
			return view, nil // closed in the meantime
		}
		return nil, err
	}
	view.Board, view.Nav.Sprint = b, b.Sprint
	view.Title = b.Sprint.Name + " · " + t.Name + " board"
	view.DaysLeft = int(b.Sprint.End.Sub(sprintToday()).Hours()/24) + 1

	// Everyone with a card or in the team, for the filter.
	seen := map[string]bool{}
	var all []*northstar.Story
	for _, c := range b.Columns {
		all = append(all, c.Cards...)
		for _, s := range c.Cards {
			if s.Assignee != nil && !seen[s.Assignee.Email] {
				seen[s.Assignee.Email] = true
				view.People = append(view.People, assigneeOption{s.Assignee.Email, s.Assignee.Name})
			}
		}
	}
	for _, m := range t.Members {
		if !seen[m.Email] {
			seen[m.Email] = true
			view.People = append(view.People, assigneeOption{m.Email, m.Name})
		}
	}
	slices.SortFunc(view.People, func(a, b assigneeOption) int { return strings.Compare(a.Name, b.Name) })
	view.Stats = sprintStatsOf(all)
	view.Lanes = boardLanes(b, bq)
	for _, s := range all {
		if !bq.keep(s) {
			view.Hidden++
		}
	}
	return view, nil
}

// boardLanes splits the board's cards into swimlanes, keeping the column order
// and each column's card order.
func boardLanes(b *northstar.Board, bq boardQuery) []boardLane {
	type laneKey struct{ key, title, sub string }
	keyOf := func(s *northstar.Story) laneKey {
		switch bq.Lanes {
		case "assignee":
			if s.Assignee == nil {
				return laneKey{"~none", "Unassigned", ""}
			}
			return laneKey{"a:" + s.Assignee.Email, s.Assignee.Name, s.Assignee.Email}
		case "feature":
			if s.Feature == nil {
				return laneKey{"~none", "No feature", ""}
			}
			return laneKey{"f:" + s.Feature.Ref, s.Feature.Title, s.Feature.Ref}
		}
		return laneKey{}
	}
	byKey := map[string]*boardLane{}
	var keys []laneKey
	for _, c := range b.Columns {
		for _, s := range c.Cards {
			if !bq.keep(s) {
				continue
			}
			k := keyOf(s)
			if byKey[k.key] == nil {
				byKey[k.key] = &boardLane{Key: k.key, Title: k.title, Sub: k.sub, Kind: bq.Lanes}
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		keys = append(keys, laneKey{})
		byKey[""] = &boardLane{}
	}
	// Lanes in name order; "Unassigned" and "No feature" last.
	slices.SortStableFunc(keys, func(a, b laneKey) int {
		if (a.key == "~none") != (b.key == "~none") {
			if a.key == "~none" {
				return 1
			}
			return -1
		}
		return strings.Compare(strings.ToLower(a.title), strings.ToLower(b.title))
	})
	out := make([]boardLane, 0, len(keys))
	for _, k := range keys {
		lane := byKey[k.key]
		for _, c := range b.Columns {
			cell := boardCell{Column: c}
			for _, s := range c.Cards {
				if bq.keep(s) && keyOf(s).key == k.key {
					cell.Cards = append(cell.Cards, s)
					lane.Count++
					if s.Points != nil {
						lane.Points += *s.Points
					}
				}
			}
			lane.Cells = append(lane.Cells, cell)
		}
		out = append(out, *lane)
	}
	return out
}

// board serves the board page, or for htmx's poll only the columns (with
// the sprint's numbers out of band).
func (web *Web) board(w http.ResponseWriter, r *http.Request) error {
	view, err := web.boardView(w, r)
	if err != nil {
		return err
	}
	if isHTMX(r) && r.Header.Get("HX-Target") == "board-columns" && r.Header.Get("HX-History-Restore-Request") != "true" {
		view.OOB = true
		return web.renderPartial(w, http.StatusOK, "board", "board-poll", view)
	}
	return web.render(w, r, http.StatusOK, "board", view)
}

// moveCard moves a card to a column, before or after another card.
// board.js posts it with fetch after a drag and gets 204 or the error's
// message as text; the plain form of a card goes back to the board.
func (web *Web) moveCard(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := parseID(r, "id", "Sprint")
	if err != nil {
		return err
	}
	ref := strings.ToUpper(r.PathValue("ref"))
	col, _ := strconv.ParseInt(r.PostForm.Get("column"), 10, 64)
	m := northstar.CardMove{Column: col, Before: strings.ToUpper(r.PostForm.Get("before")), After: strings.ToUpper(r.PostForm.Get("after"))}
	_, err = web.app.MoveCard(r.Context(), id, ref, m)
	if isHTMX(r) {
		if err != nil {
			if !userError(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND {
				return err
			}
			httpx.LogError(r, err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(httpx.Status(err))
			_, err = w.Write([]byte(northstar.ErrorMessage(err)))
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	back := r.PostForm.Get("next")
	if err != nil {
		if !userError(err) && northstar.ErrorCode(err) != northstar.ENOTFOUND || northstar.ErrorCode(err) == northstar.EFORBIDDEN {
			return err
		}
		setFlash(w, "!"+northstar.ErrorMessage(err))
	}
	if back == "" || !strings.HasPrefix(back, "/teams/") {
		s, serr := web.app.Sprint(r.Context(), id)
		if serr != nil {
			return serr
		}
		back = teamURL(s.TeamID) + "/board"
	}
	redirect(w, r, localPath(back, "/teams")+"#card-"+ref)
	return nil
}
