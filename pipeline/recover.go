package pipeline

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/segmentio/kafka-go"
)

// PanicError is what Recover turns a handler panic into. It is wrapped in a
// *PermanentError of class "panic": a handler that panics on an input will
// panic on it again, so retrying would block the partition forever.
type PanicError struct {
	// Value is what the handler passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, for the log; it is not put
	// in the dead-letter headers.
	Stack []byte
}

// Error gives "panic: <value>", the dlq.reason of a panicking input.
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error (panic(err)), so that
// errors.Is sees through the panic.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// Recover returns a middleware that turns a panic in the handler into a
// permanent error of class "panic" wrapping a *PanicError, so that the input
// goes to the dead-letter topic with reason "panic: ..." and the worker
// lives on. It must be the innermost middleware: a panic is recovered only
// in the goroutine that called the handler.
func Recover() Middleware {
	return func(h Handler) Handler {
		return func(ctx context.Context, msg kafka.Message) (outs []kafka.Message, err error) {
			defer func() {
				if v := recover(); v != nil {
					outs = nil
					err = &PermanentError{Class: ClassPanic, Err: &PanicError{Value: v, Stack: debug.Stack()}}
				}
			}()
			return h(ctx, msg)
		}
	}
}
