package domain

import (
	"fmt"
	"net/url"
	"strings"
)

// DecodeListing strictly decodes and validates one listing.
func DecodeListing(data []byte, lim Limits) (*Listing, error) {
	lim = lim.WithDefaults()
	var l Listing
	if err := decodeStrict(data, &l, lim); err != nil {
		return nil, err
	}
	if err := l.Validate(lim); err != nil {
		return nil, err
	}
	return &l, nil
}

// Validate checks a listing against the format and the caps in lim.
func (l *Listing) Validate(lim Limits) error {
	lim = lim.WithDefaults()
	v := &validator{lim: lim}
	v.schema(l.SchemaVersion)
	v.id("listing_id", l.ListingID)
	if l.Version < 0 {
		v.fail("version", "must not be negative")
	}
	v.id("seller_id", l.SellerID)
	v.required("title", l.Title)
	v.maxLen("title", l.Title, lim.MaxTitleBytes)
	v.maxLen("description", l.Description, lim.MaxDescriptionBytes)
	for _, f := range []struct{ name, val string }{
		{"marketplace", l.Marketplace}, {"locale", l.Locale}, {"brand", l.Brand}, {"category", l.Category},
		{"ship_from", l.ShipFrom}, {"payout_account_hash", l.PayoutAccountHash},
	} {
		v.maxLen(f.name, f.val, lim.MaxShortFieldBytes)
	}
	v.money("price", l.Price)
	if len(l.Images) > lim.MaxImages {
		v.fail("images", "%d images, over the cap of %d", len(l.Images), lim.MaxImages)
	}
	for i, u := range l.Images {
		v.imageRef(fmt.Sprintf("images[%d]", i), u)
	}
	if l.Label != nil {
		v.maxLen("label.mark_id", l.Label.MarkID, lim.MaxIDBytes)
		v.maxLen("label.kind", l.Label.Kind, lim.MaxShortFieldBytes)
	}
	return v.err
}

// imageRef checks an image reference: an http(s) or file URL, or a relative
// path (resolved by whoever fetches it).
func (v *validator) imageRef(field, s string) {
	v.required(field, s)
	v.maxLen(field, s, v.lim.MaxURLBytes)
	if v.err != nil {
		return
	}
	// url.Parse refuses control characters before the '#' but not in the
	// fragment; no image reference needs them anywhere.
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		v.fail(field, "contains a control character")
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		v.fail(field, "not a URL or path: %v", err)
		return
	}
	switch strings.ToLower(u.Scheme) {
	case "", "file":
	case "http", "https":
		if u.Host == "" {
			v.fail(field, "URL has no host")
		}
	default:
		v.fail(field, "scheme %q not allowed (want http, https, file or a relative path)", u.Scheme)
	}
}

// Snapshot returns the part of the listing a reviewer needs to see.
func (l *Listing) Snapshot() *ListingSnapshot {
	return &ListingSnapshot{
		Title: l.Title, Description: l.Description, Brand: l.Brand, Category: l.Category,
		Price: l.Price, Images: l.Images, Marketplace: l.Marketplace, Locale: l.Locale,
	}
}
