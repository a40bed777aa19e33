package web

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestPalette checks what the Ctrl-K palette offers each role: only pages
// the role may open, a complaint, listing, seller or mark only when the
// user may see it, marks by name as well as by id.
func TestPalette(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	own := e.complaint(t, ownHolder)
	other := e.complaint(t, otherHolder)
	ownListing := "l_" + strings.TrimPrefix(own, "c_"+ownHolder+"_")
	hrefs := func(c *client, q string) []string {
		t.Helper()
		r := c.get("/palette?q=" + q)
		if r.status != 200 {
			t.Fatalf("palette ?q=%s: %d %s", q, r.status, r.body)
		}
		var out struct {
			Items []paletteItem `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatal(err)
		}
		var hs []string
		for _, it := range out.Items {
			hs = append(hs, it.Href)
		}
		return hs
	}
	has := func(hs []string, h string) bool { return slices.Contains(hs, h) }
	for _, tc := range []struct {
		user, q   string
		want, not []string
	}{
		{"reviewer", "", []string{"/queue", "/counter-notices", "/second-look", "/account"}, []string{"/admin/users", "/admin/audit", "/marks/new", "/portal/complaints"}},
		{"admin", "", []string{"/queue", "/admin/users", "/admin/audit", "/admin/marks"}, nil},
		{"brand_owner", "", []string{"/marks", "/marks/new", "/portal/complaints"}, []string{"/queue", "/admin/users", "/second-look"}},
		{"reviewer", "aud", nil, []string{"/admin/audit"}},
		{"admin", "aud", []string{"/admin/audit"}, []string{"/queue"}},
		{"reviewer", own, []string{"/complaints/" + own, "/queue?q=" + own}, nil},
		{"brand_owner", own, []string{"/complaints/" + own}, nil},
		{"brand_owner", other, nil, []string{"/complaints/" + other}},
		{"other_owner", own, nil, []string{"/complaints/" + own}},
		{"reviewer", ownListing, []string{"/complaints/" + own}, nil},
		{"other_owner", ownListing, nil, []string{"/complaints/" + own}},
		// Marks: their page for owners and admins, their queue for reviewers.
		{"brand_owner", "quillora", []string{"/marks/m_" + ownHolder}, []string{"/marks/m_" + otherHolder}},
		{"admin", "m_" + otherHolder, []string{"/marks/m_" + otherHolder}, nil},
		{"reviewer", "Quillora " + otherHolder, []string{"/queue?mark_id=m_" + otherHolder}, []string{"/marks/m_" + otherHolder}},
		// Sellers: on the sellers page, which a brand owner cannot open.
		{"reviewer", "s_1", []string{"/admin/sellers?id=s_1"}, nil},
		{"brand_owner", "s_1", nil, []string{"/admin/sellers?id=s_1"}},
	} {
		c := e.login(t, tc.user)
		hs := hrefs(c, strings.ReplaceAll(tc.q, " ", "+"))
		for _, h := range tc.want {
			if !has(hs, h) {
				t.Errorf("%s ?q=%s: %v lacks %s", tc.user, tc.q, hs, h)
			}
		}
		for _, h := range tc.not {
			if has(hs, h) {
				t.Errorf("%s ?q=%s: %v offers %s", tc.user, tc.q, hs, h)
			}
		}
	}
	if r := e.client(t).get("/palette"); r.status != 303 {
		t.Errorf("palette without a session: %d, want the login redirect", r.status)
	}
}
