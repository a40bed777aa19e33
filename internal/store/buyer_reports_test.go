package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

func testBuyerReport(id, listing, seller, buyer string) *domain.BuyerReport {
	return &domain.BuyerReport{
		SchemaVersion: domain.SchemaVersion, ReportID: id, ListingID: listing, ListingVersion: 1,
		SellerID: seller, BuyerID: buyer, Reason: domain.ReasonCounterfeit, Text: "fake",
		CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	}
}

func testBuyerReports(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	insert := func(r *domain.BuyerReport) bool {
		t.Helper()
		var inserted bool
		if err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			inserted, err = tx.InsertBuyerReport(ctx, r)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return inserted
	}
	old := testBuyerReport("r_old", "l_2", "s_1", "b_1")
	if !insert(old) {
		t.Fatal("first report not inserted")
	}
	clock.Add(48 * time.Hour)
	since := clock.Now().Add(-time.Hour)
	fresh := testBuyerReport("r_1", "l_1", "s_1", "b_1")
	newAcct := testBuyerReport("r_2", "l_1", "s_1", "b_2")
	newAcct.Reason = domain.ReasonNotAsDescribed
	newAcct.BuyerSince = newAcct.CreatedAt.Add(-24 * time.Hour)
	for _, r := range []*domain.BuyerReport{fresh, newAcct, testBuyerReport("r_3", "l_9", "s_2", "b_1")} {
		if !insert(r) {
			t.Fatalf("%s not inserted", r.ReportID)
		}
	}
	// A redelivery, even changed, is ignored.
	again := testBuyerReport("r_1", "l_1", "s_1", "b_9")
	if insert(again) {
		t.Error("a redelivered report was inserted again")
	}

	got, err := s.ListingBuyerReports(ctx, "l_1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ReportID != "r_1" || got[0].BuyerID != "b_1" || got[0].NewAccount ||
		got[1].ReportID != "r_2" || !got[1].NewAccount || got[1].Reason != domain.ReasonNotAsDescribed ||
		!got[1].ReceivedAt.Equal(clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("listing reports %+v", got)
	}
	if got, err := s.ListingBuyerReports(ctx, "l_1", 1); err != nil || len(got) != 1 {
		t.Errorf("limit 1: %+v, %v", got, err)
	}
	seller, err := s.SellerBuyerReports(ctx, "s_1", since, 10)
	if err != nil || len(seller) != 2 {
		t.Errorf("seller reports in the window: %+v, %v; want r_1 and r_2, not the older r_old", seller, err)
	}
	counts, err := s.BuyerReportCounts(ctx, []string{"b_1", "b_2", "b_none"}, since)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(counts) != "map[b_1:2 b_2:1]" {
		t.Errorf("counts %v, want b_1 2 (r_old is older), b_2 1", counts)
	}
	if counts, err := s.BuyerReportCounts(ctx, nil, since); err != nil || len(counts) != 0 {
		t.Errorf("no buyers: %v, %v", counts, err)
	}
}
