package api

import (
	"encoding/json"
	"net/http"
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
