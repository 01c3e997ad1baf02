package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// ExternalItem is a story or feature that was imported, found by the key
// it had in the tool it came from.
type ExternalItem struct {
	Kind   string // northstar.KindStory or northstar.KindFeature
	ID     int64
	Number int
}

// StoryImport is what an import keeps on a story besides its own fields.
type StoryImport struct {
	Ref       string
	RawPoints *float64
	Assignee  string // as the file named them, when no user matched
	Reporter  string
	Created   *time.Time
	Updated   *time.Time
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// SetStoryImport records a story's external reference, its estimate and
// people as the file gave them, and its times from the file.
func (tx *Tx) SetStoryImport(ctx context.Context, storyID int64, in StoryImport) error {
	var raw any
	if in.RawPoints != nil {
		raw = *in.RawPoints
	}
	_, err := tx.exec(ctx, `UPDATE stories SET external_ref = ?, external_points = ?, external_assignee = ?, external_reporter = ?,
		created_at = COALESCE(?, created_at), updated_at = COALESCE(?, updated_at) WHERE id = ?`,
		nullString(in.Ref), raw, in.Assignee, in.Reporter, nullTime(in.Created), nullTime(in.Updated), storyID)
	if err != nil {
		return fmt.Errorf("record import of story %d: %w", storyID, err)
	}
	return nil
}

// SetFeatureImport records a feature's external reference and its times
// from the file.
func (tx *Tx) SetFeatureImport(ctx context.Context, featureID int64, ref string, created, updated *time.Time) error {
	_, err := tx.exec(ctx, `UPDATE features SET external_ref = ?, created_at = COALESCE(?, created_at), updated_at = COALESCE(?, updated_at) WHERE id = ?`,
		nullString(ref), nullTime(created), nullTime(updated), featureID)
	if err != nil {
		return fmt.Errorf("record import of feature %d: %w", featureID, err)
	}
	return nil
}

// StoryImportFields returns what an import kept on a story.
func (tx *Tx) StoryImportFields(ctx context.Context, storyID int64) (StoryImport, error) {
	var in StoryImport
	var ref sql.NullString
	var raw sql.NullFloat64
	err := tx.queryRow(ctx, "SELECT external_ref, external_points, external_assignee, external_reporter FROM stories WHERE id = ?", storyID).
		Scan(&ref, &raw, &in.Assignee, &in.Reporter)
	if err != nil {
		return in, notFound(err, "Story %d not found.", storyID)
	}
	in.Ref = ref.String
	if raw.Valid {
		in.RawPoints = &raw.Float64
	}
	return in, nil
}

// ReserveNumbers takes n item numbers of a product at once and returns
// the first; an import numbers its new items from it.
func (tx *Tx) ReserveNumbers(ctx context.Context, productID int64, n int) (int, error) {
	var last int
	err := tx.queryRow(ctx, "UPDATE products SET last_number = last_number + ? WHERE id = ? RETURNING last_number", n, productID).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("reserve numbers: %w", translate(err))
	}
	return last - n + 1, nil
}

// AddImportedComment adds a comment with the time the file gives. With
// dedupe it first looks for the same comment from an earlier import of
// the item, and adds nothing if there is one.
func (tx *Tx) AddImportedComment(ctx context.Context, productID int64, kind string, itemID int64, author *northstar.UserRef, body string, at time.Time, dedupe bool) (bool, error) {
	if dedupe {
		var n int
		if err := tx.queryRow(ctx, "SELECT COUNT(*) FROM comments WHERE item_kind = ? AND item_id = ? AND body = ?", kind, itemID, body).Scan(&n); err != nil {
			return false, fmt.Errorf("find comment: %w", err)
		}
		if n > 0 {
			return false, nil
		}
	}
	_, err := tx.exec(ctx, "INSERT INTO comments (product_id, item_kind, item_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		productID, kind, itemID, nullID(author), body, at)
	if err != nil {
		return false, fmt.Errorf("import comment: %w", err)
	}
	return true, nil
}

// ProductSprints returns the sprints of every team working on a product,
// by name (the newest of a name wins).
func (tx *Tx) ProductSprints(ctx context.Context, productID int64) (map[string]*northstar.Sprint, error) {
	rows, err := tx.query(ctx, sprintSelect+` WHERE s.team_id IN (SELECT team_id FROM team_products WHERE product_id = ?) ORDER BY s.id`, productID)
	if err != nil {
		return nil, fmt.Errorf("product sprints: %w", err)
	}
	defer rows.Close()
	out := map[string]*northstar.Sprint{}
	for rows.Next() {
		s, err := scanSprint(rows)
		if err != nil {
			return nil, fmt.Errorf("product sprints: %w", err)
		}
		out[s.Name] = s
	}
	return out, rows.Err()
}

// BoardColumns returns a team's board columns in order.
func (tx *Tx) BoardColumns(ctx context.Context, teamID int64) ([]*northstar.BoardColumn, error) {
	t := &northstar.Team{ID: teamID}
	if err := tx.fillTeam(ctx, t); err != nil {
		return nil, err
	}
	return t.Columns, nil
}

// ExportedComment is a comment with the ref of the item it is on.
type ExportedComment struct {
	ItemKind string     `json:"item_kind"`
	ItemRef  string     `json:"item"`
	Author   string     `json:"author"`
	Body     string     `json:"body"`
	Created  time.Time  `json:"created_at"`
	Edited   *time.Time `json:"edited_at"`
}

// EachComment calls fn for every comment on a product's stories and
// features, oldest first, reading in pages so memory stays bounded.
func (tx *Tx) EachComment(ctx context.Context, productID int64, fn func(*ExportedComment) error) error {
	var after int64
	for {
		rows, err := tx.query(ctx, `SELECT c.id, c.item_kind, p.key, COALESCE(s.number, f.number, 0), COALESCE(u.email, ''), c.body, c.created_at, c.edited_at
			FROM comments c JOIN products p ON p.id = c.product_id
			LEFT JOIN stories s ON c.item_kind = 'story' AND s.id = c.item_id
			LEFT JOIN features f ON c.item_kind = 'feature' AND f.id = c.item_id
			LEFT JOIN users u ON u.id = c.author_id
			WHERE c.product_id = ? AND c.id > ? ORDER BY c.id LIMIT 1000`, productID, after)
		if err != nil {
			return fmt.Errorf("export comments: %w", err)
		}
		var page []*ExportedComment
		for rows.Next() {
			var c ExportedComment
			var key string
			var number int
			if err := rows.Scan(&after, &c.ItemKind, &key, &number, &c.Author, &c.Body, &c.Created, &c.Edited); err != nil {
				rows.Close()
				return fmt.Errorf("export comments: %w", err)
			}
			c.Created = c.Created.UTC()
			if number > 0 {
				c.ItemRef = northstar.FormatRef(key, number)
			}
			page = append(page, &c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("export comments: %w", err)
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
	}
}

// StoryImports returns what imports kept on the given stories, by story
// id; stories without an import are left out.
func (tx *Tx) StoryImports(ctx context.Context, ids []int64) (map[int64]StoryImport, error) {
	out := map[int64]StoryImport{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.query(ctx, `SELECT id, external_ref, external_points, external_assignee, external_reporter FROM stories
		WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`)
		AND (external_ref IS NOT NULL OR external_points IS NOT NULL OR external_assignee <> '' OR external_reporter <> '')`, args...)
	if err != nil {
		return nil, fmt.Errorf("story imports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var in StoryImport
		var ref sql.NullString
		var raw sql.NullFloat64
		if err := rows.Scan(&id, &ref, &raw, &in.Assignee, &in.Reporter); err != nil {
			return nil, fmt.Errorf("story imports: %w", err)
		}
		in.Ref = ref.String
		if raw.Valid {
			v := raw.Float64
			in.RawPoints = &v
		}
		out[id] = in
	}
	return out, rows.Err()
}

// FeatureExternalRefs returns the external references of a product's
// features, by feature id.
func (tx *Tx) FeatureExternalRefs(ctx context.Context, productID int64) (map[int64]string, error) {
	rows, err := tx.query(ctx, "SELECT id, external_ref FROM features WHERE product_id = ? AND external_ref IS NOT NULL", productID)
	if err != nil {
		return nil, fmt.Errorf("feature refs: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var ref string
		if err := rows.Scan(&id, &ref); err != nil {
			return nil, fmt.Errorf("feature refs: %w", err)
		}
		out[id] = ref
	}
	return out, rows.Err()
}

// ExternalRefsFor returns those of a product's imported items whose
// external reference is one of keys: an import looks up only the items
// it touches, so its cost follows the file, not the product's size.
func (tx *Tx) ExternalRefsFor(ctx context.Context, productID int64, keys []string) (map[string]ExternalItem, error) {
	out := map[string]ExternalItem{}
	const chunk = 500
	for from := 0; from < len(keys); from += chunk {
		part := keys[from:min(from+chunk, len(keys))]
		args := make([]any, 0, len(part)+1)
		args = append(args, productID)
		for _, k := range part {
			args = append(args, k)
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(part)), ",") + ")"
		for _, q := range []struct{ kind, table string }{{northstar.KindFeature, "features"}, {northstar.KindStory, "stories"}} {
			rows, err := tx.query(ctx, "SELECT external_ref, id, number FROM "+q.table+" WHERE product_id = ? AND external_ref IN "+in, args...)
			if err != nil {
				return nil, fmt.Errorf("external refs: %w", err)
			}
			for rows.Next() {
				var ref string
				it := ExternalItem{Kind: q.kind}
				if err := rows.Scan(&ref, &it.ID, &it.Number); err != nil {
					rows.Close()
					return nil, fmt.Errorf("external refs: %w", err)
				}
				out[ref] = it
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("external refs: %w", err)
			}
		}
	}
	return out, nil
}
