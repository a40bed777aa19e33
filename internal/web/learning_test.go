package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestBankFromTheComplaintPage: a reviewer rejects a complaint, marks its
// text match as not distinctive from the complaint page, sees the entry,
// and undoes it; an open complaint offers no such control, and a brand
// owner cannot bank.
func TestBankFromTheComplaintPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.complaint(t, ownHolder)
		rev := e.login(t, "reviewer")
		if p := rev.get("/complaints/" + id); strings.Contains(p.body, `id="bank-form"`) {
			t.Fatal("an open complaint offers the negative bank")
		}
		if r := rev.post("/complaints/"+id+"/decide", url.Values{"decision": {"reject"}, "reason_code": {"genuine"}}); r.status != http.StatusSeeOther {
			t.Fatalf("reject: %d %s", r.status, r.body)
		}
		p := rev.get("/complaints/" + id)
		if !strings.Contains(p.body, `id="bank-form"`) || !strings.Contains(p.body, "Qui11ora") {
			t.Fatalf("the rejected complaint's page lacks the bank control: %.3000s", p.body)
		}
		if r := e.login(t, "brand_owner").post("/complaints/"+id+"/negative-bank", url.Values{"evidence": {"0"}, "reason": {"x"}}); r.status != http.StatusForbidden {
			t.Errorf("brand owner banks: %d, want 403", r.status)
		}
		r := rev.post("/complaints/"+id+"/negative-bank", url.Values{"evidence": {"0"}, "scope": {"mark"}, "reason": {"this word is ordinary here"}})
		if r.status != http.StatusSeeOther || !strings.Contains(r.location, "banked=") {
			t.Fatalf("bank: %d %s %s", r.status, r.location, r.body)
		}
		es, err := e.store.BankEntries(t.Context(), store.BankQuery{})
		if err != nil || len(es) != 1 || es[0].Entry.Phrase != "Qui11ora" || es[0].Entry.MarkID != "m_"+ownHolder {
			t.Fatalf("bank %+v, %v", es, err)
		}
		p = rev.get("/complaints/" + id)
		undo := "/negative-bank/" + es[0].Entry.EntryID + "/undo"
		if !strings.Contains(p.body, undo) || !strings.Contains(p.body, "this word is ordinary here") {
			t.Fatalf("the page does not list the entry with its undo")
		}
		if r := rev.post(undo, nil); r.status != http.StatusSeeOther || !strings.Contains(r.location, "/complaints/"+id) {
			t.Fatalf("undo: %d %s", r.status, r.location)
		}
		if es, _ := e.store.BankEntries(t.Context(), store.BankQuery{}); len(es) != 0 {
			t.Errorf("live entries after the undo: %+v", es)
		}
		if p := rev.get("/complaints/" + id); !strings.Contains(p.body, "undone by") {
			t.Errorf("the page does not show the entry undone")
		}
	})
}

// TestQuarantineOnTheMarkPage: the holder sees why its mark is in
// quarantine, without a release button; an admin releases it there.
func TestQuarantineOnTheMarkPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.mark(t, ownHolder, "", domain.MarkActive)
		if err := e.store.WithTx(t.Context(), func(tx *store.Tx) error {
			_, err := tx.SetMarkQuarantines(t.Context(), id, []domain.Quarantine{{
				Kind: domain.QuarantineImage, Ref: "https://img.example/stock.jpg", Trigger: domain.TriggerFlood,
				Reason: "flood: 412 automatic complaints in the last 1h0m0s", Since: time.Now(),
			}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		owner := e.login(t, "brand_owner").get("/marks/" + id)
		if !strings.Contains(owner.body, "412 automatic complaints") || strings.Contains(owner.body, "/quarantine/release") {
			t.Fatalf("the holder's mark page: reason shown %v, release offered %v",
				strings.Contains(owner.body, "412 automatic complaints"), strings.Contains(owner.body, "/quarantine/release"))
		}
		admin := e.login(t, "admin")
		if p := admin.get("/marks/" + id); !strings.Contains(p.body, "/marks/"+id+"/quarantine/release") {
			t.Fatal("the admin's mark page has no release button")
		}
		r := admin.post("/marks/"+id+"/quarantine/release", url.Values{"kind": {"image"}, "ref": {"https://img.example/stock.jpg"}, "reason": {"photo removed"}})
		if r.status != http.StatusSeeOther || !strings.Contains(r.location, "done=") {
			t.Fatalf("release: %d %s", r.status, r.location)
		}
		m, _ := e.store.GetMark(t.Context(), id)
		if _, held := m.Body.Quarantined(domain.QuarantineImage, "https://img.example/stock.jpg"); held {
			t.Error("still quarantined after the release")
		}
		if p := admin.get("/marks/" + id); !strings.Contains(p.body, "released by") {
			t.Error("the mark page does not show the release")
		}
		again := admin.post("/marks/"+id+"/quarantine/release", url.Values{"kind": {"image"}, "ref": {"https://img.example/stock.jpg"}, "reason": {"x"}})
		if !strings.Contains(again.location, "error=") {
			t.Errorf("second release: %d %s, want an error on the page", again.status, again.location)
		}
	})
}

// TestCalibrationOnTheMarkPage: once reviewers have decided enough
// automatic complaints of a mark, its page shows the calibration per
// matcher and the scores of upheld and rejected complaints; the holder
// may read it, an admin applies the recommended threshold there (audited,
// the mark's version moves) and a stale form is refused.
func TestCalibrationOnTheMarkPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		decide := func(score float64, uphold bool) {
			id := e.complaintScored(t, ownHolder, score)
			d := review.Decision{Verdict: review.VerdictUphold, ReasonCode: "counterfeit", Actor: "u_test"}
			if !uphold {
				d = review.Decision{Verdict: review.VerdictReject, ReasonCode: "genuine", Actor: "u_test"}
			}
			if err := e.review.Decide(t.Context(), id, d); err != nil {
				t.Fatal(err)
			}
		}
		for range 35 {
			decide(0.9, true)
		}
		for range 10 {
			decide(0.55, false)
		}
		mark := "m_" + ownHolder

		owner := e.login(t, "brand_owner").get("/marks/" + mark)
		for _, want := range []string{
			"45 automatic complaints decided, 35 upheld",
			"recommended <strong>0.56</strong>",
			// Every test complaint carries text, cue and image evidence.
			"<tr><td>image</td><td>45</td><td>35</td><td>0.778</td></tr>",
			"<tr><td>0.9–1.0</td><td>35</td><td>0</td></tr>",
			"<tr><td>0.5–0.6</td><td>0</td><td>10</td></tr>",
		} {
			if !strings.Contains(owner.body, want) {
				t.Errorf("the holder's mark page lacks %q", want)
			}
		}
		if strings.Contains(owner.body, "/threshold") {
			t.Error("the holder is offered to apply a threshold")
		}

		admin := e.login(t, "admin")
		page := admin.get("/marks/" + mark)
		if !strings.Contains(page.body, `action="/marks/`+mark+`/threshold"`) || !strings.Contains(page.body, "Apply threshold 0.56") {
			t.Fatalf("the admin's mark page offers no apply: %.3000s", page.body)
		}
		before, err := e.store.GetMark(t.Context(), mark)
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"threshold": {"0.56"}, "version": {strconv.FormatInt(before.Version, 10)}, "reason": {"calibration from decisions"}}
		r := admin.post("/marks/"+mark+"/threshold", form)
		if r.status != http.StatusSeeOther || !strings.Contains(r.location, "done=") {
			t.Fatalf("apply: %d %s", r.status, r.location)
		}
		after, err := e.store.GetMark(t.Context(), mark)
		if err != nil {
			t.Fatal(err)
		}
		if after.Body.Threshold == nil || *after.Body.Threshold != 0.56 || after.Version != before.Version+1 {
			t.Fatalf("after the apply: threshold %v, version %d (was %d)", after.Body.Threshold, after.Version, before.Version)
		}
		audit, err := e.store.AuditLog(t.Context(), store.AuditQuery{ObjectType: "mark", ObjectID: mark})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(audit); n == 0 || audit[n-1].Action != "mark.threshold" || audit[n-1].Actor != e.users["admin"].ID ||
			!strings.Contains(string(audit[n-1].Detail), `"recommended":"0.56"`) {
			t.Errorf("audit %+v", audit)
		}
		if p := admin.get("/marks/" + mark); !strings.Contains(p.body, "Threshold 0.56;") {
			t.Error("the mark page does not show the applied threshold")
		}
		// The same form again: the mark has moved on.
		if again := admin.post("/marks/"+mark+"/threshold", form); !strings.Contains(again.location, "error=") {
			t.Errorf("a stale apply: %d %s, want an error on the page", again.status, again.location)
		}
	})
}
