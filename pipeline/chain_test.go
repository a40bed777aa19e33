package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestChainOrder(t *testing.T) {
	var trace []string
	mw := func(name string) Middleware {
		return func(h Handler) Handler {
			return func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
				trace = append(trace, name+">")
				defer func() { trace = append(trace, "<"+name) }()
				return h(ctx, m)
			}
		}
	}
	h := func(context.Context, kafka.Message) ([]kafka.Message, error) {
		trace = append(trace, "handler")
		return nil, nil
	}
	_, _ = Chain(h, mw("a"), mw("b"))(context.Background(), kafka.Message{})
	if got := strings.Join(trace, " "); got != "a> b> handler <b <a" {
		t.Fatalf("trace %q, want a outermost", got)
	}
}

func TestCheckOutputs(t *testing.T) {
	tests := []struct {
		name    string
		outs    []kafka.Message
		max     int
		wantErr string
	}{
		{"none", nil, 10, ""},
		{"fine", []kafka.Message{{Topic: "complaints", Key: []byte("k"), Value: []byte("v"), Partition: 3, Offset: 9}}, 10, ""},
		{"no topic", []kafka.Message{{Topic: "complaints"}, {Value: []byte("v")}}, 10, "output 1 has no topic"},
		{"too big", []kafka.Message{{Topic: "complaints", Value: make([]byte, 11)}}, 10, "11 bytes, over the 10-byte limit"},
		{"headers count", []kafka.Message{{Topic: "complaints", Headers: []kafka.Header{{Key: "aaaaa", Value: []byte("bbbbbb")}}}}, 10, "over"},
		{"no limit", []kafka.Message{{Topic: "complaints", Value: make([]byte, 11)}}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := func(context.Context, kafka.Message) ([]kafka.Message, error) { return tt.outs, nil }
			outs, err := CheckOutputs(tt.max)(h)(context.Background(), kafka.Message{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				for _, o := range outs {
					if o.Partition != 0 || o.Offset != 0 {
						t.Errorf("output keeps partition %d offset %d", o.Partition, o.Offset)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errorClass(err) != ClassOutput {
				t.Fatalf("err %v (class %q), want class output with %q", err, errorClass(err), tt.wantErr)
			}
		})
	}
}
