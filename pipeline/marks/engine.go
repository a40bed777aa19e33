package marks

import (
	"sync/atomic"
)

// engine is one built engine with its reference count. The count holds one
// reference for being current and one per user; the engine is closed when it
// drops to zero, and a count of zero never rises again, so a closed engine is
// never handed out.
type engine[E any] struct {
	e     E
	marks int
	refs  atomic.Int64
}

// tryAcquire takes a reference unless the engine has already been closed.
func (g *engine[E]) tryAcquire() bool {
	for {
		n := g.refs.Load()
		if n <= 0 {
			return false
		}
		if g.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Acquire returns the current engine and a release function that the caller
// must call once it is done with it; ok is false before the first build and
// after Close. The engine stays valid, and is not closed, until release is
// called, even if a newer engine has been swapped in meanwhile: use one
// engine for all the work on one listing. release may be called more than
// once; only the first call counts. Acquire is safe for concurrent use and
// takes no lock.
func (f *Table[V, E]) Acquire() (e E, release func(), ok bool) {
	for {
		g := f.current.Load()
		if g == nil {
			return e, func() {}, false
		}
		if !g.tryAcquire() {
			// g was swapped out and closed between the load and the
			// acquire; the pointer already names its successor.
			continue
		}
		var once atomic.Bool
		return g.e, func() {
			if once.CompareAndSwap(false, true) {
				f.drop(g)
			}
		}, true
	}
}

// Marks returns the number of active marks in the current engine, 0 before
// the first build.
func (f *Table[V, E]) Marks() int {
	if g := f.current.Load(); g != nil {
		return g.marks
	}
	return 0
}

// Close retires the current engine: Acquire fails from then on, and the
// engine is passed to Options.Close once its last user has released it. Call
// it after Run has returned and the engine's users have drained; Run does not
// retire the engine itself, so that a detector can finish its in-flight
// listings after the follower has stopped. An engine Run builds after Close is
// closed at once.
func (f *Table[V, E]) Close() {
	f.mu.Lock()
	f.closed = true
	old := f.current.Swap(nil)
	f.mu.Unlock()
	f.m.indexed.Set(0)
	if old != nil {
		f.drop(old)
	}
}

// install makes e the current engine and drops the follower's reference to
// the one it replaces, which is closed now or when its last user releases it.
func (f *Table[V, E]) install(e E, marks int) {
	g := &engine[E]{e: e, marks: marks}
	g.refs.Store(1)
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		f.drop(g)
		return
	}
	old := f.current.Swap(g)
	f.mu.Unlock()
	f.m.indexed.Set(float64(marks))
	if old != nil {
		f.drop(old)
	}
}

// drop releases one reference to g and closes g if it was the last. Close
// runs on the goroutine that drops the last reference: a user's release or
// the follower's loop.
func (f *Table[V, E]) drop(g *engine[E]) {
	if g.refs.Add(-1) == 0 && f.opts.Close != nil {
		f.opts.Close(g.e)
	}
}
