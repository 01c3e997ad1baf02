package store

import (
	"context"
	"database/sql"
)

// ExecForTest runs arbitrary SQL, for tests that check what the database
// itself refuses.
func (tx *Tx) ExecForTest(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.exec(ctx, query, args...)
}
