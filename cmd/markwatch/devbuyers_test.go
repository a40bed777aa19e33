package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
)

// buyerWriter keeps the messages written, and ends the run after want.
type buyerWriter struct {
	mu     sync.Mutex
	msgs   []kafka.Message
	want   int
	cancel context.CancelFunc
}

func (w *buyerWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msgs...)
	if len(w.msgs) >= w.want {
		w.cancel()
	}
	return nil
}

func TestProduceBuyerReports(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	w := &buyerWriter{want: 5, cancel: cancel}
	listings := []*domain.Listing{{ListingID: "l-1", SellerID: "s-1", Version: 2}, {ListingID: "l-2", SellerID: "s-2"}}
	if err := produceBuyerReports(ctx, w, "buyer-reports", listings, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if len(w.msgs) < 5 {
		t.Fatalf("%d reports written before the deadline", len(w.msgs))
	}
	ids := map[string]bool{}
	for _, m := range w.msgs {
		r, err := domain.DecodeBuyerReport(m.Value, domain.Limits{})
		if err != nil {
			t.Fatalf("report %s: %v", m.Value, err)
		}
		if m.Topic != "buyer-reports" || string(m.Key) != r.ListingID || (r.SellerID != "s-1" && r.SellerID != "s-2") || ids[r.ReportID] {
			t.Errorf("message %s/%s: %+v", m.Topic, m.Key, r)
		}
		ids[r.ReportID] = true
	}
}
