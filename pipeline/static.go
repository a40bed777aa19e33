package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// staticReader is a consumer-group member with static membership
// (KIP-345), built on kafka.Client: it joins with a stable group.instance.id,
// so that a restart within the session timeout gets its partitions back
// without a rebalance, and it keeps its member id through coordinator
// errors (it keeps heartbeating and fetching, where kafka-go's
// ConsumerGroup ends the generation, drops its member id and joins again
// as a new member, kafka-go #1215). It fetches each assigned partition with
// its own kafka-go partition Reader, so one partition's errors back off
// alone. Assignment is range, computed by the leader.
//
// Close does not leave the group: a static member that leaves would lose
// the point of being static. Its partitions move to others only after the
// session timeout, unless it comes back first.
type staticReader struct {
	opts       Options
	instanceID string
	client     *kafka.Client
	transport  *kafka.Transport
	log        *slog.Logger

	msgs   chan fetched
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	memberID   string
	generation int
	held       []int // partitions of the current generation, sorted
	joined     int64 // generations joined, the Rebalances total
}

// fetched is one fetch result of a partition fetcher, tagged with the
// generation it was fetched for.
type fetched struct {
	gen int
	msg kafka.Message
	err error
}

// staticRebalanceTimeout is how long the coordinator waits for members to
// join during a rebalance (kafka-go's default).
const staticRebalanceTimeout = 30 * time.Second

// requestTimeout bounds the member's requests other than JoinGroup and
// SyncGroup.
const requestTimeout = 5 * time.Second

// newStaticReader starts joining the group in the background.
func newStaticReader(opts Options, clientID string, log *slog.Logger) *staticReader {
	t := &kafka.Transport{ClientID: clientID}
	ctx, cancel := context.WithCancel(context.Background())
	r := &staticReader{
		opts: opts, instanceID: opts.GroupInstanceID, transport: t,
		// JoinGroup and SyncGroup are answered when the rebalance is over,
		// up to the rebalance timeout: a shorter client timeout would give
		// up on a join the coordinator still counts. Other requests take
		// requestTimeout.
		client: &kafka.Client{Addr: kafka.TCP(opts.Brokers...), Timeout: staticRebalanceTimeout + 5*time.Second, Transport: t},
		log:    log.With("component", "group_member", "group_instance_id", opts.GroupInstanceID),
		msgs:   make(chan fetched, 256),
		ctx:    ctx, cancel: cancel, done: make(chan struct{}),
	}
	go r.run()
	return r
}

// run joins, fetches and heartbeats until Close, joining again whenever
// the coordinator asks for it.
func (r *staticReader) run() {
	defer close(r.done)
	backoff := Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}
	for attempt := 0; r.ctx.Err() == nil; {
		gen, parts, err := r.join(r.ctx)
		if err != nil {
			if r.ctx.Err() != nil {
				return
			}
			if errors.Is(err, kafka.UnknownMemberId) {
				r.setMember("")
			}
			d := backoff.Delay(attempt)
			attempt++
			// One failed sync is routine: a member joining meanwhile ends
			// the generation being synced (kafka-go reports that answer
			// as an unexpected EOF).
			level := slog.LevelInfo
			if attempt >= 3 {
				level = slog.LevelWarn
			}
			r.log.Log(r.ctx, level, "joining the group failed; retrying", "error", err, "attempt", attempt, "delay", d)
			if !wait(r.ctx, d) {
				return
			}
			continue
		}
		attempt = 0
		r.log.Info("group joined", "generation", gen, "partitions", parts)
		fctx, stop := context.WithCancel(r.ctx)
		var fetchers sync.WaitGroup
		if err := r.startFetchers(fctx, &fetchers, gen, parts); err != nil {
			r.log.Warn("reading committed offsets failed; joining again", "error", err)
			stop()
			fetchers.Wait()
			wait(r.ctx, backoff.Delay(0))
			continue
		}
		err = r.heartbeat(r.ctx, gen)
		stop()
		fetchers.Wait()
		switch {
		case r.ctx.Err() != nil:
			return
		case errors.Is(err, kafka.UnknownMemberId):
			// The coordinator forgot us (silent beyond the session
			// timeout): join as a new member.
			r.setMember("")
		case errors.Is(err, kafka.FencedInstanceID):
			r.log.Error("another process uses this group.instance.id; set a distinct kafka.group_instance_id per detector", "error", err)
			wait(r.ctx, r.opts.SessionTimeout)
		}
		r.log.Info("group rebalancing; joining again", "reason", err)
	}
}

// join runs JoinGroup and SyncGroup (assigning partitions when leader) and
// returns the generation and this member's partitions.
func (r *staticReader) join(ctx context.Context) (int, []int, error) {
	r.mu.Lock()
	member := r.memberID
	r.mu.Unlock()
	req := &kafka.JoinGroupRequest{
		GroupID: r.opts.GroupID, SessionTimeout: r.opts.SessionTimeout, RebalanceTimeout: staticRebalanceTimeout,
		MemberID: member, GroupInstanceID: r.instanceID, ProtocolType: "consumer",
		Protocols: []kafka.GroupProtocol{{Name: "range", Metadata: kafka.GroupProtocolSubscription{Topics: []string{r.opts.Topic}}}},
	}
	jr, err := r.client.JoinGroup(ctx, req)
	if err == nil {
		err = jr.Error
	}
	if errors.Is(err, kafka.MemberIDRequired) && jr != nil {
		// KIP-394: the first join of a member without an id is answered
		// with its id, to be sent back.
		req.MemberID = jr.MemberID
		if jr, err = r.client.JoinGroup(ctx, req); err == nil {
			err = jr.Error
		}
	}
	if err != nil {
		return 0, nil, fmt.Errorf("join group %s: %w", r.opts.GroupID, err)
	}
	r.setMember(jr.MemberID)
	var assignments []kafka.SyncGroupRequestAssignment
	if jr.LeaderID == jr.MemberID && len(jr.Members) > 0 {
		if assignments, err = r.assign(ctx, jr.Members); err != nil {
			return 0, nil, err
		}
	}
	sr, err := r.client.SyncGroup(ctx, &kafka.SyncGroupRequest{
		GroupID: r.opts.GroupID, GenerationID: jr.GenerationID, MemberID: jr.MemberID, GroupInstanceID: r.instanceID,
		ProtocolType: "consumer", ProtocolName: jr.ProtocolName, Assignments: assignments,
	})
	if err == nil {
		err = sr.Error
	}
	if err != nil {
		return 0, nil, fmt.Errorf("sync group %s generation %d: %w", r.opts.GroupID, jr.GenerationID, err)
	}
	parts := slices.Sorted(slices.Values(sr.Assignment.AssignedPartitions[r.opts.Topic]))
	r.mu.Lock()
	r.generation, r.held = jr.GenerationID, parts
	r.joined++
	r.mu.Unlock()
	return jr.GenerationID, parts, nil
}

// assign spreads the topic's partitions over members by range, members in
// the order of their instance ids (member ids for dynamic members), so that
// the same members get the same partitions every time.
func (r *staticReader) assign(ctx context.Context, members []kafka.JoinGroupResponseMember) ([]kafka.SyncGroupRequestAssignment, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	meta, err := r.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{r.opts.Topic}})
	if err != nil {
		return nil, fmt.Errorf("assign: metadata of %s: %w", r.opts.Topic, err)
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Name == r.opts.Topic && t.Error == nil {
			for _, p := range t.Partitions {
				parts = append(parts, p.ID)
			}
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("assign: topic %s has no partitions", r.opts.Topic)
	}
	return rangeAssign(members, slices.Sorted(slices.Values(parts)), r.opts.Topic), nil
}

// rangeAssign gives each member a contiguous range of parts: len/n each,
// the first len%n members one more.
func rangeAssign(members []kafka.JoinGroupResponseMember, parts []int, topic string) []kafka.SyncGroupRequestAssignment {
	key := func(m kafka.JoinGroupResponseMember) string {
		if m.GroupInstanceID != "" {
			return m.GroupInstanceID
		}
		return m.ID
	}
	ms := slices.SortedFunc(slices.Values(members), func(a, b kafka.JoinGroupResponseMember) int {
		if c := compareStrings(key(a), key(b)); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	out := make([]kafka.SyncGroupRequestAssignment, len(ms))
	each, extra, next := len(parts)/len(ms), len(parts)%len(ms), 0
	for i, m := range ms {
		n := each
		if i < extra {
			n++
		}
		out[i] = kafka.SyncGroupRequestAssignment{MemberID: m.ID, Assignment: kafka.GroupProtocolAssignment{
			AssignedPartitions: map[string][]int{topic: slices.Clone(parts[next : next+n])},
		}}
		next += n
	}
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// startFetchers starts one partition Reader per part at the group's
// committed offset (the first offset where none).
func (r *staticReader) startFetchers(ctx context.Context, wg *sync.WaitGroup, gen int, parts []int) error {
	if len(parts) == 0 {
		return nil
	}
	octx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := r.client.OffsetFetch(octx, &kafka.OffsetFetchRequest{GroupID: r.opts.GroupID, Topics: map[string][]int{r.opts.Topic: parts}})
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		return fmt.Errorf("committed offsets of %s: %w", r.opts.GroupID, err)
	}
	committed := map[int]int64{}
	for _, p := range resp.Topics[r.opts.Topic] {
		if p.Error != nil {
			return fmt.Errorf("committed offset of %s/%d: %w", r.opts.Topic, p.Partition, p.Error)
		}
		committed[p.Partition] = p.CommittedOffset
	}
	errLog := KafkaLogger(r.log.With("component", "kafka_reader"))
	for _, p := range parts {
		offset, ok := committed[p]
		if !ok || offset < 0 {
			offset = kafka.FirstOffset
		}
		pr := kafka.NewReader(kafka.ReaderConfig{
			Brokers: r.opts.Brokers, Topic: r.opts.Topic, Partition: p, MaxWait: r.opts.MaxWait,
			ReadBackoffMin: 100 * time.Millisecond, ReadBackoffMax: time.Second, ErrorLogger: errLog,
		})
		if err := pr.SetOffset(offset); err != nil {
			_ = pr.Close()
			return fmt.Errorf("start %s/%d at %d: %w", r.opts.Topic, p, offset, err)
		}
		wg.Go(func() {
			defer pr.Close()
			for {
				m, err := pr.FetchMessage(ctx)
				if ctx.Err() != nil {
					return
				}
				select {
				case r.msgs <- fetched{gen: gen, msg: m, err: err}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	return nil
}

// heartbeat beats every HeartbeatInterval until the coordinator asks for
// a new join (the error says why) or ctx ends. Coordinator errors and
// unreachable brokers are not a reason to join again: the member id and
// the partitions stay, fetching goes on, and the next beat finds the new
// coordinator.
func (r *staticReader) heartbeat(ctx context.Context, gen int) error {
	t := time.NewTicker(r.opts.HeartbeatInterval)
	defer t.Stop()
	var failingSince time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		r.mu.Lock()
		member := r.memberID
		r.mu.Unlock()
		hctx, cancel := context.WithTimeout(ctx, requestTimeout)
		resp, err := r.client.Heartbeat(hctx, &kafka.HeartbeatRequest{
			GroupID: r.opts.GroupID, GenerationID: int32(gen), MemberID: member, GroupInstanceID: r.instanceID,
		})
		cancel()
		if err == nil {
			err = heartbeatError(resp)
		}
		switch {
		case err == nil:
			if !failingSince.IsZero() {
				r.log.Info("heartbeats answered again; membership kept", "after", time.Since(failingSince).Round(time.Millisecond))
				failingSince = time.Time{}
			}
		case errors.Is(err, kafka.RebalanceInProgress), errors.Is(err, kafka.IllegalGeneration),
			errors.Is(err, kafka.UnknownMemberId), errors.Is(err, kafka.FencedInstanceID):
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			if failingSince.IsZero() {
				failingSince = time.Now()
				r.log.Warn("heartbeat failed; keeping the member id and the partitions", "error", err)
			}
		}
	}
}

func (r *staticReader) setMember(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.memberID = id
}

// current returns the generation, member id and partitions.
func (r *staticReader) current() (int, string, []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.generation, r.memberID, r.held
}

// FetchMessage returns the next message of the current generation (or a
// partition's fetch error); io.EOF once closed.
func (r *staticReader) FetchMessage(ctx context.Context) (kafka.Message, error) {
	for {
		select {
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		case <-r.done:
			return kafka.Message{}, io.EOF
		case f := <-r.msgs:
			if gen, _, _ := r.current(); f.gen != gen {
				continue // fetched for a generation that is over
			}
			return f.msg, f.err
		}
	}
}

// CommitMessages commits offset+1 of each message's partition, for the
// partitions this member holds in the current generation; others are
// skipped, as their new owner commits them.
func (r *staticReader) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	gen, member, held := r.current()
	offsets := map[string][]kafka.OffsetCommit{}
	for _, m := range msgs {
		if _, ok := slices.BinarySearch(held, m.Partition); !ok {
			continue
		}
		offsets[m.Topic] = append(offsets[m.Topic], kafka.OffsetCommit{Partition: m.Partition, Offset: m.Offset + 1})
	}
	if len(offsets) == 0 {
		return nil
	}
	resp, err := r.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{
		GroupID: r.opts.GroupID, GenerationID: gen, MemberID: member, InstanceID: r.instanceID, Topics: offsets,
	})
	if err != nil {
		return fmt.Errorf("commit generation %d: %w", gen, err)
	}
	for topic, ps := range resp.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return fmt.Errorf("commit %s/%d generation %d: %w", topic, p.Partition, gen, p.Error)
			}
		}
	}
	return nil
}

// Rebalances returns the generations joined so far.
func (r *staticReader) Rebalances() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joined
}

// Close stops fetching and heartbeating without leaving the group (see
// staticReader).
func (r *staticReader) Close() error {
	r.cancel()
	<-r.done
	r.transport.CloseIdleConnections()
	return nil
}

// heartbeatError returns the error of a Heartbeat answer. kafka-go v0.4.51
// decodes Heartbeat responses v1+ with its fields swapped (ErrorCode before
// ThrottleTimeMs; Kafka sends the throttle first), so Error is always nil
// and the error code lands in the low 16 bits of Throttle, in
// milliseconds. Without this a member never learns of a rebalance and the
// coordinator waits the whole rebalance timeout for it. A real throttle is
// 0 on a heartbeat in practice; the codes read back are only those that
// end a generation.
func heartbeatError(resp *kafka.HeartbeatResponse) error {
	if resp.Error != nil {
		return resp.Error
	}
	switch code := kafka.Error(int16(resp.Throttle.Milliseconds() & 0xffff)); code {
	case kafka.RebalanceInProgress, kafka.IllegalGeneration, kafka.UnknownMemberId, kafka.FencedInstanceID,
		kafka.NotCoordinatorForGroup, kafka.GroupCoordinatorNotAvailable, kafka.GroupLoadInProgress:
		return code
	}
	return nil
}
