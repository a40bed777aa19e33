package review

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// benchEnv is newEnv for benchmarks, on a SQLite file.
func benchEnv(b *testing.B) *env {
	b.Helper()
	clock := &fakeClock{now: t0}
	st, err := store.OpenOptions(b.Context(), store.Options{DSN: "sqlite:" + b.TempDir() + "/bench.db", Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, err := New(Options{Store: st, Clock: clock, Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	e := &env{store: st, clock: clock, svc: svc}
	e.mark(b, "h_acme", "m_acme", domain.MarkActive)
	return e
}

// BenchmarkIngest measures storing one new complaint with its audit entry.
func BenchmarkIngest(b *testing.B) {
	env := benchEnv(b)
	i := 0
	for b.Loop() {
		if _, err := env.svc.Ingest(b.Context(), complaint(fmt.Sprintf("c_%d", i), "s_1")); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecideUphold measures one uphold: the decision, takedown event,
// strike, ladder evaluation and audit entries in one transaction.
func BenchmarkDecideUphold(b *testing.B) {
	env := benchEnv(b)
	for i := range b.N {
		if _, err := env.svc.Ingest(b.Context(), complaint(fmt.Sprintf("c_%d", i), fmt.Sprintf("s_%d", i%100))); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if err := env.svc.Decide(b.Context(), fmt.Sprintf("c_%d", i), uphold("u_rev")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRelay measures relaying outbox events in batches of 100 to a
// publisher that accepts at once: claim, publish, mark, per event.
func BenchmarkRelay(b *testing.B) {
	env := benchEnv(b)
	for i := range b.N {
		c := complaint(fmt.Sprintf("c_%d", i), "")
		if _, err := env.svc.Ingest(b.Context(), c); err != nil {
			b.Fatal(err)
		}
		if err := env.svc.Decide(b.Context(), c.ComplaintID, uphold("u_rev")); err != nil {
			b.Fatal(err)
		}
	}
	relay, err := NewRelay(RelayOptions{Store: env.store, Publisher: &fakePublisher{}, BatchSize: 100})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	published := 0
	for published < b.N {
		n, err := relay.PublishPending(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		published += n
	}
}
