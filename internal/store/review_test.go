package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// openClockStore opens a store whose clock the test moves.
func openClockStore(t *testing.T, dsn string) (*Store, *testClock) {
	t.Helper()
	clock := &testClock{now: testNow}
	s, err := OpenOptions(t.Context(), Options{DSN: dsn, Now: clock.Now})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, clock
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testSellers(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	if _, err := s.GetSeller(ctx, "s_1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown seller: %v, want ErrNotFound", err)
	}
	for i, status := range []string{SellerWarned, SellerSuspended} {
		clock.Add(time.Hour)
		var set Seller
		if err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			set, err = tx.SetSellerStatus(ctx, "s_1", status)
			return err
		}); err != nil {
			t.Fatalf("set %s: %v", status, err)
		}
		got, err := s.GetSeller(ctx, "s_1")
		if err != nil {
			t.Fatal(err)
		}
		want := Seller{ID: "s_1", Status: status, UpdatedAt: testNow.Add(time.Duration(i+1) * time.Hour)}
		if got != want || set != want {
			t.Errorf("after setting %s: got %+v (returned %+v), want %+v", status, got, set, want)
		}
	}
	for _, tc := range []struct{ name, id, status string }{
		{"unknown status", "s_1", "banned"},
		{"empty id", "", SellerWarned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.WithTx(ctx, func(tx *Tx) error {
				_, err := tx.SetSellerStatus(ctx, tc.id, tc.status)
				return err
			})
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func testStrikes(t *testing.T, dsn string) {
	s, _ := openClockStore(t, dsn)
	ctx := t.Context()
	for _, id := range []string{"c_1", "c_2", "c_3"} {
		if _, err := insertComplaint(ctx, s, testComplaint(id)); err != nil {
			t.Fatal(err)
		}
	}
	day := 24 * time.Hour
	add := func(st Strike) (Strike, bool, error) {
		var (
			out      Strike
			inserted bool
		)
		err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			out, inserted, err = tx.AddStrike(ctx, st)
			return err
		})
		return out, inserted, err
	}
	first, ok, err := add(Strike{SellerID: "s_9", ComplaintID: "c_1", CreatedAt: testNow, ExpiresAt: testNow.Add(10 * day)})
	if err != nil || !ok || first.ID <= 0 {
		t.Fatalf("first strike: %+v, %v, %v", first, ok, err)
	}
	if _, ok, err := add(Strike{SellerID: "s_9", ComplaintID: "c_1", CreatedAt: testNow, ExpiresAt: testNow.Add(99 * day)}); err != nil || ok {
		t.Fatalf("second strike over c_1: inserted=%v, %v; want false, nil", ok, err)
	}
	second, _, err := add(Strike{SellerID: "s_9", ComplaintID: "c_2", CreatedAt: testNow.Add(day), ExpiresAt: testNow.Add(20 * day)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		strike Strike
	}{
		{"no seller", Strike{ComplaintID: "c_3", CreatedAt: testNow, ExpiresAt: testNow.Add(day)}},
		{"expires before it starts", Strike{SellerID: "s_9", ComplaintID: "c_3", CreatedAt: testNow, ExpiresAt: testNow}},
		{"unknown complaint", Strike{SellerID: "s_9", ComplaintID: "c_nope", CreatedAt: testNow, ExpiresAt: testNow.Add(day)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := add(tc.strike); err == nil {
				t.Fatal("no error")
			}
		})
	}
	strikes, err := s.SellerStrikes(ctx, "s_9")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Strike{first, second}; !reflect.DeepEqual(strikes, want) {
		t.Errorf("strikes\n got %+v\nwant %+v", strikes, want)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want int
	}{
		{"now", testNow, 2},
		{"just before the first expires", testNow.Add(10*day - time.Millisecond), 2},
		{"when the first expires", testNow.Add(10 * day), 1},
		{"after both", testNow.Add(20 * day), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n int
			err := s.WithTx(ctx, func(tx *Tx) error {
				var err error
				n, err = tx.CountActiveStrikes(ctx, "s_9", tc.at)
				return err
			})
			if err != nil || n != tc.want {
				t.Errorf("%d active strikes (%v), want %d", n, err, tc.want)
			}
		})
	}
	var removed, again bool
	if err := s.WithTx(ctx, func(tx *Tx) error {
		var err error
		if removed, err = tx.RemoveStrike(ctx, "c_1"); err != nil {
			return err
		}
		again, err = tx.RemoveStrike(ctx, "c_1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !removed || again {
		t.Errorf("remove: %v then %v, want true then false", removed, again)
	}
	if strikes, _ := s.SellerStrikes(ctx, "s_9"); len(strikes) != 1 || strikes[0].ComplaintID != "c_2" {
		t.Errorf("after removal: %+v", strikes)
	}
}

func testCounterNotices(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	day := 24 * time.Hour
	for _, id := range []string{"c_1", "c_2", "c_3"} {
		if _, err := insertComplaint(ctx, s, testComplaint(id)); err != nil {
			t.Fatal(err)
		}
	}
	file := func(cn CounterNotice) (CounterNotice, error) {
		var out CounterNotice
		err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			out, err = tx.FileCounterNotice(ctx, cn)
			return err
		})
		return out, err
	}
	setState := func(id, from, to string) error {
		return s.WithTx(ctx, func(tx *Tx) error { return tx.SetCounterNoticeState(ctx, id, from, to) })
	}
	filed, err := file(CounterNotice{ComplaintID: "c_1", Actor: "u_mkt", Statement: "genuine, invoice attached",
		FiledAt: testNow, ReinstateAt: testNow.Add(10 * day), State: CounterNoticeEscalated})
	if err != nil {
		t.Fatal(err)
	}
	if filed.State != CounterNoticeWaiting {
		t.Errorf("filed in state %s, want waiting whatever the caller says", filed.State)
	}
	got, err := s.GetCounterNotice(ctx, "c_1")
	if err != nil || got != filed {
		t.Errorf("get: %+v, %v; want %+v", got, err, filed)
	}
	if _, err := file(CounterNotice{ComplaintID: "c_2", Actor: "u_mkt", FiledAt: testNow, ReinstateAt: testNow.Add(5 * day)}); err != nil {
		t.Fatal(err)
	}
	if _, err := file(CounterNotice{ComplaintID: "c_3", Actor: "u_mkt", FiledAt: testNow, ReinstateAt: testNow.Add(day)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cn      CounterNotice
		wantErr error
	}{
		{"second for a complaint", CounterNotice{ComplaintID: "c_1", Actor: "u_mkt"}, ErrConflict},
		{"no actor", CounterNotice{ComplaintID: "c_2"}, nil},
		{"unknown complaint", CounterNotice{ComplaintID: "c_nope", Actor: "u_mkt"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := file(tc.cn)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}

	// c_3 is escalated: it never comes due.
	clock.Add(time.Hour)
	if err := setState("c_3", CounterNoticeWaiting, CounterNoticeEscalated); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetCounterNotice(ctx, "c_3"); got.State != CounterNoticeEscalated || !got.UpdatedAt.Equal(testNow.Add(time.Hour)) {
		t.Errorf("after escalation: %+v", got)
	}
	for _, tc := range []struct {
		name     string
		id       string
		from, to string
		wantErr  error
	}{
		{"stale state", "c_3", CounterNoticeWaiting, CounterNoticeReinstated, ErrConflict},
		{"no counter-notice", "c_nope", CounterNoticeWaiting, CounterNoticeReinstated, ErrNotFound},
		{"unknown state", "c_2", CounterNoticeWaiting, "lost", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := setState(tc.id, tc.from, tc.to)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		at    time.Time
		limit int
		want  []string
	}{
		{"before any", testNow.Add(day), 0, nil},
		{"when c_2 is due", testNow.Add(5 * day), 0, []string{"c_2"}},
		{"when both are due, earliest first", testNow.Add(30 * day), 0, []string{"c_2", "c_1"}},
		{"limited", testNow.Add(30 * day), 1, []string{"c_2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.DueCounterNotices(ctx, tc.at, tc.limit)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("due: %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

func enqueueN(t *testing.T, s *Store, n int) []OutboxEvent {
	t.Helper()
	var out []OutboxEvent
	for i := range n {
		err := s.WithTx(t.Context(), func(tx *Tx) error {
			e, err := tx.EnqueueEvent(t.Context(), OutboxEvent{
				EventID: fmt.Sprintf("e%03d", i), Topic: "takedowns", Key: "l_1",
				Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
			})
			out = append(out, e)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func eventIDs(events []OutboxEvent) []string {
	var ids []string
	for _, e := range events {
		ids = append(ids, e.EventID)
	}
	return ids
}

func ids(events []OutboxEvent) []int64 {
	var out []int64
	for _, e := range events {
		out = append(out, e.ID)
	}
	return out
}

func testClaimEvents(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	all := enqueueN(t, s, 5)
	if n, oldest, err := s.OutboxBacklog(ctx); err != nil || n != 5 || !oldest.Equal(testNow) {
		t.Fatalf("backlog %d, oldest %v (%v); want 5, %v", n, oldest, err, testNow)
	}
	if _, err := s.ClaimEvents(ctx, 10, 0); err == nil {
		t.Error("a claim without a lease did not fail")
	}
	first, err := s.ClaimEvents(ctx, 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, all[:3]) {
		t.Fatalf("first claim\n got %+v\nwant %+v", first, all[:3])
	}
	second, err := s.ClaimEvents(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := eventIDs(second); !reflect.DeepEqual(got, []string{"e003", "e004"}) {
		t.Fatalf("second claim %v, want the two unclaimed events", got)
	}
	if more, err := s.ClaimEvents(ctx, 10, time.Minute); err != nil || len(more) != 0 {
		t.Fatalf("claim with every event leased: %v (%v), want none", eventIDs(more), err)
	}
	// The first relay publishes e000 and dies before marking the rest;
	// the second gives its events back after a failed publish.
	clock.Add(time.Second)
	if n, err := s.MarkPublished(ctx, ids(first[:1])); err != nil || n != 1 {
		t.Fatalf("mark published: %d, %v", n, err)
	}
	if n, err := s.MarkPublished(ctx, ids(first[:1])); err != nil || n != 0 {
		t.Errorf("marking again: %d, %v; want 0 newly marked", n, err)
	}
	if err := s.ReleaseClaims(ctx, ids(second)); err != nil {
		t.Fatal(err)
	}
	released, err := s.ClaimEvents(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := eventIDs(released); !reflect.DeepEqual(got, []string{"e003", "e004"}) {
		t.Fatalf("after release: %v, want e003 and e004 at once", got)
	}
	clock.Add(time.Minute)
	expired, err := s.ClaimEvents(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := eventIDs(expired); !reflect.DeepEqual(got, []string{"e001", "e002", "e003", "e004"}) {
		t.Fatalf("after the leases ran out: %v, want every unpublished event", got)
	}
	if n, err := s.MarkPublished(ctx, ids(expired)); err != nil || n != 4 {
		t.Fatalf("mark published: %d, %v", n, err)
	}
	if n, _, err := s.OutboxBacklog(ctx); err != nil || n != 0 {
		t.Errorf("backlog %d (%v) after publishing everything", n, err)
	}
	e, err := s.GetEvent(ctx, "e000")
	if err != nil || !e.PublishedAt.Equal(testNow.Add(time.Second)) {
		t.Errorf("e000: %+v (%v), want published at the first mark", e, err)
	}
	if _, err := s.GetEvent(ctx, "e_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown event: %v", err)
	}
	if pending, err := s.PendingEvents(ctx, 0); err != nil || len(pending) != 0 {
		t.Errorf("pending after publishing: %d (%v)", len(pending), err)
	}
}

func testConcurrentClaims(t *testing.T, dsn string) {
	s, _ := openClockStore(t, dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	enqueueN(t, s, 40)
	type result struct {
		events []OutboxEvent
		err    error
	}
	results := runConcurrently(6, func() result {
		var all []OutboxEvent
		for {
			events, err := s.ClaimEvents(ctx, 3, time.Hour)
			if err != nil || len(events) == 0 {
				return result{all, err}
			}
			all = append(all, events...)
		}
	})
	seen := map[string]int{}
	for _, r := range results {
		if r.err != nil {
			t.Errorf("claim: %v", r.err)
		}
		for _, e := range r.events {
			seen[e.EventID]++
		}
	}
	if len(seen) != 40 {
		t.Errorf("%d distinct events claimed, want 40", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times under live leases", id, n)
		}
	}
}

func testHolderStats(t *testing.T, dsn string) {
	s, _ := openClockStore(t, dsn)
	ctx := t.Context()
	put := func(id, holder, source, status string) {
		c := testComplaint(id)
		c.HolderID, c.Source = holder, source
		if err := s.WithTx(ctx, func(tx *Tx) error {
			if _, err := tx.InsertComplaint(ctx, c); err != nil {
				return err
			}
			if status == ComplaintOpen {
				return nil
			}
			_, err := tx.r.exec(ctx, `UPDATE complaints SET status = ? WHERE id = ?`, status, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("c_1", "h_1", domain.SourceRightsHolder, ComplaintUpheld)
	put("c_2", "h_1", domain.SourceRightsHolder, ComplaintContested)
	put("c_3", "h_1", domain.SourceRightsHolder, ComplaintReinstated)
	put("c_4", "h_1", domain.SourceRightsHolder, ComplaintRejected)
	put("c_5", "h_1", domain.SourceRightsHolder, ComplaintOpen)
	put("c_6", "h_1", domain.SourceAuto, ComplaintRejected)
	put("c_7", "h_2", domain.SourceRightsHolder, ComplaintRejected)
	for _, tc := range []struct {
		holder                  string
		wantDecided, wantUpheld int
	}{
		{"h_1", 4, 3},
		{"h_2", 1, 0},
		{"h_none", 0, 0},
	} {
		t.Run(tc.holder, func(t *testing.T) {
			decided, upheld, err := s.HolderStats(ctx, tc.holder)
			if err != nil || decided != tc.wantDecided || upheld != tc.wantUpheld {
				t.Errorf("stats %d decided, %d upheld (%v); want %d, %d", decided, upheld, err, tc.wantDecided, tc.wantUpheld)
			}
		})
	}
}

func testLockSeller(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	lock := func(id string) (Seller, error) {
		var sl Seller
		err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			sl, err = tx.LockSeller(ctx, id)
			return err
		})
		return sl, err
	}
	got, err := lock("s_new")
	if want := (Seller{ID: "s_new", Status: SellerActive, UpdatedAt: testNow}); err != nil || got != want {
		t.Fatalf("new seller: %+v (%v), want %+v", got, err, want)
	}
	clock.Add(time.Hour)
	if err := s.WithTx(ctx, func(tx *Tx) error { _, err := tx.SetSellerStatus(ctx, "s_new", SellerWarned); return err }); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	got, err = lock("s_new")
	if want := (Seller{ID: "s_new", Status: SellerWarned, UpdatedAt: testNow.Add(time.Hour)}); err != nil || got != want {
		t.Errorf("known seller: %+v (%v), want %+v unchanged", got, err, want)
	}
	if _, err := lock(""); err == nil {
		t.Error("locked a seller without an id")
	}
	// Read-modify-write under the lock from many goroutines loses no
	// update: each appends to the status history it read.
	if _, err := lock("s_counter"); err != nil {
		t.Fatal(err)
	}
	errs := runConcurrently(8, func() error {
		return s.WithTx(ctx, func(tx *Tx) error {
			if _, err := tx.LockSeller(ctx, "s_counter"); err != nil {
				return err
			}
			n, err := tx.CountActiveStrikes(ctx, "s_counter", testNow)
			if err != nil {
				return err
			}
			id := fmt.Sprintf("c_lock_%d", n)
			if _, err := tx.InsertComplaint(ctx, testComplaint(id)); err != nil {
				return err
			}
			_, added, err := tx.AddStrike(ctx, Strike{SellerID: "s_counter", ComplaintID: id, CreatedAt: testNow, ExpiresAt: testNow.Add(time.Hour)})
			if err == nil && !added {
				err = fmt.Errorf("strike %s already there: two transactions counted %d", id, n)
			}
			return err
		})
	})
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
