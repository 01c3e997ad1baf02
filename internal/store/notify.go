package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// EventChannel is the PostgreSQL channel that carries change events
// between server processes.
const EventChannel = "northstar_events"

// Notify sends payload to every process listening on channel once the
// transaction commits (PostgreSQL delivers notifications at commit). On
// SQLite, where one process serves, it does nothing.
func (tx *Tx) Notify(ctx context.Context, channel, payload string) error {
	if tx.Engine() != Postgres {
		return nil
	}
	// The channel is scoped to the schema, so that installations (and
	// tests) sharing one database in different schemas hear only their
	// own changes; the listener scopes its channel the same way.
	if _, err := tx.exec(ctx, "SELECT pg_notify(left(? || '.' || current_schema(), 63), ?)", channel, payload); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// Listen calls fn with the payload of every notification on channel until
// ctx ends, reconnecting after failures. It needs a connection of its own,
// outside the pool. On SQLite it returns at once.
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string), log *slog.Logger) {
	if db.engine != Postgres {
		return
	}
	backoff := time.Second
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, channel, fn)
		if ctx.Err() != nil {
			return
		}
		log.Warn("listen for events", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, fn func(payload string)) error {
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var scoped string
	if err := conn.QueryRow(ctx, "SELECT left($1 || '.' || current_schema(), 63)", channel).Scan(&scoped); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{scoped}.Sanitize()); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
