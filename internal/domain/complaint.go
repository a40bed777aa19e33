package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
)

// ComplaintID is the deterministic id of an automatic complaint: replays and
// rebalances that score the same listing version against the same mark with
// the same rules produce the same id, so the review service stores it once.
func ComplaintID(listingID string, listingVersion int64, markID, ruleVersion string) string {
	h := sha256.New()
	for _, part := range []string{listingID, strconv.FormatInt(listingVersion, 10), markID, ruleVersion} {
		// Length-prefix each part so that ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s|", len(part), part)
	}
	return "c_" + hex.EncodeToString(h.Sum(nil))[:32]
}

// DecodeComplaint strictly decodes and validates one complaint.
func DecodeComplaint(data []byte, lim Limits) (*Complaint, error) {
	lim = lim.WithDefaults()
	var c Complaint
	if err := decodeStrict(data, &c, lim); err != nil {
		return nil, err
	}
	if err := c.Validate(lim); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks a complaint against the format and the caps in lim.
func (c *Complaint) Validate(lim Limits) error {
	lim = lim.WithDefaults()
	v := &validator{lim: lim}
	v.schema(c.SchemaVersion)
	v.id("complaint_id", c.ComplaintID)
	switch c.Source {
	case SourceAuto, SourceRightsHolder, SourceSweep, SourceBuyer:
	case "":
		v.fail("source", "required")
	default:
		v.fail("source", "want auto, rights_holder, sweep or buyer, got %q", c.Source)
	}
	v.id("listing_id", c.ListingID)
	if c.ListingVersion < 0 {
		v.fail("listing_version", "must not be negative")
	}
	if c.Source == SourceBuyer && c.MarkID == "" {
		// A buyer complaint may name no mark (SourceBuyer).
		v.maxLen("mark_id", c.MarkID, lim.MaxIDBytes)
	} else {
		v.id("mark_id", c.MarkID)
	}
	v.maxLen("holder_id", c.HolderID, lim.MaxIDBytes)
	v.maxLen("seller_id", c.SellerID, lim.MaxIDBytes)
	if math.IsNaN(c.Score) || c.Score < 0 || c.Score > 1 {
		v.fail("score", "must be in [0, 1]")
	}
	v.maxLen("explanation", c.Explanation, lim.MaxDescriptionBytes)
	v.maxLen("rule_version", c.RuleVersion, lim.MaxShortFieldBytes)
	if len(c.Evidence) > lim.MaxEvidence {
		v.fail("evidence", "%d items, over the cap of %d", len(c.Evidence), lim.MaxEvidence)
	}
	for i, e := range c.Evidence {
		f := fmt.Sprintf("evidence[%d]", i)
		v.required(f+".matcher", e.Matcher)
		v.maxLen(f+".matcher", e.Matcher, lim.MaxShortFieldBytes)
		v.maxLen(f+".field", e.Field, lim.MaxShortFieldBytes)
		v.maxLen(f+".match", e.Match, lim.MaxTitleBytes)
		v.maxLen(f+".detail", e.Detail, lim.MaxTitleBytes)
		v.maxLen(f+".kind", e.Kind, lim.MaxShortFieldBytes)
		if math.IsNaN(e.Score) || e.Score < 0 || e.Score > 1 {
			v.fail(f+".score", "must be in [0, 1]")
		}
	}
	if c.Listing != nil {
		v.maxLen("listing.title", c.Listing.Title, lim.MaxTitleBytes)
		v.maxLen("listing.description", c.Listing.Description, lim.MaxDescriptionBytes)
		v.maxLen("listing.brand", c.Listing.Brand, lim.MaxShortFieldBytes)
		v.maxLen("listing.category", c.Listing.Category, lim.MaxShortFieldBytes)
		v.maxLen("listing.marketplace", c.Listing.Marketplace, lim.MaxShortFieldBytes)
		v.maxLen("listing.locale", c.Listing.Locale, lim.MaxShortFieldBytes)
		v.money("listing.price", c.Listing.Price)
		if len(c.Listing.Images) > lim.MaxImages {
			v.fail("listing.images", "%d images, over the cap of %d", len(c.Listing.Images), lim.MaxImages)
		}
		// The review UI renders these; a manual complaint is as untrusted
		// as a listing, so the same scheme rules apply.
		for i, u := range c.Listing.Images {
			v.imageRef(fmt.Sprintf("listing.images[%d]", i), u)
		}
	}
	return v.err
}
