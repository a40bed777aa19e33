package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestTimeout(t *testing.T) {
	slow := func(ctx context.Context, _ kafka.Message) ([]kafka.Message, error) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Second):
			return nil, nil
		}
	}
	tests := []struct {
		name    string
		d       time.Duration
		h       Handler
		wantErr string
	}{
		{"fast handler", 50 * time.Millisecond, echo, ""},
		{"slow handler times out", 10 * time.Millisecond, slow, "handler timed out after 10ms"},
		{"no limit", 0, echo, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Timeout(tt.d)(tt.h)(context.Background(), msg(0, 0, "k", "v"))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
				t.Errorf("err %v: want a transient error wrapping DeadlineExceeded", err)
			}
		})
	}
}

// TestTimeoutInsideRetry: each attempt gets a fresh deadline, so a handler
// that is slow once succeeds on the retry.
func TestTimeoutInsideRetry(t *testing.T) {
	calls := 0
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		calls++
		if calls == 1 {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return echo(ctx, m)
	}
	r := Retry{Backoff: Backoff{Initial: time.Millisecond, Max: time.Millisecond}}
	outs, err := Chain(h, r.Middleware, Timeout(20*time.Millisecond))(context.Background(), msg(0, 0, "k", "v"))
	if err != nil || len(outs) != 1 || calls != 2 {
		t.Fatalf("got %v, %v after %d calls; want one output after 2", outs, err, calls)
	}
}
