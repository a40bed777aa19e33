package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestPageElementsFollowTheAPI checks every part of a page that shows
// data or a form of its own API route, as each role and tenant: the
// seller's record and network, the negative bank, the decision form and
// the pager on the complaint page; the quarantine release, edit and
// upload forms and the upload previews on the mark page. Each is there
// exactly for whom the API route would answer (Console.mayCall,
// identity.Authorize), so that a brand owner sees neither staff-only
// information nor another holder's objects.
func TestPageElementsFollowTheAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		ctx := t.Context()
		// The seller shares a phone with another: a network of two.
		const sellerID = "s_networked"
		for _, s := range []string{sellerID, "s_linked"} {
			if _, err := e.store.LinkSeller(ctx, s, "l_"+s, []store.SellerKey{{Kind: "phone", Value: "5550001111"}}, 10); err != nil {
				t.Fatal(err)
			}
		}
		// One open complaint per role that opens it, so that no one finds
		// it claimed by another, and one rejected.
		open := map[string]string{}
		for _, user := range []string{"admin", "reviewer", "brand_owner", "other_owner"} {
			open[user] = e.complaintBy(t, ownHolder, 0.9, sellerID)
		}
		rejected := e.complaintBy(t, ownHolder, 0.8, sellerID)
		if r := e.login(t, "reviewer2").post("/complaints/"+rejected+"/decide", url.Values{"decision": {"reject"}, "reason_code": {"genuine"}}); r.status != http.StatusSeeOther {
			t.Fatalf("reject: %d %s", r.status, r.body)
		}
		markID := "m_" + ownHolder
		if err := e.store.WithTx(ctx, func(tx *store.Tx) error {
			_, err := tx.SetMarkQuarantines(ctx, markID, []domain.Quarantine{{
				Kind: domain.QuarantineImage, Ref: "https://img.example/stock.jpg", Trigger: domain.TriggerFlood,
				Reason: "flood: 412 automatic complaints in the last 1h0m0s", Since: time.Now(),
			}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sha := e.preview(t, markID)

		type element struct {
			name, marker string
		}
		var (
			seller  = element{"seller record", `id="h-seller"`}
			network = element{"seller network", `class="network"`}
			linked  = element{"a linked seller", "s_linked"}
			decide  = element{"decision form", `id="decide"`}
			pager   = element{"queue pager", `aria-label="Queue"`}
			message = element{"message form", `id="message-form"`}
			bank    = element{"negative-bank control", `id="negative-bank"`}
			release = element{"quarantine release", "/quarantine/release"}
			edit    = element{"edit form", `id="edit"`}
			upload  = element{"upload form", `id="upload"`}
			preview = element{"upload preview", "/img/marks/" + markID + "/uploads/" + sha}
			reason  = element{"quarantine reason", "412 automatic complaints"}
		)
		for _, tc := range []struct {
			user, page string
			status     int
			shown      []element
			hidden     []element
		}{
			{"reviewer", "/complaints/" + open["reviewer"], http.StatusOK, []element{seller, network, linked, decide, pager}, []element{message, bank}},
			{"admin", "/complaints/" + open["admin"], http.StatusOK, []element{seller, network, linked, decide, pager}, []element{message, bank}},
			{"brand_owner", "/complaints/" + open["brand_owner"], http.StatusOK, []element{message}, []element{seller, network, linked, decide, pager, bank}},
			{"other_owner", "/complaints/" + open["other_owner"], http.StatusNotFound, nil, []element{seller, network, linked, message}},
			{"reviewer", "/complaints/" + rejected, http.StatusOK, []element{bank, seller, network}, []element{decide}},
			{"admin", "/complaints/" + rejected, http.StatusOK, []element{bank, seller, network}, []element{decide}},
			{"brand_owner", "/complaints/" + rejected, http.StatusOK, nil, []element{bank, seller, network, linked, decide}},
			{"other_owner", "/complaints/" + rejected, http.StatusNotFound, nil, []element{bank, seller, network}},
			{"admin", "/marks/" + markID, http.StatusOK, []element{reason, release, edit, upload, preview}, nil},
			{"brand_owner", "/marks/" + markID, http.StatusOK, []element{reason, edit, upload, preview}, []element{release}},
			{"other_owner", "/marks/" + markID, http.StatusNotFound, nil, []element{reason, release, edit, upload, preview}},
			{"reviewer", "/marks/" + markID, http.StatusForbidden, nil, []element{reason, release, edit, upload}},
			{"reviewer", "/img/marks/" + markID + "/uploads/" + sha, http.StatusOK, nil, nil},
			{"brand_owner", "/img/marks/" + markID + "/uploads/" + sha, http.StatusOK, nil, nil},
			{"other_owner", "/img/marks/" + markID + "/uploads/" + sha, http.StatusNotFound, nil, nil},
		} {
			r := e.login(t, tc.user).get(tc.page)
			if r.status != tc.status {
				t.Errorf("GET %s as %s: %d, want %d", tc.page, tc.user, r.status, tc.status)
				continue
			}
			for _, el := range tc.shown {
				if !strings.Contains(r.body, el.marker) {
					t.Errorf("GET %s as %s: no %s", tc.page, tc.user, el.name)
				}
			}
			for _, el := range tc.hidden {
				if strings.Contains(r.body, el.marker) {
					t.Errorf("GET %s as %s: shows the %s", tc.page, tc.user, el.name)
				}
			}
		}
		// The forms' own routes refuse the same users, whatever the page
		// shows: a brand owner cannot bank, release or decide.
		owner := e.login(t, "brand_owner")
		for _, post := range []struct {
			path string
			form url.Values
		}{
			{"/complaints/" + rejected + "/negative-bank", url.Values{"evidence": {"0"}, "scope": {"mark"}, "reason": {"x"}}},
			{"/marks/" + markID + "/quarantine/release", url.Values{"kind": {"image"}, "ref": {"https://img.example/stock.jpg"}, "reason": {"x"}}},
			{"/complaints/" + open["brand_owner"] + "/decide", url.Values{"decision": {"uphold"}, "reason_code": {"counterfeit"}}},
		} {
			if r := owner.post(post.path, post.form); r.status != http.StatusForbidden {
				t.Errorf("POST %s as brand_owner: %d, want 403", post.path, r.status)
			}
		}
		if e.console.mayCall(&request{user: &store.User{Role: store.RoleAdmin}}, "GET /v1/no-such-route", "") {
			t.Error("an unknown API route allows an admin")
		}
	})
}
