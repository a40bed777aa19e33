package review

import (
	"context"
	"fmt"
)

// Standing is a rights holder's standing as a notifier.
type Standing string

// Standings.
const (
	// StandingGoodFaith: the holder's complaints are reliably upheld; they
	// rise in the queue.
	StandingGoodFaith Standing = "good_faith"
	// StandingNormal: neither good-faith nor throttled, including every
	// holder with too few decisions to judge.
	StandingNormal Standing = "normal"
	// StandingThrottled: many of the holder's complaints are unfounded;
	// its manual complaints are rate-limited and get a second look.
	StandingThrottled Standing = "throttled"
)

// HolderStats returns how many of the holder's manual complaints reviewers
// have decided, how many they upheld (store.HolderStats says which count),
// and the acceptance rate upheld/decided, 0 when none is decided.
func (s *Service) HolderStats(ctx context.Context, holderID string) (decided, upheld int, rate float64, err error) {
	decided, upheld, err = s.store.HolderStats(ctx, holderID)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("review: holder stats: %w", err)
	}
	if decided > 0 {
		rate = float64(upheld) / float64(decided)
	}
	return decided, upheld, rate, nil
}

// HolderStanding rates the holder from HolderStats under Options.Quality.
func (s *Service) HolderStanding(ctx context.Context, holderID string) (Standing, error) {
	decided, upheld, _, err := s.HolderStats(ctx, holderID)
	if err != nil {
		return "", err
	}
	return s.quality.standing(decided, upheld), nil
}

// standing applies the quality thresholds to a holder's counts.
func (q Quality) standing(decided, upheld int) Standing {
	if decided == 0 {
		return StandingNormal
	}
	rate := float64(upheld) / float64(decided)
	switch {
	case decided >= q.MinDecisions && rate > q.GoodFaithRate:
		return StandingGoodFaith
	case decided >= q.ThrottleMinDecisions && rate < q.ThrottleFloor:
		return StandingThrottled
	}
	return StandingNormal
}
