package review

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// Listing actions carried by ListingEvent.
const (
	ActionTakedown  = "takedown"
	ActionReinstate = "reinstate"
)

// Reinstatement reasons.
const (
	// ReasonCounterNotice: the waiting period after a counter-notice ran
	// out without the holder escalating.
	ReasonCounterNotice = "counter_notice"
	// ReasonRejectedOnReview: a reviewer rejected the contested complaint.
	ReasonRejectedOnReview = "rejected_on_review"
)

// ListingEvent tells the marketplace to take a listing down or put it back,
// on the takedowns topic keyed by listing id.
type ListingEvent struct {
	SchemaVersion int `json:"schema_version"`
	// EventID is stable: "takedown:"+complaint_id or
	// "reinstatement:"+complaint_id. Consumers deduplicate on it.
	EventID        string `json:"event_id"`
	Action         string `json:"action"`
	ComplaintID    string `json:"complaint_id"`
	ListingID      string `json:"listing_id"`
	ListingVersion int64  `json:"listing_version"`
	SellerID       string `json:"seller_id,omitempty"`
	MarkID         string `json:"mark_id"`
	HolderID       string `json:"holder_id,omitempty"`
	// Reason is the reviewer's reason code for a takedown, or why a
	// listing is reinstated (counter_notice, rejected_on_review,
	// withdrawn).
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// SellerActionEvent tells the marketplace that a seller climbed the strike
// ladder, on the seller-actions topic keyed by seller id.
type SellerActionEvent struct {
	SchemaVersion int `json:"schema_version"`
	// EventID is "seller-action:"+seller_id+":"+status+":"+strikes.
	EventID  string `json:"event_id"`
	SellerID string `json:"seller_id"`
	// Status is the seller's new status: warned, suspended or terminated.
	Status string `json:"status"`
	// Strikes is the number of active strikes that put it there.
	Strikes int `json:"strikes"`
	// ComplaintID is the complaint whose strike tipped the seller over.
	ComplaintID string    `json:"complaint_id"`
	At          time.Time `json:"at"`
}

func takedownEventID(complaintID string) string { return "takedown:" + complaintID }

func reinstatementEventID(complaintID string) string { return "reinstatement:" + complaintID }

func sellerActionEventID(sellerID, status string, strikes int) string {
	return "seller-action:" + sellerID + ":" + status + ":" + strconv.Itoa(strikes)
}

// listingEvent builds the takedown or reinstatement of c's listing.
func listingEvent(c *domain.Complaint, eventID, action, reason string, at time.Time) ListingEvent {
	return ListingEvent{
		SchemaVersion:  domain.SchemaVersion,
		EventID:        eventID,
		Action:         action,
		ComplaintID:    c.ComplaintID,
		ListingID:      c.ListingID,
		ListingVersion: c.ListingVersion,
		SellerID:       c.SellerID,
		MarkID:         c.MarkID,
		HolderID:       c.HolderID,
		Reason:         reason,
		At:             at,
	}
}

// enqueue writes v as the payload of an outbox event in tx.
func enqueue(ctx context.Context, tx *store.Tx, eventID, topic, key string, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", eventID, err)
	}
	_, err = tx.EnqueueEvent(ctx, store.OutboxEvent{EventID: eventID, Topic: topic, Key: key, Payload: payload})
	return err
}

// audit appends an audit entry whose detail is v as JSON.
func audit(ctx context.Context, tx *store.Tx, actor, action, objectType, objectID string, v any) error {
	var detail json.RawMessage // the store writes {} for none
	if v != nil {
		var err error
		if detail, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode audit detail of %s: %w", action, err)
		}
	}
	_, err := tx.AppendAudit(ctx, store.AuditEntry{
		Actor: actor, Action: action, ObjectType: objectType, ObjectID: objectID, Detail: detail,
	})
	return err
}
