package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/northstar-pm/northstar/internal/mailtest"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

func TestCommentsMentionsAndNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po, dev := f.role(northstar.RoleProductOwner), f.role(northstar.RoleDeveloper)
		sub := f.app.Events().Subscribe(nil)
		defer f.app.Events().Unsubscribe(sub)
		s := f.story(t, "Scan a barcode")

		c, err := f.app.AddComment(dev, northstar.KindStory, s.Ref, "Should it beep? @product_owner and @viewer@example.com please look. <script>alert(1)</script>")
		if err != nil {
			t.Fatal(err)
		}
		if c.Author.Email != "developer@example.com" || c.Edited() {
			t.Errorf("comment = %+v", c)
		}
		// Mentioned people are told; the PO also created the story (watching).
		ns, unread, err := f.app.Notifications(po, false, 0, 10)
		if err != nil || unread != 1 || len(ns) != 1 || ns[0].Reason != northstar.ReasonMention || ns[0].Activity.ItemRef != s.Ref {
			t.Errorf("PO notifications: %d unread, %+v %v", unread, ns, err)
		}
		if _, n, _ := f.app.Notifications(f.role(northstar.RoleViewer), false, 0, 10); n != 1 {
			t.Errorf("viewer mentioned by full address got %d notifications", n)
		}
		if _, n, _ := f.app.Notifications(dev, false, 0, 10); n != 0 {
			t.Errorf("the author was notified of their own comment (%d)", n)
		}
		// The commenter now watches the story: the next change tells them.
		title := "Scan any barcode"
		if _, err := f.app.UpdateStory(po, s.Ref, 0, northstar.StoryUpdate{Title: &title}); err != nil {
			t.Fatal(err)
		}
		ns, _, _ = f.app.Notifications(dev, false, 0, 10)
		if len(ns) != 1 || ns[0].Reason != northstar.ReasonWatching || ns[0].Activity.Changes[0].Field != "title" {
			t.Errorf("developer watching: %+v", ns)
		}
		if n, err := f.app.MarkRead(dev, nil); err != nil || n != 1 {
			t.Errorf("mark read: %d %v", n, err)
		}
		if n, _ := f.app.UnreadCount(dev); n != 0 {
			t.Errorf("%d unread after marking all read", n)
		}
		// Unwatching stops it.
		if err := f.app.Watch(dev, northstar.KindStory, s.Ref, false); err != nil {
			t.Fatal(err)
		}
		title = "Scan every barcode"
		f.app.UpdateStory(po, s.Ref, 0, northstar.StoryUpdate{Title: &title})
		if n, _ := f.app.UnreadCount(dev); n != 0 {
			t.Errorf("unwatched story still notifies (%d)", n)
		}
		// Bad input writes nothing.
		if _, err := f.app.AddComment(dev, northstar.KindStory, s.Ref, "Hi @nobody"); northstar.ErrorField(err) != "body" {
			t.Errorf("mention of an unknown user: %v", err)
		}
		if _, err := f.app.AddComment(dev, northstar.KindStory, s.Ref, strings.Repeat("x", northstar.MaxCommentLen+1)); northstar.ErrorField(err) != "body" {
			t.Errorf("over-long comment: %v", err)
		}
		if _, err := f.app.AddComment(f.role(northstar.RoleViewer), northstar.KindStory, s.Ref, "hi"); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("viewer comments: %v", err)
		}
		if _, err := f.app.AddComment(f.as(f.other), northstar.KindStory, s.Ref, "hi"); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("outsider comments: %v", err)
		}
		cs, _ := f.app.Comments(po, northstar.KindStory, s.Ref, 0, 50)
		if len(cs) != 1 {
			t.Errorf("%d comments, want 1", len(cs))
		}
		// Edit within the window by the author only; delete by author or admin.
		if _, err := f.app.EditComment(po, c.ID, "mine now"); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("someone else edits: %v", err)
		}
		e, err := f.app.EditComment(dev, c.ID, "Should it beep, @product_owner?")
		if err != nil || !e.Edited() {
			t.Errorf("edit: %+v %v", e, err)
		}
		if err := f.app.DeleteComment(po, c.ID); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("PO deletes someone's comment: %v", err)
		}
		if err := f.app.DeleteComment(f.as(f.admin), c.ID); err != nil {
			t.Errorf("admin deletes: %v", err)
		}
		// The timeline has every change, newest first.
		acts, err := f.app.Activity(po, northstar.KindStory, s.Ref, northstar.ActivityFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range acts {
			actions = append(actions, a.Action)
		}
		if want := "comment_deleted comment_edited updated updated commented created"; strings.Join(actions, " ") != want {
			t.Errorf("timeline = %q, want %q", strings.Join(actions, " "), want)
		}
		feed, _ := f.app.Activity(po, "", "BOOK", northstar.ActivityFilter{Limit: 100, Kind: northstar.KindStory})
		if len(feed) != len(acts) {
			t.Errorf("product feed has %d story entries, the timeline %d", len(feed), len(acts))
		}
		// Live: every committed change reached the bus.
		got := 0
		for len(sub.C) > 0 {
			<-sub.C
			got++
		}
		if got < len(acts) {
			t.Errorf("bus carried %d events, want at least %d", got, len(acts))
		}
	})
}

func TestStageChangeNotifiesMembers(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	if _, err := f.app.ChangeStage(f.role(northstar.RoleProductManager), "BOOK", northstar.StageDevelopment, "Funded", 0); err != nil {
		t.Fatal(err)
	}
	for _, r := range northstar.Roles[1:] {
		ns, _, _ := f.app.Notifications(f.role(r), false, 0, 10)
		if len(ns) != 1 || ns[0].Reason != northstar.ReasonStage {
			t.Errorf("%s: %+v", r, ns)
		}
	}
	if _, n, _ := f.app.Notifications(f.as(f.other), false, 0, 10); n != 0 {
		t.Error("a non-member heard of the stage change")
	}
}

// TestWebhooks delivers signed events in order, retries while the receiver
// is down, refuses forbidden addresses and disables a hook that keeps
// failing.
func TestWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pm, po := f.role(northstar.RoleProductManager), f.role(northstar.RoleProductOwner)
		// Forbidden addresses first: private networks are refused by default.
		for _, u := range []string{"http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/latest"} {
			if _, _, err := f.app.CreateWebhook(pm, "BOOK", northstar.WebhookInput{URL: u}); northstar.ErrorField(err) != "url" {
				t.Errorf("webhook to %s: %v", u, err)
			}
		}
		if _, _, err := f.app.CreateWebhook(po, "BOOK", northstar.WebhookInput{URL: "https://example.com"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("PO adds a webhook: %v", err)
		}
		f.app.AllowPrivateWebhooks = true

		var mu sync.Mutex
		var got []string
		up := true
		var secret string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if !up {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			if r.Header.Get("X-Northstar-Signature") != Sign(secret, body) {
				t.Errorf("bad signature %q", r.Header.Get("X-Northstar-Signature"))
			}
			var p webhookPayload
			json.Unmarshal(body, &p)
			got = append(got, p.Event+" "+p.Item)
		}))
		defer recv.Close()
		w, sec, err := f.app.CreateWebhook(pm, "BOOK", northstar.WebhookInput{URL: recv.URL + "/hook", Events: []string{"story.*"}})
		if err != nil {
			t.Fatal(err)
		}
		secret = sec
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go f.app.RunWebhooks(ctx)

		mu.Lock()
		up = false
		mu.Unlock()
		for i := 1; i <= 5; i++ {
			f.story(t, fmt.Sprintf("Story %d", i))
		}
		f.app.AddFeedback(pm, "BOOK", northstar.FeedbackInput{Text: "not a story event"})
		time.Sleep(1500 * time.Millisecond) // a few failed attempts
		mu.Lock()
		up = true
		mu.Unlock()
		waitFor(t, 20*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) == 5
		})
		mu.Lock()
		for i, g := range got {
			if want := fmt.Sprintf("story.created BOOK-%d", i+1); g != want {
				t.Errorf("delivery %d = %q, want %q", i, g, want)
			}
		}
		mu.Unlock()
		// The receiver answers before the sender records the answer.
		var ds []*northstar.Delivery
		waitFor(t, 20*time.Second, func() bool {
			ds, err = f.app.Deliveries(pm, "BOOK", w.ID)
			return err == nil && len(ds) == 5 && !slices.ContainsFunc(ds, func(d *northstar.Delivery) bool { return d.Status != "delivered" })
		})
		if err != nil || len(ds) != 5 || ds[0].Status != "delivered" || *ds[0].ResponseCode != 200 {
			t.Fatalf("deliveries: %+v %v", ds, err)
		}
		if ds[4].Attempts < 2 {
			t.Errorf("the first delivery went through after %d attempts; the receiver was down", ds[4].Attempts)
		}
		// Redeliver puts a copy at the end of the queue.
		if err := f.app.Redeliver(pm, "BOOK", w.ID, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) == 6
		})
	})
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMailDigest sends one mail per user for a burst of notifications,
// through a local SMTP sink.
func TestMailDigest(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	sink := mailtest.Start(t)
	f.app.Mail = &MailConfig{Addr: sink.Addr, From: "northstar@example.com", BaseURL: "http://northstar.example"}
	po, dev := f.role(northstar.RoleProductOwner), f.role(northstar.RoleDeveloper)
	s := f.story(t, "Scan")
	for i := 0; i < 3; i++ {
		if _, err := f.app.AddComment(dev, northstar.KindStory, s.Ref, fmt.Sprintf("Note %d for @product_owner", i)); err != nil {
			t.Fatal(err)
		}
	}
	_ = po
	if err := f.app.SendMailDigests(context.Background(), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want one digest", len(msgs))
	}
	if !strings.Contains(msgs[0], "To: product_owner@example.com") || strings.Count(msgs[0], "commented") != 3 {
		t.Errorf("digest:\n%s", msgs[0])
	}
	// Nothing new: nothing sent.
	if err := f.app.SendMailDigests(context.Background(), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(sink.Messages()) != 1 {
		t.Error("a second digest repeated old notifications")
	}
}

// An idea sent on the public portal mails its author a link that
// confirms the address; following it verifies the idea once.
func TestPortalVerificationMail(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := newFixture(t, db)
	sink := mailtest.Start(t)
	f.app.Mail = &MailConfig{Addr: sink.Addr, From: "northstar@example.com", BaseURL: "http://northstar.example/"}
	if _, err := f.app.SetPortalSettings(f.role(northstar.RoleProductManager), "BOOK", northstar.PortalSettings{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	sub := northstar.PortalSubmission{Title: "Dark mode", Name: "Reader", Email: "reader@example.com"}
	if _, err := f.app.SubmitPortalIdea(context.Background(), "BOOK", sub, "10.1.1.1"); err != nil {
		t.Fatal(err)
	}
	var msg string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := sink.Messages(); len(m) > 0 {
			msg = m[0]
			break
		}
	}
	link := regexp.MustCompile(`http://northstar\.example/portal/verify/(pv_[A-Za-z0-9_-]+)`).FindStringSubmatch(msg)
	if link == nil || !strings.Contains(msg, "To: reader@example.com") {
		t.Fatalf("verification mail:\n%s", msg)
	}
	if err := f.app.VerifyPortalEmail(context.Background(), link[1]); err != nil {
		t.Fatalf("follow the link: %v", err)
	}
	if err := f.app.VerifyPortalEmail(context.Background(), link[1]); northstar.ErrorCode(err) != northstar.ENOTFOUND {
		t.Errorf("the link works twice: %v", err)
	}
}

// TestWebhookLeaseHeldThroughBatch: a server keeps a webhook's queue while
// it sends a batch that takes longer than one lease, so another server on
// the same database that looks at the queue meanwhile sends nothing
// twice.
func TestWebhookLeaseHeldThroughBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.app.AllowPrivateWebhooks = true
		f.app.WebhookClient = newWebhookClient(true)
		other := New(db, f.app.log) // a second server
		other.AllowPrivateWebhooks, other.WebhookClient = true, newWebhookClient(true)
		defer db.TravelTo(time.Time{})

		arrived, release := make(chan string), make(chan struct{})
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived <- r.Header.Get("X-Northstar-Delivery")
			<-release
		}))
		defer recv.Close()
		next := func(what string) string {
			t.Helper()
			select {
			case id := <-arrived:
				return id
			case <-time.After(10 * time.Second):
				t.Fatalf("no delivery within 10s: %s", what)
				return ""
			}
		}
		w, _, err := f.app.CreateWebhook(f.role(northstar.RoleProductManager), "BOOK", northstar.WebhookInput{URL: recv.URL, Events: []string{"story.created"}})
		if err != nil {
			t.Fatal(err)
		}
		f.story(t, "One")
		f.story(t, "Two")

		ctx := context.Background()
		begin := time.Now()
		sending := make(chan struct{})
		go func() {
			defer close(sending)
			f.app.deliverQueue(ctx, w.ID)
		}()
		next("the first")
		db.TravelTo(begin.Add(leaseFor * 2 / 3)) // the receiver is slow
		release <- struct{}{}
		second := next("the second")
		db.TravelTo(begin.Add(leaseFor * 4 / 3)) // past the lease taken for the batch

		otherDone := make(chan struct{})
		go func() {
			defer close(otherDone)
			other.deliverQueue(ctx, w.ID)
		}()
		select {
		case id := <-arrived:
			t.Errorf("another server sent delivery %s while the first was sending %s", id, second)
		case <-otherDone:
		case <-time.After(10 * time.Second):
			t.Fatal("the other server neither sent nor returned within 10s")
		}
		close(release)
		<-sending
		<-otherDone
	})
}

// TestMailDigestOnce: with two servers on one database, a digest goes out
// once, although the second looks for mail while the first is sending it;
// a digest that could not be sent goes out on the next round.
func TestMailDigestOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sink := mailtest.Start(t)
		other := New(db, f.app.log) // a second server, with the same SMTP server
		other.Mail = &MailConfig{Addr: sink.Addr, From: "northstar@example.com", BaseURL: "http://northstar.example"}

		// The first server's SMTP connection waits until the second has
		// looked for mail.
		relay, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer relay.Close()
		connected, release := make(chan struct{}), make(chan struct{})
		go func() {
			c, err := relay.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			close(connected)
			<-release
			s, err := net.Dial("tcp", sink.Addr)
			if err != nil {
				return
			}
			defer s.Close()
			go io.Copy(s, c)
			io.Copy(c, s)
		}()
		f.app.Mail = &MailConfig{Addr: relay.Addr().String(), From: "northstar@example.com", BaseURL: "http://northstar.example"}

		s := f.story(t, "Scan")
		dev := f.role(northstar.RoleDeveloper)
		if _, err := f.app.AddComment(dev, northstar.KindStory, s.Ref, "A note for @product_owner"); err != nil {
			t.Fatal(err)
		}
		ctx, cutoff := context.Background(), time.Now().Add(time.Second)
		sent := make(chan error, 1)
		go func() { sent <- f.app.SendMailDigests(ctx, cutoff) }()
		select {
		case <-connected:
		case err := <-sent:
			t.Fatalf("the first server sent nothing: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("the first server did not connect to SMTP within 10s")
		}
		if err := other.SendMailDigests(ctx, cutoff); err != nil {
			t.Fatal(err)
		}
		close(release)
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		mails := len(sink.Messages())
		if mails != 1 {
			t.Errorf("%d mails for one digest, want 1", mails)
		}

		// SMTP down: the digest stays due, and goes out once it is back.
		if _, err := f.app.AddComment(dev, northstar.KindStory, s.Ref, "Another for @product_owner"); err != nil {
			t.Fatal(err)
		}
		f.app.Mail.Addr = relay.Addr().String() // closed: nobody listens any more
		relay.Close()
		cutoff = time.Now().Add(time.Second)
		if err := f.app.SendMailDigests(ctx, cutoff); err == nil {
			t.Fatal("SendMailDigests with SMTP down: no error")
		}
		if err := other.SendMailDigests(ctx, cutoff); err != nil {
			t.Fatal(err)
		}
		if msgs := sink.Messages(); len(msgs) != mails+1 || !strings.Contains(msgs[len(msgs)-1], "To: product_owner@example.com") {
			t.Errorf("after SMTP came back: %d mails, want %d with the one that failed", len(msgs), mails+1)
		}
	})
}
