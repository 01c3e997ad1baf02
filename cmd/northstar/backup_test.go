//go:build unix

package main

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// The backup drill backs up a server while the crash test's writers
// change stories through the API, restores the backup into a fresh
// installation, starts a server on it and compares through the API:
//
//   - Each writer keeps its model after every acknowledged write. A backup
//     is one snapshot taken at some moment after it began, so each writer's
//     stories on the restored server must equal its model after some
//     number of its writes no smaller than the number acknowledged before
//     the backup began: every acknowledged write is in, whole, and what
//     came later is in whole or not at all, never half (a story without
//     its criteria, a move without the rank it implies).
//   - Refs, text, points, criteria, tasks, labels and backlog order are
//     compared; ranks must be unique and ascending; the token and product
//     made on the first server work on the second, which applies no
//     migration to the restored database.
//   - On SQLite, northstar backup writes the copy (VACUUM INTO) and
//     northstar restore puts it in place; the copy passes integrity_check,
//     foreign_key_check and the counter checks of the crash test. On
//     PostgreSQL, pg_dump --format=custom dumps the test's schema and
//     pg_restore loads it into a new database.

const (
	// drillWarmup is how many writes the writers make before the backup.
	drillWarmup = 30 * crashWriters
	// drillAfter is how long the writers go on after the backup ended.
	drillAfter = 300 * time.Millisecond
)

func TestBackupRestoreDrillSQLite(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	backup := filepath.Join(t.TempDir(), "northstar-backup.db")
	runBackupDrill(t, []string{"--data", data}, func(t *testing.T) {
		p := start(t, nil, "backup", "--data", data, "--out", backup)
		if code := p.wait(60 * time.Second); code != 0 {
			t.Fatalf("northstar backup: exit %d\n%s", code, p.out)
		}
		t.Logf("northstar backup: %s", lastLine(p.out.String()))
		checkSQLiteFile(t, backup)
	}, func(t *testing.T) []string {
		restored := t.TempDir()
		p := start(t, nil, "restore", "--data", restored, backup)
		if code := p.wait(60 * time.Second); code != 0 {
			t.Fatalf("northstar restore: exit %d\n%s", code, p.out)
		}
		t.Logf("northstar restore: %s", lastLine(p.out.String()))
		live, _ := os.Stat(filepath.Join(data, "northstar.db"))
		copied, _ := os.Stat(backup)
		t.Logf("database file %s (the WAL checkpointed at shutdown), backup %s", sizeOf(live), sizeOf(copied))
		return []string{"--data", restored}
	})
}

func TestBackupRestoreDrillPostgres(t *testing.T) {
	t.Parallel()
	if os.Getenv(storetest.PostgresEnv) == "" && os.Getenv("CI") != "true" {
		t.Skipf("%s is not set: the PostgreSQL drill needs a server (SQLite's runs in TestBackupRestoreDrillSQLite)", storetest.PostgresEnv)
	}
	dsn := postgresDSN(t)
	base := os.Getenv(storetest.PostgresEnv)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (Debian: postgresql-client): %v", tool, err)
		}
	}
	dump := filepath.Join(t.TempDir(), "northstar.dump")
	runBackupDrill(t, []string{"--db", dsn}, func(t *testing.T) {
		runTool(t, "pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, base)
	}, func(t *testing.T) []string {
		// A fresh installation: a database of its own, into which
		// pg_restore recreates the schema.
		name := fmt.Sprintf("restore_%x", rand.Uint64())
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			admin.Close()
		})
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatalf("create database: %v", err)
		}
		target, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		target.Path = "/" + name
		runTool(t, "pg_restore", "--exit-on-error", "--no-owner", "--dbname="+target.String(), dump)
		fi, _ := os.Stat(dump)
		t.Logf("pg_dump --format=custom of schema %s: %s", schema, sizeOf(fi))
		q := target.Query()
		q.Set("search_path", schema)
		target.RawQuery = q.Encode()
		return []string{"--db", target.String()}
	})
}

// drillWriter is a crash test writer that also keeps the hash of its model
// after each acknowledged write.
type drillWriter struct {
	*crashWriter
	history [][sha256.Size]byte // history[n]: the model after n acknowledged writes
	acked   atomic.Int64        // len(history)-1, read while the writer runs
	lost    string              // a request that got no answer
}

func (w *drillWriter) record() {
	w.history = append(w.history, sha256.Sum256([]byte(drillKey(w.state))))
	w.acked.Store(int64(len(w.history) - 1))
}

// drillKey is crashState.key with the refs, which are all known here.
func drillKey(s crashState) string {
	var b strings.Builder
	for _, st := range s {
		b.WriteString(st.Ref + " ")
	}
	b.WriteString("\n" + s.key())
	return b.String()
}

// runBackupDrill starts a server with dbArgs, runs the writers, calls
// backup while they write, stops them, calls restore, which returns the
// arguments of a server on the restored database, and compares.
func runBackupDrill(t *testing.T, dbArgs []string, backup func(t *testing.T), restore func(t *testing.T) []string) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	begin := time.Now()
	p, url, _ := startCrashServer(t, dbArgs)
	token := signUpWithProduct(t, url, "Drill Admin", "drill@northstar.test", crashProduct, "Backup drill")

	writers := make([]*drillWriter, crashWriters)
	for i := range writers {
		writers[i] = &drillWriter{crashWriter: &crashWriter{id: i, rng: rand.New(rand.NewPCG(seed, uint64(i)+2))}}
		writers[i].record()
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: crashWriters}}
	defer client.CloseIdleConnections()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				before := w.crashWriter.acked
				if !w.step(client, url, token) {
					w.lost = w.pending.what
					return
				}
				if w.crashWriter.acked > before {
					w.record()
				}
			}
		}()
	}
	total := func() (n int64) {
		for _, w := range writers {
			n += w.acked.Load()
		}
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); total() < drillWarmup && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}

	// Every write counted here was answered before the backup began.
	before := make([]int, len(writers))
	for i, w := range writers {
		before[i] = int(w.acked.Load())
	}
	backupBegan := time.Now()
	backup(t)
	tookBackup := time.Since(backupBegan)
	duringBackup := total()
	time.Sleep(drillAfter)
	stop.Store(true)
	wg.Wait()
	p.stop()

	var beforeN, all, conflicts int
	for i, w := range writers {
		if w.lost != "" {
			t.Errorf("writer %d: %s got no answer", w.id, w.lost)
		}
		for _, r := range w.refused {
			// On PostgreSQL, concurrent moves that keep choosing the same
			// rank give up after a few tries with 409. Such a write is
			// not acknowledged, so it is not in the model either: the
			// drill still holds, but says so.
			if strings.Contains(r, ": 409 ") {
				conflicts++
				continue
			}
			t.Errorf("writer %d: refused: %s", w.id, r)
		}
		beforeN += before[i]
		all += len(w.history) - 1
	}
	t.Logf("%d writers: %d writes acknowledged before the backup began, %d by the time it ended (%s), %d in all; %d refused with 409 Conflict",
		len(writers), beforeN, duringBackup, tookBackup.Round(time.Millisecond), all, conflicts)

	restoreBegan := time.Now()
	args := restore(t)
	tookRestore := time.Since(restoreBegan)
	p2, url2, _ := startCrashServer(t, args)
	p2.waitOutput(readyLine)
	if m := p2.waitOutput(regexp.MustCompile(`migrations_applied=\d+`)); m[0] != "migrations_applied=0" {
		t.Errorf("the server on the restored database migrated it: %s", m[0])
	}
	if code := call(t, "GET", url2+"/api/v1/products/"+crashProduct, token, nil, nil); code != http.StatusOK {
		t.Fatalf("GET /api/v1/products/%s on the restored server with the first server's token: %d", crashProduct, code)
	}
	backlog := fetchBacklog(t, url2, token, crashProduct)
	for i := 1; i < len(backlog); i++ {
		if backlog[i-1].Rank >= backlog[i].Rank || !northstar.ValidRank(backlog[i].Rank) {
			t.Errorf("restored backlog lists %s (rank %q) after %s (rank %q)", backlog[i].Ref, backlog[i].Rank, backlog[i-1].Ref, backlog[i-1].Rank)
		}
	}
	got := make([]crashState, len(writers))
	for _, s := range backlog {
		var w int
		if _, err := fmt.Sscanf(s.Title, "w%d-", &w); err != nil || w < 0 || w >= len(writers) {
			t.Errorf("restored %s %q was written by no writer", s.Ref, s.Title)
			continue
		}
		st := crashStory{Ref: s.Ref, Title: s.Title, Description: s.Description, Points: s.Points, Labels: s.Labels}
		for _, c := range s.Criteria {
			st.Criteria = append(st.Criteria, c.Text)
		}
		for _, tk := range s.Tasks {
			st.Tasks = append(st.Tasks, tk.Text)
		}
		got[w] = append(got[w], st)
	}

	var after, stories int
	for i, w := range writers {
		h := sha256.Sum256([]byte(drillKey(got[i])))
		n := -1
		for j := before[i]; j < len(w.history); j++ {
			if w.history[j] == h {
				n = j
				break
			}
		}
		if n < 0 {
			t.Errorf("writer %d: the restored stories are not its model after %d or more of its %d writes (%d acknowledged before the backup began)\ngot:\n%s\nits last model:\n%s",
				w.id, before[i], len(w.history)-1, before[i], drillKey(got[i]), drillKey(w.state))
			continue
		}
		after += n - before[i]
		stories += len(got[i])
	}
	if !t.Failed() {
		t.Logf("restored in %s: %d stories compared; every write acknowledged before the backup began is there, and %d acknowledged after it began; %s in all",
			tookRestore.Round(time.Millisecond), stories, after, time.Since(begin).Round(time.Millisecond))
	}
	p2.stop()
}

// runTool runs a program the test needs, such as pg_dump, and fails the
// test with its output if it fails.
func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func sizeOf(fi os.FileInfo) string {
	if fi == nil {
		return "missing"
	}
	return fmt.Sprintf("%.1f KiB", float64(fi.Size())/1024)
}
