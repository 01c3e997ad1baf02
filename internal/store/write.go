package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxGroup bounds how many writes share one SQLite transaction.
const maxGroup = 64

// ErrClosed is returned for writes to a closed database.
var ErrClosed = errors.New("database is closed")

// writeRequest is one read-write transaction waiting for the writer.
type writeRequest struct {
	ctx         context.Context
	fn          func(tx *Tx) error
	done        chan error
	afterCommit []func()
}

// submitWrite hands fn to the writer goroutine and waits for the outcome.
func (db *DB) submitWrite(ctx context.Context, fn func(tx *Tx) error) error {
	req := &writeRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-db.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	err := <-req.done
	if err == nil {
		for _, fn := range req.afterCommit {
			fn()
		}
	}
	return err
}

// groupCommit is SQLite's one writer. It takes the waiting writes, runs
// each in a savepoint of one transaction (a failing one rolls back alone),
// commits once and then answers them all. A commit costs one fsync however
// many writes it carries, so concurrent writers share it instead of
// queueing for one each; and since one goroutine writes, SQLite never
// answers "database is locked". A write is acknowledged only after its
// commit.
func (db *DB) groupCommit() {
	defer close(db.writerDone)
	for {
		var first *writeRequest
		select {
		case first = <-db.writes:
		case <-db.quit:
			return
		}
		batch := []*writeRequest{first}
	drain:
		for len(batch) < maxGroup {
			select {
			case r := <-db.writes:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		db.runGroup(batch)
	}
}

func (db *DB) runGroup(batch []*writeRequest) {
	results := make([]error, len(batch))
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	sqlTx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", translate(err)))
		return
	}
	ran := 0
	var fts []ftsOp
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		var ops []ftsOp
		ops, results[i] = db.runInSavepoint(sqlTx, r)
		if results[i] == nil {
			fts = append(fts, ops...)
			ran++
		}
	}
	if len(fts) > 0 {
		tx := &Tx{tx: sqlTx, db: db, stmts: db.writeStmts}
		for _, op := range fts {
			if err := runFTS(context.Background(), tx, op); err != nil {
				sqlTx.Rollback()
				fail(fmt.Errorf("update search index: %w", err))
				return
			}
		}
	}
	if ran == 0 {
		sqlTx.Rollback()
	} else if err := sqlTx.Commit(); err != nil {
		err = fmt.Errorf("commit: %w", translate(err))
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

// runInSavepoint runs one write inside the group's transaction and
// returns the full-text index changes it asked for.
func (db *DB) runInSavepoint(sqlTx *sql.Tx, r *writeRequest) (fts []ftsOp, err error) {
	ctx := r.ctx
	if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
		return nil, fmt.Errorf("savepoint: %w", translate(err))
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in write: %v", p)
		}
		if err != nil {
			// Undo this write only; the others in the group stand.
			if _, rerr := sqlTx.ExecContext(context.Background(), "ROLLBACK TO w"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
			}
		}
		if _, rerr := sqlTx.ExecContext(context.Background(), "RELEASE w"); rerr != nil && err == nil {
			err = fmt.Errorf("release savepoint: %w", rerr)
		}
	}()
	tx := &Tx{tx: sqlTx, db: db, stmts: db.writeStmts, Now: db.clock().UTC().Truncate(time.Microsecond), ftsQueue: &fts}
	err = r.fn(tx)
	r.afterCommit = tx.afterCommit
	return fts, err
}

// stmtCache keeps prepared statements by query text, so SQLite does not
// parse the same SQL again on every request. It stops growing at a bound:
// queries built with varying IN lists are then run unprepared.
type stmtCache struct {
	pool  *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

const maxCachedStmts = 500

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: map[string]*sql.Stmt{}}
}

func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	s, ok := c.stmts[query]
	n := len(c.stmts)
	c.mu.RUnlock()
	if ok {
		return s
	}
	if n >= maxCachedStmts {
		return nil
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil // run unprepared; the error will show there
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[query]; ok {
		s.Close()
		return old
	}
	c.stmts[query] = s
	return s
}
