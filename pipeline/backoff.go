package pipeline

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff with jitter: the n-th wait (n from 0) is
// drawn uniformly from [d/2, d] where d = Initial·2ⁿ capped at Max. Half of
// the delay is kept so that retries of many messages after one broker blip
// spread out without any of them retrying at once.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
}

// Delay returns the wait before retry number attempt (0 for the first).
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Initial
	if d <= 0 {
		d = time.Millisecond
	}
	limit := b.Max
	if limit < d {
		limit = d
	}
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	if d > limit {
		d = limit
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// wait blocks for d or until ctx ends, and reports whether the full wait
// elapsed. Retries wait here, never in time.Sleep, so that cancellation
// stops them at once.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Wait blocks for d or until ctx ends, and reports whether the full wait
// elapsed: the retry wait of components outside this package.
func Wait(ctx context.Context, d time.Duration) bool { return wait(ctx, d) }
