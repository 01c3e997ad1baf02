package cli_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/cli"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// result is what one command line did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the northstar command line in-process. The environment is empty,
// so NORTHSTAR_* variables of the machine running the tests cannot leak in.
func run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Env{
		Stdout: &stdout,
		Stderr: &stderr,
		Stdin:  strings.NewReader(""),
		Getenv: func(string) string { return "" },
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs a command line that must succeed.
func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("northstar %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// eachEngine runs fn as a subtest with the DSN of a fresh, empty database
// on every engine.
func eachEngine(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, e := range storetest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.DSN(t, e))
		})
	}
}

func TestVersion(t *testing.T) {
	r := mustRun(t, "version")
	if !regexp.MustCompile(`^northstar \S+.* go\S+ \w+/\w+\n$`).MatchString(r.stdout) {
		t.Errorf("version printed %q, want \"northstar <version> go<version> <os>/<arch>\"", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("version wrote to stderr: %q", r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no command", nil, cli.ExitUsage, "Usage: northstar <command>"},
		{"unknown command", []string{"frobnicate"}, cli.ExitUsage, `unknown command "frobnicate"`},
		{"help", []string{"help"}, 0, "Commands:"},
		{"unknown flag", []string{"serve", "--no-such-flag"}, cli.ExitUsage, "no-such-flag"},
		{"migrate without action", []string{"migrate"}, cli.ExitUsage, "up|status"},
		{"migrate bad action", []string{"migrate", "down"}, cli.ExitUsage, "up|status"},
		{"user without action", []string{"user"}, cli.ExitUsage, "create|list|reset-password|make-admin"},
		{"user with two actions", []string{"user", "list", "list"}, cli.ExitUsage, "create|list|reset-password|make-admin"},
		{"flag-like argument after --", []string{"migrate", "--", "--db"}, cli.ExitUsage, "up|status"},
		{"version -h", []string{"version", "-h"}, 0, "Usage of version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d (stderr: %s)", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr does not mention %q:\n%s", tt.inStderr, r.stderr)
			}
		})
	}
}

func TestMigrateStatusAndUp(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		before := mustRun(t, "migrate", "--db", dsn, "status")
		if !strings.Contains(before.stdout, "VERSION") || !strings.Contains(before.stdout, "0001") {
			t.Fatalf("status lists no migrations:\n%s", before.stdout)
		}
		if n := strings.Count(before.stdout, "pending"); n == 0 || n != countMigrations(before.stdout) {
			t.Errorf("before migrate up, %d of %d migrations pending:\n%s", n, countMigrations(before.stdout), before.stdout)
		}

		up := mustRun(t, "migrate", "--db", dsn, "up")
		if want := "applied " + strconv.Itoa(countMigrations(before.stdout)) + " migration(s)"; !strings.Contains(up.stdout, want) {
			t.Errorf("migrate up printed %q, want it to say %q", up.stdout, want)
		}

		after := mustRun(t, "migrate", "--db", dsn, "status")
		if strings.Contains(after.stdout, "pending") {
			t.Errorf("after migrate up, migrations still pending:\n%s", after.stdout)
		}
		if !strings.Contains(after.stdout, " UTC") {
			t.Errorf("after migrate up, status shows no applied time:\n%s", after.stdout)
		}

		again := mustRun(t, "migrate", "--db", dsn, "up")
		if !strings.Contains(again.stdout, "applied 0 migration(s)") {
			t.Errorf("second migrate up printed %q, want it to apply nothing", again.stdout)
		}
	})
}

// countMigrations counts the rows of "migrate status" output.
func countMigrations(status string) int {
	return len(regexp.MustCompile(`(?m)^\d{4}\s`).FindAllString(status, -1))
}

func TestUserCommands(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		const password = "correct horse battery"

		r := mustRun(t, "user", "--db", dsn, "create", "--email", "Ada@Example.com", "--name", "Ada Lovelace", "--password", password, "--admin")
		if want := "created Ada Lovelace <ada@example.com> (admin)\n"; r.stdout != want {
			t.Errorf("create printed %q, want %q", r.stdout, want)
		}
		r = mustRun(t, "user", "--db", dsn, "create", "--email", "bob@example.com", "--name", "Bob", "--password", password)
		if want := "created Bob <bob@example.com>\n"; r.stdout != want {
			t.Errorf("create printed %q, want %q", r.stdout, want)
		}

		// Flags may also come before the action.
		r = mustRun(t, "user", "--db", dsn, "--email", "cy@example.com", "--name", "Cy", "--password", password, "create")
		if want := "created Cy <cy@example.com>\n"; r.stdout != want {
			t.Errorf("create with flags first printed %q, want %q", r.stdout, want)
		}

		list := mustRun(t, "user", "--db", dsn, "list")
		for _, want := range []string{"EMAIL", "ada@example.com", "Ada Lovelace", "bob@example.com"} {
			if !strings.Contains(list.stdout, want) {
				t.Errorf("user list does not show %q:\n%s", want, list.stdout)
			}
		}
		if row := lineWith(list.stdout, "ada@example.com"); !regexp.MustCompile(`\btrue\b`).MatchString(row) {
			t.Errorf("user list does not show ada as admin: %q", row)
		}
		if row := lineWith(list.stdout, "bob@example.com"); regexp.MustCompile(`\btrue\b`).MatchString(row) {
			t.Errorf("user list shows bob as admin or disabled: %q", row)
		}

		// A duplicate, in any letter case, is refused with a clear message.
		r = run(t, "user", "--db", dsn, "create", "--email", "ADA@example.com", "--name", "Ada again", "--password", password)
		if r.code != 1 {
			t.Errorf("duplicate create: exit %d, want 1", r.code)
		}
		if !strings.Contains(r.stderr, "already exists") || !strings.Contains(r.stderr, "ada@example.com") {
			t.Errorf("duplicate create: stderr %q does not say the account already exists", r.stderr)
		}

		// Invalid input names the problem.
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"invalid email", []string{"--email", "not-an-address", "--name", "X", "--password", password}, `email "not-an-address" is not a valid address`},
			{"missing email", []string{"--name", "X", "--password", password}, "email is required"},
			{"short password", []string{"--email", "x@example.com", "--name", "X", "--password", "short"}, "password must be at least"},
		} {
			args := append([]string{"user", "--db", dsn, "create"}, tt.args...)
			r := run(t, args...)
			if r.code != 1 {
				t.Errorf("%s: exit %d, want 1", tt.name, r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%s: stderr %q does not contain %q", tt.name, r.stderr, tt.want)
			}
		}
		if list := mustRun(t, "user", "--db", dsn, "list"); strings.Count(list.stdout, "@") != 3 {
			t.Errorf("failed creates left accounts behind:\n%s", list.stdout)
		}

		// reset-password without --password prints a generated one that works.
		r = mustRun(t, "user", "--db", dsn, "reset-password", "--email", "bob@example.com")
		m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("reset-password printed no password:\n%s", r.stdout)
		}
		generated := m[1]
		if len(generated) < 12 {
			t.Errorf("generated password %q is short", generated)
		}
		a := openApp(t, dsn)
		if _, err := a.Login(context.Background(), "bob@example.com", generated, ""); err != nil {
			t.Errorf("login with the generated password: %v", err)
		}
		if _, err := a.Login(context.Background(), "bob@example.com", password, ""); err == nil {
			t.Error("the old password still works after reset-password")
		}

		// reset-password with --password sets that one.
		const newPassword = "another long secret"
		mustRun(t, "user", "--db", dsn, "reset-password", "--email", "bob@example.com", "--password", newPassword)
		if _, err := a.Login(context.Background(), "bob@example.com", newPassword, ""); err != nil {
			t.Errorf("login with the password given to reset-password: %v", err)
		}

		r = run(t, "user", "--db", dsn, "reset-password", "--email", "nobody@example.com", "--password", newPassword)
		if r.code != 1 || r.stderr == "" {
			t.Errorf("reset-password of an unknown account: exit %d, stderr %q; want exit 1 and a message", r.code, r.stderr)
		}
		r = run(t, "user", "--db", dsn, "reset-password")
		if r.code != 1 || !strings.Contains(r.stderr, "--email is required") {
			t.Errorf("reset-password without --email: exit %d, stderr %q", r.code, r.stderr)
		}

		// make-admin.
		r = mustRun(t, "user", "--db", dsn, "make-admin", "--email", "bob@example.com")
		if !strings.Contains(r.stdout, "bob@example.com is now an org admin") {
			t.Errorf("make-admin printed %q", r.stdout)
		}
		u, err := a.Login(context.Background(), "bob@example.com", newPassword, "")
		if err != nil {
			t.Fatal(err)
		}
		if !u.Admin {
			t.Error("bob is not an admin after make-admin")
		}
		list = mustRun(t, "user", "--db", dsn, "list")
		if row := lineWith(list.stdout, "bob@example.com"); !regexp.MustCompile(`\btrue\b`).MatchString(row) {
			t.Errorf("user list does not show bob as admin after make-admin: %q", row)
		}
		r = run(t, "user", "--db", dsn, "make-admin", "--email", "nobody@example.com")
		if r.code != 1 || r.stderr == "" {
			t.Errorf("make-admin of an unknown account: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestUserCreateGeneratesPassword(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		r := mustRun(t, "user", "--db", dsn, "create", "--email", "gen@example.com", "--name", "Gen")
		m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("create without --password printed no password:\n%s", r.stdout)
		}
		if _, err := openApp(t, dsn).Login(context.Background(), "gen@example.com", m[1], ""); err != nil {
			t.Errorf("login with the generated password: %v", err)
		}
	})
}

// TestDataDirectory checks that commands without --db use <data>/northstar.db.
func TestDataDirectory(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "user", "--data", dir, "create", "--email", "d@example.com", "--name", "D", "--password", "long enough password")
	if list := mustRun(t, "user", "--db", filepath.Join(dir, "northstar.db"), "list"); !strings.Contains(list.stdout, "d@example.com") {
		t.Errorf("the account created with --data is not in %s/northstar.db:\n%s", dir, list.stdout)
	}
}

// openApp opens the database behind dsn for checks, closed at the end of
// the test.
func openApp(t *testing.T, dsn string) *app.App {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return app.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// lineWith returns the first line of s containing sub.
func lineWith(s, sub string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

func TestBackup(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		mustRun(t, "user", "--db", dsn, "create", "--email", "b@example.com", "--name", "B", "--password", "long enough password")
		out := filepath.Join(t.TempDir(), "copy.db")
		r := run(t, "backup", "--db", dsn, "--out", out)
		if strings.HasPrefix(dsn, "postgres") {
			if r.code != 1 || !strings.Contains(r.stderr, "pg_dump") {
				t.Errorf("backup of PostgreSQL: exit %d, stderr %q; want exit 1 and pg_dump instructions", r.code, r.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("backup of PostgreSQL wrote %s", out)
			}
			return
		}
		if r.code != 0 {
			t.Fatalf("backup: exit %d\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, out) || !strings.Contains(r.stdout, "integrity check ok") {
			t.Errorf("backup printed %q, want the path and the integrity check", r.stdout)
		}
		if !strings.Contains(mustRun(t, "user", "--db", out, "list").stdout, "b@example.com") {
			t.Error("the copy does not have the account")
		}

		// An existing file is never overwritten.
		r = run(t, "backup", "--db", dsn, "--out", out)
		if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
			t.Errorf("backup onto an existing file: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestBackupMissingDatabase checks that a mistyped --data is an error, not
// the backup of a new, empty database.
func TestBackupMissingDatabase(t *testing.T) {
	data := filepath.Join(t.TempDir(), "typo")
	out := filepath.Join(t.TempDir(), "copy.db")
	r := run(t, "backup", "--data", data, "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "no database to back up") {
		t.Errorf("backup of a missing database: exit %d, stderr %q; want exit 1 naming the problem", r.code, r.stderr)
	}
	for _, p := range []string{data, out} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("backup of a missing database created %s", p)
		}
	}
}
