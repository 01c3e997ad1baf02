package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/northstar-pm/northstar"
)

// The demo's work: objectives, customers and their feedback, features with
// scores and releases, a backlog of stories, and a team with three closed
// sprints and an active one. It is written through the same use cases a
// person uses, with the store's clock moved back to when each thing
// happened, so the charts, the timelines and the velocity are real.

type demoStory struct {
	title, persona, want, benefit string
	typ                           northstar.StoryType
	points                        int // 0: unestimated
	feature                       int // index in demoFeatures, -1 for none
	labels                        []string
	criteria                      []string
	sprint                        int // 1–4 (4 is active), 0 for the backlog
	done                          bool
}

type demoFeature struct {
	title, problem, solution string
	status                   northstar.FeatureStatus
	release                  int // index in the releases, -1 for none
	horizon                  northstar.Horizon
	moscow                   northstar.MoSCoW
	reach, impact, conf, eff float64
	value                    float64
	mvp, objective           bool
	reason                   string
}

var demoFeatures = []demoFeature{
	{title: "Barcode scanning on any phone", problem: "Staff count stock with paper lists and type ISBNs by hand.", solution: "Scan with the phone's camera in the browser; no app to install.",
		status: northstar.FeatureReleased, release: 0, horizon: northstar.HorizonNow, moscow: northstar.Must, reach: 400, impact: 3, conf: 100, eff: 3, value: 9, mvp: true},
	{title: "Catalogue import from distributors", problem: "Setting up a shop means typing thousands of titles.", solution: "Import the distributor's ONIX or CSV catalogue in one step.",
		status: northstar.FeatureReleased, release: 0, horizon: northstar.HorizonNow, moscow: northstar.Must, reach: 400, impact: 2, conf: 80, eff: 5, value: 8, mvp: true},
	{title: "Stock transfers between branches", problem: "Shops with two or three branches move books by phone call and lose track of them.", solution: "Request, pick, send and receive transfers with the stock updated at both ends.",
		status: northstar.FeatureInProgress, release: 1, horizon: northstar.HorizonNow, moscow: northstar.Must, reach: 150, impact: 2, conf: 80, eff: 5, value: 7, objective: true},
	{title: "Low-stock alerts by e-mail", problem: "Owners notice a bestseller is gone when a customer asks for it.", solution: "A morning e-mail listing the titles that will run out this week, from the shop's own sales.",
		status: northstar.FeaturePlanned, release: 1, horizon: northstar.HorizonNow, moscow: northstar.Should, reach: 350, impact: 2, conf: 80, eff: 2, value: 8, objective: true},
	{title: "Customer special orders", problem: "Special orders live on sticky notes; customers are not told when their book arrives.", solution: "Record the order at the till, order it with the next distributor order, text the customer on arrival.",
		status: northstar.FeaturePlanned, release: 2, horizon: northstar.HorizonNext, moscow: northstar.Should, reach: 300, impact: 1, conf: 50, eff: 3, value: 6},
	{title: "Sales dashboard per shelf", problem: "Owners cannot tell which shelves earn their space.", solution: "Sales per shelf and per square metre, week by week.",
		status: northstar.FeatureUnderConsideration, release: -1, horizon: northstar.HorizonLater, moscow: northstar.Could, reach: 200, impact: 1, conf: 50, eff: 5, value: 4},
	{title: "Second-hand book grading", problem: "Shops that sell used books price them by gut.", solution: "Grade condition with a short checklist and suggest a price.",
		status: northstar.FeatureIdea, release: -1, horizon: northstar.HorizonLater, moscow: northstar.Could, reach: 60, impact: 1, conf: 50, eff: 3, value: 3},
	{title: "Public library system integration", problem: "Two libraries asked to use Northstar's stock counts.", solution: "Sync with library management systems.",
		status: northstar.FeatureRejected, release: -1, moscow: northstar.Wont, reach: 10, impact: 1, conf: 20, eff: 13, value: 1,
		reason: "Libraries are not our market; the integration would take a quarter for two customers."},
}

// demoSpans places features on the timeline: days from today to their
// start and end, by index in demoFeatures.
var demoSpans = map[int][2]int{
	0: {-730, -670}, 1: {-720, -665}, 2: {-70, 25}, 3: {-30, 40}, 4: {35, 110}, 5: {120, 200},
}

var demoReleases = []northstar.ReleaseInput{
	{Name: "1.0 Launch", Goal: "A shop can load its catalogue and count its stock with a phone.", MVP: true},
	{Name: "2.0 Multi-branch", Goal: "Shops with several branches run all of them from one account."},
	{Name: "2.1 Special orders", Goal: "No special order is forgotten and every customer hears when the book is in."},
}

var demoStories = []demoStory{
	// Sprint 1 (closed).
	{title: "Create a transfer request", persona: "branch manager", want: "to ask another branch for copies of a title", benefit: "I can serve a customer without ordering from the distributor",
		points: 5, feature: 2, labels: []string{"transfers"}, criteria: []string{"The request names title, quantity and both branches", "The sending branch sees it in its inbox"}, sprint: 1, done: true},
	{title: "Pick list for outgoing transfers", persona: "shop assistant", want: "a pick list sorted by shelf", benefit: "I collect the books in one walk",
		points: 3, feature: 2, labels: []string{"transfers"}, criteria: []string{"Sorted by shelf location", "Printable on A4"}, sprint: 1, done: true},
	{title: "Branch switcher in the header", persona: "owner", want: "to switch between my branches", benefit: "I see each shop's stock without signing in again",
		points: 3, feature: 2, labels: []string{"multi-branch", "ui"}, criteria: []string{"Remembers the last branch", "Keyboard accessible"}, sprint: 1, done: true},
	{title: "Stock counts per branch", persona: "owner", want: "stock counted per branch", benefit: "a transfer moves stock instead of creating it",
		points: 8, feature: 2, labels: []string{"multi-branch"}, criteria: []string{"Existing stock belongs to the main branch", "Totals across branches on the title page"}, sprint: 1, done: true},
	{title: "Scanner misses ISBN-10 barcodes", typ: northstar.TypeBug, points: 2, feature: 0, labels: []string{"scanning"},
		criteria: []string{"ISBN-10 barcodes scan on Android and iOS"}, sprint: 1, done: true},
	// Sprint 2 (closed, one story carried back).
	{title: "Receive a transfer", persona: "shop assistant", want: "to scan the books of an incoming transfer", benefit: "the stock is right the moment they arrive",
		points: 5, feature: 2, labels: []string{"transfers", "scanning"}, criteria: []string{"Scanning a book ticks it off the transfer", "Missing books are reported to the sender"}, sprint: 2, done: true},
	{title: "Transfer history per title", persona: "owner", want: "to see where copies of a title went", benefit: "I can find lost books",
		points: 3, feature: 2, labels: []string{"transfers"}, criteria: []string{"Lists every transfer with dates and quantities"}, sprint: 2, done: true},
	{title: "Daily sales per title", persona: "owner", want: "sales per title per day", benefit: "alerts can predict when stock runs out",
		points: 5, feature: 3, labels: []string{"alerts", "data"}, criteria: []string{"Backfilled from the till history", "Updated within an hour of a sale"}, sprint: 2, done: true},
	{title: "Spike: forecasting sell-out dates", typ: northstar.TypeSpike, points: 3, feature: 3, labels: []string{"alerts"},
		criteria: []string{"Written comparison of two methods on three pilot shops' data"}, sprint: 2, done: true},
	{title: "Transfers between shops of different owners", persona: "owner", want: "to lend books to a friendly shop", benefit: "we help each other out",
		points: 8, feature: 2, labels: []string{"transfers"}, criteria: []string{"The other shop accepts before anything moves"}, sprint: 2},
	// Sprint 3 (closed).
	{title: "Sell-out forecast per title", persona: "owner", want: "the date a title will sell out", benefit: "I reorder in time",
		points: 8, feature: 3, labels: []string{"alerts"}, criteria: []string{"Uses the last 8 weeks of sales", "Shown on the title page"}, sprint: 3, done: true},
	{title: "Morning e-mail of titles running out", persona: "owner", want: "an e-mail at 7:00 with this week's sell-outs", benefit: "I order before opening",
		points: 5, feature: 3, labels: []string{"alerts", "email"}, criteria: []string{"Sent only when there is something to say", "One click to unsubscribe"}, sprint: 3, done: true},
	{title: "Transfer notifications", persona: "branch manager", want: "to be told when a transfer is sent or received", benefit: "I do not have to ask",
		points: 3, feature: 2, labels: []string{"transfers"}, criteria: []string{"In-app and e-mail"}, sprint: 3, done: true},
	{title: "Pick list prints blank on Safari", typ: northstar.TypeBug, points: 1, feature: 2, labels: []string{"transfers", "ui"},
		criteria: []string{"Prints the list on Safari 17 and later"}, sprint: 3, done: true},
	{title: "Alert thresholds per shop", persona: "owner", want: "to set how many days of stock is too few", benefit: "alerts fit how fast my supplier delivers",
		points: 5, feature: 3, labels: []string{"alerts"}, criteria: []string{"Default is 7 days", "Per title override"}, sprint: 3, done: true},
	// Sprint 4 (active), with the story carried back from sprint 2.
	{title: "Cancel a transfer before it is sent", persona: "branch manager", want: "to cancel a transfer I asked for by mistake", benefit: "nobody picks books for nothing",
		points: 2, feature: 2, labels: []string{"transfers"}, criteria: []string{"Only before the pick list is printed"}, sprint: 4, done: true},
	{title: "Alerts include titles on order", persona: "owner", want: "alerts to count books already on order", benefit: "I do not order twice",
		points: 3, feature: 3, labels: []string{"alerts"}, criteria: []string{"Open distributor orders reduce the shortfall"}, sprint: 4},
	{title: "Weekly digest instead of daily", persona: "owner", want: "to choose a weekly e-mail", benefit: "a small shop is not nagged every day",
		points: 3, feature: 3, labels: []string{"alerts", "email"}, criteria: []string{"Daily or weekly, chosen in settings"}, sprint: 4},
	{title: "Transfer report for the accountant", persona: "owner", want: "a monthly CSV of transfers", benefit: "stock value per branch adds up",
		points: 5, feature: 2, labels: []string{"transfers", "reports"}, criteria: []string{"Cost price per line", "One file per month"}, sprint: 4},
	// The backlog.
	{title: "Record a special order at the till", persona: "shop assistant", want: "to take a special order while the customer waits", benefit: "nothing is written on a sticky note",
		points: 5, feature: 4, labels: []string{"special-orders"}, criteria: []string{"Customer name and phone or e-mail", "Deposit optional"}},
	{title: "Add special orders to the next distributor order", persona: "owner", want: "special orders to join my next order", benefit: "I do not place them separately",
		points: 3, feature: 4, labels: []string{"special-orders"}, criteria: []string{"Marked as special in the order", "Quantity merged with stock reorders"}},
	{title: "Text the customer when the book arrives", persona: "customer", want: "a text when my book is in", benefit: "I come at the right time",
		points: 5, feature: 4, labels: []string{"special-orders", "sms"}, criteria: []string{"Sent when the book is received", "Opt-out honoured"}},
	{title: "Uncollected special orders list", persona: "shop assistant", want: "a list of orders not collected after two weeks", benefit: "I can call the customer or reshelve the book",
		feature: 4, labels: []string{"special-orders"}, criteria: []string{"Sorted by arrival date"}},
	{title: "Sales per shelf chart", persona: "owner", want: "sales per shelf by week", benefit: "I give space to what sells",
		feature: 5, labels: []string{"reports"}, criteria: []string{"Shelves from the stock locations"}},
	{title: "Scanner keeps the torch on in dark stockrooms", persona: "shop assistant", want: "the phone's torch to stay on while scanning", benefit: "I can scan in the cellar",
		points: 2, feature: 0, labels: []string{"scanning"}, criteria: []string{"Toggle remembered per device"}},
	{title: "Import fails on catalogues over 50 MB", typ: northstar.TypeBug, points: 3, feature: 1, labels: []string{"import"},
		criteria: []string{"A 200 MB ONIX file imports", "Progress shown"}},
	{title: "Upgrade the barcode library", typ: northstar.TypeTask, points: 1, feature: 0, labels: []string{"scanning", "maintenance"}},
	{title: "Condition checklist for used books", persona: "shop assistant", want: "a short checklist to grade a used book", benefit: "prices are consistent",
		feature: 6, labels: []string{"second-hand"}},
}

// seedDemoWork writes the demo's work for BOOK and EBOOK as the demo users.
func (a *App) seedDemoWork(ctx context.Context, users map[string]*northstar.User, progress func(string)) error {
	now := time.Now().UTC()
	defer a.db.TravelTo(time.Time{})
	as := func(email string) context.Context { return northstar.NewContextWithUser(ctx, users[email]) }
	pm, po, dev := as("pm@northstar.test"), as("po@northstar.test"), as("dev@northstar.test")
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	at := func(t time.Time, hour, minute int) {
		a.db.TravelTo(day(t).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute))
	}
	date := func(t time.Time) northstar.Date { return northstar.Date{Time: day(t)} }
	f64 := func(v float64) *float64 { return &v }

	// Sprints are two weeks from a Monday; the active one began last
	// Monday or the one before, so it has a few days of history.
	monday := day(now)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, -1)
	}
	if now.Sub(monday) < 72*time.Hour {
		monday = monday.AddDate(0, 0, -7)
	}
	sprintStart := func(n int) time.Time { return monday.AddDate(0, 0, 14*(n-4)) } // n = 1…5
	begin := sprintStart(1).AddDate(0, 0, -21)

	progress("strategy, objectives and customers")
	at(begin, 9, 0)
	for _, pe := range []northstar.Persona{
		{Name: "Owner", Description: "Owns one to three independent bookshops and does the buying.", Goals: "Never lose a sale to an empty shelf; less time on admin.", Pains: "Spreadsheets, the distributor's portal, stock that does not add up."},
		{Name: "Shop assistant", Description: "Serves customers, shelves books and counts stock.", Goals: "Answer \"do you have it?\" in seconds.", Pains: "Paper lists, typing ISBNs."},
	} {
		if _, err := a.SavePersona(pm, "BOOK", pe); err != nil {
			return fmt.Errorf("demo persona %s: %w", pe.Name, err)
		}
	}
	quarter := northstar.ObjectiveInput{Start: date(begin), End: date(begin.AddDate(0, 3, 0)), Status: northstar.ObjectiveStatus("on_track")}
	company := quarter
	company.Title, company.Owner = "Become the stock system of independent bookshops", "admin@northstar.test"
	company.KeyResults = []northstar.KeyResultInput{{Name: "Paying shops", Unit: "shops", Start: f64(120), Target: f64(300), Current: f64(120)}}
	co, err := a.CreateObjective(as("admin@northstar.test"), "", company)
	if err != nil {
		return fmt.Errorf("demo company objective: %w", err)
	}
	product := quarter
	product.Title, product.Owner, product.ParentID = "Shops never run out of their bestsellers", "pm@northstar.test", &co.ID
	product.Description = "Measured on the top 100 titles of each pilot shop."
	product.KeyResults = []northstar.KeyResultInput{
		{Name: "Stock-outs of top-100 titles per shop per month", Unit: "stock-outs", Start: f64(14), Target: f64(4), Current: f64(14)},
		{Name: "Shops using low-stock alerts", Unit: "%", Start: f64(0), Target: f64(60), Current: f64(0)},
	}
	po1, err := a.CreateObjective(pm, "BOOK", product)
	if err != nil {
		return fmt.Errorf("demo product objective: %w", err)
	}

	customers := []northstar.CustomerInput{
		{Name: "Hanna Berg", Email: "hanna@bergbooks.example", Company: "Berg Books (3 branches)", Segment: "Multi-branch shops", Value: f64(2400)},
		{Name: "Tom Okafor", Email: "tom@chapterandverse.example", Company: "Chapter & Verse", Segment: "Single shops", Value: f64(600)},
		{Name: "Lucía Ramos", Email: "lucia@librerialuz.example", Company: "Librería Luz (2 branches)", Segment: "Multi-branch shops", Value: f64(1500)},
		{Name: "Ed Walsh", Email: "ed@oldpages.example", Company: "Old Pages", Segment: "Second-hand", Value: f64(400)},
	}
	customerIDs := make([]int64, len(customers))
	for i, in := range customers {
		c, err := a.SaveCustomer(pm, 0, 0, in)
		if err != nil {
			return fmt.Errorf("demo customer %s: %w", in.Name, err)
		}
		customerIDs[i] = c.ID
	}

	progress("releases and features")
	releaseIDs := make([]int64, len(demoReleases))
	targets := []time.Time{now.AddDate(0, -22, 0), sprintStart(5).AddDate(0, 0, 11), sprintStart(5).AddDate(0, 2, 0)}
	for i, in := range demoReleases {
		in.Target = date(targets[i])
		r, err := a.SaveRelease(pm, "BOOK", 0, 0, in)
		if err != nil {
			return fmt.Errorf("demo release %s: %w", in.Name, err)
		}
		releaseIDs[i] = r.ID
	}
	featureRefs := make([]string, len(demoFeatures))
	for i, df := range demoFeatures {
		status := df.status
		if status == northstar.FeatureReleased {
			status = northstar.FeaturePlanned // shipped with its release below
		}
		in := northstar.FeatureInput{Title: &df.title, Problem: &df.problem, Solution: &df.solution, Status: &status, MVP: &df.mvp,
			Owner: northstar.Optional[string]{Set: true, Value: "pm@northstar.test"}, MoSCoW: &df.moscow,
			Scores: &northstar.Scores{Reach: f64(df.reach), Impact: f64(df.impact), Confidence: f64(df.conf), Effort: f64(df.eff), Value: f64(df.value)}}
		if df.horizon != "" {
			in.Horizon = &df.horizon
		}
		if df.reason != "" {
			in.RejectedReason = &df.reason
		}
		if span, ok := demoSpans[i]; ok {
			in.Start = northstar.Optional[northstar.Date]{Set: true, Value: date(now.AddDate(0, 0, span[0]))}
			in.End = northstar.Optional[northstar.Date]{Set: true, Value: date(now.AddDate(0, 0, span[1]))}
		}
		if df.release >= 0 {
			in.Release = northstar.Optional[int64]{Set: true, Value: releaseIDs[df.release]}
		}
		if df.objective {
			in.Objectives = &[]int64{po1.ID}
		}
		f, err := a.CreateFeature(pm, "BOOK", in)
		if err != nil {
			return fmt.Errorf("demo feature %q: %w", df.title, err)
		}
		featureRefs[i] = f.Ref
	}
	// The features meant to move the objective's first key result
	// (stock-outs): the objective page sets them against its check-ins.
	// Barcode scanning shipped with 1.0 during the quarter.
	for i, df := range demoFeatures {
		if df.objective || i == 0 {
			if _, err := a.LinkKeyResultFeature(pm, po1.ID, po1.KeyResults[0].ID, featureRefs[i]); err != nil {
				return fmt.Errorf("demo key result feature %s: %w", featureRefs[i], err)
			}
		}
	}

	progress("feedback")
	feedback := []struct {
		customer int
		source   northstar.FeedbackSource
		title    string
		text     string
		insights []northstar.InsightInput
	}{
		{0, northstar.SourceInterview, "Interview: moving stock between branches", "We phone each other to move books and half the time nobody knows where the copies went. If I could see the transfer and its status I would stop the Friday stock-take arguments.",
			[]northstar.InsightInput{{Passage: "We phone each other to move books", Feature: featureRefs[2], Importance: northstar.Critical}}},
		{2, northstar.SourceSales, "Needs multi-branch before signing", "Lucía will sign for both shops once transfers work; until then only the main shop.",
			[]northstar.InsightInput{{Passage: "once transfers work", Feature: featureRefs[2], Importance: northstar.Critical}}},
		{1, northstar.SourceSupport, "Ran out of the prize winner", "The prize winner sold out on Saturday and I only noticed on Monday. Could Northstar warn me?",
			[]northstar.InsightInput{{Passage: "Could Northstar warn me?", Feature: featureRefs[3], Importance: northstar.Important}}},
		{1, northstar.SourceSurvey, "Special orders on sticky notes", "Customers order books we do not stock; the notes get lost and they never hear back.",
			[]northstar.InsightInput{{Passage: "the notes get lost", Feature: featureRefs[4], Importance: northstar.Important}}},
		{3, northstar.SourceInterview, "Pricing used books", "Pricing used books takes me an hour a day. A checklist with a suggested price would help.",
			[]northstar.InsightInput{{Passage: "A checklist with a suggested price", Feature: featureRefs[6], Importance: northstar.NiceToHave}}},
		{-1, northstar.SourceOther, "", "Would love to see which shelves actually sell.", nil},
	}
	for i, fb := range feedback {
		at(begin.AddDate(0, 0, 2+3*i), 14, 0)
		in := northstar.FeedbackInput{Source: fb.source, Title: fb.title, Text: fb.text, Insights: fb.insights}
		if fb.customer >= 0 {
			in.CustomerID = &customerIDs[fb.customer]
		}
		if _, err := a.AddFeedback(pm, "BOOK", in); err != nil {
			return fmt.Errorf("demo feedback %d: %w", i+1, err)
		}
	}
	// The launch shipped long ago; its features went with it.
	if _, err := a.ShipRelease(pm, "BOOK", releaseIDs[0]); err != nil {
		return fmt.Errorf("demo launch release: %w", err)
	}
	if _, err := a.SaveRelease(pm, "BOOK", releaseIDs[1], 0, northstar.ReleaseInput{Name: demoReleases[1].Name, Goal: demoReleases[1].Goal,
		Target: date(targets[1]), Status: northstar.ReleaseInProgress}); err != nil {
		return fmt.Errorf("demo release in progress: %w", err)
	}

	progress("the backlog")
	at(begin.AddDate(0, 0, 7), 10, 0)
	type seeded struct {
		ref string
		ds  demoStory
	}
	var stories []seeded
	for i, ds := range demoStories {
		in := northstar.NewStory{Type: ds.typ, Title: ds.title, Persona: ds.persona, Want: ds.want, Benefit: ds.benefit,
			Labels: ds.labels, Criteria: ds.criteria, Position: "bottom"}
		if ds.points > 0 {
			in.Points = &ds.points
		}
		if ds.feature >= 0 {
			in.Feature = featureRefs[ds.feature]
		}
		if ds.sprint > 0 {
			in.Assignee = []string{"dev@northstar.test", "po@northstar.test"}[i%3/2]
		}
		if ds.persona != "" {
			in.Description = fmt.Sprintf("Asked for by the pilot shops. See the feature %s for the customers' words.", featureRefs[max(ds.feature, 0)])
		}
		s, err := a.CreateStory(po, "BOOK", in)
		if err != nil {
			return fmt.Errorf("demo story %d %q: %w", i+1, ds.title, err)
		}
		stories = append(stories, seeded{s.Ref, ds})
	}
	progress("the team and its sprints")
	team, err := a.CreateTeam(po, northstar.TeamInput{Name: "Shelf team", Products: []string{"BOOK"}})
	if err != nil {
		return fmt.Errorf("demo team: %w", err)
	}
	for _, m := range []struct {
		email             string
		capacity, daysOff int
	}{{"dev@northstar.test", 100, 0}, {"po@northstar.test", 50, 0}, {"admin@northstar.test", 80, 1}} {
		if _, err := a.SetTeamMember(po, team.ID, m.email, m.capacity, m.daysOff); err != nil {
			return fmt.Errorf("demo team member %s: %w", m.email, err)
		}
	}
	columnOf := map[northstar.StoryStatus]int64{}
	for _, c := range team.Columns {
		if _, ok := columnOf[c.Status]; !ok {
			columnOf[c.Status] = c.ID
		}
	}
	goals := []string{"Branches can ask each other for books", "Transfers arrive and are counted", "Owners hear before a bestseller runs out", "Lend books between friendly shops", "Special orders at the till"}
	for n := 1; n <= 5; n++ {
		start := sprintStart(n)
		at(start.AddDate(0, 0, -3), 15, 0) // planned on the Friday before
		sp, err := a.CreateSprint(po, team.ID, northstar.SprintInput{Name: fmt.Sprintf("Sprint %d", 20+n), Goal: goals[n-1],
			Start: date(start), End: date(start.AddDate(0, 0, 11))})
		if err != nil {
			return fmt.Errorf("demo sprint %d: %w", n, err)
		}
		if n == 5 {
			continue // the next sprint stays planned and empty
		}
		var refs []string
		var work []seeded
		for _, s := range stories {
			if s.ds.sprint == n || (n == 4 && s.ds.title == demoStories[9].title) {
				refs = append(refs, s.ref)
				work = append(work, s)
			}
		}
		// Stories must be ready to be planned well.
		for _, s := range work {
			ready := northstar.StatusReady
			if _, err := a.UpdateStory(po, s.ref, 0, northstar.StoryUpdate{Status: &ready}); err != nil {
				return fmt.Errorf("demo ready %s: %w", s.ref, err)
			}
		}
		if _, err := a.AddToSprint(po, sp.ID, refs); err != nil {
			return fmt.Errorf("demo plan sprint %d: %w", n, err)
		}
		at(start, 9, 30)
		if _, err := a.StartSprint(po, sp.ID); err != nil {
			return fmt.Errorf("demo start sprint %d: %w", n, err)
		}
		// Work through the sprint: each story starts, is reviewed and is
		// done on working days spread over the fortnight.
		workdays := []time.Time{}
		for d := start; d.Before(start.AddDate(0, 0, 12)); d = d.AddDate(0, 0, 1) {
			if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday && d.Before(day(now)) {
				workdays = append(workdays, d)
			}
		}
		for i, s := range work {
			steps := []northstar.StoryStatus{northstar.StatusInProgress, northstar.StatusInReview, northstar.StatusDone}
			if !s.ds.done {
				steps = steps[:1]
			}
			for j, st := range steps {
				if len(workdays) == 0 {
					break
				}
				k := min(i*len(workdays)/(len(work)+1)+j, len(workdays)-1)
				at(workdays[k], 10+j, 7*i%60)
				if _, err := a.MoveCard(dev, sp.ID, s.ref, northstar.CardMove{Column: columnOf[st]}); err != nil {
					return fmt.Errorf("demo move %s to %s: %w", s.ref, st, err)
				}
			}
		}
		if n == 4 {
			continue // the active sprint
		}
		// The review: the PO checks the criteria and accepts what is done.
		at(start.AddDate(0, 0, 11), 14, 0)
		for _, s := range work {
			if !s.ds.done {
				continue
			}
			st, err := a.Story(po, s.ref)
			if err != nil {
				return err
			}
			if st.Status != northstar.StatusDone {
				continue // ran out of days in the demo's calendar
			}
			met := true
			for _, c := range st.Criteria {
				if _, err := a.UpdateCriterion(po, s.ref, 0, c.ID, nil, &met); err != nil {
					return fmt.Errorf("demo criterion of %s: %w", s.ref, err)
				}
			}
			accepted := true
			if _, err := a.UpdateStory(po, s.ref, 0, northstar.StoryUpdate{Accepted: &accepted}); err != nil {
				return fmt.Errorf("demo accept %s: %w", s.ref, err)
			}
		}
		at(start.AddDate(0, 0, 11), 16, 0)
		retro := &northstar.Retro{WentWell: "Pairing on the scanner work.", ToImprove: "Stories reached review late in the sprint.", Actions: "Split stories over 5 points before planning."}
		if _, _, err := a.CloseSprint(po, sp.ID, northstar.CloseSprint{Carry: northstar.CarryToBacklog, Retro: retro}); err != nil {
			return fmt.Errorf("demo close sprint %d: %w", n, err)
		}
		// Progress on the objective, checked in at each sprint's end.
		kr := po1.KeyResults
		if _, err := a.CheckIn(pm, po1.ID, kr[0].ID, float64(14-3*n), "After "+sp.Name); err != nil {
			return fmt.Errorf("demo check-in: %w", err)
		}
		if _, err := a.CheckIn(pm, po1.ID, kr[1].ID, float64(12*n), "After "+sp.Name); err != nil {
			return fmt.Errorf("demo check-in: %w", err)
		}
		if _, err := a.CheckIn(as("admin@northstar.test"), co.ID, co.KeyResults[0].ID, float64(120+20*n), ""); err != nil {
			return fmt.Errorf("demo check-in: %w", err)
		}
	}

	progress("EBOOK's MVP")
	at(now.AddDate(0, 0, -20), 11, 0)
	mvp, err := a.SaveRelease(pm, "EBOOK", 0, 0, northstar.ReleaseInput{Name: "Launch", Goal: "Subscribers read books from two publishers.", MVP: true, Target: date(now.AddDate(0, 3, 0))})
	if err != nil {
		return fmt.Errorf("demo EBOOK release: %w", err)
	}
	for _, title := range []string{"Catalogue from the launch publishers", "Reader in the browser", "Monthly subscription billing", "Reading progress synced across devices"} {
		mvpFlag, status := true, northstar.FeaturePlanned
		f, err := a.CreateFeature(pm, "EBOOK", northstar.FeatureInput{Title: &title, MVP: &mvpFlag, Status: &status,
			Release: northstar.Optional[int64]{Set: true, Value: mvp.ID}})
		if err != nil {
			return fmt.Errorf("demo EBOOK feature %q: %w", title, err)
		}
		for _, st := range []string{"Design", "Build", "Test with pilot readers"} {
			if _, err := a.CreateStory(po, "EBOOK", northstar.NewStory{Title: st + ": " + strings.ToLower(title), Feature: f.Ref, Position: "bottom"}); err != nil {
				return fmt.Errorf("demo EBOOK story: %w", err)
			}
		}
	}
	return nil
}
