package store

// What the portfolio views read across products: the roadmap's features
// and what shipped.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/northstar-pm/northstar"
)

// FindPortfolioFeatures lists the features of every product that are on
// the roadmap (a horizon or dates) and not yet released or rejected, with
// their release's name and target date.
func (tx *Tx) FindPortfolioFeatures(ctx context.Context) ([]*northstar.PortfolioFeature, error) {
	rows, err := tx.query(ctx, `SELECT p.key, f.number, f.title, f.status, COALESCE(f.horizon, ''), f.start_date, f.end_date, r.id, r.name, r.target_date
		FROM features f JOIN products p ON p.id = f.product_id
		LEFT JOIN releases r ON r.id = f.release_id
		WHERE f.status NOT IN ('released', 'rejected') AND (COALESCE(f.horizon, '') <> '' OR f.start_date IS NOT NULL OR f.end_date IS NOT NULL)
		ORDER BY p.key, f.number`)
	if err != nil {
		return nil, fmt.Errorf("portfolio features: %w", err)
	}
	defer rows.Close()
	var out []*northstar.PortfolioFeature
	for rows.Next() {
		var f northstar.PortfolioFeature
		var n int64
		var start, end, target sql.NullTime
		var releaseID sql.NullInt64
		var releaseName sql.NullString
		if err := rows.Scan(&f.ProductKey, &n, &f.Title, &f.Status, &f.Horizon, &start, &end, &releaseID, &releaseName, &target); err != nil {
			return nil, fmt.Errorf("portfolio features: %w", err)
		}
		f.Ref = fmt.Sprintf("%s-%d", f.ProductKey, n)
		if start.Valid {
			f.Start = northstar.Date{Time: dateOnly(start.Time)}
		}
		if end.Valid {
			f.End = northstar.Date{Time: dateOnly(end.Time)}
		}
		if releaseID.Valid {
			f.Release = &northstar.NamedRef{ID: releaseID.Int64, Name: releaseName.String}
		}
		if target.Valid {
			f.ReleaseTarget = northstar.Date{Time: dateOnly(target.Time)}
		}
		out = append(out, &f)
	}
	return out, rows.Err()
}

// FindPortfolioReleases lists the releases of every product that have a
// target date and are not yet released, by product and date.
func (tx *Tx) FindPortfolioReleases(ctx context.Context) ([]*northstar.Release, error) {
	rows, err := tx.query(ctx, releaseSelect+` WHERE r.target_date IS NOT NULL AND r.status <> 'released' ORDER BY p.key, r.target_date, r.id`)
	if err != nil {
		return nil, fmt.Errorf("portfolio releases: %w", err)
	}
	out := []*northstar.Release{}
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("portfolio releases: %w", err)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("portfolio releases: %w", err)
	}
	return out, tx.fillReleaseProgress(ctx, out)
}

// FindShipped lists every released feature with when it shipped: its
// release's date, or when the feature last changed if it has no release.
func (tx *Tx) FindShipped(ctx context.Context) ([]*northstar.ShippedFeature, error) {
	rows, err := tx.query(ctx, `SELECT p.key, p.name, f.number, f.title, COALESCE(r.name, ''), r.released_at, f.updated_at, COALESCE(n.note, ''),
		(SELECT COUNT(*) FROM release_notices rn WHERE rn.feature_id = f.id AND rn.status = 'sent')
		FROM features f JOIN products p ON p.id = f.product_id
		LEFT JOIN releases r ON r.id = f.release_id
		LEFT JOIN feature_release_notes n ON n.feature_id = f.id
		WHERE f.status = 'released'`)
	if err != nil {
		return nil, fmt.Errorf("shipped features: %w", err)
	}
	defer rows.Close()
	var out []*northstar.ShippedFeature
	for rows.Next() {
		var s northstar.ShippedFeature
		var n int64
		var released sql.NullTime
		var updated time.Time
		if err := rows.Scan(&s.ProductKey, &s.ProductName, &n, &s.Title, &s.Release, &released, &updated, &s.Note, &s.Told); err != nil {
			return nil, fmt.Errorf("shipped features: %w", err)
		}
		s.Ref = fmt.Sprintf("%s-%d", s.ProductKey, n)
		s.At = updated.UTC()
		if released.Valid {
			s.At = released.Time.UTC()
		}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// FindRecentUpWeeks returns, for each product, the weekly means since
// from of its first metric (by name) where higher is better, oldest first,
// one point at the start of each week. The database averages the weeks,
// so a portfolio of long daily series reads a few thousand rows.
func (tx *Tx) FindRecentUpWeeks(ctx context.Context, from time.Time) (map[int64][]northstar.MetricPoint, error) {
	first := map[int64]int64{} // product → metric
	rows, err := tx.query(ctx, "SELECT id, product_id FROM metrics WHERE direction = 'up' ORDER BY product_id, name, key")
	if err != nil {
		return nil, fmt.Errorf("recent weeks: %w", err)
	}
	for rows.Next() {
		var id, pid int64
		if err := rows.Scan(&id, &pid); err != nil {
			rows.Close()
			return nil, err
		}
		if _, ok := first[pid]; !ok {
			first[pid] = id
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	want := map[int64]int64{} // metric → product
	for pid, id := range first {
		want[id] = pid
	}
	out := map[int64][]northstar.MetricPoint{}
	rows, err = tx.query(ctx, `SELECT mp.metric_id, mp.day / 7, AVG(mp.value) FROM metric_points mp
		WHERE mp.metric_id IN (SELECT id FROM metrics WHERE direction = 'up') AND mp.day >= ?
		GROUP BY mp.metric_id, mp.day / 7 ORDER BY mp.metric_id, mp.day / 7`, dayNumber(from))
	if err != nil {
		return nil, fmt.Errorf("recent weeks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, week int64
		var v float64
		if err := rows.Scan(&id, &week, &v); err != nil {
			return nil, err
		}
		if pid, ok := want[id]; ok {
			out[pid] = append(out[pid], northstar.MetricPoint{Date: dayDate(week * 7), Value: v})
		}
	}
	return out, rows.Err()
}
