package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Retry calls the handler again after a transient error, waiting
// Backoff.Delay(n) between attempts, until it succeeds, fails permanently,
// or its context ends. There is no attempt limit: a transient failure (a
// broker or image host that is down) must never cause a message to be
// skipped. Work that cannot finish is abandoned only with the context, and
// an abandoned message is not committed, so it is delivered again.
type Retry struct {
	Backoff Backoff
	// OnRetry, if set, is called after each transient failure, before the
	// wait: attempt counts from 1. It is for logs and metrics.
	OnRetry func(ctx context.Context, msg kafka.Message, attempt int, err error, delay time.Duration)
}

// Middleware wraps h with the retry loop. A permanent error and a success
// are returned at once; when the context ends between attempts the error
// wraps both the context's error and the last handler error.
func (r Retry) Middleware(h Handler) Handler {
	return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
		for attempt := 0; ; attempt++ {
			outs, err := h(ctx, msg)
			if err == nil || IsPermanent(err) {
				return outs, err
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("retry abandoned after %d attempts: %w; last error: %w", attempt+1, ctx.Err(), err)
			}
			delay := r.Backoff.Delay(attempt)
			if r.OnRetry != nil {
				r.OnRetry(ctx, msg, attempt+1, err, delay)
			}
			if !wait(ctx, delay) {
				return nil, fmt.Errorf("retry abandoned after %d attempts: %w; last error: %w", attempt+1, ctx.Err(), err)
			}
		}
	}
}
