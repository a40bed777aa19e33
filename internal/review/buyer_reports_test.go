package review

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func buyerReport(id, listing, seller, buyer string, newAccount bool) *domain.BuyerReport {
	r := &domain.BuyerReport{
		SchemaVersion: domain.SchemaVersion, ReportID: id, ListingID: listing, ListingVersion: 1,
		SellerID: seller, BuyerID: buyer, Reason: domain.ReasonCounterfeit, CreatedAt: t0,
	}
	if newAccount {
		r.BuyerSince = t0.Add(-2 * 24 * time.Hour)
	} else {
		r.BuyerSince = t0.Add(-400 * 24 * time.Hour)
	}
	return r
}

// TestBuyerReports ingests reports (once each), and checks the sums: each
// buyer counted once, new accounts discounted, a buyer that reports
// everything spread thin, and a seller's sum over its listings.
func TestBuyerReports(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, Options{})
		ctx := t.Context()
		ingest := func(r *domain.BuyerReport) bool {
			t.Helper()
			inserted, err := e.svc.IngestBuyerReport(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			return inserted
		}
		// l_1: two established buyers (b_1 twice), three new accounts, and
		// b_spam, which reported ten listings this month.
		for _, r := range []*domain.BuyerReport{
			buyerReport("r_1", "l_1", "s_1", "b_1", false),
			buyerReport("r_2", "l_1", "s_1", "b_1", false),
			buyerReport("r_3", "l_1", "s_1", "b_2", false),
			buyerReport("r_4", "l_1", "s_1", "b_new1", true),
			buyerReport("r_5", "l_1", "s_1", "b_new2", true),
			buyerReport("r_6", "l_1", "s_1", "b_new3", true),
		} {
			if !ingest(r) {
				t.Fatalf("%s not inserted", r.ReportID)
			}
		}
		for i := range 10 {
			ingest(buyerReport(fmt.Sprintf("r_spam_%d", i), fmt.Sprintf("l_%d", i+1), "s_1", "b_spam", false))
		}
		nad := buyerReport("r_7", "l_2", "s_1", "b_2", false)
		nad.Reason = domain.ReasonNotAsDescribed
		ingest(nad)
		if ingest(buyerReport("r_1", "l_1", "s_1", "b_1", false)) {
			t.Error("a redelivered report was inserted again")
		}
		if n := testutil.ToFloat64(e.svc.metrics.buyerReports.WithLabelValues("duplicate", domain.ReasonCounterfeit)); n != 1 {
			t.Errorf("duplicates counted %v, want 1", n)
		}

		got, err := e.svc.ListingBuyerReports(ctx, "l_1")
		if err != nil {
			t.Fatal(err)
		}
		// b_1 1 + b_2 1 + three new accounts 0.25 each + b_spam 5/10.
		want := BuyerReports{Reports: 7, Counterfeit: 7, Buyers: 6, NewAccountBuyers: 3, Weight: 1 + 1 + 0.75 + 0.5}
		if math.Abs(got.Weight-want.Weight) > 1e-9 {
			t.Errorf("weight %v, want %v", got.Weight, want.Weight)
		}
		got.Weight = want.Weight
		if got != want {
			t.Errorf("listing l_1: %+v, want %+v", got, want)
		}

		seller, err := e.svc.SellerBuyerReports(ctx, "s_1")
		if err != nil {
			t.Fatal(err)
		}
		if seller.Reports != 17 || seller.Listings != 10 || seller.Buyers != 6 || seller.NotAsDescribed != 1 {
			t.Errorf("seller s_1: %+v", seller)
		}
		// A month later the seller's window is empty; the listing keeps
		// its reports.
		e.clock.Add(31 * 24 * time.Hour)
		if seller, err := e.svc.SellerBuyerReports(ctx, "s_1"); err != nil || seller.Reports != 0 {
			t.Errorf("a month later: %+v, %v", seller, err)
		}
		if none, err := e.svc.ListingBuyerReports(ctx, "l_none"); err != nil || none != (BuyerReports{}) {
			t.Errorf("unreported listing: %+v, %v", none, err)
		}

		bad := buyerReport("r_bad", "l_1", "s_1", "", false)
		if _, err := e.svc.IngestBuyerReport(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("report without a buyer: %v, want ErrInvalid", err)
		}
	})
}
