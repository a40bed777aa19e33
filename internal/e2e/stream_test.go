package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// TestListingsToComplaints runs the detector over 400 text-only fixture
// listings and checks that the complaints on the topic are exactly those
// the same engine gives in-process, once each.
func TestListingsToComplaints(t *testing.T) {
	t.Run("ApacheKafka", func(t *testing.T) { testListingsToComplaints(t, testenv.KafkaBrokers(t)) })
	t.Run("Embedded", func(t *testing.T) { testListingsToComplaints(t, kafkatest.StartEmbedded(t)) })
}

func testListingsToComplaints(t *testing.T, brokers []string) {
	const n = 400
	s := newStack(t, brokers, stackOptions{})
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	msgs := listingMessages(t, textListings(t, "e2e", n))
	want := newOracle(t, s.cfg, marks).expected(t, msgs)
	// The fixtures are about half infringing; a handful would prove little.
	if len(want) < n/10 {
		t.Fatalf("only %d complaints expected from %d fixture listings", len(want), n)
	}
	complaints := collect(t, brokers, s.complaints, 3)
	d := startDetector(t, s, "detector")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := produce(ctx, newWriter(t, brokers, s.listings), msgs...); err != nil {
		t.Fatal(err)
	}
	if !complaints.waitFor(60*time.Second, allArrived(want)) {
		t.Errorf("not every expected complaint arrived within 60 s")
	}
	s.waitLagZero(t, 30*time.Second)
	waitCaughtUp(t, complaints, brokers, s.complaints, 3)
	if dups := compareComplaints(t, complaintCounts(t, complaints.snapshot()), want); dups != 0 {
		t.Errorf("%d duplicate complaints from one detector that never restarted", dups)
	}
	if got := d.scored(); got != n {
		t.Errorf("markwatch_listings_scored_total = %v, want %d", got, n)
	}
	t.Logf("%d listings, %d complaints", n, len(want))
}

// waitCaughtUp waits until c has read everything topic held when called:
// after the group's lag is zero every output is on the topic, and the
// collector must have it before the test compares.
func waitCaughtUp(t testing.TB, c *collector, brokers []string, topic string, partitions int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	end, err := endOffsets(ctx, brokers, topic, partitions)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range end {
		total += e
	}
	if !c.waitFor(30*time.Second, func(m []kafka.Message) bool { return int64(len(m)) >= total }) {
		t.Fatalf("collector read %d of the %d messages on %s", len(c.snapshot()), total, topic)
	}
}

// newMark is a mark no fixture listing names, and a listing that
// infringes it blatantly.
func newMark(id string) *domain.Mark {
	return &domain.Mark{
		SchemaVersion: domain.SchemaVersion,
		MarkID:        id,
		HolderID:      "h-zorvexa",
		Name:          "Zorvexa",
		Registration:  domain.Registration{Office: "EUIPO", Number: "018999001", Jurisdictions: []string{"EU"}, Classes: []int{18}},
		Categories:    []string{"bags"},
		ReferencePrices: []domain.ReferencePrice{
			{Category: "bags", Amount: "1500.00", Currency: "EUR"},
		},
		AuthorizedSellers: []string{"s-zorvexa-official"},
		Status:            domain.MarkActive,
	}
}

func newMarkListing(id string) *domain.Listing {
	return &domain.Listing{
		SchemaVersion: domain.SchemaVersion,
		ListingID:     id,
		Version:       1,
		SellerID:      "s-cheap-deals-77",
		Locale:        "en-US",
		Title:         "Zorvexa replica handbag 1:1 mirror quality",
		Description:   "AAA copy of the Zorvexa tote, same as original, fake leather.",
		Category:      "bags",
		Price:         &domain.Money{Amount: "49.00", Currency: "USD"},
	}
}

// TestMarkPublishedMidStream publishes a new mark to a running detector
// while probe listings naming it arrive every 200 ms, and checks that every
// probe produced 5 s or more after the publication has its complaint. It
// logs the time from publication to the first flagged probe.
func TestMarkPublishedMidStream(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	s := newStack(t, brokers, stackOptions{})
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	mark := newMark("mk-zorvexa")

	// The probes must be flagged because of the new mark, and only then.
	probe, err := json.Marshal(newMarkListing("zorvexa-probe-check"))
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := newOracle(t, s.cfg, marks).complaints(probe); len(ids) != 0 {
		t.Fatalf("probe listing flagged without the new mark: %v", ids)
	}
	if ids, _ := newOracle(t, s.cfg, append(marks[:len(marks):len(marks)], mark)).complaints(probe); len(ids) != 1 {
		t.Fatalf("probe listing gives %d complaints with the new mark, want 1", len(ids))
	}

	complaints := collect(t, brokers, s.complaints, 3)
	startDetector(t, s, "detector")
	w := newWriter(t, brokers, s.listings)

	type sent struct {
		id string
		at time.Time // when the broker acknowledged it
	}
	var (
		mu     sync.Mutex
		probes []sent
	)
	var published time.Time
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			id := fmt.Sprintf("zorvexa-probe-%03d", i)
			if err := produce(ctx, w, listingMessages(t, []*domain.Listing{newMarkListing(id)})...); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			probes = append(probes, sent{id, time.Now()})
			mu.Unlock()
		}
	})
	time.Sleep(time.Second) // a few probes scored without the mark
	published = time.Now()
	publishMarks(t, s, mark)
	time.Sleep(6500 * time.Millisecond)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var late []string // probes produced 5 s or more after publication
	for _, p := range probes {
		if p.at.Sub(published) >= 5*time.Second {
			late = append(late, p.id)
		}
	}
	if len(late) == 0 {
		t.Fatal("no probe produced 5 s after the publication")
	}
	flagged := func(msgs []kafka.Message) map[string]bool {
		out := map[string]bool{}
		for _, m := range msgs {
			var c domain.Complaint
			if json.Unmarshal(m.Value, &c) == nil && c.MarkID == mark.MarkID {
				out[c.ListingID] = true
			}
		}
		return out
	}
	if !complaints.waitFor(20*time.Second, func(msgs []kafka.Message) bool {
		f := flagged(msgs)
		for _, id := range late {
			if !f[id] {
				return false
			}
		}
		return true
	}) {
		f := flagged(complaints.snapshot())
		var missing []string
		for _, id := range late {
			if !f[id] {
				missing = append(missing, id)
			}
		}
		t.Fatalf("%d of %d probes produced ≥ 5 s after the mark was published have no complaint: %v", len(missing), len(late), missing)
	}
	f := flagged(complaints.snapshot())
	for _, p := range probes {
		if f[p.id] {
			t.Logf("new mark watched: first flagged probe was acknowledged %s after the mark was published (%d probes, %d produced ≥ 5 s after)",
				p.at.Sub(published).Round(time.Millisecond), len(probes), len(late))
			break
		}
	}
}

// poison is one message that can never be scored.
type poison struct {
	name  string
	key   string
	value []byte
	class string // dlq.error_class
}

func poisonMessages() []poison {
	good := func(id string) domain.Listing {
		return domain.Listing{SchemaVersion: domain.SchemaVersion, ListingID: id, Version: 1,
			SellerID: "s-poison", Title: "Plain canvas tote"}
	}
	enc := func(l domain.Listing) []byte {
		b, _ := json.Marshal(l)
		return b
	}
	oversizeField := good("poison-oversize-field")
	oversizeField.Title = strings.Repeat("A", domain.DefaultLimits.MaxTitleBytes+1)
	oversizeMessage := good("poison-oversize-message")
	oversizeMessage.Description = strings.Repeat("long ", domain.DefaultLimits.MaxMessageBytes/5+10)
	missing := good("poison-missing-field")
	missing.SellerID = ""
	return []poison{
		{"bad JSON", "poison-json", []byte(`{"schema_version":1,"listing_id":"poison-json","title":`), pipeline.ClassDecode},
		{"invalid UTF-8", "poison-utf8", []byte("{\"schema_version\":1,\"listing_id\":\"poison-utf8\",\"version\":1,\"seller_id\":\"s-x\",\"title\":\"bad \xff\xfe title\"}"), pipeline.ClassDecode},
		{"oversize field", "poison-oversize-field", enc(oversizeField), pipeline.ClassValidation},
		{"oversize message", "poison-oversize-message", enc(oversizeMessage), pipeline.ClassDecode},
		{"missing field", "poison-missing-field", bytes.Replace(enc(missing), []byte(`"seller_id":"",`), nil, 1), pipeline.ClassValidation},
		{"key differs from listing_id", "poison-key", enc(good("someone-else")), pipeline.ClassValidation},
	}
}

// TestPoisonListings interleaves unreadable listings with good ones and
// checks that each unreadable one lands on the dead-letter topic with its
// origin in the headers, that the good ones keep flowing, and that a
// listing whose image host is not allowed is scored on its text with the
// evidence saying the image was not used.
func TestPoisonListings(t *testing.T) {
	t.Run("ApacheKafka", func(t *testing.T) { testPoisonListings(t, testenv.KafkaBrokers(t)) })
	t.Run("Embedded", func(t *testing.T) { testPoisonListings(t, kafkatest.StartEmbedded(t)) })
}

func testPoisonListings(t *testing.T, brokers []string) {
	s := newStack(t, brokers, stackOptions{})
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	oracle := newOracle(t, s.cfg, marks)

	goodListings := textListings(t, "poison", 200)
	// A flagged listing with an image on a host the detector may not fetch
	// from: it must still be scored, on its text.
	var withImage *domain.Listing
	for _, l := range goodListings {
		v, _ := json.Marshal(l)
		if ids, _ := oracle.complaints(v); len(ids) > 0 {
			c := *l
			c.ListingID += "-img"
			c.Images = []string{"http://images.invalid.example/x.jpg"}
			withImage = &c
			break
		}
	}
	if withImage == nil {
		t.Fatal("no flagged fixture listing")
	}
	good := listingMessages(t, append(goodListings, withImage))
	want := oracle.expected(t, good)
	poisons := poisonMessages()

	var msgs []kafka.Message
	for i, g := range good {
		msgs = append(msgs, g)
		if i%30 == 0 && i/30 < len(poisons) {
			p := poisons[i/30]
			msgs = append(msgs, kafka.Message{Key: []byte(p.key), Value: p.value})
		}
	}
	if len(msgs) != len(good)+len(poisons) {
		t.Fatalf("interleaving placed %d poison messages, want %d", len(msgs)-len(good), len(poisons))
	}

	complaints := collect(t, brokers, s.complaints, 3)
	dlq := collect(t, brokers, s.dlq, 1)
	listings := collect(t, brokers, s.listings, s.partitions)
	d := startDetector(t, s, "detector")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One message per write, in order, so good listings come after each
	// poison on its partition and must get past it.
	w := newWriter(t, brokers, s.listings)
	for _, m := range msgs {
		if err := produce(ctx, w, m); err != nil {
			t.Fatal(err)
		}
	}
	if !complaints.waitFor(60*time.Second, allArrived(want)) {
		t.Errorf("good listings stopped flowing: not every expected complaint arrived")
	}
	s.waitLagZero(t, 30*time.Second)
	waitCaughtUp(t, dlq, brokers, s.dlq, 1)
	waitCaughtUp(t, complaints, brokers, s.complaints, 3)
	if !listings.waitFor(10*time.Second, func(m []kafka.Message) bool { return len(m) >= len(msgs) }) {
		t.Fatalf("read back %d of %d listings", len(listings.snapshot()), len(msgs))
	}
	compareComplaints(t, complaintCounts(t, complaints.snapshot()), want)

	byPlace := map[[2]int64][]byte{}
	for _, m := range listings.snapshot() {
		byPlace[[2]int64{int64(m.Partition), m.Offset}] = m.Value
	}
	letters := map[string]kafka.Message{}
	for _, m := range dlq.snapshot() {
		letters[string(m.Key)] = m
	}
	if len(dlq.snapshot()) != len(poisons) {
		t.Errorf("%d dead letters, want %d (one per poison message)", len(dlq.snapshot()), len(poisons))
	}
	for _, p := range poisons {
		t.Run(p.name, func(t *testing.T) {
			m, ok := letters[p.key]
			if !ok {
				t.Fatalf("no dead letter with key %q", p.key)
			}
			if !bytes.Equal(m.Value, p.value) {
				t.Errorf("dead letter value differs from the input (%d bytes, want %d)", len(m.Value), len(p.value))
			}
			if r, _ := header(m, pipeline.HeaderReason); strings.TrimSpace(r) == "" {
				t.Errorf("no %s header", pipeline.HeaderReason)
			}
			if c, _ := header(m, pipeline.HeaderErrorClass); c != p.class {
				t.Errorf("%s = %q, want %q", pipeline.HeaderErrorClass, c, p.class)
			}
			if topic, _ := header(m, pipeline.HeaderTopic); topic != s.listings {
				t.Errorf("%s = %q, want %q", pipeline.HeaderTopic, topic, s.listings)
			}
			ps, _ := header(m, pipeline.HeaderPartition)
			offs, _ := header(m, pipeline.HeaderOffset)
			part, err1 := strconv.ParseInt(ps, 10, 32)
			off, err2 := strconv.ParseInt(offs, 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("origin headers %q / %q do not parse", ps, offs)
			}
			if orig, ok := byPlace[[2]int64{part, off}]; !ok || !bytes.Equal(orig, p.value) {
				t.Errorf("%s/%d@%d is not this poison message (found %v)", s.listings, part, off, ok)
			}
			r, _ := header(m, pipeline.HeaderReason)
			t.Logf("%s: %s", pipeline.HeaderReason, r)
		})
	}
	for _, m := range complaints.snapshot() {
		if strings.HasPrefix(string(m.Key), "poison") || string(m.Key) == "someone-else" {
			t.Errorf("complaint for poison listing %q", m.Key)
		}
		var c domain.Complaint
		if json.Unmarshal(m.Value, &c) != nil || c.ListingID != withImage.ListingID {
			continue
		}
		unavailable := false
		for _, e := range c.Evidence {
			if e.Matcher == "image" && e.Kind == "unavailable" && e.Match == withImage.Images[0] {
				unavailable = true
			}
		}
		if !unavailable {
			t.Errorf("complaint %s does not say its image was not used: %+v", c.ComplaintID, c.Evidence)
		}
	}
	if v, err := d.metric("markwatch_consumer_dead_letters_total", ""); err != nil || v != float64(len(poisons)) {
		t.Errorf("markwatch_consumer_dead_letters_total = %v (%v), want %d", v, err, len(poisons))
	}
}
