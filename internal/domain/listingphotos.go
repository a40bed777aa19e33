package domain

import (
	"fmt"
	"strconv"
	"time"
)

// ListingPhotos is what a detector publishes on the listing-photos topic
// (key = listing_id) for each listing whose images it fetched and hashed:
// the perceptual hash of every image as published. The review service's
// seller-network linker links sellers on these instead of fetching and
// hashing every listing image a second time.
type ListingPhotos struct {
	SchemaVersion int    `json:"schema_version"`
	ListingID     string `json:"listing_id"`
	Version       int64  `json:"version"`
	SellerID      string `json:"seller_id"`
	// Photos holds one hash per image of the listing, in the listing's
	// order: the 64-bit pHash of the image as published, as 16 lower-case
	// hexadecimal digits, or "" for an image that could not be had.
	Photos []string `json:"photos"`
	// HashedAt is when the detector hashed the images.
	HashedAt time.Time `json:"hashed_at"`
}

// PhotoHex is the wire form of a photo hash in ListingPhotos; 0 (an image
// that could not be had) is "".
func PhotoHex(h uint64) string {
	if h == 0 {
		return ""
	}
	return fmt.Sprintf("%016x", h)
}

// Hashes returns the photo hashes, 0 for an image that could not be had.
// The message must have been validated.
func (p *ListingPhotos) Hashes() []uint64 {
	out := make([]uint64, len(p.Photos))
	for i, s := range p.Photos {
		out[i], _ = strconv.ParseUint(s, 16, 64)
	}
	return out
}

// DecodeListingPhotos strictly decodes and validates one listing-photos
// message.
func DecodeListingPhotos(data []byte, lim Limits) (*ListingPhotos, error) {
	lim = lim.WithDefaults()
	var p ListingPhotos
	if err := decodeStrict(data, &p, lim); err != nil {
		return nil, err
	}
	if err := p.Validate(lim); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks a listing-photos message against the format and the
// caps in lim.
func (p *ListingPhotos) Validate(lim Limits) error {
	lim = lim.WithDefaults()
	v := &validator{lim: lim}
	v.schema(p.SchemaVersion)
	v.id("listing_id", p.ListingID)
	if p.Version < 0 {
		v.fail("version", "must not be negative")
	}
	v.id("seller_id", p.SellerID)
	if len(p.Photos) > lim.MaxImages {
		v.fail("photos", "%d photos, over the cap of %d", len(p.Photos), lim.MaxImages)
	}
	for i, s := range p.Photos {
		if s != "" && !isPhotoHex(s) {
			v.fail(fmt.Sprintf("photos[%d]", i), "want 16 lower-case hexadecimal digits or \"\", got %q", s)
		}
	}
	if p.HashedAt.IsZero() {
		v.fail("hashed_at", "required")
	}
	return v.err
}

// isPhotoHex tells whether s is a hash in PhotoHex's form (sixteen zeros
// read as 0, like "").
func isPhotoHex(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
