package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ListingComplaint is a complaint of a listing, as the buyer-report
// escalation reads it.
type ListingComplaint struct {
	ID, Source, Status, MarkID string
}

// ListingComplaints returns the complaints of a listing (any version),
// oldest first, at most 100.
func (tx *Tx) ListingComplaints(ctx context.Context, listingID string) ([]ListingComplaint, error) {
	return tx.r.listingComplaints(ctx, listingID)
}

// ListingComplaints returns the complaints of a listing (any version),
// oldest first, at most 100.
func (s *Store) ListingComplaints(ctx context.Context, listingID string) ([]ListingComplaint, error) {
	return s.read().listingComplaints(ctx, listingID)
}

func (r runner) listingComplaints(ctx context.Context, listingID string) ([]ListingComplaint, error) {
	var out []ListingComplaint
	err := r.each(ctx, func(rows *sql.Rows) error {
		var c ListingComplaint
		if err := rows.Scan(&c.ID, &c.Source, &c.Status, &c.MarkID); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	}, `SELECT id, source, status, mark_id FROM complaints WHERE listing_id = ? ORDER BY created_at, id LIMIT 100`, listingID)
	if err != nil {
		return nil, fmt.Errorf("store: complaints of listing %s: %w", listingID, err)
	}
	return out, nil
}
