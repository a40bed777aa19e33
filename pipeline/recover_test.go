package pipeline

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestRecover(t *testing.T) {
	tests := []struct {
		name      string
		h         Handler
		wantErr   bool
		wantPanic string // substring of the error; "" when no panic
		wantIs    error
	}{
		{"no panic passes through", echo, false, "", nil},
		{"error passes through", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			return nil, io.ErrUnexpectedEOF
		}, true, "", io.ErrUnexpectedEOF},
		{"panic with a string", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			panic("boom")
		}, true, "panic: boom", nil},
		{"panic with an error", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			panic(io.ErrShortBuffer)
		}, true, "panic: short buffer", io.ErrShortBuffer},
		{"nil map write", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			var m map[string]int
			//lint:ignore SA5000 the panic is what this case tests
			m["x"] = 1
			return nil, nil
		}, true, "panic: assignment to entry in nil map", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outs, err := Recover()(tt.h)(context.Background(), msg(0, 0, "k", "v"))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err %v does not wrap %v", err, tt.wantIs)
			}
			if tt.wantPanic == "" {
				if !tt.wantErr && len(outs) != 1 {
					t.Errorf("outputs %v, want the handler's", outs)
				}
				return
			}
			if outs != nil {
				t.Errorf("outputs %v after a panic, want none", outs)
			}
			if !IsPermanent(err) || errorClass(err) != ClassPanic {
				t.Errorf("err %v: permanent %v class %q, want permanent of class panic", err, IsPermanent(err), errorClass(err))
			}
			if !strings.Contains(err.Error(), tt.wantPanic) {
				t.Errorf("err %q does not contain %q", err, tt.wantPanic)
			}
			var pe *PanicError
			if !errors.As(err, &pe) || !strings.Contains(string(pe.Stack), "recover_test.go") {
				t.Errorf("no stack of the panicking handler in %v", err)
			}
		})
	}
}
