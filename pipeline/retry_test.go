package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestRetry(t *testing.T) {
	errPerm := Permanent(ClassValidation, errors.New("missing title"))
	tests := []struct {
		name      string
		results   []error // per attempt; the last repeats
		cancelAt  int     // cancel the context during this attempt (1-based); 0 never
		wantCalls int
		wantErr   error // errors.Is target; nil for success
		wantHooks int
	}{
		{"success first time", []error{nil}, 0, 1, nil, 0},
		{"transient then success", []error{errTransient, errTransient, nil}, 0, 3, nil, 2},
		{"permanent is not retried", []error{errPerm}, 0, 1, ErrPermanent, 0},
		{"transient then permanent", []error{errTransient, errPerm}, 0, 2, ErrPermanent, 1},
		{"cancel stops retrying", []error{errTransient}, 3, 3, context.Canceled, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls, hooks := 0, 0
			h := func(context.Context, kafka.Message) ([]kafka.Message, error) {
				calls++
				if calls == tt.cancelAt {
					cancel()
				}
				if calls > 100 {
					t.Fatal("retried more than 100 times")
				}
				err := tt.results[min(calls, len(tt.results))-1]
				if err != nil {
					return []kafka.Message{{Topic: "partial"}}, err
				}
				return []kafka.Message{{Topic: "complaints"}}, nil
			}
			r := Retry{
				Backoff: Backoff{Initial: time.Microsecond, Max: time.Millisecond},
				OnRetry: func(_ context.Context, _ kafka.Message, attempt int, err error, _ time.Duration) {
					hooks++
					if attempt != hooks || !errors.Is(err, errTransient) {
						t.Errorf("OnRetry(attempt %d, %v), want attempt %d of a transient error", attempt, err, hooks)
					}
				},
			}
			outs, err := r.Middleware(h)(ctx, msg(0, 0, "k", "v"))
			if calls != tt.wantCalls || hooks != tt.wantHooks {
				t.Errorf("calls %d hooks %d, want %d and %d", calls, hooks, tt.wantCalls, tt.wantHooks)
			}
			if tt.wantErr == nil {
				if err != nil || len(outs) != 1 || outs[0].Topic != "complaints" {
					t.Fatalf("got %v, %v; want the successful outputs", outs, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if errors.Is(tt.wantErr, context.Canceled) && (outs != nil || !errors.Is(err, errTransient)) {
				t.Errorf("abandoned retry returned %v, %v; want no outputs and the last error", outs, err)
			}
		})
	}
}

// TestRetryWaitsWithoutSleep: a cancel during a long backoff wait returns
// at once.
func TestRetryWaitsWithoutSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := Retry{Backoff: Backoff{Initial: time.Hour, Max: time.Hour}}
	h := func(context.Context, kafka.Message) ([]kafka.Message, error) { return nil, errTransient }
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := r.Middleware(h)(ctx, msg(0, 0, "k", "v"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("returned after %v, want soon after the cancel", d)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{0, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 400 * time.Millisecond, 800 * time.Millisecond},
		{4, 500 * time.Millisecond, time.Second}, // capped
		{1000, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.Delay(tt.attempt)
			if d < tt.min || d > tt.max {
				t.Fatalf("Delay(%d) = %v, want in [%v, %v]", tt.attempt, d, tt.min, tt.max)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("Delay(%d) took only %d values in 200 draws: no jitter", tt.attempt, len(seen))
		}
	}
	if d := (Backoff{}).Delay(5); d <= 0 {
		t.Errorf("zero Backoff gives %v, want a positive delay", d)
	}
}
