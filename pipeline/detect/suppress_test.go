package detect

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/suppress"
)

const stockHash uint64 = 0xf0e1d2c3b4a59687

// stockImages gives every listing image the stock photo's hash.
type stockImages struct{}

func (stockImages) Listing(_ context.Context, l *domain.Listing) ([]matchers.ListingImage, error) {
	out := make([]matchers.ListingImage, len(l.Images))
	for i, u := range l.Images {
		out[i] = matchers.ListingImage{Index: i, URL: u, Hashes: []uint64{stockHash ^ 1}, Cause: detection.CauseOK}
	}
	return out, nil
}

// bankSource hands out one bank, or none.
type bankSource struct{ b *suppress.Bank }

func (s bankSource) Acquire() (*suppress.Bank, func(), bool) { return s.b, func() {}, s.b != nil }

// stockEngine is an engine over a mark whose official image is a stock
// photo, with the quarantines qs.
func stockEngine(t *testing.T, qs ...domain.Quarantine) *detection.Engine {
	t.Helper()
	mk := &domain.Mark{
		SchemaVersion: 1, MarkID: "m-veltaro", HolderID: "h-1", Name: "Veltaro", Status: domain.MarkActive,
		Categories: []string{"bags"}, Quarantines: qs,
		ImageHashes: []domain.ImageHash{{Kind: "official", URL: "stock.jpg", Hashes: []string{"f0e1d2c3b4a59687"}}},
	}
	pm, err := matchers.NewMark(mk)
	if err != nil {
		t.Fatal(err)
	}
	e, err := detection.Build([]*matchers.Mark{pm}, detection.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestHandleSuppressed checks that the stage files nothing a quarantine
// or the bank stops, counts it by kind, and files the rest.
func TestHandleSuppressed(t *testing.T) {
	since := time.Unix(1, 0)
	q := func(kind, ref string) domain.Quarantine {
		return domain.Quarantine{Kind: kind, Ref: ref, Trigger: domain.TriggerFlood, Reason: "flood", Since: since}
	}
	banked, err := suppress.New([]*domain.BankEntry{{
		SchemaVersion: 1, EntryID: "b1", Kind: domain.BankImage, Hashes: []string{"f0e1d2c3b4a59687"},
		Reason: "generic product photo", CreatedBy: "u", CreatedAt: since,
	}}, suppress.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		quarantine []domain.Quarantine
		bank       *suppress.Bank
		title      string
		files      int
		metric     string // "quarantined" or "banked"
		kind       string
	}{
		{"no quarantine: the stock photo files", nil, nil, "plain canvas tote", 1, "", ""},
		{"image in quarantine", []domain.Quarantine{q(domain.QuarantineImage, "stock.jpg")}, nil, "plain canvas tote", 0, "quarantined", domain.QuarantineImage},
		{"image in quarantine, the name still files", []domain.Quarantine{q(domain.QuarantineImage, "stock.jpg")}, nil, "V3ltaro replica tote", 1, "", ""},
		{"mark in quarantine", []domain.Quarantine{q(domain.QuarantineMark, "")}, nil, "V3ltaro replica tote", 0, "quarantined", domain.QuarantineMark},
		{"image in the bank", nil, banked, "plain canvas tote", 0, "banked", domain.BankImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			o := Options{ComplaintsTopic: "complaints", Images: stockImages{}, Registerer: reg}
			if tc.bank != nil {
				o.Bank = bankSource{tc.bank}
			}
			s, err := New[*detection.Engine](source{stockEngine(t, tc.quarantine...)}, o)
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Handle(context.Background(), kafka.Message{Key: []byte("l-1"), Value: listingJSON("l-1", tc.title)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != tc.files {
				t.Fatalf("%d complaints, want %d", len(out), tc.files)
			}
			var q, b float64
			for _, k := range []string{domain.QuarantineMark, domain.QuarantineImage, domain.QuarantineVariant} {
				q += testutil.ToFloat64(s.metrics.quarantined.WithLabelValues(k))
			}
			for _, k := range []string{domain.BankImage, domain.BankPhrase} {
				b += testutil.ToFloat64(s.metrics.banked.WithLabelValues(k))
			}
			switch tc.metric {
			case "":
				if q+b != 0 {
					t.Fatalf("counted %v quarantined, %v banked; want none", q, b)
				}
			case "quarantined":
				if got := testutil.ToFloat64(s.metrics.quarantined.WithLabelValues(tc.kind)); got != 1 || q != 1 || b != 0 {
					t.Fatalf("quarantined{kind=%s} = %v (all %v, banked %v), want 1", tc.kind, got, q, b)
				}
			case "banked":
				if got := testutil.ToFloat64(s.metrics.banked.WithLabelValues(tc.kind)); got != 1 || b != 1 || q != 0 {
					t.Fatalf("suppressed{kind=%s} = %v (all %v, quarantined %v), want 1", tc.kind, got, b, q)
				}
			}
		})
	}
}

// TestBankNotReady: with a bank source and no bank yet, a listing waits.
func TestBankNotReady(t *testing.T) {
	s, err := New[*detection.Engine](source{engine(t)}, Options{ComplaintsTopic: "complaints", Bank: bankSource{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Handle(context.Background(), kafka.Message{Value: listingJSON("l-1", "V3ltaro replica bag")}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("err %v, want ErrNotReady", err)
	}
}
