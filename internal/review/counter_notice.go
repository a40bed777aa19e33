package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/store"
)

// reinstateBatch is how many due counter-notices ReinstateDue reads at once.
const reinstateBatch = 100

// CounterNotice files a seller's counter-notice, forwarded by actor (the
// marketplace), against the upheld complaint complaintID: the complaint
// becomes contested, and its listing is reinstated by ReinstateDue once
// ReinstateAfter has passed, unless the holder escalates or a reviewer
// decides first. It returns when that will be. A complaint that is not
// upheld, that already had a counter-notice, or whose counter-notice
// window (Options.CounterNoticeWindow after the uphold, as the seller's
// notices state) has closed, is ErrConflict.
func (s *Service) CounterNotice(ctx context.Context, complaintID, actor, statement string) (reinstateAt time.Time, err error) {
	switch {
	case actor == "":
		return time.Time{}, fmt.Errorf("review: counter-notice for %s: %w", complaintID, invalid("", "no actor"))
	case strings.TrimSpace(statement) == "" || len(statement) > maxNoteBytes || !utf8.ValidString(statement):
		return time.Time{}, fmt.Errorf("review: counter-notice for %s: %w", complaintID,
			invalid("statement", fmt.Sprintf("required: the seller's statement, 1 to %d bytes of UTF-8", maxNoteBytes)))
	}
	now := s.now()
	reinstateAt = now.Add(s.reinstateAfter)
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		c, err := tx.GetComplaint(ctx, complaintID)
		if err != nil {
			return err
		}
		// The window the seller's notices stated, counted from the
		// uphold: a counter-notice after it is refused.
		if c.Status == store.ComplaintUpheld && !c.DecidedAt.IsZero() && now.After(c.DecidedAt.Add(s.counterNoticeWindow)) {
			return fmt.Errorf("the counter-notice window closed at %s: %w", c.DecidedAt.Add(s.counterNoticeWindow).Format(time.RFC3339), ErrConflict)
		}
		if err := tx.SetComplaintStatus(ctx, complaintID, store.ComplaintUpheld, store.ComplaintContested, actor); err != nil {
			return err
		}
		// A second counter-notice, after a reviewer upheld the contested
		// complaint again, is refused here.
		if _, err := tx.FileCounterNotice(ctx, store.CounterNotice{
			ComplaintID: complaintID, Actor: actor, Statement: statement, FiledAt: now, ReinstateAt: reinstateAt,
		}); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "complaint.contested", "complaint", complaintID, map[string]any{
			"statement": statement, "reinstate_at": reinstateAt,
		})
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("review: counter-notice for %s: %w", complaintID, err)
	}
	s.metrics.counterNotices.Inc()
	return reinstateAt, nil
}

// Escalate records that the rights holder, through actor, maintains the
// contested complaint complaintID: the timer no longer reinstates the
// listing, which stays down until a reviewer decides. A complaint that is
// not contested with a waiting counter-notice is ErrConflict.
func (s *Service) Escalate(ctx context.Context, complaintID, actor string) error {
	if actor == "" {
		return fmt.Errorf("review: escalate %s: %w", complaintID, invalid("", "no actor"))
	}
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		c, err := tx.GetComplaint(ctx, complaintID)
		if err != nil {
			return err
		}
		if c.Status != store.ComplaintContested {
			return fmt.Errorf("complaint is %s, not contested: %w", c.Status, ErrConflict)
		}
		if err := tx.SetCounterNoticeState(ctx, complaintID, store.CounterNoticeWaiting, store.CounterNoticeEscalated); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "complaint.escalated", "complaint", complaintID, nil)
	})
	if err != nil {
		return fmt.Errorf("review: escalate %s: %w", complaintID, err)
	}
	return nil
}

// ReinstateDue reinstates every contested complaint whose waiting period has
// run out without an escalation or a decision, and returns how many it
// reinstated. Each is its own transaction: the complaint becomes
// reinstated, its strike is withdrawn and a reinstatement event
// ("reinstatement:"+complaint_id) is written with the audit entry. A
// complaint that a reviewer or the holder settled meanwhile is skipped, so
// several replicas may run it at once. Call it periodically (RunTimer).
func (s *Service) ReinstateDue(ctx context.Context) (int, error) {
	total := 0
	for {
		now := s.now()
		ids, err := s.store.DueCounterNotices(ctx, now, reinstateBatch)
		if err != nil {
			return total, fmt.Errorf("review: reinstate due: %w", err)
		}
		done := 0
		for _, id := range ids {
			err := s.store.WithTx(ctx, func(tx *store.Tx) error {
				if err := tx.SetCounterNoticeState(ctx, id, store.CounterNoticeWaiting, store.CounterNoticeReinstated); err != nil {
					return err
				}
				c, err := tx.GetComplaint(ctx, id)
				if err != nil {
					return err
				}
				if err := tx.SetComplaintStatus(ctx, id, store.ComplaintContested, store.ComplaintReinstated, ActorSystem); err != nil {
					return err
				}
				if err := audit(ctx, tx, ActorSystem, "complaint.reinstated", "complaint", id, map[string]any{
					"reason": ReasonCounterNotice,
				}); err != nil {
					return err
				}
				return s.reinstate(ctx, tx, &c.Body, ActorSystem, ReasonCounterNotice, now)
			})
			switch {
			case err == nil:
				done++
				s.metrics.reinstatements.WithLabelValues(ReasonCounterNotice).Inc()
			case errors.Is(err, store.ErrConflict):
				// Settled by a reviewer, the holder or another replica
				// since it was listed as due.
				s.log.Debug("counter-notice no longer due", "complaint_id", id, "error", err)
			default:
				return total + done, fmt.Errorf("review: reinstate %s: %w", id, err)
			}
		}
		total += done
		if len(ids) < reinstateBatch || done == 0 {
			return total, nil
		}
	}
}

// RunTimer calls ReinstateDue every interval until ctx is done, and then
// returns nil. Failures are logged and retried at the next tick.
func (s *Service) RunTimer(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("review: run timer: interval %v is not positive", interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.ReinstateDue(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("reinstating due counter-notices", "error", err)
		case n > 0:
			s.log.Info("reinstated listings after counter-notices", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
