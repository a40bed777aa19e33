package domain

import "time"

// SchemaVersion is the version of the wire formats this build writes and the
// newest it reads.
const SchemaVersion = 1

// Complaint sources.
const (
	SourceAuto         = "auto"
	SourceRightsHolder = "rights_holder"
	// SourceSweep is an automatic complaint found by a retroactive sweep:
	// live listings scored again against a mark that became active or
	// changed (pipeline/sweep). Same id scheme as SourceAuto.
	SourceSweep = "sweep"
	// SourceBuyer is a complaint filed by the review service itself when
	// a listing has enough independent buyer reports (review,
	// buyer_reports.go). MarkID and HolderID are those of the active mark
	// the listing's brand names, or empty: a marketplace-level item that
	// a reviewer may reject but never uphold. Its id is
	// ComplaintID(listing, version, mark or "", BuyerRuleVersion).
	SourceBuyer = "buyer"
)

// BuyerRuleVersion is the rule version of buyer complaints.
const BuyerRuleVersion = "buyer-reports-v1"

// ComplaintSources are the valid values of Complaint.Source, in the order
// the JSON schema lists them.
var ComplaintSources = []string{SourceAuto, SourceRightsHolder, SourceSweep, SourceBuyer}

// Mark statuses. Only active marks are watched.
const (
	MarkActive    = "active"
	MarkPending   = "pending"
	MarkSuspended = "suspended"
	MarkRemoved   = "removed"
)

// Money is an amount in a currency. Amount is a decimal string ("12.50") so
// that no precision is lost in transit; Currency is an ISO 4217 code.
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// Label is the ground truth attached to a listing in evaluation files.
type Label struct {
	Infringing bool   `json:"infringing"`
	MarkID     string `json:"mark_id,omitempty"`
	// Kind names the case, e.g. "leet", "official_photo_crop", "nominative".
	Kind string `json:"kind,omitempty"`
}

// Listing is one marketplace listing create or update.
type Listing struct {
	SchemaVersion int       `json:"schema_version"`
	ListingID     string    `json:"listing_id"`
	Version       int64     `json:"version"`
	SellerID      string    `json:"seller_id"`
	Marketplace   string    `json:"marketplace,omitempty"`
	Locale        string    `json:"locale,omitempty"`
	Title         string    `json:"title"`
	Description   string    `json:"description,omitempty"`
	Brand         string    `json:"brand,omitempty"`
	Category      string    `json:"category,omitempty"`
	Price         *Money    `json:"price,omitempty"`
	Images        []string  `json:"images,omitempty"`
	CreatedAt     time.Time `json:"created_at,omitzero"`
	Label         *Label    `json:"label,omitempty"`
	// ShipFrom is where the seller ships from, as the marketplace knows
	// it; PayoutAccountHash a hash of the account the seller is paid to
	// (the marketplace hashes it, markwatch never sees the account). Both
	// optional; sellers that share one are linked into a network.
	ShipFrom          string `json:"ship_from,omitempty"`
	PayoutAccountHash string `json:"payout_account_hash,omitempty"`
}

// Registration is a mark's proof of rights.
type Registration struct {
	Office        string   `json:"office"`
	Number        string   `json:"number"`
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	Classes       []int    `json:"classes,omitempty"`
}

// ReferencePrice is what a genuine product of the mark costs, optionally for
// one category only.
type ReferencePrice struct {
	Category string `json:"category,omitempty"`
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// ImageHash is a precomputed perceptual hash of one of a mark's reference
// images, carried on the marks topic so detectors need not fetch them.
type ImageHash struct {
	// Kind is "logo" or "official".
	Kind string `json:"kind"`
	// URL is where the reference image came from.
	URL string `json:"url"`
	// Hashes are the image's hashes (hex, one per variant the hasher keeps).
	Hashes []string `json:"hashes"`
	// Features are a logo's local features (keypoints and binary
	// descriptors, matchers.EncodeFeatures) for finding it inside a
	// seller's own photo; empty for official photos and for logos hashed
	// before logo detection existed.
	Features string `json:"features,omitempty"`
}

// Mark is a registered trade mark with everything a detector needs.
type Mark struct {
	SchemaVersion     int              `json:"schema_version"`
	MarkID            string           `json:"mark_id"`
	HolderID          string           `json:"holder_id"`
	Name              string           `json:"name"`
	Variants          []string         `json:"variants,omitempty"`
	DistinctFrom      []string         `json:"distinct_from,omitempty"`
	Registration      Registration     `json:"registration"`
	Logos             []string         `json:"logos,omitempty"`
	OfficialImages    []string         `json:"official_images,omitempty"`
	Categories        []string         `json:"categories,omitempty"`
	ReferencePrices   []ReferencePrice `json:"reference_prices,omitempty"`
	AuthorizedSellers []string         `json:"authorized_sellers,omitempty"`
	// Threshold overrides the configured complaint threshold for this mark.
	Threshold *float64 `json:"threshold,omitempty"`
	Status    string   `json:"status"`
	// ImageHashes are filled in by the registry from Logos and OfficialImages.
	ImageHashes []ImageHash `json:"image_hashes,omitempty"`
	// Quarantines are the parts of the mark whose matches file no auto
	// complaints for now (a flood, or precision under the floor), set by
	// the review service and lifted by an admin. They travel with the mark
	// so that every detector stops filing within one marks update.
	Quarantines []Quarantine `json:"quarantines,omitempty"`
}

// Evidence is one explainable piece of a match.
type Evidence struct {
	Matcher string  `json:"matcher"`
	Score   float64 `json:"score"`
	// Field is where the evidence was found: title, brand, description,
	// price, images[0], seller.
	Field string `json:"field,omitempty"`
	// Match is the listing's text (or image URL) that matched.
	Match string `json:"match,omitempty"`
	// Detail says what the match means, for a reviewer.
	Detail string `json:"detail,omitempty"`
	// Kind is a machine-readable class of the evidence, e.g. "exact",
	// "leet", "fuzzy", "cue", "below_floor", "official_photo", "authorized".
	Kind string `json:"kind,omitempty"`
	// Reference names the mark's reference image that matched (a logo or
	// official photo, by its id or file name) when the evidence is an
	// image match.
	Reference string `json:"reference,omitempty"`
	// Region is where in the listing's image the evidence was found, so the
	// console can draw it; nil when the whole image matched or the evidence
	// is not an image.
	Region *Region `json:"region,omitempty"`
}

// Region is an axis-aligned box in a listing image, in pixels of the image
// as decoded (before any scaling the matcher did), with the image's own
// size so a viewer that shows it scaled can scale the box too.
type Region struct {
	X      int `json:"x"`
	Y      int `json:"y"`
	W      int `json:"w"`
	H      int `json:"h"`
	ImageW int `json:"image_w"`
	ImageH int `json:"image_h"`
}

// Complaint is one claim that a listing infringes a mark. Automatic and
// manual complaints share it; Source tells them apart.
type Complaint struct {
	SchemaVersion  int        `json:"schema_version"`
	ComplaintID    string     `json:"complaint_id"`
	Source         string     `json:"source"`
	ListingID      string     `json:"listing_id"`
	ListingVersion int64      `json:"listing_version"`
	MarkID         string     `json:"mark_id"`
	HolderID       string     `json:"holder_id,omitempty"`
	SellerID       string     `json:"seller_id,omitempty"`
	Score          float64    `json:"score"`
	Explanation    string     `json:"explanation"`
	Evidence       []Evidence `json:"evidence,omitempty"`
	RuleVersion    string     `json:"rule_version,omitempty"`
	CreatedAt      time.Time  `json:"created_at,omitzero"`
	// Listing is a snapshot of the listing's text as it was scored.
	Listing *ListingSnapshot `json:"listing,omitempty"`
}

// ListingSnapshot is the part of a listing a reviewer needs to see.
type ListingSnapshot struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Brand       string   `json:"brand,omitempty"`
	Category    string   `json:"category,omitempty"`
	Price       *Money   `json:"price,omitempty"`
	Images      []string `json:"images,omitempty"`
	Marketplace string   `json:"marketplace,omitempty"`
	// Locale is the listing's locale (BCP 47, "zh-CN"); the seller's
	// notices are written in its language.
	Locale string `json:"locale,omitempty"`
}

// ScoreResult is one line of `markwatch score` output.
type ScoreResult struct {
	ListingID  string             `json:"listing_id"`
	Version    int64              `json:"version"`
	Flagged    bool               `json:"flagged"`
	Score      float64            `json:"score"`
	Complaints []ComplaintSummary `json:"complaints"`
	// Warnings report evidence that could not be gathered, such as an image
	// that could not be fetched.
	Warnings []string `json:"warnings,omitempty"`
}

// ComplaintSummary is a complaint as `markwatch score` prints it.
type ComplaintSummary struct {
	ComplaintID string     `json:"complaint_id"`
	MarkID      string     `json:"mark_id"`
	Score       float64    `json:"score"`
	Explanation string     `json:"explanation"`
	Evidence    []Evidence `json:"evidence"`
}
