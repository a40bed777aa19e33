package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/domain"
)

// Shape of TestClusterFaults' stream: listingPartitions partitions, each
// fed feedChunk listings every feedEvery by a writer of its own (about 100
// listings/s in all), so that a partition whose leader is gone never holds
// up the others' input.
const (
	listingPartitions = 6
	feedChunk         = 6
	feedEvery         = 350 * time.Millisecond
	// sessionTimeout is the detector's consumer-group session timeout
	// (pipeline.Options default): a restart within it must not rebalance.
	sessionTimeout = 10 * time.Second
)

// TestClusterFaults runs two `markwatch detect` processes, static members
// of one group, on the 3-node cluster of `scripts/kafka.sh cluster-start`
// while listings stream in, and inflicts in turn: SIGKILL of the broker
// hosting the group coordinator (restarted once the cluster has recovered,
// as every killed node is), the preferred-leader election that moves the
// coordinator back to it, SIGKILL of a broker leading listings partitions,
// of the active controller, and of a detector restarted within the session
// timeout. Asserted: every complaint `markwatch score`
// gives for the same listings reaches the complaints topic, no other does,
// duplicates carry the ids of listings in flight; the detector restart
// rebalances nobody; the election revokes no partition when the group runs
// the cooperative protocol. Measured and logged as a timeline, never
// asserted: per fault, Kafka's own unavailability (until an acks=all write
// succeeds on every listings partition again) and the detectors' stall
// (the longest time a listings partition produced no new complaint).
// A last idle window (no listings, so no commits) longer than the session
// timeout logs whether heartbeats alone kept the members in the group.
// MARKWATCH_FAULT_MEMBERSHIP=dynamic runs the detectors without instance
// ids (kafka-go's ConsumerGroup), for comparison.
func TestClusterFaults(t *testing.T) {
	c := openCluster(t)
	testStart := time.Now()
	c.waitHealthy(time.Minute)
	// Leaders where they belong, as on a fresh cluster (earlier runs may
	// have moved them): then the coordinator's broker is its partition's
	// preferred leader, and the election after its restart moves the
	// coordinator back to it.
	c.must("tool", "leader-election", "--bootstrap-server", strings.Join(c.brokers, ","),
		"--election-type", "PREFERRED", "--all-topic-partitions")
	s := newStack(t, c.brokers, stackOptions{partitions: listingPartitions, replication: 3})
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	complaints := collect(t, c.brokers, s.complaints, 3)
	progress := newProgress(complaints)

	// Static members unless MARKWATCH_FAULT_MEMBERSHIP=dynamic, which runs
	// the same faults on kafka-go's own ConsumerGroup (no instance ids) to
	// measure what static membership saves; the static-only assertions
	// are then only logged.
	static := os.Getenv("MARKWATCH_FAULT_MEMBERSHIP") != "dynamic"
	t.Logf("membership: static %v", static)
	feeder := startFeeder(t, c.brokers, s.listings)
	ds := map[string]*detector{}
	for _, name := range []string{"a", "b"} {
		ds[name] = launchDetectorEnv(t, s, "detector-"+name, instanceEnv(static, name))
	}
	for _, d := range ds {
		d.waitReady(90 * time.Second)
	}
	// Both members scoring on every partition before the first fault.
	if !progress.waitAll(time.Now(), 90*time.Second) {
		t.Fatalf("not every listings partition produced a complaint within 90 s of the start: %v", progress.lastPerPartition())
	}
	// The strategy shows once the group is stable ("-" before).
	var strategy string
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; {
		strategy, err = c.groupStrategy(s.group)
		if err == nil && strategy != "-" || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		t.Fatalf("group strategy: %v", err)
	}
	cooperative := strings.Contains(strategy, "cooperative")
	t.Logf("group %s assignment strategy (kafka-consumer-groups --describe --state): %s", s.group, strategy)

	// rebalances returns each detector's generations joined, and with
	// them the counters the fault's row reports, under "name metric".
	rebalances := func() map[string]float64 {
		out := map[string]float64{}
		for name, d := range ds {
			out[name], _ = d.metric("markwatch_consumer_rebalances_total", "")
			for _, m := range faultCounters {
				out[name+" "+m], _ = d.metric(m, "")
			}
		}
		return out
	}

	var faults []*fault
	baseline := &fault{name: "none (baseline)", at: time.Now(), before: rebalances()}
	time.Sleep(8 * time.Second)
	baseline.end, baseline.after = time.Now(), rebalances()
	faults = append(faults, baseline)

	// revocations counts, per detector, the partitions it gave up
	// (revoked after a commit, or lost without one); 0 where the detector
	// does not export the counters.
	revocations := func() map[string]float64 {
		out := map[string]float64{}
		for name, d := range ds {
			r, _ := d.metric("markwatch_consumer_partitions_revoked_total", "")
			l, _ := d.metric("markwatch_consumer_partitions_lost_total", "")
			out[name] = r + l
		}
		return out
	}
	revokeMetric := func() bool {
		for _, d := range ds {
			if d.exports("markwatch_consumer_partitions_revoked_total") {
				return true
			}
		}
		return false
	}

	// brokerFault kills node id, waits for the cluster and the detectors
	// to recover, restarts the node and waits until its replicas are in
	// sync again.
	brokerFault := func(name string, id int) *fault {
		f := &fault{name: name, node: id, roles: c.roles(id, s), before: rebalances()}
		f.at = time.Now()
		c.kill(id)
		f.killed = time.Now()
		feeder.waitAvailable(f.killed, 60*time.Second)
		avail := feeder.availableAt(f.killed, time.Now())
		if avail.IsZero() {
			t.Errorf("%s: Kafka took no write on some listings partition within 60 s", name)
			avail = time.Now()
		}
		if !progress.waitAll(avail, 60*time.Second) {
			t.Errorf("%s: some listings partition produced no complaint within 60 s of Kafka's recovery: %v", name, progress.lastPerPartition())
		}
		time.Sleep(2 * time.Second)
		f.end = time.Now()
		f.after = rebalances()
		c.restart(id)
		c.waitHealthy(2 * time.Minute)
		progress.waitAll(time.Now(), 30*time.Second)
		return f
	}

	coord, err := c.coordinator(s.group)
	if err != nil {
		t.Fatal(err)
	}
	faults = append(faults, brokerFault("group coordinator's broker", coord))

	// Kafka's routine preferred-leader election after a broker restart:
	// leaders move back to the restarted node, the coordinator with them
	// (the cluster was fresh, so the coordinator's broker was its
	// partition's preferred leader).
	{
		f := &fault{name: "preferred-leader election", roles: "all partitions", before: rebalances()}
		revokedBefore := revocations()
		coordBefore, _ := c.coordinator(s.group)
		f.at = time.Now()
		out := c.must("tool", "leader-election", "--bootstrap-server", strings.Join(c.brokers, ","),
			"--election-type", "PREFERRED", "--all-topic-partitions")
		// The new leader loads the group before it answers as its
		// coordinator.
		coordAfter := coordBefore
		for deadline := time.Now().Add(5 * time.Second); coordAfter == coordBefore && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			coordAfter, _ = c.coordinator(s.group)
		}
		f.note = fmt.Sprintf("coordinator %d -> %d; %s", coordBefore, coordAfter, firstLine(out))
		time.Sleep(sessionTimeout)
		f.end = time.Now()
		f.after = rebalances()
		rebalanced, revoked := 0.0, 0.0
		for name := range ds {
			rebalanced += f.after[name] - f.before[name]
		}
		revokedAfter := revocations()
		for name := range revokedBefore {
			revoked += revokedAfter[name] - revokedBefore[name]
		}
		if coordBefore == coordAfter {
			t.Logf("the preferred-leader election did not move the coordinator (node %d): the revocation check below saw no coordinator move", coordAfter)
		}
		switch {
		case rebalanced == 0:
			// No new generation: nothing can have been revoked.
		case !cooperative:
			t.Logf("the preferred-leader election started %v rebalance(s) under the %s (eager) protocol: every partition revoked (asserted only under a cooperative protocol)", rebalanced, strategy)
		case !revokeMetric():
			t.Errorf("the preferred-leader election started %v rebalance(s) under %s, and the detectors export no markwatch_consumer_partitions_revoked_total to tell whether any partition was revoked", rebalanced, strategy)
		case revoked > 0:
			t.Errorf("the preferred-leader election revoked %v partition(s) under %s: a coordinator move must revoke none", revoked, strategy)
		}
		f.note = fmt.Sprintf("%s; %v partitions revoked or lost", f.note, revoked)
		faults = append(faults, f)
	}

	leaders, err := c.leaders(s.listings)
	if err != nil {
		t.Fatal(err)
	}
	coord, err = c.coordinator(s.group)
	if err != nil {
		t.Fatal(err)
	}
	faults = append(faults, brokerFault("listings partition leader", pickLeader(leaders, coord, c.controller())))
	faults = append(faults, brokerFault("active controller", c.controller()))

	// A detector SIGKILLed and back within the session timeout: a static
	// member takes its partitions back with no rebalance.
	{
		f := &fault{name: "detector b SIGKILL, restarted", roles: "group member b", before: rebalances()}
		f.at = time.Now()
		ds["b"].signal(syscall.SIGKILL, 10*time.Second)
		time.Sleep(time.Second)
		ds["b"] = launchDetectorEnv(t, s, "detector-b2", instanceEnv(static, "b"))
		ds["b"].waitReady(60 * time.Second)
		f.note = fmt.Sprintf("back (ready) %s after the kill", time.Since(f.at).Round(100*time.Millisecond))
		if !progress.waitAll(f.at, 60*time.Second) {
			t.Errorf("%s: some listings partition produced no complaint within 60 s: %v", f.name, progress.lastPerPartition())
		}
		// Past the session timeout, when a rebalance for the old
		// instance would have happened.
		if wait := time.Until(f.at.Add(sessionTimeout + 5*time.Second)); wait > 0 {
			time.Sleep(wait)
		}
		f.end = time.Now()
		f.after = rebalances()
		if d := f.after["a"] - f.before["a"]; d != 0 && static {
			t.Errorf("detector b restarted within the session timeout, yet detector a joined %v new generation(s): a static member's restart must not rebalance", d)
		}
		faults = append(faults, f)
	}

	listings := feeder.stop()
	want := scoreListings(t, s, listings)
	if !complaints.waitFor(2*time.Minute, allArrived(want)) {
		t.Errorf("not every expected complaint arrived within 2 min of the last fault")
	}
	s.waitLagZero(t, time.Minute)
	waitCaughtUp(t, complaints, c.brokers, s.complaints, 3)
	// Idle past a session timeout: no listings, so no commits; only
	// heartbeats keep the members in the group.
	idle := &fault{name: "idle (no listings)", roles: "-", idle: true, before: rebalances()}
	idle.at = time.Now()
	time.Sleep(sessionTimeout + 5*time.Second)
	idle.end, idle.after = time.Now(), rebalances()
	faults = append(faults, idle)
	if n := idle.after["a"] - idle.before["a"] + idle.after["b"] - idle.before["b"]; n != 0 && static {
		// Heartbeats go to the coordinator FindCoordinator names
		// (pipeline/static.go): they alone keep an idle member.
		t.Errorf("the group rebalanced %v time(s) while idle for %s: the members' heartbeats did not keep them in the group", n, sessionTimeout+5*time.Second)
	}
	counts := complaintCounts(t, complaints.snapshot())
	dups := compareComplaints(t, counts, want)
	if out, err := c.script("tool", "consumer-groups", "--bootstrap-server", strings.Join(c.brokers, ","),
		"--describe", "--group", s.group); err == nil {
		t.Logf("kafka-consumer-groups --describe after the drain:\n%s", out)
	}
	// Duplicates come from work in flight at a fault (or at the group's
	// forming, before the baseline): none in the quiet baseline window.
	if n := progress.duplicates(faults[0].at, faults[1].at); n > 0 {
		t.Errorf("%d duplicate complaint copies in the quiet window before the first fault: redelivery with nothing to cause it", n)
	}
	for _, d := range ds {
		if !d.running() {
			t.Errorf("detector %s exited (%v)", d.name, d.waitErr)
		}
	}
	t.Logf("fault timeline (%d listings, %d complaints expected and present, %d duplicate copies in all, strategy %s, %s in all):\n%s",
		len(listings), len(want), dups, strategy, time.Since(testStart).Round(time.Second),
		timeline(faults, feeder, progress, testStart))
}

// instanceEnv returns the environment that makes detector name a static
// member, or a harmless empty assignment when static is false.
func instanceEnv(static bool, name string) string {
	if !static {
		return "MARKWATCH_KAFKA_GROUP_INSTANCE_ID="
	}
	return "MARKWATCH_KAFKA_GROUP_INSTANCE_ID=fault-" + name
}

// faultCounters are the detector counters a fault moves, reported per
// fault (summed over the detectors) in the timeline.
var faultCounters = []string{
	"markwatch_consumer_emit_retries_total",
	"markwatch_consumer_commit_errors_total",
	"markwatch_consumer_lag_refresh_errors_total",
}

// counterDelta sums metric's increase over the detectors in the fault's
// window; a detector restarted in it (a counter that went down) counts
// from zero.
func (f *fault) counterDelta(metric string) float64 {
	total := 0.0
	for _, name := range []string{"a", "b"} {
		before, after := f.before[name+" "+metric], f.after[name+" "+metric]
		if after < before {
			before = 0
		}
		total += after - before
	}
	return total
}

// fault is one inflicted fault and what was measured around it.
type fault struct {
	name   string
	node   int    // the node killed, 0 for none
	roles  string // what the node was when killed
	note   string
	at     time.Time // when it was inflicted
	killed time.Time // when the node was gone (at, for other faults)
	idle   bool      // no listings in the window: no stall to measure
	end    time.Time // end of the observation window
	before map[string]float64
	after  map[string]float64
}

// roles describes what node id is for the test's stack: coordinator,
// controller, leader of which listings partitions.
func (c *cluster) roles(id int, s *stack) string {
	var r []string
	if coord, err := c.coordinator(s.group); err == nil && coord == id {
		r = append(r, "coordinator")
	}
	if c.controller() == id {
		r = append(r, "controller")
	}
	if leaders, err := c.leaders(s.listings); err == nil {
		var led []string
		for p := range listingPartitions {
			if leaders[p] == id {
				led = append(led, strconv.Itoa(p))
			}
		}
		if len(led) > 0 {
			r = append(r, "leads listings "+strings.Join(led, ","))
		}
	}
	if len(r) == 0 {
		return "follower only"
	}
	return strings.Join(r, "; ")
}

// pickLeader returns a node leading listings partitions, preferring one
// that is neither the coordinator nor the controller, so that the fault
// is a partition leader's loss alone where the cluster allows it.
func pickLeader(leaders map[int]int, coordinator, controller int) int {
	count := map[int]int{}
	for _, l := range leaders {
		count[l]++
	}
	best, bestScore := 0, -1
	for id, n := range count {
		score := n
		if id != coordinator {
			score += 100
		}
		if id != controller {
			score += 10
		}
		if score > bestScore || (score == bestScore && id < best) {
			best, bestScore = id, score
		}
	}
	return best
}

// feeder writes listings to each listings partition from a goroutine of
// its own and records every write attempt: the listings written are the
// input of `markwatch score`, the attempts measure Kafka's availability.
type feeder struct {
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu       sync.Mutex
	attempts [listingPartitions][]attempt
	written  []kafka.Message
}

// attempt is one acks=all write of a chunk to one partition.
type attempt struct {
	start, end time.Time
	ok         bool
}

// startFeeder starts writing; listing ids name their partition
// ("…-fltP-N"), so a complaint says which partition made progress.
func startFeeder(t testing.TB, brokers []string, topic string) *feeder {
	t.Helper()
	base, err := fixtures.LoadListings()
	if err != nil {
		t.Fatalf("fixture listings: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &feeder{cancel: cancel}
	for p := range listingPartitions {
		transport := &kafka.Transport{MetadataTTL: 250 * time.Millisecond}
		w := &kafka.Writer{
			Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll,
			Balancer:     kafka.BalancerFunc(func(kafka.Message, ...int) int { return p }),
			BatchTimeout: 2 * time.Millisecond, MaxAttempts: 1, Transport: transport,
		}
		f.done.Go(func() {
			defer transport.CloseIdleConnections()
			defer w.Close()
			tick := time.NewTicker(feedEvery)
			defer tick.Stop()
			for n := 0; ctx.Err() == nil; {
				chunk := make([]kafka.Message, feedChunk)
				for i := range chunk {
					l := *base[(n*listingPartitions+p)%len(base)]
					l.Images, l.Label = nil, nil
					l.ListingID = fmt.Sprintf("%s-flt%d-%06d", l.ListingID, p, n)
					v, err := json.Marshal(&l)
					if err != nil {
						panic(err) // a fixture listing always encodes
					}
					chunk[i] = kafka.Message{Key: []byte(l.ListingID), Value: v}
					n++
				}
				// A failed write may still have landed: the chunk is
				// written again until a write succeeds, and the
				// detector sees the copies as redeliveries.
				for ctx.Err() == nil {
					a := attempt{start: time.Now()}
					wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
					err := w.WriteMessages(wctx, chunk...)
					cancel()
					a.end, a.ok = time.Now(), err == nil
					f.mu.Lock()
					f.attempts[p] = append(f.attempts[p], a)
					if a.ok {
						f.written = append(f.written, chunk...)
					}
					f.mu.Unlock()
					if a.ok {
						break
					}
					if !wait(ctx, 100*time.Millisecond) {
						// Stopped mid-retry: the chunk may be on the
						// topic, so it counts as written.
						f.mu.Lock()
						f.written = append(f.written, chunk...)
						f.mu.Unlock()
						return
					}
				}
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		})
	}
	t.Cleanup(func() { f.stop() })
	return f
}

// wait sleeps d or until ctx ends, reporting whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// stop ends the feed and returns every listing message written.
func (f *feeder) stop() []kafka.Message {
	f.cancel()
	f.done.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.written)
}

// availableAt returns when every partition had accepted a write again
// after at: for each partition, the end of the first successful write
// after its last failure in [at, until], or, for a partition that did not
// fail, of its first successful write started at or after at; the latest
// of those. The zero time means some partition has not recovered yet.
func (f *feeder) availableAt(at, until time.Time) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	latest := at
	for p := range listingPartitions {
		var window []attempt
		for _, a := range f.attempts[p] {
			if !a.end.Before(at) && !a.start.After(until) {
				window = append(window, a)
			}
		}
		from := 0
		for i, a := range window {
			if !a.ok {
				from = i + 1
			}
		}
		back := time.Time{}
		for _, a := range window[from:] {
			// Without a failure, a write begun before at proves nothing.
			if a.ok && (from > 0 || !a.start.Before(at)) {
				back = a.end
				break
			}
		}
		if back.IsZero() {
			return time.Time{}
		}
		latest = later(latest, back)
	}
	return latest
}

// waitAvailable waits until every partition accepted a write after at.
func (f *feeder) waitAvailable(at time.Time, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && f.availableAt(at, time.Now()).IsZero() {
		time.Sleep(100 * time.Millisecond)
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// progress turns the complaints topic into per-partition scoring progress:
// the timestamp of the first copy of each complaint, by the listings
// partition its listing was written to.
type progress struct {
	c      *collector
	mu     sync.Mutex
	read   int
	seen   map[string]bool
	events [listingPartitions][]time.Time
	dups   []time.Time // timestamps of the second and later copies
}

func newProgress(c *collector) *progress {
	return &progress{c: c, seen: map[string]bool{}}
}

// update reads the complaints collected since the last call.
func (p *progress) update() {
	msgs := p.c.snapshot()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs[p.read:] {
		id, _ := header(m, "complaint_id")
		if id == "" {
			continue
		}
		if p.seen[id] {
			p.dups = append(p.dups, m.Time)
			continue
		}
		p.seen[id] = true
		part, ok := feedPartition(string(m.Key))
		if !ok {
			continue
		}
		p.events[part] = append(p.events[part], m.Time)
	}
	p.read = len(msgs)
}

// feedPartition reads the partition out of a feeder listing id.
func feedPartition(listingID string) (int, bool) {
	i := strings.LastIndex(listingID, "-flt")
	if i < 0 || i+5 > len(listingID) {
		return 0, false
	}
	p, err := strconv.Atoi(listingID[i+4 : i+5])
	return p, err == nil && p < listingPartitions
}

// waitAll waits until every partition has a complaint stamped after since.
func (p *progress) waitAll(since time.Time, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		p.update()
		p.mu.Lock()
		all := true
		for _, ev := range p.events {
			if len(ev) == 0 || !slices.ContainsFunc(ev, func(e time.Time) bool { return e.After(since) }) {
				all = false
				break
			}
		}
		p.mu.Unlock()
		if all {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lastPerPartition returns each partition's latest progress, for messages.
func (p *progress) lastPerPartition() []string {
	p.update()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for i, ev := range p.events {
		last := "never"
		if len(ev) > 0 {
			last = slices.MaxFunc(ev, time.Time.Compare).Format("15:04:05.000")
		}
		out = append(out, fmt.Sprintf("%d:%s", i, last))
	}
	return out
}

// stall returns, for each partition, the longest time within [from, to]
// without progress: gaps between consecutive complaints that overlap the
// window, measured from the last complaint before from.
func (p *progress) stall(from, to time.Time) [listingPartitions]time.Duration {
	p.update()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [listingPartitions]time.Duration
	for part, ev := range p.events {
		ev = slices.SortedFunc(slices.Values(ev), time.Time.Compare)
		prev := from
		for _, e := range ev {
			if !e.After(from) {
				prev = e
			}
		}
		for _, e := range ev {
			if !e.After(from) {
				continue
			}
			if e.After(to) {
				out[part] = max(out[part], to.Sub(prev))
				break
			}
			out[part] = max(out[part], e.Sub(prev))
			prev = e
		}
		if len(ev) == 0 || !ev[len(ev)-1].After(to) {
			out[part] = max(out[part], to.Sub(prev))
		}
	}
	return out
}

// duplicates counts the duplicate copies stamped within [from, to].
func (p *progress) duplicates(from, to time.Time) int {
	p.update()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, d := range p.dups {
		if !d.Before(from) && !d.After(to) {
			n++
		}
	}
	return n
}

// allStall is the longest time within [from, to] in which no partition
// progressed at all.
func (p *progress) allStall(from, to time.Time) time.Duration {
	p.update()
	p.mu.Lock()
	var ev []time.Time
	for _, e := range p.events {
		ev = append(ev, e...)
	}
	p.mu.Unlock()
	slices.SortFunc(ev, time.Time.Compare)
	prev, worst := from, time.Duration(0)
	for _, e := range ev {
		if !e.After(from) {
			prev = e
			continue
		}
		if e.After(to) {
			return max(worst, to.Sub(prev))
		}
		worst = max(worst, e.Sub(prev))
		prev = e
	}
	return max(worst, to.Sub(prev))
}

// timeline renders the faults as a table: when, what, Kafka's
// unavailability, the detectors' stall (worst partition and all
// partitions at once), rebalances.
func timeline(faults []*fault, f *feeder, p *progress, start time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s %-29s %-4s %-44s %7s %12s %9s %9s %5s %-9s %-14s %s\n",
		"t", "fault", "node", "node was", "kafka", "stall worst", "beyond", "stall all", "dups", "rebal a/b", "emit/commit/lag", "note")
	for _, ft := range faults {
		kafkaOut, down := "-", time.Duration(0)
		if ft.node != 0 || ft.name == "preferred-leader election" {
			if back := f.availableAt(later(ft.killed, ft.at), ft.end); !back.IsZero() {
				down = back.Sub(ft.at)
				kafkaOut = down.Round(100 * time.Millisecond).String()
			} else {
				kafkaOut = "never"
			}
		}
		stalls := p.stall(ft.at, ft.end)
		worst, wp := time.Duration(0), 0
		for i, s := range stalls {
			if s > worst {
				worst, wp = s, i
			}
		}
		node := "-"
		if ft.node != 0 {
			node = strconv.Itoa(ft.node)
		}
		reb, errs := "-", "-"
		if ft.before != nil {
			reb = fmt.Sprintf("+%v/+%v", ft.after["a"]-ft.before["a"], ft.after["b"]-ft.before["b"])
			var parts []string
			for _, m := range faultCounters {
				parts = append(parts, strconv.FormatFloat(ft.counterDelta(m), 'f', -1, 64))
			}
			errs = strings.Join(parts, "/")
		}
		beyond := "-"
		if kafkaOut != "-" {
			beyond = max(worst-down, 0).Round(100 * time.Millisecond).String()
		}
		worstOut := fmt.Sprintf("%s p%d", worst.Round(100*time.Millisecond), wp)
		allOut := p.allStall(ft.at, ft.end).Round(100 * time.Millisecond).String()
		if ft.idle {
			worstOut, allOut = "-", "-"
		}
		fmt.Fprintf(&b, "%-7s %-29s %-4s %-44s %7s %12s %9s %9s %5d %-9s %-14s %s\n",
			"+"+ft.at.Sub(start).Round(time.Second).String(), ft.name, node, ft.roles, kafkaOut,
			worstOut, beyond, allOut, p.duplicates(ft.at, ft.end), reb, errs, ft.note)
	}
	b.WriteString("kafka: until an acks=all write succeeded again on every listings partition; stall worst: the longest time one listings partition (pN) produced no new complaint in the fault's window (baseline: the same in a quiet window); beyond: stall worst minus kafka; stall all: the longest time no partition produced any; dups: duplicate complaint copies that arrived in the window; rebal: generations joined by detector a/b in the window (b's restart counts its own join); emit/commit/lag: increase of markwatch_consumer_emit_retries_total, commit_errors_total and lag_refresh_errors_total over both detectors.")
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// scoreListings writes msgs as a JSONL file, runs `markwatch score` on it
// with the fixture marks and the stack's configuration, and returns the
// ids of the complaints it gives: what the complaints topic must hold.
func scoreListings(t testing.TB, s *stack, msgs []kafka.Message) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "listings.jsonl")
	var buf strings.Builder
	for _, m := range msgs {
		buf.Write(m.Value)
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(in, []byte(buf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scores.jsonl")
	cmd := exec.Command(binaryPath, "score", "-config", s.cfgPath, "-marks", filepath.Join(fixtures.Dir(), "marks.jsonl"),
		"-listings", in, "-out", out, "-quiet")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("markwatch score: %v\n%s", err, b)
	}
	file, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	want := map[string]bool{}
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var r domain.ScoreResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("markwatch score output: %v", err)
		}
		for _, c := range r.Complaints {
			want[c.ComplaintID] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}
