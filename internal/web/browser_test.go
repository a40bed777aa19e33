package web

import (
	"context"
	_ "embed"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/internal/testenv"
)

// axeSource is axe-core (MPL-2.0), vendored by scripts/vendor-axe.sh.
//
//go:embed testdata/axe.min.js
var axeSource string

var screenshots = flag.String("screenshots", "", "write PNG screenshots of the main pages to this folder (docs/console)")

// browser is a headless Chromium driven over the DevTools protocol, one
// browser context (its own cookies) per person.
type browser struct {
	t   *testing.T
	e   *env
	ctx context.Context
}

func newBrowser(t *testing.T) context.Context {
	path := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// person opens a new browser context in the browser of root.
func (e *env) person(t *testing.T, root context.Context) *browser {
	ctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	return &browser{t: t, e: e, ctx: ctx}
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.60s: %v", js, err)
	}
	return s
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.e.srv.URL+path), chromedp.WaitReady(chromedp.CSS("main")))
}

func (b *browser) login(username string) {
	b.t.Helper()
	b.open("/login")
	b.do(
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("form.logout")),
	)
}

// navigates runs steps that load another page and waits until it has:
// the old document is marked, and the wait ends when a document without
// the mark is ready, so that an element of the old page never satisfies it.
func (b *browser) navigates(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.eval(`window.__stale = true; 'ok'`)
	b.do(steps...)
	// Evaluating during the navigation fails while the old context goes
	// away; ask again until the new document answers.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!window.__stale && document.readyState === 'complete'`))
		if err == nil && done {
			return
		}
		select {
		case <-b.ctx.Done():
			b.t.Fatalf("waiting for the next page: %v (last: %v)", b.ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// key sends one key to the page, as a person typing.
func (b *browser) key(k string) {
	b.t.Helper()
	b.do(chromedp.KeyEvent(k))
}

// axe runs axe-core's WCAG 2.x A and AA rules on the page and fails on any
// serious or critical violation; it also weighs the page (weigh).
func (b *browser) axe(page string) {
	b.t.Helper()
	b.countsFilled()
	if got := b.axeViolations(); got != "" {
		b.t.Errorf("axe-core on %s:\n%s", page, got)
	}
	b.weigh(page)
}

// countsFilled waits until the queue page's script has filled in the
// per-filter counts the page was rendered without (its filter form's
// data-counts), and tells whether there were any; on other pages it
// returns at once.
func (b *browser) countsFilled() bool {
	b.t.Helper()
	return b.eval(`new Promise(ok => {
		const f = document.querySelector('form.filters[data-counts]');
		const wait = () => !f || f.hasAttribute('data-counted') ? ok(String(!!f)) : setTimeout(wait, 20);
		wait();
	})`) == "true"
}

// maxPageWeight is the bar for a page before images: its HTML, its
// style sheets and its scripts.
const maxPageWeight = 150 << 10

// weigh fails when the page's HTML as served, with its style sheets and
// scripts, weighs over maxPageWeight.
func (b *browser) weigh(page string) {
	b.t.Helper()
	// With the queue's counts, fetched by its script after it loads.
	got := b.eval(`Promise.all([...document.querySelectorAll('link[rel=stylesheet][href], script[src], form[data-counts]')]
		.map(e => fetch(e.href || e.src || e.dataset.counts).then(r => r.arrayBuffer()).then(a => a.byteLength)))
		.then(ls => String(ls.reduce((a, b) => a + b, performance.getEntriesByType('navigation')[0].decodedBodySize)))`)
	n, err := strconv.Atoi(got)
	if err != nil || n <= 0 {
		b.t.Errorf("weighing %s: %q", page, got)
		return
	}
	if n > maxPageWeight {
		b.t.Errorf("%s weighs %d bytes before images, over %d", page, n, maxPageWeight)
	}
	b.t.Logf("%s: %d bytes before images", page, n)
}

// axeViolations returns axe-core's serious and critical findings on the
// page, one a line.
func (b *browser) axeViolations() string {
	b.t.Helper()
	b.eval(axeSource + "; 'ok'")
	return b.eval(`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
		.then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => v.impact + ' ' + v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')).join('\n'))`)
}

// shot saves a screenshot of the page under -screenshots.
func (b *browser) shot(name string) {
	b.t.Helper()
	if *screenshots == "" {
		return
	}
	// Images below the fold load lazily: load them all before the shot.
	b.eval(`Promise.race([new Promise(ok => setTimeout(ok, 5000)), Promise.all([...document.images].map(i => {
		i.loading = 'eager'; return i.complete ? 0 : new Promise(ok => { i.onload = i.onerror = ok; }); }))]).then(() => 'ok')`)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) status(id string) string {
	b.t.Helper()
	c, err := b.e.store.GetComplaint(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return c.Status
}

// TestBrowser drives the console in a real Chromium: logging in and out, a
// refused forged request, the queue with filters, deciding by keyboard,
// bulk decisions, a claim conflict between two people, a brand owner
// registering a mark with an image upload and its preview, tenant isolation
// by URL, an admin lifting a suspension, and axe-core on every main page.
func TestBrowser(t *testing.T) {
	root := newBrowser(t)
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	e.mark(t, ownHolder, "", "active")
	e.mark(t, otherHolder, "", "active")
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = e.complaint(t, ownHolder)
		time.Sleep(2 * time.Millisecond) // distinct ages, a stable order
	}
	otherID := e.complaint(t, otherHolder)
	// The first complaint's seller shares a phone with another: the
	// complaint page shows the network to reviewers.
	first, err := e.store.GetComplaint(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{first.Body.SellerID, "s_linked"} {
		if _, err := e.store.LinkSeller(context.Background(), s, "l_"+s, []store.SellerKey{{Kind: "phone", Value: "5550001111"}}, 10); err != nil {
			t.Fatal(err)
		}
	}
	// The holder's mark is in flood quarantine for a stock photo.
	if err := e.store.WithTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.SetMarkQuarantines(context.Background(), "m_"+ownHolder, []domain.Quarantine{{
			Kind: domain.QuarantineImage, Ref: "https://img.example/stock.jpg", Trigger: domain.TriggerFlood,
			Reason: "flood: 412 automatic complaints in the last 1h0m0s against a baseline of 3.5 per 1h0m0s (at least 10 times that and 50 complaints quarantine); image https://img.example/stock.jpg",
			Since:  time.Now(),
		}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The complaint rejected by keyboard below, whose page offers the
	// negative bank.
	var rejectedID string
	// The brand owner's mark registered in the browser and its upload's
	// preview, which another holder's owner must not reach.
	var ownMarkID, previewURL string

	t.Run("log in and out", func(t *testing.T) {
		b := e.person(t, root)
		b.open("/queue") // redirected to the login page
		b.axe("login")
		b.shot("login")
		// The check can fail: an input without a label is found.
		b.eval(`document.querySelector('form').appendChild(document.createElement('input')); 'ok'`)
		if got := b.axeViolations(); !strings.Contains(got, "label") {
			t.Errorf("axe-core missed an unlabelled input: %q", got)
		}
		b.login("reviewer")
		if h := b.text("h1"); !strings.Contains(h, "Review queue") {
			t.Fatalf("landing page %q", h)
		}
		b.do(chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.CSS("#username")))
		b.open("/queue")
		if loc, _ := chromedp.Run(b.ctx, chromedp.Location()); !strings.Contains(loc, "/login") {
			t.Errorf("after logout /queue is at %s", loc)
		}
	})

	t.Run("CSRF refusal", func(t *testing.T) {
		b := e.person(t, root)
		b.login("reviewer")
		got := b.eval(`fetch('/complaints/` + ids[5] + `/decide', {method: 'POST', credentials: 'same-origin',
			headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'decision=uphold&reason_code=counterfeit'}).then(r => String(r.status))`)
		if got != "403" {
			t.Errorf("a form without the token: %s, want 403", got)
		}
		if s := b.status(ids[5]); s != store.ComplaintOpen {
			t.Errorf("the forged request decided the complaint: %s", s)
		}
	})

	t.Run("queue, filters, decide by keyboard", func(t *testing.T) {
		b := e.person(t, root)
		b.login("reviewer")
		b.axe("queue")
		b.shot("queue")
		b.do(
			chromedp.SendKeys(chromedp.CSS("#f-q"), "bag "+strings.TrimPrefix(ids[0], "c_h_own_")),
			chromedp.Submit(chromedp.CSS("#f-q")),
		)
		// The old page has an h1 too: wait until the filtered page has
		// loaded, or the next navigation aborts this one. Evaluating while
		// the page navigates fails; that is a reason to look again.
		for deadline := time.Now().Add(15 * time.Second); ; {
			done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`location.search.includes('q=') && document.readyState === 'complete' && !!document.querySelector('main')`))
			if err == nil && done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the filtered queue did not load: %v", err)
			}
			select {
			case <-b.ctx.Done():
				t.Fatal(b.ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
		rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('tr.row').length`))
		if err != nil || rows < 1 {
			t.Fatalf("filtered queue has %d rows (%v)", rows, err)
		}
		b.open("/queue")
		b.key("j")
		b.key("o")
		b.do(chromedp.WaitVisible(chromedp.CSS("#decide")))
		id := b.eval(`document.querySelector('.complaint').dataset.id`)
		b.axe("complaint")
		// The logo region of the fixture's evidence is drawn over the
		// listing photo, described in words, beside the reference image.
		drawn := b.eval(`(() => { const s = document.querySelector('svg.region'); if (!s) return 'none';
			const r = s.querySelector('rect.box'), cap = document.getElementById(s.getAttribute('aria-labelledby'));
			return [r ? r.getAttribute('x') + ',' + r.getAttribute('y') + ',' + r.getAttribute('width') + ',' + r.getAttribute('height') : 'no box',
				Math.round(s.getBoundingClientRect().width), cap ? cap.textContent : 'no caption'].join('|'); })()`)
		if !strings.HasPrefix(drawn, "120,20,60,40|240|Listing photo 1: the matched region is outlined") {
			t.Errorf("the matched region is drawn as %q", drawn)
		}
		if id == ids[0] {
			if net := b.eval(`(document.querySelector('table.network caption') || {textContent: 'none'}).textContent`); !strings.Contains(net, "2 linked seller(s)") {
				t.Errorf("the seller network on the complaint page: %q", net)
			}
		}
		b.shot("complaint")
		b.key("?")
		if open := b.eval(`String(document.getElementById('help').open)`); open != "true" {
			t.Errorf("? did not open the help")
		}
		b.key(kb.Escape)
		if open := b.eval(`String(document.getElementById('help').open)`); open != "false" {
			t.Errorf("Escape did not close the help")
		}
		b.key("u")
		if a := b.eval(`document.activeElement.id`); a != "d-reason" {
			t.Errorf("after u the focus is on %q, want the reason", a)
		}
		b.navigates(chromedp.SetValue(chromedp.CSS("#d-reason"), "counterfeit"), chromedp.KeyEvent(kb.Enter))
		if s := b.status(id); s != store.ComplaintUpheld {
			t.Errorf("complaint %s is %s after u, want upheld", id, s)
		}
		if next := b.eval(`(document.querySelector('.complaint') || {dataset: {}}).dataset.id || ''`); next == id || next == "" {
			t.Errorf("after the decision the page is %q, want the next complaint", next)
		}
		// r rejects the one now open.
		next := b.eval(`document.querySelector('.complaint').dataset.id`)
		b.key("r")
		b.navigates(chromedp.SetValue(chromedp.CSS("#d-reason"), "genuine"), chromedp.KeyEvent(kb.Enter))
		if s := b.status(next); s != store.ComplaintRejected {
			t.Errorf("complaint %s is %s after r, want rejected", next, s)
		}
		rejectedID = next
	})

	t.Run("negative bank on a rejected complaint", func(t *testing.T) {
		if rejectedID == "" {
			t.Skip("no complaint was rejected above")
		}
		b := e.person(t, root)
		b.login("reviewer")
		b.open("/complaints/" + rejectedID)
		b.do(chromedp.WaitVisible(chromedp.CSS("#bank-form")))
		b.axe("rejected complaint with the negative bank")
		b.shot("complaint-bank")
	})

	t.Run("queue matcher filter and counts", func(t *testing.T) {
		b := e.person(t, root)
		b.login("reviewer2")
		open := b.eval(`String(document.querySelectorAll('tr.row').length)`)
		// The counts of the status, source and matcher options are kept
		// by triggers and come with the page; those of the ages take a
		// walk of the queue and come from the page's script after it has
		// loaded (unless counted in the last few seconds).
		if !b.countsFilled() {
			t.Log("every count came with the page")
		}
		if got := b.eval(`document.querySelector('#f-age option[value="168h"]').textContent`); got != "168h ("+open+")" {
			t.Errorf("168h option %q, want the %s open complaints", got, open)
		}
		// Every complaint of the test has text, cue and image evidence,
		// none a price signal: the counts beside the options say so.
		if got := b.eval(`document.querySelector('#f-matcher option[value=cue]').textContent`); got != "cue ("+open+")" {
			t.Errorf("cue option %q, want the %s open complaints", got, open)
		}
		if got := b.eval(`document.querySelector('#f-matcher option[value=image]').textContent`); got != "image ("+open+")" {
			t.Errorf("image option %q, want the %s open complaints", got, open)
		}
		if got := b.eval(`document.querySelector('#f-matcher option[value=price]').textContent`); got != "price (0)" {
			t.Errorf("price option %q, want 0", got)
		}
		if got := b.eval(`document.querySelector('#f-status option[value=open]').textContent`); got != "open ("+open+")" {
			t.Errorf("open option %q, want %s", got, open)
		}
		b.navigates(chromedp.SetValue(chromedp.CSS("#f-matcher"), "price"), chromedp.Submit(chromedp.CSS("#f-matcher")))
		if n := b.eval(`String(document.querySelectorAll('tr.row').length)`); n != "0" {
			t.Errorf("matcher=price lists %s rows", n)
		}
		if got := b.eval(`location.search`); !strings.Contains(got, "matcher=price") {
			t.Errorf("filtered queue at %q", got)
		}
		b.navigates(chromedp.SetValue(chromedp.CSS("#f-matcher"), "cue"), chromedp.Submit(chromedp.CSS("#f-matcher")))
		if n := b.eval(`String(document.querySelectorAll('tr.row').length)`); n != open {
			t.Errorf("matcher=cue lists %s rows, want %s", n, open)
		}
		if sel := b.eval(`document.getElementById('f-matcher').value`); sel != "cue" {
			t.Errorf("the matcher select shows %q after filtering", sel)
		}
		// With a matcher, the status counts are kept too and the ages'
		// come from the script.
		b.countsFilled()
		if got := b.eval(`document.querySelector('#f-age option[value="168h"]').textContent`); got != "168h ("+open+")" {
			t.Errorf("168h option under matcher=cue %q, want %s", got, open)
		}
		b.axe("queue filtered by matcher")
	})

	t.Run("Ctrl-K palette", func(t *testing.T) {
		ctrlK := chromedp.KeyEvent("k", chromedp.KeyModifiers(chromedp.ModifierCtrl))
		b := e.person(t, root)
		b.login("reviewer2")
		b.open("/queue")
		b.do(chromedp.Focus(chromedp.CSS("#f-q")), ctrlK, chromedp.WaitVisible(chromedp.CSS("#palette-list li")))
		if a := b.eval(`document.activeElement.id`); a != "palette-q" {
			t.Errorf("Ctrl-K put the focus on %q, want the palette's input", a)
		}
		labels := b.eval(`Array.from(document.querySelectorAll('#palette-list li')).map(li => li.textContent).join('|')`)
		for _, want := range []string{"Review queue", "Second look", "Decide selected"} {
			if !strings.Contains(labels, want) {
				t.Errorf("reviewer's palette lacks %q: %s", want, labels)
			}
		}
		for _, not := range []string{"Users", "Audit log", "Register a mark"} {
			if strings.Contains(labels, not) {
				t.Errorf("reviewer's palette offers %q: %s", not, labels)
			}
		}
		b.axe("Ctrl-K palette")
		b.shot("palette")
		// Escape closes it and gives the focus back.
		b.key(kb.Escape)
		if got := b.eval(`String(document.getElementById('palette').open) + ' ' + document.activeElement.id`); got != "false f-q" {
			t.Errorf("after Escape: open and focus %q, want closed and back on f-q", got)
		}
		// Jump to a complaint by its id, by keyboard alone.
		target := ids[3]
		b.do(chromedp.Focus(chromedp.CSS("main")), ctrlK, chromedp.WaitVisible(chromedp.CSS("#palette-q")), chromedp.SendKeys(chromedp.CSS("#palette-q"), target))
		b.do(chromedp.WaitVisible(chromedp.CSS(`#palette-list li[aria-selected=true]`)))
		// The list shown is the answer to the whole id typed (data-q), not
		// to a part of it or to the empty palette.
		for deadline := time.Now().Add(10 * time.Second); b.eval(`document.getElementById('palette-list').getAttribute('data-q') || ''`) != target ||
			!strings.Contains(b.eval(`(document.querySelector('#palette-list li') || {}).textContent || ''`), target); {
			if time.Now().After(deadline) {
				t.Fatalf("no entry for %s: %s (answer to %q)", target, b.eval(`document.getElementById('palette-list').textContent`), b.eval(`document.getElementById('palette-list').getAttribute('data-q') || ''`))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if ad := b.eval(`document.getElementById('palette-q').getAttribute('aria-activedescendant')`); ad != "palette-opt-0" {
			t.Errorf("aria-activedescendant %q", ad)
		}
		b.key(kb.ArrowDown)
		b.key(kb.ArrowUp)
		if a := b.eval(`document.activeElement.id`); a != "palette-q" {
			t.Errorf("before Enter the focus is on %q, want the palette's input", a)
		}
		b.navigates(chromedp.KeyEvent(kb.Enter))
		if loc := b.eval(`location.pathname`); loc != "/complaints/"+target {
			t.Errorf("Enter went to %s, want /complaints/%s", loc, target)
		}
		// A brand owner is offered neither the staff's pages nor another
		// holder's complaint, whatever it types.
		o := e.person(t, root)
		o.login("other_owner")
		got := o.eval(`fetch('/palette?q=` + ids[0] + `').then(r => r.json()).then(d => d.items.map(i => i.href).join(' '))`)
		if strings.Contains(got, "/complaints/") || strings.Contains(got, "/queue") || strings.Contains(got, "/admin/") {
			t.Errorf("other holder's owner is offered %q", got)
		}
		got = o.eval(`fetch('/palette?q=` + otherID + `').then(r => r.json()).then(d => d.items.map(i => i.href).join(' '))`)
		if !strings.Contains(got, "/complaints/"+otherID) {
			t.Errorf("owner's own complaint: %q", got)
		}
		got = o.eval(`fetch('/palette?q=').then(r => r.json()).then(d => d.items.map(i => i.href).join(' '))`)
		if !strings.Contains(got, "/marks") || !strings.Contains(got, "/portal/complaints") || strings.Contains(got, "/queue") || strings.Contains(got, "/admin/") {
			t.Errorf("owner's pages: %q", got)
		}
	})

	t.Run("claim conflict between two people", func(t *testing.T) {
		alice, bob := e.person(t, root), e.person(t, root)
		alice.login("reviewer")
		bob.login("reviewer2")
		alice.open("/complaints/" + ids[4])
		alice.do(chromedp.WaitVisible(chromedp.CSS("#decide")))
		bob.open("/complaints/" + ids[4])
		if w := bob.text("p.warn"); !strings.Contains(w, "Claimed by Test reviewer") {
			t.Errorf("Bob sees %q, want Alice's claim", w)
		}
		if n := bob.eval(`String(document.querySelectorAll('#decide').length)`); n != "0" {
			t.Errorf("Bob is offered a decision on a claimed complaint")
		}
		bob.open("/queue")
		if !strings.Contains(bob.text("tbody"), "claimed by Test reviewer") {
			t.Errorf("Bob's queue does not show the claim")
		}
	})

	t.Run("bulk decide", func(t *testing.T) {
		// Two complaints nobody has opened (claimed ones cannot be ticked).
		fresh := []string{e.complaint(t, ownHolder), e.complaint(t, ownHolder)}
		b := e.person(t, root)
		b.login("reviewer2")
		b.open("/queue")
		b.do(
			chromedp.Click(chromedp.CSS(`input[value="`+fresh[0]+`"]`)),
			chromedp.Click(chromedp.CSS(`input[value="`+fresh[1]+`"]`)),
			chromedp.SetValue(chromedp.CSS("#b-decision"), "reject"),
			chromedp.SetValue(chromedp.CSS("#b-reason"), "insufficient_evidence"),
		)
		b.navigates(chromedp.Click(chromedp.CSS("fieldset.bulk button")))
		for _, id := range fresh {
			if s := b.status(id); s != store.ComplaintRejected {
				t.Errorf("%s is %s after the bulk reject", id, s)
			}
		}
	})

	t.Run("brand owner registers a mark and uploads an image", func(t *testing.T) {
		b := e.person(t, root)
		b.login("brand_owner")
		b.axe("marks")
		b.shot("marks")
		// The holder's watched mark, with its figures drawn from the
		// complaints decided above.
		b.open("/marks/m_" + ownHolder)
		if n := b.eval(`String(document.querySelectorAll('.figures svg[role=img]').length)`); n != "4" {
			t.Errorf("%s charts on the mark page, want 4", n)
		}
		b.axe("mark page with figures")
		b.shot("mark")
		b.open("/marks/new")
		b.axe("mark registration")
		b.do(
			chromedp.SendKeys(chromedp.CSS("#m-name"), "Quillora Atelier"),
			chromedp.SendKeys(chromedp.CSS("#m-office"), "EUIPO"),
			chromedp.SendKeys(chromedp.CSS("#m-number"), "018765432"),
			chromedp.SendKeys(chromedp.CSS("#m-jur"), "EU"),
			chromedp.SendKeys(chromedp.CSS("#m-classes"), "18, 25"),
			chromedp.SendKeys(chromedp.CSS("#m-prices"), "1200.00 EUR handbags"),
			chromedp.Click(chromedp.CSS("form.stack button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#upload")),
		)
		logo := filepath.Join(t.TempDir(), "logo.png")
		if err := os.WriteFile(logo, testPNG(t, 96, 96), 0o644); err != nil {
			t.Fatal(err)
		}
		b.do(chromedp.SetUploadFiles(chromedp.CSS("#u-file"), []string{logo}), chromedp.WaitVisible(chromedp.CSS("#preview figcaption")))
		b.navigates(chromedp.Click(chromedp.CSS("#upload button")))
		if f := b.text("p.flash"); !strings.Contains(f, "1 image(s) added") {
			t.Errorf("after upload: %q", f)
		}
		// The server's preview: the picture of what is matched, loaded
		// through the console, with the matcher's warning.
		b.do(chromedp.WaitVisible(chromedp.CSS("figure.upload-preview img")))
		loaded := b.eval(`new Promise(ok => { const i = document.querySelector('figure.upload-preview img');
			const done = () => ok(String(i.naturalWidth) + 'x' + String(i.naturalHeight));
			if (i.complete) done(); else i.onload = i.onerror = done; })`)
		if loaded == "0x0" {
			t.Errorf("the preview image did not load")
		}
		if cap := b.text("figure.upload-preview figcaption"); !strings.Contains(cap, "96×96 pixels") || !strings.Contains(cap, "Weak: small") {
			t.Errorf("preview says %q, want the size and a weak-image warning", cap)
		}
		b.axe("mark page with an upload preview")
		b.shot("mark-upload")
		markPath := b.eval(`location.pathname`)
		ownMarkID = strings.TrimPrefix(markPath, "/marks/")
		previewURL = b.eval(`new URL(document.querySelector('figure.upload-preview img').src).pathname`)

		// Edit a variant and a price on the same page.
		b.do(
			chromedp.SetValue(chromedp.CSS("#e-variants"), "Quilora Atelier\n奎罗拉"),
			chromedp.SetValue(chromedp.CSS("#e-prices"), "1350.00 EUR handbags"),
		)
		b.navigates(chromedp.Click(chromedp.CSS("#edit button[type=submit]")))
		if f := b.text("p.flash"); !strings.Contains(f, "mark updated") {
			t.Errorf("after the edit: %q", f)
		}
		m, err := e.store.GetMark(context.Background(), ownMarkID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(m.Body.Variants, ",") != "Quilora Atelier,奎罗拉" || len(m.Body.ReferencePrices) != 1 || m.Body.ReferencePrices[0].Amount != "1350.00" {
			t.Errorf("edited mark: variants %q, prices %+v", m.Body.Variants, m.Body.ReferencePrices)
		}
		// A refused edit shows the API's message beside the field.
		b.do(chromedp.SetValue(chromedp.CSS("#e-prices"), "1350.00 euros"))
		b.navigates(chromedp.Click(chromedp.CSS("#edit button[type=submit]")))
		if msg := b.text("#e-prices-error"); !strings.Contains(msg, "currency") {
			t.Errorf("beside the prices: %q", msg)
		}
		if inv := b.eval(`document.getElementById('e-prices').getAttribute('aria-invalid') || ''`); inv != "true" {
			t.Errorf("the refused field is not marked invalid")
		}
		b.axe("mark edit form with an error")
		b.shot("mark-edit")
		b.open("/portal/complaints")
		b.axe("brand owner's complaints")
		b.shot("portal-complaints")
	})

	t.Run("tenant isolation by URL", func(t *testing.T) {
		b := e.person(t, root)
		b.login("other_owner")
		paths := []string{"/complaints/" + ids[0], "/marks/m_" + ownHolder, "/img/complaints/" + ids[0] + "/0", "/img/marks/m_" + ownHolder + "/0",
			"/img/marks/m_" + ownHolder + "/uploads/" + e.preview(t, "m_"+ownHolder)}
		if ownMarkID != "" {
			paths = append(paths, "/marks/"+ownMarkID, previewURL)
		}
		for _, path := range paths {
			resp, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(e.srv.URL+path))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != 404 {
				t.Errorf("other holder's owner at %s: %d, want 404", path, resp.Status)
			}
		}
		b.open("/complaints/" + otherID)
		if h := b.text("h1"); !strings.Contains(h, "bag") {
			t.Errorf("own complaint page: %q", h)
		}
		b.axe("complaint page as its brand owner")
	})

	t.Run("admin lifts a suspension", func(t *testing.T) {
		if err := e.store.WithTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.SetSellerStatus(context.Background(), "s_suspended", store.SellerSuspended)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		b := e.person(t, root)
		b.login("admin")
		b.open("/admin/sellers")
		b.axe("sellers")
		b.shot("admin-sellers")
		b.navigates(
			chromedp.SendKeys(chromedp.CSS("#lift-s_suspended"), "appeal upheld"),
			chromedp.Click(chromedp.CSS(`form[action="/admin/sellers/s_suspended/lift"] button`)),
		)
		if s, _ := e.store.GetSeller(context.Background(), "s_suspended"); s.Status != store.SellerActive {
			t.Errorf("seller is %s after the lift", s.Status)
		}
		for _, page := range []string{"/admin/marks", "/admin/users", "/admin/holders", "/admin/audit", "/counter-notices", "/second-look"} {
			b.open(page)
			b.axe(page)
		}
		b.open("/admin/audit")
		b.shot("admin-audit")
		// The admin releases the quarantine from the mark page.
		b.open("/marks/m_" + ownHolder)
		b.do(chromedp.WaitVisible(chromedp.CSS("#quarantines form.release")))
		b.axe("mark page with a quarantine, as admin")
		b.shot("mark-quarantine")
	})
}
