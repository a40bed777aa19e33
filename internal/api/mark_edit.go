package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// markEditRequest is the body of PATCH /v1/marks/{id}: the parts of a mark
// its holder keeps current after registration, from the version read. A
// list left out (or null)
// stays as it is; a list given replaces the mark's whole, so an empty list
// clears it. Variants carry transliterations too (耐克 for Nike).
// What proves the holder's rights (name, registration) and what an admin
// decides (status, threshold) are not edited here.
type markEditRequest struct {
	// Version is the mark's version the edit was made from: the edit is
	// a compare-and-set, and a mark changed since is 409, so that an edit
	// never silently undoes another.
	Version           int64                    `json:"version"`
	Variants          *[]string                `json:"variants,omitempty"`
	AuthorizedSellers *[]string                `json:"authorized_sellers,omitempty"`
	ReferencePrices   *[]domain.ReferencePrice `json:"reference_prices,omitempty"`
}

// editMark applies a markEditRequest: validated like a registration (the
// mark as edited must pass domain.Mark.Validate), audited with what
// changed, at the mark's next version, and published to the marks topic
// when the mark is active, so that detectors match the new variants and
// prices and the sweeper sweeps again for new variants.
func (a *API) editMark(w http.ResponseWriter, r *request) error {
	var req markEditRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Variants == nil && req.AuthorizedSellers == nil && req.ReferencePrices == nil {
		return badRequest("nothing to change: give variants, authorized_sellers or reference_prices")
	}
	cur := r.mark
	if cur.Body.Status == domain.MarkRemoved {
		return &apiError{status: http.StatusConflict, code: "conflict", msg: "mark is removed; a removed mark is kept as it was for the audit trail"}
	}
	if req.Version != cur.Version {
		return &apiError{status: http.StatusConflict, code: "conflict",
			msg: fmt.Sprintf("mark is at version %d, not %d: it changed since you read it", cur.Version, req.Version)}
	}
	edit := store.MarkEdit{Variants: req.Variants, AuthorizedSellers: req.AuthorizedSellers, ReferencePrices: req.ReferencePrices}
	next := cur.Body
	edit.Apply(&next)
	if err := next.Validate(domain.Limits{}); err != nil {
		return err
	}
	detail := editDetail(&cur.Body, &next)
	if len(detail) == 0 {
		writeJSON(w, http.StatusOK, newMarkResponse(cur)) // nothing differs: no new version
		return nil
	}
	id := cur.Body.MarkID
	var changed store.Mark
	err := a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		var err error
		if changed, err = tx.EditMark(r.Context(), id, cur.Version, edit); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: "mark.edit", ObjectType: "mark", ObjectID: id, Detail: auditDetail(detail),
		}); err != nil {
			return err
		}
		// Detectors watch active marks only; a pending or suspended mark
		// carries its edits to them when it is verified.
		if changed.Body.Active() {
			return a.publishMark(r.Context(), tx, &changed)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("edit mark %s: %w", id, err)
	}
	writeJSON(w, http.StatusOK, newMarkResponse(&changed))
	return nil
}

// editDetail is the audit detail of an edit: each changed field's value
// before and after ("variants.from", "variants.to"), none when nothing
// changed.
func editDetail(before, after *domain.Mark) map[string]string {
	prices := func(ps []domain.ReferencePrice) string {
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = strings.TrimSpace(p.Amount + " " + p.Currency + " " + p.Category)
		}
		return strings.Join(s, "; ")
	}
	d := map[string]string{}
	add := func(field, from, to string) {
		if from != to {
			d[field+".from"], d[field+".to"] = from, to
		}
	}
	add("variants", strconv.Quote(strings.Join(before.Variants, "\n")), strconv.Quote(strings.Join(after.Variants, "\n")))
	add("authorized_sellers", strings.Join(before.AuthorizedSellers, ", "), strings.Join(after.AuthorizedSellers, ", "))
	if !slices.Equal(before.ReferencePrices, after.ReferencePrices) {
		d["reference_prices.from"], d["reference_prices.to"] = prices(before.ReferencePrices), prices(after.ReferencePrices)
	}
	return d
}
