package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

const (
	ownHolder   = "h_own"
	otherHolder = "h_other"
)

// markOf is the active mark each holder's complaints are filed through.
var markOf = map[string]string{ownHolder: "m_own", otherHolder: "m_other"}

// env is an API over a fresh database with one user per role; the brand
// owner acts for ownHolder.
type env struct {
	store  *store.Store
	review *review.Service
	api    *API
	h      http.Handler
	tokens map[identity.Role]string
	seq    atomic.Int64
}

func newEnv(t testing.TB, dsn string, opts Options) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rv, err := review.New(review.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.Review = st, rv
	if opts.RateLimit == 0 {
		opts.RateLimit = rate.Inf
	}
	if opts.CountBudget == 0 {
		// Counts finish on a loaded test machine: a test of the budget
		// sets its own.
		opts.CountBudget = time.Minute
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, review: rv, api: a, h: a.Handler(), tokens: map[identity.Role]string{}}
	err = st.WithTx(ctx, func(tx *store.Tx) error {
		for _, h := range []string{ownHolder, otherHolder} {
			// A benchmark may reuse a loaded database (MARKWATCH_BENCH_POSTGRES_URL).
			if _, err := tx.GetHolder(ctx, h); err == nil {
				continue
			}
			if _, err := tx.CreateHolder(ctx, store.Holder{ID: h, Name: h}); err != nil {
				return err
			}
		}
		for _, role := range identity.Roles() {
			tok, hash, err := identity.NewToken()
			if err != nil {
				return err
			}
			u := store.User{Name: string(role), Role: string(role)}
			if role == identity.RoleBrandOwner {
				u.HolderID = ownHolder
			}
			if _, err := tx.CreateUser(ctx, u, hash); err != nil {
				return err
			}
			e.tokens[role] = tok
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for holder, mark := range markOf {
		e.ensureMark(t, mark, holder)
	}
	return e
}

// ensureMark registers the active mark id of holder unless it exists:
// complaints are only ingested through an active mark of their holder.
func (e *env) ensureMark(t testing.TB, id, holder string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.store.GetMark(ctx, id); err == nil {
		return
	}
	err := e.store.WithTx(ctx, func(tx *store.Tx) error {
		_, err := tx.CreateMark(ctx, &domain.Mark{
			SchemaVersion: domain.SchemaVersion, MarkID: id, HolderID: holder, Name: "Acme " + id,
			Registration: domain.Registration{Office: "EUIPO", Number: "1"}, Status: domain.MarkActive,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ingest stores an open complaint of holder and returns its id.
func (e *env) ingest(t testing.TB, holder string) string {
	t.Helper()
	id := fmt.Sprintf("c_test_%d", e.seq.Add(1))
	c := &domain.Complaint{
		SchemaVersion: domain.SchemaVersion, ComplaintID: id, Source: domain.SourceAuto,
		ListingID: "l_" + id, MarkID: markOf[holder], HolderID: holder, SellerID: "s_" + id, Score: 0.9,
		Explanation: "looks fake",
	}
	if _, err := e.review.Ingest(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return id
}

// upheld stores an upheld complaint of holder and returns its id.
func (e *env) upheld(t testing.TB, holder string) string {
	t.Helper()
	id := e.ingest(t, holder)
	err := e.review.Decide(context.Background(), id, review.Decision{Verdict: review.VerdictUphold, ReasonCode: "counterfeit", Actor: "u_test"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// contested stores a contested complaint of holder and returns its id.
func (e *env) contested(t testing.TB, holder string) string {
	t.Helper()
	id := e.upheld(t, holder)
	if _, err := e.review.CounterNotice(context.Background(), id, "u_market", "genuine"); err != nil {
		t.Fatal(err)
	}
	return id
}

// do sends a request with the token of role ("" for none).
func (e *env) do(method, path, body string, role identity.Role) *httptest.ResponseRecorder {
	return e.doContext(context.Background(), method, path, body, role)
}

// doContext is do with the request's context.
func (e *env) doContext(ctx context.Context, method, path, body string, role identity.Role) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if b, _, ok := strings.Cut(body, "\r\n"); ok && strings.HasPrefix(b, "--") {
			// A multipart body names its boundary on its first line.
			r.Header.Set("Content-Type", "multipart/form-data; boundary="+strings.TrimSuffix(b[2:], "--"))
		}
	}
	if role != "" {
		r.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r.WithContext(ctx))
	return w
}

// example makes a request to a route that succeeds for an allowed role:
// its path, with {id} naming an object of holder where the route's tenant
// rule reads one, and its body.
type example func(t *testing.T, e *env, holder string) (path, body string)

// examples has one entry per route of the table; the matrix fails for a
// route without one, so a new route cannot skip it.
var examples = map[string]example{
	"GET /healthz": func(*testing.T, *env, string) (string, string) { return "/healthz", "" },
	"POST /v1/holders": func(_ *testing.T, e *env, _ string) (string, string) {
		return "/v1/holders", fmt.Sprintf(`{"name":"Holder %d"}`, e.seq.Add(1))
	},
	"GET /v1/holders/{id}": func(_ *testing.T, _ *env, holder string) (string, string) {
		return "/v1/holders/" + holder, ""
	},
	"POST /v1/complaints": func(_ *testing.T, e *env, holder string) (string, string) {
		return "/v1/complaints", fmt.Sprintf(`{"client_ref":"r%d","listing_id":"l_1","mark_id":%q,"seller_id":"s_1","explanation":"counterfeit"}`, e.seq.Add(1), markOf[holder])
	},
	"GET /v1/complaints/{id}": func(t *testing.T, e *env, holder string) (string, string) {
		return "/v1/complaints/" + e.ingest(t, holder), ""
	},
	"POST /v1/complaints/{id}/decision": func(t *testing.T, e *env, holder string) (string, string) {
		return "/v1/complaints/" + e.ingest(t, holder) + "/decision", `{"decision":"uphold","reason_code":"counterfeit","note":"logo"}`
	},
	"POST /v1/complaints/{id}/counter-notice": func(t *testing.T, e *env, holder string) (string, string) {
		return "/v1/complaints/" + e.upheld(t, holder) + "/counter-notice", `{"statement":"genuine stock"}`
	},
	"POST /v1/complaints/{id}/escalate": func(t *testing.T, e *env, holder string) (string, string) {
		return "/v1/complaints/" + e.contested(t, holder) + "/escalate", ""
	},
	"GET /v1/audit": func(*testing.T, *env, string) (string, string) { return "/v1/audit?object_type=complaint&limit=5", "" },
	"POST /v1/complaints/decisions": func(t *testing.T, e *env, holder string) (string, string) {
		return "/v1/complaints/decisions", `{"decisions":[{"complaint_id":"` + e.ingest(t, holder) + `","decision":"reject","reason_code":"genuine"}]}`
	},
	"GET /v1/openapi.json":         func(*testing.T, *env, string) (string, string) { return "/v1/openapi.json", "" },
	"GET /v1/sellers/{id}":         func(*testing.T, *env, string) (string, string) { return "/v1/sellers/s_1", "" },
	"GET /v1/sellers/{id}/network": func(*testing.T, *env, string) (string, string) { return "/v1/sellers/s_1/network", "" },
	"POST /v1/sellers/{id}/network/decisions": func(*testing.T, *env, string) (string, string) {
		return "/v1/sellers/s_1/network/decisions", `{"decision":"reject","reason_code":"genuine","seller_ids":["s_1"]}`
	},
	"POST /v1/sellers/{id}/lift-suspension": func(t *testing.T, e *env, _ string) (string, string) {
		id := e.suspendedSeller(t)
		return "/v1/sellers/" + id + "/lift-suspension", `{"reason":"appeal upheld"}`
	},
	"GET /v1/complaints": func(t *testing.T, e *env, holder string) (string, string) {
		e.ingest(t, holder)
		return "/v1/complaints?status=open&limit=5", ""
	},
}

// TestAuthorizationMatrix sends every route of the table, as every role and
// without credentials, an object of the caller's own holder and of another,
// and checks the status class the route's rule implies.
func TestAuthorizationMatrix(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		callers := append([]identity.Role{""}, identity.Roles()...)
		for _, rt := range e.api.routes {
			name := rt.method + " " + rt.pattern
			ex, ok := examples[name]
			if !ok {
				t.Errorf("route %s has no example in the authorization matrix", name)
				continue
			}
			for _, role := range callers {
				for _, tenant := range []string{ownHolder, otherHolder} {
					caller := string(role)
					if caller == "" {
						caller = "anonymous"
					}
					t.Run(fmt.Sprintf("%s/%s/%s", name, caller, tenant), func(t *testing.T) {
						want := expectedStatus(rt, role, tenant)
						path, body := ex(t, e, tenant)
						w := e.do(rt.method, path, body, role)
						if got := w.Code; got/100 != want/100 || (want >= 400 && got != want) {
							t.Fatalf("%s %s as %s: status %d, want %d; body %s", rt.method, path, caller, got, want, w.Body)
						}
					})
				}
			}
		}
		testFilingMatrix(t, e)
	})
}

// bodyTenant are the routes whose body names an object of a holder: a
// brand owner naming another holder's answers with this status rather
// than 200 (the path-based 404 does not apply: the route exists).
var bodyTenant = map[string]int{
	"POST /v1/complaints": http.StatusUnprocessableEntity, // mark_unknown
}

// testFilingMatrix files a manual complaint as every role through every
// kind of mark — the own holder's active one, another holder's, a missing
// one, and the own holder's pending, suspended and removed ones — and
// checks the status, the error code naming the rule, and that a refusal
// publishes nothing and audits nothing.
func testFilingMatrix(t *testing.T, e *env) {
	ctx := context.Background()
	marks := []struct{ kind, id string }{
		{"own active", markOf[ownHolder]},
		{"other's active", markOf[otherHolder]},
		{"missing", "m_missing"},
		{"own pending", e.mark(t, ownHolder, domain.MarkPending)},
		{"own suspended", e.mark(t, ownHolder, domain.MarkSuspended)},
		{"own removed", e.mark(t, ownHolder, domain.MarkRemoved)},
	}
	// expect is the status and error code of role filing through kind.
	expect := func(role identity.Role, kind string) (int, string) {
		switch {
		case role == "":
			return http.StatusUnauthorized, "unauthenticated"
		case role == identity.RoleReviewer || role == identity.RoleMarketplace:
			return http.StatusForbidden, "forbidden"
		case kind == "own active", kind == "other's active" && role == identity.RoleAdmin:
			return http.StatusAccepted, ""
		case kind == "other's active", kind == "missing":
			return http.StatusUnprocessableEntity, review.RuleMarkUnknown
		}
		return http.StatusUnprocessableEntity, review.RuleMarkNotActive
	}
	for _, role := range append([]identity.Role{""}, identity.Roles()...) {
		for _, m := range marks {
			caller := string(role)
			if caller == "" {
				caller = "anonymous"
			}
			t.Run(fmt.Sprintf("file through %s mark/%s", m.kind, caller), func(t *testing.T) {
				ref := fmt.Sprintf("filing-%d", e.seq.Add(1))
				before, err := e.store.PendingEvents(ctx, 10000)
				if err != nil {
					t.Fatal(err)
				}
				body := fmt.Sprintf(`{"client_ref":%q,"listing_id":"l_f","mark_id":%q,"seller_id":"s_f","explanation":"fake"}`, ref, m.id)
				w := e.do("POST", "/v1/complaints", body, role)
				status, code := expect(role, m.kind)
				if w.Code != status {
					t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
				}
				after, err := e.store.PendingEvents(ctx, 10000)
				if err != nil {
					t.Fatal(err)
				}
				if code != "" {
					env := checkEnvelope(t, w.Body.Bytes())
					if env.Error.Code != code {
						t.Errorf("code %q, want %q", env.Error.Code, code)
					}
					if status == http.StatusUnprocessableEntity && !strings.Contains(env.Error.Message, "mark_id") {
						t.Errorf("message %q does not name the field mark_id", env.Error.Message)
					}
					if len(after) != len(before) {
						t.Errorf("a refused complaint published %d events", len(after)-len(before))
					}
					return
				}
				var resp submittedResponse
				if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
					t.Fatal(err)
				}
				ev, err := e.store.GetEvent(ctx, "complaint:"+resp.ComplaintID)
				if err != nil {
					t.Fatal(err)
				}
				c, err := domain.DecodeComplaint(ev.Payload, domain.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				// The complaint is the mark's holder's, whoever filed it.
				wantHolder := ownHolder
				if m.id == markOf[otherHolder] {
					wantHolder = otherHolder
				}
				if c.HolderID != wantHolder || c.MarkID != m.id || c.Source != domain.SourceRightsHolder {
					t.Errorf("filed %+v; want holder %s, mark %s, rights_holder", c, wantHolder, m.id)
				}
			})
		}
	}
}

// expectedStatus is the status (2xx as 200) the route's rule implies.
func expectedStatus(rt route, role identity.Role, tenant string) int {
	switch {
	case rt.public:
		return http.StatusOK
	case role == "":
		return http.StatusUnauthorized
	case !rt.allows(&store.User{Role: string(role)}):
		return http.StatusForbidden
	case role == identity.RoleBrandOwner && tenant != ownHolder &&
		(rt.tenant == tenantHolderPath || rt.tenant == tenantComplaintPath || rt.tenant == tenantMarkPath):
		return http.StatusNotFound
	case role == identity.RoleBrandOwner && tenant != ownHolder && bodyTenant[rt.method+" "+rt.pattern] != 0:
		return bodyTenant[rt.method+" "+rt.pattern]
	}
	return http.StatusOK
}

// TestRouteTableRules fails for a route of the table without an
// authorization rule, and checks that check refuses such routes.
func TestRouteTableRules(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	seen := map[string]bool{}
	for _, rt := range e.api.routes {
		name := rt.method + " " + rt.pattern
		if seen[name] {
			t.Errorf("route %s declared twice", name)
		}
		seen[name] = true
		if err := rt.check(); err != nil {
			t.Error(err)
		}
		if !rt.public && len(rt.allow) == 0 {
			t.Errorf("route %s has no roles", name)
		}
	}
	h := e.api.healthz
	// ok is a valid route; each case breaks one thing.
	ok := route{method: "GET", pattern: "/x", allow: identity.Roles(), tenant: tenantNone, handler: h, summary: "x", status: 200}
	if err := ok.check(); err != nil {
		t.Fatalf("valid route refused: %v", err)
	}
	with := func(f func(*route)) route { r := ok; f(&r); return r }
	bad := []struct {
		name string
		rt   route
	}{
		{"no roles", with(func(r *route) { r.allow = nil })},
		{"no tenant rule", with(func(r *route) { r.tenant = 0 })},
		{"unknown role", with(func(r *route) { r.allow = []identity.Role{"root"} })},
		{"public with roles", with(func(r *route) { r.public = true })},
		{"public with tenant", with(func(r *route) { r.public, r.allow, r.tenant = true, nil, tenantHolderPath })},
		{"no handler", with(func(r *route) { r.handler = nil })},
		{"undocumented", with(func(r *route) { r.summary = "" })},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.rt.check(); err == nil {
				t.Errorf("check accepted %+v", tc.rt)
			}
		})
	}
}

// TestErrorEnvelope checks that every kind of failure answers with the one
// envelope and the right code.
func TestErrorEnvelope(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	open := e.ingest(t, ownHolder)
	decided := e.upheld(t, ownHolder)
	tests := []struct {
		name, method, path, body string
		role                     identity.Role
		status                   int
		code                     string
		msgHas                   string
	}{
		{"no token", "GET", "/v1/sellers/s", "", "", 401, "unauthenticated", "Bearer"},
		{"wrong role", "GET", "/v1/sellers/s", "", identity.RoleBrandOwner, 403, "forbidden", ""},
		{"unknown route", "GET", "/v1/nope", "", identity.RoleAdmin, 404, "not_found", ""},
		{"wrong method", "DELETE", "/v1/holders", "", identity.RoleAdmin, 405, "method_not_allowed", ""},
		{"unknown complaint", "GET", "/v1/complaints/c_missing", "", identity.RoleAdmin, 404, "not_found", "complaint"},
		{"unknown holder", "GET", "/v1/holders/h_missing", "", identity.RoleAdmin, 404, "not_found", ""},
		{"unknown field", "POST", "/v1/complaints/" + open + "/decision", `{"decision":"uphold","reason_code":"counterfeit","extra":1}`, identity.RoleReviewer, 400, "invalid_request", "extra"},
		{"wrong type", "POST", "/v1/complaints/" + open + "/decision", `{"decision":1,"reason_code":"x"}`, identity.RoleReviewer, 400, "invalid_request", "decision"},
		{"bad verdict", "POST", "/v1/complaints/" + open + "/decision", `{"decision":"maybe","reason_code":"counterfeit"}`, identity.RoleReviewer, 400, "invalid_request", "field decision"},
		{"key in the wrong case", "POST", "/v1/complaints/" + open + "/decision", `{"Decision":"uphold","reason_code":"x"}`, identity.RoleReviewer, 400, "invalid_request", "Decision"},
		{"duplicate key", "POST", "/v1/complaints/" + open + "/decision", `{"decision":"reject","reason_code":"genuine","decision":"uphold"}`, identity.RoleReviewer, 400, "invalid_request", "more than once"},
		{"nested key in the wrong case", "POST", "/v1/complaints", `{"listing_id":"l","mark_id":"m","explanation":"x","listing":{"Title":"t"}}`, identity.RoleBrandOwner, 400, "invalid_request", "listing.Title"},
		{"malformed JSON", "POST", "/v1/complaints/" + open + "/decision", `{"decision":`, identity.RoleReviewer, 400, "invalid_request", ""},
		{"trailing data", "POST", "/v1/complaints/" + open + "/decision", `{"decision":"uphold","reason_code":"counterfeit"} {}`, identity.RoleReviewer, 400, "invalid_request", "trailing"},
		{"empty body", "POST", "/v1/holders", "", identity.RoleAdmin, 400, "invalid_request", "empty"},
		{"holder in complaint body", "POST", "/v1/complaints", `{"listing_id":"l","mark_id":"m","explanation":"x","holder_id":"h_other"}`, identity.RoleBrandOwner, 400, "invalid_request", "holder_id"},
		{"invalid complaint", "POST", "/v1/complaints", `{"listing_id":"","mark_id":"m","explanation":"x"}`, identity.RoleBrandOwner, 400, "invalid_request", "listing_id"},
		{"already decided", "POST", "/v1/complaints/" + decided + "/decision", `{"decision":"reject","reason_code":"genuine"}`, identity.RoleAdmin, 409, "conflict", ""},
		{"counter-notice on open", "POST", "/v1/complaints/" + open + "/counter-notice", `{"statement":"s"}`, identity.RoleMarketplace, 409, "conflict", ""},
		{"escalate open complaint", "POST", "/v1/complaints/" + open + "/escalate", "", identity.RoleBrandOwner, 409, "conflict", ""},
		{"unknown audit parameter", "GET", "/v1/audit?holder=h_own", "", identity.RoleAdmin, 400, "invalid_request", "holder"},
		{"bad audit limit", "GET", "/v1/audit?limit=0", "", identity.RoleAdmin, 400, "invalid_request", "limit"},
		{"repeated audit parameter", "GET", "/v1/audit?actor=a&actor=b", "", identity.RoleAdmin, 400, "invalid_request", "actor"},
		{"bad holder id", "POST", "/v1/holders", `{"id":"../x","name":"n"}`, identity.RoleAdmin, 400, "invalid_request", "id"},
		{"control character in holder name", "POST", "/v1/holders", `{"name":"a\u0007b"}`, identity.RoleAdmin, 400, "invalid_request", "name"},
		{"empty bulk", "POST", "/v1/complaints/decisions", `{"decisions":[]}`, identity.RoleReviewer, 400, "invalid_request", "decisions"},
		{"duplicate holder", "POST", "/v1/holders", `{"id":"h_own","name":"again"}`, identity.RoleAdmin, 409, "conflict", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(tc.method, tc.path, tc.body, tc.role)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tc.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			env := checkEnvelope(t, w.Body.Bytes())
			if env.Error.Code != tc.code {
				t.Errorf("code %q, want %q", env.Error.Code, tc.code)
			}
			if !strings.Contains(env.Error.Message, tc.msgHas) {
				t.Errorf("message %q does not mention %q", env.Error.Message, tc.msgHas)
			}
		})
	}
}

// checkEnvelope decodes body strictly as the error envelope.
func checkEnvelope(t testing.TB, body []byte) envelope {
	t.Helper()
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("not an error envelope: %v: %s", err, body)
	}
	if env.Error.Code == "" || env.Error.Message == "" {
		t.Fatalf("envelope without code or message: %s", body)
	}
	return env
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{MaxBodyBytes: 64})
	w := e.do("POST", "/v1/holders", `{"name":"`+strings.Repeat("x", 100)+`"}`, identity.RoleAdmin)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413; body %s", w.Code, w.Body)
	}
	if env := checkEnvelope(t, w.Body.Bytes()); env.Error.Code != "payload_too_large" {
		t.Errorf("code %q", env.Error.Code)
	}
	if w := e.do("POST", "/v1/holders", `{"name":"small"}`, identity.RoleAdmin); w.Code != http.StatusCreated {
		t.Errorf("small body: status %d; body %s", w.Code, w.Body)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{RateLimit: rate.Every(time.Hour), RateBurst: 2})
	for i := range 2 {
		if w := e.do("GET", "/v1/sellers/s", "", identity.RoleReviewer); w.Code != http.StatusOK {
			t.Fatalf("request %d: status %d; body %s", i, w.Code, w.Body)
		}
	}
	w := e.do("GET", "/v1/sellers/s", "", identity.RoleReviewer)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third request: status %d, want 429", w.Code)
	}
	if env := checkEnvelope(t, w.Body.Bytes()); env.Error.Code != "rate_limited" || w.Header().Get("Retry-After") == "" {
		t.Errorf("code %q, Retry-After %q", env.Error.Code, w.Header().Get("Retry-After"))
	}
	// The limit is per token: another caller is unaffected.
	if w := e.do("GET", "/v1/sellers/s", "", identity.RoleAdmin); w.Code != http.StatusOK {
		t.Errorf("other token: status %d", w.Code)
	}
}

// TestSubmitComplaintTenant checks that a manual complaint is filed for the
// caller's own holder, as rights_holder, and that a client_ref makes a
// retry a 409 rather than a second complaint.
func TestSubmitComplaintTenant(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	body := `{"client_ref":"ref-1","listing_id":"l_9","listing_version":2,"mark_id":"m_own","seller_id":"s_9","explanation":"fake logo"}`
	w := e.do("POST", "/v1/complaints", body, identity.RoleBrandOwner)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d; body %s", w.Code, w.Body)
	}
	var resp submittedResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	ev, err := e.store.GetEvent(context.Background(), "complaint:"+resp.ComplaintID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := domain.DecodeComplaint(ev.Payload, domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if c.HolderID != ownHolder || c.Source != domain.SourceRightsHolder || c.ListingVersion != 2 {
		t.Errorf("complaint %+v: want holder %s, source rights_holder", c, ownHolder)
	}
	if w := e.do("POST", "/v1/complaints", body, identity.RoleBrandOwner); w.Code != http.StatusConflict {
		t.Errorf("retry: status %d, want 409; body %s", w.Code, w.Body)
	}
}

// TestDecisionFlow decides a complaint through the API, reads it back, and
// checks the seller's strike.
func TestDecisionFlow(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	id := e.ingest(t, ownHolder)
	w := e.do("POST", "/v1/complaints/"+id+"/decision", `{"decision":"uphold","reason_code":"counterfeit"}`, identity.RoleReviewer)
	if w.Code != http.StatusOK {
		t.Fatalf("decision: status %d; body %s", w.Code, w.Body)
	}
	w = e.do("GET", "/v1/complaints/"+id, "", identity.RoleBrandOwner)
	var got complaintResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Status != store.ComplaintUpheld || got.DecidedAt == nil {
		t.Fatalf("complaint after uphold: %s (%v)", w.Body, err)
	}
	w = e.do("GET", "/v1/sellers/s_"+id, "", identity.RoleMarketplace)
	var sl sellerResponse
	if err := json.Unmarshal(w.Body.Bytes(), &sl); err != nil || sl.ActiveStrikes != 1 || len(sl.Strikes) != 1 || sl.Strikes[0].ComplaintID != id {
		t.Fatalf("seller after uphold: %s (%v)", w.Body, err)
	}
	w = e.do("POST", "/v1/complaints/"+id+"/counter-notice", `{"statement":"genuine"}`, identity.RoleMarketplace)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"contested"`) {
		t.Fatalf("counter-notice: status %d; body %s", w.Code, w.Body)
	}
}

// TestAuditPagination pages through the audit log with the cursor.
func TestAuditPagination(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	for range 5 {
		e.ingest(t, ownHolder)
	}
	var ids []int64
	path := "/v1/audit?object_type=complaint&limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("cursor does not end")
		}
		w := e.do("GET", path, "", identity.RoleAdmin)
		var page auditResponse
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || w.Code != http.StatusOK {
			t.Fatalf("status %d: %s (%v)", w.Code, w.Body, err)
		}
		for _, en := range page.Entries {
			if en.Action != "complaint.ingested" || en.Actor != review.ActorSystem {
				t.Errorf("entry %+v", en)
			}
			ids = append(ids, en.ID)
		}
		if page.NextAfter == nil {
			break
		}
		path = fmt.Sprintf("/v1/audit?object_type=complaint&limit=2&after=%d", *page.NextAfter)
	}
	if len(ids) != 5 {
		t.Fatalf("%d entries over all pages, want 5: %v", len(ids), ids)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not increasing: %v", ids)
		}
	}
}

// TestHolderStanding reads a holder's notifier standing.
func TestHolderStanding(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	w := e.do("GET", "/v1/holders/"+ownHolder, "", identity.RoleBrandOwner)
	var h holderResponse
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil || h.ID != ownHolder || h.Standing == nil ||
		h.Standing.Standing != string(review.StandingNormal) || h.Standing.Decided != 0 {
		t.Fatalf("holder: %s (%v)", w.Body, err)
	}
}

// TestThrottledHolder checks that a holder whose manual complaints are
// mostly rejected may file only at the throttled rate.
func TestThrottledHolder(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{ThrottledRate: rate.Every(time.Hour), ThrottledBurst: 1})
	submit := func(ref string) int {
		body := `{"client_ref":"` + ref + `","listing_id":"l_1","mark_id":"m_own","explanation":"fake"}`
		return e.do("POST", "/v1/complaints", body, identity.RoleBrandOwner).Code
	}
	for _, ref := range []string{"a", "b"} {
		if got := submit(ref); got != http.StatusAccepted {
			t.Fatalf("normal holder, ref %s: status %d", ref, got)
		}
	}
	ctx := context.Background()
	for i := range 10 {
		c := &domain.Complaint{
			SchemaVersion: domain.SchemaVersion, ComplaintID: fmt.Sprintf("c_rej_%d", i), Source: domain.SourceRightsHolder,
			ListingID: "l", MarkID: "m_own", HolderID: ownHolder, Score: 1, Explanation: "x",
		}
		if _, err := e.review.Ingest(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := e.review.Decide(ctx, c.ComplaintID, review.Decision{Verdict: review.VerdictReject, ReasonCode: "genuine", Actor: "u"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := submit("c"); got != http.StatusAccepted {
		t.Fatalf("throttled holder, first: status %d", got)
	}
	// It is flagged for a second look.
	sum := sha256.Sum256([]byte(ownHolder + "\x00" + "c"))
	ev, err := e.store.GetEvent(ctx, "complaint:c_"+hex.EncodeToString(sum[:16]))
	if err != nil {
		t.Fatal(err)
	}
	var flagged domain.Complaint
	if err := json.Unmarshal(ev.Payload, &flagged); err != nil {
		t.Fatal(err)
	}
	second := false
	for _, ev := range flagged.Evidence {
		second = second || ev.Kind == "second_look"
	}
	if !second || flagged.Score >= 1 {
		t.Errorf("a throttled holder's complaint is not flagged for a second look: score %v evidence %+v", flagged.Score, flagged.Evidence)
	}
	w := e.do("POST", "/v1/complaints", `{"client_ref":"d","listing_id":"l_1","mark_id":"m_own","explanation":"fake"}`, identity.RoleBrandOwner)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("throttled holder, second: status %d; body %s", w.Code, w.Body)
	}
	checkEnvelope(t, w.Body.Bytes())
}

// TestConcurrentDecisions sends one complaint several decisions at once:
// exactly one wins, the others get 409.
func TestConcurrentDecisions(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	id := e.ingest(t, ownHolder)
	const n = 8
	codes := make(chan int, n)
	for i := range n {
		go func() {
			body := []string{`{"decision":"uphold","reason_code":"counterfeit"}`, `{"decision":"reject","reason_code":"genuine"}`}[i%2]
			codes <- e.do("POST", "/v1/complaints/"+id+"/decision", body, identity.RoleReviewer).Code
		}()
	}
	count := map[int]int{}
	for range n {
		count[<-codes]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("status counts %v, want one 200 and %d 409", count, n-1)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, storetest.SQLiteDSN(t), Options{Registerer: reg})
	e.do("GET", "/v1/sellers/s", "", identity.RoleReviewer)
	e.do("GET", "/v1/sellers/s", "", "")
	for _, tc := range []struct {
		code string
		want float64
	}{{"200", 1}, {"401", 1}, {"500", 0}} {
		if got := testutil.ToFloat64(e.api.metrics.requests.WithLabelValues("GET /v1/sellers/{id}", tc.code)); got != tc.want {
			t.Errorf("requests with code %s: %v, want %v", tc.code, got, tc.want)
		}
	}
	if _, err := New(Options{Store: e.store, Review: e.review, Registerer: reg}); err == nil {
		t.Error("registering the metrics twice succeeded")
	}
}

// TestServer runs the API's server on a loopback port and shuts it down.
func TestServer(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	srv := e.api.Server("127.0.0.1:0")
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 {
		t.Fatalf("a timeout is unset: %+v", srv)
	}
	ts := httptest.NewUnstartedServer(srv.Handler)
	ts.Config = srv
	ts.Start()
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBulkDecisions decides several complaints at once; each item succeeds
// or fails on its own.
func TestBulkDecisions(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	a, b, decided := e.ingest(t, ownHolder), e.ingest(t, otherHolder), e.upheld(t, ownHolder)
	body := fmt.Sprintf(`{"decisions":[
		{"complaint_id":%q,"decision":"uphold","reason_code":"counterfeit"},
		{"complaint_id":%q,"decision":"reject","reason_code":"genuine","note":"receipt"},
		{"complaint_id":%q,"decision":"reject","reason_code":"genuine"},
		{"complaint_id":"c_missing","decision":"uphold","reason_code":"counterfeit"},
		{"complaint_id":%q,"decision":"uphold","reason_code":"genuine"}]}`, a, b, decided, a)
	w := e.do("POST", "/v1/complaints/decisions", body, identity.RoleReviewer)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d; body %s", w.Code, w.Body)
	}
	var resp bulkDecisionResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	want := []struct{ status, code string }{
		{store.ComplaintUpheld, ""}, {store.ComplaintRejected, ""}, {"", "conflict"}, {"", "not_found"}, {"", "invalid_request"},
	}
	if len(resp.Results) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(resp.Results), len(want), w.Body)
	}
	for i, r := range resp.Results {
		code := ""
		if r.Error != nil {
			code = r.Error.Code
		}
		if r.Status != want[i].status || code != want[i].code {
			t.Errorf("result %d: %+v, want status %q error %q", i, r, want[i].status, want[i].code)
		}
	}
	// A body that breaks the schema is refused whole, before any
	// decision: an unknown verdict is not one item's failure.
	c := e.ingest(t, ownHolder)
	w = e.do("POST", "/v1/complaints/decisions", `{"decisions":[{"complaint_id":"`+c+`","decision":"uphold","reason_code":"counterfeit"},{"complaint_id":"`+c+`","decision":"maybe","reason_code":"genuine"}]}`, identity.RoleReviewer)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "decisions[1].decision") {
		t.Errorf("unknown verdict in a bulk: status %d, body %s; want 400 naming decisions[1].decision", w.Code, w.Body)
	}
	if got, err := e.store.GetComplaint(context.Background(), c); err != nil || got.Status != store.ComplaintOpen {
		t.Errorf("a refused bulk decided %s: %+v (%v)", c, got.Status, err)
	}
	var many strings.Builder
	many.WriteString(`{"decisions":[`)
	for i := range maxBulkDecisions + 1 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`{"complaint_id":"c","decision":"uphold","reason_code":"counterfeit"}`)
	}
	many.WriteString("]}")
	if w := e.do("POST", "/v1/complaints/decisions", many.String(), identity.RoleReviewer); w.Code != http.StatusBadRequest {
		t.Errorf("%d decisions: status %d, want 400", maxBulkDecisions+1, w.Code)
	}
}
