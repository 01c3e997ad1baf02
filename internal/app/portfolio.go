package app

// Portfolio views across the products a person may read.

import (
	"context"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// insightDays is how much of each product's metric the stage board reads
// for its suggestion: two 12-week windows after a 4-week smoothing, and
// some weeks before them to see whether a flat curve rose first.
const insightDays = 250

// Portfolio returns the stage board (with the stage each product's first
// higher-is-better metric suggests), the roadmap features and coming
// releases of every product and the company objectives with their roll-up.
func (a *App) Portfolio(ctx context.Context) (*northstar.Portfolio, error) {
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	pf := &northstar.Portfolio{Roadmap: []*northstar.PortfolioFeature{}, Releases: []*northstar.Release{}}
	err = a.db.View(ctx, func(tx *store.Tx) error {
		ps, err := tx.FindProducts(ctx, user, northstar.ProductFilter{})
		if err != nil {
			return err
		}
		points, err := tx.FindRecentUpWeeks(ctx, tx.Now.AddDate(0, 0, -insightDays))
		if err != nil {
			return err
		}
		readable := map[string]bool{}
		var items []*northstar.PortfolioProduct
		for _, p := range ps {
			readable[p.Key] = true
			it := &northstar.PortfolioProduct{Key: p.Key, Name: p.Name, Stage: p.Stage}
			if pts := points[p.ID]; len(pts) > 0 {
				s := northstar.SuggestStage(pts, northstar.HigherIsBetter, p.Stage)
				it.Suggestion, it.Disagrees = s.Stage, s.Disagrees
			}
			items = append(items, it)
		}
		pf.Board = northstar.NewStageBoard(items)
		fs, err := tx.FindPortfolioFeatures(ctx)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if readable[f.ProductKey] {
				pf.Roadmap = append(pf.Roadmap, f)
			}
		}
		rs, err := tx.FindPortfolioReleases(ctx)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if readable[r.ProductKey] {
				pf.Releases = append(pf.Releases, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if pf.Objectives, err = a.Objectives(ctx, ""); err != nil {
		return nil, err
	}
	return pf, nil
}

// Shipped returns what shipped in the month (like 2026-11; "" for this
// month) across the products the current user may read, with its
// Markdown for a newsletter.
func (a *App) Shipped(ctx context.Context, month string) (*northstar.ShippedDigest, error) {
	m, err := northstar.ParseMonth(month, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var all []*northstar.ShippedFeature
	err = a.db.View(ctx, func(tx *store.Tx) error {
		ps, err := tx.FindProducts(ctx, user, northstar.ProductFilter{IncludeArchived: true})
		if err != nil {
			return err
		}
		readable := map[string]bool{}
		for _, p := range ps {
			readable[p.Key] = true
		}
		fs, err := tx.FindShipped(ctx)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if readable[f.ProductKey] {
				all = append(all, f)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return northstar.NewShippedDigest(m, all), nil
}
