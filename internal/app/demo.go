package app

import (
	"context"
	"fmt"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// DemoPassword is the password of every demo account. Demo data is for
// trying Northstar on one's own machine, never for a shared server.
const DemoPassword = "northstar-demo"

// DemoUser is a demo account and what it is for.
type DemoUser struct {
	Email string
	Name  string
	Role  string
}

// DemoUsers lists the demo accounts: one per role.
var DemoUsers = []DemoUser{
	{"admin@northstar.test", "Morgan Reyes", "org admin"},
	{"pm@northstar.test", "Priya Patel", "product manager"},
	{"po@northstar.test", "Oliver Chen", "product owner"},
	{"dev@northstar.test", "Dana Kim", "developer"},
	{"stakeholder@northstar.test", "Sam Rivera", "stakeholder (sales)"},
	{"viewer@northstar.test", "Vic Larsen", "viewer (marketing)"},
}

type demoProduct struct {
	product northstar.Product
	members map[string]northstar.Role
	history []northstar.StageChange // From/To/Note/At; actor is the PM
}

func demoProducts(now time.Time) []demoProduct {
	month := func(n int) time.Time { return now.AddDate(0, -n, 0) }
	return []demoProduct{
		{
			product: northstar.Product{
				Key: "BOOK", Name: "Book inventory", Stage: northstar.StageGrowth, CreatedAt: month(34),
				Description: "Stock, orders and shelf locations for independent bookshops.",
				Vision: `## For independent bookshops that lose sales to empty shelves

**Book inventory** tells a shop owner what is on the shelf, what is on order and what will sell out next week — from the till, the back office or a phone on the shop floor.

- *Who:* owners and staff of shops with 2,000–50,000 titles and no IT department.
- *Problem:* stock lives in spreadsheets and the distributor's portal; bestsellers run out and slow titles sit for a year.
- *Why we win:* set up in an afternoon from the distributor's catalogue, barcode scanning on any phone, reorder suggestions from the shop's own sales.

North-star metric: **titles sold that were in stock when the customer asked**.`,
			},
			members: map[string]northstar.Role{
				"pm@northstar.test": northstar.RoleProductManager, "po@northstar.test": northstar.RoleProductOwner,
				"dev@northstar.test": northstar.RoleDeveloper, "stakeholder@northstar.test": northstar.RoleStakeholder,
				"viewer@northstar.test": northstar.RoleViewer,
			},
			history: []northstar.StageChange{
				{To: northstar.StageConceived, Note: "Idea from twelve interviews with shop owners at the booksellers' fair.", At: month(34)},
				{From: northstar.StageConceived, To: northstar.StageDevelopment, Note: "Funded after the prototype test with three pilot shops.", At: month(30)},
				{From: northstar.StageDevelopment, To: northstar.StageIntroduction, Note: "MVP launched: catalogue import, barcode scanning, stock counts.", At: month(22)},
				{From: northstar.StageIntroduction, To: northstar.StageGrowth, Note: "120 paying shops, 9 % month-on-month growth; reorder suggestions shipped.", At: month(14)},
			},
		},
		{
			product: northstar.Product{
				Key: "EBOOK", Name: "Ebook subscription", Stage: northstar.StageDevelopment, CreatedAt: month(5),
				Description: "Unlimited ebooks on demand for a monthly fee, read in the browser or the app.",
				Vision: `## Reading without buying every book

An **on-demand ebook subscription**: one monthly price, a catalogue from independent publishers, reading on any device with progress kept in sync.

1. Readers who finish more than two books a month and find buying each one too dear.
2. Independent publishers who want readers without giving their margin to one giant store.

We are building the MVP: catalogue, reader, subscription billing. Success in the first quarter after launch is **1,000 subscribers reading at least one book a month**.`,
			},
			members: map[string]northstar.Role{
				"pm@northstar.test": northstar.RoleProductManager, "po@northstar.test": northstar.RoleProductOwner,
				"dev@northstar.test": northstar.RoleDeveloper, "viewer@northstar.test": northstar.RoleViewer,
			},
			history: []northstar.StageChange{
				{To: northstar.StageConceived, Note: "Publishers at the fair asked for a subscription channel.", At: month(5)},
				{From: northstar.StageConceived, To: northstar.StageDevelopment, Note: "Go decision: MVP with two launch publishers.", At: month(2)},
			},
		},
	}
}

// SeedDemo fills an empty database with the demo organization: one account
// per role, two products with their history, and their work (see
// seedDemoWork). It does nothing and
// returns false when the database already has users. progress reports each
// step.
func (a *App) SeedDemo(ctx context.Context, progress func(step string)) (bool, error) {
	return a.seedDemo(ctx, progress, true)
}

// SeedDemoAccounts is SeedDemo without the work: the accounts and the two
// products with their history, for trying first steps on empty products.
func (a *App) SeedDemoAccounts(ctx context.Context, progress func(step string)) (bool, error) {
	return a.seedDemo(ctx, progress, false)
}

func (a *App) seedDemo(ctx context.Context, progress func(step string), work bool) (bool, error) {
	if progress == nil {
		progress = func(string) {}
	}
	empty, err := a.NeedsFirstUser(ctx)
	if err != nil || !empty {
		return false, err
	}
	progress("hashing demo passwords")
	hash := a.hasher.hash(DemoPassword)
	users := map[string]*northstar.User{}
	err = a.db.Update(ctx, func(tx *store.Tx) error {
		// Check again inside the transaction: another server may have
		// seeded in the meantime.
		if n, err := tx.CountUsers(ctx); err != nil || n > 0 {
			if err == nil {
				err = errAlreadySeeded
			}
			return err
		}
		for i, du := range DemoUsers {
			progress(fmt.Sprintf("user %d/%d: %s", i+1, len(DemoUsers), du.Email))
			u := &northstar.User{Email: du.Email, Name: du.Name, Admin: i == 0}
			if err := tx.CreateUser(ctx, u, hash); err != nil {
				return err
			}
			users[du.Email] = u
		}
		pm := users["pm@northstar.test"]
		for _, dp := range demoProducts(tx.Now) {
			progress("product " + dp.product.Key)
			p := dp.product
			if err := tx.CreateProduct(ctx, &p, pm.ID); err != nil {
				return err
			}
			for email, role := range dp.members {
				if err := tx.SetMember(ctx, p.ID, users[email].ID, role); err != nil {
					return err
				}
			}
			for _, c := range dp.history {
				c.ActorID = pm.ID
				if err := tx.AddStageChange(ctx, p.ID, &c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == errAlreadySeeded {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("seed demo data: %w", err)
	}
	if !work {
		return true, nil
	}
	if err := a.seedDemoWork(ctx, users, progress); err != nil {
		return false, fmt.Errorf("seed demo work: %w", err)
	}
	return true, nil
}

var errAlreadySeeded = fmt.Errorf("already seeded")
