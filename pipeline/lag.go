package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// lagReporter computes the group's lag from the broker's committed and end
// offsets: kafka-go's group Reader does not say which partitions it holds,
// and Reader.Lag is -1 for groups. For the gauge it asks the coordinator
// which partitions this member holds (DescribeGroups, the member found by
// its client id), so that each member exports only its own partitions and
// a sum over members is the group's lag, not N times it.
type lagReporter struct {
	group, topic string
	// member is the client id of this consumer's group reader: unique per
	// consumer, so that it names one member of the group.
	member    string
	transport *kafka.Transport
	client    *kafka.Client
}

func newLagReporter(brokers []string, group, topic, member string) *lagReporter {
	t := &kafka.Transport{}
	return &lagReporter{
		group: group, topic: topic, member: member, transport: t,
		client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second, Transport: t},
	}
}

// errNotStable is returned by owned while the group is rebalancing: the
// coordinator only says who holds what in a stable group.
var errNotStable = errors.New("group is rebalancing")

// owned returns the partitions of the topic the coordinator has assigned
// to this member (none when the member is not in the group), or
// errNotStable while the group rebalances.
func (l *lagReporter) owned(ctx context.Context) ([]int, error) {
	resp, err := l.client.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{l.group}})
	if err != nil {
		return nil, fmt.Errorf("pipeline: lag of %s: describe group %s: %w", l.topic, l.group, err)
	}
	for _, g := range resp.Groups {
		if g.GroupID != l.group {
			continue
		}
		if g.Error != nil {
			return nil, fmt.Errorf("pipeline: lag of %s: describe group %s: %w", l.topic, l.group, g.Error)
		}
		if g.GroupState != "Stable" {
			return nil, fmt.Errorf("pipeline: lag of %s: group %s is %s: %w", l.topic, l.group, g.GroupState, errNotStable)
		}
		var parts []int
		for _, m := range g.Members {
			if m.ClientID != l.member {
				continue
			}
			for _, t := range m.MemberAssignments.Topics {
				if t.Topic == l.topic {
					parts = append(parts, t.Partitions...)
				}
			}
		}
		slices.Sort(parts)
		return slices.Compact(parts), nil
	}
	return nil, fmt.Errorf("pipeline: lag of %s: describe group %s: group missing from the answer", l.topic, l.group)
}

// ownedLag returns the lag of the partitions this member holds. While the
// group rebalances it returns the lag of prev, the partitions held before:
// the assignment is not known until the group is stable again.
func (l *lagReporter) ownedLag(ctx context.Context, prev []int) (map[int]int64, error) {
	parts, err := l.owned(ctx)
	if errors.Is(err, errNotStable) {
		parts, err = prev, nil
	}
	if err != nil {
		return nil, err
	}
	if len(parts) == 0 {
		return map[int]int64{}, nil
	}
	return l.lagOf(ctx, parts)
}

// lag returns end offset minus committed offset per partition of the
// topic, held by this member or not; where the
// group has committed nothing it counts from the first offset still in the
// log, where a new group starts.
func (l *lagReporter) lag(ctx context.Context) (map[int]int64, error) {
	meta, err := l.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{l.topic}})
	if err != nil {
		return nil, fmt.Errorf("pipeline: lag of %s: metadata: %w", l.topic, err)
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Name != l.topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("pipeline: lag of %s: metadata: %w", l.topic, t.Error)
		}
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("pipeline: lag of %s: topic has no partitions", l.topic)
	}
	return l.lagOf(ctx, parts)
}

// lagOf returns the lag of parts, which must be partitions of the topic.
func (l *lagReporter) lagOf(ctx context.Context, parts []int) (map[int]int64, error) {
	committed, err := l.committed(ctx, parts)
	if err != nil {
		return nil, err
	}
	last, err := l.offsets(ctx, parts, kafka.LastOffsetOf)
	if err != nil {
		return nil, err
	}
	var first map[int]int64
	lag := make(map[int]int64, len(parts))
	for _, p := range parts {
		from, ok := committed[p]
		if !ok || from < 0 {
			if first == nil {
				// Asked separately: one ListOffsets request may not name a
				// partition twice.
				if first, err = l.offsets(ctx, parts, kafka.FirstOffsetOf); err != nil {
					return nil, err
				}
			}
			from = first[p]
		}
		lag[p] = max(last[p]-from, 0)
	}
	return lag, nil
}

// committed returns the group's committed offsets (-1 where none).
func (l *lagReporter) committed(ctx context.Context, parts []int) (map[int]int64, error) {
	resp, err := l.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: l.group, Topics: map[string][]int{l.topic: parts}})
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline: lag of %s: committed offsets of group %s: %w", l.topic, l.group, err)
	}
	out := make(map[int]int64, len(parts))
	for _, p := range resp.Topics[l.topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("pipeline: lag of %s/%d: committed offset: %w", l.topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

// offsets returns the first or end offset (by req) of each partition.
func (l *lagReporter) offsets(ctx context.Context, parts []int, req func(int) kafka.OffsetRequest) (map[int]int64, error) {
	reqs := make([]kafka.OffsetRequest, len(parts))
	for i, p := range parts {
		reqs[i] = req(p)
	}
	resp, err := l.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{l.topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("pipeline: lag of %s: list offsets: %w", l.topic, err)
	}
	out := make(map[int]int64, len(parts))
	for _, po := range resp.Topics[l.topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("pipeline: lag of %s/%d: list offsets: %w", l.topic, po.Partition, po.Error)
		}
		if reqs[0].Timestamp == kafka.FirstOffset {
			out[po.Partition] = po.FirstOffset
		} else {
			out[po.Partition] = po.LastOffset
		}
	}
	if len(out) != len(parts) {
		return nil, fmt.Errorf("pipeline: lag of %s: list offsets answered %d of %d partitions", l.topic, len(out), len(parts))
	}
	return out, nil
}

// lagGauge exports the lag of the partitions a member holds: it sets the
// series of those partitions, drops those of partitions it no longer holds,
// counts failed refreshes, and keeps the time of the last good one, whose
// age says how old the exported values are.
type lagGauge struct {
	topic  string
	lag    *prometheus.GaugeVec
	errors prometheus.Counter
	// staleAfter is how long values are kept through failed refreshes;
	// then they are dropped rather than shown as if current.
	staleAfter time.Duration
	log        *slog.Logger

	mu      sync.Mutex
	held    []int     // partitions exported, sorted
	lastOK  time.Time // last good refresh, or when refreshing began
	failing bool
}

// start marks the beginning of refreshing: the age counts from here until
// the first good refresh.
func (g *lagGauge) start(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lastOK = now
}

// age returns how old the exported values are: the time since the last good
// refresh, 0 before refreshing began (or when it is turned off).
func (g *lagGauge) age(now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.lastOK.IsZero() {
		return 0
	}
	return now.Sub(g.lastOK)
}

// update applies one refresh: lag of the held partitions, or err.
func (g *lagGauge) update(now time.Time, lag map[int]int64, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.errors.Inc()
		if !g.failing {
			g.failing = true
			g.log.Warn("consumer lag unavailable; the lag gauge keeps its values until they are stale",
				"error", err, "stale_after", g.staleAfter)
		}
		if len(g.held) > 0 && now.Sub(g.lastOK) > g.staleAfter {
			// Old values would pass for the current lag (it froze at 47 while
			// the real lag was 2,000): no value says "unknown" better.
			g.log.Warn("consumer lag stale; its series are dropped until a refresh succeeds",
				"age", now.Sub(g.lastOK).Round(time.Second))
			g.setHeld(nil)
		}
		return
	}
	if g.failing {
		g.failing = false
		g.log.Info("consumer lag available again", "after", now.Sub(g.lastOK).Round(time.Millisecond))
	}
	g.lastOK = now
	held := slices.Sorted(maps.Keys(lag))
	g.setHeld(held)
	for p, n := range lag {
		g.lag.WithLabelValues(g.topic, strconv.Itoa(p)).Set(float64(n))
	}
}

// setHeld drops the series of partitions in g.held but not in held.
func (g *lagGauge) setHeld(held []int) {
	for _, p := range g.held {
		if _, found := slices.BinarySearch(held, p); !found {
			g.lag.DeleteLabelValues(g.topic, strconv.Itoa(p))
		}
	}
	g.held = held
}

// heldPartitions returns the partitions whose lag is exported.
func (g *lagGauge) heldPartitions() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.held)
}

// loop refreshes g every interval until ctx ends.
func (l *lagReporter) loop(ctx context.Context, interval time.Duration, g *lagGauge) {
	t := time.NewTicker(interval)
	defer t.Stop()
	g.start(time.Now())
	for {
		lag, err := l.ownedLag(ctx, g.heldPartitions())
		if ctx.Err() != nil {
			return
		}
		g.update(time.Now(), lag, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// close releases the idle connections of the lag client.
func (l *lagReporter) close() { l.transport.CloseIdleConnections() }

// errNoBrokers is returned by Lag on a consumer built without brokers.
var errNoBrokers = errors.New("pipeline: consumer lag: no brokers configured")
