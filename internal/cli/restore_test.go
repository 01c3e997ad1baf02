package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/northstar-pm/northstar/internal/cli"
)

// backupOf makes a database with one account and returns a backup of it.
func backupOf(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "northstar.db")
	mustRun(t, "user", "--db", src, "create", "--email", "r@example.com", "--name", "R", "--password", "long enough password")
	out := filepath.Join(t.TempDir(), "copy.db")
	mustRun(t, "backup", "--db", src, "--out", out)
	return out
}

func TestRestore(t *testing.T) {
	t.Parallel()
	backup := backupOf(t)
	data := filepath.Join(t.TempDir(), "new")
	r := mustRun(t, "restore", "--data", data, backup)
	dest := filepath.Join(data, "northstar.db")
	if !strings.Contains(r.stdout, dest) || !strings.Contains(r.stdout, "integrity check ok") {
		t.Errorf("restore printed %q, want the destination and the integrity check", r.stdout)
	}
	if !strings.Contains(r.stderr, "100%") {
		t.Errorf("restore showed no progress: %q", r.stderr)
	}
	want, _ := os.ReadFile(backup)
	got, err := os.ReadFile(dest)
	if err != nil || string(got) != string(want) {
		t.Fatalf("the restored database differs from the backup (err %v)", err)
	}
	if !strings.Contains(mustRun(t, "user", "--data", data, "list").stdout, "r@example.com") {
		t.Error("the restored database does not have the account")
	}
	left, _ := filepath.Glob(filepath.Join(data, ".*restore*"))
	if len(left) > 0 {
		t.Errorf("restore left %v behind", left)
	}

	// Once the installation has a database, restore refuses to touch it.
	before, _ := os.ReadFile(dest)
	r = run(t, "restore", "--data", data, backup)
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("restore over a database: exit %d, stderr %q; want exit 1 and already exists", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(dest); string(after) != string(before) {
		t.Error("restore over a database changed it")
	}
}

func TestRestoreRefuses(t *testing.T) {
	t.Parallel()
	backup := backupOf(t)
	notSQLite := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notSQLite, []byte(strings.Repeat("not a database\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A backup damaged in the middle: the header reads fine, the pages
	// do not.
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	for i := 4096; i < len(b)-4096; i += 4096 {
		copy(b[i+100:i+300], strings.Repeat("\xff", 200))
	}
	if err := os.WriteFile(damaged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A database in use: its latest writes are in the WAL beside it.
	live := filepath.Join(t.TempDir(), "northstar.db")
	orig, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live+"-wal", []byte("frames"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A destination with a stale WAL but no database.
	staleWAL := t.TempDir()
	if err := os.WriteFile(filepath.Join(staleWAL, "northstar.db-wal"), []byte("frames"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no backup named", []string{"restore", "--data", t.TempDir()}, cli.ExitUsage, "Usage: northstar restore"},
		{"missing backup", []string{"restore", "--data", t.TempDir(), filepath.Join(t.TempDir(), "none.db")}, 1, "no backup to restore"},
		{"not a SQLite file", []string{"restore", "--data", t.TempDir(), notSQLite}, 1, "not a SQLite database"},
		{"damaged backup", []string{"restore", "--data", t.TempDir(), damaged}, 1, "check " + damaged},
		{"database in use", []string{"restore", "--data", t.TempDir(), live}, 1, "write-ahead log"},
		{"stale WAL at the destination", []string{"restore", "--data", staleWAL, backup}, 1, "northstar.db-wal already exists"},
		{"PostgreSQL", []string{"restore", "--db", "postgres://nobody@127.0.0.1:1/none", backup}, 1, "pg_restore"},
	}
	for _, tt := range tests {
		r := run(t, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tt.name, r.code, r.stderr, tt.code, tt.want)
		}
		if data := tt.args[2]; tt.code == 1 && data != staleWAL && !strings.HasPrefix(data, "postgres") {
			if _, err := os.Stat(filepath.Join(data, "northstar.db")); err == nil {
				t.Errorf("%s: restore created a database", tt.name)
			}
		}
	}
}
