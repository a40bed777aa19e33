package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestMain checks for leaked goroutines, apart from the API's search index
// (an in-memory bleve index the API keeps for its lifetime, with no Close)
// and idle keep-alive connections of the test clients. The benchmarks'
// database, closed by the cleanup that runs after the check, keeps its
// pool's opener and, since the store bounds connection lifetimes, cleaner.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.Cleanup(func(int) { dropBenchSchema() }),
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionCleaner"),
		goleak.IgnoreTopFunction("net/http.(*Server).Serve"),
		goleak.IgnoreTopFunction("github.com/blevesearch/bleve/v2/index/scorch.(*Scorch).introducerLoop"),
		goleak.IgnoreTopFunction("github.com/blevesearch/bleve/v2/index/scorch.(*Scorch).persisterLoop"),
		goleak.IgnoreTopFunction("github.com/blevesearch/bleve/v2/index/scorch.(*Scorch).mergerLoop"),
		goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

func TestLoginLogout(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		c := e.client(t)
		if r := c.get("/queue"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login?next=") {
			t.Fatalf("queue without a session: %d %s", r.status, r.location)
		}
		if r := c.post("/login", url.Values{"username": {"reviewer"}, "password": {"wrong password!"}}); r.status != http.StatusUnauthorized ||
			!strings.Contains(r.body, "Wrong username or password") {
			t.Fatalf("wrong password: %d", r.status)
		}
		if r := c.post("/login", url.Values{"username": {"nobody"}, "password": {testPassword}}); r.status != http.StatusUnauthorized {
			t.Fatalf("unknown user: %d", r.status)
		}
		r := c.post("/login", url.Values{"username": {"Reviewer"}, "password": {testPassword}, "next": {"//evil.example/"}})
		if r.status != http.StatusSeeOther || r.location != "/queue" {
			t.Fatalf("login: %d to %q, want 303 to /queue (an off-site next is dropped)", r.status, r.location)
		}
		ck := r.header.Get("Set-Cookie")
		for _, want := range []string{CookieName + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(ck, want) {
				t.Errorf("cookie %q lacks %s", ck, want)
			}
		}
		if strings.Contains(ck, "Secure") {
			t.Errorf("cookie %q is Secure over plain HTTP", ck)
		}
		if r := c.get("/queue"); r.status != http.StatusOK || !strings.Contains(r.body, "Review queue") {
			t.Fatalf("queue after login: %d", r.status)
		}
		c = e.login(t, "reviewer")
		if r := c.post("/logout", nil); r.status != http.StatusSeeOther {
			t.Fatalf("logout: %d %s", r.status, r.body)
		}
		if r := c.get("/queue"); r.status != http.StatusSeeOther {
			t.Fatalf("queue after logout: %d", r.status)
		}
		entries, err := e.store.AuditLog(t.Context(), store.AuditQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, en := range entries {
			actions = append(actions, en.Action)
		}
		want := []string{"user.login_failed", "user.login_failed", "user.login", "user.login", "user.logout"}
		if !reflect.DeepEqual(actions, want) {
			t.Errorf("audit actions %v, want %v", actions, want)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{LoginRate: rate.Every(time.Hour), LoginBurst: 2})
	c := e.client(t)
	for i := range 2 {
		if r := c.post("/login", url.Values{"username": {"admin"}, "password": {"not it at all"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, r.status)
		}
	}
	// The right password no longer helps: the username's bucket is empty.
	r := c.post("/login", url.Values{"username": {"admin"}, "password": {testPassword}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("third attempt: %d, want 429 with Retry-After", r.status)
	}
	// Another username from the same address still has budget (the
	// address bucket is larger), then runs out too.
	if r := c.post("/login", url.Values{"username": {"reviewer"}, "password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("another user: %d", r.status)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{IdleTimeout: 10 * time.Minute, SessionTTL: time.Hour})
	c := e.login(t, "reviewer")
	e.offset.Store(int64(9 * time.Minute))
	if r := c.get("/queue"); r.status != http.StatusOK {
		t.Fatalf("within the idle timeout: %d", r.status)
	}
	e.offset.Store(int64(20 * time.Minute)) // 11 minutes after the last request
	if r := c.get("/queue"); r.status != http.StatusSeeOther {
		t.Fatalf("after the idle timeout: %d, want a redirect to login", r.status)
	}
	// Active all along, the session still ends at its absolute expiry.
	c = e.login(t, "reviewer")
	start := e.offset.Load()
	for step := int64(1); ; step++ {
		e.offset.Store(start + step*int64(9*time.Minute))
		r := c.get("/queue")
		if step*9 < 60 && r.status != http.StatusOK {
			t.Fatalf("active session ended after %d minutes: %d", step*9, r.status)
		}
		if step*9 > 60 {
			if r.status != http.StatusSeeOther {
				t.Fatalf("session alive after %d minutes: %d", step*9, r.status)
			}
			break
		}
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	id := e.complaint(t, ownHolder)
	c := e.login(t, "reviewer")
	form := func(token string) url.Values {
		return url.Values{"decision": {"uphold"}, "reason_code": {"counterfeit"}, "csrf": {token}}
	}
	for _, tc := range []struct{ name, token string }{{"missing", ""}, {"wrong", strings.Repeat("A", 43)}} {
		f := form(tc.token)
		if tc.token == "" {
			f.Del("csrf")
			r, _ := http.NewRequest("POST", e.srv.URL+"/complaints/"+id+"/decide", strings.NewReader(f.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if got := c.do(r); got.status != http.StatusForbidden {
				t.Errorf("%s token: %d, want 403", tc.name, got.status)
			}
			continue
		}
		if r := c.post("/complaints/"+id+"/decide", f); r.status != http.StatusForbidden {
			t.Errorf("%s token: %d, want 403", tc.name, r.status)
		}
	}
	// A cross-site form with the right token is refused too.
	r, _ := http.NewRequest("POST", e.srv.URL+"/complaints/"+id+"/decide", strings.NewReader(form(c.csrf).Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if got := c.do(r); got.status != http.StatusForbidden {
		t.Errorf("cross-site: %d, want 403", got.status)
	}
	if cp, _ := e.store.GetComplaint(t.Context(), id); cp.Status != store.ComplaintOpen {
		t.Fatalf("a refused form changed the complaint: %s", cp.Status)
	}
	if r := c.post("/complaints/"+id+"/decide", form(c.csrf)); r.status != http.StatusSeeOther {
		t.Fatalf("right token: %d %s", r.status, r.body)
	}
}

// pageExamples gives each GET page a path for an object of the tenant.
var pageExamples = map[string]func(e *env, t *testing.T, holder string) string{
	"GET /{$}":                     func(*env, *testing.T, string) string { return "/" },
	"GET /account":                 func(*env, *testing.T, string) string { return "/account" },
	"GET /palette":                 func(*env, *testing.T, string) string { return "/palette?q=queue" },
	"GET /queue":                   func(*env, *testing.T, string) string { return "/queue?q=bag&source=auto&min_score=0.5" },
	"GET /queue/counts":            func(*env, *testing.T, string) string { return "/queue/counts?source=auto&min_score=0.5" },
	"GET /complaints/{id}":         func(e *env, t *testing.T, h string) string { return "/complaints/" + e.complaint(t, h) },
	"GET /counter-notices":         func(*env, *testing.T, string) string { return "/counter-notices" },
	"GET /second-look":             func(*env, *testing.T, string) string { return "/second-look" },
	"GET /img/complaints/{id}/{n}": func(e *env, t *testing.T, h string) string { return "/img/complaints/" + e.complaint(t, h) + "/0" },
	"GET /img/marks/{id}/{n}":      func(e *env, t *testing.T, h string) string { return "/img/marks/m_" + h + "/0" },
	"GET /img/marks/{id}/uploads/{sha}": func(e *env, t *testing.T, h string) string {
		return "/img/marks/m_" + h + "/uploads/" + e.preview(t, "m_"+h)
	},
	"GET /marks":                 func(*env, *testing.T, string) string { return "/marks" },
	"GET /marks/new":             func(*env, *testing.T, string) string { return "/marks/new" },
	"GET /marks/{id}":            func(e *env, t *testing.T, h string) string { return "/marks/m_" + h },
	"GET /portal/complaints":     func(*env, *testing.T, string) string { return "/portal/complaints" },
	"GET /portal/complaints/new": func(*env, *testing.T, string) string { return "/portal/complaints/new" },
	"GET /admin/marks":           func(*env, *testing.T, string) string { return "/admin/marks" },
	"GET /admin/sellers":         func(*env, *testing.T, string) string { return "/admin/sellers" },
	"GET /admin/holders":         func(*env, *testing.T, string) string { return "/admin/holders" },
	"GET /admin/users":           func(*env, *testing.T, string) string { return "/admin/users" },
	"GET /admin/audit":           func(*env, *testing.T, string) string { return "/admin/audit?object_type=user" },
	"GET /login":                 func(*env, *testing.T, string) string { return "/login" },
}

// objectPages name a holder's object: another tenant's answers 404.
var objectPages = []string{"GET /complaints/{id}", "GET /img/complaints/{id}/{n}", "GET /img/marks/{id}/{n}", "GET /img/marks/{id}/uploads/{sha}", "GET /marks/{id}"}

// TestPageMatrix requests every page as every role and anonymously, for an
// object of the brand owner's holder and of another, and checks what the
// page's roles (through identity.Authorize) imply.
func TestPageMatrix(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		e.mark(t, ownHolder, "", "active")
		e.mark(t, otherHolder, "", "active")
		clients := map[string]*client{"anonymous": e.client(t)}
		for _, r := range identity.Roles() {
			clients[string(r)] = e.login(t, string(r))
		}
		for _, p := range e.console.pageTable() {
			method, _, _ := strings.Cut(p.pattern, " ")
			if method != "GET" {
				continue
			}
			ex, ok := pageExamples[p.pattern]
			if !ok {
				t.Errorf("page %s has no example in the matrix", p.pattern)
				continue
			}
			for name, c := range clients {
				for _, tenant := range []string{ownHolder, otherHolder} {
					t.Run(fmt.Sprintf("%s/%s/%s", p.pattern, name, tenant), func(t *testing.T) {
						path := ex(e, t, tenant)
						r := c.get(path)
						want := http.StatusOK
						roles := e.console.Roles(p.pattern)
						switch {
						case p.public:
							if name != "anonymous" {
								want = http.StatusSeeOther // the login page sends a user home
							}
						case name == "anonymous":
							want = http.StatusSeeOther
						case !slices.Contains(roles, identity.Role(name)):
							want = http.StatusForbidden
						case name == "brand_owner" && tenant == otherHolder && slices.Contains(objectPages, p.pattern):
							want = http.StatusNotFound
						case p.pattern == "GET /{$}":
							want = http.StatusSeeOther
						}
						if r.status != want {
							t.Fatalf("GET %s as %s: %d, want %d; %.300s", path, name, r.status, want, r.body)
						}
						if want == http.StatusOK && strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
							if len(r.body) > 150<<10 {
								t.Errorf("page weighs %d bytes, over 150 KB", len(r.body))
							}
							if name == "brand_owner" && strings.Contains(r.body, otherHolder) && !strings.Contains(path, otherHolder) {
								t.Errorf("a brand owner's page shows another holder's id")
							}
						}
					})
				}
			}
		}
	})
}

func TestRolesFollowTheAPI(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	for _, p := range e.console.pageTable() {
		if p.sameAs == "" {
			continue
		}
		method, pattern, _ := strings.Cut(p.sameAs, " ")
		want, _ := e.api.Allowed(method, pattern)
		if got := e.console.Roles(p.pattern); !reflect.DeepEqual(got, want) {
			t.Errorf("page %s: roles %v, API route %s: %v", p.pattern, got, p.sameAs, want)
		}
	}
}

func TestDecideAndClaims(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		first, second := e.complaint(t, ownHolder), e.complaint(t, ownHolder)
		// Two buyers reported the first complaint's listing.
		fc, err := e.store.GetComplaint(t.Context(), first)
		if err != nil {
			t.Fatal(err)
		}
		for i, buyer := range []string{"b_1", "b_2"} {
			if _, err := e.review.IngestBuyerReport(t.Context(), &domain.BuyerReport{
				SchemaVersion: domain.SchemaVersion, ReportID: fmt.Sprintf("r_%d", i), ListingID: fc.Body.ListingID,
				SellerID: fc.Body.SellerID, BuyerID: buyer, Reason: domain.ReasonCounterfeit, CreatedAt: time.Now(),
			}); err != nil {
				t.Fatal(err)
			}
		}
		// The seller shares a phone with another: a network of two.
		for _, s := range []string{fc.Body.SellerID, "s_linked"} {
			if _, err := e.store.LinkSeller(t.Context(), s, "l_"+s, []store.SellerKey{{Kind: "phone", Value: "5550001111"}}, 10); err != nil {
				t.Fatal(err)
			}
		}
		alice, bob := e.login(t, "reviewer"), e.login(t, "reviewer2")
		page := alice.get("/complaints/" + first)
		for _, want := range []string{"<mark>Qui11ora</mark>", "<mark>replica</mark>", "Quillora", "25.00 EUR", `id="decide"`,
			"Buyer reports on this listing: 2 from 2 buyer(s)", "weight 2.00",
			"Seller network: 2 linked seller(s)", "phone <code>5550001111</code>: ", "s_linked"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("complaint page lacks %q", want)
			}
		}
		// Bob sees Alice's claim, in the queue and on the page, and may
		// not decide.
		if q := bob.get("/queue"); !strings.Contains(q.body, "claimed by Test reviewer") {
			t.Errorf("queue does not show Alice's claim")
		}
		bp := bob.get("/complaints/" + first)
		if !strings.Contains(bp.body, "Claimed by Test reviewer") || strings.Contains(bp.body, `id="decide"`) {
			t.Errorf("Bob's page does not show the claim, or offers a decision")
		}
		if r := bob.post("/complaints/"+first+"/decide", url.Values{"decision": {"reject"}, "reason_code": {"genuine"}}); r.status != http.StatusConflict {
			t.Errorf("Bob's decision on Alice's claim: %d, want 409", r.status)
		}
		r := alice.post("/complaints/"+first+"/decide", url.Values{"decision": {"uphold"}, "reason_code": {"counterfeit"}, "next": {second}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/complaints/"+second) {
			t.Fatalf("decide: %d to %s, want the next complaint", r.status, r.location)
		}
		if r := alice.post("/complaints/"+first+"/decide", url.Values{"decision": {"reject"}, "reason_code": {"genuine"}}); r.status != http.StatusConflict ||
			!strings.Contains(r.body, "already upheld by Test reviewer") {
			t.Errorf("second decision: %d %.200s, want 409 saying what happened", r.status, r.body)
		}
		if r := alice.post("/complaints/"+second+"/decide", url.Values{"decision": {"uphold"}, "reason_code": {"genuine"}}); r.status != http.StatusBadRequest {
			t.Errorf("reason of the other verdict: %d, want 400", r.status)
		}
		// An expired claim returns the complaint to the queue.
		e.offset.Store(int64(6 * time.Minute))
		if bp := bob.get("/complaints/" + second); !strings.Contains(bp.body, `id="decide"`) {
			t.Errorf("after the lease ran out Bob cannot decide")
		}
	})
}

func TestBulkDecide(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	a, b, c := e.complaint(t, ownHolder), e.complaint(t, otherHolder), e.complaint(t, ownHolder)
	rev := e.login(t, "reviewer")
	if err := e.review.Decide(t.Context(), c, reviewDecision()); err != nil {
		t.Fatal(err)
	}
	r := rev.post("/queue/decide", url.Values{"id": {a, b, c}, "decision": {"reject"}, "reason_code": {"insufficient_evidence"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("bulk: %d %s", r.status, r.body)
	}
	done, _ := url.ParseQuery(strings.TrimPrefix(r.location, "/queue?"))
	got := done["done"]
	if len(got) != 3 || got[0] != a+": rejected" || got[1] != b+": rejected" || !strings.HasPrefix(got[2], c+": not decided") {
		t.Errorf("bulk outcomes %q", got)
	}
	if q := rev.get(r.location); !strings.Contains(q.body, a+": rejected") {
		t.Errorf("queue does not show the outcomes")
	}
	// A brand owner may not bulk-decide (the API's roles).
	if r := e.login(t, "brand_owner").post("/queue/decide", url.Values{"id": {a}, "decision": {"uphold"}, "reason_code": {"counterfeit"}}); r.status != http.StatusForbidden {
		t.Errorf("brand owner bulk: %d", r.status)
	}
}

func TestImageProxy(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	id := e.complaint(t, ownHolder)
	rev := e.login(t, "reviewer")
	for i := range 2 {
		r := rev.get("/img/complaints/" + id + "/0")
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/png" || !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("image %d: %d %s", i, r.status, r.header)
		}
	}
	if n := e.images.fetches.Load(); n != 1 {
		t.Errorf("%d fetches for two views, want 1 (cached)", n)
	}
	if r := rev.get("/img/complaints/" + id + "/1"); r.status != http.StatusNotFound {
		t.Errorf("index out of range: %d", r.status)
	}
	if r := e.login(t, "other_owner").get("/img/complaints/" + id + "/0"); r.status != http.StatusNotFound {
		t.Errorf("another tenant's image: %d, want 404", r.status)
	}
	e.mark(t, ownHolder, "_b", "active")
	err := e.store.WithTx(t.Context(), func(tx *store.Tx) error {
		_, err := tx.CreateMark(t.Context(), markWithLogo("m_broken", "https://img.example/broken.png"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.login(t, "admin").get("/img/marks/m_broken/0"); r.status != http.StatusBadGateway {
		t.Errorf("a page served as an image: %d, want 502", r.status)
	}
}

func TestAdminLiftsSuspension(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		if err := e.store.WithTx(t.Context(), func(tx *store.Tx) error {
			_, err := tx.SetSellerStatus(t.Context(), "s_bad", store.SellerSuspended)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		admin := e.login(t, "admin")
		if p := admin.get("/admin/sellers"); !strings.Contains(p.body, "s_bad") || !strings.Contains(p.body, "Lift suspension") {
			t.Fatalf("sellers page lacks the suspended seller")
		}
		if r := e.login(t, "reviewer").post("/admin/sellers/s_bad/lift", url.Values{"reason": {"x"}}); r.status != http.StatusForbidden {
			t.Errorf("reviewer lifts: %d, want 403", r.status)
		}
		r := admin.post("/admin/sellers/s_bad/lift", url.Values{"reason": {"appeal upheld"}})
		if r.status != http.StatusSeeOther || !strings.Contains(r.location, "done=") {
			t.Fatalf("lift: %d %s", r.status, r.location)
		}
		if s, _ := e.store.GetSeller(t.Context(), "s_bad"); s.Status != store.SellerActive {
			t.Errorf("seller %s after the lift", s.Status)
		}
		audit := admin.get("/admin/audit?object_type=seller&action=seller.")
		if !strings.Contains(audit.body, "seller.suspension_lifted") || !strings.Contains(audit.body, "appeal upheld") {
			t.Errorf("audit page lacks the lift")
		}
	})
}

func TestBrandOwnerRegistersAndUploads(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	bo := e.login(t, "brand_owner")
	form := url.Values{"name": {"Quillora"}, "office": {"EUIPO"}, "number": {"018123456"}, "jurisdictions": {"EU"},
		"classes": {"18, 25"}, "variants": {"Quilora\n奎罗拉"}, "reference_prices": {"1200.00 EUR handbags"}, "authorized_sellers": {"s_official"}}
	r := bo.post("/marks", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("register: %d %.400s", r.status, r.body)
	}
	markPath := strings.Split(r.location, "?")[0]
	m, err := e.store.GetMark(t.Context(), strings.TrimPrefix(markPath, "/marks/"))
	if err != nil || m.Body.HolderID != ownHolder || m.Body.Status != "pending" || len(m.Body.Registration.Classes) != 2 || len(m.Body.Variants) != 2 {
		t.Fatalf("registered mark %+v, %v", m.Body, err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("logo", "logo.png")
	fw.Write(testPNG(t, 160, 160))
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+markPath+"/images?csrf="+url.QueryEscape(bo.csrf), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	up := bo.do(req)
	if up.status != http.StatusSeeOther || !strings.Contains(up.location, "added") {
		t.Fatalf("upload: %d %s", up.status, up.location)
	}
	p := bo.get(up.location)
	if !strings.Contains(p.body, "1 uploaded") {
		t.Errorf("mark page does not count the upload")
	}
	// The mark page shows its calibration from decisions (none yet).
	if !strings.Contains(p.body, "Calibration from decisions") || !strings.Contains(p.body, "0 automatic complaints decided") ||
		!strings.Contains(p.body, "a recommendation needs at least 30") {
		t.Errorf("mark page lacks its calibration: %.2000s", p.body)
	}
	// Without the token in the query the upload is refused.
	req, _ = http.NewRequest("POST", e.srv.URL+markPath+"/images", strings.NewReader("--x--"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	if r := bo.do(req); r.status != http.StatusForbidden {
		t.Errorf("upload without CSRF: %d", r.status)
	}
	// The other holder's owner cannot see the mark or upload to it.
	other := e.login(t, "other_owner")
	if r := other.get(markPath); r.status != http.StatusNotFound {
		t.Errorf("other tenant's mark page: %d", r.status)
	}
	if r := bo.post("/marks", url.Values{"name": {""}, "office": {"EUIPO"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, `class="error"`) {
		t.Errorf("invalid mark: %d", r.status)
	}
}

func TestHighlight(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		matches []string
		want    []segment
	}{
		{"none", "plain", nil, []segment{{Text: "plain"}}},
		{"case-insensitive, twice", "Gucci bag gucci", []string{"GUCCI"}, []segment{{"Gucci", true}, {" bag ", false}, {"gucci", true}}},
		{"overlapping matches merge", "replica AAA", []string{"replica", "ica AAA"}, []segment{{"replica AAA", true}}},
		{"utf-8 kept whole", "高仿 耐克 shoes", []string{"耐克"}, []segment{{"高仿 ", false}, {"耐克", true}, {" shoes", false}}},
		{"html stays text", "<b>x</b>", []string{"x"}, []segment{{"<b>", false}, {"x", true}, {"</b>", false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := highlight(tc.text, tc.matches); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("highlight = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestQueueOrderMatchesSearch checks that the queue served from the store
// lists what the API's search lists, in the same order, page after page,
// for the plain queue and with filters.
func TestQueueOrderMatchesSearch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		for i := range 23 {
			holder := ownHolder
			if i%3 == 0 {
				holder = otherHolder
			}
			e.complaintScored(t, holder, float64(i%5)/5)
		}
		for _, who := range []string{"reviewer", "brand_owner"} {
			u := e.users[who]
			for _, filter := range []url.Values{
				{"status": {"open"}},
				{"status": {"open"}, "min_score": {"0.4"}},
				{"status": {"open"}, "source": {"auto"}, "max_score": {"0.6"}},
			} {
				want, _, err := e.api.SearchComplaintIDs(t.Context(), &u, cloneValues(filter, "limit", "100"))
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				r := &request{Request: httptest.NewRequest("GET", "/queue", nil), user: &u}
				next := url.Values{}
				for page := 0; page < 10; page++ {
					q := cloneValues(filter, "limit", "4")
					for k, v := range next {
						q[k] = v
					}
					rows, _, n, err := e.console.queueRows(r, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, row := range rows {
						got = append(got, row.C.Body.ComplaintID)
					}
					if n == nil {
						break
					}
					next = n
				}
				if !reflect.DeepEqual(got, want) || len(want) == 0 {
					t.Errorf("%s %v: store queue %v, search %v", who, filter, got, want)
				}
			}
		}
	})
}

func cloneValues(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for key, vals := range v {
		out[key] = append([]string(nil), vals...)
	}
	out.Set(k, val)
	return out
}

// TestQueueCountsAfterLoad: the queue page comes with the counts kept by
// triggers and without those that take a walk of the queue, and points its
// script at them (data-counts); GET /queue/counts answers them as the page
// would show them, to the queue's roles only.
func TestQueueCountsAfterLoad(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		for range 3 {
			e.complaintBy(t, ownHolder, 0.9, "")
		}
		c := e.login(t, "reviewer")
		page := c.get("/queue")
		if page.status != http.StatusOK {
			t.Fatalf("queue: %d", page.status)
		}
		for _, want := range []string{`data-counts="/queue/counts?status=open"`, `>open (3)</option>`, `>cue (3)</option>`, `>168h</option>`} {
			if !strings.Contains(page.body, want) {
				t.Errorf("queue page lacks %s", want)
			}
		}
		r := c.get("/queue/counts?status=open")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("counts: %d %s %.200s", r.status, r.header.Get("Content-Type"), r.body)
		}
		var got struct {
			Counts map[string]map[string]string `json:"counts"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct{ filter, option, count string }{
			{"max_age", "168h", "3"}, {"max_age", "1h", "3"}, {"status", "open", "3"}, {"matcher", "price", "0"},
		} {
			if n := got.Counts[want.filter][want.option]; n != want.count {
				t.Errorf("counts %s=%s: %q, want %q (%v)", want.filter, want.option, n, want.count, got.Counts)
			}
		}
		// Just counted: the page now comes with every count.
		if page := c.get("/queue"); strings.Contains(page.body, "data-counts") || !strings.Contains(page.body, `>168h (3)</option>`) {
			t.Errorf("queue page after the counts: %.2000s", page.body)
		}
		// A score bound: the total is not kept by triggers either; the
		// page shows its rows' lower bound and the script the count.
		if page := c.get("/queue?min_score=0.5"); !strings.Contains(page.body, `id="total">3&#43; matching`) || !strings.Contains(page.body, `data-counts="/queue/counts?min_score=0.5&amp;status=open"`) {
			t.Errorf("queue page with a score bound: %.3000s", page.body)
		}
		if r := c.get("/queue/counts?min_score=0.5&status=open"); !strings.Contains(r.body, `"total":"3"`) {
			t.Errorf("counts with a score bound: %s", r.body)
		}
		if r := c.get("/queue/counts?min_score=x"); r.status != http.StatusBadRequest {
			t.Errorf("counts of a bad filter: %d", r.status)
		}
		if r := e.login(t, "brand_owner").get("/queue/counts?status=open"); r.status != http.StatusForbidden {
			t.Errorf("a brand owner's counts: %d %.200s", r.status, r.body)
		}
	})
}
