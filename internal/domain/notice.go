package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Notice decisions: what a seller notice announces.
const (
	NoticeTakedown      = "takedown"
	NoticeStrike        = "strike"
	NoticeWarning       = "warning"
	NoticeSuspension    = "suspension"
	NoticeTermination   = "termination"
	NoticeReinstatement = "reinstatement"
	// NoticeSuspensionLifted: an admin returned a suspended seller to
	// active. It is about the account, not a complaint: its listing,
	// complaint, mark, holder and violation are empty.
	NoticeSuspensionLifted = "suspension_lifted"
)

// PolicyLiftedOnReview is the Policy of a NoticeSuspensionLifted: a person
// reviewed the account and lifted its suspension. The admin's own reason
// stays in the audit log, like every reviewer's note.
const PolicyLiftedOnReview = "lifted_on_review"

// NoticeDecisions are the valid values of SellerNotice.Decision, in the
// order the JSON schema lists them.
var NoticeDecisions = []string{
	NoticeTakedown, NoticeStrike, NoticeWarning, NoticeSuspension, NoticeTermination, NoticeReinstatement,
	NoticeSuspensionLifted,
}

// Violation kinds: the mistake a notice explains, so that its education
// fits it.
const (
	// ViolationCounterfeitCue: words that announce a copy ("replica",
	// "1:1", "AAA", "高仿").
	ViolationCounterfeitCue = "counterfeit_cue"
	// ViolationCompatibleAccessory: the brand's name in the title of an
	// accessory made for the brand's products, written as if it were the
	// brand's own.
	ViolationCompatibleAccessory = "compatible_accessory"
	// ViolationOfficialPhotos: the brand's official photos or logo reused.
	ViolationOfficialPhotos = "official_photos"
	// ViolationLookAlikeBrand: a name made to look like the brand's.
	ViolationLookAlikeBrand = "look_alike_brand"
	// ViolationObfuscatedMark: the brand's name spelled to evade
	// detection ("N1ke", "G U C C I").
	ViolationObfuscatedMark = "obfuscated_mark"
	// ViolationPriceBelowFloor: the brand at a price no genuine product
	// sells for.
	ViolationPriceBelowFloor = "price_below_floor"
	// ViolationMarkUse: the brand's name used without a more specific
	// finding.
	ViolationMarkUse = "mark_use"
)

// NoticeViolations are the valid values of SellerNotice.Violation.
var NoticeViolations = []string{
	ViolationCounterfeitCue, ViolationCompatibleAccessory, ViolationOfficialPhotos, ViolationLookAlikeBrand,
	ViolationObfuscatedMark, ViolationPriceBelowFloor, ViolationMarkUse,
}

// SellerNotice is the statement of reasons a seller receives for a decision
// that affects it, on the seller-notices topic keyed by seller id. It
// carries only what the seller may see: the mark and holder named, the
// evidence found in the seller's own listing, the public identifiers of
// the brand's reference images; never the holder's or reviewer's notes,
// nor anything about other sellers.
type SellerNotice struct {
	SchemaVersion int `json:"schema_version"`
	// NoticeID is NoticeID(complaint_id, decision): a replayed decision
	// announces the same notice. A suspension_lifted notice has no
	// complaint: its id is SuspensionLiftedNoticeID.
	NoticeID string `json:"notice_id"`
	// TemplateVersion names the versioned templates Subject and Text came
	// from ("v1").
	TemplateVersion string `json:"template_version"`
	// Locale is the language Subject and Text are written in: en, zh, es
	// or ru.
	Locale         string `json:"locale"`
	SellerID       string `json:"seller_id"`
	ListingID      string `json:"listing_id"`
	ListingVersion int64  `json:"listing_version"`
	ComplaintID    string `json:"complaint_id"`
	// Decision is one of NoticeDecisions.
	Decision string       `json:"decision"`
	Mark     NoticeMark   `json:"mark"`
	Holder   NoticeHolder `json:"holder"`
	// Violation is one of NoticeViolations: the kind of mistake, which
	// the education in Text explains.
	Violation string         `json:"violation"`
	Evidence  NoticeEvidence `json:"evidence"`
	// Policy is the reason code of the decision (counterfeit,
	// official_photo_reuse, ...), or why a listing is reinstated.
	Policy string `json:"policy"`
	// Strikes is the seller's active strikes after the decision.
	Strikes int `json:"strikes"`
	// NextStrike is what the next strike brings: strike, warned,
	// suspended or terminated.
	NextStrike string `json:"next_strike"`
	// Educated is set when the seller is warned and taught instead of
	// struck (a first nominative-use-like mistake).
	Educated bool `json:"educated,omitempty"`
	// StrikeRemoved is set on a reinstatement that withdrew the
	// complaint's strike (none was given to an educated seller).
	StrikeRemoved bool `json:"strike_removed,omitempty"`
	// CounterNotice says how and until when the seller may contest; absent
	// when the decision cannot be contested (a reinstatement).
	CounterNotice *NoticeCounterNotice `json:"counter_notice,omitempty"`
	// Automated is true when no human made the decision (the
	// counter-notice timer), false for a reviewer's decision.
	Automated bool      `json:"automated"`
	At        time.Time `json:"at"`
	// Subject and Text are the notice as the seller reads it.
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// NoticeMark names the mark a notice is about.
type NoticeMark struct {
	MarkID string `json:"mark_id"`
	Name   string `json:"name"`
}

// NoticeHolder names the rights holder that owns the mark.
type NoticeHolder struct {
	HolderID string `json:"holder_id"`
	Name     string `json:"name"`
}

// NoticeEvidence is the evidence a seller may see: what was found in its
// own listing and the public reference it was compared with.
type NoticeEvidence struct {
	// MatchedWords are the words of the listing that matched.
	MatchedWords []string `json:"matched_words,omitempty"`
	// ReferenceImages are the public URLs of the brand's reference images
	// (official photos, logos) the listing's photos matched.
	ReferenceImages []string `json:"reference_images,omitempty"`
	// Price compares the listing's price with the mark's reference price.
	Price *PriceComparison `json:"price,omitempty"`
}

// PriceComparison is the listing's price beside the genuine product's.
type PriceComparison struct {
	Listing   Money `json:"listing"`
	Reference Money `json:"reference"`
}

// NoticeCounterNotice tells the seller how and until when to contest.
type NoticeCounterNotice struct {
	How   string    `json:"how"`
	Until time.Time `json:"until"`
}

// NoticeID is the deterministic id of the notice announcing decision on
// complaintID: "n_" and 32 hex digits of a hash of both.
func NoticeID(complaintID, decision string) string {
	h := sha256.New()
	for _, part := range []string{complaintID, decision} {
		fmt.Fprintf(h, "%d:%s|", len(part), part)
	}
	return "n_" + hex.EncodeToString(h.Sum(nil))[:32]
}

// SuspensionLiftedNoticeID is the deterministic id of the notice announcing
// the lift of sellerID's suspension at liftedAt: NoticeID of
// "seller-lift:"+sellerID+":"+the lift's time in milliseconds, the same
// instant the lift's seller-action event id carries. A replay of the same
// lift announces the same notice; a seller suspended and lifted twice
// receives two.
func SuspensionLiftedNoticeID(sellerID string, liftedAt time.Time) string {
	return NoticeID("seller-lift:"+sellerID+":"+strconv.FormatInt(liftedAt.UnixMilli(), 10), NoticeSuspensionLifted)
}
