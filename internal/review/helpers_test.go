package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one service over a fresh database with a fake clock.
type env struct {
	dsn   string
	store *store.Store
	clock *fakeClock
	svc   *Service
	reg   *prometheus.Registry
}

func newEnv(t *testing.T, e storetest.Engine, opts Options) *env {
	t.Helper()
	dsn := e.NewDSN(t)
	clock := &fakeClock{now: t0}
	st, err := store.OpenOptions(t.Context(), store.Options{DSN: dsn, Now: clock.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	reg := prometheus.NewRegistry()
	opts.Store, opts.Clock, opts.Registerer = st, clock, reg
	svc, err := New(opts)
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	en := &env{dsn: dsn, store: st, clock: clock, svc: svc, reg: reg}
	// complaint() files through m_acme of h_acme; Ingest and Submit refuse
	// a complaint whose mark is not registered and active.
	en.mark(t, "h_acme", "m_acme", domain.MarkActive)
	return en
}

// mark registers the mark id of holder (created when new) with status.
func (e *env) mark(t testing.TB, holder, id, status string) {
	t.Helper()
	ctx := t.Context()
	err := e.store.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetHolder(ctx, holder); errors.Is(err, store.ErrNotFound) {
			if _, err := tx.CreateHolder(ctx, store.Holder{ID: holder, Name: holder}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		_, err := tx.CreateMark(ctx, &domain.Mark{
			SchemaVersion: domain.SchemaVersion, MarkID: id, HolderID: holder, Name: "ACME " + id,
			Registration: domain.Registration{Office: "EUIPO", Number: "1"}, Status: status,
		})
		return err
	})
	if err != nil {
		t.Fatalf("register mark %s: %v", id, err)
	}
}

// complaint returns a valid complaint against seller.
func complaint(id, seller string) *domain.Complaint {
	return &domain.Complaint{
		SchemaVersion:  domain.SchemaVersion,
		ComplaintID:    id,
		Source:         domain.SourceAuto,
		ListingID:      "l_" + id,
		ListingVersion: 1,
		MarkID:         "m_acme",
		HolderID:       "h_acme",
		SellerID:       seller,
		Score:          0.9,
		Explanation:    "title contains ACME",
		Evidence:       []domain.Evidence{{Matcher: "text", Score: 0.9, Field: "title", Match: "ACME", Kind: "exact"}},
		RuleVersion:    "r1",
		CreatedAt:      t0.Add(-time.Hour),
		Listing:        &domain.ListingSnapshot{Title: "ACME bag"},
	}
}

func (e *env) ingest(t *testing.T, cs ...*domain.Complaint) {
	t.Helper()
	for _, c := range cs {
		if _, err := e.svc.Ingest(t.Context(), c); err != nil {
			t.Fatalf("ingest %s: %v", c.ComplaintID, err)
		}
	}
}

func uphold(actor string) Decision {
	return Decision{Verdict: VerdictUphold, ReasonCode: "counterfeit", Actor: actor}
}

func reject(actor string) Decision {
	return Decision{Verdict: VerdictReject, ReasonCode: "genuine", Actor: actor}
}

// upholdEvents is how many outbox events a seller's first uphold writes:
// the takedown, the seller action (warned), and the seller's notices of
// the takedown, the strike and the warning.
const upholdEvents = 5

// pending returns the unpublished outbox events by event id.
func (e *env) pending(t *testing.T) map[string]store.OutboxEvent {
	t.Helper()
	events, err := e.store.PendingEvents(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.OutboxEvent{}
	for _, ev := range events {
		out[ev.EventID] = ev
	}
	return out
}

func (e *env) status(t *testing.T, id string) string {
	t.Helper()
	c, err := e.store.GetComplaint(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func (e *env) sellerStatus(t *testing.T, id string) string {
	t.Helper()
	s, err := e.store.GetSeller(t.Context(), id)
	if err != nil {
		return store.SellerActive
	}
	return s.Status
}

func decode[T any](t *testing.T, payload json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(payload, &v); err != nil {
		t.Fatalf("decode %s: %v", payload, err)
	}
	return v
}

// fakePublisher records what it publishes; it fails the first failures
// calls.
type fakePublisher struct {
	mu        sync.Mutex
	failures  int
	calls     int
	published []Event
}

func (p *fakePublisher) Publish(ctx context.Context, events []Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.failures > 0 {
		p.failures--
		return fmt.Errorf("broker unavailable (attempt %d)", p.calls)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.published = append(p.published, events...)
	return nil
}

// count returns how many times an event with id was published.
func (p *fakePublisher) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.published {
		if e.ID == id {
			n++
		}
	}
	return n
}

func (p *fakePublisher) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.published)
}
