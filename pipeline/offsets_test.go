package pipeline

import (
	"slices"
	"testing"
)

// trackerStep is one operation on an offsetTracker in a table test.
type trackerStep struct {
	fetch     []int64 // offsets fetched on partition 0, in order
	done      []int64 // offsets finished (tokens of the latest fetch of each)
	rebalance bool    // the reader's rebalance count grows by one
	want      int64   // expected commit point after the step; -1 none
}

func TestOffsetTrackerContiguous(t *testing.T) {
	tests := []struct {
		name  string
		steps []trackerStep
	}{
		{"in order", []trackerStep{
			{fetch: []int64{0, 1, 2}, done: []int64{0, 1, 2}, want: 2},
		}},
		{"out of order completion waits for the gap", []trackerStep{
			{fetch: []int64{0, 1, 2, 3, 4}, done: []int64{3, 4, 1}, want: -1},
			{done: []int64{0}, want: 1},
			{done: []int64{2}, want: 4},
		}},
		{"reverse completion", []trackerStep{
			{fetch: []int64{10, 11, 12, 13}, done: []int64{13, 12, 11}, want: -1},
			{done: []int64{10}, want: 13},
		}},
		{"offset gaps of a compacted topic are contiguous in fetch order", []trackerStep{
			{fetch: []int64{3, 7, 8, 20}, done: []int64{3, 8, 7}, want: 8},
			{done: []int64{20}, want: 20},
		}},
		{"finishing twice changes nothing", []trackerStep{
			{fetch: []int64{0, 1}, done: []int64{1, 1}, want: -1},
			{done: []int64{0}, want: 1},
		}},
		{"rewind supersedes entries at or above it", []trackerStep{
			{fetch: []int64{0, 1, 2, 3}, done: []int64{0}, want: 0},
			// The reader restarts at 1 (the committed offset): 1..3 will
			// come again; the old 2 finishing must not count.
			{fetch: []int64{1, 2, 3}, want: -1},
			{done: []int64{2, 3}, want: -1},
			{done: []int64{1}, want: 3},
		}},
		{"rewind keeps unfinished entries below it", []trackerStep{
			{fetch: []int64{0, 1, 2, 3}, done: []int64{2, 3}, want: -1},
			// Restart at 2: 0 and 1 are still in flight and hold the commit.
			{fetch: []int64{2}, done: []int64{2}, want: -1},
			{done: []int64{0, 1}, want: 2},
		}},
		{"rebalance fences until the partition is fetched again", []trackerStep{
			{fetch: []int64{0, 1}, done: []int64{0}, want: 0},
			{rebalance: true, done: []int64{1}, want: -1},
			{fetch: []int64{2}, want: 1},
			{done: []int64{2}, want: 2},
		}},
		{"rebalance then rewind", []trackerStep{
			{fetch: []int64{0, 1, 2}, done: []int64{0, 2}, want: 0},
			{rebalance: true, want: -1},
			{fetch: []int64{1, 2}, want: -1},
			{done: []int64{1}, want: 1},
			{done: []int64{2}, want: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newOffsetTracker("listings")
			toks := map[int64]offsetToken{}
			var rebalances int64
			last := int64(-1)
			for i, s := range tt.steps {
				if s.rebalance {
					rebalances++
					tr.observeRebalances(rebalances)
				}
				for _, off := range s.fetch {
					tok, _, _ := tr.add(0, off, rebalances)
					toks[off] = tok
				}
				for _, off := range s.done {
					tr.done(toks[off])
				}
				got := int64(-1)
				if points := tr.advance(); len(points) > 0 {
					if len(points) != 1 || points[0].partition != 0 {
						t.Fatalf("step %d: points %v, want partition 0 only", i, points)
					}
					got = points[0].offset
					tr.committed(points)
					last = got
				}
				if got != s.want {
					t.Fatalf("step %d: commit point %d, want %d (last commit %d)", i, got, s.want, last)
				}
			}
		})
	}
}

func TestOffsetTrackerPartitionsIndependent(t *testing.T) {
	tr := newOffsetTracker("listings")
	a0, _, _ := tr.add(0, 0, 0)
	b0, _, _ := tr.add(1, 0, 0)
	b1, _, _ := tr.add(1, 1, 0)
	_, _, _ = tr.add(0, 1, 0)
	tr.done(b1)
	tr.done(a0)
	if got, want := tr.advance(), []commitPoint{{partition: 0, offset: 0}}; !slices.Equal(got, want) {
		t.Fatalf("points %v, want %v", got, want)
	}
	tr.done(b0)
	if got, want := tr.advance(), []commitPoint{{0, 0}, {1, 1}}; !slices.Equal(got, want) {
		t.Fatalf("points %v, want %v (partition 0 again: it was not recorded as committed)", got, want)
	}
	if got := tr.pending(); got != 1 {
		t.Fatalf("pending %d, want 1", got)
	}
}

func TestOffsetTrackerSupersededToken(t *testing.T) {
	tr := newOffsetTracker("listings")
	old, _, _ := tr.add(0, 5, 0)
	if _, rewound, _ := tr.add(0, 5, 0); !rewound {
		t.Fatal("fetching offset 5 twice is not a rewind")
	}
	if tr.done(old) {
		t.Fatal("a superseded token finished an entry")
	}
	if got := tr.pending(); got != 1 {
		t.Fatalf("pending %d, want 1 (the re-delivered copy)", got)
	}
}

// FuzzOffsetTracker drives the tracker with random fetches, rewinds,
// completions and rebalances, and checks against a model that no commit
// point ever passes a fetched message of the current stream that has not
// finished, and that commit points never go backwards.
func FuzzOffsetTracker(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 2, 3, 1, 1})
	f.Add([]byte{0, 0, 0, 0, 2, 0, 3, 1, 0, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		tr := newOffsetTracker("t")
		type fetched struct {
			tok  offsetToken
			done bool
		}
		var stream []fetched // the current, not superseded, fetches in order
		next := int64(0)
		var rebalances int64
		lastCommit := int64(-1)
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%4, int(ops[i+1])
			switch op {
			case 0: // fetch the next offset, sometimes skipping some
				off := next + int64(arg%3)
				tok, _, _ := tr.add(0, off, rebalances)
				stream = append(stream, fetched{tok: tok})
				next = off + 1
			case 1: // finish one fetched message
				if len(stream) > 0 {
					k := arg % len(stream)
					tr.done(stream[k].tok)
					stream[k].done = true
				}
			case 2: // rewind to an earlier fetched offset
				if len(stream) > 0 {
					k := arg % len(stream)
					off := stream[k].tok.offset
					stream = stream[:k]
					tok, rewound, _ := tr.add(0, off, rebalances)
					if !rewound {
						t.Fatalf("re-fetch of %d not seen as a rewind", off)
					}
					stream = append(stream, fetched{tok: tok})
					next = off + 1
				}
			case 3:
				rebalances++
				tr.observeRebalances(rebalances)
			}
			for _, p := range tr.advance() {
				if p.offset < lastCommit {
					t.Fatalf("commit went back from %d to %d", lastCommit, p.offset)
				}
				for _, s := range stream {
					if !s.done && s.tok.offset <= p.offset {
						t.Fatalf("commit point %d passes unfinished offset %d", p.offset, s.tok.offset)
					}
				}
				lastCommit = p.offset
				tr.committed([]commitPoint{p})
			}
		}
	})
}

// TestOffsetTrackerOwnership follows partitions assigned, revoked and
// assigned again by markwatch's group member: messages of partitions not
// owned are refused, a revoked partition drains and settles before it is
// released, and a token of an earlier ownership is never live again.
func TestOffsetTrackerOwnership(t *testing.T) {
	tr := newOffsetTracker("listings")
	if _, _, ok := tr.addOwned(0, 0); ok {
		t.Fatal("a message of a partition never assigned was taken")
	}
	tr.assign([]int{0, 1})
	a0, _, ok0 := tr.addOwned(0, 10)
	a1, _, ok1 := tr.addOwned(0, 11)
	b0, _, okb := tr.addOwned(1, 5)
	if !ok0 || !ok1 || !okb || !tr.live(a0) || !tr.live(b0) {
		t.Fatal("messages of owned partitions refused or not live")
	}

	tr.revoking([]int{0})
	if _, _, ok := tr.addOwned(0, 12); ok {
		t.Error("a message of a partition being revoked was taken")
	}
	if _, _, ok := tr.addOwned(1, 6); !ok {
		t.Error("a message of a kept partition was refused during another's revocation")
	}
	tr.done(a0)
	if tr.drained([]int{0}) {
		t.Error("drained with offset 11 unfinished")
	}
	tr.done(a1)
	if !tr.drained([]int{0}) || tr.settled([]int{0}) {
		t.Errorf("after both finished: drained %v settled %v, want true false", tr.drained([]int{0}), tr.settled([]int{0}))
	}
	points := tr.advance()
	if !slices.Equal(points, []commitPoint{{partition: 0, offset: 11}}) {
		t.Fatalf("commit points %v, want 0@11", points)
	}
	tr.committed(points)
	if !tr.settled([]int{0}) {
		t.Error("not settled after the commit")
	}
	if n := tr.release([]int{0}); n != 0 {
		t.Errorf("release abandoned %d, want 0", n)
	}
	if tr.live(a0) {
		t.Error("a token of a released partition is live")
	}
	if got := tr.pending(); got != 2 {
		t.Errorf("pending %d, want 2 (partition 1)", got)
	}

	// Assigned again: a token of the first ownership stays dead, even for
	// the same offset.
	tr.assign([]int{0})
	c0, _, ok := tr.addOwned(0, 10)
	if !ok || !tr.live(c0) || tr.live(a0) || c0.epoch == a0.epoch {
		t.Errorf("second ownership: ok %v, live new %v, live old %v", ok, tr.live(c0), tr.live(a0))
	}
	// Released with work unfinished: abandoned, not committed.
	if n := tr.release([]int{0, 1}); n != 3 {
		t.Errorf("release abandoned %d, want 3", n)
	}
	if got := tr.pending(); got != 0 || len(tr.advance()) != 0 {
		t.Errorf("after release: pending %d, points %v", got, tr.advance())
	}
}
