package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
)

func (a *API) healthz(w http.ResponseWriter, _ *request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// holderRequest is the body of POST /v1/holders.
type holderRequest struct {
	// ID is optional; the store generates one when empty.
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// holderResponse is a holder on the wire.
type holderResponse struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// Standing and its inputs rate the holder as a notifier; absent when
	// the holder was just created.
	Standing *standingResponse `json:"standing,omitempty"`
}

// standingResponse is a holder's notifier quality.
type standingResponse struct {
	Standing string  `json:"standing" enum:"standing"`
	Decided  int     `json:"decided"`
	Upheld   int     `json:"upheld"`
	Rate     float64 `json:"acceptance_rate"`
}

// holderID is what a chosen holder id may look like: it appears in URLs.
var holderID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func (a *API) createHolder(w http.ResponseWriter, r *request) error {
	var req holderRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.ID != "" && !holderID.MatchString(req.ID) {
		return badRequest("field id: want 1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or digit")
	}
	if strings.TrimSpace(req.Name) == "" || len(req.Name) > 200 || !utf8.ValidString(req.Name) || strings.ContainsFunc(req.Name, unicode.IsControl) {
		return badRequest("field name: required, at most 200 bytes of UTF-8 without control characters")
	}
	var h store.Holder
	err := a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		var err error
		if h, err = tx.CreateHolder(r.Context(), store.Holder{ID: req.ID, Name: req.Name}); err != nil {
			return err
		}
		_, err = tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: "holder.create", ObjectType: "holder", ObjectID: h.ID,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("create holder: %w", err)
	}
	writeJSON(w, http.StatusCreated, holderResponse{ID: h.ID, Name: h.Name, CreatedAt: h.CreatedAt})
	return nil
}

func (a *API) getHolder(w http.ResponseWriter, r *request) error {
	h, err := a.store.GetHolder(r.Context(), r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get holder: %w", err)
	}
	decided, upheld, acceptance, err := a.review.HolderStats(r.Context(), h.ID)
	if err != nil {
		return fmt.Errorf("get holder: %w", err)
	}
	standing, err := a.review.HolderStanding(r.Context(), h.ID)
	if err != nil {
		return fmt.Errorf("get holder: %w", err)
	}
	writeJSON(w, http.StatusOK, holderResponse{ID: h.ID, Name: h.Name, CreatedAt: h.CreatedAt, Standing: &standingResponse{
		Standing: string(standing), Decided: decided, Upheld: upheld, Rate: acceptance,
	}})
	return nil
}

// complaintRequest is the body of POST /v1/complaints: a brand owner's
// manual complaint. The source and the holder are not part of it: the
// source is rights_holder and the holder is the caller's own.
type complaintRequest struct {
	// ClientRef is an optional idempotency key: the complaint id is
	// derived from it and the caller's holder, so a retry with the same
	// ref is 409 rather than a second complaint, and one holder's refs can
	// never collide with (or reveal) another's complaints. A random id is
	// used when it is empty.
	ClientRef      string                  `json:"client_ref,omitempty"`
	ListingID      string                  `json:"listing_id"`
	ListingVersion int64                   `json:"listing_version,omitempty"`
	MarkID         string                  `json:"mark_id"`
	SellerID       string                  `json:"seller_id,omitempty"`
	Explanation    string                  `json:"explanation"`
	Evidence       []domain.Evidence       `json:"evidence,omitempty"`
	Listing        *domain.ListingSnapshot `json:"listing,omitempty"`
}

// submittedResponse answers POST /v1/complaints.
type submittedResponse struct {
	ComplaintID string `json:"complaint_id"`
	Status      string `json:"status" enum:"submitted"`
}

func (a *API) submitComplaint(w http.ResponseWriter, r *request) error {
	var req complaintRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	// Who may file through which mark is review.MayFile's call, asked
	// here for the holder the complaint is filed for (the mark's) and
	// again by Submit in its transaction.
	filer := review.Filer{UserID: r.user.ID, Role: r.user.Role, HolderID: r.user.HolderID}
	holder, err := a.review.AuthorizeFiling(r.Context(), filer, req.MarkID)
	if err != nil {
		return fmt.Errorf("submit complaint: %w", err)
	}
	c, err := req.complaint(holder, time.Now().UTC())
	if err != nil {
		return err
	}
	// A holder whose complaints are mostly rejected may still file, but
	// slowly; its complaints get a second look in the queue. An admin
	// filing on a holder's behalf has looked already.
	if isOwner(r.user) {
		standing, err := a.review.HolderStanding(r.Context(), holder)
		if err != nil {
			return fmt.Errorf("submit complaint: %w", err)
		}
		if standing == review.StandingThrottled {
			if !a.throttle.allow(holder) {
				w.Header().Set("Retry-After", "60")
				return errHolderThrottled
			}
			// Flag it for a second look: the reviewer sees why, and its
			// score no longer puts it beside the detector's surest.
			c.Score = 0.5
			c.Evidence = append(c.Evidence, domain.Evidence{
				Matcher: "review", Kind: "second_look", Field: "holder", Match: holder,
				Detail: "filed by a holder whose complaints are mostly rejected: needs a second look",
			})
		}
	}
	if err := a.review.Submit(r.Context(), c, filer); err != nil {
		return fmt.Errorf("submit complaint: %w", err)
	}
	// Submit publishes to the complaints topic; the complaint reaches the
	// queue when the consumer ingests it, hence 202.
	writeJSON(w, http.StatusAccepted, submittedResponse{ComplaintID: c.ComplaintID, Status: "submitted"})
	return nil
}

// complaint turns the request into the complaint it files for holderID,
// validated like every complaint.
func (req complaintRequest) complaint(holderID string, now time.Time) (*domain.Complaint, error) {
	var id string
	if req.ClientRef != "" {
		if len(req.ClientRef) > 200 {
			return nil, badRequest("field client_ref: at most 200 bytes")
		}
		sum := sha256.Sum256([]byte(holderID + "\x00" + req.ClientRef))
		id = "c_" + hex.EncodeToString(sum[:16])
	} else {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("complaint id: %w", err)
		}
		id = "c_" + hex.EncodeToString(b[:])
	}
	c := &domain.Complaint{
		SchemaVersion:  domain.SchemaVersion,
		ComplaintID:    id,
		Source:         domain.SourceRightsHolder,
		ListingID:      req.ListingID,
		ListingVersion: req.ListingVersion,
		MarkID:         req.MarkID,
		HolderID:       holderID,
		SellerID:       req.SellerID,
		// A holder's complaint is an assertion, not a score; 1 puts it
		// beside the detector's surest.
		Score:       1,
		Explanation: req.Explanation,
		Evidence:    req.Evidence,
		CreatedAt:   now,
		Listing:     req.Listing,
	}
	if err := c.Validate(domain.Limits{}); err != nil {
		return nil, err
	}
	return c, nil
}

// complaintResponse is a complaint with its review state.
type complaintResponse struct {
	ComplaintID string            `json:"complaint_id"`
	Status      string            `json:"status" enum:"complaint_status"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	DecidedAt   *time.Time        `json:"decided_at,omitempty"`
	DecidedBy   string            `json:"decided_by,omitempty"`
	Complaint   *domain.Complaint `json:"complaint"`
	// BuyerReports is what buyers reported of the listing and its seller
	// (GET /v1/complaints/{id} only): evidence beside the complaint's own.
	BuyerReports *complaintBuyerReports `json:"buyer_reports,omitempty"`
}

// complaintBuyerReports are the buyer reports of a complaint's listing (all
// of them) and of its seller (the last 30 days), summed; no buyer is named.
type complaintBuyerReports struct {
	Listing review.BuyerReports `json:"listing"`
	Seller  review.BuyerReports `json:"seller"`
}

func newComplaintResponse(c *store.Complaint) complaintResponse {
	resp := complaintResponse{
		ComplaintID: c.Body.ComplaintID,
		Status:      c.Status,
		CreatedAt:   c.CreatedAt,
		UpdatedAt:   c.UpdatedAt,
		DecidedBy:   c.DecidedBy,
		Complaint:   &c.Body,
	}
	if !c.DecidedAt.IsZero() {
		resp.DecidedAt = &c.DecidedAt
	}
	return resp
}

func (a *API) getComplaint(w http.ResponseWriter, r *request) error {
	resp := newComplaintResponse(r.complaint)
	listing, err := a.review.ListingBuyerReports(r.Context(), r.complaint.Body.ListingID)
	if err != nil {
		return err
	}
	seller, err := a.review.SellerBuyerReports(r.Context(), r.complaint.Body.SellerID)
	if err != nil {
		return err
	}
	resp.BuyerReports = &complaintBuyerReports{Listing: listing, Seller: seller}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// decisionRequest is the body of POST /v1/complaints/{id}/decision.
type decisionRequest struct {
	// Decision is "uphold" or "reject".
	Decision string `json:"decision" enum:"verdict"`
	// ReasonCode is one of review.ReasonCodes, a reason for the decision.
	ReasonCode string `json:"reason_code" enum:"reason_code"`
	Note       string `json:"note,omitempty"`
}

func (a *API) decide(w http.ResponseWriter, r *request) error {
	var req decisionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	// The decision starts from the complaint read for the tenant check
	// and answers with it as decided: no read of its own before or after.
	c, err := a.review.DecideComplaint(r.Context(), *r.complaint, review.Decision{
		Verdict: req.Decision, ReasonCode: req.ReasonCode, Note: req.Note, Actor: r.user.ID,
	})
	if err != nil {
		return fmt.Errorf("decide: %w", err)
	}
	a.reindex(r.Context(), c.Body.ComplaintID)
	writeJSON(w, http.StatusOK, newComplaintResponse(&c))
	return nil
}

// counterNoticeRequest is the body of POST /v1/complaints/{id}/counter-notice.
type counterNoticeRequest struct {
	// Statement is the seller's, forwarded by the marketplace.
	Statement string `json:"statement"`
}

// counterNoticeResponse answers a counter-notice.
type counterNoticeResponse struct {
	ComplaintID string    `json:"complaint_id"`
	Status      string    `json:"status" enum:"complaint_status"`
	ReinstateAt time.Time `json:"reinstate_at"`
}

func (a *API) counterNotice(w http.ResponseWriter, r *request) error {
	var req counterNoticeRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	id := r.complaint.Body.ComplaintID
	at, err := a.review.CounterNotice(r.Context(), id, r.user.ID, req.Statement)
	if err != nil {
		return fmt.Errorf("counter-notice: %w", err)
	}
	a.reindex(r.Context(), id)
	writeJSON(w, http.StatusOK, counterNoticeResponse{ComplaintID: id, Status: store.ComplaintContested, ReinstateAt: at})
	return nil
}

// sellerResponse is a seller's record.
type sellerResponse struct {
	ID            string           `json:"id"`
	Status        string           `json:"status" enum:"seller_status"`
	UpdatedAt     *time.Time       `json:"updated_at,omitempty"`
	ActiveStrikes int              `json:"active_strikes"`
	Strikes       []strikeResponse `json:"strikes"`
}

type strikeResponse struct {
	ComplaintID string    `json:"complaint_id"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (a *API) getSeller(w http.ResponseWriter, r *request) error {
	rec, err := a.review.Seller(r.Context(), r.PathValue("id"))
	if err != nil {
		return fmt.Errorf("get seller: %w", err)
	}
	writeJSON(w, http.StatusOK, newSellerResponse(rec))
	return nil
}

func newSellerResponse(rec review.SellerRecord) sellerResponse {
	resp := sellerResponse{ID: rec.ID, Status: rec.Status, ActiveStrikes: rec.ActiveStrikes, Strikes: []strikeResponse{}}
	if !rec.UpdatedAt.IsZero() {
		resp.UpdatedAt = &rec.UpdatedAt
	}
	for _, st := range rec.Strikes {
		resp.Strikes = append(resp.Strikes, strikeResponse{ComplaintID: st.ComplaintID, CreatedAt: st.CreatedAt, ExpiresAt: st.ExpiresAt})
	}
	return resp
}

func (a *API) escalate(w http.ResponseWriter, r *request) error {
	id := r.complaint.Body.ComplaintID
	if err := a.review.Escalate(r.Context(), id, r.user.ID); err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	c, err := a.store.GetComplaint(r.Context(), id)
	if err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	writeJSON(w, http.StatusOK, newComplaintResponse(&c))
	return nil
}

// auditResponse is a page of the audit log. NextAfter is the cursor of the
// next page (the after parameter); absent on the last page.
type auditResponse struct {
	Entries   []auditEntry `json:"entries"`
	NextAfter *int64       `json:"next_after,omitempty"`
}

type auditEntry struct {
	ID         int64           `json:"id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Detail     json.RawMessage `json:"detail"`
}

// auditParams are the query parameters GET /v1/audit accepts.
var auditParams = []string{"object_type", "object_id", "actor", "after", "limit"}

func (a *API) auditLog(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(auditParams, k) {
			return badRequest("query parameter %s: unknown; want one of %s", k, strings.Join(auditParams, ", "))
		}
		if len(q[k]) > 1 {
			return badRequest("query parameter %s: given more than once", k)
		}
	}
	aq := store.AuditQuery{ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id"), Actor: q.Get("actor"), Limit: 100}
	var err error
	if v := q.Get("after"); v != "" {
		if aq.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil || aq.AfterID < 0 {
			return badRequest("query parameter after: want a non-negative integer")
		}
	}
	if v := q.Get("limit"); v != "" {
		if aq.Limit, err = strconv.Atoi(v); err != nil || aq.Limit < 1 || aq.Limit > 1000 {
			return badRequest("query parameter limit: want an integer from 1 to 1000")
		}
	}
	entries, err := a.store.AuditLog(r.Context(), aq)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	resp := auditResponse{Entries: make([]auditEntry, 0, len(entries))}
	for _, e := range entries {
		resp.Entries = append(resp.Entries, auditEntry{
			ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Detail: e.Detail,
		})
	}
	if len(entries) == aq.Limit {
		last := entries[len(entries)-1].ID
		resp.NextAfter = &last
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// maxBulkDecisions caps one bulk decision request.
const maxBulkDecisions = 100

// bulkDecisionRequest is the body of POST /v1/complaints/decisions.
type bulkDecisionRequest struct {
	Decisions []bulkDecisionItem `json:"decisions"`
}

type bulkDecisionItem struct {
	ComplaintID string `json:"complaint_id"`
	Decision    string `json:"decision" enum:"verdict"`
	ReasonCode  string `json:"reason_code" enum:"reason_code"`
	Note        string `json:"note,omitempty"`
}

// bulkDecisionResponse has one result per requested decision, in order.
type bulkDecisionResponse struct {
	Results []bulkDecisionResult `json:"results"`
}

// bulkDecisionResult is the complaint's status after a decision that
// succeeded, or the error, in the envelope's terms, of one that failed.
type bulkDecisionResult struct {
	ComplaintID string         `json:"complaint_id"`
	Status      string         `json:"status,omitempty" enum:"complaint_status"`
	Error       *envelopeError `json:"error,omitempty"`
}

func (a *API) decideBulk(w http.ResponseWriter, r *request) error {
	var req bulkDecisionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.Decisions) == 0 || len(req.Decisions) > maxBulkDecisions {
		return badRequest("field decisions: want 1 to %d decisions, got %d", maxBulkDecisions, len(req.Decisions))
	}
	resp := bulkDecisionResponse{Results: make([]bulkDecisionResult, 0, len(req.Decisions))}
	for _, d := range req.Decisions {
		res := bulkDecisionResult{ComplaintID: d.ComplaintID}
		// Each decision is its own transaction: one conflict must not
		// undo the others, and the caller sees which failed.
		// The decision reads the complaint and answers with it decided.
		c, err := a.review.DecideComplaint(r.Context(), store.Complaint{Body: domain.Complaint{ComplaintID: d.ComplaintID}}, review.Decision{
			Verdict: d.Decision, ReasonCode: d.ReasonCode, Note: d.Note, Actor: r.user.ID,
		})
		if err != nil {
			ae := a.toAPIError(err)
			if ae.status >= 500 {
				// A database failure fails the request; the decisions
				// already made stand, and repeating them is a 409.
				return fmt.Errorf("bulk decision %s: %w", d.ComplaintID, err)
			}
			res.Error = &envelopeError{Code: ae.code, Message: ae.msg}
		} else {
			a.reindex(r.Context(), d.ComplaintID)
			res.Status = c.Status
		}
		resp.Results = append(resp.Results, res)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
