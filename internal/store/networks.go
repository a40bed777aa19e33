package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Seller networks (migration 14): sellers linked by a key they share, kept
// as a union-find flattened into seller_networks. A union moves the
// smaller network's rows to the larger one's id (union by size, every
// seller pointing straight at its network: find is one indexed read), so a
// seller is moved O(log n) times over any sequence of unions. A key that
// becomes common is taken out and the networks it joined are rebuilt from
// the keys that remain, which is the one way a union-find forgets a link.
//
// Writes to networks take networkLockKey on PostgreSQL (SQLite has one
// writer): two listings linking at once would otherwise each move rows on
// a stale find.

// networkLockKey is the PostgreSQL advisory lock of network writes
// ("mwnetwrk" in ASCII).
const networkLockKey = 0x6d776e657477726b

// maxNetworkRebuild bounds the sellers one rebuild walks; a network larger
// than this keeps its links through a key that became common rather than
// cost an unbounded transaction.
const maxNetworkRebuild = 5000

// SellerKey is a linking fact of a seller (linking.Key): a kind ("phone",
// "photo", …) and its normalized value.
type SellerKey struct {
	Kind  string
	Value string
}

// LinkResult tells what LinkSeller did.
type LinkResult struct {
	// NewKeys counts the keys first seen for this seller.
	NewKeys int
	// Common counts the keys that are common (past the cap), now or
	// before: they link nobody.
	Common int
	// Unions counts the merges of two networks.
	Unions int
	// NetworkID is the seller's network after linking, "" when it is
	// alone; Size the number of its sellers (1 when alone).
	NetworkID string
	Size      int
}

// LinkSeller records that sellerID was seen with keys in listingID and
// links it to every seller that shares one of them, unless the key is
// shared by more than commonAt sellers: such a key is common (a courier's
// phone, a stock photo), links nobody from then on, and the networks it had
// joined are rebuilt without it. The priority of the seller's network
// (seller_priority) is brought up to date in the same transaction.
// Recording a key a second time changes nothing.
func (s *Store) LinkSeller(ctx context.Context, sellerID, listingID string, keys []SellerKey, commonAt int) (LinkResult, error) {
	if sellerID == "" {
		return LinkResult{}, errors.New("store: link seller: no seller id")
	}
	if commonAt < 1 {
		return LinkResult{}, fmt.Errorf("store: link seller %s: common-at %d", sellerID, commonAt)
	}
	var res LinkResult
	err := s.WithTx(ctx, func(tx *Tx) error {
		res = LinkResult{}
		if err := tx.lockNetworks(ctx); err != nil {
			return err
		}
		var rebuild []string
		for _, k := range keys {
			if k.Kind == "" || k.Value == "" {
				continue
			}
			var sellers int64
			var common int
			err := tx.r.queryRow(ctx, `SELECT sellers, common FROM seller_key_stats WHERE kind = ? AND value = ?`,
				k.Kind, k.Value).Scan(&sellers, &common)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if common == 1 {
				res.Common++
				continue
			}
			ins, err := tx.r.exec(ctx, `INSERT INTO seller_keys (kind, value, seller_id, listing_id, first_seen)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, value, seller_id) DO NOTHING`,
				k.Kind, k.Value, sellerID, listingID, millis(tx.now))
			if err != nil {
				return err
			}
			if n, err := ins.RowsAffected(); err != nil || n == 0 {
				if err != nil {
					return err
				}
				continue
			}
			res.NewKeys++
			sellers++
			if _, err := tx.r.exec(ctx, `INSERT INTO seller_key_stats (kind, value, sellers, common) VALUES (?, ?, 1, 0)
				ON CONFLICT (kind, value) DO UPDATE SET sellers = seller_key_stats.sellers + 1`, k.Kind, k.Value); err != nil {
				return err
			}
			if sellers > int64(commonAt) {
				// Common from now on: its rows go (bounded storage), and
				// the networks it joined are rebuilt without it.
				had, err := tx.r.strings(ctx, `SELECT seller_id FROM seller_keys WHERE kind = ? AND value = ?`, k.Kind, k.Value)
				if err != nil {
					return err
				}
				if _, err := tx.r.exec(ctx, `UPDATE seller_key_stats SET common = 1 WHERE kind = ? AND value = ?`, k.Kind, k.Value); err != nil {
					return err
				}
				if _, err := tx.r.exec(ctx, `DELETE FROM seller_keys WHERE kind = ? AND value = ?`, k.Kind, k.Value); err != nil {
					return err
				}
				rebuild = append(rebuild, had...)
				res.Common++
				continue
			}
			// Every earlier seller of the key is in one network already:
			// a union with any one of them joins them all.
			var other string
			err = tx.r.queryRow(ctx, `SELECT seller_id FROM seller_keys WHERE kind = ? AND value = ? AND seller_id <> ?
				ORDER BY first_seen, seller_id LIMIT 1`, k.Kind, k.Value, sellerID).Scan(&other)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			merged, err := tx.union(ctx, sellerID, other)
			if err != nil {
				return err
			}
			if merged {
				res.Unions++
			}
		}
		if len(rebuild) > 0 {
			if err := tx.rebuildNetworks(ctx, rebuild); err != nil {
				return err
			}
		}
		id, members, err := tx.r.network(ctx, sellerID, 0)
		if err != nil {
			return err
		}
		res.Size = len(members)
		if len(members) > 1 {
			res.NetworkID = id
		}
		if res.Unions == 0 {
			return nil // the same network as before: the same priority
		}
		return tx.refreshPriority(ctx, members)
	})
	if err != nil {
		return LinkResult{}, fmt.Errorf("store: link seller %s: %w", sellerID, err)
	}
	return res, nil
}

func (tx *Tx) lockNetworks(ctx context.Context) error {
	if tx.r.dialect != dialectPostgres {
		return nil
	}
	if _, err := tx.r.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(networkLockKey)); err != nil {
		return fmt.Errorf("lock networks: %w", err)
	}
	return nil
}

// find returns the network id of seller: itself when it is alone.
func (r runner) find(ctx context.Context, seller string) (string, error) {
	id, _, err := r.findRow(ctx, seller)
	return id, err
}

// findRow is find that also tells whether seller has a row of
// seller_networks: a seller without one is alone.
func (r runner) findRow(ctx context.Context, seller string) (string, bool, error) {
	var id string
	err := r.queryRow(ctx, `SELECT network_id FROM seller_networks WHERE seller_id = ?`, seller).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return seller, false, nil
	}
	return id, err == nil, err
}

// union joins the networks of a and b and tells whether they were two.
func (tx *Tx) union(ctx context.Context, a, b string) (bool, error) {
	ra, err := tx.r.find(ctx, a)
	if err != nil {
		return false, err
	}
	rb, err := tx.r.find(ctx, b)
	if err != nil {
		return false, err
	}
	if ra == rb {
		return false, nil
	}
	for _, x := range [][2]string{{a, ra}, {b, rb}} {
		if _, err := tx.r.exec(ctx, `INSERT INTO seller_networks (seller_id, network_id, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (seller_id) DO NOTHING`, x[0], x[1], millis(tx.now)); err != nil {
			return false, err
		}
	}
	var na, nb int
	if err := tx.r.queryRow(ctx, `SELECT COUNT(*) FROM seller_networks WHERE network_id = ?`, ra).Scan(&na); err != nil {
		return false, err
	}
	if err := tx.r.queryRow(ctx, `SELECT COUNT(*) FROM seller_networks WHERE network_id = ?`, rb).Scan(&nb); err != nil {
		return false, err
	}
	small, big := ra, rb
	if na > nb {
		small, big = rb, ra
	}
	_, err = tx.r.exec(ctx, `UPDATE seller_networks SET network_id = ?, updated_at = ? WHERE network_id = ?`,
		big, millis(tx.now), small)
	return err == nil, err
}

// rebuildNetworks recomputes the networks of sellers from the keys left in
// seller_keys: the networks can only have split.
func (tx *Tx) rebuildNetworks(ctx context.Context, sellers []string) error {
	all := map[string]bool{}
	nets := map[string]bool{}
	for _, s := range sellers {
		id, members, err := tx.r.network(ctx, s, maxNetworkRebuild)
		if err != nil {
			return err
		}
		if len(members) >= maxNetworkRebuild {
			continue
		}
		nets[id] = true
		for _, m := range members {
			all[m] = true
		}
	}
	for id := range nets {
		if _, err := tx.r.exec(ctx, `DELETE FROM seller_networks WHERE network_id = ?`, id); err != nil {
			return err
		}
	}
	done := map[string]bool{}
	for _, start := range slices.Sorted(func(yield func(string) bool) {
		for s := range all {
			if !yield(s) {
				return
			}
		}
	}) {
		if done[start] {
			continue
		}
		// Breadth first over the keys each seller still has.
		comp := []string{start}
		done[start] = true
		for i := 0; i < len(comp); i++ {
			next, err := tx.r.strings(ctx, `SELECT DISTINCT b.seller_id FROM seller_keys a
				JOIN seller_keys b ON b.kind = a.kind AND b.value = a.value
				WHERE a.seller_id = ? AND b.seller_id <> a.seller_id`, comp[i])
			if err != nil {
				return err
			}
			for _, n := range next {
				if !done[n] {
					done[n] = true
					comp = append(comp, n)
				}
			}
		}
		if len(comp) > 1 {
			id := slices.Min(comp)
			for _, m := range comp {
				if _, err := tx.r.exec(ctx, `INSERT INTO seller_networks (seller_id, network_id, updated_at) VALUES (?, ?, ?)
					ON CONFLICT (seller_id) DO UPDATE SET network_id = excluded.network_id, updated_at = excluded.updated_at`,
					m, id, millis(tx.now)); err != nil {
					return err
				}
			}
		}
		if err := tx.refreshPriority(ctx, comp); err != nil {
			return err
		}
	}
	return nil
}

// network returns the network id of seller and its sellers, sorted (just
// the seller when it is alone), at most limit of them when limit > 0.
func (r runner) network(ctx context.Context, seller string, limit int) (string, []string, error) {
	id, found, err := r.findRow(ctx, seller)
	if err != nil {
		return "", nil, err
	}
	if !found {
		return seller, []string{seller}, nil
	}
	members, err := r.members(ctx, id, limit)
	return id, members, err
}

// members returns the sellers of the network id, sorted, at most limit of
// them when limit > 0.
func (r runner) members(ctx context.Context, id string, limit int) ([]string, error) {
	q, args := `SELECT seller_id FROM seller_networks WHERE network_id = ? ORDER BY seller_id`, []any{id}
	if limit > 0 {
		q, args = q+` LIMIT ?`, append(args, limit)
	}
	return r.strings(ctx, q, args...)
}

// refreshPriority brings seller_priority up to date for the sellers of one
// network (or one seller alone): a network of two or more with a strike
// puts all its sellers first, and their complaints' queue keys follow.
func (tx *Tx) refreshPriority(ctx context.Context, members []string) error {
	want := false
	if len(members) > 1 {
		for chunk := range slices.Chunk(members, 500) {
			var n int
			if err := tx.r.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM strikes WHERE seller_id IN (`+placeholders(len(chunk))+`) LIMIT 1) s`,
				anys(chunk)...).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				want = true
				break
			}
		}
	}
	have := map[string]bool{}
	for chunk := range slices.Chunk(members, 500) {
		got, err := tx.r.strings(ctx, `SELECT seller_id FROM seller_priority WHERE seller_id IN (`+placeholders(len(chunk))+`)`, anys(chunk)...)
		if err != nil {
			return err
		}
		for _, g := range got {
			have[g] = true
		}
	}
	for _, m := range members {
		if have[m] == want {
			continue
		}
		if err := tx.setSellerPriority(ctx, m, want); err != nil {
			return err
		}
	}
	return nil
}

// setSellerPriority puts seller's complaints first in the queue, or takes
// them back unless another priority holds (hasPriority).
func (tx *Tx) setSellerPriority(ctx context.Context, seller string, on bool) error {
	if on {
		if _, err := tx.r.exec(ctx, `INSERT INTO seller_priority (seller_id, since) VALUES (?, ?)
			ON CONFLICT (seller_id) DO NOTHING`, seller, millis(tx.now)); err != nil {
			return err
		}
		if _, err := tx.r.exec(ctx, `UPDATE complaints SET queue_key = '0' || substr(queue_key, 2)
			WHERE seller_id = ? AND substr(queue_key, 1, 1) <> '0'`, seller); err != nil {
			return err
		}
		return tx.rekeyMatchers(ctx, "seller_id", seller)
	}
	if _, err := tx.r.exec(ctx, `DELETE FROM seller_priority WHERE seller_id = ?`, seller); err != nil {
		return err
	}
	if _, err := tx.r.exec(ctx, `UPDATE complaints SET queue_key = '1' || substr(queue_key, 2)
		WHERE seller_id = ? AND substr(queue_key, 1, 1) <> '1' AND NOT `+hasPriority, seller); err != nil {
		return err
	}
	return tx.rekeyMatchers(ctx, "seller_id", seller)
}

// refreshSellerNetworkPriority is refreshPriority for seller's network,
// after a strike of seller was added or removed.
func (tx *Tx) refreshSellerNetworkPriority(ctx context.Context, seller string) error {
	if err := tx.lockNetworks(ctx); err != nil {
		return err
	}
	// Most sellers are in no network: their network row and priority are
	// read in one statement, and a seller alone never has priority.
	var (
		network sql.NullString
		prio    int
	)
	if err := tx.r.queryRow(ctx, `SELECT (SELECT network_id FROM seller_networks WHERE seller_id = ?),
		(SELECT COUNT(*) FROM seller_priority WHERE seller_id = ?)`, seller, seller).Scan(&network, &prio); err != nil {
		return fmt.Errorf("store: network priority of %s: %w", seller, err)
	}
	if !network.Valid {
		if prio == 0 {
			return nil
		}
		return tx.setSellerPriority(ctx, seller, false)
	}
	members, err := tx.r.members(ctx, network.String, 0)
	if err != nil {
		return fmt.Errorf("store: network priority of %s: %w", seller, err)
	}
	if err := tx.refreshPriority(ctx, members); err != nil {
		return fmt.Errorf("store: network priority of %s: %w", seller, err)
	}
	return nil
}

// NetworkSeller is one seller of a network with its record.
type NetworkSeller struct {
	SellerID string
	// Status is the seller's place on the strike ladder ("active" when
	// the store has no record of it).
	Status string
	// Strikes counts its strikes, expired ones included; ActiveStrikes
	// those that still count.
	Strikes, ActiveStrikes int
	// Priority tells whether its complaints come first in the queue.
	Priority bool
}

// NetworkLink is one key shared by two or more sellers of a network: the
// evidence of their link. Sellers[i] was first seen with it in
// Listings[i].
type NetworkLink struct {
	Kind, Value string
	Sellers     []string
	Listings    []string
}

// SellerNetwork is a seller's network: its sellers and the links between
// them.
type SellerNetwork struct {
	// NetworkID is the network's id, the seller's own id when it is
	// alone (Sellers then holds just the seller).
	NetworkID string
	Sellers   []NetworkSeller
	Links     []NetworkLink
	// Truncated tells that the network has more sellers than were read.
	Truncated bool
}

// SellerNetwork returns the network of sellerID with at most limit sellers
// (the seller itself always among them) and the links between those.
func (s *Store) SellerNetwork(ctx context.Context, sellerID string, limit int) (SellerNetwork, error) {
	if limit < 1 {
		return SellerNetwork{}, fmt.Errorf("store: seller network of %s: limit %d", sellerID, limit)
	}
	r := s.read()
	id, members, err := r.network(ctx, sellerID, limit+1)
	if err != nil {
		return SellerNetwork{}, fmt.Errorf("store: seller network of %s: %w", sellerID, err)
	}
	net := SellerNetwork{NetworkID: id}
	if len(members) > limit {
		net.Truncated = true
		members = members[:limit]
		if !slices.Contains(members, sellerID) {
			members[limit-1] = sellerID
			slices.Sort(members)
		}
	}
	in, args := placeholders(len(members)), anys(members)
	bySeller := map[string]*NetworkSeller{}
	for _, m := range members {
		net.Sellers = append(net.Sellers, NetworkSeller{SellerID: m, Status: SellerActive})
	}
	for i := range net.Sellers {
		bySeller[net.Sellers[i].SellerID] = &net.Sellers[i]
	}
	err = r.each(ctx, func(rows *sql.Rows) error {
		var seller, status string
		if err := rows.Scan(&seller, &status); err != nil {
			return err
		}
		bySeller[seller].Status = status
		return nil
	}, `SELECT id, status FROM sellers WHERE id IN (`+in+`)`, args...)
	if err == nil {
		err = r.each(ctx, func(rows *sql.Rows) error {
			var seller string
			var n, active int
			if err := rows.Scan(&seller, &n, &active); err != nil {
				return err
			}
			bySeller[seller].Strikes, bySeller[seller].ActiveStrikes = n, active
			return nil
		}, `SELECT seller_id, COUNT(*), SUM(CASE WHEN expires_at > ? THEN 1 ELSE 0 END) FROM strikes
			WHERE seller_id IN (`+in+`) GROUP BY seller_id`, append([]any{millis(s.now())}, args...)...)
	}
	if err == nil {
		err = r.each(ctx, func(rows *sql.Rows) error {
			var seller string
			if err := rows.Scan(&seller); err != nil {
				return err
			}
			bySeller[seller].Priority = true
			return nil
		}, `SELECT seller_id FROM seller_priority WHERE seller_id IN (`+in+`)`, args...)
	}
	if err == nil && len(members) > 1 {
		err = r.each(ctx, func(rows *sql.Rows) error {
			var kind, value, seller, listing string
			if err := rows.Scan(&kind, &value, &seller, &listing); err != nil {
				return err
			}
			if n := len(net.Links); n == 0 || net.Links[n-1].Kind != kind || net.Links[n-1].Value != value {
				net.Links = append(net.Links, NetworkLink{Kind: kind, Value: value})
			}
			l := &net.Links[len(net.Links)-1]
			l.Sellers, l.Listings = append(l.Sellers, seller), append(l.Listings, listing)
			return nil
		}, `SELECT kind, value, seller_id, listing_id FROM seller_keys WHERE seller_id IN (`+in+`)
			ORDER BY kind, value, seller_id`, args...)
	}
	if err != nil {
		return SellerNetwork{}, fmt.Errorf("store: seller network of %s: %w", sellerID, err)
	}
	// A key of one seller only is no link.
	net.Links = slices.DeleteFunc(net.Links, func(l NetworkLink) bool { return len(l.Sellers) < 2 })
	return net, nil
}

// strings runs a query of one text column and returns its values.
func (r runner) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	var out []string
	err := r.each(ctx, func(rows *sql.Rows) error {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	}, query, args...)
	return out, err
}

// each runs query and calls fn on every row.
func (r runner) each(ctx context.Context, fn func(*sql.Rows) error, query string, args ...any) error {
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
