package api

import (
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// deepBody is a 20 KB body whose name field holds arrays nested 10,000
// levels deep: the hostile input of issue 7 that cost 150 MB per request
// when the key walk built a path string per level.
func deepBody() string {
	return `{"name":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
}

// TestDeepBodyRefusedCheaply: a deeply nested body is a 400 naming the
// depth cap, and deciding so allocates a small multiple of the body, on
// every route that decodes one and in parallel.
func TestDeepBodyRefusedCheaply(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	body := deepBody()
	w := e.do("POST", "/v1/holders", body, identity.RoleAdmin)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "64 levels") {
		t.Fatalf("holders: got %d %s, want 400 naming the 64-level cap", w.Code, w.Body)
	}
	w = e.do("POST", "/v1/marks", body, identity.RoleAdmin)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "64 levels") {
		t.Fatalf("marks: got %d %s, want 400 naming the 64-level cap", w.Code, w.Body)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var req holderRequest
			if err := decodeJSON([]byte(body), &req); err == nil {
				t.Error("deep body decoded")
			}
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*(16*uint64(len(body))+64<<10) {
		t.Errorf("8 deep bodies of %d bytes allocated %d bytes to refuse", len(body), alloc)
	}
}

// TestCheckKeysMessages: the API words the shared walk's verdicts as its
// other 400s ("field X: ...").
func TestCheckKeysMessages(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"decision":"reject","decision":"uphold"}`, "field decision: given more than once"},
		{`{"Decision":"uphold"}`, `field Decision: unknown field (names are case-sensitive: did you mean "decision"?)`},
		{`[]`, "field (body): want an object, got JSON array"},
		{`{"note":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`, "JSON nested more than 64 levels deep"},
	}
	for _, tc := range cases {
		var req decisionRequest
		err := decodeJSON([]byte(tc.body), &req)
		ae, ok := err.(*apiError)
		if !ok || ae.status != 400 || !strings.Contains(ae.msg, tc.want) {
			t.Errorf("%s: got %v, want a 400 containing %q", tc.body, err, tc.want)
		}
	}
	// A json.RawMessage field takes any JSON within the cap.
	var v struct {
		Detail json.RawMessage `json:"detail"`
	}
	if err := decodeJSON([]byte(`{"detail":{"a":[1,{"b":null}]}}`), &v); err != nil {
		t.Errorf("raw field: %v", err)
	}
}
