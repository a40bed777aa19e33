package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/quarantine"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/detect"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
	"github.com/markwatch/markwatch/pipeline/marks"
)

// Hashes of the flood test: a generic stock photo a holder uploaded as an
// "official image", and one of the brand's real photos.
const (
	floodStock = "f0e1d2c3b4a59687"
	floodBrand = "0123456789abcdef"
)

// photoImages gives a listing image the stock photo's hash when its URL
// says stock, the brand photo's otherwise.
type photoImages struct{}

func (photoImages) Listing(_ context.Context, l *domain.Listing) ([]matchers.ListingImage, error) {
	out := make([]matchers.ListingImage, len(l.Images))
	for i, u := range l.Images {
		h, _ := matchers.ParseHash(floodBrand)
		if strings.Contains(u, "stock") {
			h, _ = matchers.ParseHash(floodStock)
			h ^= 1 << (i % 64) // re-encoded: a bit off
		}
		out[i] = matchers.ListingImage{Index: i, URL: u, Hashes: []uint64{h}, Cause: detection.CauseOK}
	}
	return out, nil
}

// TestFlowStockPhotoQuarantine is the test across the real pieces:
// a mark's stock photo floods the review store with complaints on
// unrelated listings; the review service's watcher quarantines that photo
// alone and publishes the mark through the outbox relay to a marks topic
// on the real broker; a detector following the topic then files nothing
// on the unrelated listings and still files the counterfeit that names
// the mark on its real photo.
func TestFlowStockPhotoQuarantine(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	topic := kafkatest.TopicName("marks")
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}})
	ctx := context.Background()
	now := time.Now().UTC()
	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mark := &domain.Mark{
		SchemaVersion: 1, MarkID: "m-kavelo", HolderID: "h-kavelo", Name: "Kavelo", Status: domain.MarkActive,
		Categories: []string{"bags"},
		ImageHashes: []domain.ImageHash{
			{Kind: "official", URL: "upload:stock", Hashes: []string{floodStock}},
			{Kind: "official", URL: "upload:tote", Hashes: []string{floodBrand}},
		},
	}
	if err := st.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.CreateHolder(ctx, store.Holder{ID: "h-kavelo", Name: "Kavelo SA"}); err != nil {
			return err
		}
		m, err := tx.CreateMark(ctx, mark)
		if err != nil {
			return err
		}
		return tx.EnqueueMark(ctx, topic, &m)
	}); err != nil {
		t.Fatal(err)
	}
	// The flood as the review service stores it: 300 complaints within
	// half an hour, each on an unrelated listing through the stock photo.
	for i := range 300 {
		c := &domain.Complaint{
			SchemaVersion: 1, ComplaintID: fmt.Sprintf("c-%d", i), Source: domain.SourceSweep, ListingID: fmt.Sprintf("u-%d", i),
			MarkID: mark.MarkID, HolderID: mark.HolderID, SellerID: fmt.Sprintf("s-%d", i), Score: 0.62, RuleVersion: "r1",
			CreatedAt: now, Evidence: []domain.Evidence{{Matcher: "image", Score: 0.9, Field: "images[0]", Kind: "official_photo", Reference: "upload:stock"}},
		}
		if err := st.WithTx(ctx, func(tx *store.Tx) error { _, err := tx.InsertComplaint(ctx, c); return err }); err != nil {
			t.Fatal(err)
		}
	}
	w, err := quarantine.NewWatcher(st, quarantine.WatcherOptions{MarksTopic: topic})
	if err != nil {
		t.Fatal(err)
	}
	imposed, err := w.Check(ctx)
	if err != nil || len(imposed) != 1 || imposed[0].Key() != "image:upload:stock" {
		t.Fatalf("imposed %+v, %v; want the stock photo alone", imposed, err)
	}
	writer := pipeline.NewWriter(brokers, pipeline.WriterOptions{})
	defer pipeline.CloseWriter(writer)
	relay, err := review.NewRelay(review.RelayOptions{Store: st, Publisher: review.KafkaPublisher{Writer: writer}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := relay.PublishPending(ctx); err != nil || n != 2 {
		t.Fatalf("relayed %d events (%v), want the mark and its quarantined version", n, err)
	}

	follower, err := marks.New(marks.Options[*detection.Engine]{
		Brokers: brokers, Topic: topic, Debounce: 20 * time.Millisecond,
		Build: func(_ context.Context, ms []*domain.Mark) (*detection.Engine, error) {
			return detection.BuildDomain(ms, detection.Options{})
		},
		Close: func(e *detection.Engine) { _ = e.Close() },
	})
	if err != nil {
		t.Fatal(err)
	}
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = follower.Run(fctx) })
	defer func() { stop(); wg.Wait(); follower.Close() }()
	waitFor(t, 30*time.Second, "the marks topic", follower.Ready)
	stage, err := detect.New[*detection.Engine](follower, detect.Options{ComplaintsTopic: "complaints", Images: photoImages{}})
	if err != nil {
		t.Fatal(err)
	}
	files := func(id, title, image string) int {
		t.Helper()
		v, _ := json.Marshal(domain.Listing{SchemaVersion: 1, ListingID: id, Version: 1, SellerID: "s-" + id, Title: title,
			Category: "bags", Price: &domain.Money{Amount: "30", Currency: "EUR"}, Images: []string{image}})
		out, err := stage.Handle(ctx, kafka.Message{Key: []byte(id), Value: v})
		if err != nil {
			t.Fatal(err)
		}
		return len(out)
	}
	// Without the quarantine the same listings file: the flood is real.
	before, err := detection.BuildDomain([]*domain.Mark{mark}, detection.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	unquarantined, err := detect.New[*detection.Engine](staticEngine{before}, detect.Options{ComplaintsTopic: "complaints", Images: photoImages{}})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(domain.Listing{SchemaVersion: 1, ListingID: "u-old", Version: 1, SellerID: "s-old", Title: "canvas tote bag",
		Category: "bags", Price: &domain.Money{Amount: "30", Currency: "EUR"}, Images: []string{"https://img.example/stock-0.jpg"}})
	if out, err := unquarantined.Handle(ctx, kafka.Message{Key: []byte("u-old"), Value: v}); err != nil || len(out) != 1 {
		t.Fatalf("before the quarantine an unrelated listing on the stock photo filed %d (%v), want 1", len(out), err)
	}
	for i := range 200 {
		if n := files(fmt.Sprintf("u-new-%d", i), fmt.Sprintf("canvas tote bag model %d", i), "https://img.example/stock-"+fmt.Sprint(i)+".jpg"); n != 0 {
			t.Fatalf("unrelated listing %d on the stock photo filed %d complaint(s) with the photo in quarantine", i, n)
		}
	}
	if n := files("fake", "Kavelo replica tote 1:1 mirror quality", "https://img.example/tote.jpg"); n != 1 {
		t.Fatalf("the counterfeit naming the mark on its real photo filed %d complaints, want 1", n)
	}
}

// staticEngine hands out one engine.
type staticEngine struct{ e *detection.Engine }

func (s staticEngine) Acquire() (*detection.Engine, func(), bool) { return s.e, func() {}, true }
