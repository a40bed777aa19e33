package domain

import (
	"fmt"
	"time"
)

// Buyer report reasons.
const (
	ReasonCounterfeit     = "counterfeit"
	ReasonNotAsDescribed  = "not_as_described"
	buyerReportNewAccount = 30 * 24 * time.Hour
)

// BuyerReportReasons are the valid values of BuyerReport.Reason.
var BuyerReportReasons = []string{ReasonCounterfeit, ReasonNotAsDescribed}

// BuyerReport is a buyer's report that a listing it bought from is fake or
// not as described, as the marketplace forwards it on the buyer-reports
// topic (key = listing_id). It is evidence for review, never a takedown by
// itself.
type BuyerReport struct {
	SchemaVersion  int    `json:"schema_version"`
	ReportID       string `json:"report_id"`
	ListingID      string `json:"listing_id"`
	ListingVersion int64  `json:"listing_version"`
	SellerID       string `json:"seller_id"`
	BuyerID        string `json:"buyer_id"`
	Reason         string `json:"reason"`
	// Text is the buyer's own words; Photos its photos (URLs or paths,
	// like a listing's images).
	Text   string   `json:"text,omitempty"`
	Photos []string `json:"photos,omitempty"`
	// ListingTitle and ListingBrand are the listing's title and brand
	// field as the marketplace shows them, optional: a buyer complaint
	// names the active mark its brand resolves to.
	ListingTitle string `json:"listing_title,omitempty"`
	ListingBrand string `json:"listing_brand,omitempty"`
	// BuyerSince is when the buyer's account was opened, when the
	// marketplace says: reports from new accounts weigh less.
	BuyerSince time.Time `json:"buyer_since,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewAccount tells whether the buyer's account was younger than 30 days
// when it reported; false when the marketplace did not say.
func (r *BuyerReport) NewAccount() bool {
	return !r.BuyerSince.IsZero() && r.CreatedAt.Sub(r.BuyerSince) < buyerReportNewAccount
}

// DecodeBuyerReport strictly decodes and validates one buyer report.
func DecodeBuyerReport(data []byte, lim Limits) (*BuyerReport, error) {
	lim = lim.WithDefaults()
	var r BuyerReport
	if err := decodeStrict(data, &r, lim); err != nil {
		return nil, err
	}
	if err := r.Validate(lim); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks a buyer report against the format and the caps in lim.
func (r *BuyerReport) Validate(lim Limits) error {
	lim = lim.WithDefaults()
	v := &validator{lim: lim}
	v.schema(r.SchemaVersion)
	v.id("report_id", r.ReportID)
	v.id("listing_id", r.ListingID)
	if r.ListingVersion < 0 {
		v.fail("listing_version", "must not be negative")
	}
	v.id("seller_id", r.SellerID)
	v.id("buyer_id", r.BuyerID)
	switch r.Reason {
	case ReasonCounterfeit, ReasonNotAsDescribed:
	case "":
		v.fail("reason", "required")
	default:
		v.fail("reason", "want counterfeit or not_as_described, got %q", r.Reason)
	}
	v.maxLen("text", r.Text, lim.MaxDescriptionBytes)
	v.maxLen("listing_title", r.ListingTitle, lim.MaxTitleBytes)
	v.maxLen("listing_brand", r.ListingBrand, lim.MaxShortFieldBytes)
	if len(r.Photos) > lim.MaxImages {
		v.fail("photos", "%d photos, over the cap of %d", len(r.Photos), lim.MaxImages)
	}
	for i, u := range r.Photos {
		v.imageRef(fmt.Sprintf("photos[%d]", i), u)
	}
	if r.CreatedAt.IsZero() {
		v.fail("created_at", "required")
	}
	return v.err
}
