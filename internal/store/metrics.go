package store

// Product metrics and their daily points.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// dayNumber is a date as whole days since 1970-01-01, how points store it.
func dayNumber(d time.Time) int64 {
	y, m, dd := d.Date()
	return int64(time.Date(y, m, dd, 0, 0, 0, 0, time.UTC).Sub(epoch).Hours() / 24)
}

func dayDate(n int64) northstar.Date { return northstar.Date{Time: epoch.AddDate(0, 0, int(n))} }

const metricSelect = `SELECT m.id, m.product_id, p.key, m.key, m.name, m.unit, m.direction, m.description, m.created_at,
	(SELECT COUNT(*) FROM metric_points WHERE metric_id = m.id),
	COALESCE((SELECT MIN(day) FROM metric_points WHERE metric_id = m.id), 0),
	COALESCE((SELECT MAX(day) FROM metric_points WHERE metric_id = m.id), 0),
	COALESCE((SELECT value FROM metric_points WHERE metric_id = m.id ORDER BY day DESC LIMIT 1), 0)
	FROM metrics m JOIN products p ON p.id = m.product_id`

func scanMetric(row interface{ Scan(...any) error }) (*northstar.Metric, error) {
	var m northstar.Metric
	var first, last int64
	if err := row.Scan(&m.ID, &m.ProductID, &m.ProductKey, &m.Key, &m.Name, &m.Unit, &m.Direction, &m.Description, &m.CreatedAt,
		&m.Points, &first, &last, &m.LastValue); err != nil {
		return nil, err
	}
	if m.Points > 0 {
		m.First, m.Last = dayDate(first), dayDate(last)
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return &m, nil
}

// CreateMetric inserts a metric definition.
func (tx *Tx) CreateMetric(ctx context.Context, m *northstar.Metric, createdBy int64) error {
	m.CreatedAt = tx.Now
	id, err := tx.insert(ctx, `INSERT INTO metrics (product_id, key, name, unit, direction, description, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.ProductID, m.Key, m.Name, m.Unit, m.Direction, m.Description, createdBy, m.CreatedAt)
	if err != nil {
		return fmt.Errorf("create metric: %w", err)
	}
	m.ID = id
	return nil
}

// CountMetrics counts a product's metrics.
func (tx *Tx) CountMetrics(ctx context.Context, productID int64) (int, error) {
	var n int
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM metrics WHERE product_id = ?", productID).Scan(&n)
	return n, translate(err)
}

// FindMetrics lists a product's metrics by name, with how many points
// each has and its latest value.
func (tx *Tx) FindMetrics(ctx context.Context, productID int64) ([]*northstar.Metric, error) {
	rows, err := tx.query(ctx, metricSelect+" WHERE m.product_id = ? ORDER BY m.name, m.key", productID)
	if err != nil {
		return nil, fmt.Errorf("find metrics: %w", err)
	}
	defer rows.Close()
	ms := []*northstar.Metric{}
	for rows.Next() {
		m, err := scanMetric(rows)
		if err != nil {
			return nil, fmt.Errorf("find metrics: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// FindMetric returns one of a product's metrics by key.
func (tx *Tx) FindMetric(ctx context.Context, productID int64, key string) (*northstar.Metric, error) {
	m, err := scanMetric(tx.queryRow(ctx, metricSelect+" WHERE m.product_id = ? AND m.key = ?", productID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "Metric %q not found.", key)
	}
	if err != nil {
		return nil, fmt.Errorf("find metric: %w", translate(err))
	}
	return m, nil
}

// ExistingPointDays returns which of the given days already have a value.
func (tx *Tx) ExistingPointDays(ctx context.Context, metricID int64, ps []northstar.MetricPoint) (map[time.Time]bool, error) {
	have := map[time.Time]bool{}
	if len(ps) == 0 {
		return have, nil
	}
	lo, hi := dayNumber(ps[0].Date.Time), dayNumber(ps[0].Date.Time)
	for _, p := range ps {
		lo, hi = min(lo, dayNumber(p.Date.Time)), max(hi, dayNumber(p.Date.Time))
	}
	rows, err := tx.query(ctx, "SELECT day FROM metric_points WHERE metric_id = ? AND day BETWEEN ? AND ?", metricID, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("existing points: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		have[dayDate(d).Time] = true
	}
	return have, rows.Err()
}

// pointChunk bounds the rows of one INSERT: 3 parameters a row stays far
// under both engines' limits.
const pointChunk = 500

// UpsertPoints writes points, replacing the value of a day that has one.
// Each point's day must be unique within ps.
func (tx *Tx) UpsertPoints(ctx context.Context, metricID int64, ps []northstar.MetricPoint) error {
	for start := 0; start < len(ps); start += pointChunk {
		chunk := ps[start:min(start+pointChunk, len(ps))]
		var b strings.Builder
		b.WriteString("INSERT INTO metric_points (metric_id, day, value, updated_at) VALUES ")
		args := make([]any, 0, 4*len(chunk))
		for i, p := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, metricID, dayNumber(p.Date.Time), p.Value, tx.Now)
		}
		b.WriteString(" ON CONFLICT (metric_id, day) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
		if _, err := tx.exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("upsert points: %w", err)
		}
	}
	return nil
}

// FindPoints returns a metric's points from from to to (zero: unbounded),
// oldest first.
func (tx *Tx) FindPoints(ctx context.Context, metricID int64, from, to time.Time) ([]northstar.MetricPoint, error) {
	lo, hi := int64(-1<<30), int64(1<<30) // within INTEGER on both engines
	if !from.IsZero() {
		lo = dayNumber(from)
	}
	if !to.IsZero() {
		hi = dayNumber(to)
	}
	rows, err := tx.query(ctx, "SELECT day, value FROM metric_points WHERE metric_id = ? AND day BETWEEN ? AND ? ORDER BY day", metricID, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("find points: %w", err)
	}
	defer rows.Close()
	ps := []northstar.MetricPoint{}
	for rows.Next() {
		var d int64
		var p northstar.MetricPoint
		if err := rows.Scan(&d, &p.Value); err != nil {
			return nil, fmt.Errorf("find points: %w", err)
		}
		p.Date = dayDate(d)
		ps = append(ps, p)
	}
	return ps, rows.Err()
}
