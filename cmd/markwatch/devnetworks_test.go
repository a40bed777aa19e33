package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/domain"
)

// TestDevPayoutRings: dev's listings put sellers with counterfeit
// listings into rings that share a payout account — enough rings of two
// or more for the console to show networks — and never a seller with
// only genuine listings; every listing of a seller agrees.
func TestDevPayoutRings(t *testing.T) {
	dir := filepath.Join("..", "..", "fixtures", "data")
	f, err := os.Open(filepath.Join(dir, fixtures.ListingsFile))
	if err != nil {
		t.Fatal(err)
	}
	labelled, err := fixtures.ReadListings(f, domain.Limits{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	counterfeiter := map[string]bool{}
	for _, l := range labelled {
		if l.Label.Infringing {
			counterfeiter[l.SellerID] = true
		}
	}
	ls, err := devListings(dir, domain.Limits{}, "http://127.0.0.1:1/images/")
	if err != nil {
		t.Fatal(err)
	}
	ringOf := map[string]string{}
	members := map[string]map[string]bool{}
	for _, l := range ls {
		if l.Label != nil {
			t.Fatalf("listing %s keeps its label", l.ListingID)
		}
		if prev, ok := ringOf[l.SellerID]; ok && prev != l.PayoutAccountHash {
			t.Fatalf("seller %s has payout %q and %q", l.SellerID, prev, l.PayoutAccountHash)
		}
		ringOf[l.SellerID] = l.PayoutAccountHash
		if l.PayoutAccountHash == "" {
			continue
		}
		if !counterfeiter[l.SellerID] {
			t.Errorf("seller %s, with no counterfeit listing, is in ring %s", l.SellerID, l.PayoutAccountHash)
		}
		if members[l.PayoutAccountHash] == nil {
			members[l.PayoutAccountHash] = map[string]bool{}
		}
		members[l.PayoutAccountHash][l.SellerID] = true
	}
	networks, ringed := 0, 0
	for _, m := range members {
		ringed += len(m)
		if len(m) >= 2 {
			networks++
		}
		if len(m) > 10 {
			t.Errorf("a ring of %d sellers: not a ring", len(m))
		}
	}
	if networks < devRings/2 || ringed*devRingOneInN > len(counterfeiter)*2 {
		t.Errorf("%d rings of two or more, %d of %d counterfeit sellers ringed", networks, ringed, len(counterfeiter))
	}
	t.Logf("%d rings of two or more; %d of %d counterfeit sellers ringed", networks, ringed, len(counterfeiter))
}
