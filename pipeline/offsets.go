package pipeline

import (
	"maps"
	"slices"
	"sort"
	"sync"
)

// offsetToken identifies one fetched message in the tracker. A token whose
// entry was superseded (the partition was re-delivered from an earlier
// offset) no longer matches anything, so finishing it changes nothing.
type offsetToken struct {
	partition int
	offset    int64
	epoch     uint64
}

// offsetEntry is one fetched message of a partition.
type offsetEntry struct {
	offset int64
	epoch  uint64
	done   bool
}

// partitionOffsets tracks one partition: the messages fetched and not yet
// passed by the commit point, in fetch order (which is offset order).
//
// "Contiguous" means contiguous in fetch order, not offset+1: offsets of a
// compacted topic, or around transaction markers, have gaps, and the next
// message the reader hands out is the next one that exists.
type partitionOffsets struct {
	entries []offsetEntry // fetched, not yet below the commit point; offsets increasing
	epoch   uint64        // bumped on every re-delivery (rewind)

	fetched     bool  // lastFetched is set
	lastFetched int64 // highest offset fetched in the current epoch

	// finished is the offset of the last message of the contiguous finished
	// prefix (removed from entries), or -1 when there is none yet.
	finished int64
	// committed is the offset last committed (its message's offset; Kafka
	// stores committed+1), or -1. Commits never go below it.
	committed int64

	// fenced: a rebalance happened since the entries were fetched, and this
	// member may no longer own the partition. Nothing is committed for a
	// fenced partition until a message fetched after the rebalance shows
	// the reader still reads it (see the package documentation).
	fenced bool

	// base is the first epoch of this ownership of the partition (see
	// assign): a token of an earlier ownership is not live.
	base uint64
	// revoking: the partition is being given up (see revoking); no new
	// message of it is taken.
	revoking bool
}

// offsetTracker keeps, per partition, which fetched messages are finished,
// and computes the highest contiguous finished offset to commit: with
// parallel workers message 12 can finish before 10, and committing 12 would
// lose 10 on a crash. Like Jaeger's ingester offset manager, but keyed by
// fetch order and aware of kafka-go's re-deliveries after rebalances.
// It is safe for concurrent use.
type offsetTracker struct {
	mu         sync.Mutex
	topic      string
	partitions map[int]*partitionOffsets
	rebalances int64 // reader's rebalance count when last looked at
	inFlight   int   // entries not done, across partitions and epochs
	// epochs is the last epoch given out, over all partitions, so that an
	// epoch is never reused when a partition is released and assigned
	// again.
	epochs uint64
	// assigned: the reader says which partitions it owns (assign,
	// revoking, release); messages of other partitions are refused.
	// Otherwise partitions are tracked as their messages arrive.
	assigned bool
}

func newOffsetTracker(topic string) *offsetTracker {
	return &offsetTracker{topic: topic, partitions: map[int]*partitionOffsets{}}
}

// add records a fetched message and returns its token.
//
// rebalances is the reader's rebalance count (see rebalanceCounter) read
// right after FetchMessage returned msg. If it grew, every partition is
// fenced first (observeRebalances); then msg unfences its own partition.
// That is sound because of how kafka-go's Reader changes generations: the
// old generation's partition readers are stopped before the new generation
// is joined, the rebalance is counted, and only then are the new readers
// started under a new version, and FetchMessage drops buffered messages of
// an older version. So a message received after the count grew was read
// for the new generation, which proves this member still owns its
// partition; a message of the old generation was received before the
// rejoin began, and reading the count right after it beats a whole
// JoinGroup/SyncGroup exchange.
//
// An offset at or below the last one fetched on its partition means the
// reader went back: kafka-go restarts every partition at the group's
// committed offset when a new generation starts. The entries at or above
// that offset are superseded by the re-delivered copies (a new epoch);
// entries below it stay and still hold back the commit until they finish.
func (t *offsetTracker) add(partition int, offset int64, rebalances int64) (tok offsetToken, rewound bool, rebalanced int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rebalanced = t.observeLocked(rebalances)
	p := t.partitions[partition]
	if p == nil {
		p = &partitionOffsets{finished: -1, committed: -1}
		t.partitions[partition] = p
	}
	tok, rewound = t.addLocked(p, partition, offset)
	return tok, rewound, rebalanced
}

// addOwned records a fetched message of a partition the reader assigned
// (see assign); ok is false, and nothing is recorded, when the partition
// is not owned or is being revoked: the message must not be handled.
func (t *offsetTracker) addOwned(partition int, offset int64) (tok offsetToken, rewound, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.partitions[partition]
	if p == nil || p.revoking {
		return offsetToken{}, false, false
	}
	tok, rewound = t.addLocked(p, partition, offset)
	return tok, rewound, true
}

func (t *offsetTracker) addLocked(p *partitionOffsets, partition int, offset int64) (tok offsetToken, rewound bool) {
	if p.fetched && offset <= p.lastFetched {
		rewound = true
		t.epochs++
		p.epoch = t.epochs
		cut := sort.Search(len(p.entries), func(i int) bool { return p.entries[i].offset >= offset })
		for _, e := range p.entries[cut:] {
			if !e.done {
				t.inFlight--
			}
		}
		p.entries = slices.Delete(p.entries, cut, len(p.entries))
		// Re-delivered messages below the old finished point will finish
		// again; the prefix restarts just before the rewind point.
		if p.finished >= offset {
			p.finished = offset - 1
		}
	}
	p.fenced = false
	p.fetched = true
	p.lastFetched = offset
	p.entries = append(p.entries, offsetEntry{offset: offset, epoch: p.epoch})
	t.inFlight++
	return offsetToken{partition: partition, offset: offset, epoch: p.epoch}, rewound
}

// assign starts tracking parts, newly owned, afresh: the reader fetches
// them from the group's committed offset. From the first call on, only
// assigned partitions are tracked (addOwned).
func (t *offsetTracker) assign(parts []int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.assigned = true
	for _, id := range parts {
		t.releaseLocked(id)
		t.epochs++
		t.partitions[id] = &partitionOffsets{finished: -1, committed: -1, epoch: t.epochs, base: t.epochs}
	}
}

// revoking marks parts as being given up: their messages already taken
// finish and are committed, new ones are refused.
func (t *offsetTracker) revoking(parts []int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range parts {
		if p := t.partitions[id]; p != nil {
			p.revoking = true
		}
	}
}

// drained reports whether every message taken from parts is finished
// (handled and its outputs acknowledged).
func (t *offsetTracker) drained(parts []int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range parts {
		if p := t.partitions[id]; p != nil {
			for _, e := range p.entries {
				if !e.done {
					return false
				}
			}
		}
	}
	return true
}

// settled reports whether everything finished on parts is committed
// (advance has passed every entry and the commit point caught up).
func (t *offsetTracker) settled(parts []int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range parts {
		if p := t.partitions[id]; p != nil && (len(p.entries) > 0 || p.finished > p.committed) {
			return false
		}
	}
	return true
}

// release forgets parts: their unfinished messages are abandoned (their
// tokens are no longer live) and nothing more of them is committed.
// It returns how many messages were abandoned.
func (t *offsetTracker) release(parts []int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, id := range parts {
		n += t.releaseLocked(id)
	}
	return n
}

func (t *offsetTracker) releaseLocked(id int) int {
	p := t.partitions[id]
	if p == nil {
		return 0
	}
	n := 0
	for _, e := range p.entries {
		if !e.done {
			n++
		}
	}
	t.inFlight -= n
	delete(t.partitions, id)
	return n
}

// live reports whether tok's message still belongs to a partition this
// member tracks in the ownership it was taken under. A message of a
// released partition is not handled, and its outputs are not emitted.
func (t *offsetTracker) live(tok offsetToken) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.partitions[tok.partition]
	return p != nil && tok.epoch >= p.base
}

// done marks a message finished: handled and its outputs acknowledged. It
// reports false for a superseded token (nothing changes).
func (t *offsetTracker) done(tok offsetToken) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.partitions[tok.partition]
	if p == nil {
		return false
	}
	i, ok := sort.Find(len(p.entries), func(i int) int {
		switch {
		case tok.offset < p.entries[i].offset:
			return -1
		case tok.offset > p.entries[i].offset:
			return 1
		}
		return 0
	})
	if !ok || p.entries[i].epoch != tok.epoch || p.entries[i].done {
		return false
	}
	p.entries[i].done = true
	t.inFlight--
	return true
}

// observeRebalances takes the reader's running count of group generations.
// When it grew, every partition is fenced: this member may have lost any of
// them, and committing its finished work under the new generation would
// rewind or skip the new owner's progress (kafka-go #1308). It returns by
// how much the count grew.
func (t *offsetTracker) observeRebalances(n int64) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.observeLocked(n)
}

func (t *offsetTracker) observeLocked(n int64) int64 {
	if n <= t.rebalances {
		return 0
	}
	grew := n - t.rebalances
	t.rebalances = n
	for _, p := range t.partitions {
		p.fenced = true
	}
	return grew
}

// commitPoint is an offset to commit: Offset is the last finished message's
// offset (kafka-go's CommitMessages stores Offset+1, the next to read).
type commitPoint struct {
	partition int
	offset    int64
}

// advance moves every partition's finished prefix forward and returns the
// points to commit: unfenced partitions whose finished prefix is beyond
// their last commit, in partition order.
func (t *offsetTracker) advance() []commitPoint {
	t.mu.Lock()
	defer t.mu.Unlock()
	var points []commitPoint
	for id, p := range t.partitions {
		n := 0
		for n < len(p.entries) && p.entries[n].done {
			n++
		}
		if n > 0 {
			p.finished = p.entries[n-1].offset
			// Shift rather than reslice, so the backing array is reused
			// and does not grow forever under a steady stream.
			p.entries = slices.Delete(p.entries, 0, n)
		}
		if !p.fenced && p.finished > p.committed {
			points = append(points, commitPoint{partition: id, offset: p.finished})
		}
	}
	slices.SortFunc(points, func(a, b commitPoint) int { return a.partition - b.partition })
	return points
}

// committed records that points were committed.
func (t *offsetTracker) committed(points []commitPoint) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range points {
		if p := t.partitions[c.partition]; p != nil && c.offset > p.committed {
			p.committed = c.offset
		}
	}
}

// pending returns the number of fetched messages not finished yet.
func (t *offsetTracker) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inFlight
}

// ownedPartitions returns the partitions tracked, sorted: with an
// assigning reader, those this member owns.
func (t *offsetTracker) ownedPartitions() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Sorted(maps.Keys(t.partitions))
}
