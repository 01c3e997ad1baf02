//go:build unix

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to open backups

	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// binary is the northstar binary built once for all tests.
var binary string

// TestMain builds the real binary with the go command, so the tests run
// exactly what users run: its signal handling, exit codes and logs.
func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "northstar-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "northstar")
	// "go test" puts the go command of the toolchain it runs on first in
	// PATH; the environment, GOTOOLCHAIN included, passes through.
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = os.Environ()
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build northstar:", err)
		return 1
	}
	return m.Run()
}

// cleanEnv returns the test's environment without NORTHSTAR_* variables,
// so settings of the machine running the tests cannot leak into the server.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NORTHSTAR_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// logBuffer collects a process's output; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running northstar process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	out    *logBuffer // stdout and stderr
	done   chan struct{}
	waited error
}

// start starts the binary with args and the extra environment variables,
// in a temporary working directory. It is killed when the test ends if it
// is still running.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, out: &logBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Env = cleanEnv(env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waited = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of northstar %s:\n%s", strings.Join(args, " "), p.out)
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to end and returns its exit status.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("northstar did not exit within %s; output:\n%s", timeout, p.out)
	}
	return p.cmd.ProcessState.ExitCode()
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	if code := p.wait(30 * time.Second); code != 0 {
		p.t.Fatalf("northstar exited with %d after SIGTERM; output:\n%s", code, p.out)
	}
}

// waitReady polls url/readyz until it answers 200 and returns how long
// that took.
func (p *proc) waitReady(url string) time.Duration {
	p.t.Helper()
	begin := time.Now()
	client := &http.Client{Timeout: time.Second}
	for time.Since(begin) < 30*time.Second {
		if p.exited() {
			p.t.Fatalf("northstar exited with %d before it was ready; output:\n%s", p.cmd.ProcessState.ExitCode(), p.out)
		}
		resp, err := client.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(begin)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	p.t.Fatalf("%s/readyz did not answer 200 within 30s; output:\n%s", url, p.out)
	return 0
}

// waitOutput waits until the process's output matches re and returns the
// match. The output reaches the test through a pipe, so a line the process
// wrote before it answered a request may arrive after the answer.
func (p *proc) waitOutput(re *regexp.Regexp) []string {
	p.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
	}
	p.t.Fatalf("the output does not match %s within 10s:\n%s", re, p.out)
	return nil
}

// freeAddr returns a local address nobody listens on at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve starts "northstar serve" on a free port with the extra arguments and
// waits until it is ready and has logged so. It returns the process and its URL.
func serve(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	addr := freeAddr(t)
	p := start(t, nil, append([]string{"serve", "--addr", addr, "--shutdown-grace", "20s"}, args...)...)
	url := "http://" + addr
	p.waitReady(url)
	p.waitOutput(readyLine) // and the log lines before it
	return p, url
}

// signUpWithProduct signs up the first account (the admin) on a fresh
// server and creates a product; it returns the admin's token.
func signUpWithProduct(t *testing.T, url, name, email, key, product string) string {
	t.Helper()
	var creds struct{ Token string }
	if code := call(t, "POST", url+"/api/v1/signup", "", map[string]string{"name": name, "email": email, "password": "correct horse battery staple"}, &creds); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/signup: %d", code)
	}
	if code := call(t, "POST", url+"/api/v1/products", creds.Token, map[string]string{"key": key, "name": product}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/products: %d", code)
	}
	return creds.Token
}

// call sends a JSON API request and decodes the JSON answer into out (if
// not nil). It returns the status code.
func call(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// demoToken signs in as the demo product manager and returns an API token.
func demoToken(t *testing.T, url string) string {
	t.Helper()
	var out struct{ Token string }
	if code := call(t, "POST", url+"/api/v1/tokens", "", map[string]string{"email": "pm@northstar.test", "password": app.DemoPassword, "name": "test"}, &out); code != http.StatusCreated || out.Token == "" {
		t.Fatalf("POST /api/v1/tokens: %d, token %q", code, out.Token)
	}
	return out.Token
}

func TestGracefulShutdownFinishesInFlightRequest(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p, url := serve(t, "--data", data, "--demo")
	token := demoToken(t, url)

	// Send a product whose body arrives in two halves, with SIGTERM in
	// between: the server must stop listening yet finish the request.
	body := []byte(`{"key":"SLOW","name":"Sent slowly","vision":"A request that is in flight when the server is told to stop."}`)
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", url+"/api/v1/products", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	// With "Expect: 100-continue" the client sends no body until the
	// handler starts reading it, so once the first half has gone into the
	// pipe, the request is certainly in the handler.
	req.Header.Set("Expect", "100-continue")
	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: time.Minute}}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{status: resp.StatusCode, body: string(b), err: err}
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Wait until the server refuses new connections: shutdown has begun
	// while our request is still half sent.
	addr := strings.TrimPrefix(url, "http://")
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections 10s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.exited() {
		t.Fatalf("northstar exited before the in-flight request finished; output:\n%s", p.out)
	}
	if _, err := pw.Write(body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()

	select {
	case a := <-answered:
		if a.err != nil {
			t.Fatalf("in-flight request failed: %v", a.err)
		}
		if a.status != http.StatusCreated {
			t.Fatalf("in-flight request: %d %s, want 201", a.status, a.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no answer to the in-flight request within 30s")
	}
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0; output:\n%s", code, p.out)
	}
	log := p.out.String()
	for _, want := range []string{`msg="shut down cleanly"`, `msg="database closed"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log does not contain %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("log has errors:\n%s", log)
	}
	// The WAL was checkpointed and removed or truncated on close.
	if fi, err := os.Stat(filepath.Join(data, "northstar.db-wal")); err == nil && fi.Size() != 0 {
		t.Errorf("northstar.db-wal is %d bytes after a clean shutdown, want it checkpointed", fi.Size())
	}

	// After a restart the product is there, and the token still works.
	p2, url2 := serve(t, "--data", data)
	var prod struct{ Key, Name, Stage string }
	if code := call(t, "GET", url2+"/api/v1/products/SLOW", token, nil, &prod); code != http.StatusOK {
		t.Fatalf("GET /api/v1/products/SLOW after restart: %d", code)
	}
	if prod.Name != "Sent slowly" || prod.Stage != "conceived" {
		t.Errorf("after restart the product is %+v", prod)
	}
	p2.stop()
}

// readyLine matches the log line serve writes once it is ready.
var readyLine = regexp.MustCompile(`msg="northstar ready".* startup=(\S+)`)

func TestStartupTimeOnExistingDatabase(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p, _ := serve(t, "--data", data, "--demo")
	p.stop()

	const runs = 5
	var walls, logged []time.Duration
	for i := range runs {
		addr := freeAddr(t)
		begin := time.Now()
		p := start(t, nil, "serve", "--addr", addr, "--data", data)
		p.waitReady("http://" + addr)
		wall := time.Since(begin)
		m := p.waitOutput(readyLine)
		startup, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatalf("startup=%s: %v", m[1], err)
		}
		if !strings.Contains(p.out.String(), "migrations_applied=0") {
			t.Errorf("run %d migrated an existing database:\n%s", i+1, p.out)
		}
		p.stop()
		t.Logf("run %d: startup=%s (logged), %s until /readyz answered (wall clock, from exec)", i+1, startup, wall.Round(time.Millisecond))
		walls, logged = append(walls, wall), append(logged, startup)
		if wall > 10*time.Second {
			t.Errorf("run %d: ready after %s, want < 10s", i+1, wall)
		}
	}
	t.Logf("median of %d runs: startup=%s (logged), %s until /readyz answered", runs, median(logged), median(walls).Round(time.Millisecond))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p, url := serve(t, "--data", data, "--demo")
	token := demoToken(t, url)

	// A writer keeps creating products through the API during the backup.
	var created, failed atomic.Int64
	var firstFailure atomic.Value
	ctx, cancel := context.WithCancel(context.Background())
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		client := &http.Client{Timeout: 30 * time.Second}
		for i := 0; ctx.Err() == nil; i++ {
			b := fmt.Sprintf(`{"key":"W%05d","name":"Written during backup %d"}`, i, i)
			req, _ := http.NewRequestWithContext(ctx, "POST", url+"/api/v1/products", strings.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, err.Error())
				continue
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, msg))
				continue
			}
			created.Add(1)
		}
	}()
	defer func() { cancel(); <-writerDone }()
	for created.Load() < 20 {
		if failed.Load() > 0 {
			t.Fatalf("write failed before the backup: %v", firstFailure.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}

	out := filepath.Join(t.TempDir(), "copy.db")
	before := created.Load()
	backup := start(t, nil, "backup", "--data", data, "--out", out)
	if code := backup.wait(60 * time.Second); code != 0 {
		t.Fatalf("backup: exit %d, want 0; output:\n%s", code, backup.out)
	}
	during := created.Load() - before
	cancel()
	<-writerDone
	if !strings.Contains(backup.out.String(), out) {
		t.Errorf("backup output does not name %s:\n%s", out, backup.out)
	}
	if n := failed.Load(); n > 0 {
		t.Errorf("%d writes failed during the backup; first: %v", n, firstFailure.Load())
	}
	t.Logf("%d products created before the backup, %d while it ran", before, during)

	copyDB, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var check string
	if err := copyDB.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Errorf("integrity_check of the copy: %q, want ok", check)
	}
	var products, demo int
	if err := copyDB.QueryRow("SELECT COUNT(*) FROM products").Scan(&products); err != nil {
		t.Fatal(err)
	}
	if err := copyDB.QueryRow("SELECT COUNT(*) FROM products WHERE key IN ('BOOK', 'EBOOK')").Scan(&demo); err != nil {
		t.Fatal(err)
	}
	if demo != 2 {
		t.Errorf("the copy has %d of the 2 demo products", demo)
	}
	if min := 2 + int(before); products < min {
		t.Errorf("the copy has %d products, want at least %d (2 demo + %d created before the backup started)", products, min, before)
	}
	p.stop()
}

// postgresDSN returns the URL of a fresh PostgreSQL schema. Without
// NORTHSTAR_TEST_POSTGRES the test is skipped, or fails under CI.
func postgresDSN(t *testing.T) string {
	t.Helper()
	if !slices.Contains(storetest.Engines(t), store.Postgres) {
		t.Skip("PostgreSQL not available")
	}
	return storetest.DSN(t, store.Postgres)
}

func TestBackupPostgresPointsToPgDump(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	p := start(t, nil, "backup", "--db", dsn, "--out", filepath.Join(t.TempDir(), "copy.db"))
	if code := p.wait(30 * time.Second); code != 1 {
		t.Errorf("backup of PostgreSQL: exit %d, want 1", code)
	}
	if !strings.Contains(p.out.String(), "pg_dump") {
		t.Errorf("backup of PostgreSQL does not mention pg_dump:\n%s", p.out)
	}
}

func TestServeHonoursEnvironment(t *testing.T) {
	t.Parallel()
	t.Run("NORTHSTAR_ADDR and NORTHSTAR_DATA", func(t *testing.T) {
		t.Parallel()
		data := t.TempDir()
		addr := freeAddr(t)
		p := start(t, []string{"NORTHSTAR_ADDR=" + addr, "NORTHSTAR_DATA=" + data}, "serve")
		p.waitReady("http://" + addr)
		if _, err := os.Stat(filepath.Join(data, "northstar.db")); err != nil {
			t.Errorf("NORTHSTAR_DATA not honoured: %v", err)
		}
		if _, err := os.Stat(filepath.Join(p.cmd.Dir, "data")); err == nil {
			t.Error("serve created ./data although NORTHSTAR_DATA names another directory")
		}
		p.stop()
	})
	t.Run("flags win over the environment", func(t *testing.T) {
		t.Parallel()
		envData, flagData := t.TempDir(), t.TempDir()
		addr := freeAddr(t)
		p := start(t, []string{"NORTHSTAR_ADDR=127.0.0.1:1", "NORTHSTAR_DATA=" + envData}, "serve", "--addr", addr, "--data", flagData)
		p.waitReady("http://" + addr)
		if _, err := os.Stat(filepath.Join(flagData, "northstar.db")); err != nil {
			t.Errorf("--data not honoured over NORTHSTAR_DATA: %v", err)
		}
		p.stop()
	})
	t.Run("NORTHSTAR_DB and NORTHSTAR_LOG_FORMAT", func(t *testing.T) {
		t.Parallel()
		db := filepath.Join(t.TempDir(), "elsewhere.db")
		addr := freeAddr(t)
		p := start(t, []string{"NORTHSTAR_ADDR=" + addr, "NORTHSTAR_DB=" + db, "NORTHSTAR_LOG_FORMAT=json"}, "serve")
		p.waitReady("http://" + addr)
		p.waitOutput(regexp.MustCompile(`"msg":"northstar ready"`))
		if _, err := os.Stat(db); err != nil {
			t.Errorf("NORTHSTAR_DB not honoured: %v", err)
		}
		p.stop()
	})
}

func TestServePostgres(t *testing.T) {
	t.Parallel()
	dsn := postgresDSN(t)
	p, url := serve(t, "--db", dsn, "--demo")
	log := p.out.String()
	if !strings.Contains(log, "engine=postgres") || !regexp.MustCompile(`migrations_applied=[1-9]`).MatchString(log) {
		t.Errorf("log does not show PostgreSQL migrated:\n%s", log)
	}
	token := demoToken(t, url)
	if code := call(t, "POST", url+"/api/v1/products", token, map[string]string{"key": "PG", "name": "On PostgreSQL"}, nil); code != http.StatusCreated {
		t.Errorf("POST /api/v1/products on PostgreSQL: %d", code)
	}
	p.stop()
	if log := p.out.String(); !strings.Contains(log, `msg="database closed"`) {
		t.Errorf("log does not say the database closed:\n%s", log)
	}

	// Restarted, it applies nothing and still has the product.
	p, url = serve(t, "--db", dsn)
	if !strings.Contains(p.out.String(), "migrations_applied=0") {
		t.Errorf("restart migrated again:\n%s", p.out)
	}
	if code := call(t, "GET", url+"/api/v1/products/PG", token, nil, nil); code != http.StatusOK {
		t.Errorf("GET /api/v1/products/PG after restart: %d", code)
	}
	p.stop()
}
