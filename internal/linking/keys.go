package linking

import (
	"fmt"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
)

// MaxPhotos is how many of a listing's photos are linked on.
const MaxPhotos = 8

// ListingKeys returns what a listing can be linked by: the handles in its
// title and description, the perceptual hash of each photo (photos[i] is
// the hash of the listing's i-th image, 0 when it could not be had), and
// its ship_from and payout_account_hash when the marketplace sends them.
// Keys are deduplicated and sorted.
//
// A photo links by its exact 64-bit perceptual hash: resizes and
// re-encodes of one photo hash alike, and an exact key can be looked up in
// an index; a photo edited beyond that (a new crop, an overlay) is not
// linked, which errs on the side of not linking strangers.
func ListingKeys(l *domain.Listing, photos []uint64) []Key {
	seen := map[Key]bool{}
	var keys []Key
	add := func(k Key) {
		if k.Value != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, k := range ExtractHandles(l.Title + "\n" + l.Description) {
		add(k)
	}
	for _, k := range PhotoKeys(photos) {
		add(k)
	}
	add(ShipFromKey(l.ShipFrom))
	if p := strings.TrimSpace(l.PayoutAccountHash); p != "" {
		add(Key{KindPayout, strings.ToLower(p)})
	}
	sortKeys(keys)
	return keys
}

// PhotoKeys returns the keys of a listing's photo hashes (the first
// MaxPhotos; 0, an image that could not be had, is none), in order.
func PhotoKeys(photos []uint64) []Key {
	var keys []Key
	for i, h := range photos {
		if i >= MaxPhotos {
			break
		}
		if h != 0 {
			keys = append(keys, Key{KindPhoto, fmt.Sprintf("%016x", h)})
		}
	}
	return keys
}
