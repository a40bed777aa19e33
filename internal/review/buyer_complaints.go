package review

// A listing with enough independent buyer reports reaches a reviewer even
// when no matcher fired: it becomes a complaint of source buyer, or, when
// it already has a complaint under review, that complaint comes first in
// the queue. Reports never take anything down by themselves:
//
//   - only a reviewer decides a buyer complaint, like every complaint;
//   - a buyer complaint names a mark only when the listing's brand field
//     (listing_brand on the reports) is an active mark's name or variant;
//     then it is the holder's case like any other, and a reviewer may
//     uphold it on the listing's own evidence;
//   - a buyer complaint that names no mark is a marketplace-level item (the
//     queue filter source=buyer): a reviewer may reject it, never uphold
//     it, since a takedown needs a mark and a holder it infringes. A
//     reviewer who finds an infringement files a manual complaint through
//     the mark (an admin may, on the holder's behalf), or the marketplace
//     acts under its own policy outside markwatch.
//
// Weighing keeps a flood cheap: each buyer counts once per listing, a new
// account (under 30 days) a quarter, and a buyer reporting many listings
// a share of one voice (BuyerReports.Weight). Only counterfeit reports
// count toward a complaint; "not as described" is shown, not escalated.

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/matchers/normalize"
)

// DefaultBuyerComplaintWeight is the weight of counterfeit reports at which
// a listing reaches review: three established buyers, or twelve brand-new
// accounts.
const DefaultBuyerComplaintWeight = 3.0

// Escalation outcomes of a buyer report, the result label of
// markwatch_buyer_reports_escalated_total.
const (
	EscalationFiled       = "filed"
	EscalationPrioritized = "prioritized"
)

// escalateBuyerReports files a buyer complaint for the listing of r, or
// puts its complaint under review first, once the listing's counterfeit
// reports weigh BuyerComplaintWeight; it returns what it did ("" for
// nothing). It is idempotent: the complaint id is deterministic and the
// priority is set once.
func (s *Service) escalateBuyerReports(ctx context.Context, r *domain.BuyerReport) (string, error) {
	reports, err := s.store.ListingBuyerReports(ctx, r.ListingID, maxBuyerReports)
	if err != nil {
		return "", err
	}
	var counterfeit []store.BuyerReport
	for _, rep := range reports {
		if rep.Reason == domain.ReasonCounterfeit {
			counterfeit = append(counterfeit, rep)
		}
	}
	sum, err := s.sumBuyerReports(ctx, counterfeit, false)
	if err != nil {
		return "", err
	}
	if sum.Weight < s.buyerComplaintWeight {
		return "", nil
	}
	// What to do, read first outside the transaction: later reports on
	// a listing already handled cost one read, and the marks are read
	// only when a complaint is to be filed. The transaction checks again.
	existing, err := s.store.ListingComplaints(ctx, r.ListingID)
	if err != nil {
		return "", err
	}
	action := escalationFor(existing)
	if action == "" {
		return "", nil
	}
	var c *domain.Complaint
	if action == EscalationFiled {
		mark, err := s.markOfBrand(ctx, r.ListingBrand)
		if err != nil {
			return "", err
		}
		c = buyerComplaint(r, mark, sum, s.buyerComplaintWeight, s.now())
	}
	var outcome string
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		existing, err := tx.ListingComplaints(ctx, r.ListingID)
		if err != nil {
			return err
		}
		now := escalationFor(existing)
		if now == "" || now == EscalationFiled && c == nil {
			return nil // handled meanwhile, or a complaint withdrawn meanwhile: the next report decides
		}
		if now == EscalationPrioritized {
			raised, err := tx.SetListingPriority(ctx, r.ListingID)
			if err != nil || !raised {
				return err
			}
			outcome = EscalationPrioritized
			return audit(ctx, tx, ActorSystem, "listing.prioritized", "listing", r.ListingID, map[string]any{
				"reason": "buyer_reports", "weight": sum.Weight, "buyers": sum.Buyers,
			})
		}
		inserted, err := tx.InsertComplaint(ctx, c)
		if err != nil || !inserted {
			return err
		}
		outcome = EscalationFiled
		return audit(ctx, tx, ActorSystem, "complaint.ingested", "complaint", c.ComplaintID, map[string]any{
			"source": c.Source, "listing_id": c.ListingID, "mark_id": c.MarkID, "score": c.Score,
			"weight": sum.Weight, "buyers": sum.Buyers,
		})
	})
	if err != nil {
		return "", err
	}
	if outcome != "" {
		s.metrics.buyerEscalations.WithLabelValues(outcome).Inc()
		if outcome == EscalationFiled {
			s.metrics.ingested.WithLabelValues("inserted", domain.SourceBuyer).Inc()
		}
	}
	return outcome, nil
}

// escalationFor says what a listing with enough reports needs, given its
// complaints: nothing ("") when it has a buyer complaint already (one per
// listing) or an upheld one (it is down); EscalationPrioritized when one
// is under review (open or contested); EscalationFiled otherwise.
func escalationFor(existing []store.ListingComplaint) string {
	underReview := false
	for _, e := range existing {
		switch {
		case e.Source == domain.SourceBuyer, e.Status == store.ComplaintUpheld:
			return ""
		case e.Status == store.ComplaintOpen || e.Status == store.ComplaintContested:
			underReview = true
		}
	}
	if underReview {
		return EscalationPrioritized
	}
	return EscalationFiled
}

// buyerComplaint is the complaint of a listing with enough reports. Its
// score is the weight over twice the threshold, capped at 1: 0.5 at the
// threshold, so that a matcher's confident complaint still ranks above a
// bare one.
func buyerComplaint(r *domain.BuyerReport, m *domain.Mark, sum BuyerReports, threshold float64, now time.Time) *domain.Complaint {
	score := math.Min(1, math.Round(sum.Weight/(2*threshold)*1000)/1000)
	c := &domain.Complaint{
		SchemaVersion: domain.SchemaVersion, Source: domain.SourceBuyer,
		ListingID: r.ListingID, ListingVersion: r.ListingVersion, SellerID: r.SellerID,
		Score: score, RuleVersion: domain.BuyerRuleVersion, CreatedAt: now,
	}
	about := "its brand field names no active mark: a marketplace-level item, to reject or to refer, never to uphold"
	if m != nil {
		c.MarkID, c.HolderID = m.MarkID, m.HolderID
		about = fmt.Sprintf("its brand field %q is the mark %s", r.ListingBrand, m.Name)
	}
	c.ComplaintID = domain.ComplaintID(r.ListingID, r.ListingVersion, c.MarkID, domain.BuyerRuleVersion)
	c.Explanation = fmt.Sprintf("%d buyers reported this listing as counterfeit (weight %.2f, threshold %.2f; %d of them new accounts); %s. No matcher fired on it.",
		sum.Buyers, sum.Weight, threshold, sum.NewAccountBuyers, about)
	c.Evidence = []domain.Evidence{{
		Matcher: "buyer_reports", Score: score, Kind: "buyer_reports",
		Detail: fmt.Sprintf("%d counterfeit reports from %d buyers, %d new accounts, weight %.2f", sum.Counterfeit, sum.Buyers, sum.NewAccountBuyers, sum.Weight),
	}}
	if r.ListingTitle != "" || r.ListingBrand != "" {
		c.Listing = &domain.ListingSnapshot{Title: r.ListingTitle, Brand: r.ListingBrand}
	}
	return c
}

// markOfBrand resolves a listing's brand field to the active mark whose
// name or a variant it is (compared as normalize.Key, so "N1KE" is not
// "Nike" here: a brand field is what the seller declared); nil when none
// or several.
func (s *Service) markOfBrand(ctx context.Context, brand string) (*domain.Mark, error) {
	key := normalize.Key(brand)
	if key == "" {
		return nil, nil
	}
	var found *domain.Mark
	after := ""
	for {
		marks, err := s.store.ListMarks(ctx, store.MarkQuery{AfterID: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for i := range marks {
			m := &marks[i].Body
			if m.Status != domain.MarkActive {
				continue
			}
			for _, name := range append([]string{m.Name}, m.Variants...) {
				if normalize.Key(name) == key {
					if found != nil && found.MarkID != m.MarkID {
						return nil, nil // ambiguous: a reviewer decides
					}
					found = m
					break
				}
			}
		}
		if len(marks) < 1000 {
			return found, nil
		}
		after = marks[len(marks)-1].Body.MarkID
	}
}
