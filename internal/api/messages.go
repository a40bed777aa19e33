package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
)

// messageRequest is a message for a complaint's thread.
type messageRequest struct {
	// Body is plain text, at most 4000 bytes.
	Body string `json:"body"`
}

// messageResponse is one message of a complaint's thread.
type messageResponse struct {
	ID          int64  `json:"id"`
	ComplaintID string `json:"complaint_id"`
	// Author is the party: holder or seller.
	Author    string    `json:"author" enum:"message_author"`
	Actor     string    `json:"actor"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// messageListResponse is a page of a thread. NextAfter is the cursor of
// the next page (the after parameter); absent on the last page.
type messageListResponse struct {
	Messages  []messageResponse `json:"messages"`
	NextAfter *int64            `json:"next_after,omitempty"`
}

// withdrawRequest withdraws a complaint.
type withdrawRequest struct {
	// Reason is posted to the thread for the seller to read.
	Reason string `json:"reason"`
}

// messageParams are the query parameters GET .../messages accepts.
var messageParams = []string{"after", "limit"}

func newMessageResponse(m store.Message) messageResponse {
	return messageResponse{ID: m.ID, ComplaintID: m.ComplaintID, Author: m.Author, Actor: m.Actor, Body: m.Body, CreatedAt: m.CreatedAt}
}

func (a *API) listMessages(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(messageParams, k) || len(q[k]) > 1 {
			return badRequest("query parameter %s: unknown or repeated; want at most one each of %s", k, strings.Join(messageParams, ", "))
		}
	}
	var (
		after int64
		limit = 100
		err   error
	)
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return badRequest("query parameter after: want a non-negative integer")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			return badRequest("query parameter limit: want an integer from 1 to 1000")
		}
	}
	ms, err := a.review.Messages(r.Context(), r.complaint.Body.ComplaintID, after, limit)
	if err != nil {
		return fmt.Errorf("messages: %w", err)
	}
	resp := messageListResponse{Messages: make([]messageResponse, 0, len(ms))}
	for _, m := range ms {
		resp.Messages = append(resp.Messages, newMessageResponse(m))
	}
	if len(ms) == limit {
		resp.NextAfter = &ms[len(ms)-1].ID
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *API) postMessage(w http.ResponseWriter, r *request) error {
	var req messageRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	// The party comes from the credentials: a brand owner is its holder
	// (tenantComplaintPath checked it is this complaint's), the
	// marketplace speaks for the listing's seller.
	author := store.AuthorSeller
	if identity.Role(r.user.Role) == identity.RoleBrandOwner {
		author = store.AuthorHolder
	}
	m, err := a.review.PostMessage(r.Context(), r.complaint.Body.ComplaintID, author, r.user.ID, req.Body)
	if err != nil {
		return fmt.Errorf("message: %w", err)
	}
	writeJSON(w, http.StatusCreated, newMessageResponse(m))
	return nil
}

func (a *API) withdraw(w http.ResponseWriter, r *request) error {
	var req withdrawRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	id := r.complaint.Body.ComplaintID
	if err := a.review.Withdraw(r.Context(), id, r.user.ID, req.Reason); err != nil {
		return fmt.Errorf("withdraw: %w", err)
	}
	c, err := a.store.GetComplaint(r.Context(), id)
	if err != nil {
		return fmt.Errorf("withdraw: %w", err)
	}
	writeJSON(w, http.StatusOK, newComplaintResponse(&c))
	return nil
}
