package review

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/markwatch/markwatch/internal/store"
)

// MaxNetworkActionSellers caps the sellers of one network action, and
// maxNetworkActionComplaints the open complaints decided per seller.
const (
	MaxNetworkActionSellers    = 100
	maxNetworkActionComplaints = 100
)

// NetworkActionResult is what one network action did for one seller.
type NetworkActionResult struct {
	SellerID string
	// Decided are the complaints decided; Failed the complaints whose
	// decision failed, with why (a concurrent decision, a buyer complaint
	// naming no mark that cannot be upheld…).
	Decided []string
	Failed  map[string]error
	// Err is why nothing was done for the seller (not in the network).
	Err error
}

// NetworkAction applies one reviewer's decision to the open complaints of
// the sellers of sellerID's network that the reviewer named, seller by
// seller: a network is a reason to look at every seller, never a verdict
// on the ones nobody named. The proposal is audited on the network
// ("network.action_proposed"), each seller's outcome on the seller
// ("seller.network_action"), and each complaint is decided by Decide, in
// its own transaction, with its own audit, takedown and strike: one
// failure undoes nothing else. A seller outside the network gets Err
// ErrInvalid and is left alone.
func (s *Service) NetworkAction(ctx context.Context, sellerID string, d Decision, sellers []string) (string, []NetworkActionResult, error) {
	if err := d.validate(); err != nil {
		return "", nil, fmt.Errorf("review: network action of %s: %w", sellerID, err)
	}
	if len(sellers) == 0 || len(sellers) > MaxNetworkActionSellers {
		return "", nil, fmt.Errorf("review: network action of %s: %w", sellerID,
			invalid("seller_ids", fmt.Sprintf("want 1 to %d sellers, got %d", MaxNetworkActionSellers, len(sellers))))
	}
	net, err := s.store.SellerNetwork(ctx, sellerID, 10*MaxNetworkActionSellers)
	if err != nil {
		return "", nil, fmt.Errorf("review: network action of %s: %w", sellerID, err)
	}
	members := map[string]bool{}
	for _, m := range net.Sellers {
		members[m.SellerID] = true
	}
	err = s.store.WithTx(ctx, func(tx *store.Tx) error {
		return audit(ctx, tx, d.Actor, "network.action_proposed", "seller_network", net.NetworkID, map[string]any{
			"seller_id": sellerID, "decision": d.Verdict, "reason_code": d.ReasonCode, "note": d.Note, "sellers": sellers,
		})
	})
	if err != nil {
		return "", nil, fmt.Errorf("review: network action of %s: %w", sellerID, err)
	}
	var results []NetworkActionResult
	for _, seller := range slices.Compact(slices.Sorted(slices.Values(sellers))) {
		res := NetworkActionResult{SellerID: seller, Failed: map[string]error{}}
		if !members[seller] {
			res.Err = invalid("seller_ids", fmt.Sprintf("seller %s is not in the network of %s", seller, sellerID))
			results = append(results, res)
			continue
		}
		page, err := s.store.ListQueue(ctx, store.QueueFilter{SellerID: []string{seller}, Status: []string{store.ComplaintOpen}}, "", maxNetworkActionComplaints)
		if err != nil {
			return net.NetworkID, results, fmt.Errorf("review: network action on %s: %w", seller, err)
		}
		for _, c := range page.Complaints {
			id := c.Body.ComplaintID
			// The page's complaint, read just now, spares the
			// decision its own read (DecideComplaint).
			if _, err := s.decide(ctx, id, &c, d); err != nil {
				if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrConflict) && !errors.Is(err, store.ErrNotFound) {
					return net.NetworkID, results, err
				}
				res.Failed[id] = err
				continue
			}
			res.Decided = append(res.Decided, id)
		}
		err = s.store.WithTx(ctx, func(tx *store.Tx) error {
			return audit(ctx, tx, d.Actor, "seller.network_action", "seller", seller, map[string]any{
				"network_id": net.NetworkID, "decision": d.Verdict, "reason_code": d.ReasonCode,
				"decided": res.Decided, "failed": len(res.Failed),
			})
		})
		if err != nil {
			return net.NetworkID, results, fmt.Errorf("review: network action on %s: %w", seller, err)
		}
		results = append(results, res)
	}
	return net.NetworkID, results, nil
}
