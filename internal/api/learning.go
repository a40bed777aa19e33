package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/quarantine"
	"github.com/markwatch/markwatch/internal/store"
)

// DefaultNegativeBankTopic is the compacted topic negative-bank entries are
// published to when Options.NegativeBankTopic is empty.
const DefaultNegativeBankTopic = "negative-banks"

// Scopes of a negative-bank entry.
const (
	bankScopeMark   = "mark"
	bankScopeGlobal = "global"
)

// bankRequest is the body of POST /v1/complaints/{id}/negative-bank.
type bankRequest struct {
	// Evidence is the index, in the complaint's evidence, of the image or
	// text match that is not distinctive.
	Evidence int `json:"evidence"`
	// Scope is mark (the complaint's mark only; the default) or global.
	Scope string `json:"scope,omitempty" enum:"bank_scope"`
	// Reason is the reviewer's words: "generic product photo", "this word
	// is ordinary here".
	Reason string `json:"reason"`
}

// bankEntryResponse is one negative-bank entry.
type bankEntryResponse struct {
	Entry     *domain.BankEntry `json:"entry"`
	Live      bool              `json:"live"`
	RemovedAt *time.Time        `json:"removed_at,omitempty"`
	RemovedBy string            `json:"removed_by,omitempty"`
}

// bankListResponse is the negative bank, newest first.
type bankListResponse struct {
	Entries []bankEntryResponse `json:"entries"`
}

// bankListParams are the query parameters GET /v1/negative-bank accepts.
var bankListParams = []string{"mark_id", "removed"}

func newBankEntryResponse(e store.BankEntry) bankEntryResponse {
	r := bankEntryResponse{Entry: &e.Entry, Live: e.Live(), RemovedBy: e.RemovedBy}
	if !e.Live() {
		r.RemovedAt = &e.RemovedAt
	}
	return r
}

// errNotRejected answers a bank request on a complaint not rejected.
var errNotRejected = &apiError{status: http.StatusConflict, code: "not_rejected",
	msg: "only a rejected complaint's evidence goes to the negative bank: reject it first"}

// bankEntryOf is the entry that banks evidence i of complaint c, or the
// reason it cannot: an image match banks the hashes of the mark's
// reference image it matched (the listing photo was within the matcher's
// distance of it), a text match the text that matched.
func bankEntryOf(c *store.Complaint, m *store.Mark, req bankRequest) (*domain.BankEntry, error) {
	ev := c.Body.Evidence
	if req.Evidence < 0 || req.Evidence >= len(ev) {
		return nil, badRequest("field evidence: the complaint has %d pieces of evidence, no index %d", len(ev), req.Evidence)
	}
	e := ev[req.Evidence]
	entry := &domain.BankEntry{SchemaVersion: domain.SchemaVersion, Reason: strings.TrimSpace(req.Reason), ComplaintID: c.Body.ComplaintID}
	switch e.Matcher {
	case "image":
		entry.Kind = domain.BankImage
		for _, ih := range m.Body.ImageHashes {
			if e.Reference != "" && ih.URL == e.Reference {
				entry.Hashes = ih.Hashes
			}
		}
		if len(entry.Hashes) == 0 {
			return nil, badRequest("field evidence: the image evidence names no reference image of the mark (%q) to bank", e.Reference)
		}
	case "text":
		entry.Kind, entry.Phrase = domain.BankPhrase, e.Match
	default:
		return nil, badRequest("field evidence: only image and text matches can be banked, not %s evidence", e.Matcher)
	}
	switch req.Scope {
	case "", bankScopeMark:
		entry.MarkID = c.Body.MarkID
	case bankScopeGlobal:
	default:
		return nil, badRequest("field scope: want mark or global, got %q", req.Scope)
	}
	return entry, nil
}

func (a *API) addToBank(w http.ResponseWriter, r *request) error {
	var req bankRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return badRequest("field reason: required")
	}
	c := r.complaint
	if c.Status != store.ComplaintRejected {
		return errNotRejected
	}
	m, err := a.store.GetMark(r.Context(), c.Body.MarkID)
	if err != nil {
		return fmt.Errorf("negative bank: mark of %s: %w", c.Body.ComplaintID, err)
	}
	entry, err := bankEntryOf(c, &m, req)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s\x00%d", c.Body.ComplaintID, req.Evidence, entry.MarkID, now.UnixNano()))
	entry.EntryID = "nb_" + hex.EncodeToString(sum[:8])
	entry.CreatedBy, entry.CreatedAt = r.user.ID, now
	if err := entry.Validate(domain.Limits{}); err != nil {
		return err
	}
	payload, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("negative bank: encode %s: %w", entry.EntryID, err)
	}
	scope := bankScopeGlobal
	if entry.MarkID != "" {
		scope = bankScopeMark
	}
	err = a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		if err := tx.AddBankEntry(r.Context(), entry); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: "negative_bank.add", ObjectType: "negative_bank", ObjectID: entry.EntryID,
			Detail: auditDetail(map[string]string{
				"complaint_id": c.Body.ComplaintID, "mark_id": c.Body.MarkID, "kind": entry.Kind, "scope": scope,
				"evidence": strconv.Itoa(req.Evidence), "reason": entry.Reason,
			}),
		}); err != nil {
			return err
		}
		_, err := tx.EnqueueEvent(r.Context(), store.OutboxEvent{
			EventID: "negative-bank:" + entry.EntryID + ":add", Topic: a.bankTopic, Key: entry.EntryID, Payload: payload,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("negative bank: add %s: %w", entry.EntryID, err)
	}
	a.metrics.bank.WithLabelValues("add", entry.Kind).Inc()
	writeJSON(w, http.StatusCreated, newBankEntryResponse(store.BankEntry{Entry: *entry}))
	return nil
}

func (a *API) undoBank(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	var removed store.BankEntry
	err := a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		var err error
		if removed, err = tx.RemoveBankEntry(r.Context(), id, r.user.ID); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: "negative_bank.undo", ObjectType: "negative_bank", ObjectID: id,
			Detail: auditDetail(map[string]string{"complaint_id": removed.Entry.ComplaintID, "mark_id": removed.Entry.MarkID, "kind": removed.Entry.Kind}),
		}); err != nil {
			return err
		}
		// A tombstone: every detector drops the entry.
		_, err = tx.EnqueueEvent(r.Context(), store.OutboxEvent{
			EventID: "negative-bank:" + id + ":undo", Topic: a.bankTopic, Key: id,
		})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("negative-bank entry")
	}
	if err != nil {
		return fmt.Errorf("negative bank: undo %s: %w", id, err)
	}
	a.metrics.bank.WithLabelValues("undo", removed.Entry.Kind).Inc()
	writeJSON(w, http.StatusOK, newBankEntryResponse(removed))
	return nil
}

func (a *API) listBank(w http.ResponseWriter, r *request) error {
	q := store.BankQuery{MarkID: r.URL.Query().Get("mark_id"), Limit: 500}
	q.Global = q.MarkID != "" // a mark's bank is its entries and the global ones
	switch v := r.URL.Query().Get("removed"); v {
	case "", "false":
	case "true":
		q.Removed = true
	default:
		return badRequest("parameter removed: want true or false, got %q", v)
	}
	es, err := a.store.BankEntries(r.Context(), q)
	if err != nil {
		return err
	}
	out := bankListResponse{Entries: make([]bankEntryResponse, 0, len(es))}
	for _, e := range es {
		out.Entries = append(out.Entries, newBankEntryResponse(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// releaseRequest is the body of POST /v1/marks/{id}/quarantine/release.
type releaseRequest struct {
	// Kind and Ref name the quarantine, as in the mark's quarantines.
	Kind   string `json:"kind" enum:"quarantine_kind"`
	Ref    string `json:"ref,omitempty"`
	Reason string `json:"reason"`
}

// errNotQuarantined answers a release of a quarantine that does not hold.
var errNotQuarantined = &apiError{status: http.StatusConflict, code: "not_quarantined",
	msg: "the mark holds no such quarantine (kind and ref as in its quarantines)"}

func (a *API) releaseQuarantine(w http.ResponseWriter, r *request) error {
	var req releaseRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return badRequest("field reason: required")
	}
	id := r.mark.Body.MarkID
	var changed store.Mark
	err := a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		m, err := tx.GetMark(r.Context(), id)
		if err != nil {
			return err
		}
		qs, ok := quarantine.Release(m.Body.Quarantines, req.Kind, req.Ref, r.user.ID, time.Now().UTC().Truncate(time.Millisecond))
		if !ok {
			return errNotQuarantined
		}
		if changed, err = tx.SetMarkQuarantines(r.Context(), id, qs); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: "mark.quarantine_release", ObjectType: "mark", ObjectID: id,
			Detail: auditDetail(map[string]string{"kind": req.Kind, "ref": req.Ref, "reason": req.Reason}),
		}); err != nil {
			return err
		}
		if changed.Body.Active() {
			return a.publishMark(r.Context(), tx, &changed)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release quarantine of mark %s: %w", id, err)
	}
	a.metrics.releases.WithLabelValues(req.Kind).Inc()
	writeJSON(w, http.StatusOK, newMarkResponse(&changed))
	return nil
}
