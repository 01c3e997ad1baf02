package app

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

func date(s string) northstar.Date {
	t, _ := time.Parse(northstar.DateLayout, s)
	return northstar.Date{Time: t}
}

func fp(v float64) *float64 { return &v }

func TestStrategyAndPersonas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pm, po := f.role(northstar.RoleProductManager), f.role(northstar.RoleProductOwner)
		vision, market, metric := "Never lose a sale", "Independent bookshops in Europe", "Titles sold in stock"
		st, err := f.app.UpdateStrategy(pm, "BOOK", 0, northstar.StrategyUpdate{Vision: &vision, TargetMarket: &market, NorthStarMetric: &metric})
		if err != nil {
			t.Fatal(err)
		}
		if st.Vision != vision || st.TargetMarket != market || st.NorthStarMetric != metric {
			t.Errorf("strategy = %+v", st)
		}
		if _, err := f.app.UpdateStrategy(po, "BOOK", 0, northstar.StrategyUpdate{Vision: &vision}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("PO edits the vision: %v", err)
		}
		if _, err := f.app.UpdateStrategy(pm, "BOOK", 1, northstar.StrategyUpdate{Vision: &vision}); northstar.ErrorCode(err) != northstar.ECONFLICT {
			t.Errorf("stale strategy version: %v", err)
		}
		pe, err := f.app.SavePersona(pm, "BOOK", northstar.Persona{Name: "Shop owner", Goals: "Sell more", Pains: "Empty shelves"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.SavePersona(pm, "BOOK", northstar.Persona{Name: "Shop owner"}); northstar.ErrorCode(err) != northstar.ECONFLICT {
			t.Errorf("duplicate persona: %v", err)
		}
		pe.Pains = "Empty shelves and slow stock"
		if _, err := f.app.SavePersona(pm, "BOOK", *pe); err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.SaveSegment(pm, "BOOK", northstar.Segment{Name: "Chains"}); err != nil {
			t.Fatal(err)
		}
		st, err = f.app.Strategy(f.role(northstar.RoleViewer), "BOOK")
		if err != nil || len(st.Personas) != 1 || st.Personas[0].Pains != pe.Pains || len(st.Segments) != 1 {
			t.Errorf("viewer reads strategy: %+v %v", st, err)
		}
		if _, err := f.app.SavePersona(f.role(northstar.RoleDeveloper), "BOOK", northstar.Persona{Name: "Dev"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer adds persona: %v", err)
		}
	})
}

func TestObjectivesAndKeyResults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pm := f.role(northstar.RoleProductManager)
		company, err := f.app.CreateObjective(f.as(f.admin), "", northstar.ObjectiveInput{Title: "Grow revenue", Start: date("2026-01-01"), End: date("2026-12-31")})
		if err != nil {
			t.Fatal(err)
		}
		in := northstar.ObjectiveInput{
			Title: "Win independent shops", Start: date("2026-10-01"), End: date("2026-12-31"), Owner: "product_manager@example.com", ParentID: &company.ID,
			KeyResults: []northstar.KeyResultInput{
				{Name: "Paying shops", Unit: "shops", Start: fp(100), Target: fp(200)},
				{Name: "Churn", Unit: "%", Start: fp(5), Target: fp(2), Current: fp(4)},
			},
		}
		o, err := f.app.CreateObjective(pm, "BOOK", in)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.KeyResults) != 2 || o.Owner == nil || o.Status != northstar.OnTrack {
			t.Fatalf("objective = %+v", o)
		}
		o, err = f.app.CheckIn(pm, o.ID, o.KeyResults[0].ID, 150, "Autumn fair")
		if err != nil {
			t.Fatal(err)
		}
		// (150-100)/(200-100) = 0.5 and (4-5)/(2-5) = 1/3.
		if got, want := o.Progress(), (0.5+1.0/3)/2; math.Abs(got-want) > 1e-9 {
			t.Errorf("progress = %v, want %v", got, want)
		}
		if len(o.KeyResults[0].CheckIns) != 1 || o.KeyResults[0].Current != 150 || o.KeyResults[0].CheckIns[0].Actor == "" {
			t.Errorf("check-in not recorded: %+v", o.KeyResults[0])
		}
		// Company objectives show the product objectives that roll up.
		list, err := f.app.Objectives(f.role(northstar.RoleViewer), "")
		if err != nil || len(list) != 1 || len(list[0].Children) != 1 {
			t.Fatalf("company objectives: %+v %v", list, err)
		}
		if list, _ := f.app.Objectives(f.as(f.other), ""); len(list) != 1 || len(list[0].Children) != 0 {
			t.Errorf("a non-member sees another product's objective under the company's")
		}
		// Bad input writes nothing.
		bad := []struct {
			name  string
			in    northstar.ObjectiveInput
			field string
		}{
			{"end before start", northstar.ObjectiveInput{Title: "x", Start: date("2026-05-01"), End: date("2026-04-01")}, "end"},
			{"target equals start", northstar.ObjectiveInput{Title: "x", Start: date("2026-01-01"), End: date("2026-02-01"),
				KeyResults: []northstar.KeyResultInput{{Name: "k", Start: fp(3), Target: fp(3)}}}, "key_results[0].target"},
			{"unknown owner", northstar.ObjectiveInput{Title: "x", Start: date("2026-01-01"), End: date("2026-02-01"), Owner: "ghost@example.com"}, "owner"},
			{"parent is a product objective", northstar.ObjectiveInput{Title: "x", Start: date("2026-01-01"), End: date("2026-02-01"), ParentID: &o.ID}, "parent_id"},
			{"bad status", northstar.ObjectiveInput{Title: "x", Start: date("2026-01-01"), End: date("2026-02-01"), Status: "great"}, "status"},
		}
		for _, tt := range bad {
			if _, err := f.app.CreateObjective(pm, "BOOK", tt.in); northstar.ErrorField(err) != tt.field {
				t.Errorf("%s: %v (field %q), want field %s", tt.name, err, northstar.ErrorField(err), tt.field)
			}
		}
		if list, _ := f.app.Objectives(pm, "BOOK"); len(list) != 1 {
			t.Errorf("bad input wrote objectives: %d", len(list))
		}
		if _, err := f.app.CreateObjective(f.role(northstar.RoleDeveloper), "", northstar.ObjectiveInput{Title: "x", Start: date("2026-01-01"), End: date("2026-02-01")}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer creates company objective: %v", err)
		}
		if _, err := f.app.CheckIn(f.role(northstar.RoleDeveloper), o.ID, o.KeyResults[0].ID, 1, ""); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("developer checks in: %v", err)
		}
		if _, err := f.app.CheckIn(pm, o.ID, 9999, 1, ""); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("check-in on unknown key result: %v", err)
		}
		if _, err := f.app.Objective(f.as(f.other), o.ID); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("non-member reads product objective: %v", err)
		}
	})
}

func TestFeedbackInsightsAndIdeas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		po, sh := f.role(northstar.RoleProductOwner), f.role(northstar.RoleStakeholder)
		c, err := f.app.SaveCustomer(sh, 0, 0, northstar.CustomerInput{Name: "Ana Books", Email: "ana@anabooks.example", Company: "Ana Books", Segment: "Independent", Value: fp(1200)})
		if err != nil {
			t.Fatalf("stakeholder adds a customer: %v", err)
		}
		text := "We count stock by hand every Sunday.\nI would love reorder suggestions before the weekend rush.\nAlso: barcode scanning on my phone."
		fb, err := f.app.AddFeedback(po, "BOOK", northstar.FeedbackInput{Source: northstar.SourceInterview, Text: text, CustomerID: &c.ID,
			Insights: []northstar.InsightInput{
				{Passage: "reorder suggestions before the weekend rush", Importance: northstar.Critical, NewIdea: "Reorder suggestions"},
				{Passage: "barcode scanning on my phone", Importance: northstar.Important, NewIdea: "Phone scanning"},
			}})
		if err != nil {
			t.Fatal(err)
		}
		if len(fb.Links) != 2 || fb.Status != northstar.FeedbackTriaged || fb.Title != "We count stock by hand every Sunday." {
			t.Fatalf("interview = %+v", fb)
		}
		ideas, _ := f.app.Features(po, "BOOK")
		if len(ideas) != 2 || ideas[0].Ref != "BOOK-1" || ideas[0].Status != northstar.FeatureIdea || ideas[0].Insights != 1 {
			t.Errorf("ideas = %+v", ideas[0])
		}
		// Ideas share the numbering with stories.
		if s := f.story(t, "A story"); s.Ref != "BOOK-3" {
			t.Errorf("story after two ideas is %s, want BOOK-3", s.Ref)
		}
		// A stakeholder adds feedback but may not triage or link.
		sfb, err := f.app.AddFeedback(sh, "BOOK", northstar.FeedbackInput{Source: northstar.SourceSales, Text: "Chains ask for multi-shop stock."})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.LinkInsight(sh, "BOOK", sfb.ID, northstar.InsightInput{Feature: "BOOK-1"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("stakeholder links: %v", err)
		}
		triaged := northstar.FeedbackTriaged
		if _, err := f.app.UpdateFeedback(sh, "BOOK", sfb.ID, 0, FeedbackChange{Status: &triaged}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("stakeholder triages: %v", err)
		}
		fixed := "Chains ask for stock across shops."
		if _, err := f.app.UpdateFeedback(sh, "BOOK", sfb.ID, 0, FeedbackChange{Text: &fixed}); err != nil {
			t.Errorf("author corrects their feedback: %v", err)
		}
		if _, _, err := f.app.LinkInsight(po, "BOOK", sfb.ID, northstar.InsightInput{Feature: "book-1", Importance: northstar.NiceToHave}); err != nil {
			t.Errorf("PO links to an existing idea: %v", err)
		}
		// Bad input.
		if _, err := f.app.AddFeedback(po, "BOOK", northstar.FeedbackInput{Text: "x", CustomerID: new(int64)}); err != nil {
			t.Errorf("customer 0 means none: %v", err)
		}
		ghost := int64(999)
		if _, err := f.app.AddFeedback(po, "BOOK", northstar.FeedbackInput{Text: "x", CustomerID: &ghost}); northstar.ErrorField(err) != "customer_id" {
			t.Errorf("unknown customer: %v", err)
		}
		if _, _, err := f.app.LinkInsight(po, "BOOK", sfb.ID, northstar.InsightInput{Feature: "BOOK-3"}); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("link to a story ref: %v", err)
		}
		if _, _, err := f.app.LinkInsight(po, "BOOK", sfb.ID, northstar.InsightInput{Passage: "not in the text", NewIdea: "x"}); northstar.ErrorField(err) != "passage" {
			t.Errorf("passage not from the text: %v", err)
		}
		if _, err := f.app.AddFeedback(po, "BOOK", northstar.FeedbackInput{Text: "x", Insights: []northstar.InsightInput{{NewIdea: "ok"}, {Feature: "NOPE"}}}); northstar.ErrorField(err) != "insights[1].feature" {
			t.Errorf("bad second insight: %v", err)
		}
		if ideas, _ := f.app.Features(po, "BOOK"); len(ideas) != 2 {
			t.Errorf("a failed interview left %d ideas, want 2", len(ideas))
		}
		// Filters.
		yes := true
		linked, _ := f.app.FeedbackList(po, "BOOK", northstar.FeedbackFilter{Linked: &yes, Limit: 50})
		bySegment, _ := f.app.FeedbackList(po, "BOOK", northstar.FeedbackFilter{Segment: "independent", Limit: 50})
		sales, _ := f.app.FeedbackList(po, "BOOK", northstar.FeedbackFilter{Source: northstar.SourceSales, Limit: 50})
		if len(linked) != 2 || len(bySegment) != 1 || len(sales) != 1 {
			t.Errorf("filters: linked %d, segment %d, sales %d", len(linked), len(bySegment), len(sales))
		}
		if _, err := f.app.FeedbackList(f.as(f.other), "BOOK", northstar.FeedbackFilter{Limit: 10}); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("non-member reads feedback: %v", err)
		}
		if _, err := f.app.SaveCustomer(f.as(f.other), 0, 0, northstar.CustomerInput{Name: "x"}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("user without a role adds a customer: %v", err)
		}
		if _, err := f.app.SaveCustomer(sh, 0, 0, northstar.CustomerInput{Name: "Dup", Email: "ANA@anabooks.example"}); northstar.ErrorField(err) != "email" {
			t.Errorf("duplicate customer email: %v", err)
		}
	})
}

func TestPortal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		pm := f.role(northstar.RoleProductManager)
		anon := context.Background()
		sub := northstar.PortalSubmission{Title: "Dark mode", Body: "<script>alert(1)</script> please", Name: "Reader", Email: "reader@example.com"}
		if _, err := f.app.SubmitPortalIdea(anon, "BOOK", sub, "10.1.1.1"); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Fatalf("submit to a closed portal: %v", err)
		}
		if _, err := f.app.SetPortalSettings(f.role(northstar.RoleProductOwner), "BOOK", northstar.PortalSettings{Enabled: true}); northstar.ErrorCode(err) != northstar.EFORBIDDEN {
			t.Errorf("PO opens the portal: %v", err)
		}
		if _, err := f.app.SetPortalSettings(pm, "BOOK", northstar.PortalSettings{Enabled: true, Intro: "Tell us what to build"}); err != nil {
			t.Fatal(err)
		}
		idea, err := f.app.SubmitPortalIdea(anon, "BOOK", sub, "10.1.1.1")
		if err != nil {
			t.Fatal(err)
		}
		if idea.Email != "" || idea.Votes != 1 {
			t.Errorf("public idea = %+v", idea)
		}
		if _, err := f.app.VotePortalIdea(anon, "BOOK", idea.ID, northstar.PortalSubmission{Email: "Reader@example.com"}, "10.1.1.2"); northstar.ErrorCode(err) != northstar.ECONFLICT {
			t.Errorf("author votes twice: %v", err)
		}
		if got, err := f.app.VotePortalIdea(anon, "BOOK", idea.ID, northstar.PortalSubmission{Email: "fan@example.com"}, "10.1.1.2"); err != nil || got.Votes != 2 {
			t.Errorf("second voter: %+v %v", got, err)
		}
		if _, err := f.app.CommentPortalIdea(anon, "BOOK", idea.ID, northstar.PortalSubmission{Body: "+1", Email: "fan@example.com"}, "10.1.1.2"); err != nil {
			t.Fatal(err)
		}
		// The team sees it in the inbox with its votes.
		inbox, _ := f.app.FeedbackList(pm, "BOOK", northstar.FeedbackFilter{Source: northstar.SourcePortal, Limit: 10})
		if len(inbox) != 1 || inbox[0].Votes != 2 || !strings.Contains(inbox[0].Text, "<script>") {
			t.Errorf("inbox = %+v", inbox)
		}
		team, _ := f.app.TeamPortalIdeas(pm, "BOOK")
		if len(team) != 1 || team[0].Email != "reader@example.com" {
			t.Errorf("team sees %+v", team)
		}
		if team, _ := f.app.TeamPortalIdeas(f.role(northstar.RoleViewer), "BOOK"); team[0].Email != "" {
			t.Error("a viewer sees submitters' emails")
		}
		planned := northstar.PortalPlanned
		if _, err := f.app.UpdatePortalIdea(pm, "BOOK", idea.ID, PortalIdeaChange{Status: &planned}); err != nil {
			t.Fatal(err)
		}
		view, _ := f.app.Portal(anon, "book")
		if len(view.Ideas) != 1 || view.Ideas[0].Status != northstar.PortalPlanned || view.Ideas[0].Email != "" {
			t.Errorf("portal = %+v", view.Ideas)
		}
		// Hidden ideas disappear from the portal.
		yes := true
		if _, err := f.app.UpdatePortalIdea(pm, "BOOK", idea.ID, PortalIdeaChange{Hidden: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.app.PortalIdea(anon, "BOOK", idea.ID); northstar.ErrorCode(err) != northstar.ENOTFOUND {
			t.Errorf("hidden idea on the portal: %v", err)
		}
		// Honeypot: accepted, dropped.
		bot := sub
		bot.Website = "http://spam.example"
		bot.Email = "bot@example.com"
		if got, err := f.app.SubmitPortalIdea(anon, "BOOK", bot, "10.9.9.9"); err != nil || got != nil {
			t.Errorf("honeypot: %+v %v", got, err)
		}
		// Flooding from one address is refused.
		var last error
		for i := 0; i < portalIdeasPerAddress+1; i++ {
			_, last = f.app.SubmitPortalIdea(anon, "BOOK", northstar.PortalSubmission{Title: "Spam", Email: "x" + string(rune('a'+i)) + "@example.com"}, "10.2.2.2")
		}
		if northstar.ErrorCode(last) != northstar.ERATELIMITED {
			t.Errorf("flood: %v", last)
		}
		// Over-long posts.
		long := northstar.PortalSubmission{Title: strings.Repeat("t", northstar.MaxPortalTitleLen+1), Email: "l@example.com"}
		if _, err := f.app.SubmitPortalIdea(anon, "BOOK", long, "10.3.3.3"); northstar.ErrorField(err) != "title" {
			t.Errorf("long title: %v", err)
		}
	})
}
