package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// BuyerReport is a stored buyer report: what the aggregation reads of it.
type BuyerReport struct {
	ReportID   string
	ListingID  string
	BuyerID    string
	SellerID   string
	Reason     string
	NewAccount bool
	ReceivedAt time.Time
}

// InsertBuyerReport stores r unless a report with its id is already
// stored, and tells which happened: the idempotent step of consuming the
// buyer-reports topic. The caller validates r (domain.DecodeBuyerReport
// does).
func (tx *Tx) InsertBuyerReport(ctx context.Context, r *domain.BuyerReport) (inserted bool, err error) {
	if r == nil || r.ReportID == "" {
		return false, errors.New("store: insert buyer report: no report id")
	}
	body, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("store: insert buyer report %s: %w", r.ReportID, err)
	}
	newAccount := 0
	if r.NewAccount() {
		newAccount = 1
	}
	res, err := tx.r.exec(ctx, `INSERT INTO buyer_reports
		(id, listing_id, listing_version, seller_id, buyer_id, reason, new_account, body, created_at, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		r.ReportID, r.ListingID, r.ListingVersion, r.SellerID, r.BuyerID, r.Reason, newAccount, string(body),
		millis(r.CreatedAt), millis(tx.now))
	if err != nil {
		return false, fmt.Errorf("store: insert buyer report %s: %w", r.ReportID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: insert buyer report %s: %w", r.ReportID, err)
	}
	return n == 1, nil
}

// ListingBuyerReports returns the buyer reports of a listing, oldest
// first, at most limit of them.
func (s *Store) ListingBuyerReports(ctx context.Context, listingID string, limit int) ([]BuyerReport, error) {
	return s.buyerReports(ctx, "listing "+listingID, `listing_id = ?`, listingID, limit)
}

// SellerBuyerReports returns the buyer reports of a seller's listings
// received at or after since, oldest first, at most limit of them.
func (s *Store) SellerBuyerReports(ctx context.Context, sellerID string, since time.Time, limit int) ([]BuyerReport, error) {
	return s.buyerReports(ctx, "seller "+sellerID, `seller_id = ? AND received_at >= ?`, sellerID, limit, millis(since))
}

func (s *Store) buyerReports(ctx context.Context, what, where, key string, limit int, more ...any) ([]BuyerReport, error) {
	if limit <= 0 {
		return nil, nil
	}
	args := append(append([]any{key}, more...), limit)
	rows, err := s.read().query(ctx, `SELECT id, listing_id, buyer_id, seller_id, reason, new_account, received_at FROM buyer_reports
		WHERE `+where+` ORDER BY received_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: buyer reports of %s: %w", what, err)
	}
	defer rows.Close()
	var out []BuyerReport
	for rows.Next() {
		var (
			r        BuyerReport
			newAcct  int
			received int64
		)
		if err := rows.Scan(&r.ReportID, &r.ListingID, &r.BuyerID, &r.SellerID, &r.Reason, &newAcct, &received); err != nil {
			return nil, fmt.Errorf("store: buyer reports of %s: %w", what, err)
		}
		r.NewAccount = newAcct == 1
		r.ReceivedAt = fromMillis(received)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: buyer reports of %s: %w", what, err)
	}
	return out, nil
}

// BuyerReportCounts returns how many reports each of buyers made at or
// after since (on any listing): the history a buyer's weight is drawn
// from. Buyers without reports are absent.
func (s *Store) BuyerReportCounts(ctx context.Context, buyers []string, since time.Time) (map[string]int, error) {
	out := map[string]int{}
	if len(buyers) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(buyers)+1)
	for _, b := range buyers {
		args = append(args, b)
	}
	args = append(args, millis(since))
	rows, err := s.read().query(ctx, `SELECT buyer_id, COUNT(*) FROM buyer_reports
		WHERE buyer_id IN (?`+strings.Repeat(", ?", len(buyers)-1)+`) AND received_at >= ?
		GROUP BY buyer_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: buyer report counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			b string
			n int
		)
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("store: buyer report counts: %w", err)
		}
		out[b] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: buyer report counts: %w", err)
	}
	return out, nil
}
