package review

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/markwatch/markwatch/internal/store"
)

// DefaultClaimTTL is how long opening a complaint holds it for a reviewer
// when the caller names no lease: long enough to read the evidence, short
// enough that an abandoned tab frees the item soon. The console renews the
// lease while the page stays open.
const DefaultClaimTTL = 5 * time.Minute

// ErrClaimed is returned (wrapped, with the holder in the error's Claim)
// when another reviewer's claim on a complaint is still running.
var ErrClaimed = errors.New("claimed by another reviewer")

// ClaimedError is ErrClaimed with the claim that stands in the way.
type ClaimedError struct{ Claim store.Claim }

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("complaint %s is claimed by %s until %s", e.Claim.ComplaintID, e.Claim.UserID, e.Claim.ExpiresAt.Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrClaimed) hold.
func (e *ClaimedError) Unwrap() error { return ErrClaimed }

// Claim gives actor the complaint for ttl (DefaultClaimTTL when zero), or
// renews actor's running claim. When another reviewer's claim still runs,
// the error is a *ClaimedError naming it. Claims are advisory for
// deciding: a decision stays a compare-and-set on the complaint's status,
// so a decision racing an expired claim still cannot overwrite another.
func (s *Service) Claim(ctx context.Context, complaintID, actor string, ttl time.Duration) (store.Claim, error) {
	if ttl <= 0 {
		ttl = DefaultClaimTTL
	}
	var c store.Claim
	err := s.store.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetComplaint(ctx, complaintID); err != nil {
			return err
		}
		var err error
		c, err = tx.ClaimComplaint(ctx, complaintID, actor, s.now().Add(ttl))
		return err
	})
	if err != nil {
		return store.Claim{}, fmt.Errorf("review: claim %s: %w", complaintID, err)
	}
	if c.UserID != actor {
		return c, &ClaimedError{Claim: c}
	}
	return c, nil
}

// Release ends actor's claim on the complaint, if it holds one: after a
// decision, the item leaves the queue anyway, and skipping an item gives
// it back at once.
func (s *Service) Release(ctx context.Context, complaintID, actor string) error {
	err := s.store.WithTx(ctx, func(tx *store.Tx) error { return tx.ReleaseClaim(ctx, complaintID, actor) })
	if err != nil {
		return fmt.Errorf("review: release %s: %w", complaintID, err)
	}
	return nil
}

// Claims returns the running claims on the given complaints, by complaint
// id, for a queue page to show who works what.
func (s *Service) Claims(ctx context.Context, complaintIDs []string) (map[string]store.Claim, error) {
	m, err := s.store.Claims(ctx, complaintIDs, s.now())
	if err != nil {
		return nil, fmt.Errorf("review: claims: %w", err)
	}
	return m, nil
}
