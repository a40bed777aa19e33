package marks

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// fakeEngine stands in for a detection engine: it knows its build number
// and records whether it was closed, and how often.
type fakeEngine struct {
	n      int
	closes atomic.Int32
}

// newEngineFollower returns a Follower of fakeEngines that nobody runs; tests
// install engines directly. Closing an engine takes closeDelay, which widens
// the window in which a broken swap would hand out a closing engine.
func newEngineFollower(t *testing.T, closeDelay time.Duration) *Follower[*fakeEngine] {
	t.Helper()
	f, err := New(Options[*fakeEngine]{
		Brokers: []string{"127.0.0.1:1"},
		Topic:   "marks",
		Build: func(context.Context, []*domain.Mark) (*fakeEngine, error) {
			return &fakeEngine{}, nil
		},
		Close: func(e *fakeEngine) {
			e.closes.Add(1)
			if closeDelay > 0 {
				time.Sleep(closeDelay)
			}
		},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

func TestAcquireRelease(t *testing.T) {
	f := newEngineFollower(t, 0)
	if _, release, ok := f.Acquire(); ok {
		t.Fatal("Acquire before the first build: ok")
	} else {
		release() // must be callable
	}

	e1, e2, e3 := &fakeEngine{n: 1}, &fakeEngine{n: 2}, &fakeEngine{n: 3}
	f.install(e1, 10)
	if f.Marks() != 10 {
		t.Errorf("Marks() = %d, want 10", f.Marks())
	}
	got, release1, ok := f.Acquire()
	if !ok || got != e1 {
		t.Fatalf("Acquire = %v, %v; want engine 1", got, ok)
	}

	f.install(e2, 20)
	if e1.closes.Load() != 0 {
		t.Fatal("engine 1 closed while a user still holds it")
	}
	if got, release, _ := f.Acquire(); got != e2 {
		t.Errorf("Acquire after the swap = engine %d, want 2", got.n)
	} else {
		release()
	}
	if f.Marks() != 20 {
		t.Errorf("Marks() = %d, want 20", f.Marks())
	}
	release1()
	if n := e1.closes.Load(); n != 1 {
		t.Fatalf("engine 1 closed %d times after its last release, want 1", n)
	}
	release1() // a second release must not count again
	if n := e1.closes.Load(); n != 1 {
		t.Fatalf("engine 1 closed %d times after a double release, want 1", n)
	}
	if e2.closes.Load() != 0 {
		t.Fatal("the current engine was closed")
	}

	// An engine nobody holds is closed as soon as it is swapped out.
	_, release2, _ := f.Acquire()
	release2()
	release2()
	f.install(e3, 30)
	if n := e2.closes.Load(); n != 1 {
		t.Fatalf("engine 2 closed %d times once swapped out unheld, want 1", n)
	}

	// Close retires the current engine once its users are done.
	_, release3, _ := f.Acquire()
	f.Close()
	if _, _, ok := f.Acquire(); ok {
		t.Error("Acquire after Close: ok")
	}
	if f.Marks() != 0 {
		t.Errorf("Marks() after Close = %d, want 0", f.Marks())
	}
	if e3.closes.Load() != 0 {
		t.Fatal("engine 3 closed by Close while still held")
	}
	release3()
	if n := e3.closes.Load(); n != 1 {
		t.Fatalf("engine 3 closed %d times after Close and release, want 1", n)
	}

	// An engine built after Close is closed at once, never installed.
	e4 := &fakeEngine{n: 4}
	f.install(e4, 40)
	if n := e4.closes.Load(); n != 1 {
		t.Errorf("engine installed after Close closed %d times, want 1", n)
	}
	if _, _, ok := f.Acquire(); ok {
		t.Error("Acquire after a post-Close install: ok")
	}
}

// TestAcquireConcurrent swaps engines while users acquire, check and release
// them: no user may ever hold a closed engine, and every engine is closed
// exactly once in the end. Run it with -race.
func TestAcquireConcurrent(t *testing.T) {
	f := newEngineFollower(t, 20*time.Microsecond)
	const swaps, users = 200, 4
	engines := make([]*fakeEngine, swaps)
	for i := range engines {
		engines[i] = &fakeEngine{n: i}
	}
	f.install(engines[0], 0)

	var stop atomic.Bool
	var used atomic.Int64
	var wg sync.WaitGroup
	for range users {
		wg.Go(func() {
			for !stop.Load() {
				e, release, ok := f.Acquire()
				if !ok {
					t.Error("Acquire failed while an engine is installed")
					return
				}
				if e.closes.Load() != 0 {
					t.Errorf("acquired engine %d after it was closed", e.n)
				}
				used.Add(1)
				if e.closes.Load() != 0 {
					t.Errorf("engine %d closed while held", e.n)
				}
				release()
				runtime.Gosched() // leave the swapper its share of 2 cores
			}
		})
	}
	for _, e := range engines[1:] {
		f.install(e, e.n)
		// Let the users overlap each swap: wait until some of them have
		// acquired since the last one.
		for target := used.Load() + users; used.Load() < target && !t.Failed(); {
			runtime.Gosched()
		}
	}
	stop.Store(true)
	wg.Wait()
	f.Close()
	for _, e := range engines {
		if n := e.closes.Load(); n != 1 {
			t.Errorf("engine %d closed %d times, want 1", e.n, n)
		}
	}
	if used.Load() == 0 {
		t.Error("no user acquired an engine")
	}
}

func TestNewValidates(t *testing.T) {
	build := func(context.Context, []*domain.Mark) (int, error) { return 0, nil }
	good := Options[int]{Brokers: []string{"b:9092"}, Topic: "marks", Build: build}
	tests := []struct {
		name    string
		edit    func(*Options[int])
		wantErr string
	}{
		{name: "good", edit: func(*Options[int]) {}},
		{name: "no brokers", edit: func(o *Options[int]) { o.Brokers = nil }, wantErr: "brokers"},
		{name: "no topic", edit: func(o *Options[int]) { o.Topic = "" }, wantErr: "topic"},
		{name: "no build", edit: func(o *Options[int]) { o.Build = nil }, wantErr: "build"},
		{name: "negative debounce", edit: func(o *Options[int]) { o.Debounce = -time.Second }, wantErr: "debounce"},
		{name: "negative partition check", edit: func(o *Options[int]) { o.PartitionCheckInterval = -1 }, wantErr: "partition check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.edit(&o)
			f, err := New(o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if f.opts.Debounce != DefaultDebounce || f.opts.PartitionCheckInterval != DefaultPartitionCheckInterval {
					t.Errorf("defaults not applied: %+v", f.opts)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

// TestRunNoBroker: with no broker to answer, Run keeps retrying, is not
// ready, and returns nil promptly when cancelled; a second Run is refused.
func TestRunNoBroker(t *testing.T) {
	f := newEngineFollower(t, 0)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	time.Sleep(300 * time.Millisecond)
	if err := f.Run(ctx); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Run: %v, want an error", err)
	}
	if f.Ready() {
		t.Error("ready without a broker")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of cancel")
	}
}
