package review

// Buyer reports are evidence, never a takedown: they are stored once each,
// summed per listing and per seller with each buyer counted once and
// weighed by its own history, and shown beside complaints for a reviewer
// to judge.

import (
	"context"
	"fmt"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// Weighing buyers.
const (
	// NewAccountWeight is the weight of a buyer whose account was under
	// 30 days old when it reported: a flood from fresh accounts counts a
	// quarter as much as the same number of established buyers.
	NewAccountWeight = 0.25
	// BuyerHistoryWindow is how far back a buyer's reports are counted,
	// and BuyerHistoryFree how many of them count fully: a buyer that
	// reported n > BuyerHistoryFree listings in the window weighs
	// BuyerHistoryFree/n, so that one account reporting everything is one
	// voice spread thin.
	BuyerHistoryWindow = 30 * 24 * time.Hour
	BuyerHistoryFree   = 5
	// maxBuyerReports bounds the reports one summary reads.
	maxBuyerReports = 1000
)

// BuyerReports sums the buyer reports of a listing or a seller.
type BuyerReports struct {
	Reports        int `json:"reports"`
	Counterfeit    int `json:"counterfeit"`
	NotAsDescribed int `json:"not_as_described"`
	// Buyers counts distinct buyers; NewAccountBuyers those of them
	// whose every report came from an account under 30 days old.
	Buyers           int `json:"buyers"`
	NewAccountBuyers int `json:"new_account_buyers"`
	// Listings counts distinct listings (a seller's summary only).
	Listings int `json:"listings,omitempty"`
	// Weight sums each distinct buyer's weight once: 1 for an
	// established account, NewAccountWeight for a new one, times
	// BuyerHistoryFree/n for a buyer with n > BuyerHistoryFree reports in
	// the last BuyerHistoryWindow.
	Weight float64 `json:"weight"`
}

// IngestBuyerReport stores r unless a report with its id is already
// stored, and tells which happened; redeliveries change nothing. r is
// validated first: an invalid report is ErrInvalid, for the consumer to
// dead-letter. Then the listing's reports may bring it to review
// (buyer_complaints.go).
func (s *Service) IngestBuyerReport(ctx context.Context, r *domain.BuyerReport) (inserted bool, err error) {
	if r == nil {
		return false, fmt.Errorf("review: ingest buyer report: %w", invalid("", "nil buyer report"))
	}
	if err := r.Validate(domain.Limits{}); err != nil {
		return false, fmt.Errorf("review: ingest buyer report %s: %w", r.ReportID, invalidComplaint(err))
	}
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		inserted, err = tx.InsertBuyerReport(ctx, r)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("review: ingest buyer report %s: %w", r.ReportID, err)
	}
	result := "duplicate"
	if inserted {
		result = "inserted"
	}
	s.metrics.buyerReports.WithLabelValues(result, r.Reason).Inc()
	// A redelivery escalates too: the report may have been stored by a
	// run that stopped before escalating. Escalation is idempotent.
	if _, err := s.escalateBuyerReports(ctx, r); err != nil {
		return inserted, fmt.Errorf("review: escalate buyer reports of listing %s: %w", r.ListingID, err)
	}
	return inserted, nil
}

// ListingBuyerReports sums the buyer reports of a listing.
func (s *Service) ListingBuyerReports(ctx context.Context, listingID string) (BuyerReports, error) {
	reports, err := s.store.ListingBuyerReports(ctx, listingID, maxBuyerReports)
	if err != nil {
		return BuyerReports{}, fmt.Errorf("review: buyer reports of listing %s: %w", listingID, err)
	}
	return s.sumBuyerReports(ctx, reports, false)
}

// SellerBuyerReports sums the buyer reports of a seller's listings over
// the last BuyerHistoryWindow.
func (s *Service) SellerBuyerReports(ctx context.Context, sellerID string) (BuyerReports, error) {
	reports, err := s.store.SellerBuyerReports(ctx, sellerID, s.clock.Now().Add(-BuyerHistoryWindow), maxBuyerReports)
	if err != nil {
		return BuyerReports{}, fmt.Errorf("review: buyer reports of seller %s: %w", sellerID, err)
	}
	return s.sumBuyerReports(ctx, reports, true)
}

func (s *Service) sumBuyerReports(ctx context.Context, reports []store.BuyerReport, seller bool) (BuyerReports, error) {
	var sum BuyerReports
	established := map[string]bool{} // buyer → any report from an established account
	listings := map[string]bool{}
	var order []string
	for _, r := range reports {
		sum.Reports++
		switch r.Reason {
		case domain.ReasonCounterfeit:
			sum.Counterfeit++
		case domain.ReasonNotAsDescribed:
			sum.NotAsDescribed++
		}
		if _, seen := established[r.BuyerID]; !seen {
			order = append(order, r.BuyerID)
		}
		established[r.BuyerID] = established[r.BuyerID] || !r.NewAccount
		listings[r.ListingID] = true
	}
	if len(order) == 0 {
		return sum, nil
	}
	history, err := s.store.BuyerReportCounts(ctx, order, s.clock.Now().Add(-BuyerHistoryWindow))
	if err != nil {
		return BuyerReports{}, fmt.Errorf("review: buyer histories: %w", err)
	}
	for _, b := range order {
		w := 1.0
		if !established[b] {
			w = NewAccountWeight
			sum.NewAccountBuyers++
		}
		if n := history[b]; n > BuyerHistoryFree {
			w *= float64(BuyerHistoryFree) / float64(n)
		}
		sum.Weight += w
	}
	sum.Buyers = len(order)
	if seller {
		sum.Listings = len(listings)
	}
	return sum, nil
}
