package review

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func newRelay(t *testing.T, env *env, p Publisher, reg prometheus.Registerer) *Relay {
	t.Helper()
	r, err := NewRelay(RelayOptions{Store: env.store, Publisher: p, ClaimTTL: 30 * time.Second, Interval: 5 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRelayPublishFailsOnce: the decision commits, the first publish fails
// (the broker is down), the next pass publishes every event once, under
// its id, and marks it once.
func TestRelayPublishFailsOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		env.ingest(t, complaint("c_1", "s_1"))
		if err := env.svc.Decide(ctx, "c_1", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		pub := &fakePublisher{failures: 1}
		reg := prometheus.NewRegistry()
		relay := newRelay(t, env, pub, reg)
		if n, err := relay.PublishPending(ctx); err == nil || n != 0 {
			t.Fatalf("first pass: %d, %v; want the publisher's error", n, err)
		}
		if len(env.pending(t)) != upholdEvents {
			t.Fatalf("after the failed publish %d events pending, want %d", len(env.pending(t)), upholdEvents)
		}
		env.clock.Add(time.Second)
		// The failed pass gave its claims back: no need to wait for the lease.
		if n, err := relay.PublishPending(ctx); err != nil || n != upholdEvents {
			t.Fatalf("second pass: %d, %v; want %d published", n, err, upholdEvents)
		}
		for _, id := range []string{"takedown:c_1", "seller-action:s_1:warned:1"} {
			if got := pub.count(id); got != 1 {
				t.Errorf("%s published %d times, want 1", id, got)
			}
			ev, err := env.store.GetEvent(ctx, id)
			if err != nil || !ev.PublishedAt.Equal(t0.Add(time.Second)) {
				t.Errorf("%s: published at %v (%v), want %v", id, ev.PublishedAt, err, t0.Add(time.Second))
			}
		}
		calls := pub.calls
		if n, err := relay.PublishPending(ctx); err != nil || n != 0 || pub.calls != calls {
			t.Errorf("third pass: %d, %v, %d publisher calls; want nothing to do", n, err, pub.calls-calls)
		}
		if got := testutil.ToFloat64(relay.metrics.backlog); got != 0 {
			t.Errorf("backlog gauge %v, want 0", got)
		}
		if got := testutil.ToFloat64(relay.metrics.failures); got != 1 {
			t.Errorf("failures %v, want 1", got)
		}
		if got := testutil.CollectAndCount(reg, "markwatch_outbox_publish_seconds"); got != 1 {
			t.Errorf("%d publish_seconds series, want 1", got)
		}
	})
}

// TestRelayCrashBetweenCommitAndPublish: a relay claims the events of a
// committed decision and dies before publishing. Another relay leaves them
// alone while the lease lasts, then publishes each once under its id.
func TestRelayCrashBetweenCommitAndPublish(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		env.ingest(t, complaint("c_1", "s_1"))
		if err := env.svc.Decide(ctx, "c_1", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		// The relay that dies: it claimed, and never published or marked.
		dead, err := env.store.ClaimEvents(ctx, 100, 30*time.Second)
		if err != nil || len(dead) != upholdEvents {
			t.Fatalf("dead relay's claim: %d events (%v), want %d", len(dead), err, upholdEvents)
		}
		pub := &fakePublisher{}
		relay := newRelay(t, env, pub, nil)
		env.clock.Add(29 * time.Second)
		if n, err := relay.PublishPending(ctx); err != nil || n != 0 {
			t.Fatalf("during the lease: %d, %v; want 0", n, err)
		}
		env.clock.Add(time.Second)
		if n, err := relay.PublishPending(ctx); err != nil || n != upholdEvents {
			t.Fatalf("after the lease: %d, %v; want %d", n, err, upholdEvents)
		}
		if n, err := relay.PublishPending(ctx); err != nil || n != 0 {
			t.Fatalf("afterwards: %d, %v; want 0", n, err)
		}
		for _, ev := range dead {
			if got := pub.count(ev.EventID); got != 1 {
				t.Errorf("%s published %d times, want 1", ev.EventID, got)
			}
		}
	})
}

// TestRelayCrashBetweenPublishAndMark documents the at-least-once edge: a
// relay that published and died before marking has its events published
// again, under the same ids, for consumers to deduplicate.
func TestRelayCrashBetweenPublishAndMark(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{})
	ctx := t.Context()
	env.ingest(t, complaint("c_1", "s_1"))
	if err := env.svc.Decide(ctx, "c_1", reject("u_rev")); err != nil {
		t.Fatal(err)
	}
	c := complaint("c_2", "s_2")
	env.ingest(t, c)
	if err := env.svc.Decide(ctx, "c_2", uphold("u_rev")); err != nil {
		t.Fatal(err)
	}
	pub := &fakePublisher{}
	claimed, err := env.store.ClaimEvents(ctx, 100, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	for _, e := range claimed {
		events = append(events, Event{ID: e.EventID, Topic: e.Topic, Key: e.Key, Payload: e.Payload})
	}
	if err := pub.Publish(ctx, events); err != nil { // and then the process dies
		t.Fatal(err)
	}
	env.clock.Add(31 * time.Second)
	if n, err := newRelay(t, env, pub, nil).PublishPending(ctx); err != nil || n != upholdEvents {
		t.Fatalf("after the lease: %d, %v; want %d", n, err, upholdEvents)
	}
	if got := pub.count("takedown:c_2"); got != 2 {
		t.Errorf("takedown published %d times, want 2 (at least once, same id)", got)
	}
}

// TestRelaysShareTheOutbox runs several relays on one database at once:
// every event is published exactly once while leases hold.
func TestRelaysShareTheOutbox(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		const n = 30
		for i := range n {
			env.ingest(t, complaint(fmt.Sprintf("c_%02d", i), ""))
			if err := env.svc.Decide(ctx, fmt.Sprintf("c_%02d", i), uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
		}
		pub := &fakePublisher{}
		var wg sync.WaitGroup
		for range 4 {
			relay, err := NewRelay(RelayOptions{Store: env.store, Publisher: pub, BatchSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				for {
					k, err := relay.PublishPending(ctx)
					if err != nil {
						t.Errorf("relay: %v", err)
						return
					}
					if k == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		if pub.total() != n {
			t.Errorf("%d events published, want %d", pub.total(), n)
		}
		for i := range n {
			if got := pub.count(fmt.Sprintf("takedown:c_%02d", i)); got != 1 {
				t.Errorf("takedown:c_%02d published %d times, want 1", i, got)
			}
		}
	})
}

func TestRelayRun(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{})
	for i := range 5 {
		id := fmt.Sprintf("c_%d", i)
		env.ingest(t, complaint(id, "s_1"))
		if err := env.svc.Decide(t.Context(), id, uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
	}
	want := len(env.pending(t))
	pub := &fakePublisher{failures: 2}
	relay, err := NewRelay(RelayOptions{Store: env.store, Publisher: pub, BatchSize: 2, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	// Wait for the outbox to be empty, not only for the last publish: the
	// relay marks a batch published after the publisher returns, and a
	// cancel between the two would leave it pending (to be published
	// again, at least once, after a restart).
	backlog := func() int {
		n, _, err := env.store.OutboxBacklog(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.After(10 * time.Second)
	for pub.total() < want || backlog() != 0 {
		select {
		case <-deadline:
			cancel()
			<-done
			t.Fatalf("published %d of %d events", pub.total(), want)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v, want nil", err)
	}
	if pub.total() != want {
		t.Errorf("published %d events, want %d", pub.total(), want)
	}
	if n, _, err := env.store.OutboxBacklog(t.Context()); err != nil || n != 0 {
		t.Errorf("backlog %d (%v), want 0", n, err)
	}
}

func TestNewRelayOptions(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		name string
		opts RelayOptions
		ok   bool
	}{
		{"defaults", RelayOptions{Store: st, Publisher: &fakePublisher{}}, true},
		{"no publisher", RelayOptions{Store: st}, false},
		{"no store", RelayOptions{Publisher: &fakePublisher{}}, false},
		{"negative batch", RelayOptions{Store: st, Publisher: &fakePublisher{}, BatchSize: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewRelay(tc.opts); (err == nil) != tc.ok {
				t.Errorf("NewRelay: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// cancellingPublisher publishes through fakePublisher, then cancels the
// relay's context, as a shutdown arriving just after a publish does.
type cancellingPublisher struct {
	fakePublisher
	cancel context.CancelFunc
}

func (p *cancellingPublisher) Publish(ctx context.Context, events []Event) error {
	err := p.fakePublisher.Publish(ctx, events)
	p.cancel()
	return err
}

// TestRelayMarksAfterShutdown checks that a batch published just before a
// shutdown is still marked published: the mark must not be cut short by
// the cancelled context, or every event of it is published again after
// the restart.
func TestRelayMarksAfterShutdown(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{})
	env.ingest(t, complaint("c_1", "s_1"))
	if err := env.svc.Decide(t.Context(), "c_1", uphold("u_rev")); err != nil {
		t.Fatal(err)
	}
	want := len(env.pending(t))
	ctx, cancel := context.WithCancel(t.Context())
	pub := &cancellingPublisher{cancel: cancel}
	relay, err := NewRelay(RelayOptions{Store: env.store, Publisher: pub, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := relay.PublishPending(ctx); err != nil || n != want {
		t.Fatalf("PublishPending = %d, %v; want %d, nil", n, err, want)
	}
	if n, _, err := env.store.OutboxBacklog(t.Context()); err != nil || n != 0 {
		t.Errorf("backlog %d (%v) after a shutdown just after the publish, want 0", n, err)
	}
}
