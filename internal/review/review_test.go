package review

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestIngestReplayLeavesDatabaseIdentical(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		var topic []*domain.Complaint
		for i := range 20 {
			topic = append(topic, complaint(fmt.Sprintf("c_%02d", i), fmt.Sprintf("s_%d", i%3)))
		}
		for _, c := range topic {
			inserted, err := env.svc.Ingest(ctx, c)
			if err != nil || !inserted {
				t.Fatalf("first ingest of %s: %v, %v", c.ComplaintID, inserted, err)
			}
		}
		// Decisions between the deliveries must survive the replay too.
		if err := env.svc.Decide(ctx, "c_00", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		if err := env.svc.Decide(ctx, "c_01", reject("u_rev")); err != nil {
			t.Fatal(err)
		}
		before := storetest.Dump(t, env.dsn)
		for range 2 {
			env.clock.Add(time.Hour)
			for _, c := range topic {
				replayed := *c
				replayed.Score = 0.5 // a redelivery never overwrites
				inserted, err := env.svc.Ingest(ctx, &replayed)
				if err != nil || inserted {
					t.Fatalf("replayed ingest of %s: %v, %v; want false, nil", c.ComplaintID, inserted, err)
				}
			}
		}
		if after := storetest.Dump(t, env.dsn); after != before {
			t.Errorf("the replay changed the database\nbefore:\n%s\nafter:\n%s", before, after)
		}
		entries, err := env.store.AuditLog(ctx, store.AuditQuery{ObjectID: "c_05"})
		if err != nil || len(entries) != 1 || entries[0].Action != "complaint.ingested" || entries[0].Actor != ActorSystem {
			t.Errorf("audit of c_05: %+v (%v), want one complaint.ingested", entries, err)
		}
		for result, want := range map[string]float64{"inserted": 20, "duplicate": 40} {
			if got := testutil.ToFloat64(env.svc.metrics.ingested.WithLabelValues(result, domain.SourceAuto)); got != want {
				t.Errorf("ingested{result=%s} = %v, want %v", result, got, want)
			}
		}
	})
}

func TestIngestRefusesInvalid(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{})
	bad := complaint("c_bad", "s_1")
	bad.Score = 2
	for _, tc := range []struct {
		name string
		c    *domain.Complaint
	}{
		{"nil", nil},
		{"score out of range", bad},
		{"no id", complaint("", "s_1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := env.svc.Ingest(t.Context(), tc.c); !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v, want ErrInvalid", err)
			}
		})
	}
}

func TestDecideUpholdWritesEverythingInOneTransaction(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		env.ingest(t, complaint("c_1", "s_1"))
		if err := env.svc.Decide(ctx, "c_1", Decision{Verdict: VerdictUphold, ReasonCode: "counterfeit", Note: "fake logo", Actor: "u_rev"}); err != nil {
			t.Fatal(err)
		}
		if got := env.status(t, "c_1"); got != store.ComplaintUpheld {
			t.Errorf("status %s, want upheld", got)
		}
		events := env.pending(t)
		td, ok := events["takedown:c_1"]
		if !ok || td.Topic != "takedowns" || td.Key != "l_c_1" {
			t.Fatalf("takedown event %+v (present %v)", td, ok)
		}
		want := ListingEvent{SchemaVersion: 1, EventID: "takedown:c_1", Action: ActionTakedown, ComplaintID: "c_1",
			ListingID: "l_c_1", ListingVersion: 1, SellerID: "s_1", MarkID: "m_acme", HolderID: "h_acme",
			Reason: "counterfeit", At: t0}
		if got := decode[ListingEvent](t, td.Payload); !reflect.DeepEqual(got, want) {
			t.Errorf("takedown\n got %+v\nwant %+v", got, want)
		}
		sa, ok := events["seller-action:s_1:warned:1"]
		if !ok || sa.Topic != "seller-actions" || sa.Key != "s_1" {
			t.Fatalf("seller action %+v (present %v); events %v", sa, ok, events)
		}
		if got := decode[SellerActionEvent](t, sa.Payload); got.Status != store.SellerWarned || got.Strikes != 1 || got.ComplaintID != "c_1" {
			t.Errorf("seller action %+v", got)
		}
		if len(events) != upholdEvents {
			t.Errorf("%d events, want %d", len(events), upholdEvents)
		}
		var actions []string
		entries, err := env.store.AuditLog(ctx, store.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range entries {
			actions = append(actions, a.Action)
		}
		if want := []string{"complaint.ingested", "complaint.upheld", "strike.added", "seller.warned"}; !reflect.DeepEqual(actions, want) {
			t.Errorf("audit actions %v, want %v", actions, want)
		}
		if got := testutil.ToFloat64(env.svc.metrics.decisions.WithLabelValues("upheld", "auto")); got != 1 {
			t.Errorf("decisions{upheld,auto} = %v, want 1", got)
		}
		if got := testutil.ToFloat64(env.svc.metrics.byMatcher.WithLabelValues("upheld", "text")); got != 1 {
			t.Errorf("decisions_by_matcher{upheld,text} = %v, want 1", got)
		}
		// A second decision on a decided complaint is a conflict.
		if err := env.svc.Decide(ctx, "c_1", reject("u_rev2")); !errors.Is(err, ErrConflict) {
			t.Errorf("deciding again: %v, want ErrConflict", err)
		}
	})
}

func TestDecideErrors(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{})
	env.ingest(t, complaint("c_1", "s_1"))
	for _, tc := range []struct {
		name    string
		id      string
		d       Decision
		wantErr error
	}{
		{"unknown verdict", "c_1", Decision{Verdict: "maybe", ReasonCode: ReasonCounterfeit, Actor: "u"}, ErrInvalid},
		{"no verdict", "c_1", Decision{ReasonCode: ReasonCounterfeit, Actor: "u"}, ErrInvalid},
		{"no actor", "c_1", Decision{Verdict: VerdictUphold, ReasonCode: ReasonCounterfeit}, ErrInvalid},
		{"no reason code", "c_1", Decision{Verdict: VerdictUphold, Actor: "u"}, ErrInvalid},
		{"unknown reason code", "c_1", Decision{Verdict: VerdictUphold, ReasonCode: "x", Actor: "u"}, ErrInvalid},
		{"reason of the other verdict", "c_1", Decision{Verdict: VerdictUphold, ReasonCode: ReasonGenuine, Actor: "u"}, ErrInvalid},
		{"note not UTF-8", "c_1", Decision{Verdict: VerdictUphold, ReasonCode: ReasonCounterfeit, Note: "\xff", Actor: "u"}, ErrInvalid},
		{"unknown complaint", "c_nope", uphold("u"), ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := env.svc.Decide(t.Context(), tc.id, tc.d); !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
	if got := env.status(t, "c_1"); got != store.ComplaintOpen {
		t.Errorf("status %s after refused decisions, want open", got)
	}
}

func TestConcurrentDecisionsOneWins(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		env.ingest(t, complaint("c_race", "s_1"))
		const n = 8
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				d := uphold(fmt.Sprintf("u_rev%d", i))
				if i%2 == 1 {
					d = reject(fmt.Sprintf("u_rev%d", i))
				}
				errs[i] = env.svc.Decide(ctx, "c_race", d)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("decisions %d and %d both won", winner, i)
				}
				winner = i
			case !errors.Is(err, ErrConflict):
				t.Errorf("decision %d: %v, want nil or ErrConflict", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no decision won")
		}
		c, err := env.store.GetComplaint(ctx, "c_race")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus := store.ComplaintUpheld
		if winner%2 == 1 {
			wantStatus = store.ComplaintRejected
		}
		if c.Status != wantStatus || c.DecidedBy != fmt.Sprintf("u_rev%d", winner) {
			t.Errorf("complaint %s by %s; winner was %d", c.Status, c.DecidedBy, winner)
		}
		entries, err := env.store.AuditLog(ctx, store.AuditQuery{ObjectID: "c_race"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 { // ingested + the one decision
			t.Errorf("%d audit entries for the complaint, want 2: %+v", len(entries), entries)
		}
		strikes, err := env.store.SellerStrikes(ctx, "s_1")
		if err != nil {
			t.Fatal(err)
		}
		events := env.pending(t)
		if wantStatus == store.ComplaintUpheld {
			if len(strikes) != 1 || len(events) != upholdEvents {
				t.Errorf("%d strikes and %d events after an uphold, want 1 and %d", len(strikes), len(events), upholdEvents)
			}
		} else if len(strikes) != 0 || len(events) != 0 {
			t.Errorf("%d strikes and %d events after a rejection, want none", len(strikes), len(events))
		}
	})
}

func TestStrikeLadder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		upholdNew := func(id string) {
			t.Helper()
			env.ingest(t, complaint(id, "s_1"))
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatalf("uphold %s: %v", id, err)
			}
		}
		steps := []struct {
			name       string
			advance    time.Duration
			want       string
			wantAction string // the seller-action event id this step adds, if any
		}{
			{"first strike warns", 0, store.SellerWarned, "seller-action:s_1:warned:1"},
			{"second strike changes nothing", 30 * day, store.SellerWarned, ""},
			{"third strike suspends", 30 * day, store.SellerSuspended, "seller-action:s_1:suspended:3"},
			{"fourth strike changes nothing", 30 * day, store.SellerSuspended, ""},
			{"fifth strike terminates", 30 * day, store.SellerTerminated, "seller-action:s_1:terminated:5"},
		}
		for i, step := range steps {
			env.clock.Add(step.advance)
			before := env.pending(t)
			upholdNew(fmt.Sprintf("c_%d", i))
			if got := env.sellerStatus(t, "s_1"); got != step.want {
				t.Errorf("%s: seller %s, want %s", step.name, got, step.want)
			}
			added := []string{}
			for id := range env.pending(t) {
				if _, ok := before[id]; !ok && id[:len("seller")] == "seller" {
					added = append(added, id)
				}
			}
			switch {
			case step.wantAction == "" && len(added) != 0:
				t.Errorf("%s: seller actions %v, want none", step.name, added)
			case step.wantAction != "" && (len(added) != 1 || added[0] != step.wantAction):
				t.Errorf("%s: seller actions %v, want %s", step.name, added, step.wantAction)
			}
		}
	})
}

func TestStrikesExpire(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{StrikeTTL: 365 * day})
		ctx := t.Context()
		upholdNew := func(id string) {
			t.Helper()
			env.ingest(t, complaint(id, "s_1"))
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatalf("uphold %s: %v", id, err)
			}
		}
		upholdNew("c_1")
		upholdNew("c_2")
		// A year and a day later both strikes have expired: the third
		// strike is the only active one, so the seller is not suspended.
		env.clock.Add(366 * day)
		upholdNew("c_3")
		if got := env.sellerStatus(t, "s_1"); got != store.SellerWarned {
			t.Errorf("after expiry: seller %s, want warned", got)
		}
		// Within the year, two more make three active strikes.
		env.clock.Add(day)
		upholdNew("c_4")
		upholdNew("c_5")
		if got := env.sellerStatus(t, "s_1"); got != store.SellerSuspended {
			t.Errorf("three active strikes: seller %s, want suspended", got)
		}
		if _, ok := env.pending(t)["seller-action:s_1:suspended:3"]; !ok {
			t.Errorf("no suspension event; events %v", env.pending(t))
		}
	})
}

func TestCustomLadder(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN},
		Options{Ladder: Ladder{{Strikes: 2, Status: store.SellerSuspended}}})
	env.ingest(t, complaint("c_1", "s_1"), complaint("c_2", "s_1"))
	if err := env.svc.Decide(t.Context(), "c_1", uphold("u")); err != nil {
		t.Fatal(err)
	}
	if got := env.sellerStatus(t, "s_1"); got != store.SellerActive {
		t.Errorf("one strike: %s, want active", got)
	}
	if err := env.svc.Decide(t.Context(), "c_2", uphold("u")); err != nil {
		t.Fatal(err)
	}
	if got := env.sellerStatus(t, "s_1"); got != store.SellerSuspended {
		t.Errorf("two strikes: %s, want suspended", got)
	}
}

func TestLadder(t *testing.T) {
	l := DefaultLadder()
	for _, tc := range []struct {
		strikes int
		want    string
	}{
		{0, store.SellerActive}, {1, store.SellerWarned}, {2, store.SellerWarned}, {3, store.SellerSuspended},
		{4, store.SellerSuspended}, {5, store.SellerTerminated}, {50, store.SellerTerminated},
	} {
		t.Run(fmt.Sprint(tc.strikes), func(t *testing.T) {
			if got := l.StatusFor(tc.strikes); got != tc.want {
				t.Errorf("StatusFor(%d) = %s, want %s", tc.strikes, got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		l     Ladder
		valid bool
	}{
		{"default", DefaultLadder(), true},
		{"one rung", Ladder{{Strikes: 2, Status: store.SellerTerminated}}, true},
		{"empty", Ladder{}, false},
		{"unknown status", Ladder{{Strikes: 1, Status: "banned"}}, false},
		{"active is no rung", Ladder{{Strikes: 1, Status: store.SellerActive}}, false},
		{"zero strikes", Ladder{{Strikes: 0, Status: store.SellerWarned}}, false},
		{"strikes do not climb", Ladder{{Strikes: 2, Status: store.SellerWarned}, {Strikes: 2, Status: store.SellerSuspended}}, false},
		{"severity does not climb", Ladder{{Strikes: 1, Status: store.SellerSuspended}, {Strikes: 3, Status: store.SellerWarned}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.l.Validate(); (err == nil) != tc.valid {
				t.Errorf("Validate() = %v, want valid=%v", err, tc.valid)
			}
		})
	}
}

func TestCounterNoticeTimer(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{ReinstateAfter: 10 * day})
		ctx := t.Context()
		for _, id := range []string{"c_timer", "c_escalated", "c_decided", "c_rejected"} {
			env.ingest(t, complaint(id, "s_"+id))
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
		}
		// Only an upheld complaint can be contested.
		env.ingest(t, complaint("c_open", "s_2"))
		if _, err := env.svc.CounterNotice(ctx, "c_open", "u_mkt", "genuine"); !errors.Is(err, ErrConflict) {
			t.Errorf("counter-notice on an open complaint: %v, want ErrConflict", err)
		}
		env.clock.Add(day)
		for _, id := range []string{"c_timer", "c_escalated", "c_decided", "c_rejected"} {
			at, err := env.svc.CounterNotice(ctx, id, "u_mkt", "I sell genuine goods")
			if err != nil {
				t.Fatal(err)
			}
			if want := t0.Add(11 * day); !at.Equal(want) {
				t.Errorf("reinstate at %v, want %v", at, want)
			}
			if got := env.status(t, id); got != store.ComplaintContested {
				t.Errorf("%s is %s, want contested", id, got)
			}
		}
		if _, err := env.svc.CounterNotice(ctx, "c_timer", "u_mkt", "again"); !errors.Is(err, ErrConflict) {
			t.Errorf("second counter-notice: %v, want ErrConflict", err)
		}
		if err := env.svc.Escalate(ctx, "c_escalated", "u_holder"); err != nil {
			t.Fatal(err)
		}
		if err := env.svc.Escalate(ctx, "c_escalated", "u_holder"); !errors.Is(err, ErrConflict) {
			t.Errorf("escalating twice: %v, want ErrConflict", err)
		}
		if err := env.svc.Escalate(ctx, "c_open", "u_holder"); !errors.Is(err, ErrConflict) {
			t.Errorf("escalating an open complaint: %v, want ErrConflict", err)
		}
		// A reviewer decides two contested complaints before the timer.
		if err := env.svc.Decide(ctx, "c_decided", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		if err := env.svc.Decide(ctx, "c_rejected", reject("u_rev")); err != nil {
			t.Fatal(err)
		}
		if _, ok := env.pending(t)["reinstatement:c_rejected"]; !ok {
			t.Error("rejecting a contested complaint did not reinstate its listing")
		}
		if strikes, _ := env.store.SellerStrikes(ctx, "s_c_rejected"); len(strikes) != 0 {
			t.Errorf("strike of the rejected complaint kept: %+v", strikes)
		}

		// A millisecond before the waiting period ends nothing happens.
		env.clock.Add(10*day - time.Millisecond)
		if n, err := env.svc.ReinstateDue(ctx); err != nil || n != 0 {
			t.Fatalf("early: reinstated %d (%v), want 0", n, err)
		}
		env.clock.Add(time.Millisecond)
		if n, err := env.svc.ReinstateDue(ctx); err != nil || n != 1 {
			t.Fatalf("on time: reinstated %d (%v), want 1", n, err)
		}
		if n, err := env.svc.ReinstateDue(ctx); err != nil || n != 0 {
			t.Fatalf("again: reinstated %d (%v), want 0", n, err)
		}
		for id, want := range map[string]string{
			"c_timer":     store.ComplaintReinstated,
			"c_escalated": store.ComplaintContested,
			"c_decided":   store.ComplaintUpheld,
			"c_rejected":  store.ComplaintRejected,
		} {
			if got := env.status(t, id); got != want {
				t.Errorf("%s is %s, want %s", id, got, want)
			}
		}
		ev, ok := env.pending(t)["reinstatement:c_timer"]
		if !ok {
			t.Fatal("no reinstatement event for c_timer")
		}
		if got := decode[ListingEvent](t, ev.Payload); got.Action != ActionReinstate || got.Reason != ReasonCounterNotice ||
			got.ListingID != "l_c_timer" || !got.At.Equal(t0.Add(11*day)) {
			t.Errorf("reinstatement %+v", got)
		}
		for _, id := range []string{"c_escalated", "c_decided"} {
			if _, ok := env.pending(t)["reinstatement:"+id]; ok {
				t.Errorf("%s was reinstated", id)
			}
		}
		if strikes, _ := env.store.SellerStrikes(ctx, "s_c_timer"); len(strikes) != 0 {
			t.Errorf("strike of the reinstated complaint kept: %+v", strikes)
		}
		if strikes, _ := env.store.SellerStrikes(ctx, "s_c_decided"); len(strikes) != 1 {
			t.Errorf("re-upheld complaint has %d strikes, want 1", len(strikes))
		}
		// Four counter-notices; one reinstatement by the timer, one by a
		// reviewer's rejection.
		m := env.svc.metrics
		if got := testutil.ToFloat64(m.counterNotices); got != 4 {
			t.Errorf("counter-notices counted %v, want 4", got)
		}
		for reason, want := range map[string]float64{ReasonCounterNotice: 1, ReasonRejectedOnReview: 1} {
			if got := testutil.ToFloat64(m.reinstatements.WithLabelValues(reason)); got != want {
				t.Errorf("reinstatements{%s} = %v, want %v", reason, got, want)
			}
		}
		// An escalated complaint is still the reviewer's to decide.
		if err := env.svc.Decide(ctx, "c_escalated", uphold("u_rev")); err != nil {
			t.Errorf("deciding an escalated complaint: %v", err)
		}
		// A reinstated complaint is final.
		if err := env.svc.Decide(ctx, "c_timer", uphold("u_rev")); !errors.Is(err, ErrConflict) {
			t.Errorf("deciding a reinstated complaint: %v, want ErrConflict", err)
		}
	})
}

func TestRunTimerStopsWithContext(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{ReinstateAfter: day})
	env.ingest(t, complaint("c_1", "s_1"))
	if err := env.svc.Decide(t.Context(), "c_1", uphold("u")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.svc.CounterNotice(t.Context(), "c_1", "u_mkt", "genuine"); err != nil {
		t.Fatal(err)
	}
	env.clock.Add(day)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- env.svc.RunTimer(ctx, 10*time.Millisecond) }()
	deadline := time.After(10 * time.Second)
	for env.status(t, "c_1") != store.ComplaintReinstated {
		select {
		case <-deadline:
			t.Fatal("the timer did not reinstate the listing")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunTimer returned %v, want nil", err)
	}
}

func TestHolderStanding(t *testing.T) {
	q := Quality{GoodFaithRate: 0.9, MinDecisions: 50, ThrottleFloor: 0.5, ThrottleMinDecisions: 10}
	for _, tc := range []struct {
		name            string
		decided, upheld int
		want            Standing
	}{
		{"no decisions", 0, 0, StandingNormal},
		{"perfect but too few", 49, 49, StandingNormal},
		{"good faith", 50, 46, StandingGoodFaith},
		{"exactly the rate is not above it", 50, 45, StandingNormal},
		{"poor but too few to judge", 9, 0, StandingNormal},
		{"throttled", 10, 4, StandingThrottled},
		{"at the floor is not below it", 10, 5, StandingNormal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := q.standing(tc.decided, tc.upheld); got != tc.want {
				t.Errorf("standing(%d, %d) = %s, want %s", tc.decided, tc.upheld, got, tc.want)
			}
		})
	}
}

func TestHolderStandingFromDecisions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{Quality: Quality{MinDecisions: 10, ThrottleMinDecisions: 4}})
		ctx := t.Context()
		decide := func(holder string, upheld, rejected int) {
			env.mark(t, holder, "m_"+holder, domain.MarkActive)
			for i := range upheld + rejected {
				c := complaint(fmt.Sprintf("c_%s_%d", holder, i), "s_1")
				c.Source, c.HolderID, c.MarkID = domain.SourceRightsHolder, holder, "m_"+holder
				env.ingest(t, c)
				d := uphold("u_rev")
				if i >= upheld {
					d = reject("u_rev")
				}
				if err := env.svc.Decide(ctx, c.ComplaintID, d); err != nil {
					t.Fatal(err)
				}
			}
		}
		decide("h_good", 10, 0)
		decide("h_bad", 1, 3)
		decide("h_mid", 3, 2)
		// Automatic complaints are not the holder's: they do not count.
		for i := range 5 {
			c := complaint(fmt.Sprintf("c_auto_%d", i), "s_2")
			c.HolderID, c.MarkID = "h_bad", "m_h_bad"
			env.ingest(t, c)
			if err := env.svc.Decide(ctx, c.ComplaintID, uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			holder          string
			decided, upheld int
			want            Standing
		}{
			{"h_good", 10, 10, StandingGoodFaith},
			{"h_bad", 4, 1, StandingThrottled},
			{"h_mid", 5, 3, StandingNormal},
			{"h_new", 0, 0, StandingNormal},
		} {
			t.Run(tc.holder, func(t *testing.T) {
				decided, upheld, rate, err := env.svc.HolderStats(ctx, tc.holder)
				if err != nil || decided != tc.decided || upheld != tc.upheld {
					t.Fatalf("stats %d, %d (%v), want %d, %d", decided, upheld, err, tc.decided, tc.upheld)
				}
				if tc.decided > 0 && rate != float64(tc.upheld)/float64(tc.decided) {
					t.Errorf("rate %v", rate)
				}
				got, err := env.svc.HolderStanding(ctx, tc.holder)
				if err != nil || got != tc.want {
					t.Errorf("standing %s (%v), want %s", got, err, tc.want)
				}
			})
		}
	})
}

func TestSubmit(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{})
	ctx := t.Context()
	owner := Filer{UserID: "u_owner", Role: store.RoleBrandOwner, HolderID: "h_acme"}
	c := complaint("c_manual", "s_1")
	c.Source = domain.SourceRightsHolder
	if err := env.svc.Submit(ctx, c, owner); err != nil {
		t.Fatal(err)
	}
	ev, ok := env.pending(t)["complaint:c_manual"]
	if !ok || ev.Topic != "complaints" || ev.Key != "l_c_manual" {
		t.Fatalf("event %+v (present %v)", ev, ok)
	}
	got, err := domain.DecodeComplaint(ev.Payload, domain.Limits{})
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("payload decodes to %+v (%v), want %+v", got, err, c)
	}
	if err := env.svc.Submit(ctx, c, owner); !errors.Is(err, ErrConflict) {
		t.Errorf("second submission: %v, want ErrConflict", err)
	}
	if err := env.svc.Submit(ctx, complaint("c_auto", "s_1"), owner); !errors.Is(err, ErrInvalid) {
		t.Errorf("submitting an automatic complaint: %v, want ErrInvalid", err)
	}
}

// TestSubmitThroughMarks checks the filing rule (MayFile and the mark
// checks) on Submit, on both stores: every refusal names its rule and
// writes nothing, neither outbox event nor audit entry.
func TestSubmitThroughMarks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		env.mark(t, "h_acme", "m_pending", domain.MarkPending)
		env.mark(t, "h_acme", "m_suspended", domain.MarkSuspended)
		env.mark(t, "h_acme", "m_removed", domain.MarkRemoved)
		env.mark(t, "h_other", "m_other", domain.MarkActive)
		owner := Filer{UserID: "u_owner", Role: store.RoleBrandOwner, HolderID: "h_acme"}
		admin := Filer{UserID: "u_admin", Role: store.RoleAdmin}
		tests := []struct {
			name   string
			filer  Filer
			mark   string
			holder string
			rule   string // "" for success
			forbid bool
		}{
			{"owner, own active mark", owner, "m_acme", "h_acme", "", false},
			{"owner, another holder's mark", owner, "m_other", "h_acme", RuleMarkUnknown, false},
			{"owner, another holder's mark named for that holder", owner, "m_other", "h_other", RuleMarkUnknown, false},
			{"owner, no such mark", owner, "m_missing", "h_acme", RuleMarkUnknown, false},
			{"owner, unverified mark", owner, "m_pending", "h_acme", RuleMarkNotActive, false},
			{"owner, suspended mark", owner, "m_suspended", "h_acme", RuleMarkNotActive, false},
			{"owner, removed mark", owner, "m_removed", "h_acme", RuleMarkNotActive, false},
			{"admin for the mark's holder", admin, "m_other", "h_other", "", false},
			{"admin for another holder", admin, "m_other", "h_acme", RuleHolderMismatch, false},
			{"admin, no such mark", admin, "m_missing", "h_acme", RuleMarkUnknown, false},
			{"admin, unverified mark", admin, "m_pending", "h_acme", RuleMarkNotActive, false},
			{"reviewer", Filer{UserID: "u_rev", Role: store.RoleReviewer}, "m_acme", "h_acme", "", true},
			{"marketplace", Filer{UserID: "u_mkt", Role: store.RoleMarketplace}, "m_acme", "h_acme", "", true},
			{"owner without a holder", Filer{UserID: "u_x", Role: store.RoleBrandOwner}, "m_acme", "h_acme", "", true},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c := complaint(fmt.Sprintf("c_sub_%d", i), "s_1")
				c.Source, c.MarkID, c.HolderID = domain.SourceRightsHolder, tc.mark, tc.holder
				err := env.svc.Submit(t.Context(), c, tc.filer)
				_, queued := env.pending(t)["complaint:"+c.ComplaintID]
				var ie *InvalidError
				switch {
				case tc.forbid:
					if !errors.Is(err, ErrForbidden) {
						t.Fatalf("error %v, want ErrForbidden", err)
					}
				case tc.rule == "":
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if !queued {
						t.Fatal("accepted but not in the outbox")
					}
					return
				case !errors.As(err, &ie) || ie.Rule != tc.rule || !errors.Is(err, ErrInvalid):
					t.Fatalf("error %v, want an InvalidError with rule %s", err, tc.rule)
				}
				if queued {
					t.Error("a refused complaint is in the outbox")
				}
				entries, err := env.store.AuditLog(t.Context(), store.AuditQuery{ObjectID: c.ComplaintID, Limit: 10})
				if err != nil || len(entries) != 0 {
					t.Errorf("audit entries of a refused complaint: %+v (%v)", entries, err)
				}
			})
		}
		// AuthorizeFiling, which the API asks first, agrees, and names
		// the holder the complaint is filed for.
		if h, err := env.svc.AuthorizeFiling(t.Context(), admin, "m_other"); err != nil || h != "h_other" {
			t.Errorf("admin through m_other: holder %q (%v), want h_other", h, err)
		}
		if h, err := env.svc.AuthorizeFiling(t.Context(), owner, "m_acme"); err != nil || h != "h_acme" {
			t.Errorf("owner through m_acme: holder %q (%v), want h_acme", h, err)
		}
		var ie *InvalidError
		if _, err := env.svc.AuthorizeFiling(t.Context(), owner, "m_other"); !errors.As(err, &ie) || ie.Rule != RuleMarkUnknown || ie.Field != "mark_id" {
			t.Errorf("owner through another holder's mark: %v, want rule %s on mark_id", err, RuleMarkUnknown)
		}
	})
}

// TestIngestChecksMarks checks that a complaint arriving on the topic is
// stored only through an active mark of its holder; the others are
// refused with their rule, counted, and leave no trace in the store. A
// complaint stored before its mark was suspended is a duplicate on
// replay, not a refusal.
func TestIngestChecksMarks(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		env.mark(t, "h_acme", "m_pending", domain.MarkPending)
		env.mark(t, "h_acme", "m_suspended", domain.MarkSuspended)
		env.mark(t, "h_other", "m_other", domain.MarkActive)
		tests := []struct {
			name, mark, holder, source, rule string
		}{
			{"no such mark", "m_missing", "h_acme", domain.SourceAuto, RuleMarkUnknown},
			{"unverified mark", "m_pending", "h_acme", domain.SourceAuto, RuleMarkNotActive},
			{"suspended mark", "m_suspended", "h_acme", domain.SourceAuto, RuleMarkNotActive},
			{"another holder's mark", "m_other", "h_acme", domain.SourceAuto, RuleHolderMismatch},
			{"no holder", "m_acme", "", domain.SourceAuto, RuleHolderMismatch},
			{"manual, another holder's mark", "m_other", "h_acme", domain.SourceRightsHolder, RuleHolderMismatch},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c := complaint(fmt.Sprintf("c_in_%d", i), "s_1")
				c.MarkID, c.HolderID, c.Source = tc.mark, tc.holder, tc.source
				before := testutil.ToFloat64(env.svc.refused.WithLabelValues(tc.rule, tc.source))
				inserted, err := env.svc.Ingest(t.Context(), c)
				var ie *InvalidError
				if inserted || !errors.As(err, &ie) || ie.Rule != tc.rule || !errors.Is(err, ErrInvalid) {
					t.Fatalf("inserted %v, error %v; want a refusal with rule %s", inserted, err, tc.rule)
				}
				if _, err := env.store.GetComplaint(t.Context(), c.ComplaintID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("refused complaint is stored (%v)", err)
				}
				if got := testutil.ToFloat64(env.svc.refused.WithLabelValues(tc.rule, tc.source)); got != before+1 {
					t.Errorf("refused{rule=%s} went from %v to %v, want +1", tc.rule, before, got)
				}
			})
		}
		c := complaint("c_then_suspended", "s_1")
		env.ingest(t, c)
		err := env.store.WithTx(t.Context(), func(tx *store.Tx) error {
			_, err := tx.SetMarkStatus(t.Context(), "m_acme", domain.MarkActive, domain.MarkSuspended)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if inserted, err := env.svc.Ingest(t.Context(), c); inserted || err != nil {
			t.Errorf("replay after suspension: inserted %v, error %v; want a duplicate", inserted, err)
		}
	})
}

func TestNewOptions(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{Store: st}, true},
		{"no store", Options{}, false},
		{"bad ladder", Options{Store: st, Ladder: Ladder{{Strikes: 0, Status: store.SellerWarned}}}, false},
		{"negative TTL", Options{Store: st, StrikeTTL: -time.Hour}, false},
		{"floor above good faith", Options{Store: st, Quality: Quality{ThrottleFloor: 0.95}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if (err == nil) != tc.ok {
				t.Errorf("New: %v, want ok=%v", err, tc.ok)
			}
		})
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Options{Store: st, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Store: st, Registerer: reg}); err == nil {
		t.Error("a second service registered the same metrics without error")
	}
}

// TestConcurrentStrikesOnOneSeller decides six complaints against one seller
// at once: every decision succeeds, every strike counts, and each rung of the
// ladder is climbed exactly once.
func TestConcurrentStrikesOnOneSeller(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		const n = 6
		for i := range n {
			env.ingest(t, complaint(fmt.Sprintf("c_%d", i), "s_1"))
		}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = env.svc.Decide(ctx, fmt.Sprintf("c_%d", i), uphold("u_rev"))
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("decision %d: %v", i, err)
			}
		}
		if got := env.sellerStatus(t, "s_1"); got != store.SellerTerminated {
			t.Errorf("seller %s after %d strikes, want terminated", got, n)
		}
		var actions []string
		for id := range env.pending(t) {
			if len(id) > 7 && id[:7] == "seller-" {
				actions = append(actions, id)
			}
		}
		slices.Sort(actions)
		want := []string{"seller-action:s_1:suspended:3", "seller-action:s_1:terminated:5", "seller-action:s_1:warned:1"}
		if !reflect.DeepEqual(actions, want) {
			t.Errorf("seller actions %v, want %v", actions, want)
		}
	})
}

func TestSeller(t *testing.T) {
	env := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{StrikeTTL: 100 * day})
	ctx := t.Context()
	rec, err := env.svc.Seller(ctx, "s_unknown")
	if err != nil || rec.Status != store.SellerActive || rec.ActiveStrikes != 0 || len(rec.Strikes) != 0 {
		t.Errorf("unknown seller: %+v (%v), want active without strikes", rec, err)
	}
	for i, advance := range []time.Duration{0, 50 * day} {
		env.clock.Add(advance)
		id := fmt.Sprintf("c_%d", i)
		env.ingest(t, complaint(id, "s_1"))
		if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name        string
		advance     time.Duration
		wantActive  int
		wantStrikes int
	}{
		{"both active", 0, 2, 2},
		{"the first expired", 50 * day, 1, 2},
		{"both expired", 50 * day, 0, 2},
	} {
		env.clock.Add(tc.advance)
		rec, err := env.svc.Seller(ctx, "s_1")
		if err != nil || rec.Status != store.SellerWarned || rec.ActiveStrikes != tc.wantActive || len(rec.Strikes) != tc.wantStrikes {
			t.Errorf("%s: %+v (%v), want warned with %d active of %d", tc.name, rec, err, tc.wantActive, tc.wantStrikes)
		}
	}
}
