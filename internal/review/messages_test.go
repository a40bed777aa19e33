package review

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestMessages: a thread per complaint, in order, audited, plain text
// and size-limited.
func TestMessages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		env.ingest(t, complaint("c_1", "s_1"), complaint("c_2", "s_2"))
		if _, err := env.svc.PostMessage(ctx, "c_1", store.AuthorHolder, "u_owner", "Please remove the logo."); err != nil {
			t.Fatal(err)
		}
		if _, err := env.svc.PostMessage(ctx, "c_1", store.AuthorSeller, "u_market", "Done, <b>new</b> photos.\nThanks"); err != nil {
			t.Fatal(err)
		}
		if _, err := env.svc.PostMessage(ctx, "c_2", store.AuthorSeller, "u_market", "other thread"); err != nil {
			t.Fatal(err)
		}
		ms, err := env.svc.Messages(ctx, "c_1", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || ms[0].Author != store.AuthorHolder || ms[1].Body != "Done, <b>new</b> photos.\nThanks" || ms[1].Actor != "u_market" {
			t.Fatalf("thread %+v", ms)
		}
		if after, _ := env.svc.Messages(ctx, "c_1", ms[0].ID, 0); len(after) != 1 || after[0].ID != ms[1].ID {
			t.Errorf("after the first: %+v", after)
		}
		entries, err := env.store.AuditLog(ctx, store.AuditQuery{ObjectType: "complaint", ObjectID: "c_1"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, en := range entries {
			if en.Action == "complaint.message" {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d message audit entries, want 2", n)
		}
		for name, body := range map[string]string{
			"blank": "  \n", "too long": strings.Repeat("x", MaxMessageBytes+1), "control": "a\x00b", "escape": "a\x1b[31m",
			"bad utf-8": "a\xffb",
		} {
			if _, err := env.svc.PostMessage(ctx, "c_1", store.AuthorSeller, "u_market", body); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
		if _, err := env.svc.PostMessage(ctx, "c_1", "reviewer", "u_rev", "hi"); !errors.Is(err, ErrInvalid) {
			t.Errorf("unknown author: %v", err)
		}
		if _, err := env.svc.PostMessage(ctx, "c_missing", store.AuthorHolder, "u_owner", "hi"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown complaint: %v", err)
		}
	})
}

// TestWithdraw: an open complaint closes; an upheld or contested one is
// reinstated with its strike removed and the seller told; a decided one
// cannot be withdrawn.
func TestWithdraw(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		env := newEnv(t, e, Options{})
		ctx := t.Context()
		env.ingest(t, complaint("c_open", "s_1"), complaint("c_up", "s_2"), complaint("c_cont", "s_3"), complaint("c_rej", "s_4"))
		for _, id := range []string{"c_up", "c_cont"} {
			if err := env.svc.Decide(ctx, id, uphold("u_rev")); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := env.svc.CounterNotice(ctx, "c_cont", "u_market", "genuine"); err != nil {
			t.Fatal(err)
		}
		if err := env.svc.Decide(ctx, "c_rej", reject("u_rev")); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]string{"c_open": store.ComplaintRejected, "c_up": store.ComplaintReinstated, "c_cont": store.ComplaintReinstated} {
			if err := env.svc.Withdraw(ctx, id, "u_owner", "We settled with the seller."); err != nil {
				t.Fatalf("withdraw %s: %v", id, err)
			}
			if got := env.status(t, id); got != want {
				t.Errorf("%s is %s, want %s", id, got, want)
			}
			ms, _ := env.svc.Messages(ctx, id, 0, 0)
			if len(ms) != 1 || ms[0].Author != store.AuthorHolder || ms[0].Body != "We settled with the seller." {
				t.Errorf("%s thread %+v", id, ms)
			}
		}
		for _, id := range []string{"c_up", "c_cont"} {
			if _, ok := env.pending(t)["reinstatement:"+id]; !ok {
				t.Errorf("%s: no reinstatement event", id)
			}
			if n, ok := env.notices(t, id)["reinstatement"]; !ok || n.Policy != ReasonWithdrawn || n.Automated {
				t.Errorf("%s: reinstatement notice %+v", id, n)
			}
		}
		if strikes, _ := env.store.SellerStrikes(ctx, "s_2"); len(strikes) != 0 {
			t.Errorf("strike of the withdrawn complaint kept: %+v", strikes)
		}
		if _, ok := env.notices(t, "c_open")["reinstatement"]; ok {
			t.Error("an open complaint's withdrawal announced a reinstatement")
		}
		if err := env.svc.Withdraw(ctx, "c_rej", "u_owner", "too late"); !errors.Is(err, ErrConflict) {
			t.Errorf("withdraw a rejected complaint: %v, want ErrConflict", err)
		}
		if err := env.svc.Withdraw(ctx, "c_open", "u_owner", "again"); !errors.Is(err, ErrConflict) {
			t.Errorf("withdraw twice: %v, want ErrConflict", err)
		}
	})
}

// FuzzValidMessage: whatever a seller or holder sends, an accepted
// message is plain UTF-8 text within the cap.
func FuzzValidMessage(f *testing.F) {
	for _, s := range []string{"hello", "", " ", "a\x00b", "line\nline\ttab", "\xff", "<b>x</b>", "高仿 реплика"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if validMessage("body", body) != nil {
			return
		}
		if len(body) > MaxMessageBytes || !utf8.ValidString(body) || strings.TrimSpace(body) == "" {
			t.Fatalf("accepted %q", body)
		}
		for _, r := range body {
			if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
				t.Fatalf("accepted control character %U in %q", r, body)
			}
		}
	})
}
