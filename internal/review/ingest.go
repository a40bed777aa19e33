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
//
// A new complaint is stored only when its mark exists, is active and is
// its holder's (checkMark): a complaint that fails is refused with an
// *InvalidError naming the rule, counted in
// markwatch_complaints_refused_total, and never reaches the queue; the
// complaints consumer dead-letters it with that reason.
func (s *Service) Ingest(ctx context.Context, c *domain.Complaint) (inserted bool, err error) {
	if c == nil {
		return false, fmt.Errorf("review: ingest: %w", invalid("", "nil complaint"))
	}
	if err := c.Validate(domain.Limits{}); err != nil {
		return false, fmt.Errorf("review: ingest complaint %s: %w", c.ComplaintID, invalidComplaint(err))
	}
	if c.Source == domain.SourceBuyer {
		// Only the review service files buyer complaints, from the
		// buyer-reports topic; one on the complaints topic is forged.
		return false, fmt.Errorf("review: ingest complaint %s: %w", c.ComplaintID,
			invalid("source", "buyer complaints are filed by the review service from buyer reports, not received"))
	}
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		// A complaint stored before its mark was suspended stays as it
		// is: a replay of the topic is a duplicate, not a refusal.
		if _, err := tx.GetComplaint(ctx, c.ComplaintID); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		m, err := markOf(ctx, tx, c.MarkID)
		if err != nil {
			return err
		}
		if err := checkMark(c, m); err != nil {
			return err
		}
		if inserted, err = tx.InsertComplaint(ctx, c); err != nil || !inserted {
			return err
		}
		return audit(ctx, tx, ActorSystem, "complaint.ingested", "complaint", c.ComplaintID, map[string]any{
			"source": c.Source, "listing_id": c.ListingID, "mark_id": c.MarkID, "score": c.Score,
		})
	})
	if err != nil {
		var ie *InvalidError
		if errors.As(err, &ie) && ie.Rule != "" {
			s.refused.WithLabelValues(ie.Rule, c.Source).Inc()
		}
		return false, fmt.Errorf("review: ingest complaint %s: %w", c.ComplaintID, err)
	}
	result := "duplicate"
	if inserted {
		result = "inserted"
	}
	s.metrics.ingested.WithLabelValues(result, c.Source).Inc()
	return inserted, nil
}

// Submit files a rights holder's manual complaint on behalf of f by
// publishing it, through the outbox, to the complaints topic under the
// event id "complaint:"+complaint_id, so that it reaches the queue through
// Ingest like every automatic complaint. In the same transaction, before
// anything is written, f must be allowed to file through the complaint's
// mark (MayFile) and the complaint must pass the checks of Ingest
// (checkMark): a refusal is an *InvalidError naming the rule, or
// ErrForbidden. Submitting the same complaint id again is ErrConflict.
func (s *Service) Submit(ctx context.Context, c *domain.Complaint, f Filer) error {
	if c == nil || f.UserID == "" {
		return fmt.Errorf("review: submit: %w", invalid("", "a complaint and an actor are required"))
	}
	if c.Source != domain.SourceRightsHolder {
		return fmt.Errorf("review: submit complaint %s: %w", c.ComplaintID,
			invalid("source", fmt.Sprintf("%q, want %s", c.Source, domain.SourceRightsHolder)))
	}
	if err := c.Validate(domain.Limits{}); err != nil {
		return fmt.Errorf("review: submit complaint %s: %w", c.ComplaintID, invalidComplaint(err))
	}
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		m, err := markOf(ctx, tx, c.MarkID)
		if err != nil {
			return err
		}
		if err := MayFile(f, c.MarkID, m); err != nil {
			return err
		}
		if err := checkMark(c, m); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, "complaint:"+c.ComplaintID, s.topics.Complaints, c.ListingID, c); err != nil {
			return err
		}
		return audit(ctx, tx, f.UserID, "complaint.submitted", "complaint", c.ComplaintID, map[string]any{
			"holder_id": c.HolderID, "listing_id": c.ListingID, "mark_id": c.MarkID, "role": f.Role,
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
