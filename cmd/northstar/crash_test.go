//go:build unix

package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// The crash test kills the real server with SIGKILL while 8 writers change
// one product's backlog through the API, restarts it, and checks that what
// the server acknowledged is there and nothing else is, half or whole:
//
//   - Each writer owns the stories it creates (their titles start with its
//     name) and is the only one to change them, so it can keep a model of
//     them: their text, criteria, tasks, labels and points, and their order
//     relative to each other, which moves and rank rebalancing by the other
//     writers never change.
//   - A write answered 2xx goes into the model. The one request a writer had
//     in flight when the server died may or may not have committed: after
//     the restart the server must show the model either without it or with
//     it applied whole, and nothing in between.
//   - Every story on the backlog belongs to a model, with exactly the
//     criteria, tasks and labels it was created with plus those added by
//     acknowledged (or the in-flight) requests; ranks are unique and valid.
//   - On SQLite the file is opened read-only after each kill, before the
//     restart: integrity_check, foreign_key_check, and the counters kept
//     next to the rows they count.

const (
	crashWriters   = 8
	crashProduct   = "CRASH"
	crashKillsLite = 25
	crashKillsPG   = 10
	// Restarts must be ready within crashMaxRestart (p90, so that one
	// restart slowed down by a busy CI machine does not fail the test) and
	// every one within crashHardRestart.
	crashMaxRestart  = 2 * time.Second
	crashHardRestart = 5 * time.Second
)

func TestCrashSafetySQLite(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	runCrashTest(t, crashKillsLite, []string{"--data", data}, filepath.Join(data, "northstar.db"))
}

func TestCrashSafetyPostgres(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresEnv) == "" && os.Getenv("CI") != "true" {
		t.Skipf("%s is not set: the PostgreSQL crash test needs a server (SQLite's runs in TestCrashSafetySQLite)", storetest.PostgresEnv)
	}
	runCrashTest(t, crashKillsPG, []string{"--db", postgresDSN(t)}, "")
}

// crashStory is a writer's model of one of its stories.
type crashStory struct {
	Ref         string // "" until the server named it
	Title       string
	Description string
	Points      *int
	Criteria    []string
	Tasks       []string
	Labels      []string
	version     int // the version the writer sends in If-Match
}

// crashState is one writer's stories in backlog order.
type crashState []crashStory

func (s crashState) clone() crashState {
	out := make(crashState, len(s))
	for i, st := range s {
		st.Criteria = slices.Clone(st.Criteria)
		st.Tasks = slices.Clone(st.Tasks)
		st.Labels = slices.Clone(st.Labels)
		out[i] = st
	}
	return out
}

// key describes the state without refs and versions, for comparison: a
// story created by the request in flight has no ref in the model yet.
func (s crashState) key() string {
	var b strings.Builder
	for _, st := range s {
		p := "-"
		if st.Points != nil {
			p = fmt.Sprint(*st.Points)
		}
		// Labels are a set.
		fmt.Fprintf(&b, "%s|%s|%s|%q|%q|%q\n", st.Title, st.Description, p, st.Criteria, st.Tasks, slices.Sorted(slices.Values(st.Labels)))
	}
	return b.String()
}

func (s crashState) index(title string) int {
	return slices.IndexFunc(s, func(st crashStory) bool { return st.Title == title })
}

// crashOp is a request that was sent; apply changes the model as the
// server would, given the answer's story (nil when there was no answer).
type crashOp struct {
	what  string
	apply func(s crashState, answer *northstar.Story) crashState
}

// crashWriter is one of the concurrent clients.
type crashWriter struct {
	id      int
	rng     *rand.Rand
	state   crashState
	pending *crashOp // sent, server died before it answered
	seq     int
	acked   int // writes answered 2xx, over all rounds
	refused []string
}

// crashRun is the state of one crash test.
type crashRun struct {
	t       *testing.T
	token   string
	writers []*crashWriter
	// In-flight requests found committed whole, and found not committed.
	inFlightCommitted, inFlightLost int
}

func runCrashTest(t *testing.T, kills int, dbArgs []string, sqliteFile string) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	run := &crashRun{t: t}
	for i := range crashWriters {
		run.writers = append(run.writers, &crashWriter{id: i, rng: rand.New(rand.NewPCG(seed, uint64(i)+2))})
	}

	// First start: an admin (the first account) and the product.
	p, url, _ := startCrashServer(t, dbArgs)
	run.token = signUpWithProduct(t, url, "Crash Admin", "crash@northstar.test", crashProduct, "Crash test")

	var restarts []time.Duration
	var totalAcked int
	for round := 1; round <= kills; round++ {
		totalAcked += run.writeAndKill(p, url, rng)
		if sqliteFile != "" {
			checkSQLiteFile(t, sqliteFile)
		}
		var took time.Duration
		p, url, took = startCrashServer(t, dbArgs)
		restarts = append(restarts, took)
		if testing.Verbose() {
			t.Logf("round %d: %d stories, restart %s; %s", round, run.stories(), took.Round(time.Millisecond), firstLines(p.out.String(), 6))
		}
		if took > crashHardRestart {
			t.Errorf("round %d: restart after SIGKILL took %s until /readyz answered, want < %s", round, took.Round(time.Millisecond), crashMaxRestart)
		}
		run.verify(url, round)
		if t.Failed() {
			t.Fatalf("round %d failed; stopping", round)
		}
	}
	p.stop()

	for _, w := range run.writers {
		for _, r := range w.refused {
			t.Errorf("writer %d: refused: %s", w.id, r)
		}
	}
	stories := 0
	for _, w := range run.writers {
		stories += len(w.state)
	}
	t.Logf("%d kills survived; %d acknowledged writes, all checked after the next restart; of the requests in flight at a kill, %d committed whole and %d not at all; %d stories at the end",
		kills, totalAcked, run.inFlightCommitted, run.inFlightLost, stories)
	slices.Sort(restarts)
	p90 := restarts[len(restarts)*9/10]
	t.Logf("restart to ready after SIGKILL: max %s, p90 %s, median %s", restarts[len(restarts)-1].Round(time.Millisecond), p90.Round(time.Millisecond), median(restarts).Round(time.Millisecond))
	if p90 > crashMaxRestart {
		t.Errorf("restart to ready after SIGKILL: p90 %s, want < %s", p90.Round(time.Millisecond), crashMaxRestart)
	}
}

// startCrashServer starts serve on a free port and returns the process,
// its URL and how long it took from exec until /readyz answered 200.
func startCrashServer(t *testing.T, dbArgs []string) (*proc, string, time.Duration) {
	t.Helper()
	addr := freeAddr(t)
	begin := time.Now()
	p := start(t, nil, append([]string{"serve", "--addr", addr}, dbArgs...)...)
	url := "http://" + addr
	p.waitReady(url)
	return p, url, time.Since(begin)
}

// writeAndKill runs the writers and kills the server with SIGKILL at a
// random moment once every writer could have written something; the
// writers stop on the first request that gets no answer. It returns how
// many writes were acknowledged this round.
func (run *crashRun) writeAndKill(p *proc, url string, rng *rand.Rand) int {
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: crashWriters},
	}
	defer client.CloseIdleConnections()
	before := run.acked()
	var answered atomic.Int64
	var wg sync.WaitGroup
	for _, w := range run.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w.step(client, url, run.token) {
				answered.Add(1)
			}
		}()
	}
	earliest := time.Now().Add(time.Duration(20+rng.IntN(400)) * time.Millisecond)
	for time.Now().Before(earliest) || answered.Load() < 2*crashWriters {
		time.Sleep(time.Millisecond)
	}
	if err := p.cmd.Process.Signal(os.Kill); err != nil {
		run.t.Fatal(err)
	}
	wg.Wait()
	p.wait(10 * time.Second)
	return run.acked() - before
}

func (run *crashRun) stories() int {
	n := 0
	for _, w := range run.writers {
		n += len(w.state)
	}
	return n
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func (run *crashRun) acked() int {
	n := 0
	for _, w := range run.writers {
		n += w.acked
	}
	return n
}

// step sends one random write and reports whether the server answered.
// An answer other than 2xx is recorded as refused (none is expected).
func (w *crashWriter) step(client *http.Client, url, token string) bool {
	w.seq++
	op, method, path, ifMatch, body := w.nextOp(url)
	req, err := http.NewRequest(method, url+path, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if ifMatch > 0 {
		req.Header.Set("If-Match", fmt.Sprintf(`"%d"`, ifMatch))
	}
	w.pending = &op
	resp, err := client.Do(req)
	if err != nil {
		return false // pending stays: it may or may not have committed
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false
	}
	w.pending = nil
	if resp.StatusCode/100 != 2 {
		w.refused = append(w.refused, fmt.Sprintf("%s: %d %s", op.what, resp.StatusCode, data))
		return true
	}
	var answer *northstar.Story
	if len(data) > 0 {
		answer = new(northstar.Story)
		if err := json.Unmarshal(data, answer); err != nil {
			w.refused = append(w.refused, fmt.Sprintf("%s: %d %s: %v", op.what, resp.StatusCode, data, err))
			return true
		}
	}
	w.state = op.apply(w.state, answer)
	w.acked++
	return true
}

var crashPoints = []int{0, 1, 2, 3, 5, 8, 13, 20, 40, 100}

// nextOp picks the next write: mostly creations (with criteria, tasks and
// labels in the one request), moves and updates; now and then a criterion
// added or a story deleted.
func (w *crashWriter) nextOp(url string) (op crashOp, method, path string, ifMatch int, body []byte) {
	n := len(w.state)
	r := w.rng.IntN(100)
	if n < 3 {
		r = 0
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
	switch {
	case r < 40: // create
		title := fmt.Sprintf("w%d-%d", w.id, w.seq)
		st := crashStory{Title: title, Description: "created " + title}
		for i := range w.rng.IntN(4) {
			st.Criteria = append(st.Criteria, fmt.Sprintf("%s criterion %d", title, i+1))
		}
		for i := range w.rng.IntN(3) {
			st.Tasks = append(st.Tasks, fmt.Sprintf("%s task %d", title, i+1))
		}
		st.Labels = []string{fmt.Sprintf("w%d", w.id)}
		if w.rng.IntN(2) == 0 {
			st.Labels = append(st.Labels, "crash")
		}
		if w.rng.IntN(2) == 0 {
			pts := crashPoints[w.rng.IntN(len(crashPoints))]
			st.Points = &pts
		}
		position := "bottom"
		if w.rng.IntN(3) == 0 {
			position = "top"
		}
		body = mustJSON(map[string]any{"title": st.Title, "description": st.Description, "points": st.Points,
			"criteria": st.Criteria, "tasks": st.Tasks, "labels": st.Labels, "position": position})
		op = crashOp{what: "create " + title + " at the " + position, apply: func(s crashState, a *northstar.Story) crashState {
			st := st
			st.Criteria, st.Tasks, st.Labels = slices.Clone(st.Criteria), slices.Clone(st.Tasks), slices.Clone(st.Labels)
			if a != nil {
				st.Ref, st.version = a.Ref, a.Version
			}
			if position == "top" {
				return append(crashState{st}, s...)
			}
			return append(s, st)
		}}
		return op, "POST", "/api/v1/products/" + crashProduct + "/stories", 0, body
	case r < 65: // move, to an end or next to another of the writer's stories
		i := w.rng.IntN(n)
		st := w.state[i]
		move := map[string]string{}
		j := w.rng.IntN(n)
		switch {
		case j == i || w.rng.IntN(4) == 0:
			move["position"] = []string{"top", "bottom"}[w.rng.IntN(2)]
		case w.rng.IntN(2) == 0:
			move["before"] = w.state[j].Ref
		default:
			move["after"] = w.state[j].Ref
		}
		target := w.state[j].Title
		op = crashOp{what: fmt.Sprintf("move %s %v", st.Ref, move), apply: func(s crashState, _ *northstar.Story) crashState {
			s = s.clone()
			k := s.index(st.Title)
			moved := s[k]
			s = slices.Delete(s, k, k+1)
			switch {
			case move["position"] == "top":
				return slices.Insert(s, 0, moved)
			case move["position"] == "bottom":
				return append(s, moved)
			case move["before"] != "":
				return slices.Insert(s, s.index(target), moved)
			default:
				return slices.Insert(s, s.index(target)+1, moved)
			}
		}}
		return op, "POST", "/api/v1/stories/" + st.Ref + "/move", 0, mustJSON(move)
	case r < 85: // update text and estimate
		i := w.rng.IntN(n)
		st := w.state[i]
		desc := fmt.Sprintf("updated by w%d in write %d", w.id, w.seq)
		pts := crashPoints[w.rng.IntN(len(crashPoints))]
		op = crashOp{what: "update " + st.Ref, apply: func(s crashState, a *northstar.Story) crashState {
			s = s.clone()
			k := s.index(st.Title)
			s[k].Description, s[k].Points = desc, &pts
			if a != nil {
				s[k].version = a.Version
			}
			return s
		}}
		return op, "PATCH", "/api/v1/stories/" + st.Ref, st.version, mustJSON(map[string]any{"description": desc, "points": pts})
	case r < 95: // add a criterion
		i := w.rng.IntN(n)
		st := w.state[i]
		text := fmt.Sprintf("%s criterion added in write %d", st.Title, w.seq)
		op = crashOp{what: "add a criterion to " + st.Ref, apply: func(s crashState, a *northstar.Story) crashState {
			s = s.clone()
			k := s.index(st.Title)
			s[k].Criteria = append(s[k].Criteria, text)
			if a != nil {
				s[k].version = a.Version
			}
			return s
		}}
		return op, "POST", "/api/v1/stories/" + st.Ref + "/criteria", st.version, mustJSON(map[string]string{"text": text})
	default: // delete
		i := w.rng.IntN(n)
		st := w.state[i]
		op = crashOp{what: "delete " + st.Ref, apply: func(s crashState, _ *northstar.Story) crashState {
			s = s.clone()
			k := s.index(st.Title)
			return slices.Delete(s, k, k+1)
		}}
		return op, "DELETE", "/api/v1/stories/" + st.Ref, st.version, nil
	}
}

// verify reads the whole backlog after a restart and checks every
// writer's stories against its model, resolving the request each had in
// flight when the server died.
func (run *crashRun) verify(url string, round int) {
	t := run.t
	t.Helper()
	backlog := fetchBacklog(t, url, run.token, crashProduct)

	// Ranks: valid, unique and ascending in list order.
	seen := map[string]string{}
	for i, s := range backlog {
		if !northstar.ValidRank(s.Rank) {
			t.Errorf("round %d: %s has an invalid rank %q", round, s.Ref, s.Rank)
		}
		if other, dup := seen[s.Rank]; dup {
			t.Errorf("round %d: %s and %s share the rank %q", round, other, s.Ref, s.Rank)
		}
		seen[s.Rank] = s.Ref
		if i > 0 && backlog[i-1].Rank >= s.Rank {
			t.Errorf("round %d: the backlog lists %s (rank %q) after %s (rank %q)", round, s.Ref, s.Rank, backlog[i-1].Ref, backlog[i-1].Rank)
		}
	}

	actual := make([]crashState, crashWriters)
	for _, s := range backlog {
		var w int
		if _, err := fmt.Sscanf(s.Title, "w%d-", &w); err != nil || w < 0 || w >= crashWriters {
			t.Errorf("round %d: %s %q was written by no writer", round, s.Ref, s.Title)
			continue
		}
		st := crashStory{Ref: s.Ref, Title: s.Title, Description: s.Description, Points: s.Points, Labels: s.Labels, version: s.Version}
		for _, c := range s.Criteria {
			st.Criteria = append(st.Criteria, c.Text)
		}
		for _, tk := range s.Tasks {
			st.Tasks = append(st.Tasks, tk.Text)
		}
		actual[w] = append(actual[w], st)
	}

	for _, w := range run.writers {
		got := actual[w.id]
		want := w.state
		switch {
		case got.key() == want.key():
			if w.pending != nil {
				run.inFlightLost++
			}
		case w.pending != nil && got.key() == w.pending.apply(want, nil).key():
			run.inFlightCommitted++
		default:
			pending := "none"
			if w.pending != nil {
				pending = w.pending.what
			}
			t.Errorf("round %d: writer %d's stories after the restart are not what it was acknowledged, with or without the request in flight (%s)\ngot:\n%s\nwant:\n%s", round, w.id, pending, got.key(), want.key())
			continue
		}
		// Adopt the server's refs and versions.
		w.state, w.pending = got, nil
	}
}

// fetchBacklog lists a product's whole backlog through the API.
func fetchBacklog(t *testing.T, url, token, key string) []northstar.Story {
	t.Helper()
	var all []northstar.Story
	cursor := ""
	for {
		var page struct {
			Items      []northstar.Story `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		u := url + "/api/v1/products/" + key + "/stories?limit=200"
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		if code := call(t, "GET", u, token, nil, &page); code != http.StatusOK {
			t.Fatalf("GET %s: %d", u, code)
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// checkSQLiteFile opens the database file the killed server left, read
// only, and checks its integrity, its foreign keys, the counters stored
// next to the rows they count, and the uniqueness of backlog ranks.
func checkSQLiteFile(t *testing.T, file string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if check != "ok" {
		t.Errorf("integrity_check after SIGKILL: %q, want ok", check)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	for rows.Next() {
		var table, parent string
		var rowid, fk sql.NullInt64
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			t.Fatal(err)
		}
		t.Errorf("foreign_key_check after SIGKILL: row %v of %s points to a missing %s", rowid, table, parent)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct{ what, sql string }{
		{"stories whose criteria_count or criteria_met disagree with their criteria", `SELECT COUNT(*) FROM stories s WHERE criteria_count != (SELECT COUNT(*) FROM story_criteria c WHERE c.story_id = s.id)
			OR criteria_met != (SELECT COUNT(*) FROM story_criteria c WHERE c.story_id = s.id AND c.met)`},
		{"stories whose tasks_count or tasks_done disagree with their tasks", `SELECT COUNT(*) FROM stories s WHERE tasks_count != (SELECT COUNT(*) FROM story_tasks k WHERE k.story_id = s.id)
			OR tasks_done != (SELECT COUNT(*) FROM story_tasks k WHERE k.story_id = s.id AND k.done)`},
		{"ranks shared by two stories of a product", `SELECT COUNT(*) FROM (SELECT product_id, rank FROM stories GROUP BY product_id, rank HAVING COUNT(*) > 1)`},
		{"stories without a rank", `SELECT COUNT(*) FROM stories WHERE rank = ''`},
	} {
		var n int
		if err := db.QueryRow(q.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		if n != 0 {
			t.Errorf("after SIGKILL: %d %s", n, q.what)
		}
	}
}
