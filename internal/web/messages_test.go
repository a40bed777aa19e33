package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestThreadPages: the brand owner writes to the seller from the
// complaint page and withdraws the complaint there; the text is shown
// escaped; reviewers read the thread; another holder's owner cannot post.
func TestThreadPages(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.complaint(t, ownHolder)
		other := e.complaint(t, otherHolder)
		owner := e.login(t, "brand_owner")
		if r := owner.post("/complaints/"+id+"/messages", url.Values{"body": {"<b>Use</b> your own photos,\nplease."}}); r.status != http.StatusSeeOther {
			t.Fatalf("post: %d %.300s", r.status, r.body)
		}
		page := owner.get("/complaints/" + id)
		if !strings.Contains(page.body, "&lt;b&gt;Use&lt;/b&gt; your own photos,\nplease.") || !strings.Contains(page.body, `id="withdraw-form"`) {
			t.Errorf("the owner's page lacks the escaped message or the withdraw form: %.2000s", page.body)
		}
		if r := owner.post("/complaints/"+other+"/messages", url.Values{"body": {"hi"}}); r.status != http.StatusNotFound {
			t.Errorf("post on another holder's complaint: %d", r.status)
		}
		reviewer := e.login(t, "reviewer")
		if r := reviewer.get("/complaints/" + id); !strings.Contains(r.body, "your own photos") || strings.Contains(r.body, `id="message-form"`) {
			t.Errorf("a reviewer should read the thread without a form to post")
		}
		if r := owner.post("/complaints/"+id+"/withdraw", url.Values{"reason": {"Resolved with the seller."}}); r.status != http.StatusSeeOther {
			t.Fatalf("withdraw: %d %.300s", r.status, r.body)
		}
		if cp, _ := e.store.GetComplaint(t.Context(), id); cp.Status != store.ComplaintRejected {
			t.Errorf("withdrawn open complaint is %s, want rejected", cp.Status)
		}
	})
}
