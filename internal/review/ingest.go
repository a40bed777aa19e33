package review

import (
	"context"
	"errors"
	"fmt"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// ActorSystem is the audit actor of changes nobody asked for by name: the
// complaints consumer and the counter-notice timer.
const ActorSystem = "system"

// Ingest stores c as an open complaint, with an audit entry
// "complaint.ingested" in the same transaction, unless a complaint with its
// id is already stored; it tells which happened. Redelivered and replayed
// complaints therefore change nothing: not the complaint (even when the
// redelivery differs), not its state, not the audit log. c is validated
// against the default limits first.
func (s *Service) Ingest(ctx context.Context, c *domain.Complaint) (inserted bool, err error) {
	if c == nil {
		return false, fmt.Errorf("review: ingest: %w: nil complaint", ErrInvalid)
	}
	if err := c.Validate(domain.Limits{}); err != nil {
		return false, fmt.Errorf("review: ingest complaint %s: %w: %w", c.ComplaintID, ErrInvalid, err)
	}
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		if inserted, err = tx.InsertComplaint(ctx, c); err != nil || !inserted {
			return err
		}
		return audit(ctx, tx, ActorSystem, "complaint.ingested", "complaint", c.ComplaintID, map[string]any{
			"source": c.Source, "listing_id": c.ListingID, "mark_id": c.MarkID, "score": c.Score,
		})
	})
	if err != nil {
		return false, fmt.Errorf("review: ingest complaint %s: %w", c.ComplaintID, err)
	}
	result := "duplicate"
	if inserted {
		result = "inserted"
	}
	s.metrics.ingested.WithLabelValues(result, c.Source).Inc()
	return inserted, nil
}

// Submit files a rights holder's manual complaint on behalf of actor by
// publishing it, through the outbox, to the complaints topic under the
// event id "complaint:"+complaint_id, so that it reaches the queue through
// Ingest like every automatic complaint. Submitting the same complaint id
// again is ErrConflict.
func (s *Service) Submit(ctx context.Context, c *domain.Complaint, actor string) error {
	if c == nil || actor == "" {
		return fmt.Errorf("review: submit: %w: a complaint and an actor are required", ErrInvalid)
	}
	if c.Source != domain.SourceRightsHolder {
		return fmt.Errorf("review: submit complaint %s: %w: source %q, want %s", c.ComplaintID, ErrInvalid, c.Source, domain.SourceRightsHolder)
	}
	if err := c.Validate(domain.Limits{}); err != nil {
		return fmt.Errorf("review: submit complaint %s: %w: %w", c.ComplaintID, ErrInvalid, err)
	}
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		if err := enqueue(ctx, tx, "complaint:"+c.ComplaintID, s.topics.Complaints, c.ListingID, c); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "complaint.submitted", "complaint", c.ComplaintID, map[string]any{
			"holder_id": c.HolderID, "listing_id": c.ListingID, "mark_id": c.MarkID,
		})
	})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("review: submit complaint %s: already submitted: %w", c.ComplaintID, err)
		}
		return fmt.Errorf("review: submit complaint %s: %w", c.ComplaintID, err)
	}
	return nil
}
