package e2e

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/testenv"
)

// feed produces msgs in chunks of chunk every interval in the background;
// the returned channel yields the outcome once everything is written.
func feed(t testing.TB, w *kafka.Writer, msgs []kafka.Message, chunk int, interval time.Duration) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	go func() {
		defer cancel()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; i < len(msgs); i += chunk {
			if err := produce(ctx, w, msgs[i:min(i+chunk, len(msgs))]...); err != nil {
				done <- err
				return
			}
			<-tick.C
		}
		done <- nil
	}()
	return done
}

// TestSIGKILLChaos kills the detector with SIGKILL at 5 random moments
// while 20,000 text-only listings stream in, restarting it each time, and
// checks that every listing that should have a complaint has one and no
// complaint appears that should not. Duplicates are allowed (at least
// once) and logged.
func TestSIGKILLChaos(t *testing.T) {
	const (
		n     = 20_000
		kills = 5
	)
	brokers := testenv.KafkaBrokers(t)
	s := newStack(t, brokers, stackOptions{})
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	msgs := listingMessages(t, textListings(t, "chaos", n))
	want := newOracle(t, s.cfg, marks).expected(t, msgs)
	complaints := collect(t, brokers, s.complaints, 3)

	d := startDetector(t, s, "detector-0")
	// About 70 s of production at 285 listings/s, so every kill lands while
	// listings are arriving. A restarted detector takes the killed one's
	// group.instance.id (the host's lowest free index) and with it the
	// partitions, at once: static membership, the default. With
	// kafka.membership kafka-go it would wait for the group to drop the
	// killed member (the 10 s session timeout).
	fed := feed(t, newWriter(t, brokers, s.listings), msgs, 100, 350*time.Millisecond)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	start := time.Now()
	for k := range kills {
		// A random moment after the process has started scoring: a kill
		// before it has partitions would test nothing.
		deadline := time.Now().Add(45 * time.Second)
		for d.scored() <= 0 {
			if time.Now().After(deadline) {
				t.Fatalf("detector %s scored nothing within 45 s of its start", d.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		scored := d.scored()
		d.signal(syscall.SIGKILL, 10*time.Second)
		t.Logf("kill %d at %s, %s after start, %v listings scored by it", k+1,
			time.Since(start).Round(time.Millisecond), time.Since(d.started).Round(time.Millisecond), scored)
		d = startDetector(t, s, "detector-"+string(rune('1'+k)))
	}
	if err := <-fed; err != nil {
		t.Fatal(err)
	}
	if !complaints.waitFor(2*time.Minute, allArrived(want)) {
		t.Errorf("not every expected complaint arrived within 2 min of the last restart")
	}
	s.waitLagZero(t, time.Minute)
	waitCaughtUp(t, complaints, brokers, s.complaints, 3)
	counts := complaintCounts(t, complaints.snapshot())
	dups := compareComplaints(t, counts, want)
	dupIDs := 0
	for _, c := range counts {
		if c > 1 {
			dupIDs++
		}
	}
	t.Logf("%d listings, %d kills: %d distinct complaints expected and present; %d duplicate copies reached the topic (%d complaint ids more than once); %s in all",
		n, kills, len(want), dups, dupIDs, time.Since(start).Round(time.Second))
}

// TestSIGTERMUnderLoad stops the detector with SIGTERM in the middle of a
// 10,000-listing burst, checks that it exits cleanly within 10 s, restarts
// it, and checks that the restarted detector emits no complaint for a
// listing whose offset the first one committed.
func TestSIGTERMUnderLoad(t *testing.T) {
	const n = 20_000
	brokers := testenv.KafkaBrokers(t)
	s := newStack(t, brokers, stackOptions{})
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	msgs := listingMessages(t, textListings(t, "sigterm", n))
	want := newOracle(t, s.cfg, marks).expected(t, msgs)
	complaints := collect(t, brokers, s.complaints, 3)

	d := startDetector(t, s, "first")
	fed := feed(t, newWriter(t, brokers, s.listings), msgs, 1000, 50*time.Millisecond)
	deadline := time.Now().Add(30 * time.Second)
	for d.scored() < n/10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	scored := d.scored()
	if scored < n/10 || scored >= n {
		t.Fatalf("the detector had scored %v of %d listings when SIGTERM was due; want it mid-stream", scored, n)
	}
	took := d.signal(syscall.SIGTERM, 10*time.Second)
	if code := d.exitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	t.Logf("SIGTERM after %v listings scored: exited in %s", scored, took.Round(time.Millisecond))
	if err := <-fed; err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, committed, err := offsets(ctx, brokers, s.group, s.listings, s.partitions)
	if err != nil {
		t.Fatal(err)
	}
	// Everything the first process wrote is acknowledged before it exits:
	// complaints past these offsets come from the second process.
	firstEnd, err := endOffsets(ctx, brokers, s.complaints, 3)
	if err != nil {
		t.Fatal(err)
	}
	var committedTotal int64
	for _, c := range committed {
		committedTotal += max(c, 0)
	}
	if committedTotal == 0 {
		t.Fatal("the first detector committed nothing before it stopped")
	}

	second := startDetector(t, s, "second")
	s.waitLagZero(t, time.Minute)
	if !complaints.waitFor(30*time.Second, allArrived(want)) {
		t.Errorf("not every expected complaint arrived after the restart")
	}
	waitCaughtUp(t, complaints, brokers, s.complaints, 3)
	compareComplaints(t, complaintCounts(t, complaints.snapshot()), want)

	place := listingOffsets(t, s, n)
	reprocessed, fromSecond := 0, 0
	for _, m := range complaints.snapshot() {
		if m.Offset < firstEnd[m.Partition] {
			continue
		}
		fromSecond++
		var c domain.Complaint
		if err := json.Unmarshal(m.Value, &c); err != nil {
			t.Fatal(err)
		}
		at, ok := place[c.ListingID]
		if !ok {
			t.Fatalf("complaint for unknown listing %s", c.ListingID)
		}
		if at[1] < committed[at[0]] {
			reprocessed++
			if reprocessed <= 5 {
				t.Errorf("listing %s at %d@%d was committed (committed offset %d) but scored again after the restart",
					c.ListingID, at[0], at[1], committed[at[0]])
			}
		}
	}
	if reprocessed > 0 {
		t.Errorf("%d complaints after the restart are for committed listings", reprocessed)
	}
	t.Logf("committed %d of %d listings before the stop; the second process scored %v and emitted %d complaints, none for a committed listing",
		committedTotal, n, second.scored(), fromSecond)
	if got := second.scored(); got > float64(int64(n)-committedTotal) {
		t.Errorf("the second process scored %v listings, more than the %d left uncommitted", got, int64(n)-committedTotal)
	}
}

// TestThreeDetectorsShareWork runs three detectors in one group on a
// 6-partition listings topic, checks that each scores listings, kills one
// with SIGKILL mid-stream, and checks that no complaint is lost.
func TestThreeDetectorsShareWork(t *testing.T) {
	const n = 12_000
	brokers := testenv.KafkaBrokers(t)
	s := newStack(t, brokers, stackOptions{partitions: 6})
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	msgs := listingMessages(t, textListings(t, "group", n))
	want := newOracle(t, s.cfg, marks).expected(t, msgs)
	complaints := collect(t, brokers, s.complaints, 3)

	ds := []*detector{launchDetector(t, s, "a"), launchDetector(t, s, "b"), launchDetector(t, s, "c")}
	for _, d := range ds {
		d.waitReady(60 * time.Second)
	}
	// About 24 s of production, so the group has time to settle on three
	// members while listings are still coming.
	fed := feed(t, newWriter(t, brokers, s.listings), msgs, 100, 200*time.Millisecond)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, d := range ds {
			if d.scored() <= 0 {
				all = false
			}
		}
		if all {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var shares []float64
	for _, d := range ds {
		v := d.scored()
		if v <= 0 {
			t.Errorf("detector %s scored no listing in 60 s of a shared stream", d.name)
		}
		shares = append(shares, v)
	}
	t.Logf("scored by a, b, c before the kill: %v", shares)
	ds[1].signal(syscall.SIGKILL, 10*time.Second)
	if err := <-fed; err != nil {
		t.Fatal(err)
	}
	if !complaints.waitFor(90*time.Second, allArrived(want)) {
		t.Errorf("not every expected complaint arrived after detector b was killed")
	}
	s.waitLagZero(t, time.Minute)
	waitCaughtUp(t, complaints, brokers, s.complaints, 3)
	dups := compareComplaints(t, complaintCounts(t, complaints.snapshot()), want)
	t.Logf("final: a scored %v, c scored %v; %d duplicate complaint copies after the kill", ds[0].scored(), ds[2].scored(), dups)
}
