package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
)

// Bus carries committed changes to the live pages (server-sent events) of
// this process. With PostgreSQL, changes made by other processes arrive
// through LISTEN/NOTIFY and are published here too.
type Bus struct {
	mu   sync.RWMutex
	subs map[*Subscription]struct{}
}

// Subscription receives the changes its filter accepts. Its channel is
// buffered; a subscriber too slow to keep up loses changes rather than
// slowing everyone down, and learns it through Dropped.
type Subscription struct {
	C       chan *northstar.Activity
	filter  func(*northstar.Activity) bool
	mu      sync.Mutex
	dropped int
}

// Dropped returns how many changes the subscriber missed, and resets it.
func (s *Subscription) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.dropped
	s.dropped = 0
	return n
}

func newBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscribe starts receiving changes; call Unsubscribe when done.
func (b *Bus) Subscribe(filter func(*northstar.Activity) bool) *Subscription {
	s := &Subscription{C: make(chan *northstar.Activity, 64), filter: filter}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Unsubscribe stops a subscription.
func (b *Bus) Unsubscribe(s *Subscription) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

// Subscribers counts the live subscriptions.
func (b *Bus) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs)
}

// Publish hands a change to every subscriber that wants it, without
// waiting on any of them.
func (b *Bus) Publish(a *northstar.Activity) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		if s.filter != nil && !s.filter(a) {
			continue
		}
		select {
		case s.C <- a:
		default:
			s.mu.Lock()
			s.dropped++
			s.mu.Unlock()
		}
	}
}

// newOrigin names an app in the events it sends to other servers, so
// that it does not publish its own changes twice.
func newOrigin() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Events returns the app's change bus.
func (a *App) Events() *Bus { return a.bus }

// ListenForEvents publishes the changes other server processes make, until
// ctx ends (PostgreSQL; on SQLite it returns at once).
func (a *App) ListenForEvents(ctx context.Context) {
	a.db.Listen(ctx, store.EventChannel, func(payload string) {
		from, idText, ok := strings.Cut(payload, ":")
		if !ok || from == a.origin {
			return
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return
		}
		var act *northstar.Activity
		err = a.db.View(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			act, err = tx.FindActivity(ctx, id)
			return err
		})
		if err != nil {
			a.log.Warn("load event from another server", "id", id, "err", err)
			return
		}
		a.bus.Publish(act)
	}, a.log)
}

// change describes a change to record: the item, what was done, and the
// item before and after (before nil for a creation, after nil for a
// deletion) from which the field-by-field diff is made.
type change struct {
	productID  int64
	productKey string
	kind       string
	itemID     int64
	ref        string
	action     string
	before     any
	after      any
	// assignee, mentioned and extra watchers say who else to notify.
	assignee  *northstar.UserRef
	mentioned []int64
	watchers  []int64 // made watchers of the item (creator, assignee, commenter)
	// members notifies every member of the product (stage changes).
	members bool
	// skipDiff records no field changes (comments, moves).
	skipDiff bool
	// quiet tells no watchers (backlog reordering).
	quiet   bool
	changes []northstar.FieldChange
}

// record appends a change to the activity log, notifies the people it
// concerns, queues it for the product's webhooks and, once the
// transaction commits, announces it to live pages on every server. Every
// use case that changes something calls it in its transaction.
func (a *App) record(ctx context.Context, tx *store.Tx, user *northstar.User, c change) (*northstar.Activity, error) {
	act := &northstar.Activity{ProductID: c.productID, ProductKey: c.productKey, ItemKind: c.kind, ItemID: c.itemID, ItemRef: c.ref, Action: c.action, Changes: c.changes}
	if user != nil {
		act.ActorID, act.Actor = user.ID, user.Name
	}
	if !c.skipDiff && act.Changes == nil {
		act.Changes = northstar.Diff(c.before, c.after)
		if c.action == "updated" && len(act.Changes) == 0 {
			return nil, nil // nothing a reader would see changed
		}
	}
	if act.Changes == nil {
		act.Changes = []northstar.FieldChange{}
	}
	if err := tx.AddActivity(ctx, act); err != nil {
		return nil, err
	}
	actor := act.ActorID
	for _, w := range c.watchers {
		if err := tx.AutoWatch(ctx, w, c.kind, c.itemID); err != nil {
			return nil, err
		}
	}
	// Each person is told once, for the strongest reason.
	told := map[int64]bool{actor: true}
	notify := func(userID int64, reason string) error {
		if userID == 0 || told[userID] {
			return nil
		}
		told[userID] = true
		return tx.AddNotification(ctx, userID, act.ID, reason)
	}
	for _, id := range c.mentioned {
		if err := notify(id, northstar.ReasonMention); err != nil {
			return nil, err
		}
	}
	if c.assignee != nil {
		if err := notify(c.assignee.ID, northstar.ReasonAssigned); err != nil {
			return nil, err
		}
	}
	if c.members && c.productID != 0 {
		ids, err := tx.ProductMemberIDs(ctx, c.productID)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if err := notify(id, northstar.ReasonStage); err != nil {
				return nil, err
			}
		}
	}
	if !c.quiet {
		watchers, err := tx.Watchers(ctx, c.kind, c.itemID)
		if err != nil {
			return nil, err
		}
		for _, id := range watchers {
			if err := notify(id, northstar.ReasonWatching); err != nil {
				return nil, err
			}
		}
	}
	if c.productID != 0 {
		if err := a.queueWebhooks(ctx, tx, act); err != nil {
			return nil, err
		}
	}
	if err := tx.Notify(ctx, store.EventChannel, a.origin+":"+fmt.Sprint(act.ID)); err != nil {
		return nil, err
	}
	tx.AfterCommit(func() {
		a.bus.Publish(act)
		a.wakeWebhooks()
	})
	return act, nil
}
