package review

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// notices returns the seller notices in the outbox by decision, for the
// complaint complaintID.
func (e *env) notices(t *testing.T, complaintID string) map[string]domain.SellerNotice {
	t.Helper()
	out := map[string]domain.SellerNotice{}
	for _, ev := range e.pending(t) {
		if ev.Topic != "seller-notices" {
			continue
		}
		n := decode[domain.SellerNotice](t, ev.Payload)
		if n.ComplaintID != complaintID {
			continue
		}
		if ev.EventID != n.NoticeID || ev.Key != n.SellerID || n.NoticeID != domain.NoticeID(complaintID, n.Decision) {
			t.Errorf("notice event %s key %s carries id %s seller %s", ev.EventID, ev.Key, n.NoticeID, n.SellerID)
		}
		out[n.Decision] = n
	}
	return out
}

func decisions(m map[string]domain.SellerNotice) string {
	var out []string
	for _, d := range domain.NoticeDecisions {
		if _, ok := m[d]; ok {
			out = append(out, d)
		}
	}
	return strings.Join(out, ",")
}

// TestNoticesOnUphold: the seller's first uphold tells it of the takedown,
// the strike and the warning, in the listing's language, with the evidence
// it may see and nothing else, in the decision's transaction.
func TestNoticesOnUphold(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		c := complaint("c_1", "s_1")
		c.Listing.Locale = "zh-CN"
		c.Explanation = "secret explanation"
		c.Evidence = append(c.Evidence,
			domain.Evidence{Matcher: "cue", Score: 0.5, Field: "title", Match: "高仿", Kind: "cue"},
			domain.Evidence{Matcher: "seller", Score: 1, Field: "seller", Match: "s_other_authorized", Kind: "authorized"})
		env.ingest(t, c)
		d := uphold("u_rev")
		d.Note = "holder's internal note: do not show"
		if err := env.svc.Decide(ctx, "c_1", d); err != nil {
			t.Fatal(err)
		}
		got := env.notices(t, "c_1")
		if decisions(got) != "takedown,strike,warning" {
			t.Fatalf("notices %s, want takedown,strike,warning", decisions(got))
		}
		for kind, n := range got {
			if n.Locale != "zh" || n.TemplateVersion != "v1" || n.Mark.Name != "ACME m_acme" || n.Holder.Name != "h_acme" ||
				n.Violation != domain.ViolationCounterfeitCue || n.Policy != "counterfeit" || n.Strikes != 1 ||
				n.NextStrike != "strike" || n.Automated || n.ListingID != "l_c_1" || n.ListingVersion != 1 {
				t.Errorf("%s notice %+v", kind, n)
			}
			if n.CounterNotice == nil || !n.CounterNotice.Until.Equal(t0.Add(30*day)) || n.CounterNotice.How != "marketplace" {
				t.Errorf("%s notice counter-notice %+v", kind, n.CounterNotice)
			}
			if strings.Join(n.Evidence.MatchedWords, ",") != "ACME,高仿" {
				t.Errorf("%s notice evidence %+v", kind, n.Evidence)
			}
			if !strings.Contains(n.Text, "高仿") || !strings.Contains(n.Text, "诚信卖家") {
				t.Errorf("%s notice text is not the Chinese template with the evidence:\n%s", kind, n.Text)
			}
		}
		for _, ev := range env.pending(t) {
			for _, secret := range []string{"internal note", "secret explanation", "s_other_authorized"} {
				if ev.Topic == "seller-notices" && strings.Contains(string(ev.Payload), secret) {
					t.Errorf("notice %s reveals %q", ev.EventID, secret)
				}
			}
		}
	})
}

// TestNoticesClimbTheLadder: the third strike announces the suspension,
// the fifth the termination, each with what the next strike brings.
func TestNoticesClimbTheLadder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		want := map[string]struct{ decisions, next string }{
			"c_1": {"takedown,strike,warning", "strike"},
			"c_2": {"takedown,strike", "suspended"},
			"c_3": {"takedown,strike,suspension", "strike"},
			"c_4": {"takedown,strike", "terminated"},
			"c_5": {"takedown,strike,termination", "none"},
		}
		for _, id := range []string{"c_1", "c_2", "c_3", "c_4", "c_5"} {
			env.ingest(t, complaint(id, "s_1"))
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
			got := env.notices(t, id)
			if decisions(got) != want[id].decisions || got["strike"].NextStrike != want[id].next {
				t.Errorf("%s: notices %s next %q, want %s next %q", id, decisions(got), got["strike"].NextStrike, want[id].decisions, want[id].next)
			}
		}
		if n := env.notices(t, "c_5")["termination"]; n.Strikes != 5 || !strings.Contains(n.Text, "terminated because it has 5 active strikes") {
			t.Errorf("termination notice %+v", n)
		}
	})
}

// TestNoticesOnReinstatement: a reviewer's rejection of a contested
// complaint and the timer both tell the seller its listing is back,
// human and automated respectively, without a counter-notice offer.
func TestNoticesOnReinstatement(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		for _, id := range []string{"c_review", "c_timer"} {
			env.ingest(t, complaint(id, "s_"+id))
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
			if _, err := env.svc.CounterNotice(ctx, id, "marketplace", "it is genuine"); err != nil {
				t.Fatal(err)
			}
		}
		if err := env.svc.Decide(ctx, "c_review", reject("u_rev")); err != nil {
			t.Fatal(err)
		}
		env.clock.Add(11 * day)
		if n, err := env.svc.ReinstateDue(ctx); err != nil || n != 1 {
			t.Fatalf("reinstated %d (%v), want 1", n, err)
		}
		for id, want := range map[string]struct {
			automated bool
			policy    string
		}{"c_review": {false, ReasonRejectedOnReview}, "c_timer": {true, ReasonCounterNotice}} {
			n, ok := env.notices(t, id)["reinstatement"]
			if !ok {
				t.Fatalf("%s: no reinstatement notice", id)
			}
			if n.Automated != want.automated || n.Policy != want.policy || n.Strikes != 0 || n.CounterNotice != nil || !n.StrikeRemoved ||
				!strings.Contains(n.Text, "is online again") {
				t.Errorf("%s: reinstatement notice %+v", id, n)
			}
		}
	})
}

// nominative is a complaint about an accessory that named the brand: the
// seller matcher found a nominative phrase, yet the listing was upheld.
func nominative(id, seller string) *domain.Complaint {
	c := complaint(id, seller)
	c.Evidence = append(c.Evidence, domain.Evidence{Matcher: "seller", Score: 0.3, Field: "title", Match: "for ACME", Kind: "nominative"})
	return c
}

// TestEducateFirstNominative: with the option, a first nominative-use-like
// uphold teaches instead of striking; the next uphold strikes and counts
// as a repeat after education. Without it, the first one strikes.
func TestEducateFirstNominative(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{EducateFirstNominative: true})
		ctx := t.Context()
		env.ingest(t, nominative("c_1", "s_1"), nominative("c_2", "s_1"), complaint("c_3", "s_2"))
		if err := env.svc.Decide(ctx, "c_1", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		got := env.notices(t, "c_1")
		if decisions(got) != "takedown,warning" {
			t.Fatalf("first nominative case: notices %s, want takedown,warning", decisions(got))
		}
		w := got["warning"]
		if !w.Educated || w.Strikes != 0 || w.NextStrike != store.SellerWarned || w.Violation != domain.ViolationCompatibleAccessory ||
			!strings.Contains(w.Text, "compatible with iPhone 15") {
			t.Errorf("education notice %+v", w)
		}
		if strikes, _ := env.store.SellerStrikes(ctx, "s_1"); len(strikes) != 0 || env.sellerStatus(t, "s_1") != store.SellerActive {
			t.Errorf("educated seller has strikes %v, status %s", strikes, env.sellerStatus(t, "s_1"))
		}
		if env.status(t, "c_1") != store.ComplaintUpheld {
			t.Errorf("complaint %s, want upheld: the listing still comes down", env.status(t, "c_1"))
		}
		repeat := env.svc.metrics.repeatAfterEducation.WithLabelValues(domain.ViolationCompatibleAccessory)
		if testutil.ToFloat64(repeat) != 0 {
			t.Error("repeat counted before any repeat")
		}
		if err := env.svc.Decide(ctx, "c_2", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		if got := decisions(env.notices(t, "c_2")); got != "takedown,strike,warning" {
			t.Errorf("second nominative case: notices %s, want takedown,strike,warning", got)
		}
		if testutil.ToFloat64(repeat) != 1 {
			t.Errorf("repeat after education = %v, want 1", testutil.ToFloat64(repeat))
		}
		// A seller's counterfeit is struck whatever the option.
		if err := env.svc.Decide(ctx, "c_3", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		if got := decisions(env.notices(t, "c_3")); got != "takedown,strike,warning" {
			t.Errorf("counterfeit case: notices %s", got)
		}

		// Withdrawn, the educated case's listing comes back with no strike
		// to withdraw, and its notice does not pretend otherwise.
		if err := env.svc.Withdraw(ctx, "c_1", "u_owner", "resolved"); err != nil {
			t.Fatal(err)
		}
		if n := env.notices(t, "c_1")["reinstatement"]; n.StrikeRemoved || strings.Contains(n.Text, "strike for it is withdrawn") {
			t.Errorf("reinstatement of an educated case: %+v", n)
		}

		plain := newEnv(t, e, Options{})
		plain.ingest(t, nominative("c_1", "s_1"))
		if err := plain.svc.Decide(ctx, "c_1", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		if got := decisions(plain.notices(t, "c_1")); got != "takedown,strike,warning" {
			t.Errorf("without the option: notices %s, want a strike", got)
		}
	})
}

// TestCounterNoticeWindow: the window the notices state is enforced.
func TestCounterNoticeWindow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{CounterNoticeWindow: 7 * day})
		ctx := t.Context()
		env.ingest(t, complaint("c_late", "s_1"), complaint("c_on_time", "s_2"))
		for _, id := range []string{"c_late", "c_on_time"} {
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
		}
		if n := env.notices(t, "c_late")["takedown"]; n.CounterNotice == nil || !n.CounterNotice.Until.Equal(t0.Add(7*day)) {
			t.Errorf("takedown notice counter-notice %+v", n.CounterNotice)
		}
		env.clock.Add(7 * day)
		if _, err := env.svc.CounterNotice(ctx, "c_on_time", "marketplace", "genuine"); err != nil {
			t.Errorf("on the last moment: %v", err)
		}
		env.clock.Add(time.Millisecond)
		if _, err := env.svc.CounterNotice(ctx, "c_late", "marketplace", "genuine"); !errors.Is(err, ErrConflict) {
			t.Errorf("after the window: %v, want ErrConflict", err)
		}
	})
}

// liftNotices returns the suspension_lifted notices in the outbox by id.
func (e *env) liftNotices(t *testing.T) map[string]domain.SellerNotice {
	t.Helper()
	out := map[string]domain.SellerNotice{}
	for id, ev := range e.pending(t) {
		if ev.Topic != "seller-notices" {
			continue
		}
		if n := decode[domain.SellerNotice](t, ev.Payload); n.Decision == domain.NoticeSuspensionLifted {
			if ev.EventID != n.NoticeID || ev.Key != n.SellerID {
				t.Errorf("lift notice event %s key %s carries id %s seller %s", ev.EventID, ev.Key, n.NoticeID, n.SellerID)
			}
			out[id] = n
		}
	}
	return out
}

// TestNoticeOnLiftedSuspension: lifting a suspension tells the seller, in
// the lift's transaction, that it may sell again with its strikes still
// counting, without the admin's reason; each lift of a seller suspended
// twice is its own notice, and a refused lift tells nothing.
func TestNoticeOnLiftedSuspension(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		for _, id := range []string{"c_1", "c_2", "c_3"} {
			env.ingest(t, complaint(id, "s_1"))
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := env.svc.LiftSuspension(ctx, "s_1", "u_admin", "secret: holder's lawyer agreed"); err != nil {
			t.Fatal(err)
		}
		got := env.liftNotices(t)
		first := domain.SuspensionLiftedNoticeID("s_1", t0)
		n, ok := got[first]
		if len(got) != 1 || !ok {
			t.Fatalf("lift notices %v, want one with id %s", got, first)
		}
		if n.SellerID != "s_1" || n.Policy != domain.PolicyLiftedOnReview || n.Strikes != 3 || n.NextStrike != store.SellerSuspended ||
			n.Automated || n.CounterNotice != nil || n.ComplaintID != "" || n.ListingID != "" || n.Locale != "en" || !n.At.Equal(t0) ||
			!strings.Contains(n.Text, "suspension of your selling account is lifted") || !strings.Contains(n.Text, "3 active strike(s)") {
			t.Errorf("lift notice %+v", n)
		}
		for _, ev := range env.pending(t) {
			if ev.Topic == "seller-notices" && strings.Contains(string(ev.Payload), "lawyer") {
				t.Errorf("notice %s reveals the admin's reason", ev.EventID)
			}
		}
		if _, err := env.svc.LiftSuspension(ctx, "s_1", "u_admin", "again"); !errors.Is(err, ErrConflict) {
			t.Fatalf("lift of an active seller = %v, want ErrConflict", err)
		}
		if got := env.liftNotices(t); len(got) != 1 {
			t.Errorf("a refused lift wrote a notice: %v", got)
		}
		// A fourth strike suspends the seller again; the second lift is
		// a second notice.
		env.clock.Add(time.Hour)
		env.ingest(t, complaint("c_4", "s_1"))
		if err := env.svc.Decide(ctx, "c_4", uphold("u_rev")); err != nil {
			t.Fatal(err)
		}
		if _, err := env.svc.LiftSuspension(ctx, "s_1", "u_admin", "second appeal"); err != nil {
			t.Fatal(err)
		}
		second := domain.SuspensionLiftedNoticeID("s_1", t0.Add(time.Hour))
		if got := env.liftNotices(t); len(got) != 2 || got[second].Strikes != 4 || second == first {
			t.Errorf("lift notices after the second lift %v, want %s and %s", got, first, second)
		}
	})
}
