package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// The edit route joins the authorization matrix: an admin and the brand
// owner edit the own holder's mark, the brand owner gets 404 for another
// holder's, reviewers and marketplaces 403.
func init() {
	examples["PATCH /v1/marks/{id}"] = func(t *testing.T, e *env, holder string) (string, string) {
		return "/v1/marks/" + e.mark(t, holder, domain.MarkPending), fmt.Sprintf(`{"version":1,"variants":["ACME %d"]}`, e.seq.Add(1))
	}
}

// TestEditMark edits an active mark's variants, sellers and prices as its
// brand owner: the answer and the store carry the new lists at the next
// version, the marks topic gets the edited mark, the audit log says what
// changed; refused edits change, publish and audit nothing.
func TestEditMark(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.mark(t, ownHolder, domain.MarkActive)
		w := e.do("PATCH", "/v1/marks/"+id, `{"version":1,"variants":["ACME","阿克米"],"authorized_sellers":["s_official"],
			"reference_prices":[{"category":"bags","amount":"250.00","currency":"EUR"}]}`, identity.RoleBrandOwner)
		if w.Code != http.StatusOK {
			t.Fatalf("edit: %d %s", w.Code, w.Body)
		}
		got := decodeResponse[markResponse](t, w.Body.Bytes())
		if got.Version != 2 || strings.Join(got.Mark.Variants, ",") != "ACME,阿克米" || got.Mark.AuthorizedSellers[0] != "s_official" ||
			got.Mark.ReferencePrices[0].Amount != "250.00" || got.Status != domain.MarkActive {
			t.Fatalf("edited mark %+v", got)
		}
		events := markEvents(t, e)
		if len(events) != 1 || events[0].Key != id || events[0].EventID != "mark:"+id+":2" {
			t.Fatalf("events after the edit: %+v", events)
		}
		published, err := domain.DecodeMark(events[0].Payload, domain.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(published.Variants, ",") != "ACME,阿克米" || published.ReferencePrices[0].Currency != "EUR" {
			t.Errorf("published %+v", published)
		}

		// Fields left out stay; an empty list clears.
		w = e.do("PATCH", "/v1/marks/"+id, `{"version":2,"authorized_sellers":[]}`, identity.RoleAdmin)
		if w.Code != http.StatusOK {
			t.Fatalf("clear sellers: %d %s", w.Code, w.Body)
		}
		stored, err := e.store.GetMark(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Version != 3 || len(stored.Body.AuthorizedSellers) != 0 || len(stored.Body.Variants) != 2 || len(stored.Body.ReferencePrices) != 1 {
			t.Fatalf("stored after clearing sellers: v%d %+v", stored.Version, stored.Body)
		}

		// An edit that changes nothing makes no version, event or entry.
		if w = e.do("PATCH", "/v1/marks/"+id, `{"version":3,"variants":["ACME","阿克米"]}`, identity.RoleBrandOwner); w.Code != http.StatusOK {
			t.Fatalf("no-op edit: %d %s", w.Code, w.Body)
		}
		if got := decodeResponse[markResponse](t, w.Body.Bytes()); got.Version != 3 {
			t.Errorf("a no-op edit answered version %d", got.Version)
		}

		for _, tc := range []struct {
			name, body string
			status     int
			field      string
		}{
			{"stale version", `{"version":1,"variants":["X"]}`, http.StatusConflict, "version"},
			{"bad currency", `{"version":3,"reference_prices":[{"amount":"10.00","currency":"euro"}]}`, http.StatusBadRequest, "reference_prices[0].currency"},
			{"bad amount", `{"version":3,"reference_prices":[{"amount":"ten","currency":"EUR"}]}`, http.StatusBadRequest, "reference_prices[0].amount"},
			{"blank variant", `{"version":3,"variants":["ok",""]}`, http.StatusBadRequest, "variants[1]"},
			{"version is required", `{"variants":["X"]}`, http.StatusBadRequest, "field version: required"},
			{"name is not editable", `{"version":3,"name":"Other"}`, http.StatusBadRequest, "name"},
			{"nothing", `{"version":3}`, http.StatusBadRequest, "nothing to change"},
			{"status is not editable", `{"version":3,"status":"active"}`, http.StatusBadRequest, "status"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w := e.do("PATCH", "/v1/marks/"+id, tc.body, identity.RoleBrandOwner)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
				if env := checkEnvelope(t, w.Body.Bytes()); !strings.Contains(env.Error.Message, tc.field) {
					t.Errorf("message %q does not name %s", env.Error.Message, tc.field)
				}
			})
		}
		if n := len(markEvents(t, e)); n != 2 {
			t.Errorf("%d mark events after two edits and refusals, want 2", n)
		}
		entries, err := e.store.AuditLog(t.Context(), store.AuditQuery{ObjectType: "mark", ObjectID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Action != "mark.edit" || !strings.Contains(string(entries[0].Detail), `"variants.to"`) ||
			!strings.Contains(string(entries[1].Detail), `"authorized_sellers.from":"s_official"`) {
			t.Errorf("audit entries %+v", entries)
		}

		// A pending mark is edited but not published; a removed one is
		// not edited.
		pending := e.mark(t, ownHolder, domain.MarkPending)
		if w = e.do("PATCH", "/v1/marks/"+pending, `{"version":1,"variants":["P"]}`, identity.RoleBrandOwner); w.Code != http.StatusOK {
			t.Fatalf("edit pending: %d %s", w.Code, w.Body)
		}
		if n := len(markEvents(t, e)); n != 2 {
			t.Errorf("editing a pending mark published it (%d events)", n)
		}
		removed := e.mark(t, ownHolder, domain.MarkRemoved)
		if w = e.do("PATCH", "/v1/marks/"+removed, `{"version":1,"variants":["R"]}`, identity.RoleAdmin); w.Code != http.StatusConflict {
			t.Errorf("edit removed: %d %s", w.Code, w.Body)
		}
		// Another holder's mark is as unknown as a missing one, and
		// unchanged.
		other := e.mark(t, otherHolder, domain.MarkActive)
		for _, target := range []string{other, "m_missing"} {
			w = e.do("PATCH", "/v1/marks/"+target, `{"version":1,"variants":["mine"]}`, identity.RoleBrandOwner)
			if w.Code != http.StatusNotFound || checkEnvelope(t, w.Body.Bytes()).Error.Message != "mark not found" {
				t.Errorf("edit %s as another holder's brand owner: %d %s", target, w.Code, w.Body)
			}
		}
		if m, _ := e.store.GetMark(t.Context(), other); m.Version != 1 || len(m.Body.Variants) != 0 {
			t.Errorf("another holder's mark changed: %+v", m)
		}
	})
}

// FuzzMarkEditRequest sends PATCH /v1/marks/{id} arbitrary bodies: each is
// answered with a mark or the error envelope, never a 5xx, and whatever it
// stored is a valid mark.
func FuzzMarkEditRequest(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"variants":["ACME","阿克米"],"authorized_sellers":["s_1"],"reference_prices":[{"amount":"10.00","currency":"EUR"}]}`,
		`{"version":1,"variants":[]}`, `{"version":1}`, `{"variants":["x"]}`, `{"version":"1","variants":["x"]}`,
		`{"version":1,"reference_prices":[{"amount":"1e9","currency":"eur","category":"` + "\xff" + `"}]}`,
		`{"version":1,"variants":[null]}`, `{"version":1,"variants":null}`, `{"version":1,"name":"x"}`,
		`{"version":-1,"authorized_sellers":["` + strings.Repeat("s", 300) + `"]}`, `[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	e := newEnv(f, fuzzDSN(f), Options{})
	id := e.mark(f, ownHolder, domain.MarkActive)
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzRequest(t, e, "PATCH", "/v1/marks/"+id, identity.RoleBrandOwner, body)
		m, err := e.store.GetMark(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Body.Validate(domain.Limits{}); err != nil {
			t.Fatalf("body %q stored an invalid mark: %v", body, err)
		}
	})
}
