package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// The learning routes' examples join the authorization matrix's table.
func init() {
	for name, ex := range map[string]example{
		"POST /v1/marks/{id}/quarantine/release": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/marks/" + e.quarantinedMark(t, holder) + "/quarantine/release", `{"kind":"image","ref":"stock.jpg","reason":"checked: a real photo"}`
		},
		"POST /v1/complaints/{id}/negative-bank": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/complaints/" + e.rejected(t, holder) + "/negative-bank", `{"evidence":0,"reason":"this word is ordinary here"}`
		},
		"GET /v1/negative-bank": func(*testing.T, *env, string) (string, string) {
			return "/v1/negative-bank?mark_id=" + markOf[ownHolder], ""
		},
		"POST /v1/negative-bank/{id}/undo": func(t *testing.T, e *env, _ string) (string, string) {
			return "/v1/negative-bank/" + e.bankEntry(t) + "/undo", ""
		},
	} {
		examples[name] = ex
	}
}

// quarantinedMark stores an active mark of holder whose stock photo is in
// quarantine and returns its id.
func (e *env) quarantinedMark(t testing.TB, holder string) string {
	t.Helper()
	id := e.mark(t, holder, domain.MarkActive)
	err := e.store.WithTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.SetMarkQuarantines(context.Background(), id, []domain.Quarantine{{
			Kind: domain.QuarantineImage, Ref: "stock.jpg", Trigger: domain.TriggerFlood, Reason: "flood: 900 complaints", Since: time.Now(),
		}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// rejected stores a rejected complaint of holder whose evidence is a text
// match and returns its id.
func (e *env) rejected(t testing.TB, holder string) string {
	t.Helper()
	id := fmt.Sprintf("c_test_%d", e.seq.Add(1))
	c := &domain.Complaint{
		SchemaVersion: domain.SchemaVersion, ComplaintID: id, Source: domain.SourceAuto,
		ListingID: "l_" + id, MarkID: markOf[holder], HolderID: holder, SellerID: "s_" + id, Score: 0.7,
		Explanation: "title contains Harbor",
		Evidence:    []domain.Evidence{{Matcher: "text", Score: 0.7, Field: "title", Match: "Harbor", Kind: "exact", Reference: "Harbor"}},
	}
	ctx := context.Background()
	if _, err := e.review.Ingest(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := e.review.Decide(ctx, id, review.Decision{Verdict: review.VerdictReject, ReasonCode: "genuine", Actor: "u_test"}); err != nil {
		t.Fatal(err)
	}
	return id
}

// bankEntry stores a live global entry and returns its id.
func (e *env) bankEntry(t testing.TB) string {
	t.Helper()
	id := fmt.Sprintf("nb_test_%d", e.seq.Add(1))
	err := e.store.WithTx(context.Background(), func(tx *store.Tx) error {
		return tx.AddBankEntry(context.Background(), &domain.BankEntry{
			SchemaVersion: 1, EntryID: id, Kind: domain.BankPhrase, Phrase: "canvas", Reason: "ordinary",
			CreatedBy: "u_test", CreatedAt: time.Now(),
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestNegativeBankFlow banks a rejected complaint's phrase, reads it back,
// undoes it, and checks the audit entries and what the outbox publishes to
// the negative-banks topic: the entry, then its tombstone.
func TestNegativeBankFlow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{NegativeBankTopic: "nb-topic"})
		ctx := context.Background()
		open := e.ingest(t, ownHolder)
		if w := e.do("POST", "/v1/complaints/"+open+"/negative-bank", `{"evidence":0,"reason":"x"}`, identity.RoleReviewer); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "not_rejected") {
			t.Fatalf("open complaint: %d %s, want 409 not_rejected", w.Code, w.Body)
		}
		id := e.rejected(t, ownHolder)
		for _, tc := range []struct{ body, want string }{
			{`{"evidence":3,"reason":"x"}`, "no index 3"},
			{`{"evidence":0,"reason":" "}`, "reason"},
			{`{"evidence":0,"reason":"x","scope":"planet"}`, "scope"},
		} {
			if w := e.do("POST", "/v1/complaints/"+id+"/negative-bank", tc.body, identity.RoleReviewer); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("%s: %d %s, want 400 naming %s", tc.body, w.Code, w.Body, tc.want)
			}
		}
		w := e.do("POST", "/v1/complaints/"+id+"/negative-bank", `{"evidence":0,"scope":"global","reason":"this word is ordinary here"}`, identity.RoleReviewer)
		if w.Code != http.StatusCreated {
			t.Fatalf("bank: %d %s", w.Code, w.Body)
		}
		var got bankEntryResponse
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		entry := got.Entry
		if !got.Live || entry.Kind != domain.BankPhrase || entry.Phrase != "Harbor" || entry.MarkID != "" || entry.ComplaintID != id {
			t.Fatalf("entry %+v", got)
		}
		ev, err := e.store.GetEvent(ctx, "negative-bank:"+entry.EntryID+":add")
		if err != nil || ev.Topic != "nb-topic" || ev.Key != entry.EntryID {
			t.Fatalf("outbox event %+v, %v", ev, err)
		}
		if pub, err := domain.DecodeBankEntry(ev.Payload, domain.Limits{}); err != nil || pub.Phrase != "Harbor" {
			t.Errorf("published entry %+v, %v", pub, err)
		}
		var list bankListResponse
		w = e.do("GET", "/v1/negative-bank?mark_id="+markOf[ownHolder], "", identity.RoleReviewer)
		if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Entries) != 1 {
			t.Fatalf("list: %s (%v)", w.Body, err)
		}
		w = e.do("POST", "/v1/negative-bank/"+entry.EntryID+"/undo", "", identity.RoleAdmin)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"live":false`) {
			t.Fatalf("undo: %d %s", w.Code, w.Body)
		}
		tomb, err := e.store.GetEvent(ctx, "negative-bank:"+entry.EntryID+":undo")
		if err != nil || tomb.Payload != nil || tomb.Key != entry.EntryID {
			t.Fatalf("tombstone %+v, %v", tomb, err)
		}
		if w := e.do("POST", "/v1/negative-bank/"+entry.EntryID+"/undo", "", identity.RoleAdmin); w.Code != http.StatusNotFound {
			t.Errorf("undo twice: %d, want 404", w.Code)
		}
		audit, err := e.store.AuditLog(ctx, store.AuditQuery{ObjectType: "negative_bank", ObjectID: entry.EntryID})
		if err != nil || len(audit) != 2 || audit[0].Action != "negative_bank.add" || audit[1].Action != "negative_bank.undo" {
			t.Errorf("audit %+v, %v", audit, err)
		}
	})
}

// TestReleaseQuarantine: the holder sees why its mark is quarantined, an
// admin releases it (audited, published), and a second release is 409.
func TestReleaseQuarantine(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.quarantinedMark(t, ownHolder)
		w := e.do("GET", "/v1/marks/"+id, "", identity.RoleBrandOwner)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"reason":"flood: 900 complaints"`) {
			t.Fatalf("the holder's view: %d %s", w.Code, w.Body)
		}
		body := `{"kind":"image","ref":"stock.jpg","reason":"a real photo"}`
		w = e.do("POST", "/v1/marks/"+id+"/quarantine/release", body, identity.RoleAdmin)
		if w.Code != http.StatusOK {
			t.Fatalf("release: %d %s", w.Code, w.Body)
		}
		var got markResponse
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if qs := got.Mark.Quarantines; len(qs) != 1 || qs[0].Active() || qs[0].ReleasedBy == "" {
			t.Fatalf("quarantines after release: %+v", qs)
		}
		ev, err := e.store.GetEvent(context.Background(), fmt.Sprintf("mark:%s:%d", id, got.Version))
		if err != nil {
			t.Fatalf("released mark not published: %v", err)
		}
		if pub, err := domain.DecodeMark(ev.Payload, domain.Limits{}); err != nil || pub.Quarantines[0].Active() {
			t.Errorf("published %+v, %v", pub, err)
		}
		if w := e.do("POST", "/v1/marks/"+id+"/quarantine/release", body, identity.RoleAdmin); w.Code != http.StatusConflict {
			t.Errorf("second release: %d %s, want 409", w.Code, w.Body)
		}
		audit, err := e.store.AuditLog(context.Background(), store.AuditQuery{ObjectType: "mark", ObjectID: id})
		if err != nil || len(audit) == 0 || audit[len(audit)-1].Action != "mark.quarantine_release" {
			t.Errorf("audit %+v, %v", audit, err)
		}
	})
}
