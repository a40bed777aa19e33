package ingest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/pipeline/ingest"
)

// TestBuyerReportsFromKafka runs the buyer-reports consumer on the real
// broker into the review service: every report is stored once, however
// often it is delivered, and a malformed one is dead-lettered.
func TestBuyerReportsFromKafka(t *testing.T) {
	brokers, ctx, st := kafkaAndStore(t)
	svc, err := review.New(review.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	dlq := consumeTopic(t, ctx, brokers, "buyer-reports",
		ingest.BuyerReportHandler(svc, domain.Limits{}, func(err error) bool { return errors.Is(err, review.ErrInvalid) }),
		func(topic string) []kafka.Message {
			var msgs []kafka.Message
			for i := range n {
				listing := fmt.Sprintf("l_%d", i%4)
				b, _ := json.Marshal(domain.BuyerReport{
					SchemaVersion: 1, ReportID: fmt.Sprintf("r_%d", i), ListingID: listing, SellerID: "s_1",
					BuyerID: fmt.Sprintf("b_%d", i%7), Reason: domain.ReasonCounterfeit, CreatedAt: time.Now().UTC(),
				})
				msg := kafka.Message{Topic: topic, Key: []byte(listing), Value: b}
				msgs = append(msgs, msg, msg) // each delivered twice
			}
			return append(msgs, kafka.Message{Topic: topic, Key: []byte("l_x"), Value: []byte(`{"schema_version":1}`)})
		})

	stored := func() int {
		total := 0
		for l := range 4 {
			got, err := svc.ListingBuyerReports(ctx, fmt.Sprintf("l_%d", l))
			if err != nil {
				t.Fatal(err)
			}
			total += got.Reports
		}
		return total
	}
	for stored() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d reports stored before the deadline", stored(), n)
		case <-time.After(100 * time.Millisecond):
		}
	}
	dead := readOne(t, ctx, brokers, dlq)
	if string(dead.Key) != "l_x" {
		t.Errorf("dead letter key %q, want l_x", dead.Key)
	}
	// Each report is stored once, however often it was delivered.
	if got := stored(); got != n {
		t.Errorf("%d reports stored, want %d: a redelivery was stored twice", got, n)
	}
	// Every listing has five independent buyers: each became one buyer
	// complaint (no brand, so no mark), however often its reports came.
	page, err := st.ListQueue(ctx, store.QueueFilter{Source: []string{domain.SourceBuyer}}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	listings := map[string]int{}
	for _, c := range page.Complaints {
		listings[c.Body.ListingID]++
		if c.Body.MarkID != "" {
			t.Errorf("buyer complaint %s names mark %q without a brand", c.Body.ComplaintID, c.Body.MarkID)
		}
	}
	if len(listings) != 4 || listings["l_0"] != 1 || listings["l_3"] != 1 {
		t.Errorf("buyer complaints per listing %v, want one on each of l_0..l_3", listings)
	}
}
