package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

func TestMigrateTwiceAppliesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		n, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("second migrate applied %d migrations, want 0", n)
		}
		ms, err := db.Migrations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.AppliedAt == nil {
				t.Errorf("migration %d %s not applied", m.Version, m.Name)
			}
		}
	})
}

func mustUser(t *testing.T, db *store.DB, email string) *northstar.User {
	t.Helper()
	u := &northstar.User{Email: email, Name: email}
	if err := db.Update(context.Background(), func(tx *store.Tx) error { return tx.CreateUser(context.Background(), u, "x") }); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestProductRoundTripAndVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "pm@example.com")
		p := &northstar.Product{Key: "BOOK", Name: "Books", Stage: northstar.StageGrowth, Vision: "Ünïcode ✓"}
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.CreateProduct(ctx, p, u.ID); err != nil {
				return err
			}
			return tx.SetMember(ctx, p.ID, u.ID, northstar.RoleProductManager)
		})
		if err != nil {
			t.Fatal(err)
		}
		var got *northstar.Product
		db.View(ctx, func(tx *store.Tx) error {
			got, err = tx.FindProductByKey(ctx, "BOOK")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Books" || got.Stage != northstar.StageGrowth || got.Version != 1 || got.Vision != p.Vision {
			t.Errorf("got %+v", got)
		}
		if d := got.CreatedAt.Sub(p.CreatedAt); d != 0 {
			t.Errorf("created_at round trip differs by %v: %v vs %v", d, got.CreatedAt, p.CreatedAt)
		}

		// A stale version is a conflict and writes nothing.
		stale := *got
		got.Name = "Book inventory"
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateProduct(ctx, got) }); err != nil {
			t.Fatal(err)
		}
		stale.Name = "Lost update"
		err = db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateProduct(ctx, &stale) })
		if northstar.ErrorCode(err) != northstar.ECONFLICT {
			t.Fatalf("stale update: got %v, want conflict", err)
		}

		// Duplicate keys are reported as such.
		dup := &northstar.Product{Key: "BOOK", Name: "Again", Stage: northstar.StageConceived}
		err = db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProduct(ctx, dup, u.ID) })
		if !store.IsDuplicate(err) {
			t.Fatalf("duplicate key: got %v, want duplicate", err)
		}

		ps, err := listProducts(db, u)
		if err != nil || len(ps) != 1 || ps[0].Name != "Book inventory" || ps[0].Role != northstar.RoleProductManager {
			t.Fatalf("list: %v %+v", err, ps)
		}
	})
}

func listProducts(db *store.DB, u *northstar.User) (ps []*northstar.Product, err error) {
	ctx := context.Background()
	err = db.View(ctx, func(tx *store.Tx) error {
		ps, err = tx.FindProducts(ctx, u, northstar.ProductFilter{})
		return err
	})
	return ps, err
}

func TestStageHistoryIsAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "pm@example.com")
		p := &northstar.Product{Key: "EBOOK", Name: "Ebooks", Stage: northstar.StageConceived}
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.CreateProduct(ctx, p, u.ID); err != nil {
				return err
			}
			return tx.AddStageChange(ctx, p.ID, &northstar.StageChange{To: northstar.StageConceived, ActorID: u.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecForTest(ctx, "UPDATE product_stages SET note = 'rewritten'")
			return err
		})
		if err == nil {
			t.Fatal("updating the stage history succeeded; it must be refused")
		}
	})
}

func TestForeignKeysAreEnforced(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Update(ctx, func(tx *store.Tx) error {
			return tx.SetMember(ctx, 999, 999, northstar.RoleViewer)
		})
		if northstar.ErrorCode(err) != northstar.EUNPROCESSABLE {
			t.Fatalf("member of missing product: got %v, want a reference error", err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "a@example.com")
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.CreateSession(ctx, &northstar.Session{UserID: u.ID, ExpiresAt: tx.Now.Add(time.Hour)}, "live"); err != nil {
				return err
			}
			return tx.CreateSession(ctx, &northstar.Session{UserID: u.ID, ExpiresAt: tx.Now.Add(-time.Second)}, "dead")
		})
		if err != nil {
			t.Fatal(err)
		}
		db.View(ctx, func(tx *store.Tx) error {
			if _, err := tx.FindSession(ctx, "live"); err != nil {
				t.Errorf("live session: %v", err)
			}
			if _, err := tx.FindSession(ctx, "dead"); northstar.ErrorCode(err) != northstar.ENOTFOUND {
				t.Errorf("expired session: got %v, want not found", err)
			}
			return nil
		})
	})
}

// TestGroupedWritesFailAlone runs many concurrent writes, a third of which
// fail after writing: the failing ones leave nothing behind and the others
// all commit, whether or not they shared a transaction.
func TestGroupedWritesFailAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mustUser(t, db, "pm@example.com")
		const n = 60
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			go func(i int) {
				errs <- db.Update(ctx, func(tx *store.Tx) error {
					p := &northstar.Product{Key: fmt.Sprintf("P%d", i), Name: "x", Stage: northstar.StageConceived}
					if err := tx.CreateProduct(ctx, p, u.ID); err != nil {
						return err
					}
					if i%3 == 0 {
						return fmt.Errorf("write %d fails after writing", i)
					}
					return nil
				})
			}(i)
		}
		failed := 0
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				failed++
			}
		}
		if failed != n/3 {
			t.Errorf("%d writes failed, want %d", failed, n/3)
		}
		ps, err := listProducts(db, &northstar.User{ID: u.ID, Admin: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != n-n/3 {
			t.Errorf("%d products stored, want %d", len(ps), n-n/3)
		}
		for _, p := range ps {
			var i int
			fmt.Sscanf(p.Key, "P%d", &i)
			if i%3 == 0 {
				t.Errorf("product %s of a failed write was stored", p.Key)
			}
		}
	})
}

// TestWriteAfterCancelledContext checks that a write whose caller has gone
// away is not run, and that the writer goes on serving others.
func TestWriteAfterCancelledContext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		err := db.Update(ctx, func(tx *store.Tx) error { ran = true; return nil })
		if err == nil || ran {
			t.Errorf("cancelled write: err=%v ran=%v", err, ran)
		}
		mustUser(t, db, "after@example.com")
	})
}

func TestActivityIsAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Update(ctx, func(tx *store.Tx) error {
			return tx.AddActivity(ctx, &northstar.Activity{ItemKind: "story", ItemID: 1, ItemRef: "BOOK-1", Action: "created"})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"UPDATE activity SET actor = 'forged'", "DELETE FROM activity"} {
			err := db.Update(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecForTest(ctx, q)
				return err
			})
			if err == nil {
				t.Errorf("%s succeeded; the log must be append-only", q)
			}
		}
	})
}
