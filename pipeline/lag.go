package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// lagReporter computes the group's lag from the broker's committed and end
// offsets, for the whole topic: kafka-go's group Reader does not say which
// partitions it holds, and Reader.Lag is -1 for groups.
type lagReporter struct {
	group, topic string
	transport    *kafka.Transport
	client       *kafka.Client
}

func newLagReporter(brokers []string, group, topic string) *lagReporter {
	t := &kafka.Transport{}
	return &lagReporter{
		group: group, topic: topic, transport: t,
		client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second, Transport: t},
	}
}

// lag returns end offset minus committed offset per partition; where the
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

// loop refreshes gauge every interval until ctx ends. A failed refresh
// keeps the previous values and is logged once per run of failures.
func (l *lagReporter) loop(ctx context.Context, interval time.Duration, gauge *prometheus.GaugeVec, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		lag, err := l.lag(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			failing = true
			log.Warn("consumer lag unavailable", "error", err)
		case err == nil:
			failing = false
			for p, n := range lag {
				gauge.WithLabelValues(l.topic, strconv.Itoa(p)).Set(float64(n))
			}
		}
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
