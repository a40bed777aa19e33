package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestEditMark edits a mark from its page: the brand owner's own mark
// changes through the API at its next version; a refusal shows the form
// again with the message beside the field it names and the values sent;
// a stale form is refused; another holder's owner and a reviewer cannot
// edit; the form needs the CSRF token.
func TestEditMark(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.mark(t, ownHolder, "", "active")
		bo := e.login(t, "brand_owner")
		page := bo.get("/marks/" + id)
		if !strings.Contains(page.body, `id="edit"`) || !strings.Contains(page.body, "900.00 EUR") || !strings.Contains(page.body, `name="version" value="1"`) {
			t.Fatalf("mark page lacks the edit form with the mark's values: %.3000s", page.body)
		}
		form := url.Values{"version": {"1"}, "variants": {"Quilora\n奎罗拉"}, "authorized_sellers": {"s_official"},
			"reference_prices": {"950.00 EUR\n800.00 GBP handbags"}}
		r := bo.post("/marks/"+id+"/edit", form)
		if r.status != http.StatusSeeOther || !strings.Contains(r.location, "updated") {
			t.Fatalf("edit: %d %s %.500s", r.status, r.location, r.body)
		}
		m, err := e.store.GetMark(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Version != 2 || strings.Join(m.Body.Variants, ",") != "Quilora,奎罗拉" || m.Body.AuthorizedSellers[0] != "s_official" ||
			len(m.Body.ReferencePrices) != 2 || m.Body.ReferencePrices[1].Category != "handbags" {
			t.Fatalf("edited mark v%d %+v", m.Version, m.Body)
		}

		// A bad currency: 400, the message beside the prices, what was
		// typed kept, the mark unchanged.
		bad := url.Values{"version": {"2"}, "variants": {"Quilora"}, "reference_prices": {"950.00 euros"}}
		r = bo.post("/marks/"+id+"/edit", bad)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-prices-error"`) ||
			!strings.Contains(r.body, `aria-describedby="e-prices-error"`) || !strings.Contains(r.body, "950.00 euros") {
			t.Errorf("bad currency: %d %.3000s", r.status, r.body)
		}
		if strings.Contains(r.body, `id="e-variants-error"`) {
			t.Errorf("the currency error is shown beside the variants")
		}
		// A line the form cannot read is refused before the API.
		if r = bo.post("/marks/"+id+"/edit", url.Values{"version": {"2"}, "reference_prices": {"950.00"}}); r.status != http.StatusBadRequest ||
			!strings.Contains(r.body, `id="e-prices-error"`) {
			t.Errorf("unreadable price line: %d", r.status)
		}
		// A form read at an older version is refused, not applied.
		if r = bo.post("/marks/"+id+"/edit", url.Values{"version": {"1"}, "variants": {"Stale"}}); r.status != http.StatusConflict ||
			!strings.Contains(r.body, `id="e-edit"`) {
			t.Errorf("stale form: %d %.500s", r.status, r.body)
		}
		if m, _ := e.store.GetMark(t.Context(), id); m.Version != 2 {
			t.Errorf("refused edits changed the mark to version %d", m.Version)
		}

		// Without the token, as another holder's owner, as a reviewer.
		r = bo.post("/marks/"+id+"/edit", url.Values{"csrf": {"forged"}, "version": {"2"}, "variants": {"X"}})
		if r.status != http.StatusForbidden {
			t.Errorf("edit without the CSRF token: %d", r.status)
		}
		if r = e.login(t, "other_owner").post("/marks/"+id+"/edit", url.Values{"version": {"2"}, "variants": {"X"}}); r.status != http.StatusNotFound {
			t.Errorf("other holder's owner edits: %d", r.status)
		}
		if r = e.login(t, "reviewer").post("/marks/"+id+"/edit", url.Values{"version": {"2"}, "variants": {"X"}}); r.status != http.StatusForbidden {
			t.Errorf("reviewer edits: %d", r.status)
		}
		if m, _ := e.store.GetMark(t.Context(), id); m.Version != 2 || strings.Join(m.Body.Variants, ",") != "Quilora,奎罗拉" {
			t.Errorf("refused callers changed the mark: v%d %+v", m.Version, m.Body.Variants)
		}
	})
}
