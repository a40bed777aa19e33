package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline"
)

// memReports stores buyer reports in a map, failing while fail is set.
type memReports struct {
	got  map[string]*domain.BuyerReport
	fail error
}

func (m *memReports) IngestBuyerReport(_ context.Context, r *domain.BuyerReport) (bool, error) {
	if m.fail != nil {
		return false, m.fail
	}
	if _, ok := m.got[r.ReportID]; ok {
		return false, nil
	}
	m.got[r.ReportID] = r
	return true, nil
}

func buyerReport(id, listing string) []byte {
	b, _ := json.Marshal(domain.BuyerReport{
		SchemaVersion: 1, ReportID: id, ListingID: listing, SellerID: "s1", BuyerID: "b1",
		Reason: domain.ReasonCounterfeit, CreatedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
	})
	return b
}

func TestBuyerReportHandler(t *testing.T) {
	m := &memReports{got: map[string]*domain.BuyerReport{}}
	h := BuyerReportHandler(m, domain.Limits{}, func(err error) bool { return errors.Is(err, errInvalid) })
	ctx := context.Background()
	for range 2 { // a redelivery stores nothing new
		if out, err := h(ctx, kafka.Message{Key: []byte("l1"), Value: buyerReport("r1", "l1")}); err != nil || out != nil {
			t.Fatalf("out %v err %v", out, err)
		}
	}
	if len(m.got) != 1 {
		t.Fatalf("%d stored", len(m.got))
	}
	for _, tc := range []struct {
		name  string
		msg   kafka.Message
		class string
	}{
		{"bad json", kafka.Message{Value: []byte("{")}, pipeline.ClassDecode},
		{"missing reason", kafka.Message{Value: []byte(`{"schema_version":1,"report_id":"r","listing_id":"l","seller_id":"s","buyer_id":"b","created_at":"2026-12-01T00:00:00Z"}`)}, pipeline.ClassValidation},
		{"key differs", kafka.Message{Key: []byte("other"), Value: buyerReport("r2", "l2")}, pipeline.ClassValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h(ctx, tc.msg)
			var pe *pipeline.PermanentError
			if !errors.As(err, &pe) || pe.Class != tc.class {
				t.Fatalf("err %v, want permanent %s", err, tc.class)
			}
		})
	}
	m.fail = errors.New("database is down")
	if _, err := h(ctx, kafka.Message{Value: buyerReport("r3", "l3")}); err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("a store failure must be transient, got %v", err)
	}
	m.fail = errInvalid
	if _, err := h(ctx, kafka.Message{Value: buyerReport("r4", "l4")}); !pipeline.IsPermanent(err) {
		t.Fatalf("an invalid report must be permanent, got %v", err)
	}
}

func FuzzBuyerReportHandler(f *testing.F) {
	f.Add([]byte("l1"), buyerReport("r1", "l1"))
	f.Add([]byte(""), []byte("{}"))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		m := &memReports{got: map[string]*domain.BuyerReport{}}
		_, err := BuyerReportHandler(m, domain.Limits{}, nil)(context.Background(), kafka.Message{Key: key, Value: value})
		if err != nil && !pipeline.IsPermanent(err) {
			t.Fatalf("bad input gave a transient error: %v", err)
		}
	})
}
