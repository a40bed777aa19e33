package marks

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// benchMarkValue is the JSON of a mark shaped like the registry's: variants,
// registration, images with hashes, prices, sellers; about 1.3 KB.
func benchMarkValue(tb testing.TB, i int) []byte {
	tb.Helper()
	th := 0.8
	id := fmt.Sprintf("m-%06d", i)
	m := domain.Mark{
		SchemaVersion: domain.SchemaVersion,
		MarkID:        id,
		HolderID:      fmt.Sprintf("h-%05d", i/3),
		Name:          fmt.Sprintf("Brand %d", i),
		Variants:      []string{fmt.Sprintf("BRAND%d", i), fmt.Sprintf("brand-%d", i), "品牌"},
		DistinctFrom:  []string{fmt.Sprintf("Brandt %d", i)},
		Registration: domain.Registration{Office: "EUIPO", Number: fmt.Sprintf("%09d", i),
			Jurisdictions: []string{"EU", "US"}, Classes: []int{18, 25}},
		Logos:          []string{fmt.Sprintf("https://brand.example.com/%s/logo.png", id)},
		OfficialImages: []string{fmt.Sprintf("https://brand.example.com/%s/p1.jpg", id), fmt.Sprintf("https://brand.example.com/%s/p2.jpg", id)},
		Categories:     []string{"shoes", "bags"},
		ReferencePrices: []domain.ReferencePrice{{Category: "shoes", Amount: "120.00", Currency: "USD"},
			{Amount: "80", Currency: "EUR"}},
		AuthorizedSellers: []string{fmt.Sprintf("seller-%d-official", i)},
		Threshold:         &th,
		Status:            domain.MarkActive,
		ImageHashes: []domain.ImageHash{
			{Kind: "logo", URL: fmt.Sprintf("https://brand.example.com/%s/logo.png", id), Hashes: []string{"8f3c1e0a9b2d4c6e", "0f1e2d3c4b5a6978"}},
			{Kind: "official", URL: fmt.Sprintf("https://brand.example.com/%s/p1.jpg", id), Hashes: []string{"a1b2c3d4e5f60718", "1122334455667788"}},
		},
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	return b
}

// BenchmarkCatchUp measures the time from Run to Ready over a 3-partition
// topic of 10,000 marks on the embedded kfake broker, with a trivial engine:
// fetching and strict decoding, not engine building.
func BenchmarkCatchUp(b *testing.B) {
	const n = 10_000
	brokers := kafkatest.StartEmbedded(b)
	topic := kafkatest.TopicName("bench-marks")
	kafkatest.CreateTopic(b, brokers, topicConfig(topic, 3))
	p := newProducer(b, brokers, topic, nil)
	recs := make([]record, n)
	bytes := 0
	for i := range recs {
		id := fmt.Sprintf("m-%06d", i)
		recs[i] = record{[]byte(id), benchMarkValue(b, i)}
		bytes += len(recs[i].value)
	}
	for i := 0; i < n; i += 1000 {
		p.put(recs[i : i+1000]...)
	}
	b.ReportMetric(float64(bytes)/n, "bytes/mark")
	b.ResetTimer()
	for b.Loop() {
		f, err := New(Options[int]{
			Brokers: brokers,
			Topic:   topic,
			Build:   func(_ context.Context, marks []*domain.Mark) (int, error) { return len(marks), nil },
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()
		for !f.Ready() {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		if f.Marks() != n {
			b.Fatalf("ready with %d marks, want %d", f.Marks(), n)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		f.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "marks/s")
}

// BenchmarkAcquire measures the per-listing cost of taking and releasing the
// current engine, from all cores at once.
func BenchmarkAcquire(b *testing.B) {
	f, err := New(Options[int]{Brokers: []string{"x:1"}, Topic: "marks",
		Build: func(context.Context, []*domain.Mark) (int, error) { return 0, nil }})
	if err != nil {
		b.Fatal(err)
	}
	f.install(1, 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, release, ok := f.Acquire()
			if !ok {
				b.Error("no engine")
				return
			}
			release()
		}
	})
	f.Close()
}
