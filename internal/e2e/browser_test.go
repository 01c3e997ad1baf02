// Package e2e drives the real web UI in headless Chromium.
package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/northstar-pm/northstar/internal/app"
	"github.com/northstar-pm/northstar/internal/server"
	"github.com/northstar-pm/northstar/internal/store"
	"github.com/northstar-pm/northstar/internal/store/storetest"
)

// browserPath finds Chromium. Without it the browser tests skip, except
// under CI or when NORTHSTAR_BROWSER is set, where they must run.
func browserPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NORTHSTAR_BROWSER"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no Chromium found; make test installs Debian's chromium")
	}
	t.Skip("no Chromium found: browser tests skipped (make test installs it)")
	return ""
}

// screenshotDir is where screenshots go: NORTHSTAR_SCREENSHOTS, or
// screenshots/ at the top of the repository.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("NORTHSTAR_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startServer serves a fresh SQLite database in-process.
func startServer(t *testing.T, e store.Engine, demo bool) *httptest.Server {
	t.Helper()
	seed := (*app.App).SeedDemo
	if !demo {
		seed = nil
	}
	return startServerSeeded(t, e, seed)
}

// startEmptyDemo starts a server with the demo accounts and products but
// none of their work, for tests of first steps.
func startEmptyDemo(t *testing.T) *httptest.Server {
	t.Helper()
	return startServerSeeded(t, store.SQLite, (*app.App).SeedDemoAccounts)
}

func startServerSeeded(t *testing.T, e store.Engine, seed func(*app.App, context.Context, func(string)) (bool, error)) *httptest.Server {
	t.Helper()
	db := storetest.Open(t, e)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(db, log)
	if seed != nil {
		if _, err := seed(a, context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewUnstartedServer(nil)
	srv, err := server.New(a, "http://"+ts.Listener.Addr().String(), log)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// newBrowser starts headless Chromium with a fresh profile.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Lists reorder without animation, as for a person who asks for
		// reduced motion: a drag then lands where the mouse lets go even
		// on a busy machine.
		chromedp.Flag("force-prefers-reduced-motion", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}

// into stores an action's value in dst, so that steps read in one list.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(screenshotDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestSignUpCreateProductChangeStage walks a newcomer's first minutes: sign
// up as the first user, create a product, move it through its lifecycle
// (a backwards move without a note is refused, with one it succeeds).
func TestSignUpCreateProductChangeStage(t *testing.T) {
	ts := startServer(t, store.SQLite, false)
	ctx := newBrowser(t, 1280, 900)

	var heading, stage, history, errText string
	err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(`input[name="name"]`),
		into(&heading, chromedp.Text("h1")),
		chromedp.SendKeys(`input[name="name"]`, "Ada Lovelace"),
		chromedp.SendKeys(`input[name="email"]`, "ada@example.com"),
		chromedp.SendKeys(`input[name="password"]`, "correct horse battery"),
		clickAndLoad(`button[type="submit"]`),
		chromedp.WaitVisible(`a[href="/products/new"]`),
	)
	if err != nil {
		t.Fatalf("sign up: %v", err)
	}
	if heading != "Set up Northstar" {
		t.Errorf("first page heading = %q, want the set-up page", heading)
	}
	screenshot(t, ctx, "01-empty-products")

	err = chromedp.Do(ctx,
		clickAndLoad(`a[href="/products/new"]`),
		chromedp.WaitVisible(`input[name="key"]`),
		chromedp.SendKeys(`input[name="name"]`, "Book inventory"),
		chromedp.SendKeys(`input[name="key"]`, "BOOK"),
		chromedp.SendKeys(`input[name="description"]`, "Stock and orders for independent bookshops."),
		chromedp.SendKeys(`textarea[name="vision"]`, "## For bookshops\n\nNever lose a sale to an **empty shelf**."),
		clickAndLoad(`form[action="/products"] button[type="submit"]`),
		chromedp.WaitVisible(`#lifecycle`),
	)
	if err != nil {
		t.Fatalf("create product: %v", err)
	}

	// Forward to development through the htmx form.
	err = chromedp.Do(ctx,
		chromedp.SetValue(`#stage-select`, "development"),
		chromedp.SendKeys(`#stage-note`, "Prototype funded"),
		chromedp.Click(`#lifecycle button[type="submit"]`),
		chromedp.WaitVisible(`.stage-step.current[aria-current="step"]`),
		chromedp.Sleep(300*time.Millisecond),
		into(&stage, chromedp.Text(`.stage-step.current .label`)),
		into(&history, chromedp.Text(`.timeline`)),
	)
	if err != nil {
		t.Fatalf("change stage: %v", err)
	}
	if stage != "Development" {
		t.Errorf("current stage = %q, want Development", stage)
	}
	if !strings.Contains(history, "Prototype funded") {
		t.Errorf("history %q does not show the note", history)
	}

	// Backwards without a note: refused with a message, stage unchanged.
	err = chromedp.Do(ctx,
		chromedp.SetValue(`#stage-select`, "conceived"),
		chromedp.Click(`#lifecycle button[type="submit"]`),
		chromedp.WaitVisible(`#lifecycle .form-error`),
		into(&errText, chromedp.Text(`#lifecycle .form-error`)),
		into(&stage, chromedp.Text(`.stage-step.current .label`)),
	)
	if err != nil {
		t.Fatalf("backwards move: %v", err)
	}
	if !strings.Contains(errText, "needs a note") || stage != "Development" {
		t.Errorf("backwards without note: error %q, stage %q", errText, stage)
	}

	// Forward again to growth.
	err = chromedp.Do(ctx,
		chromedp.SetValue(`#stage-select`, "introduction"),
		chromedp.SendKeys(`#stage-note`, "Launched to three pilot shops"),
		chromedp.Click(`#lifecycle button[type="submit"]`),
		chromedp.WaitVisible(`//li[contains(@class,"current")]//span[text()="Introduction"]`),
		chromedp.Reload(),
		chromedp.WaitVisible(`#lifecycle`),
		into(&stage, chromedp.Text(`.stage-step.current .label`)),
	)
	if err != nil {
		t.Fatalf("move to introduction: %v", err)
	}
	if stage != "Introduction" {
		t.Errorf("after reload the stage is %q, want Introduction", stage)
	}
	screenshot(t, ctx, "02-product-lifecycle")
}

// TestDemoPages signs in as the demo product manager and photographs the
// main pages in light and dark themes and on a phone, for people to look at.
func TestDemoPages(t *testing.T) {
	ts := startServer(t, store.SQLite, true)
	for _, tc := range []struct {
		name          string
		width, height int
		dark          bool
	}{
		{"desktop", 1280, 900, false},
		{"desktop-dark", 1280, 900, true},
		{"phone", 390, 844, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := newBrowser(t, tc.width, tc.height)
			err := chromedp.Do(ctx,
				chromedp.Navigate(ts.URL+"/login"),
				chromedp.WaitVisible(`input[name="email"]`),
				chromedp.SendKeys(`input[name="email"]`, "pm@northstar.test"),
				chromedp.SendKeys(`input[name="password"]`, app.DemoPassword),
				clickAndLoad(`button[type="submit"]`),
				chromedp.WaitVisible(`.product-grid`),
			)
			if err != nil {
				t.Fatal(err)
			}
			if tc.dark {
				if err := chromedp.Do(ctx, chromedp.Click(`#theme-toggle`), chromedp.Sleep(100*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range []struct{ path, wait, name string }{
				{"/products", ".product-grid", "products"},
				{"/products/BOOK", "#lifecycle", "product"},
				{"/products/BOOK/settings", "#members", "settings"},
				{"/account", "form[action='/account/tokens']", "account"},
			} {
				if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+p.path), chromedp.WaitVisible(p.wait)); err != nil {
					t.Fatalf("%s: %v", p.path, err)
				}
				screenshot(t, ctx, "demo-"+tc.name+"-"+p.name)
			}
		})
	}
}

// settle waits until the page is still: loaded, its stylesheets applied,
// its slots filled (hx-trigger="load"), no htmx request or swap on its
// way, and its size unchanged for 150 ms. A click aims at where the
// element is when it is sent; a layout that moves afterwards (a slot
// filling, the stylesheet a swapped-in part brings) sends the press
// elsewhere on a busy machine. After 15 s it gives up waiting and the
// step after it says what is wrong.
func settle() chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`new Promise(resolve => {
  const busy = () => document.readyState !== "complete" ||
    document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, [hx-trigger="load"]') ||
    [...document.querySelectorAll('link[rel="stylesheet"]')].some(l => !l.sheet);
  const shape = () => document.body ? [document.body.scrollWidth, document.body.scrollHeight, document.getElementsByTagName("*").length].join(":") : "";
  let last = "", still = 0;
  const tick = () => {
    const now = shape();
    still = !busy() && now === last ? still + 1 : 0;
    last = now;
    if (still >= 3) resolve(); else setTimeout(tick, 50);
  };
  setTimeout(resolve, 15000);
  tick();
})`, chromedp.EvalAwaitPromise)
}

// clickAndLoad clicks what leads to another page (a link, a form's
// button) and waits until that page has loaded and settled, so that the
// next step cannot find the page it is leaving.
func clickAndLoad(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		settle(),
		chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.e2eLeaving = "1"`),
		chromedp.Click(sel),
		chromedp.WaitReady(`html:not([data-e2e-leaving])`),
		settle(),
	)
}
