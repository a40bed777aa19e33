package api

import (
	"fmt"
	"net/http"
)

// liftRequest is the body of POST /v1/sellers/{id}/lift-suspension.
type liftRequest struct {
	// Reason is why the suspension ends, for the audit log; required.
	Reason string `json:"reason"`
}

func (a *API) liftSuspension(w http.ResponseWriter, r *request) error {
	var req liftRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Reason == "" {
		return badRequest("field reason: required")
	}
	rec, err := a.review.LiftSuspension(r.Context(), r.PathValue("id"), r.user.ID, req.Reason)
	if err != nil {
		return fmt.Errorf("lift suspension: %w", err)
	}
	writeJSON(w, http.StatusOK, newSellerResponse(rec))
	return nil
}
