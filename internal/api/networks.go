package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/markwatch/markwatch/internal/review"
)

// maxNetworkSellers caps the sellers of one network response; past it the
// response says truncated.
const maxNetworkSellers = 200

// networkResponse is a seller's network: the sellers linked to it, their
// strikes, and the evidence of every link.
type networkResponse struct {
	SellerID string `json:"seller_id"`
	// NetworkID is the network's id, the seller's own when it is alone.
	NetworkID string                  `json:"network_id"`
	Sellers   []networkSellerResponse `json:"sellers"`
	Links     []networkLinkResponse   `json:"links"`
	// Truncated: the network has more than 200 sellers; these are the
	// first by id, the seller asked for always among them.
	Truncated bool `json:"truncated"`
}

// networkSellerResponse is one seller of a network with its record.
type networkSellerResponse struct {
	SellerID string `json:"seller_id"`
	// Status is the seller's place on the strike ladder.
	Status        string `json:"status"`
	Strikes       int    `json:"strikes"`
	ActiveStrikes int    `json:"active_strikes"`
	// Priority: the network has a strike, so this seller's complaints
	// come first in the queue.
	Priority bool `json:"priority"`
}

// networkLinkResponse is one shared key, the evidence linking its sellers.
type networkLinkResponse struct {
	// Kind is phone, email, telegram, wechat, url, photo, ship_from or
	// payout; Value the normalized key (a phone's last ten digits, a
	// photo's perceptual hash in hex, a URL as host+path).
	Kind    string                   `json:"kind"`
	Value   string                   `json:"value"`
	Sellers []networkLinkSellerEntry `json:"sellers"`
}

// networkLinkSellerEntry is a seller that has a key, and the listing it
// was first seen with it in.
type networkLinkSellerEntry struct {
	SellerID  string `json:"seller_id"`
	ListingID string `json:"listing_id"`
}

func (a *API) getSellerNetwork(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	net, err := a.store.SellerNetwork(r.Context(), id, maxNetworkSellers)
	if err != nil {
		return fmt.Errorf("seller network: %w", err)
	}
	resp := networkResponse{SellerID: id, NetworkID: net.NetworkID, Truncated: net.Truncated,
		Sellers: []networkSellerResponse{}, Links: []networkLinkResponse{}}
	for _, s := range net.Sellers {
		resp.Sellers = append(resp.Sellers, networkSellerResponse{SellerID: s.SellerID, Status: s.Status,
			Strikes: s.Strikes, ActiveStrikes: s.ActiveStrikes, Priority: s.Priority})
	}
	for _, l := range net.Links {
		link := networkLinkResponse{Kind: l.Kind, Value: l.Value}
		for i, s := range l.Sellers {
			link.Sellers = append(link.Sellers, networkLinkSellerEntry{SellerID: s, ListingID: l.Listings[i]})
		}
		resp.Links = append(resp.Links, link)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// networkActionRequest is the body of POST /v1/sellers/{id}/network/decisions:
// one decision, applied to the open complaints of each seller named.
type networkActionRequest struct {
	Decision   string `json:"decision" enum:"verdict"`
	ReasonCode string `json:"reason_code" enum:"reason_code"`
	Note       string `json:"note,omitempty"`
	// SellerIDs are the network's sellers the reviewer decided to act
	// on, each named: at most 100.
	SellerIDs []string `json:"seller_ids"`
}

// networkActionResponse has one result per seller named, by seller id.
type networkActionResponse struct {
	NetworkID string                `json:"network_id"`
	Results   []networkActionResult `json:"results"`
}

// networkActionResult is what the action did for one seller: the
// complaints decided, those whose decision failed and why, or why the
// seller was left alone.
type networkActionResult struct {
	SellerID string               `json:"seller_id"`
	Decided  []string             `json:"decided"`
	Failed   []bulkDecisionResult `json:"failed"`
	Error    *envelopeError       `json:"error,omitempty"`
}

func (a *API) decideNetwork(w http.ResponseWriter, r *request) error {
	var req networkActionRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	netID, results, err := a.review.NetworkAction(r.Context(), r.PathValue("id"), review.Decision{
		Verdict: req.Decision, ReasonCode: req.ReasonCode, Note: req.Note, Actor: r.user.ID,
	}, req.SellerIDs)
	for _, res := range results {
		for _, id := range res.Decided {
			a.reindex(r.Context(), id)
		}
	}
	if err != nil {
		return fmt.Errorf("network action: %w", err)
	}
	resp := networkActionResponse{NetworkID: netID, Results: []networkActionResult{}}
	for _, res := range results {
		out := networkActionResult{SellerID: res.SellerID, Decided: res.Decided, Failed: []bulkDecisionResult{}}
		if out.Decided == nil {
			out.Decided = []string{}
		}
		if res.Err != nil {
			ae := a.toAPIError(res.Err)
			out.Error = &envelopeError{Code: ae.code, Message: ae.msg}
		}
		for _, id := range slices.Sorted(maps.Keys(res.Failed)) {
			ae := a.toAPIError(res.Failed[id])
			out.Failed = append(out.Failed, bulkDecisionResult{ComplaintID: id, Error: &envelopeError{Code: ae.code, Message: ae.msg}})
		}
		resp.Results = append(resp.Results, out)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
