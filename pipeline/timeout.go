package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Timeout returns a middleware that gives each handler call at most d. A call
// that runs out of time fails with an error wrapping
// context.DeadlineExceeded, which is transient: inside Retry, the next
// attempt gets a fresh d. d <= 0 returns the handler unchanged.
func Timeout(d time.Duration) Middleware {
	return func(h Handler) Handler {
		if d <= 0 {
			return h
		}
		return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
			attemptCtx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			outs, err := h(attemptCtx, msg)
			// Only our own deadline is reworded: when the caller's context
			// ended, its error speaks for itself.
			if err != nil && ctx.Err() == nil && errors.Is(attemptCtx.Err(), context.DeadlineExceeded) && !IsPermanent(err) {
				return outs, fmt.Errorf("handler timed out after %v: %w", d, err)
			}
			return outs, err
		}
	}
}
