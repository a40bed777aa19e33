package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestDecisionStatements pins the statements (round trips to the
// database) of POST /v1/complaints/{id}/decision on each path of a
// decision, on both stores, and checks what the decision wrote and
// answered: a statement added to a decision fails here, with the list.
// Each count includes the request's own two reads, the caller's
// credentials and the complaint for the tenant check. PostgreSQL locks
// the seller networks where SQLite's single writer needs no lock, and
// writes in one statement what SQLite writes in two: the audit entries
// and the events, and a strike with the rung it lifts its seller to.
func TestDecisionStatements(t *testing.T) {
	uphold := `{"decision":"uphold","reason_code":"counterfeit"}`
	reject := `{"decision":"reject","reason_code":"genuine"}`
	type want struct {
		sqlite, postgres int
		// audit and topics are the audit actions and the outbox topics
		// the decision wrote, in id order.
		audit, topics []string
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *env) string
		body  string
		want  want
	}{
		{"uphold open, the seller's first strike climbs a rung", func(t *testing.T, e *env) string { return e.ingest(t, ownHolder) }, uphold, want{
			sqlite: 13, postgres: 12,
			audit:  []string{"complaint.upheld", "strike.added", "seller.warned"},
			topics: []string{"takedowns", "seller-actions", "seller-notices", "seller-notices", "seller-notices"},
		}},
		{"uphold open, a second strike on the same rung", func(t *testing.T, e *env) string {
			first := ingestSeller(t, e, "s_repeat")
			if w := e.do("POST", "/v1/complaints/"+first+"/decision", uphold, identity.RoleReviewer); w.Code != http.StatusOK {
				t.Fatalf("first decision: %d %s", w.Code, w.Body)
			}
			return ingestSeller(t, e, "s_repeat")
		}, uphold, want{
			sqlite: 12, postgres: 12,
			audit:  []string{"complaint.upheld", "strike.added"},
			topics: []string{"takedowns", "seller-notices", "seller-notices"},
		}},
		{"reject open", func(t *testing.T, e *env) string { return e.ingest(t, ownHolder) }, reject, want{
			sqlite: 6, postgres: 6,
			audit: []string{"complaint.rejected"},
		}},
		{"reject contested, reinstated", func(t *testing.T, e *env) string { return e.contested(t, ownHolder) }, reject, want{
			sqlite: 12, postgres: 12,
			audit:  []string{"complaint.rejected", "strike.removed"},
			topics: []string{"takedowns", "seller-notices"},
		}},
		{"uphold contested", func(t *testing.T, e *env) string { return e.contested(t, ownHolder) }, uphold, want{
			sqlite: 7, postgres: 7,
			audit: []string{"complaint.upheld"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
				e := newEnv(t, eng.NewDSN(t), Options{})
				id := tc.setup(t, e)
				// A decision on another complaint first: each pooled
				// connection prepares a statement once, and the count is
				// of a warm decision.
				if w := e.do("POST", "/v1/complaints/"+e.ingest(t, otherHolder)+"/decision", reject, identity.RoleReviewer); w.Code != http.StatusOK {
					t.Fatalf("warm-up decision: %d %s", w.Code, w.Body)
				}
				// Earlier writes, to tell the decision's own apart.
				audit0, event0 := lastAudit(t, e), lastEvent(t, e)
				ctx, sent := store.WithStatements(context.Background())
				w := e.doContext(ctx, "POST", "/v1/complaints/"+id+"/decision", tc.body, identity.RoleReviewer)
				if w.Code != http.StatusOK {
					t.Fatalf("decision: %d %s", w.Code, w.Body)
				}
				want := tc.want.sqlite
				if eng.Name == "postgres" {
					want = tc.want.postgres
				}
				if got := sent.List(); len(got) != want {
					t.Errorf("%d statements, want %d:\n%s", len(got), want, strings.Join(got, "\n"))
				}

				// The answer is the complaint as a read after it finds it.
				var answered complaintResponse
				if err := json.Unmarshal(w.Body.Bytes(), &answered); err != nil {
					t.Fatal(err)
				}
				stored, err := e.store.GetComplaint(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := mustJSON(t, answered), mustJSON(t, newComplaintResponse(&stored)); a != b {
					t.Errorf("answered %s\nstored   %s", a, b)
				}

				var actions, topics []string
				entries, err := e.store.AuditLog(context.Background(), store.AuditQuery{AfterID: audit0, Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range entries {
					actions = append(actions, a.Action)
				}
				events, err := e.store.PendingEvents(context.Background(), 1000)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range events {
					if ev.ID > event0 {
						topics = append(topics, ev.Topic)
					}
				}
				if !slices.Equal(actions, tc.want.audit) {
					t.Errorf("audit %v, want %v", actions, tc.want.audit)
				}
				if !slices.Equal(topics, tc.want.topics) {
					t.Errorf("events %v, want %v", topics, tc.want.topics)
				}
			})
		})
	}
}

// ingestSeller stores an open complaint of ownHolder about a listing of
// seller and returns its id.
func ingestSeller(t *testing.T, e *env, seller string) string {
	t.Helper()
	id := fmt.Sprintf("c_seller_%d", e.seq.Add(1))
	c := &domain.Complaint{
		SchemaVersion: domain.SchemaVersion, ComplaintID: id, Source: domain.SourceAuto,
		ListingID: "l_" + id, MarkID: markOf[ownHolder], HolderID: ownHolder, SellerID: seller, Score: 0.9,
		Explanation: "looks fake",
	}
	if _, err := e.review.Ingest(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return id
}

// lastAudit is the id of the newest audit entry, 0 for none.
func lastAudit(t *testing.T, e *env) int64 {
	t.Helper()
	var last int64
	for {
		entries, err := e.store.AuditLog(context.Background(), store.AuditQuery{AfterID: last, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			return last
		}
		last = entries[len(entries)-1].ID
	}
}

// lastEvent is the id of the newest unpublished outbox event, 0 for none.
func lastEvent(t *testing.T, e *env) int64 {
	t.Helper()
	events, err := e.store.PendingEvents(context.Background(), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		return 0
	}
	return events[len(events)-1].ID
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
