package pipeline

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func TestNewWriter(t *testing.T) {
	tests := []struct {
		name            string
		opts            WriterOptions
		wantCompression kafka.Compression
		wantTimeout     time.Duration
	}{
		{"defaults", WriterOptions{}, kafka.Snappy, 5 * time.Millisecond},
		{"no compression", WriterOptions{NoCompression: true}, 0, 5 * time.Millisecond},
		{"explicit", WriterOptions{Compression: kafka.Lz4, BatchTimeout: time.Millisecond}, kafka.Lz4, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter([]string{"127.0.0.1:1"}, tt.opts)
			defer func() {
				if err := CloseWriter(w); err != nil {
					t.Errorf("CloseWriter: %v", err)
				}
			}()
			if w.RequiredAcks != kafka.RequireAll {
				t.Errorf("RequiredAcks %v, want RequireAll", w.RequiredAcks)
			}
			if b, ok := w.Balancer.(kafka.Murmur2Balancer); !ok || !b.Consistent {
				t.Errorf("Balancer %#v, want Murmur2Balancer{Consistent: true}", w.Balancer)
			}
			if w.Topic != "" || w.AllowAutoTopicCreation {
				t.Errorf("Topic %q AllowAutoTopicCreation %v, want per-message topics and no auto-creation", w.Topic, w.AllowAutoTopicCreation)
			}
			if w.Compression != tt.wantCompression || w.BatchTimeout != tt.wantTimeout {
				t.Errorf("Compression %v BatchTimeout %v, want %v and %v", w.Compression, w.BatchTimeout, tt.wantCompression, tt.wantTimeout)
			}
			if _, ok := w.Transport.(*kafka.Transport); !ok {
				t.Errorf("Transport %T, want a *kafka.Transport CloseWriter can release", w.Transport)
			}
		})
	}
}
