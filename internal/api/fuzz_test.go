package api

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
)

// fuzzBody sends body to path as role and fails on a 5xx or an error
// response that is not the envelope.
func fuzzBody(t *testing.T, e *env, path string, role identity.Role, body []byte) {
	fuzzRequest(t, e, "POST", path, role, body)
}

// fuzzRequest is fuzzBody with another method.
func fuzzRequest(t *testing.T, e *env, method, path string, role identity.Role, body []byte) {
	w := e.do(method, path, string(body), role)
	if w.Code >= 500 {
		t.Fatalf("status %d for body %q: %s", w.Code, body, w.Body)
	}
	if w.Code >= 400 {
		checkEnvelope(t, w.Body.Bytes())
	}
	if w.Code < 200 || (w.Code >= 300 && w.Code < 400) || w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
		t.Fatalf("status %d for body %q", w.Code, body)
	}
}

func FuzzDecisionRequest(f *testing.F) {
	for _, s := range []string{
		`{"decision":"uphold","reason_code":"counterfeit","note":"logo"}`,
		`{"decision":"reject","reason_code":"authorized_seller"}`,
		`{"decision":"uphold"}`, `{"decision":null}`, `{"decision":1}`, `[]`, `null`, ``, `{`,
		`{"decision":"uphold","reason_code":"` + "\xff" + `"}`, `{"Decision":"uphold","reason_code":"x"}`,
		`{"decision":"uphold","reason_code":"counterfeit"}{}`, `{"note":"` + string(make([]byte, 20)) + `"}`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f, fuzzDSN(f), Options{})
	id := e.ingest(f, ownHolder)
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, e, "/v1/complaints/"+id+"/decision", identity.RoleReviewer, body)
	})
}

func FuzzComplaintRequest(f *testing.F) {
	for _, s := range []string{
		`{"listing_id":"l_1","mark_id":"m_own","seller_id":"s_1","explanation":"fake"}`,
		`{"client_ref":"r","listing_id":"l_1","listing_version":-1,"mark_id":"m_own","explanation":"x"}`,
		`{"listing_id":"l_1","mark_id":"m_own","explanation":"x","evidence":[{"matcher":"text","score":2}]}`,
		`{"listing_id":"l_1","mark_id":"m_own","explanation":"x","listing":{"title":"t","images":["javascript:alert(1)"],"price":{"amount":"x","currency":"EUR"}}}`,
		`{"listing_id":"l\u0000","mark_id":"m","explanation":"x"}`, `{"holder_id":"h_other"}`,
		`{"listing_version":1e400}`, `{"listing_version":1.5}`, `[1,2]`, `"s"`, ``,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f, fuzzDSN(f), Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, e, "/v1/complaints", identity.RoleBrandOwner, body)
	})
}

// fuzzDSN is storetest.SQLiteDSN for a *testing.F, which it does not take.
func fuzzDSN(f *testing.F) string {
	return "sqlite:" + filepath.Join(f.TempDir(), "markwatch.db")
}

func FuzzBulkDecisionRequest(f *testing.F) {
	for _, s := range []string{
		`{"decisions":[{"complaint_id":"c_test_1","decision":"uphold","reason_code":"counterfeit"}]}`,
		`{"decisions":[{"complaint_id":"c_missing","decision":"reject","reason_code":"genuine"},{"complaint_id":"","decision":"","reason_code":""}]}`,
		`{"decisions":[]}`, `{"decisions":null}`, `{"decisions":[null]}`, `{"decisions":{}}`, `{"Decisions":[]}`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f, fuzzDSN(f), Options{})
	e.ingest(f, ownHolder)
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, e, "/v1/complaints/decisions", identity.RoleReviewer, body)
	})
}

func FuzzHolderRequest(f *testing.F) {
	for _, s := range []string{
		`{"name":"Acme"}`, `{"id":"acme","name":"Acme"}`, `{"id":"h_own","name":"dup"}`, `{"id":"a/b","name":"x"}`,
		`{"name":""}`, `{"name":"\u0000"}`, `{"name":1}`, `{"name":"a","name":"b"}`,
		// Nesting at and past the 64-level cap, and brackets in a string.
		`{"name":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`,
		`{"name":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`,
		`{"name":"` + strings.Repeat("[{", 100) + `"}`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f, fuzzDSN(f), Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, e, "/v1/holders", identity.RoleAdmin, body)
	})
}

func FuzzCounterNoticeRequest(f *testing.F) {
	for _, s := range []string{`{"statement":"genuine"}`, `{"statement":""}`, `{}`, `{"statement":null}`, `{"statement":["x"]}`} {
		f.Add([]byte(s))
	}
	e := newEnv(f, fuzzDSN(f), Options{})
	id := e.upheld(f, ownHolder)
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, e, "/v1/complaints/"+id+"/counter-notice", identity.RoleMarketplace, body)
	})
}
