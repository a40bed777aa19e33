package review

import (
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestBuyerComplaints: enough independent counterfeit reports bring a
// listing to review — a buyer complaint naming the mark its brand field
// resolves to, or none — or put its complaint under review first; a flood
// of new accounts and one buyer's repeats do not; nothing is filed twice;
// a mark-less buyer complaint cannot be upheld, one with a mark can; a
// buyer complaint on the complaints topic is refused.
func TestBuyerComplaints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, Options{})
		ctx := t.Context()
		report := func(id, listing, buyer string, newAccount bool, brand string) {
			t.Helper()
			r := buyerReport(id, listing, "s_b", buyer, newAccount)
			r.ListingBrand, r.ListingTitle = brand, "bag "+listing
			if _, err := e.svc.IngestBuyerReport(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		buyerComplaints := func() map[string]store.Complaint {
			t.Helper()
			page, err := e.store.ListQueue(ctx, store.QueueFilter{Source: []string{domain.SourceBuyer}}, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]store.Complaint{}
			for _, c := range page.Complaints {
				out[c.Body.ListingID] = c
			}
			return out
		}

		// A flood: twelve new accounts weigh 3.0 only at twelve; eleven
		// are not enough. One buyer reporting five times is one voice.
		for i := range 11 {
			report(fmt.Sprintf("r_flood_%d", i), "l_flood", fmt.Sprintf("b_new%d", i), true, "")
		}
		for i := range 5 {
			report(fmt.Sprintf("r_same_%d", i), "l_same", "b_same", false, "")
		}
		// Established buyers: the third brings l_brand to review, naming
		// the mark its brand field is (m_acme is "ACME m_acme").
		for i := range 3 {
			report(fmt.Sprintf("r_brand_%d", i), "l_brand", fmt.Sprintf("b_%d", i), false, "acme M_ACME")
		}
		// l_none: a brand no mark has.
		for i := range 3 {
			report(fmt.Sprintf("r_none_%d", i), "l_none", fmt.Sprintf("b_%d", i), false, "Nobrand")
		}
		got := buyerComplaints()
		if len(got) != 2 {
			t.Fatalf("buyer complaints on %v, want l_brand and l_none only", got)
		}
		withMark, noMark := got["l_brand"], got["l_none"]
		if withMark.Body.MarkID != "m_acme" || withMark.Body.HolderID != "h_acme" || withMark.Body.Score != 0.5 ||
			withMark.Body.ComplaintID != domain.ComplaintID("l_brand", 1, "m_acme", domain.BuyerRuleVersion) ||
			withMark.Body.Listing == nil || withMark.Body.Listing.Brand != "acme M_ACME" || len(withMark.Body.Evidence) != 1 {
			t.Errorf("buyer complaint with a mark: %+v", withMark.Body)
		}
		if noMark.Body.MarkID != "" || noMark.Body.HolderID != "" {
			t.Errorf("buyer complaint without a mark: %+v", noMark.Body)
		}
		// A fourth report files nothing more.
		report("r_brand_9", "l_brand", "b_9", false, "ACME m_acme")
		if n := len(buyerComplaints()); n != 2 {
			t.Errorf("%d buyer complaints after one more report, want still 2", n)
		}
		if got := testutil.ToFloat64(e.svc.metrics.buyerEscalations.WithLabelValues(EscalationFiled)); got != 2 {
			t.Errorf("filed escalations %v, want 2", got)
		}

		// Reports alone take nothing down.
		err := e.svc.Decide(ctx, noMark.Body.ComplaintID, uphold("u_rev"))
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("uphold of a mark-less buyer complaint: %v, want ErrInvalid", err)
		}
		if err := e.svc.Decide(ctx, noMark.Body.ComplaintID, reject("u_rev")); err != nil {
			t.Errorf("reject of a mark-less buyer complaint: %v", err)
		}
		if err := e.svc.Decide(ctx, withMark.Body.ComplaintID, uphold("u_rev")); err != nil {
			t.Errorf("a reviewer's uphold of a buyer complaint naming a mark: %v", err)
		}

		// A listing with an auto complaint under review: it comes first.
		c := complaint("c_auto", "s_b")
		e.ingest(t, c)
		first := func() string {
			got, err := e.store.ListQueue(ctx, store.QueueFilter{Status: []string{store.ComplaintOpen}}, "", 1)
			if err != nil || len(got.Complaints) == 0 {
				t.Fatal(err)
			}
			return got.Complaints[0].Body.ComplaintID
		}
		e.ingest(t, func() *domain.Complaint { c := complaint("c_high", "s_other"); c.Score = 0.99; return c }())
		if first() != "c_high" {
			t.Fatal("c_high not first before the reports")
		}
		for i := range 3 {
			report(fmt.Sprintf("r_auto_%d", i), c.ListingID, fmt.Sprintf("b_%d", i), false, "")
		}
		if first() != "c_auto" {
			t.Errorf("the reported listing's complaint is not first: %s", first())
		}
		if _, ok := buyerComplaints()[c.ListingID]; ok {
			t.Error("a buyer complaint was filed beside the complaint under review")
		}
		if got := testutil.ToFloat64(e.svc.metrics.buyerEscalations.WithLabelValues(EscalationPrioritized)); got != 1 {
			t.Errorf("prioritized escalations %v, want 1", got)
		}

		// Nobody outside files a buyer complaint.
		forged := complaint("c_forged", "s_b")
		forged.Source = domain.SourceBuyer
		if _, err := e.svc.Ingest(ctx, forged); !errors.Is(err, ErrInvalid) {
			t.Errorf("a buyer complaint from the topic: %v, want ErrInvalid", err)
		}
	})
}
