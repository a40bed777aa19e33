package main

import (
	"fmt"
	"hash/fnv"

	"github.com/markwatch/markwatch/internal/domain"
)

// Seller rings of markwatch dev. The fixture listings carry no contact
// handles and dev links without photos (networks.go), so nothing would
// ever link two sellers there and the console's network view would stay
// empty. A marketplace may send a hash of the account a seller is paid
// to (payout_account_hash): dev gives one to every listing of a third of
// the sellers with a counterfeit listing, shared by about four sellers a
// ring, as a counterfeit operation running several shops looks. Sellers
// with only genuine listings keep none, so no ring links them.
const (
	devRings      = 32 // rings of about four sellers over the fixtures' ~390 such sellers
	devRingOneInN = 3  // one counterfeit seller in three is in a ring
)

// devPayoutRing returns the payout_account_hash dev gives seller, "" for
// none. It depends on the seller id alone, so every run of dev, and every
// listing of one seller, agree.
func devPayoutRing(seller string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(seller))
	n := h.Sum32()
	if n%devRingOneInN != 0 {
		return ""
	}
	return fmt.Sprintf("dev-payout-ring-%02d", (n/devRingOneInN)%devRings)
}

// addPayoutRings sets the payout_account_hash of the listings of ringed
// sellers among those with at least one listing labelled infringing. It
// reads the labels, so it runs before they are dropped.
func addPayoutRings(ls []*domain.Listing) {
	counterfeiters := map[string]bool{}
	for _, l := range ls {
		if l.Label != nil && l.Label.Infringing {
			counterfeiters[l.SellerID] = true
		}
	}
	for _, l := range ls {
		if counterfeiters[l.SellerID] && l.PayoutAccountHash == "" {
			l.PayoutAccountHash = devPayoutRing(l.SellerID)
		}
	}
}
