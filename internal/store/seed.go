package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// Bulk loading for the seed command. A Seeder writes what CreateStory
// writes for each story — the row with its denormalised counts, labels,
// criteria, tasks, "created" event and search document, and the product's
// last_number — but
// with multi-row INSERTs through statements prepared once per call, which
// is an order of magnitude faster than one CreateStory per story.

// seedRowsPerInsert is how many rows one INSERT statement carries: enough
// to make the cost of a statement small, and few enough to keep the bound
// parameters (at most 29 a row) far below both engines' limits.
const seedRowsPerInsert = 100

// Seeder loads stories in bulk. NewSeeder prepares the database, Add
// writes a batch of stories in one transaction, and Close finishes the
// search index and restores the settings NewSeeder changed; call it even
// after a failed Add.
//
// On SQLite the seeder's transactions bypass Update's group commit: a bulk
// load is one large write that gains nothing from sharing a commit, and
// inside the group's savepoint SQLite would first copy every page it
// changes to a statement journal (and FTS5 would write its pending terms
// at every savepoint). Like every write they begin IMMEDIATE on the write
// pool, so other writers, in this process or another, wait for them
// within the busy timeout.
type Seeder struct {
	db *DB
	// restore holds SQLite's FTS5 settings to put back, in order.
	restore []ftsSetting
}

// ftsSetting is a configuration option of the stories_fts table.
type ftsSetting struct {
	name  string
	value int
}

// seedFTSSettings are the FTS5 options during a bulk load, with their
// defaults. A large in-memory hash and no automatic merging let FTS5 write
// a few large segments instead of merging small ones again and again;
// Close merges them all once ('optimize'). Measured with 300,000 stories,
// this took indexing from 54 s to 34 s.
var seedFTSSettings = []struct {
	ftsSetting
	def int
}{
	{ftsSetting{"hashsize", 8 << 20}, 1 << 20},
	{ftsSetting{"automerge", 0}, 4},
	{ftsSetting{"crisismerge", 1000}, 16},
}

// NewSeeder prepares the database for loading stories in bulk.
func (db *DB) NewSeeder(ctx context.Context) (*Seeder, error) {
	s := &Seeder{db: db}
	if db.engine != SQLite {
		return s, nil
	}
	err := db.bulkTx(ctx, func(tx *Tx) error {
		for _, set := range seedFTSSettings {
			old := set.def
			var v string
			err := tx.queryRow(ctx, "SELECT v FROM stories_fts_config WHERE k = ?", set.name).Scan(&v)
			if err == nil {
				if n, err := strconv.Atoi(v); err == nil {
					old = n
				}
			} else if !errors.Is(err, sql.ErrNoRows) {
				return translate(err)
			}
			if err := tx.setFTS(ctx, set.ftsSetting); err != nil {
				return err
			}
			s.restore = append(s.restore, ftsSetting{set.name, old})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prepare seeding: %w", err)
	}
	return s, nil
}

func (tx *Tx) setFTS(ctx context.Context, set ftsSetting) error {
	if _, err := tx.exec(ctx, "INSERT INTO stories_fts (stories_fts, rank) VALUES (?, ?)", set.name, set.value); err != nil {
		return fmt.Errorf("search index option %s: %w", set.name, err)
	}
	return nil
}

// Add inserts stories as CreateStory would, in one transaction: each
// story's ProductID, Number, Rank, Type, Status and Title must be set, and
// the ranks of a product must not collide with existing ones. CreatedAt
// and UpdatedAt are kept when set (the transaction's time otherwise), so
// that seeded backlogs have a history. It sets each story's ID, Ref and
// Version (not the IDs of criteria and tasks), and raises the last_number
// of each product to the highest number seeded in it. On PostgreSQL,
// several Adds may run at once.
func (s *Seeder) Add(ctx context.Context, stories []*northstar.Story) error {
	if len(stories) == 0 {
		return nil
	}
	return s.db.bulkTx(ctx, func(tx *Tx) error {
		if tx.Engine() == Postgres {
			// Seeded data can be seeded again: no need to wait for the
			// WAL to reach the disk at each commit.
			if _, err := tx.exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return fmt.Errorf("seed stories: %w", err)
			}
		}
		return tx.seedStories(ctx, stories)
	})
}

// Close finishes a bulk load: on SQLite it merges the search index into
// one segment (unless ctx is done) and restores its settings; on
// PostgreSQL it refreshes the planner's statistics.
func (s *Seeder) Close(ctx context.Context) error {
	var errs []error
	if s.db.engine == Postgres {
		if ctx.Err() == nil {
			for _, t := range []string{"stories", "story_criteria", "story_labels", "story_tasks", "story_events"} {
				if _, err := s.db.write.ExecContext(ctx, "ANALYZE "+t); err != nil {
					errs = append(errs, fmt.Errorf("analyze %s: %w", t, translate(err)))
				}
			}
		}
		return errors.Join(errs...)
	}
	if ctx.Err() == nil {
		err := s.db.bulkTx(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, "INSERT INTO stories_fts (stories_fts) VALUES ('optimize')")
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("optimize the search index: %w", err))
		}
	}
	if len(s.restore) > 0 {
		ctx := context.WithoutCancel(ctx)
		err := s.db.bulkTx(ctx, func(tx *Tx) error {
			for _, set := range s.restore {
				if err := tx.setFTS(ctx, set); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		} else {
			s.restore = nil
		}
	}
	return errors.Join(errs...)
}

// bulkTx runs fn in a transaction of its own on the write connection (see
// Seeder).
func (db *DB) bulkTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err))
	}
	defer sqlTx.Rollback()
	tx := &Tx{tx: sqlTx, db: db, Now: db.clock().UTC().Truncate(time.Microsecond)}
	if err := fn(tx); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

func (tx *Tx) seedStories(ctx context.Context, stories []*northstar.Story) error {
	ids, err := tx.reserveStoryIDs(ctx, len(stories))
	if err != nil {
		return fmt.Errorf("seed stories: %w", err)
	}
	for i, s := range stories {
		s.ID = ids[i]
		s.Version = 1
		if s.CreatedAt.IsZero() {
			s.CreatedAt = tx.Now
		}
		if s.UpdatedAt.IsZero() {
			s.UpdatedAt = s.CreatedAt
		}
		if s.Ref == "" && s.ProductKey != "" {
			s.Ref = northstar.FormatRef(s.ProductKey, s.Number)
		}
	}
	pg := tx.Engine() == Postgres

	// Stories first: the other tables refer to them.
	cols := `id, product_id, number, type, title, persona, want, benefit, description, points, status,
		accepted, accepted_at, accepted_by, assignee_id, feature_id, rank,
		criteria_count, criteria_met, tasks_count, tasks_done, version, created_by, updated_by, created_at, updated_at`
	row := "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?"
	if pg {
		cols += ", search"
		row += `, setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B') ||
			setweight(to_tsvector('simple', ?), 'C') || setweight(to_tsvector('simple', ?), 'B')`
	}
	ins, err := tx.newBulkInsert(ctx, "INSERT INTO stories ("+cols+") VALUES ", row+")", seedRowsPerInsert)
	if err != nil {
		return fmt.Errorf("seed stories: %w", err)
	}
	defer ins.close()
	last := map[int64]int{} // product → highest number seeded
	for _, s := range stories {
		met, done := s.MetCount(), s.TasksDone()
		args := []any{s.ID, s.ProductID, s.Number, s.Type, s.Title, s.Persona, s.Want, s.Benefit, s.Description,
			nullInt(s.Points), s.Status, s.Accepted, tx.db.timeArg(s.AcceptedAt), nullID(s.AcceptedBy), nullID(s.Assignee), s.FeatureID, s.Rank,
			len(s.Criteria), met, len(s.Tasks), done, nullID(s.CreatedBy), nullID(s.UpdatedBy),
			tx.db.timeArg(s.CreatedAt), tx.db.timeArg(s.UpdatedAt)}
		if pg {
			template, criteria := searchFields(s)
			args = append(args, foldAccents(s.Title), foldAccents(template), foldAccents(s.Description), foldAccents(criteria))
		}
		if err := ins.add(ctx, args...); err != nil {
			return fmt.Errorf("seed stories: %w", err)
		}
		if s.Number > last[s.ProductID] {
			last[s.ProductID] = s.Number
		}
	}
	if err := ins.flush(ctx); err != nil {
		return fmt.Errorf("seed stories: %w", err)
	}

	if err := tx.seedChildren(ctx, stories); err != nil {
		return fmt.Errorf("seed stories: %w", err)
	}
	if !pg {
		if err := tx.seedSearchIndex(ctx, stories); err != nil {
			return fmt.Errorf("seed stories: %w", err)
		}
	}
	// In the order of the ids, so that concurrent loads lock products in
	// the same order and cannot deadlock.
	products := make([]int64, 0, len(last))
	for id := range last {
		products = append(products, id)
	}
	slices.Sort(products)
	for _, id := range products {
		n := last[id]
		if _, err := tx.exec(ctx, "UPDATE products SET last_number = ? WHERE id = ? AND last_number < ?", n, id, n); err != nil {
			return fmt.Errorf("seed stories: last number: %w", err)
		}
	}
	return nil
}

// reserveStoryIDs returns n new story ids. SQLite gives an INTEGER PRIMARY
// KEY max(id)+1, and the write transaction holds the database's one write
// lock, so the next n ids are this transaction's; PostgreSQL hands them out
// from the identity sequence, safe beside a running server.
func (tx *Tx) reserveStoryIDs(ctx context.Context, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if tx.Engine() == SQLite {
		var maxID int64
		if err := tx.queryRow(ctx, "SELECT COALESCE(MAX(id), 0) FROM stories").Scan(&maxID); err != nil {
			return nil, fmt.Errorf("reserve ids: %w", translate(err))
		}
		for i := int64(1); i <= int64(n); i++ {
			ids = append(ids, maxID+i)
		}
		return ids, nil
	}
	rows, err := tx.query(ctx, "SELECT nextval(pg_get_serial_sequence('stories', 'id')) FROM generate_series(1, ?)", n)
	if err != nil {
		return nil, fmt.Errorf("reserve ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("reserve ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reserve ids: %w", err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("reserve ids: got %d of %d", len(ids), n)
	}
	return ids, nil
}

// seedChildren writes the stories' labels, criteria, tasks and first
// history events.
func (tx *Tx) seedChildren(ctx context.Context, stories []*northstar.Story) error {
	labels, err := tx.newBulkInsert(ctx, "INSERT INTO story_labels (story_id, product_id, label) VALUES ", "(?, ?, ?)", seedRowsPerInsert)
	if err != nil {
		return err
	}
	defer labels.close()
	criteria, err := tx.newBulkInsert(ctx, "INSERT INTO story_criteria (story_id, position, text, met) VALUES ", "(?, ?, ?, ?)", seedRowsPerInsert)
	if err != nil {
		return err
	}
	defer criteria.close()
	tasks, err := tx.newBulkInsert(ctx, "INSERT INTO story_tasks (story_id, position, text, done, assignee_id) VALUES ", "(?, ?, ?, ?, ?)", seedRowsPerInsert)
	if err != nil {
		return err
	}
	defer tasks.close()
	events, err := tx.newBulkInsert(ctx, "INSERT INTO story_events (story_id, product_id, sprint_id, kind, status, points, actor_id, at) VALUES ",
		"(?, ?, ?, 'created', ?, ?, ?, ?)", seedRowsPerInsert)
	if err != nil {
		return err
	}
	defer events.close()
	for _, s := range stories {
		for _, l := range s.Labels {
			if err := labels.add(ctx, s.ID, s.ProductID, l); err != nil {
				return fmt.Errorf("labels: %w", err)
			}
		}
		for i, c := range s.Criteria {
			if err := criteria.add(ctx, s.ID, i+1, c.Text, c.Met); err != nil {
				return fmt.Errorf("criteria: %w", err)
			}
		}
		for i, t := range s.Tasks {
			if err := tasks.add(ctx, s.ID, i+1, t.Text, t.Done, nullID(t.Assignee)); err != nil {
				return fmt.Errorf("tasks: %w", err)
			}
		}
		// The start of the story's history, as CreateStory records it.
		if err := events.add(ctx, s.ID, s.ProductID, s.SprintID, s.Status, nullInt(s.Points), nullID(s.UpdatedBy), tx.db.timeArg(s.CreatedAt)); err != nil {
			return fmt.Errorf("events: %w", err)
		}
	}
	if err := labels.flush(ctx); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	if err := criteria.flush(ctx); err != nil {
		return fmt.Errorf("criteria: %w", err)
	}
	if err := tasks.flush(ctx); err != nil {
		return fmt.Errorf("tasks: %w", err)
	}
	if err := events.flush(ctx); err != nil {
		return fmt.Errorf("events: %w", err)
	}
	return nil
}

// seedSearchIndex adds the stories to SQLite's FTS5 index, with the
// columns IndexStory writes.
func (tx *Tx) seedSearchIndex(ctx context.Context, stories []*northstar.Story) error {
	// One row a statement: FTS5 writes its pending terms to disk as a new
	// segment at every statement that may need a statement journal, which
	// a multi-row INSERT does. Single rows let the terms of a whole
	// transaction collect in memory and be written as a few segments.
	fts, err := tx.newBulkInsert(ctx, "INSERT INTO stories_fts (rowid, title, template, description, criteria) VALUES ", "(?, ?, ?, ?, ?)", 1)
	if err != nil {
		return err
	}
	defer fts.close()
	for _, s := range stories {
		template, criteria := searchFields(s)
		if err := fts.add(ctx, s.ID, s.Title, template, s.Description, criteria); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	if err := fts.flush(ctx); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// searchFields returns the template sentence parts and the criteria as
// IndexStory joins them for the search document.
func searchFields(s *northstar.Story) (template, criteria string) {
	template = strings.TrimSpace(s.Persona + " " + s.Want + " " + s.Benefit)
	switch len(s.Criteria) {
	case 0:
	case 1:
		criteria = s.Criteria[0].Text
	default:
		var b strings.Builder
		for i, c := range s.Criteria {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(c.Text)
		}
		criteria = b.String()
	}
	return template, criteria
}

// timeArg converts a time to what the engine stores, as args does, for
// statements that bypass it.
func (db *DB) timeArg(t any) any {
	switch v := t.(type) {
	case time.Time:
		if db.engine == SQLite {
			return v.UTC().Format(sqliteTimeFormat)
		}
		return v
	case *time.Time:
		if v == nil {
			return nil
		}
		return db.timeArg(*v)
	}
	return t
}

// bulkInsert batches rows into multi-row INSERT statements: full batches
// go through one prepared statement, the remainder through a statement of
// its own size at flush.
type bulkInsert struct {
	tx     *Tx
	head   string // INSERT INTO t (…) VALUES
	row    string // (?, ?, …)
	stmt   *sql.Stmt
	args   []any
	rows   int // queued
	per    int // rows a statement
	perRow int // values a row
}

func (tx *Tx) newBulkInsert(ctx context.Context, head, row string, rowsPerInsert int) (*bulkInsert, error) {
	b := &bulkInsert{tx: tx, head: head, row: row, per: rowsPerInsert, perRow: strings.Count(row, "?")}
	stmt, err := tx.tx.PrepareContext(ctx, b.query(b.per))
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", strings.TrimSpace(head), translate(err))
	}
	b.stmt = stmt
	b.args = make([]any, 0, b.per*b.perRow)
	return b, nil
}

// query returns the statement for rows rows, with the engine's
// placeholders. It numbers PostgreSQL's itself rather than through rebind,
// whose cache is no place for a hundred long one-off statements.
func (b *bulkInsert) query(rows int) string {
	pg := b.tx.Engine() == Postgres
	var q strings.Builder
	q.Grow(len(b.head) + rows*(len(b.row)+2+b.perRow*6))
	q.WriteString(b.head)
	n := 0
	for i := 0; i < rows; i++ {
		if i > 0 {
			q.WriteString(", ")
		}
		if !pg {
			q.WriteString(b.row)
			continue
		}
		for _, part := range strings.SplitAfter(b.row, "?") {
			if strings.HasSuffix(part, "?") {
				n++
				q.WriteString(part[:len(part)-1])
				q.WriteString("$" + strconv.Itoa(n))
			} else {
				q.WriteString(part)
			}
		}
	}
	return q.String()
}

// add queues one row; it writes a full batch.
func (b *bulkInsert) add(ctx context.Context, args ...any) error {
	if len(args) != b.perRow {
		return fmt.Errorf("bulk insert: %d values for %d columns", len(args), b.perRow)
	}
	b.args = append(b.args, args...)
	b.rows++
	if b.rows < b.per {
		return nil
	}
	_, err := b.stmt.ExecContext(ctx, b.args...)
	b.args, b.rows = b.args[:0], 0
	return translate(err)
}

// flush writes the queued rows.
func (b *bulkInsert) flush(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	_, err := b.tx.tx.ExecContext(ctx, b.query(b.rows), b.args...)
	b.args, b.rows = b.args[:0], 0
	return translate(err)
}

func (b *bulkInsert) close() {
	if b.stmt != nil {
		b.stmt.Close()
	}
}
