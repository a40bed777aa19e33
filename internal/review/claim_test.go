package review

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestClaim(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		env.ingest(t, complaint("c_1", "s_1"))
		c, err := env.svc.Claim(ctx, "c_1", "u_a", time.Minute)
		if err != nil || c.UserID != "u_a" || !c.ExpiresAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("first claim = %+v, %v", c, err)
		}
		_, err = env.svc.Claim(ctx, "c_1", "u_b", time.Minute)
		var ce *ClaimedError
		if !errors.As(err, &ce) || !errors.Is(err, ErrClaimed) || ce.Claim.UserID != "u_a" {
			t.Fatalf("claim by another = %v, want ClaimedError naming u_a", err)
		}
		env.clock.Add(30 * time.Second)
		if c, err = env.svc.Claim(ctx, "c_1", "u_a", time.Minute); err != nil || !c.ExpiresAt.Equal(t0.Add(90*time.Second)) {
			t.Fatalf("renewal = %+v, %v", c, err)
		}
		claims, err := env.svc.Claims(ctx, []string{"c_1", "c_none"})
		if err != nil || len(claims) != 1 || claims["c_1"].UserID != "u_a" {
			t.Fatalf("Claims = %v, %v", claims, err)
		}
		env.clock.Add(2 * time.Minute) // the lease runs out
		if claims, _ = env.svc.Claims(ctx, []string{"c_1"}); len(claims) != 0 {
			t.Errorf("expired claim still listed: %v", claims)
		}
		if c, err = env.svc.Claim(ctx, "c_1", "u_b", 0); err != nil || c.UserID != "u_b" {
			t.Fatalf("claim after expiry = %+v, %v", c, err)
		}
		if err := env.svc.Release(ctx, "c_1", "u_a"); err != nil { // not u_a's: no effect
			t.Fatal(err)
		}
		if _, err := env.svc.Claim(ctx, "c_1", "u_a", 0); !errors.Is(err, ErrClaimed) {
			t.Fatalf("release by a non-holder freed the claim: %v", err)
		}
		if err := env.svc.Release(ctx, "c_1", "u_b"); err != nil {
			t.Fatal(err)
		}
		if _, err := env.svc.Claim(ctx, "c_1", "u_a", 0); err != nil {
			t.Fatalf("claim after release: %v", err)
		}
		if _, err := env.svc.Claim(ctx, "c_missing", "u_a", 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("claim of unknown complaint = %v, want ErrNotFound", err)
		}
	})
}

func TestLiftSuspension(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		if _, err := env.svc.LiftSuspension(ctx, "s_1", "u_admin", "appeal"); !errors.Is(err, ErrConflict) {
			t.Fatalf("lift of an active seller = %v, want ErrConflict", err)
		}
		for _, id := range []string{"c_1", "c_2", "c_3"} {
			env.ingest(t, complaint(id, "s_1"))
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
		}
		if got := env.sellerStatus(t, "s_1"); got != store.SellerSuspended {
			t.Fatalf("seller %s after three strikes, want suspended", got)
		}
		if _, err := env.svc.LiftSuspension(ctx, "s_1", "u_admin", ""); !errors.Is(err, ErrInvalid) {
			t.Fatalf("lift without a reason = %v, want ErrInvalid", err)
		}
		rec, err := env.svc.LiftSuspension(ctx, "s_1", "u_admin", "appeal upheld")
		if err != nil || rec.Status != store.SellerActive || rec.ActiveStrikes != 3 {
			t.Fatalf("lift = %+v, %v", rec, err)
		}
		ev, ok := env.pending(t)["seller-action:s_1:active:"+strconv.FormatInt(t0.UnixMilli(), 10)]
		if !ok || ev.Topic != "seller-actions" || ev.Key != "s_1" {
			t.Errorf("no seller-action event for the lift: %v", env.pending(t))
		}
		entries, err := env.store.AuditLog(ctx, store.AuditQuery{ObjectType: "seller", ObjectID: "s_1", Actor: "u_admin"})
		if err != nil || len(entries) != 1 || entries[0].Action != "seller.suspension_lifted" {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
		if _, err := env.svc.LiftSuspension(ctx, "s_1", "u_admin", "again"); !errors.Is(err, ErrConflict) {
			t.Fatalf("second lift = %v, want ErrConflict", err)
		}
	})
}
