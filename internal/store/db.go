// Package store keeps Northstar's data in SQLite or PostgreSQL through
// database/sql. SQL is written once in a portable form; the few places where
// the engines differ (placeholders, time values, error codes, locking) go
// through a small dialect seam. The store decides no business rule: the app
// package opens transactions with Update or View and calls the Tx methods.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/northstar-pm/northstar"
)

//go:embed migrations
var migrationFS embed.FS

// Engine names a database engine.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Options tune how a database is opened.
type Options struct {
	// Synchronous is SQLite's synchronous setting, FULL (default: survives
	// power loss) or NORMAL (faster; survives a crash of the process).
	Synchronous string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxConns bounds the PostgreSQL pool (default 20).
	MaxConns int
}

// DB is an open Northstar database.
type DB struct {
	engine Engine
	dsn    string
	path   string // SQLite file
	// write is the writers' pool. SQLite allows one writer at a time; every
	// read-write transaction runs on the one writer goroutine (with BEGIN
	// IMMEDIATE), so a writer waits its turn in Go instead of failing with
	// "database is locked". Reads use their own pool and never wait for
	// writers in WAL mode.
	write *sql.DB
	read  *sql.DB
	now   func() time.Time

	rebindCache sync.Map

	// SQLite only: the writer goroutine that runs every read-write
	// transaction (see groupCommit), and prepared statements per pool.
	writes     chan *writeRequest
	quit       chan struct{}
	writerDone chan struct{}
	writeStmts *stmtCache
	readStmts  *stmtCache
	readSlots  chan struct{}
	// shift moves the clock (nanoseconds): see TravelTo.
	shift atomic.Int64
}

// clock is the time transactions write: the configured clock, moved by
// TravelTo.
func (db *DB) clock() time.Time { return db.now().Add(time.Duration(db.shift.Load())) }

// Now returns the time a transaction starting now would write: the
// clock, moved by TravelTo.
func (db *DB) Now() time.Time { return db.clock() }

// TravelTo makes the transactions that follow write times as if it were
// t; a zero t returns to the present. The demo seeder uses it to record
// weeks of history (sprints, moves, check-ins) through the real use cases.
// It is not for a serving database: every writer sees the moved clock.
func (db *DB) TravelTo(t time.Time) {
	if t.IsZero() {
		db.shift.Store(0)
		return
	}
	db.shift.Store(int64(t.Sub(db.now())))
}

// Open opens the database named by dsn: a postgres:// or postgresql:// URL
// selects PostgreSQL, anything else is a SQLite file path. It does not run
// migrations; call Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	db := &DB{dsn: dsn, now: opts.Now}
	if db.now == nil {
		db.now = time.Now
	}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.engine = Postgres
		err = db.openPostgres(opts)
	} else {
		db.engine = SQLite
		err = db.openSQLite(opts)
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s database: %w", db.engine, err)
	}
	return db, nil
}

func (db *DB) openSQLite(opts Options) error {
	path := strings.TrimPrefix(db.dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" {
		return fmt.Errorf("open sqlite: a file path is required")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("open sqlite: %w", err)
		}
	}
	db.path = path
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return fmt.Errorf("open sqlite: synchronous must be FULL or NORMAL, not %q", opts.Synchronous)
	}
	q := url.Values{}
	// SQLite leaves foreign keys off unless asked, and gives up on a lock at
	// once without a busy timeout.
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	// A larger page cache than the default 2 MB saves a system call per
	// page on a big database; 8 MB a connection keeps memory bounded.
	q.Add("_pragma", "cache_size(-8192)")
	w := url.Values{"_txlock": {"immediate"}}
	for k, v := range q {
		w[k] = v
	}
	var err error
	if db.write, err = sql.Open("sqlite", "file:"+path+"?"+w.Encode()); err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	// One goroutine writes (groupCommit); the second connection lets
	// statements be prepared while it holds a transaction open.
	db.write.SetMaxOpenConns(2)
	db.write.SetMaxIdleConns(2)
	db.write.SetConnMaxIdleTime(0)
	q.Add("_pragma", "query_only(1)")
	if db.read, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode()); err != nil {
		db.write.Close()
		return fmt.Errorf("open sqlite: %w", err)
	}
	// Read transactions are bounded by readSlots, one fewer than the
	// pool: a transaction preparing a statement for the cache then always
	// finds a free connection to prepare it on.
	readers := max(4, runtime.NumCPU())
	db.readSlots = make(chan struct{}, readers)
	db.read.SetMaxOpenConns(readers + 1)
	db.read.SetMaxIdleConns(readers + 1)
	db.writeStmts, db.readStmts = newStmtCache(db.write), newStmtCache(db.read)
	db.writes, db.quit, db.writerDone = make(chan *writeRequest), make(chan struct{}), make(chan struct{})
	go db.groupCommit()
	return nil
}

func (db *DB) openPostgres(opts Options) error {
	conn, err := sql.Open("pgx", db.dsn)
	if err != nil {
		return fmt.Errorf("open postgres: %w", err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 20
	}
	conn.SetMaxOpenConns(n)
	conn.SetMaxIdleConns(n)
	conn.SetConnMaxIdleTime(5 * time.Minute)
	db.write, db.read = conn, conn
	return nil
}

// Engine reports which engine the database runs on.
func (db *DB) Engine() Engine { return db.engine }

// Path returns the SQLite file path ("" for PostgreSQL).
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	return nil
}

// Close closes the database. For SQLite it also checkpoints the WAL so the
// file is complete on its own.
func (db *DB) Close() error {
	var errs []error
	if db.quit != nil {
		close(db.quit)
		<-db.writerDone
	}
	if db.engine == SQLite && db.write != nil {
		if _, err := db.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
	}
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// Update runs fn in a read-write transaction, committed if fn returns nil
// and rolled back otherwise. fn may run more than once on PostgreSQL
// callers that retry; it must not have effects outside the transaction.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if db.engine == SQLite {
		return db.submitWrite(ctx, fn)
	}
	return db.run(ctx, db.write, nil, false, fn)
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(tx *Tx) error) error {
	if db.readSlots != nil {
		select {
		case db.readSlots <- struct{}{}:
			defer func() { <-db.readSlots }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return db.run(ctx, db.read, db.readStmts, true, fn)
}

func (db *DB) run(ctx context.Context, pool *sql.DB, stmts *stmtCache, readOnly bool, fn func(tx *Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: readOnly && db.engine == Postgres}
	sqlTx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err))
	}
	tx := &Tx{tx: sqlTx, db: db, stmts: stmts, Now: db.clock().UTC().Truncate(time.Microsecond)}
	defer sqlTx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	for _, fn := range tx.afterCommit {
		fn()
	}
	return nil
}

// Tx is a transaction. Now is its clock: every time written in one
// transaction is the same instant.
type Tx struct {
	tx    *sql.Tx
	db    *DB
	stmts *stmtCache // nil: statements are not cached (PostgreSQL: pgx caches them)
	Now   time.Time

	// ftsQueue, inside a group commit, collects full-text index changes
	// to run once the group's writes are done (see ftsOp).
	ftsQueue *[]ftsOp
	// afterCommit holds what to do once the transaction has committed.
	afterCommit []func()
}

// AfterCommit runs fn after the transaction commits, and never if it does
// not: announcing a change must not run ahead of the change itself.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// Engine reports the engine the transaction runs on.
func (tx *Tx) Engine() Engine { return tx.db.engine }

// stmt returns the transaction's handle on a cached prepared statement, or
// nil when the statement is not cached.
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	if s := tx.stmts.get(ctx, query); s != nil {
		return tx.tx.StmtContext(ctx, s)
	}
	return nil
}

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = tx.db.rebind(query), tx.db.args(args)
	if s := tx.stmt(ctx, query); s != nil {
		res, err := s.ExecContext(ctx, args...)
		return res, translate(err)
	}
	res, err := tx.tx.ExecContext(ctx, query, args...)
	return res, translate(err)
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = tx.db.rebind(query), tx.db.args(args)
	if s := tx.stmt(ctx, query); s != nil {
		rows, err := s.QueryContext(ctx, args...)
		return rows, translate(err)
	}
	rows, err := tx.tx.QueryContext(ctx, query, args...)
	return rows, translate(err)
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query, args = tx.db.rebind(query), tx.db.args(args)
	if s := tx.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// queryIDs runs a query whose rows are one id each and returns them;
// what names the list in an error.
func (tx *Tx) queryIDs(ctx context.Context, what, query string, args ...any) ([]int64, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return ids, nil
}

// insert runs an INSERT … RETURNING id and returns the new id.
func (tx *Tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	if err := tx.queryRow(ctx, query+" RETURNING id", args...).Scan(&id); err != nil {
		return 0, translate(err)
	}
	return id, nil
}

// sqliteTimeFormat is fixed-width UTC, so stored times sort as text.
const sqliteTimeFormat = "2006-01-02 15:04:05.000000+00:00"

// args converts arguments to what the engine stores.
func (db *DB) args(args []any) []any {
	if db.engine != SQLite {
		return args
	}
	args = append([]any(nil), args...) // never change the caller's slice
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = v.UTC().Format(sqliteTimeFormat)
		case *time.Time:
			if v != nil {
				args[i] = v.UTC().Format(sqliteTimeFormat)
			} else {
				args[i] = nil
			}
		}
	}
	return args
}

// rebind rewrites ? placeholders as $1, $2, … for PostgreSQL.
func (db *DB) rebind(query string) string {
	if db.engine != Postgres {
		return query
	}
	if q, ok := db.rebindCache.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	db.rebindCache.Store(query, b.String())
	return b.String()
}

// Errors the store reports for broken constraints. They are application
// errors, so an unexpected one still maps to a sensible status; the app
// layer checks for them with errors.Is to give a precise message.
var (
	ErrDuplicate  = &northstar.Error{Code: northstar.ECONFLICT, Message: "That already exists."}
	ErrReference  = &northstar.Error{Code: northstar.EUNPROCESSABLE, Message: "That refers to something that does not exist."}
	ErrConstraint = &northstar.Error{Code: northstar.EINVALID, Message: "A value is missing or out of range."}
	// ErrText is PostgreSQL refusing a text value it cannot store or
	// compare (a NUL character, invalid UTF-8). Such values come from
	// outside (a path, a query, a form), so they are bad input, not a 500.
	ErrText = &northstar.Error{Code: northstar.EINVALID, Message: "Text must be valid UTF-8 without NUL characters."}
)

// translate turns driver errors for broken constraints into the store's
// errors, keyed on SQLite result codes and PostgreSQL SQLSTATEs. It is the
// only place that looks at driver errors.
func translate(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w (%v)", ErrDuplicate, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w (%v)", ErrReference, err)
		case sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_CHECK:
			return fmt.Errorf("%w (%v)", ErrConstraint, err)
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("%w (%v)", ErrDuplicate, err)
		case "23503":
			return fmt.Errorf("%w (%v)", ErrReference, err)
		case "23502", "23514":
			return fmt.Errorf("%w (%v)", ErrConstraint, err)
		case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
			return fmt.Errorf("%w (%v)", ErrText, err)
		}
	}
	return err
}

// IsDuplicate reports whether err is a broken uniqueness constraint.
func IsDuplicate(err error) bool { return errors.Is(err, ErrDuplicate) }
