package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// Handler processes one input message and returns the messages to emit (for
// the detector: complaints), possibly none. Each returned message must name
// its Topic; Partition and Offset are ignored (the Writer's balancer places
// it by key).
//
// Errors decide what happens to the input:
//   - nil: the outputs are written and the input's offset becomes committable.
//   - a *PermanentError, or any error wrapping ErrPermanent: the message can
//     never succeed; it goes to the dead-letter topic with the reason.
//   - any other error is transient: the message is retried with backoff,
//     never skipped, until the context ends.
//
// The context ends when the consumer gives up on the message (its drain
// deadline passed); a Handler must return soon after. Handlers run
// concurrently on different keys, one at a time per key.
type Handler func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error)

// Middleware wraps a Handler with one cross-cutting concern. The consumer's
// chain is composed in one place (chain.go).
type Middleware func(Handler) Handler

// ErrPermanent marks an error as permanent when wrapped
// (fmt.Errorf("decode listing: %w", pipeline.ErrPermanent)); its error class
// in the dead-letter headers is "permanent". Prefer Permanent, which names
// the class.
var ErrPermanent = errors.New("permanent failure")

// Error classes set in the dlq.error_class header by the consumer itself.
// Handlers choose their own (ClassDecode, ClassValidation or any short
// snake_case word).
const (
	// ClassDecode: the input is not well-formed (bad JSON, invalid UTF-8).
	ClassDecode = "decode"
	// ClassValidation: the input decodes but breaks the schema's rules.
	ClassValidation = "validation"
	// ClassPanic: the handler panicked on the input.
	ClassPanic = "panic"
	// ClassOutput: the handler returned an output that can never be
	// written (no topic, or larger than the writer accepts).
	ClassOutput = "output"
	// ClassPermanent: an error wrapping ErrPermanent without a class.
	ClassPermanent = "permanent"
)

// PermanentError is an error the input can never recover from. Class is a
// short snake_case word for the kind of failure ("decode", "validation");
// it becomes the dlq.error_class header and the class label of the
// dead-letter counter, so keep the set small.
type PermanentError struct {
	Class string
	Err   error
}

// Permanent returns err marked as permanent with class. A nil err gives a
// nil error, so `return nil, pipeline.Permanent("decode", err)` is safe on
// every path.
func Permanent(class string, err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Class: class, Err: err}
}

// Error returns the wrapped error's message.
func (e *PermanentError) Error() string {
	if e.Err == nil {
		return e.Class + ": permanent failure"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Is makes every PermanentError match ErrPermanent, so callers can test
// permanence with errors.Is alone.
func (e *PermanentError) Is(target error) bool { return target == ErrPermanent }

// IsPermanent reports whether err is permanent: a *PermanentError or an
// error wrapping ErrPermanent anywhere in its chain.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// errorClass returns the dead-letter class of a permanent error.
func errorClass(err error) string {
	var pe *PermanentError
	if errors.As(err, &pe) && pe.Class != "" {
		return pe.Class
	}
	return ClassPermanent
}

// checkOutputs rejects outputs that no retry could ever write, as a
// permanent error of class "output", so that a handler bug dead-letters
// its input instead of blocking the partition behind a write that fails
// forever. It clears the read-only fields kafka-go's Writer refuses or
// ignores. maxBytes <= 0 disables the size check.
func checkOutputs(outs []kafka.Message, maxBytes int) error {
	for i := range outs {
		m := &outs[i]
		if m.Topic == "" {
			return Permanent(ClassOutput, fmt.Errorf("output %d has no topic", i))
		}
		if n := messageSize(m); maxBytes > 0 && n > maxBytes {
			return Permanent(ClassOutput, fmt.Errorf("output %d to %s is %d bytes, over the %d-byte limit", i, m.Topic, n, maxBytes))
		}
		m.Partition, m.Offset, m.HighWaterMark = 0, 0, 0
	}
	return nil
}

// messageSize approximates a record's size on the wire: key, value and
// headers. It is what the MaxOutputBytes limit compares against.
func messageSize(m *kafka.Message) int {
	n := len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}
