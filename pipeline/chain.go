package pipeline

import (
	"context"

	"github.com/segmentio/kafka-go"
)

// Chain wraps h in middlewares, the first outermost: Chain(h, a, b) is
// a(b(h)).
func Chain(h Handler, middlewares ...Middleware) Handler {
	for i := len(middlewares) - 1; i >= 0; i-- {
		h = middlewares[i](h)
	}
	return h
}

// chain is the one place where the consumer's middlewares are composed,
// outermost first. The order is what makes the delivery semantics:
//
//   - DeadLetter outermost: every permanent failure, whatever raised it
//     (the handler, a panic, an unwritable output), becomes a dead letter.
//   - Metrics inside it, so it still sees the permanent error and counts
//     the outcome, and times all attempts and waits.
//   - Retry: transient errors are retried until the context ends;
//     permanent ones pass straight out.
//   - Timeout inside Retry: each attempt gets its own deadline.
//   - CheckOutputs: an output that could never be written fails the
//     attempt permanently instead of blocking the writer.
//   - Recover innermost: a panic becomes a permanent error in the goroutine
//     that called the handler.
func (c *Consumer) chain(h Handler) Handler {
	return Chain(h,
		DeadLetter{Topic: c.opts.DLQTopic, MaxBytes: c.opts.MaxOutputBytes, OnDeadLetter: c.onDeadLetter}.Middleware,
		Metrics(c.m.handled, c.m.duration),
		Retry{Backoff: c.backoff, OnRetry: c.onRetry}.Middleware,
		Timeout(c.opts.HandlerTimeout),
		CheckOutputs(c.opts.MaxOutputBytes),
		Recover(),
	)
}

// CheckOutputs returns a middleware that fails a call permanently, with
// class "output", when one of its outputs could never be written: it has
// no topic, or it is larger than maxBytes (key, value and headers;
// maxBytes <= 0 means no limit). Without it such an output would be
// retried forever and block its partition. It also clears the fields that
// kafka-go's Writer ignores or refuses on outputs (Partition, Offset).
func CheckOutputs(maxBytes int) Middleware {
	return func(h Handler) Handler {
		return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
			outs, err := h(ctx, msg)
			if err != nil {
				return outs, err
			}
			if err := checkOutputs(outs, maxBytes); err != nil {
				return nil, err
			}
			return outs, nil
		}
	}
}
