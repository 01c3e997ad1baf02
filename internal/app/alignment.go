package app

// Strategy alignment: the share of delivered and planned points that
// serves an objective through its feature, for a product and for the
// company, and the orphan work that serves none.

import (
	"context"
	"fmt"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

func alignmentSprints(n int) (int, error) {
	if n == 0 {
		return northstar.DefaultAlignmentSprints, nil
	}
	if n < 1 || n > northstar.MaxAlignmentSprints {
		return 0, northstar.FieldError("sprints", "sprints must be between 1 and %d.", northstar.MaxAlignmentSprints)
	}
	return n, nil
}

// ProductAlignment computes a product's alignment over the last n closed
// sprints of each team working on it (0: the default) and their active
// and next sprints. Every member may read it.
func (a *App) ProductAlignment(ctx context.Context, key string, n int) (*northstar.Alignment, error) {
	n, err := alignmentSprints(n)
	if err != nil {
		return nil, err
	}
	var al *northstar.Alignment
	err = a.db.View(ctx, func(tx *store.Tx) error {
		_, p, err := authorize(ctx, tx, normalizeKey(key), northstar.ActionRead)
		if err != nil {
			return err
		}
		all, err := tx.FindAlignmentSprints(ctx, p.ID)
		if err != nil {
			return err
		}
		closed, upcoming := northstar.PickAlignmentSprints(all, n)
		items, err := tx.FindAlignmentItems(ctx, p.ID, append(append([]*northstar.AlignmentSprint{}, closed...), upcoming...))
		if err != nil {
			return err
		}
		al = northstar.ComputeAlignment(p.Key, n, closed, upcoming, nameSprints(items, closed, upcoming))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("alignment of %s: %w", key, err)
	}
	return al, nil
}

// CompanyAlignment computes the alignment across every product the
// current user may read, over the last n closed sprints of every team.
// Sprints with none of those products' stories are left out.
func (a *App) CompanyAlignment(ctx context.Context, n int) (*northstar.Alignment, error) {
	n, err := alignmentSprints(n)
	if err != nil {
		return nil, err
	}
	user, err := currentUser(ctx)
	if err != nil {
		return nil, err
	}
	var al *northstar.Alignment
	err = a.db.View(ctx, func(tx *store.Tx) error {
		ps, err := tx.FindProducts(ctx, user, northstar.ProductFilter{IncludeArchived: true})
		if err != nil {
			return err
		}
		readable := map[string]bool{}
		for _, p := range ps {
			readable[p.Key] = true
		}
		all, err := tx.FindAlignmentSprints(ctx, 0)
		if err != nil {
			return err
		}
		closed, upcoming := northstar.PickAlignmentSprints(all, n)
		items, err := tx.FindAlignmentItems(ctx, 0, append(append([]*northstar.AlignmentSprint{}, closed...), upcoming...))
		if err != nil {
			return err
		}
		kept := items[:0]
		used := map[int64]bool{}
		for _, it := range items {
			if readable[it.ProductKey] {
				kept = append(kept, it)
				used[it.SprintID] = true
			}
		}
		keep := func(ss []*northstar.AlignmentSprint) []*northstar.AlignmentSprint {
			out := []*northstar.AlignmentSprint{}
			for _, s := range ss {
				if used[s.ID] {
					out = append(out, s)
				}
			}
			return out
		}
		closed, upcoming = keep(closed), keep(upcoming)
		al = northstar.ComputeAlignment("", n, closed, upcoming, nameSprints(kept, closed, upcoming))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("company alignment: %w", err)
	}
	return al, nil
}

// nameSprints fills in each item's sprint name.
func nameSprints(items []*northstar.AlignmentItem, lists ...[]*northstar.AlignmentSprint) []*northstar.AlignmentItem {
	names := map[int64]string{}
	for _, l := range lists {
		for _, s := range l {
			names[s.ID] = s.Name
		}
	}
	for _, it := range items {
		it.Sprint = names[it.SprintID]
	}
	return items
}
