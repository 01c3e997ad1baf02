package app

// Product metrics: definitions, daily points recorded by hand, by CSV
// upload or by a daily job through the API, and the lifecycle insight read
// from a series. The insight is advice; the stage changes only through
// ChangeStage.

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// MaxMetricCSVRows bounds a CSV upload: ten years of daily values and
// some.
const MaxMetricCSVRows = 5000

// Metrics lists a product's metrics.
func (a *App) Metrics(ctx context.Context, key string) ([]*northstar.Metric, error) {
	return readProduct(ctx, a, key, func(tx *store.Tx, p *northstar.Product) ([]*northstar.Metric, error) {
		return tx.FindMetrics(ctx, p.ID)
	})
}

// CreateMetric defines a metric for a product; product managers may.
func (a *App) CreateMetric(ctx context.Context, key string, in northstar.MetricInput) (*northstar.Metric, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	key = normalizeKey(key)
	m := &northstar.Metric{Key: in.Key, Name: in.Name, Unit: in.Unit, Direction: in.Direction, Description: in.Description}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		user, p, err := authorize(ctx, tx, key, northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		if n, err := tx.CountMetrics(ctx, p.ID); err != nil {
			return err
		} else if n >= northstar.MaxMetrics {
			return northstar.Errorf(northstar.EUNPROCESSABLE, "A product has at most %d metrics.", northstar.MaxMetrics)
		}
		m.ProductID, m.ProductKey = p.ID, p.Key
		if err := tx.CreateMetric(ctx, m, user.ID); err != nil {
			if store.IsDuplicate(err) {
				return &northstar.Error{Code: northstar.ECONFLICT, Field: "key", Message: fmt.Sprintf("%s already has a metric %q.", p.Key, m.Key)}
			}
			return err
		}
		c := productChange(p, "metric_defined", nil, nil)
		c.skipDiff, c.quiet = true, true
		c.changes = []northstar.FieldChange{{Field: "metric", New: m.Name}}
		_, err = a.record(ctx, tx, user, c)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create metric: %w", err)
	}
	return m, nil
}

// RecordPoints records a batch of points (as a client sends them) for a
// metric: all or nothing. Rows are counted from 1 in messages; a repeated
// day keeps the later value and a day that already has a value is
// replaced, and the result says so.
func (a *App) RecordPoints(ctx context.Context, key, metric string, in []northstar.PointInput) (*northstar.PointsResult, error) {
	if len(in) == 0 {
		return nil, northstar.FieldError("points", "Send at least one point.")
	}
	if len(in) > northstar.MaxPointsPerBatch {
		return nil, northstar.FieldError("points", "Send at most %d points at once (got %d).", northstar.MaxPointsPerBatch, len(in))
	}
	today := pointsToday()
	var errs []northstar.RowError
	ps := make([]northstar.MetricPoint, 0, len(in))
	for i, p := range in {
		if p.Value == nil {
			errs = append(errs, northstar.RowError{Row: i + 1, Field: "value", Message: fmt.Sprintf("row %d: value is required", i+1)})
			continue
		}
		pt, rerr := northstar.CheckPoint(i+1, p.Date, *p.Value, today)
		if rerr != nil {
			errs = append(errs, *rerr)
			continue
		}
		ps = append(ps, pt)
	}
	if err := northstar.RowErrors(errs, func(e northstar.RowError) string { return fmt.Sprintf("points.%d.%s", e.Row-1, e.Field) }); err != nil {
		return nil, err
	}
	return a.writePoints(ctx, key, metric, ps, 1)
}

// ImportMetricCSV records the points of a CSV file of date,value rows,
// all or nothing. A first row that is not a date is a header; a header
// "value (EUR)" or a third column "unit" must name the metric's unit.
// Errors name the file's row (the header is row 1).
func (a *App) ImportMetricCSV(ctx context.Context, key, metric string, r io.Reader) (*northstar.PointsResult, error) {
	// The unit check needs the metric before the rows.
	var unit string
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		m, err := tx.FindMetric(ctx, p.ID, metric)
		if err != nil {
			return err
		}
		unit = m.Unit
		return nil
	})
	if err != nil {
		return nil, err
	}
	ps, first, err := parseMetricCSV(r, unit, pointsToday())
	if err != nil {
		return nil, err
	}
	return a.writePoints(ctx, key, metric, ps, first)
}

// pointsToday is the latest day a point may have: today where the day
// begins first (UTC+14), so nobody's today is refused as the future.
func pointsToday() time.Time { return time.Now().UTC().Add(14 * time.Hour) }

// parseMetricCSV reads date,value[,unit] rows; it returns the points and
// the file row of the first point.
func parseMetricCSV(r io.Reader, unit string, today time.Time) ([]northstar.MetricPoint, int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	rowField := func(e northstar.RowError) string { return fmt.Sprintf("row %d.%s", e.Row, e.Field) }
	var (
		ps      []northstar.MetricPoint
		errs    []northstar.RowError
		row     int
		first   = 1
		unitCol = -1
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		row++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				row = pe.Line
			}
			errs = append(errs, northstar.RowError{Row: row, Field: "csv", Message: fmt.Sprintf("row %d: not valid CSV", row)})
			break
		}
		if row > MaxMetricCSVRows+1 {
			return nil, 0, northstar.FieldError("file", "A CSV file holds at most %d rows; split it.", MaxMetricCSVRows)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if row == 1 && len(rec) > 0 {
			if _, err := time.Parse(northstar.DateLayout, strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))); err != nil {
				first = 2
				for i, h := range rec {
					h = strings.ToLower(strings.TrimSpace(h))
					if i == 2 && h == "unit" {
						unitCol = 2
					}
					if i == 1 {
						if u := headerUnit(h); u != "" && !strings.EqualFold(u, unit) {
							errs = append(errs, northstar.RowError{Row: 1, Field: "unit", Message: fmt.Sprintf("row 1: the file's unit %q is not the metric's unit %q", u, unit)})
						}
					}
				}
				continue
			}
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
		}
		if len(rec) < 2 {
			errs = append(errs, northstar.RowError{Row: row, Field: "value", Message: fmt.Sprintf("row %d: expected date,value", row)})
			continue
		}
		if unitCol >= 0 && len(rec) > unitCol {
			if u := strings.TrimSpace(rec[unitCol]); u != "" && !strings.EqualFold(u, unit) {
				errs = append(errs, northstar.RowError{Row: row, Field: "unit", Message: fmt.Sprintf("row %d: unit %q is not the metric's unit %q", row, clipText(u, 20), unit)})
				continue
			}
		}
		raw := strings.TrimSpace(rec[1])
		v, perr := strconv.ParseFloat(raw, 64)
		if perr != nil {
			errs = append(errs, northstar.RowError{Row: row, Field: "value", Message: fmt.Sprintf("row %d: value %q is not a number", row, clipText(raw, 30))})
			continue
		}
		p, rerr := northstar.CheckPoint(row, rec[0], v, today)
		if rerr != nil {
			errs = append(errs, *rerr)
			continue
		}
		ps = append(ps, p)
	}
	if err := northstar.RowErrors(errs, rowField); err != nil {
		return nil, 0, err
	}
	if len(ps) == 0 {
		return nil, 0, northstar.FieldError("file", "The file has no date,value rows.")
	}
	return ps, first, nil
}

// headerUnit finds a unit in a value column's header: "value (EUR)",
// "sales [units]".
func headerUnit(h string) string {
	for _, br := range []string{"()", "[]"} {
		i, j := strings.IndexByte(h, br[0]), strings.LastIndexByte(h, br[1])
		if i >= 0 && j > i {
			return strings.TrimSpace(h[i+1 : j])
		}
	}
	return ""
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// writePoints upserts checked points in one transaction.
func (a *App) writePoints(ctx context.Context, key, metric string, ps []northstar.MetricPoint, firstRow int) (*northstar.PointsResult, error) {
	ps, notes := northstar.DedupePoints(ps, firstRow)
	res := &northstar.PointsResult{Metric: metric, Notes: notes}
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionManageProduct)
		if err != nil {
			return err
		}
		m, err := tx.FindMetric(ctx, p.ID, metric)
		if err != nil {
			return err
		}
		have, err := tx.ExistingPointDays(ctx, m.ID, ps)
		if err != nil {
			return err
		}
		res.Inserted, res.Updated = len(ps), 0
		var replaced []string
		for _, pt := range ps {
			if have[pt.Date.Time] {
				res.Updated++
				if len(replaced) < 5 {
					replaced = append(replaced, pt.Date.String())
				}
			}
		}
		res.Inserted -= res.Updated
		if res.Updated > 0 {
			more := ""
			if res.Updated > len(replaced) {
				more = fmt.Sprintf(" and %d more", res.Updated-len(replaced))
			}
			res.Notes = append(res.Notes, fmt.Sprintf("%d day(s) already had a value and were updated: %s%s", res.Updated, strings.Join(replaced, ", "), more))
		}
		return tx.UpsertPoints(ctx, m.ID, ps)
	})
	if err != nil {
		return nil, fmt.Errorf("record points: %w", err)
	}
	if res.Notes == nil {
		res.Notes = []string{}
	}
	return res, nil
}

// MetricSeries is a metric with its points, the product's lifecycle
// history to shade behind them, and the stage the curve suggests.
type MetricSeries struct {
	Metric     *northstar.Metric          `json:"metric"`
	Points     []northstar.MetricPoint    `json:"points"`
	Stages     []*northstar.StageChange   `json:"stages"`
	Suggestion *northstar.StageSuggestion `json:"suggestion"`
	Product    *northstar.Product         `json:"-"`
	Periods    []northstar.StagePeriod    `json:"-"`
}

// Series returns a metric's points from from to to (zero: all) with the
// lifecycle suggestion read from the whole series.
func (a *App) Series(ctx context.Context, key, metric string, from, to time.Time) (*MetricSeries, error) {
	s := &MetricSeries{}
	err := a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		s.Product = p
		if s.Metric, err = tx.FindMetric(ctx, p.ID, metric); err != nil {
			return err
		}
		all, err := tx.FindPoints(ctx, s.Metric.ID, time.Time{}, time.Time{})
		if err != nil {
			return err
		}
		s.Suggestion = northstar.SuggestStage(all, s.Metric.Direction, p.Stage)
		s.Points = all
		if !from.IsZero() || !to.IsZero() {
			s.Points = []northstar.MetricPoint{}
			for _, pt := range all {
				if (from.IsZero() || !pt.Date.Before(from)) && (to.IsZero() || !pt.Date.After(to)) {
					s.Points = append(s.Points, pt)
				}
			}
		}
		if s.Stages, err = tx.FindStageChanges(ctx, p.ID); err != nil {
			return err
		}
		s.Periods = northstar.StagePeriods(s.Stages)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}
