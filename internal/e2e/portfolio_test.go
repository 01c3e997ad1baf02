package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/northstar-pm/northstar/internal/mailtest"

	"github.com/chromedp/chromedp"

	"github.com/northstar-pm/northstar"
	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/store"
)

// seedPortfolio adds to the demo accounts a product, SALES, introduced a
// year ago (its history starts then, so the stages shade the chart), and
// a team whose closed sprint delivered aligned and orphan work.
func seedPortfolio(a *app.App, ctx context.Context, progress func(string)) (bool, error) {
	return seedPortfolioMail("")(a, ctx, progress)
}

// seedPortfolioMail is seedPortfolio with release mail sent to an SMTP
// server at addr, and a portal idea (with a voter) linked to the feature
// "Reading streaks".
func seedPortfolioMail(addr string) func(*app.App, context.Context, func(string)) (bool, error) {
	return func(a *app.App, ctx context.Context, progress func(string)) (bool, error) {
		if addr != "" {
			a.Mail = &app.MailConfig{Addr: addr, From: "northstar@example.com", BaseURL: "http://northstar.test"}
		}
		return seedPortfolioData(a, ctx, progress)
	}
}

func seedPortfolioData(a *app.App, ctx context.Context, progress func(string)) (bool, error) {
	if _, err := a.SeedDemoAccounts(ctx, progress); err != nil {
		return false, err
	}
	pm, err := a.Login(ctx, "pm@northstar.test", app.DemoPassword, "127.0.0.1")
	if err != nil {
		return false, err
	}
	as := northstar.NewContextWithUser(ctx, pm)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	a.DB().TravelTo(today.AddDate(-1, 0, -20))
	_, err = a.CreateProduct(as, northstar.NewProduct{Key: "SALES", Name: "Ebook subscriptions", Stage: northstar.StageDevelopment})
	if err == nil {
		a.DB().TravelTo(today.AddDate(-1, 0, -5))
		_, err = a.ChangeStage(as, "SALES", northstar.StageIntroduction, "Launched", 0)
	}
	a.DB().TravelTo(time.Time{})
	if err != nil {
		return false, err
	}
	day := func(n int) northstar.Date { return northstar.Date{Time: today.AddDate(0, 0, n)} }
	str := func(s string) *string { return &s }
	obj, err := a.CreateObjective(as, "SALES", northstar.ObjectiveInput{Title: "Readers stay a second year", Start: day(-60), End: day(60)})
	if err != nil {
		return false, err
	}
	served, err := a.CreateFeature(as, "SALES", northstar.FeatureInput{Title: str("Reading streaks"), Objectives: &[]int64{obj.ID}})
	if err != nil {
		return false, err
	}
	now := northstar.HorizonNow
	if _, err := a.CreateFeature(as, "SALES", northstar.FeatureInput{Title: str("Family sharing"), Horizon: &now}); err != nil {
		return false, err
	}
	// Dated work in two products, some in a release, for the portfolio's
	// timeline.
	for _, w := range []struct {
		key, title, release string
		status              northstar.FeatureStatus
		start, end, target  int
	}{
		{"BOOK", "Barcode scanning on any phone", "Spring", northstar.FeatureInProgress, -25, 35, 42},
		{"BOOK", "Reorder suggestions", "", northstar.FeaturePlanned, 30, 110, 0},
		{"SALES", "Gift subscriptions", "Gifts", northstar.FeaturePlanned, 10, 70, 75},
	} {
		in := northstar.FeatureInput{Title: str(w.title), Status: &w.status,
			Start: northstar.Optional[northstar.Date]{Set: true, Value: day(w.start)}, End: northstar.Optional[northstar.Date]{Set: true, Value: day(w.end)}}
		if w.release != "" {
			r, err := a.SaveRelease(as, w.key, 0, 0, northstar.ReleaseInput{Name: w.release, Target: day(w.target)})
			if err != nil {
				return false, err
			}
			in.Release = northstar.Optional[int64]{Set: true, Value: r.ID}
		}
		if _, err := a.CreateFeature(as, w.key, in); err != nil {
			return false, err
		}
	}
	if _, err := a.SetPortalSettings(as, "SALES", northstar.PortalSettings{Enabled: true}); err != nil {
		return false, err
	}
	idea, err := a.SubmitPortalIdea(ctx, "SALES", northstar.PortalSubmission{Title: "Streaks", Body: "Keep me reading", Name: "Rita Reader", Email: "rita@example.com"}, "192.0.2.1")
	if err != nil {
		return false, err
	}
	if _, err := a.VotePortalIdea(ctx, "SALES", idea.ID, northstar.PortalSubmission{Email: "voter@example.com"}, "192.0.2.2"); err != nil {
		return false, err
	}
	fbs, err := a.FeedbackList(as, "SALES", northstar.FeedbackFilter{Source: northstar.SourcePortal, Limit: 10})
	if err != nil || len(fbs) != 1 {
		return false, fmt.Errorf("portal feedback: %d, %v", len(fbs), err)
	}
	if _, _, err := a.LinkInsight(as, "SALES", fbs[0].ID, northstar.InsightInput{Feature: served.Ref}); err != nil {
		return false, err
	}
	_ = idea
	team, err := a.CreateTeam(as, northstar.TeamInput{Name: "Readers", Products: []string{"SALES"}})
	if err != nil {
		return false, err
	}
	var refs []string
	for _, s := range []struct {
		title, feature string
		points         int
	}{{"Count reading days", served.Ref, 5}, {"Streak badge", served.Ref, 3}, {"Rotate the signing keys", "", 2}} {
		p := s.points
		st, err := a.CreateStory(as, "SALES", northstar.NewStory{Title: s.title, Points: &p, Feature: s.feature})
		if err != nil {
			return false, err
		}
		refs = append(refs, st.Ref)
	}
	sp, err := a.CreateSprint(as, team.ID, northstar.SprintInput{Name: "Streaks 1", Start: day(-14), End: day(-1)})
	if err != nil {
		return false, err
	}
	if _, err := a.AddToSprint(as, sp.ID, refs); err != nil {
		return false, err
	}
	if _, err := a.StartSprint(as, sp.ID); err != nil {
		return false, err
	}
	done := northstar.StatusDone
	for _, ref := range refs {
		if _, err := a.UpdateStory(as, ref, 0, northstar.StoryUpdate{Status: &done}); err != nil {
			return false, err
		}
	}
	_, _, err = a.CloseSprint(as, sp.ID, northstar.CloseSprint{Carry: northstar.CarryToBacklog})
	return err == nil, err
}

// TestPortfolioDoneWhen walks the "done when" as far as it is
// built: define a metric, upload a year of sales as CSV, see the curve
// with the stages shaded and the stage suggestion with its reason (on the
// metrics page and in the product page's section), then the alignment
// share and the orphan work.
func TestPortfolioDoneWhen(t *testing.T) {
	sink := mailtest.Start(t)
	ts := startServerSeeded(t, store.SQLite, seedPortfolioMail(sink.Addr))
	ctx := newBrowser(t, 1280, 1000)
	signIn(t, ctx, ts.URL, "pm@northstar.test")

	// A year of daily sales, rising and accelerating.
	var csv strings.Builder
	csv.WriteString("date,value (subscriptions)\n")
	end := time.Now().UTC().AddDate(0, 0, -1)
	for i := 364; i >= 0; i-- {
		d := float64(364 - i)
		v := 10000 / (1 + math.Exp(-(d-540)/60)) * (1 + 0.04*math.Sin(d*2*math.Pi/7))
		fmt.Fprintf(&csv, "%s,%.0f\n", end.AddDate(0, 0, -i).Format("2006-01-02"), v)
	}
	file := filepath.Join(t.TempDir(), "sales.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	var flash, suggestion, legend string
	var bands int
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/products/SALES/metrics"),
		chromedp.WaitVisible(`#define-metric`),
		chromedp.SendKeys(`#metric-name`, "Subscriptions"),
		chromedp.SendKeys(`#metric-key`, "sales"),
		chromedp.SendKeys(`#metric-unit`, "subscriptions"),
		clickAndLoad(`#metric-create`),
		chromedp.WaitVisible(`#metric-csv`),
		chromedp.SetUploadFiles(`#metric-csv`, []string{file}),
		clickAndLoad(`#metric-upload`),
		chromedp.WaitVisible(`#metric-chart svg.metric-chart`),
		into(&flash, chromedp.Text(`.flash`)),
		into(&suggestion, chromedp.Text(`#stage-suggestion`)),
		into(&legend, chromedp.Text(`#metric-chart .chart-legend`)),
		into(&bands, chromedp.Evaluate[int](`document.querySelectorAll('#metric-chart rect.stage-band').length`)),
	)
	if err != nil {
		t.Fatalf("upload a year of sales: %v", err)
	}
	if !strings.Contains(flash, "Recorded 365 new points") {
		t.Errorf("flash = %q", flash)
	}
	if !strings.Contains(suggestion, "Growth") || !strings.Contains(suggestion, "12-week growth rate") || !strings.Contains(suggestion, "recorded in Introduction") {
		t.Errorf("suggestion = %q, want growth with its reason, against introduction", suggestion)
	}
	if bands < 1 || !strings.Contains(legend, "Introduction since") {
		t.Errorf("%d stage bands, legend %q", bands, legend)
	}
	screenshot(t, ctx, "portfolio-01-metrics")

	// The product page loads the same section.
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/products/SALES"),
		chromedp.WaitVisible(`#metrics svg.metric-chart`),
		into(&suggestion, chromedp.Text(`#metrics #stage-suggestion`)),
	)
	if err != nil {
		t.Fatalf("product page metrics: %v", err)
	}
	if !strings.Contains(suggestion, "12-week growth rate") {
		t.Errorf("product page suggestion = %q", suggestion)
	}
	screenshot(t, ctx, "portfolio-02-product")

	var delivered, orphans string
	err = chromedp.Do(ctx,
		clickAndLoad(`a[href="/products/SALES/alignment"]`),
		chromedp.WaitVisible(`#delivered-share`),
		into(&delivered, chromedp.Text(`#delivered-share`)),
		into(&orphans, chromedp.Text(`#orphans`)),
	)
	if err != nil {
		t.Fatalf("alignment: %v", err)
	}
	if !strings.Contains(delivered, "80 %") || !strings.Contains(delivered, "8 of 10 points") {
		t.Errorf("delivered = %q, want 80 %% (8 of 10 points)", delivered)
	}
	if !strings.Contains(orphans, "Rotate the signing keys") || !strings.Contains(orphans, "No feature") {
		t.Errorf("orphans = %q", orphans)
	}
	screenshot(t, ctx, "portfolio-03-alignment")

	// Release the feature with a note: the portal voter's mailbox gets it,
	// and the feature page says how many were told.
	var told string
	note := "Your reading streak now shows on the home screen."
	feature := ts.URL + "/products/SALES/features/SALES-1"
	err = chromedp.Do(ctx,
		chromedp.Navigate(feature),
		chromedp.WaitVisible(`#release-note`),
		chromedp.SendKeys(`#release-note`, note),
		clickAndLoad(`#release-note-save`),
		chromedp.WaitVisible(`#release-note`),
		chromedp.Click(`#edit-plan`),
		chromedp.SetValue(`#plan-status`, "released"),
		clickAndLoad(`#plan-form button[type="submit"]`),
		chromedp.WaitVisible(`#told-count`),
	)
	if err != nil {
		t.Fatalf("release with a note: %v", err)
	}
	msgs := sink.WaitFor(t, 2)
	var voter string
	for _, m := range msgs {
		if strings.Contains(m, "To: voter@example.com\r\n") {
			voter = m
		}
	}
	if !strings.Contains(voter, "Subject: Shipped: Reading streaks") || !strings.Contains(voter, note) || !strings.Contains(voter, "http://northstar.test/unsubscribe/un_") {
		t.Errorf("the voter's mail = %q", voter)
	}
	// The count comes from the recorded notices; reload until both mails are in.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(told, "2 by mail") && time.Now().Before(deadline) {
		if err := chromedp.Do(ctx, chromedp.Navigate(feature), chromedp.WaitVisible(`#told-count`), into(&told, chromedp.Text(`#told-count`))); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(told, "2 by mail") {
		t.Errorf("told = %q, want the portal author and the voter by mail", told)
	}
	screenshot(t, ctx, "portfolio-04-release-told")

	// The portfolio: SALES in the introduction column with the curve's
	// hint, the roadmap across products as a timeline (a group per
	// product, what has no dates listed below), and this month's digest.
	var column, roadmap, undated, digest string
	var groups, bars []string
	err = chromedp.Do(ctx,
		clickAndLoad(`a[href="/portfolio"]`),
		chromedp.WaitVisible(`#stage-board`),
		chromedp.WaitVisible(`#portfolio-timeline svg`),
		into(&column, chromedp.Text(`.stage-column[data-stage="introduction"]`)),
		into(&roadmap, chromedp.Text(`#portfolio-roadmap`)),
		into(&undated, chromedp.Text(`#portfolio-undated`)),
		into(&groups, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#portfolio-timeline a.tl-group-link')].map(a => a.getAttribute('href'))`)),
		into(&bars, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#portfolio-timeline a.tl-link')].filter(a => a.querySelector('.tl-bar')).map(a => a.getAttribute('href'))`)),
	)
	if err != nil {
		t.Fatalf("portfolio: %v", err)
	}
	if !strings.Contains(column, "SALES") || !strings.Contains(column, "curve: Growth") {
		t.Errorf("introduction column = %q", column)
	}
	if !strings.Contains(roadmap, "Family sharing") || !strings.Contains(strings.ToLower(undated), "1 feature without dates") {
		t.Errorf("roadmap = %q, undated = %q", roadmap, undated)
	}
	if want := "/products/BOOK/roadmap /products/SALES/roadmap"; strings.Join(groups, " ") != want {
		t.Errorf("timeline groups = %q, want %s", groups, want)
	}
	if want := "/products/BOOK/features/BOOK-1 /products/BOOK/features/BOOK-2 /products/SALES/features/SALES-3"; strings.Join(bars, " ") != want {
		t.Errorf("timeline bars = %q, want %s", bars, want)
	}
	screenshot(t, ctx, "portfolio-05-board")
	err = chromedp.Do(ctx,
		clickAndLoad(`#shipped-link`),
		chromedp.WaitVisible(`#shipped`),
		into(&digest, chromedp.Text(`#shipped`)),
	)
	if err != nil {
		t.Fatalf("shipped: %v", err)
	}
	if !strings.Contains(digest, "Reading streaks") || !strings.Contains(digest, note) {
		t.Errorf("digest = %q", digest)
	}
	screenshot(t, ctx, "portfolio-06-shipped")

	// The timeline in the dark theme, then on a phone, where it scrolls
	// sideways inside its card; in a second window (each window has its
	// own time limit).
	dark := newBrowser(t, 1280, 1000)
	signIn(t, dark, ts.URL, "pm@northstar.test")
	err = chromedp.Do(dark,
		chromedp.Click(`#theme-toggle`),
		chromedp.Navigate(ts.URL+"/portfolio"),
		chromedp.WaitVisible(`#portfolio-timeline svg`),
	)
	if err != nil {
		t.Fatalf("portfolio, dark: %v", err)
	}
	screenshot(t, dark, "portfolio-07-timeline-dark")
	err = chromedp.Do(dark, chromedp.EmulateViewport(390, 844), settle())
	if err != nil {
		t.Fatalf("portfolio on a phone: %v", err)
	}
	screenshot(t, dark, "portfolio-08-timeline-phone-dark")
}
