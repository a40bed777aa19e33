package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/joingroup"
	"github.com/segmentio/kafka-go/protocol/syncgroup"
)

// staticReader is markwatch's own consumer-group member, built on
// kafka-go's kafka.Client and Transport, with two things kafka-go's
// ConsumerGroup lacks:
//
//   - static membership (KIP-345): it joins with a stable
//     group.instance.id, so that a restart within the session timeout gets
//     its partitions back without a rebalance, and it keeps its member id
//     through coordinator errors (it keeps heartbeating and fetching, where
//     kafka-go's ConsumerGroup ends the generation, drops its member id and
//     joins again as a new member, kafka-go #1215);
//   - incremental cooperative rebalancing (KIP-429, the
//     "cooperative-sticky" protocol, assignor on the client, see
//     stickyAssign): it joins with the partitions it owns, keeps fetching
//     them through the rebalance, and gives up only those the leader takes
//     away. A partition that moves is first revoked by its old owner —
//     fetcher stopped, fetched work finished and committed through the
//     partitionListener — which then joins again, and the new owner gets
//     it in that second rebalance. A coordinator move or a rejoin with
//     unchanged membership revokes nothing.
//
// It fetches each owned partition with its own kafka-go partition Reader,
// so one partition's errors back off alone.
//
// JoinGroup and SyncGroup are sent as raw protocol messages through the
// Transport (which routes them to the coordinator), so that the members'
// metadata bytes, untrusted input from other processes, are decoded by
// decodeSubscription, with its checks, rather than inside kafka-go.
//
// Close does not leave the group: a static member that leaves would lose
// the point of being static. Its partitions move to others only after the
// session timeout, unless it comes back first.
type staticReader struct {
	opts       Options
	instanceID string
	client     *kafka.Client
	transport  *kafka.Transport
	// rt is transport, or the tests' wrapper of it (Options.wrapTransport).
	rt       kafka.RoundTripper
	log      *slog.Logger
	listener partitionListener

	msgs   chan fetched
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// fetchers end with ctx of run; their WaitGroup is waited for at the end.
	fetchers sync.WaitGroup

	mu         sync.Mutex
	memberID   string
	generation int
	protocol   string // of the current generation
	// owned are the partitions this member fetches and may commit,
	// including those being revoked until their work is committed.
	owned map[int]*ownedPartition
	// inTransit: the leader held partitions back in this generation
	// (assignment.inTransit); heartbeats go fast until the next one.
	inTransit bool
	epochs    uint64 // last epoch given to an owned partition
	joined    int64  // generations joined
	// revoked counts partitions given up (lost ones included).
	revoked int64
	// coordinator is the group coordinator's address heartbeats are sent
	// to, from FindCoordinator; nil until found and after a heartbeat
	// fails, so that the next one asks again.
	coordinator net.Addr
}

// ownedPartition is one partition this member fetches.
type ownedPartition struct {
	// epoch tells this ownership from an earlier one of the same
	// partition: messages fetched under an older one are dropped.
	epoch    uint64
	revoking bool
	stop     context.CancelFunc
	stopped  chan struct{}
}

// fetched is one fetch result of a partition fetcher, tagged with the
// ownership it was fetched under.
type fetched struct {
	epoch uint64
	msg   kafka.Message
	err   error
}

// partitionListener is told by a group member which partitions it gains
// and gives up. The Consumer implements it. Calls come from the member's
// goroutine, one at a time.
type partitionListener interface {
	// partitionsAssigned: parts are now fetched, each from the group's
	// committed offset.
	partitionsAssigned(parts []int)
	// partitionsRevoked: parts are being given up; their fetchers have
	// stopped. It returns once the work fetched from them is finished and
	// committed (the member still accepts their commits), or ctx ends;
	// then it forgets them: nothing more of parts is handled or emitted.
	partitionsRevoked(ctx context.Context, parts []int)
	// partitionsLost: parts were taken away with no chance to commit (the
	// member was dropped from the group): forget them at once.
	partitionsLost(parts []int)
	// generationJoined: the member is in a new generation.
	generationJoined(generation int)
}

// staticRebalanceTimeout is how long the coordinator waits for members to
// join during a rebalance (kafka-go's default).
const staticRebalanceTimeout = 30 * time.Second

// fastHeartbeat is the heartbeat interval while partitions are in
// transit (see assignment.inTransit).
const fastHeartbeat = 100 * time.Millisecond

// requestTimeout bounds the member's requests other than JoinGroup and
// SyncGroup.
const requestTimeout = 5 * time.Second

// newStaticReader builds a member; start begins joining the group.
// listener may be nil, or set later by listen, before start.
func newStaticReader(opts Options, clientID string, log *slog.Logger, listener partitionListener) *staticReader {
	t := &kafka.Transport{ClientID: clientID}
	var rt kafka.RoundTripper = t
	if opts.wrapTransport != nil {
		rt = opts.wrapTransport(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &staticReader{
		opts: opts, instanceID: opts.GroupInstanceID, transport: t, rt: rt, listener: listener,
		client: &kafka.Client{Addr: kafka.TCP(opts.Brokers...), Timeout: requestTimeout, Transport: rt},
		log:    log.With("component", "group_member", "group_instance_id", opts.GroupInstanceID),
		msgs:   make(chan fetched, 256),
		ctx:    ctx, cancel: cancel, done: make(chan struct{}),
		owned: map[int]*ownedPartition{},
	}
}

// start joins the group in the background, until Close.
func (r *staticReader) start() { go r.run() }

// listen makes staticReader an assigningReader; call it before start.
func (r *staticReader) listen(l partitionListener) { r.listener = l }

// errRejoin asks run to join again at once: partitions were revoked, and
// the rebalance that hands them over has to be started.
var errRejoin = errors.New("partitions revoked; joining again to hand them over")

// run joins, fetches and heartbeats until Close, joining again whenever
// the coordinator asks for it. Fetchers of kept partitions run on through
// every rejoin.
func (r *staticReader) run() {
	defer close(r.done)
	// Every fetcher runs under r.ctx, which Close cancels.
	defer r.fetchers.Wait()
	backoff := Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}
	for attempt := 0; r.ctx.Err() == nil; {
		if r.currentProtocol() == protocolRange {
			// Eager: a member that does not speak cooperative-sticky is in
			// the group, and its leader may hand our partitions to others
			// in the next generation: give them all up before joining.
			r.revoke(r.ownedParts())
		}
		gen, parts, err := r.join(r.ctx)
		if err != nil {
			if r.ctx.Err() != nil {
				return
			}
			r.onMembershipError(err)
			d := backoff.Delay(attempt)
			attempt++
			// One failed sync is routine: a member joining meanwhile ends
			// the generation being synced.
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
		err = r.apply(gen, parts)
		if err == nil {
			err = r.heartbeat(r.ctx, gen)
		}
		if r.ctx.Err() != nil {
			return
		}
		r.onMembershipError(err)
		if !errors.Is(err, errRejoin) {
			r.log.Info("group rebalancing; joining again", "reason", err)
		}
	}
}

// onMembershipError reacts to an error of the coordinator about this
// member: a member the coordinator no longer knows, or whose instance id
// another process took, has lost its partitions (others may hold them
// now), so they are dropped without a commit.
func (r *staticReader) onMembershipError(err error) {
	switch {
	case errors.Is(err, kafka.UnknownMemberId):
		// Silent beyond the session timeout: join as a new member.
		r.setMember("")
		r.lose("member unknown to the coordinator")
	case errors.Is(err, kafka.IllegalGeneration):
		r.lose("generation ended without this member")
	case errors.Is(err, kafka.FencedInstanceID):
		r.lose("group.instance.id taken by another process")
		r.log.Error("another process uses this group.instance.id; set a distinct kafka.group_instance_id per detector", "error", err)
		wait(r.ctx, r.opts.SessionTimeout)
	}
}

// apply makes the owned partitions those of the assignment: revokes what
// is no longer assigned (then asks for the rejoin that hands it over) and
// starts fetching what is new.
func (r *staticReader) apply(gen int, parts []int) error {
	owned := r.ownedParts()
	revoked := difference(owned, parts)
	added := difference(parts, owned)
	r.log.Info("group joined", "generation", gen, "partitions", parts, "revoked", revoked, "assigned", added)
	if len(revoked) > 0 {
		r.revoke(revoked)
		if r.currentProtocol() == protocolCooperative {
			return errRejoin
		}
	}
	if len(added) == 0 {
		return nil
	}
	if err := r.startFetchers(added); err != nil {
		// Not owned, so not claimed at the next join: the leader hands
		// them out again.
		r.log.Warn("reading committed offsets failed; joining again", "error", err)
		wait(r.ctx, 100*time.Millisecond)
		return fmt.Errorf("start fetching: %w", err)
	}
	return nil
}

// join runs JoinGroup, claiming the owned partitions, and SyncGroup
// (assigning partitions when leader), and returns the generation and this
// member's partitions.
func (r *staticReader) join(ctx context.Context) (int, []int, error) {
	r.mu.Lock()
	member, claimGen := r.memberID, int32(r.generation)
	var claim []int32
	for p, o := range r.owned {
		if !o.revoking {
			claim = append(claim, int32(p))
		}
	}
	r.mu.Unlock()
	if len(claim) == 0 {
		claimGen = noGeneration
	}
	sub := encodeSubscription([]string{r.opts.Topic}, map[string][]int32{r.opts.Topic: claim}, claimGen)
	req := &joingroup.Request{
		GroupID: r.opts.GroupID, SessionTimeoutMS: int32(r.opts.SessionTimeout.Milliseconds()),
		RebalanceTimeoutMS: int32(staticRebalanceTimeout.Milliseconds()),
		MemberID:           member, GroupInstanceID: r.instanceID, ProtocolType: "consumer",
		Protocols: []joingroup.RequestProtocol{
			{Name: protocolCooperative, Metadata: sub},
			{Name: protocolRange, Metadata: encodeRangeSubscription([]string{r.opts.Topic})},
		},
	}
	jr, err := r.joinGroup(ctx, req)
	if errors.Is(err, kafka.MemberIDRequired) && jr != nil {
		// KIP-394: the first join of a member without an id is answered
		// with its id, to be sent back.
		req.MemberID = jr.MemberID
		jr, err = r.joinGroup(ctx, req)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("join group %s: %w", r.opts.GroupID, err)
	}
	r.setMember(jr.MemberID)
	var assignments []syncgroup.RequestAssignment
	if jr.LeaderID == jr.MemberID && len(jr.Members) > 0 {
		if assignments, err = r.assign(ctx, jr.ProtocolName, jr.Members); err != nil {
			return 0, nil, err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, staticRebalanceTimeout+requestTimeout)
	defer cancel()
	m, err := r.rt.RoundTrip(sctx, r.client.Addr, &syncgroup.Request{
		GroupID: r.opts.GroupID, GenerationID: jr.GenerationID, MemberID: jr.MemberID, GroupInstanceID: r.instanceID,
		ProtocolType: "consumer", ProtocolName: jr.ProtocolName, Assignments: assignments,
	})
	var a assignment
	if err == nil {
		sr := m.(*syncgroup.Response)
		if err = errorCode(sr.ErrorCode); err == nil {
			a, err = decodeAssignment(sr.Assignments)
		}
	}
	if err != nil {
		return 0, nil, fmt.Errorf("sync group %s generation %d: %w", r.opts.GroupID, jr.GenerationID, err)
	}
	parts := make([]int, 0, len(a.Partitions[r.opts.Topic]))
	for _, p := range a.Partitions[r.opts.Topic] {
		parts = append(parts, int(p))
	}
	parts = slices.Compact(slices.Sorted(slices.Values(parts)))
	r.mu.Lock()
	r.generation, r.protocol, r.inTransit = int(jr.GenerationID), jr.ProtocolName, a.inTransit()
	r.joined++
	r.mu.Unlock()
	if r.listener != nil {
		r.listener.generationJoined(int(jr.GenerationID))
	}
	return int(jr.GenerationID), parts, nil
}

// joinGroup sends one JoinGroup; the answer comes when the rebalance is
// over, up to the rebalance timeout. The answer is returned with its
// error, for MemberIDRequired.
func (r *staticReader) joinGroup(ctx context.Context, req *joingroup.Request) (*joingroup.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, staticRebalanceTimeout+requestTimeout)
	defer cancel()
	m, err := r.rt.RoundTrip(ctx, r.client.Addr, req)
	if err != nil {
		return nil, err
	}
	jr := m.(*joingroup.Response)
	return jr, errorCode(jr.ErrorCode)
}

// errorCode turns a Kafka error code into an error, nil for 0.
func errorCode(code int16) error {
	if code == 0 {
		return nil
	}
	return kafka.Error(code)
}

// assign computes every member's assignment as the leader: cooperative
// sticky (stickyAssign), or range by instance id when the group chose
// range. A member whose metadata does not decode, or that does not
// subscribe to the topic, gets nothing and owns nothing.
func (r *staticReader) assign(ctx context.Context, protocolName string, raw []joingroup.ResponseMember) ([]syncgroup.RequestAssignment, error) {
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
	members := make([]groupMember, 0, len(raw))
	for _, m := range raw {
		sub, err := decodeSubscription(m.Metadata)
		if err != nil {
			r.log.Warn("a member's group metadata does not decode; it gets no partitions", "member_id", m.MemberID,
				"member_instance_id", m.GroupInstanceID, "error", err)
			continue
		}
		if !slices.Contains(sub.Topics, r.opts.Topic) {
			r.log.Warn("a member does not subscribe to the topic; it gets no partitions", "member_id", m.MemberID, "topics", sub.Topics)
			continue
		}
		gm := groupMember{ID: m.MemberID, InstanceID: m.GroupInstanceID, Generation: sub.Generation}
		for _, p := range sub.Owned[r.opts.Topic] {
			gm.Owned = append(gm.Owned, int(p))
		}
		members = append(members, gm)
	}
	var byMember map[string][]int
	if protocolName == protocolRange {
		byMember = rangeAssign(members, parts)
	} else {
		byMember = stickyAssign(members, parts)
	}
	given := 0
	for _, ps := range byMember {
		given += len(ps)
	}
	inTransit := given < len(parts)
	out := make([]syncgroup.RequestAssignment, 0, len(raw))
	for _, m := range raw {
		ps := make([]int32, 0, len(byMember[m.MemberID]))
		for _, p := range byMember[m.MemberID] {
			ps = append(ps, int32(p))
		}
		out = append(out, syncgroup.RequestAssignment{MemberID: m.MemberID, Assignment: encodeAssignment(map[string][]int32{r.opts.Topic: ps}, inTransit)})
	}
	r.log.Info("assigned the group's partitions as leader", "protocol", protocolName, "members", len(members),
		"assignment", byMember, "in_transit", len(parts)-given)
	return out, nil
}

// rangeAssign gives each member a contiguous range of parts, members in
// the order of their instance ids (member ids for dynamic members), so
// that the same members get the same partitions every time: len/n each,
// the first len%n members one more.
func rangeAssign(members []groupMember, parts []int) map[string][]int {
	ms := slices.SortedFunc(slices.Values(members), func(a, b groupMember) int {
		if c := compareStrings(a.key(), b.key()); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	parts = slices.Sorted(slices.Values(parts))
	out := make(map[string][]int, len(ms))
	if len(ms) == 0 {
		return out
	}
	each, extra, next := len(parts)/len(ms), len(parts)%len(ms), 0
	for i, m := range ms {
		n := each
		if i < extra {
			n++
		}
		out[m.ID] = slices.Clone(parts[next : next+n])
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
// committed offset (the first offset where none), and tells the listener.
func (r *staticReader) startFetchers(parts []int) error {
	octx, cancel := context.WithTimeout(r.ctx, requestTimeout)
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
	// The listener first: a message of a new partition must find it known.
	if r.listener != nil {
		r.listener.partitionsAssigned(parts)
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
			_ = pr.Close() // an error here is a bug (a negative offset), not I/O
			continue
		}
		ctx, stop := context.WithCancel(r.ctx)
		r.mu.Lock()
		r.epochs++
		o := &ownedPartition{epoch: r.epochs, stop: stop, stopped: make(chan struct{})}
		r.owned[p] = o
		r.mu.Unlock()
		r.fetchers.Go(func() {
			defer close(o.stopped)
			defer pr.Close()
			for {
				m, err := pr.FetchMessage(ctx)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					m = kafka.Message{Topic: r.opts.Topic, Partition: p}
				}
				select {
				case r.msgs <- fetched{epoch: o.epoch, msg: m, err: err}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	return nil
}

// stopFetchers stops the fetchers of parts and waits for them.
func (r *staticReader) stopFetchers(parts []int) {
	r.mu.Lock()
	var stopped []chan struct{}
	for _, p := range parts {
		if o := r.owned[p]; o != nil {
			o.revoking = true
			o.stop()
			stopped = append(stopped, o.stopped)
		}
	}
	r.mu.Unlock()
	for _, s := range stopped {
		<-s
	}
}

// revoke gives parts up: stops their fetchers, lets the listener finish
// and commit their work (bounded by half the session timeout, so that the
// member is back to the coordinator before it is counted dead, and by
// DrainTimeout), then forgets them.
func (r *staticReader) revoke(parts []int) {
	if len(parts) == 0 {
		return
	}
	start := time.Now()
	r.stopFetchers(parts)
	if r.listener != nil {
		ctx, cancel := context.WithTimeout(r.ctx, min(r.opts.SessionTimeout/2, r.opts.DrainTimeout))
		r.listener.partitionsRevoked(ctx, parts)
		cancel()
	}
	r.forget(parts)
	r.mu.Lock()
	r.revoked += int64(len(parts))
	r.mu.Unlock()
	r.log.Info("partitions revoked", "partitions", parts, "took", time.Since(start).Round(time.Millisecond))
}

// lose drops every owned partition without committing (see
// partitionListener.partitionsLost).
func (r *staticReader) lose(why string) {
	parts := r.ownedParts()
	if len(parts) == 0 {
		return
	}
	r.stopFetchers(parts)
	if r.listener != nil {
		r.listener.partitionsLost(parts)
	}
	r.forget(parts)
	r.mu.Lock()
	r.revoked += int64(len(parts))
	r.mu.Unlock()
	r.log.Warn("partitions lost; their uncommitted work is delivered again to their next owner", "partitions", parts, "reason", why)
}

func (r *staticReader) forget(parts []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range parts {
		delete(r.owned, p)
	}
}

// heartbeat beats every HeartbeatInterval until the coordinator asks for
// a new join (the error says why) or ctx ends. Coordinator errors and
// unreachable brokers are not a reason to join again: the member id and
// the partitions stay, fetching goes on, and the next beat finds the new
// coordinator.
func (r *staticReader) heartbeat(ctx context.Context, gen int) error {
	r.mu.Lock()
	fast := r.inTransit
	r.mu.Unlock()
	interval := r.opts.HeartbeatInterval
	// While partitions are in transit the next rebalance is near: beat
	// fast to join it at once, but not for longer than a session timeout
	// (a revoking member that died never starts it).
	fastUntil := time.Now().Add(r.opts.SessionTimeout)
	if fast {
		interval = min(interval, fastHeartbeat)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var failingSince time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if fast && time.Now().After(fastUntil) {
			fast = false
			t.Reset(r.opts.HeartbeatInterval)
		}
		r.mu.Lock()
		member := r.memberID
		r.mu.Unlock()
		hctx, cancel := context.WithTimeout(ctx, requestTimeout)
		coord, err := r.findCoordinator(hctx)
		var resp *kafka.HeartbeatResponse
		if err == nil {
			// kafka-go routes JoinGroup, SyncGroup and OffsetCommit to
			// the coordinator, but not Heartbeat (its request has no
			// Group method): it would go to whichever broker the
			// control connection is on and be answered NOT_COORDINATOR,
			// so only commits would keep an idle member in the group.
			resp, err = r.client.Heartbeat(hctx, &kafka.HeartbeatRequest{
				Addr: coord, GroupID: r.opts.GroupID, GenerationID: int32(gen), MemberID: member, GroupInstanceID: r.instanceID,
			})
		}
		cancel()
		if err == nil {
			err = heartbeatError(resp)
		}
		if err != nil {
			r.forgetCoordinator()
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

// findCoordinator returns the group coordinator's address, asking a
// broker for it when none is known.
func (r *staticReader) findCoordinator(ctx context.Context) (net.Addr, error) {
	r.mu.Lock()
	coord := r.coordinator
	r.mu.Unlock()
	if coord != nil {
		return coord, nil
	}
	resp, err := r.client.FindCoordinator(ctx, &kafka.FindCoordinatorRequest{
		Key: r.opts.GroupID, KeyType: kafka.CoordinatorKeyTypeConsumer,
	})
	if err == nil {
		err = resp.Error
	}
	if err != nil {
		return nil, fmt.Errorf("find the group coordinator: %w", err)
	}
	if resp.Coordinator == nil || resp.Coordinator.Host == "" {
		return nil, fmt.Errorf("find the group coordinator: %w", kafka.GroupCoordinatorNotAvailable)
	}
	coord = kafka.TCP(net.JoinHostPort(resp.Coordinator.Host, strconv.Itoa(resp.Coordinator.Port)))
	r.mu.Lock()
	r.coordinator = coord
	r.mu.Unlock()
	return coord, nil
}

// forgetCoordinator makes the next heartbeat find the coordinator again.
func (r *staticReader) forgetCoordinator() {
	r.mu.Lock()
	r.coordinator = nil
	r.mu.Unlock()
}

func (r *staticReader) setMember(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.memberID = id
}

func (r *staticReader) currentProtocol() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.protocol
}

// ownedParts returns the owned partitions, sorted.
func (r *staticReader) ownedParts() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.owned))
}

// current returns the generation, member id and owned partitions (those
// being revoked included).
func (r *staticReader) current() (int, string, []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.generation, r.memberID, slices.Sorted(maps.Keys(r.owned))
}

// FetchMessage returns the next message of an owned partition (or a
// partition's fetch error); io.EOF once closed. Messages of a partition
// revoked since they were fetched are dropped.
func (r *staticReader) FetchMessage(ctx context.Context) (kafka.Message, error) {
	for {
		select {
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		case <-r.done:
			return kafka.Message{}, io.EOF
		case f := <-r.msgs:
			r.mu.Lock()
			o := r.owned[f.msg.Partition]
			live := o != nil && o.epoch == f.epoch && !o.revoking
			r.mu.Unlock()
			if !live {
				continue
			}
			return f.msg, f.err
		}
	}
}

// CommitMessages commits offset+1 of each message's partition, for the
// partitions this member owns (being revoked included) in the current
// generation; others are skipped, as their new owner commits them.
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

// revokedCount returns how many partitions this member gave up so far
// (lost ones included).
func (r *staticReader) revokedCount() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.revoked
}

// joins returns the generations joined so far.
func (r *staticReader) joins() int64 {
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

// difference returns the elements of a not in b; both sorted.
func difference(a, b []int) []int {
	var out []int
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
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
