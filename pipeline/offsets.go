package pipeline

import (
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
	if p.fetched && offset <= p.lastFetched {
		rewound = true
		p.epoch++
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
	return offsetToken{partition: partition, offset: offset, epoch: p.epoch}, rewound, rebalanced
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
