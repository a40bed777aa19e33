package detect

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/pipeline"
)

// source hands out one engine, or none.
type source struct{ e *detection.Engine }

func (s source) Acquire() (*detection.Engine, func(), bool) {
	return s.e, func() {}, s.e != nil
}

// brokenImages fails every image.
type brokenImages struct{}

func (brokenImages) Listing(_ context.Context, l *domain.Listing) ([]matchers.ListingImage, error) {
	out := make([]matchers.ListingImage, len(l.Images))
	for i, u := range l.Images {
		out[i] = matchers.ListingImage{Index: i, URL: u, Err: "fetch " + u + ": connection refused", Cause: detection.CauseNetwork}
	}
	return out, nil
}

func engine(t *testing.T) *detection.Engine {
	t.Helper()
	mk := &domain.Mark{
		SchemaVersion: 1, MarkID: "m-veltaro", HolderID: "h-1", Name: "Veltaro", Status: domain.MarkActive,
		Categories:      []string{"bags"},
		ReferencePrices: []domain.ReferencePrice{{Amount: "500", Currency: "USD"}},
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

func listingJSON(id, title string) []byte {
	b, _ := json.Marshal(domain.Listing{
		SchemaVersion: 1, ListingID: id, Version: 2, SellerID: "s-1", Title: title, Category: "bags",
		Price: &domain.Money{Amount: "20", Currency: "USD"}, Images: []string{"http://img.example/a.jpg"},
	})
	return b
}

func TestHandle(t *testing.T) {
	reg := prometheus.NewRegistry()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	s, err := New[*detection.Engine](source{engine(t)}, Options{
		ComplaintsTopic: "complaints", Images: brokenImages{}, Registerer: reg, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	out, err := s.Handle(ctx, kafka.Message{Key: []byte("l-1"), Value: listingJSON("l-1", "V3ltaro replica bag")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("%d complaints, want 1", len(out))
	}
	m := out[0]
	if m.Topic != "complaints" || string(m.Key) != "l-1" {
		t.Errorf("topic %q key %q", m.Topic, m.Key)
	}
	c, err := domain.DecodeComplaint(m.Value, domain.Limits{})
	if err != nil {
		t.Fatalf("complaint does not decode strictly: %v", err)
	}
	if want := domain.ComplaintID("l-1", 2, "m-veltaro", "r1"); c.ComplaintID != want || c.Source != domain.SourceAuto || c.HolderID != "h-1" {
		t.Errorf("complaint %+v", c)
	}
	if !c.CreatedAt.Equal(now) || c.Listing == nil || c.Listing.Title != "V3ltaro replica bag" {
		t.Errorf("created_at %v listing %+v", c.CreatedAt, c.Listing)
	}
	unavailable := false
	for _, e := range c.Evidence {
		unavailable = unavailable || e.Kind == "unavailable"
	}
	if !unavailable {
		t.Errorf("evidence does not say the image was not used: %+v", c.Evidence)
	}
	again, err := s.Handle(ctx, kafka.Message{Key: []byte("l-1"), Value: listingJSON("l-1", "V3ltaro replica bag")})
	if err != nil || len(again) != 1 {
		t.Fatal(err)
	}
	if c2, _ := domain.DecodeComplaint(again[0].Value, domain.Limits{}); c2.ComplaintID != c.ComplaintID {
		t.Error("the same listing scored twice gave another complaint id")
	}

	clean, err := s.Handle(ctx, kafka.Message{Key: []byte("l-2"), Value: listingJSON("l-2", "plain canvas bag")})
	if err != nil || len(clean) != 0 {
		t.Fatalf("clean listing: %v %v", clean, err)
	}
	if got := testutil.ToFloat64(s.metrics.listings.WithLabelValues("flagged")); got != 2 {
		t.Errorf("flagged counter %v", got)
	}
	if got := testutil.ToFloat64(s.metrics.images.WithLabelValues("failed", detection.CauseNetwork)); got != 3 {
		t.Errorf("failed image counter %v", got)
	}
}

func TestHandleBadInput(t *testing.T) {
	s, err := New[*detection.Engine](source{engine(t)}, Options{ComplaintsTopic: "complaints"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		key   string
		value []byte
		class string
	}{
		{"bad json", "l", []byte(`{"schema_version":1,`), pipeline.ClassDecode},
		{"invalid utf8", "l", []byte("{\"title\":\"\xff\"}"), pipeline.ClassDecode},
		{"missing title", "l-1", []byte(`{"schema_version":1,"listing_id":"l-1","seller_id":"s","title":""}`), pipeline.ClassValidation},
		{"unknown field", "l-1", []byte(`{"schema_version":1,"listing_id":"l-1","seller_id":"s","title":"x","colour":"red"}`), pipeline.ClassValidation},
		{"key differs", "l-9", listingJSON("l-1", "bag"), pipeline.ClassValidation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Handle(context.Background(), kafka.Message{Key: []byte(tc.key), Value: tc.value})
			var pe *pipeline.PermanentError
			if !errors.As(err, &pe) || pe.Class != tc.class {
				t.Fatalf("err %v, want permanent %s", err, tc.class)
			}
		})
	}
}

func TestNotReady(t *testing.T) {
	s, err := New[*detection.Engine](source{}, Options{ComplaintsTopic: "complaints"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Handle(context.Background(), kafka.Message{Key: []byte("l-1"), Value: listingJSON("l-1", "bag")})
	if !errors.Is(err, ErrNotReady) || pipeline.IsPermanent(err) {
		t.Fatalf("err %v, want transient ErrNotReady", err)
	}
}

func FuzzHandle(f *testing.F) {
	f.Add([]byte("l-1"), listingJSON("l-1", "V3ltaro replica bag"))
	f.Add([]byte(""), []byte(`{}`))
	f.Add([]byte("x"), []byte("\xff\xfe"))
	e := engine(&testing.T{})
	s, err := New[*detection.Engine](source{e}, Options{ComplaintsTopic: "complaints"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key, value []byte) {
		out, err := s.Handle(context.Background(), kafka.Message{Key: key, Value: value})
		if err != nil && !pipeline.IsPermanent(err) {
			t.Fatalf("bad input gave a transient error: %v", err)
		}
		for _, m := range out {
			if _, err := domain.DecodeComplaint(m.Value, domain.Limits{}); err != nil {
				t.Fatalf("emitted a complaint that does not decode: %v", err)
			}
		}
	})
}

// TestMetricsAtZero checks that every label value known in advance is
// exported before its first event, so that increase() counts that event,
// and that score bounds are the decimals they stand for.
func TestMetricsAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{
		"markwatch_listings_scored_total": 3,
		"markwatch_matches_total":         6, // text, image, logo, cue, price, seller
		"markwatch_image_fetches_total":   2 + len(detection.FailureCauses()),
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != want {
			t.Errorf("%s: %d series (%v), want %d", name, n, err, want)
		}
	}
	m.scores.Observe(1)
	m.scores.Observe(0.3)
	want := `
# HELP markwatch_listing_score Best score of each listing over its candidate marks (0 when no mark is a candidate).
# TYPE markwatch_listing_score histogram
markwatch_listing_score_bucket{le="0.1"} 0
markwatch_listing_score_bucket{le="0.2"} 0
markwatch_listing_score_bucket{le="0.3"} 1
markwatch_listing_score_bucket{le="0.4"} 1
markwatch_listing_score_bucket{le="0.5"} 1
markwatch_listing_score_bucket{le="0.6"} 1
markwatch_listing_score_bucket{le="0.7"} 1
markwatch_listing_score_bucket{le="0.8"} 1
markwatch_listing_score_bucket{le="0.9"} 1
markwatch_listing_score_bucket{le="1"} 2
markwatch_listing_score_bucket{le="+Inf"} 2
markwatch_listing_score_sum 1.3
markwatch_listing_score_count 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "markwatch_listing_score"); err != nil {
		t.Error(err)
	}
	if _, err := newMetrics(reg); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
}

func TestImageLabels(t *testing.T) {
	for _, c := range []struct {
		img           matchers.ListingImage
		outcome, want string
	}{
		{matchers.ListingImage{}, "ok", "ok"},
		{matchers.ListingImage{Cause: detection.CauseCached}, "ok", "cached"},
		{matchers.ListingImage{Err: "x"}, "failed", "other"},
		{matchers.ListingImage{Err: "x", Cause: detection.CauseTimeout}, "failed", "timeout"},
	} {
		if o, cause := imageLabels(c.img); o != c.outcome || cause != c.want {
			t.Errorf("%+v: %s/%s, want %s/%s", c.img, o, cause, c.outcome, c.want)
		}
	}
}
