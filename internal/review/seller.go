package review

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/markwatch/markwatch/internal/store"
)

// SellerRecord is what the review flow knows about a seller.
type SellerRecord struct {
	ID     string
	Status string
	// UpdatedAt is when Status last changed; zero for a seller never
	// recorded.
	UpdatedAt time.Time
	// ActiveStrikes counts the strikes that have not expired: the number
	// the ladder climbs by.
	ActiveStrikes int
	// Strikes are all the seller's strikes, expired ones included, oldest
	// first.
	Strikes []store.Strike
}

// Seller returns the seller's status and strikes. A seller the flow has
// never seen is active with no strikes, not an error: any marketplace seller
// may be asked about.
func (s *Service) Seller(ctx context.Context, id string) (SellerRecord, error) {
	rec := SellerRecord{ID: id, Status: store.SellerActive}
	switch sl, err := s.store.GetSeller(ctx, id); {
	case err == nil:
		rec.Status, rec.UpdatedAt = sl.Status, sl.UpdatedAt
	case !errors.Is(err, store.ErrNotFound):
		return SellerRecord{}, fmt.Errorf("review: seller %s: %w", id, err)
	}
	strikes, err := s.store.SellerStrikes(ctx, id)
	if err != nil {
		return SellerRecord{}, fmt.Errorf("review: seller %s: %w", id, err)
	}
	now := s.now()
	for _, st := range strikes {
		if st.ExpiresAt.After(now) {
			rec.ActiveStrikes++
		}
	}
	rec.Strikes = strikes
	return rec, nil
}
