package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func init() {
	examples["GET /v1/marks/{id}/calibration"] = func(t *testing.T, e *env, holder string) (string, string) {
		return "/v1/marks/" + e.mark(t, holder, domain.MarkActive) + "/calibration?days=30", ""
	}
	examples["POST /v1/marks/{id}/threshold"] = func(t *testing.T, e *env, holder string) (string, string) {
		return "/v1/marks/" + e.mark(t, holder, domain.MarkActive) + "/threshold", `{"threshold":0.8,"reason":"calibrated"}`
	}
}

// decided ingests an automatic complaint of the own holder's mark at score,
// with evidence from matchers, and decides it (upheld when uphold).
func (e *env) decided(t *testing.T, score float64, uphold bool, matchers ...string) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("c_cal_%d", e.seq.Add(1))
	c := &domain.Complaint{
		SchemaVersion: domain.SchemaVersion, ComplaintID: id, Source: domain.SourceAuto,
		ListingID: "l_" + id, MarkID: markOf[ownHolder], HolderID: ownHolder, SellerID: "s_" + id, Score: score,
		Explanation: "looks fake",
	}
	for _, m := range matchers {
		c.Evidence = append(c.Evidence, domain.Evidence{Matcher: m, Score: score})
	}
	if _, err := e.review.Ingest(ctx, c); err != nil {
		t.Fatal(err)
	}
	d := review.Decision{Verdict: review.VerdictUphold, ReasonCode: "counterfeit", Actor: "u_test"}
	if !uphold {
		d = review.Decision{Verdict: review.VerdictReject, ReasonCode: "genuine", Actor: "u_test"}
	}
	if err := e.review.Decide(ctx, id, d); err != nil {
		t.Fatal(err)
	}
}

// TestCalibration decides complaints of a mark, reads its calibration
// (recommended threshold, per-matcher precision, what-if) as a reviewer and
// its brand owner, and applies the recommendation as an admin: the mark's
// new version reaches the marks topic and the audit log records the
// recommendation beside the change.
func TestCalibration(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		reg := prometheus.NewRegistry()
		e := newEnv(t, eng.NewDSN(t), Options{Registerer: reg})
		mark := markOf[ownHolder]
		path := "/v1/marks/" + mark + "/calibration"

		// Too few decisions: no recommendation, and it says why.
		for range 5 {
			e.decided(t, 0.9, true, "text")
		}
		w := e.do("GET", path, "", identity.RoleReviewer)
		if w.Code != http.StatusOK {
			t.Fatalf("calibration: %d %s", w.Code, w.Body)
		}
		got := decodeResponse[calibrationResponse](t, w.Body.Bytes())
		if got.Report.Recommended != nil || !strings.Contains(got.Report.Reason, "needs at least 30") {
			t.Errorf("5 decisions: recommended %v, reason %q", got.Report.Recommended, got.Report.Reason)
		}
		if got.Target != 0.95 || got.MinDecisions != 30 || got.WindowDays != 90 || got.MarkID != mark {
			t.Errorf("options %+v", got)
		}

		// 35 upheld at 0.9 (text + image), 10 rejected at 0.55 (text).
		for range 30 {
			e.decided(t, 0.9, true, "text", "image")
		}
		for range 10 {
			e.decided(t, 0.55, false, "text")
		}
		w = e.do("GET", path+"?days=7", "", identity.RoleBrandOwner)
		if w.Code != http.StatusOK {
			t.Fatalf("calibration as brand owner: %d %s", w.Code, w.Body)
		}
		got = decodeResponse[calibrationResponse](t, w.Body.Bytes())
		r := got.Report
		if got.WindowDays != 7 || r.Filed != 45 || r.Overall.Decided != 45 || r.Overall.Upheld != 35 {
			t.Fatalf("window %d filed %d decided %d upheld %d", got.WindowDays, r.Filed, r.Overall.Decided, r.Overall.Upheld)
		}
		if r.Recommended == nil || *r.Recommended != 0.56 || *r.RecommendedPrecision != 1 || r.RecommendedDecisions != 35 {
			t.Fatalf("recommended %v (%s)", r.Recommended, r.Reason)
		}
		precision := map[string]float64{}
		for _, m := range r.Matchers {
			precision[m.Matcher] = *m.Precision
		}
		if precision["image"] != 1 || precision["text"] != 35.0/45 {
			t.Errorf("matcher precision %v", precision)
		}
		if w := r.WhatIf[11]; w.Threshold != 0.6 || w.Filed != 35 || w.Upheld != 35 {
			t.Errorf("what-if at 0.6: %+v", w)
		}

		for _, tc := range []struct {
			name, query string
			role        identity.Role
			status      int
		}{
			{"unknown parameter", "?weeks=2", identity.RoleReviewer, 400},
			{"days out of range", "?days=0", identity.RoleReviewer, 400},
			{"days not a number", "?days=x", identity.RoleReviewer, 400},
			{"marketplace", "", identity.RoleMarketplace, 403},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if w := e.do("GET", path+tc.query, "", tc.role); w.Code != tc.status {
					t.Errorf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
			})
		}

		// Apply it. A brand owner and a reviewer may not.
		body := fmt.Sprintf(`{"threshold":%v,"reason":"calibration","version":%d}`, *r.Recommended, got.Version)
		for _, role := range []identity.Role{identity.RoleBrandOwner, identity.RoleReviewer} {
			if w := e.do("POST", "/v1/marks/"+mark+"/threshold", body, role); w.Code != http.StatusForbidden {
				t.Errorf("%s sets a threshold: %d", role, w.Code)
			}
		}
		before := len(markEvents(t, e))
		w = e.do("POST", "/v1/marks/"+mark+"/threshold", body, identity.RoleAdmin)
		if w.Code != http.StatusOK {
			t.Fatalf("apply: %d %s", w.Code, w.Body)
		}
		applied := decodeResponse[markResponse](t, w.Body.Bytes())
		if applied.Version != got.Version+1 || applied.Mark.Threshold == nil || *applied.Mark.Threshold != 0.56 {
			t.Fatalf("applied %+v", applied)
		}
		if n := testutil.ToFloat64(e.api.metrics.thresholds.WithLabelValues("true")); n != 1 {
			t.Errorf("markwatch_mark_threshold_changes_total{recommended=true} = %v, want 1", n)
		}
		events := markEvents(t, e)
		if len(events) != before+1 {
			t.Fatalf("%d new marks events, want 1", len(events)-before)
		}
		var published domain.Mark
		if err := json.Unmarshal(events[len(events)-1].Payload, &published); err != nil || published.MarkID != mark ||
			published.Threshold == nil || *published.Threshold != 0.56 {
			t.Errorf("published %+v (%v)", published, err)
		}
		audit, err := e.store.AuditLog(t.Context(), store.AuditQuery{ObjectType: "mark", ObjectID: mark})
		if err != nil || len(audit) != 1 || audit[0].Action != "mark.threshold" {
			t.Fatalf("audit %+v (%v)", audit, err)
		}
		var detail map[string]string
		if err := json.Unmarshal(audit[0].Detail, &detail); err != nil ||
			detail["from"] != "default" || detail["to"] != "0.56" || detail["recommended"] != "0.56" || detail["reason"] != "calibration" {
			t.Errorf("audit detail %s", audit[0].Detail)
		}

		for _, tc := range []struct {
			name, body string
			status     int
		}{
			{"stale version", body, http.StatusConflict},
			{"no reason", `{"threshold":0.7}`, http.StatusBadRequest},
			{"zero", `{"threshold":0,"reason":"x"}`, http.StatusBadRequest},
			{"above one", `{"threshold":1.2,"reason":"x"}`, http.StatusBadRequest},
			{"unknown field", `{"threshold":0.7,"reason":"x","force":true}`, http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w := e.do("POST", "/v1/marks/"+mark+"/threshold", tc.body, identity.RoleAdmin)
				if w.Code != tc.status {
					t.Errorf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
			})
		}
		if n := len(markEvents(t, e)); n != before+1 {
			t.Errorf("refused changes published %d events", n-before-1)
		}
	})
}

// TestComplaintBuyerReports shows a complaint's buyer reports beside it:
// the listing's and the seller's sums, no buyer named.
func TestComplaintBuyerReports(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.ingest(t, ownHolder)
		for i, buyer := range []string{"b_1", "b_2", "b_2"} {
			_, err := e.review.IngestBuyerReport(t.Context(), &domain.BuyerReport{
				SchemaVersion: domain.SchemaVersion, ReportID: fmt.Sprintf("r_%d", i), ListingID: "l_" + id,
				SellerID: "s_" + id, BuyerID: buyer, Reason: domain.ReasonCounterfeit, CreatedAt: time.Now(),
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		w := e.do("GET", "/v1/complaints/"+id, "", identity.RoleBrandOwner)
		if w.Code != http.StatusOK {
			t.Fatalf("get: %d %s", w.Code, w.Body)
		}
		got := decodeResponse[complaintResponse](t, w.Body.Bytes())
		if got.BuyerReports == nil || got.BuyerReports.Listing.Reports != 3 || got.BuyerReports.Listing.Buyers != 2 ||
			got.BuyerReports.Listing.Weight != 2 || got.BuyerReports.Seller.Listings != 1 {
			t.Errorf("buyer reports %+v", got.BuyerReports)
		}
		if strings.Contains(w.Body.String(), "b_1") {
			t.Errorf("a buyer is named: %s", w.Body)
		}
	})
}
