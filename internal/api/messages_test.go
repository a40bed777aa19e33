package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// The thread routes' examples join the authorization matrix's table here.
func init() {
	for name, ex := range map[string]example{
		"GET /v1/complaints/{id}/messages": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/complaints/" + e.ingest(t, holder) + "/messages?limit=10", ""
		},
		"POST /v1/complaints/{id}/messages": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/complaints/" + e.ingest(t, holder) + "/messages", `{"body":"Please use your own photos."}`
		},
		"POST /v1/complaints/{id}/withdraw": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/complaints/" + e.upheld(t, holder) + "/withdraw", `{"reason":"We licensed the seller."}`
		},
	} {
		examples[name] = ex
	}
}

// TestThread: the holder and the seller (through the marketplace) talk on
// a complaint, a reviewer reads it, another holder cannot, and the holder
// withdraws the complaint from the thread.
func TestThread(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.upheld(t, ownHolder)
		base := "/v1/complaints/" + id
		post := func(role identity.Role, body string) *messageResponse {
			t.Helper()
			w := e.do("POST", base+"/messages", body, role)
			if w.Code != http.StatusCreated {
				t.Fatalf("post as %s: %d %s", role, w.Code, w.Body)
			}
			var m messageResponse
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			return &m
		}
		if m := post(identity.RoleBrandOwner, `{"body":"Your photos are ours."}`); m.Author != store.AuthorHolder {
			t.Errorf("brand owner's message by %s", m.Author)
		}
		if m := post(identity.RoleMarketplace, `{"body":"<script>x</script> I took them myself"}`); m.Author != store.AuthorSeller {
			t.Errorf("marketplace's message by %s", m.Author)
		}
		w := e.do("GET", base+"/messages", "", identity.RoleReviewer)
		var page messageListResponse
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || w.Code != http.StatusOK {
			t.Fatalf("reviewer reads: %d %s", w.Code, w.Body)
		}
		if len(page.Messages) != 2 || page.Messages[1].Body != "<script>x</script> I took them myself" || page.NextAfter != nil {
			t.Errorf("thread %+v", page)
		}
		if w := e.do("GET", base+"/messages?limit=1", "", identity.RoleBrandOwner); !strings.Contains(w.Body.String(), `"next_after"`) {
			t.Errorf("a full page has no cursor: %s", w.Body)
		}
		// Another holder's complaint is a 404, as every tenant object.
		other := e.ingest(t, otherHolder)
		if w := e.do("POST", "/v1/complaints/"+other+"/messages", `{"body":"hi"}`, identity.RoleBrandOwner); w.Code != http.StatusNotFound {
			t.Errorf("post on another holder's complaint: %d", w.Code)
		}
		for name, body := range map[string]string{
			"too long": `{"body":"` + strings.Repeat("x", 4001) + `"}`,
			"control":  `{"body":"a\u0007b"}`,
		} {
			if w := e.do("POST", base+"/messages", body, identity.RoleMarketplace); w.Code != http.StatusBadRequest {
				t.Errorf("%s: %d %s", name, w.Code, w.Body)
			}
		}
		w = e.do("POST", base+"/withdraw", `{"reason":"We licensed the seller."}`, identity.RoleBrandOwner)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"status":"reinstated"`) {
			t.Fatalf("withdraw: %d %s", w.Code, w.Body)
		}
		if w := e.do("POST", base+"/withdraw", `{"reason":"again"}`, identity.RoleBrandOwner); w.Code != http.StatusConflict {
			t.Errorf("withdraw twice: %d", w.Code)
		}
		w = e.do("GET", base+"/messages", "", identity.RoleMarketplace)
		if !strings.Contains(w.Body.String(), "We licensed the seller.") {
			t.Errorf("the withdrawal's reason is not in the thread: %s", w.Body)
		}
	})
}
