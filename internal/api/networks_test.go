package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestSellerNetwork(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		ctx := t.Context()
		for _, l := range []struct{ seller, listing, kind, value string }{
			{"s_n1", "l_1", "phone", "3812345678"}, {"s_n2", "l_2", "phone", "3812345678"}, {"s_n3", "l_3", "photo", "00000000000000aa"},
		} {
			if _, err := e.store.LinkSeller(ctx, l.seller, l.listing, []store.SellerKey{{Kind: l.kind, Value: l.value}}, 10); err != nil {
				t.Fatal(err)
			}
		}
		w := e.do("GET", "/v1/sellers/s_n2/network", "", identity.RoleReviewer)
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		var got networkResponse
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if got.SellerID != "s_n2" || len(got.Sellers) != 2 || got.Sellers[0].SellerID != "s_n1" || got.Sellers[0].Status != "active" ||
			len(got.Links) != 1 || got.Links[0].Kind != "phone" || len(got.Links[0].Sellers) != 2 ||
			got.Links[0].Sellers[1] != (networkLinkSellerEntry{SellerID: "s_n2", ListingID: "l_2"}) {
			t.Errorf("network %s", w.Body)
		}
		// A seller never linked is a network of itself, with no links.
		w = e.do("GET", "/v1/sellers/s_n3/network", "", identity.RoleAdmin)
		if w.Code != http.StatusOK || w.Body.String() != `{"seller_id":"s_n3","network_id":"s_n3","sellers":[{"seller_id":"s_n3","status":"active","strikes":0,"active_strikes":0,"priority":false}],"links":[],"truncated":false}`+"\n" {
			t.Errorf("alone: %d %s", w.Code, w.Body)
		}
		if w := e.do("GET", "/v1/sellers/s_n2/network", "", identity.RoleBrandOwner); w.Code != http.StatusForbidden {
			t.Errorf("brand owner: %d, want 403", w.Code)
		}
	})
}

func TestNetworkDecisions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		ctx := t.Context()
		holder := ownHolder
		var ids, sellers []string
		for range 3 {
			id := e.ingest(t, holder)
			ids, sellers = append(ids, id), append(sellers, "s_"+id)
			if _, err := e.store.LinkSeller(ctx, "s_"+id, "l_"+id, []store.SellerKey{{Kind: "email", Value: "ring@shop.example"}}, 10); err != nil {
				t.Fatal(err)
			}
		}
		body := `{"decision":"uphold","reason_code":"counterfeit","note":"same ring","seller_ids":["` + sellers[0] + `","` + sellers[1] + `","s_stranger"]}`
		if w := e.do("POST", "/v1/sellers/"+sellers[0]+"/network/decisions", body, identity.RoleBrandOwner); w.Code != http.StatusForbidden {
			t.Errorf("brand owner: %d, want 403", w.Code)
		}
		w := e.do("POST", "/v1/sellers/"+sellers[0]+"/network/decisions", body, identity.RoleReviewer)
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		var got networkActionResponse
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		byID := map[string]networkActionResult{}
		for _, r := range got.Results {
			byID[r.SellerID] = r
		}
		if len(got.Results) != 3 || len(byID[sellers[0]].Decided) != 1 || len(byID[sellers[1]].Decided) != 1 ||
			byID["s_stranger"].Error == nil || len(byID["s_stranger"].Decided) != 0 {
			t.Errorf("results %s", w.Body)
		}
		for i, want := range []string{store.ComplaintUpheld, store.ComplaintUpheld, store.ComplaintOpen} {
			c, err := e.store.GetComplaint(ctx, ids[i])
			if err != nil || c.Status != want {
				t.Errorf("complaint of seller %d: %s (%v), want %s: only named sellers are decided", i, c.Status, err, want)
			}
		}
		// Again: nothing open is left for the named sellers.
		w = e.do("POST", "/v1/sellers/"+sellers[0]+"/network/decisions", body, identity.RoleReviewer)
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"decided":["`) {
			t.Errorf("second action: %d %s", w.Code, w.Body)
		}
		if w := e.do("POST", "/v1/sellers/"+sellers[0]+"/network/decisions", `{"decision":"uphold","reason_code":"counterfeit","seller_ids":[]}`, identity.RoleReviewer); w.Code != http.StatusBadRequest && w.Code != http.StatusUnprocessableEntity {
			t.Errorf("no sellers: %d %s", w.Code, w.Body)
		}
		w = e.do("GET", "/v1/audit?object_type=seller&object_id="+sellers[1], "", identity.RoleAdmin)
		if !strings.Contains(w.Body.String(), "seller.network_action") {
			t.Errorf("no audit of the seller's outcome: %s", w.Body)
		}
	})
}
