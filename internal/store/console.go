package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Reads the console needs beyond the API's: whole lists for the admin
// pages and figures for the brand owners' charts.

// Holders returns every rights holder, by name then id.
func (s *Store) Holders(ctx context.Context) ([]Holder, error) {
	rows, err := s.read().query(ctx, `SELECT id, name, created_at FROM holders ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("store: holders: %w", err)
	}
	defer rows.Close()
	var out []Holder
	for rows.Next() {
		var (
			h  Holder
			at int64
		)
		if err := rows.Scan(&h.ID, &h.Name, &at); err != nil {
			return nil, fmt.Errorf("store: holders: %w", err)
		}
		h.CreatedAt = fromMillis(at)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: holders: %w", err)
	}
	return out, nil
}

// Sellers returns up to limit recorded sellers in the given statuses (all
// when none), most recently changed first.
func (s *Store) Sellers(ctx context.Context, statuses []string, limit int) ([]Seller, error) {
	query := `SELECT id, status, updated_at FROM sellers`
	var args []any
	if len(statuses) > 0 {
		query += ` WHERE status IN (?` + strings.Repeat(", ?", len(statuses)-1) + `)`
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	query += ` ORDER BY updated_at DESC, id LIMIT ?`
	args = append(args, max(1, min(limit, 1000)))
	rows, err := s.read().query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: sellers: %w", err)
	}
	defer rows.Close()
	var out []Seller
	for rows.Next() {
		var (
			sl Seller
			at int64
		)
		if err := rows.Scan(&sl.ID, &sl.Status, &at); err != nil {
			return nil, fmt.Errorf("store: sellers: %w", err)
		}
		sl.UpdatedAt = fromMillis(at)
		out = append(out, sl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sellers: %w", err)
	}
	return out, nil
}

// CounterNotices returns up to limit counter-notices in the given states,
// the soonest reinstatement first: the order a reviewer works them in.
func (s *Store) CounterNotices(ctx context.Context, states []string, limit int) ([]CounterNotice, error) {
	if len(states) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(states)+1)
	for _, st := range states {
		args = append(args, st)
	}
	args = append(args, max(1, min(limit, 1000)))
	rows, err := s.read().query(ctx, `SELECT complaint_id, actor, statement, filed_at, reinstate_at, state, updated_at
		FROM counter_notices WHERE state IN (?`+strings.Repeat(", ?", len(states)-1)+`)
		ORDER BY reinstate_at, complaint_id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: counter-notices: %w", err)
	}
	defer rows.Close()
	var out []CounterNotice
	for rows.Next() {
		var (
			cn                  CounterNotice
			filed, due, updated int64
		)
		if err := rows.Scan(&cn.ComplaintID, &cn.Actor, &cn.Statement, &filed, &due, &cn.State, &updated); err != nil {
			return nil, fmt.Errorf("store: counter-notices: %w", err)
		}
		cn.FiledAt, cn.ReinstateAt, cn.UpdatedAt = fromMillis(filed), fromMillis(due), fromMillis(updated)
		out = append(out, cn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: counter-notices: %w", err)
	}
	return out, nil
}

// MarkDay is one mark's complaints received on one day (UTC).
type MarkDay struct {
	MarkID string
	Day    time.Time
	// Auto counts automatic complaints received that day.
	Auto int
	// Decided and Upheld count that day's complaints decided so far and
	// those that stood (upheld, contested or reinstated after a takedown:
	// every upheld complaint took a listing down).
	Decided, Upheld int
}

// MarkFigures returns, per mark of holderID and per day since `since`, the
// complaints received, oldest day first: what the brand owner's charts
// draw.
func (s *Store) MarkFigures(ctx context.Context, holderID string, since time.Time) ([]MarkDay, error) {
	const day = 24 * 60 * 60 * 1000
	rows, err := s.read().query(ctx, `SELECT mark_id, created_at / ? AS d,
			COALESCE(SUM(CASE WHEN source = 'auto' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status <> ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status IN (?, ?, ?) THEN 1 ELSE 0 END), 0)
		FROM complaints WHERE holder_id = ? AND created_at >= ?
		GROUP BY 1, 2 ORDER BY 2, 1`,
		int64(day), ComplaintOpen, ComplaintUpheld, ComplaintContested, ComplaintReinstated, holderID, millis(since))
	if err != nil {
		return nil, fmt.Errorf("store: mark figures of %s: %w", holderID, err)
	}
	defer rows.Close()
	var out []MarkDay
	for rows.Next() {
		var (
			m MarkDay
			d int64
		)
		if err := rows.Scan(&m.MarkID, &d, &m.Auto, &m.Decided, &m.Upheld); err != nil {
			return nil, fmt.Errorf("store: mark figures of %s: %w", holderID, err)
		}
		m.Day = fromMillis(d * day)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mark figures of %s: %w", holderID, err)
	}
	return out, nil
}

// RepeatSellers counts, per mark of holderID, the sellers with more than
// one upheld complaint about it.
func (s *Store) RepeatSellers(ctx context.Context, holderID string) (map[string]int, error) {
	rows, err := s.read().query(ctx, `SELECT mark_id, COUNT(*) FROM (
			SELECT mark_id, seller_id FROM complaints
			WHERE holder_id = ? AND seller_id <> '' AND status IN (?, ?, ?)
			GROUP BY mark_id, seller_id HAVING COUNT(*) > 1) r
		GROUP BY mark_id`, holderID, ComplaintUpheld, ComplaintContested, ComplaintReinstated)
	if err != nil {
		return nil, fmt.Errorf("store: repeat sellers of %s: %w", holderID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			mark string
			n    int
		)
		if err := rows.Scan(&mark, &n); err != nil {
			return nil, fmt.Errorf("store: repeat sellers of %s: %w", holderID, err)
		}
		out[mark] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: repeat sellers of %s: %w", holderID, err)
	}
	return out, nil
}

// SellerComplaints returns up to limit complaints about the seller, newest
// first: the history a reviewer weighs.
func (s *Store) SellerComplaints(ctx context.Context, sellerID string, limit int) ([]Complaint, error) {
	rows, err := s.read().query(ctx, `SELECT status, body, created_at, updated_at, decided_at, decided_by
		FROM complaints WHERE seller_id = ? ORDER BY created_at DESC, id LIMIT ?`, sellerID, max(1, min(limit, 1000)))
	if err != nil {
		return nil, fmt.Errorf("store: complaints of seller %s: %w", sellerID, err)
	}
	defer rows.Close()
	var out []Complaint
	for rows.Next() {
		c, err := scanComplaintRow(rows)
		if err != nil {
			return nil, fmt.Errorf("store: complaints of seller %s: %w", sellerID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: complaints of seller %s: %w", sellerID, err)
	}
	return out, nil
}

// scanComplaintRow reads status, body, created_at, updated_at, decided_at,
// decided_by.
func scanComplaintRow(row rowScanner) (Complaint, error) {
	var (
		c                Complaint
		body             string
		created, updated int64
		decidedAt        sql.NullInt64
		decidedBy        sql.NullString
	)
	if err := row.Scan(&c.Status, &body, &created, &updated, &decidedAt, &decidedBy); err != nil {
		return Complaint{}, err
	}
	if err := json.Unmarshal([]byte(body), &c.Body); err != nil {
		return Complaint{}, fmt.Errorf("decode body: %w", err)
	}
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	c.DecidedAt, c.DecidedBy = fromNullMillis(decidedAt), decidedBy.String
	return c, nil
}

// GetComplaints returns the complaints with the given ids that exist, in
// the order of ids: one query for a page of the queue instead of one per
// row.
func (s *Store) GetComplaints(ctx context.Context, ids []string) ([]Complaint, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.read().query(ctx, `SELECT status, body, created_at, updated_at, decided_at, decided_by
		FROM complaints WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: get complaints: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]Complaint, len(ids))
	for rows.Next() {
		c, err := scanComplaintRow(rows)
		if err != nil {
			return nil, fmt.Errorf("store: get complaints: %w", err)
		}
		byID[c.Body.ComplaintID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: get complaints: %w", err)
	}
	out := make([]Complaint, 0, len(byID))
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// RepeatSellerTimes returns, oldest first, when each seller with more
// than one upheld complaint about the mark became a repeat seller: the
// arrival of its second upheld complaint (upheld, contested or
// reinstated, as RepeatSellers counts them). The brand owner's chart of
// repeat sellers over time counts these.
func (s *Store) RepeatSellerTimes(ctx context.Context, markID string) ([]time.Time, error) {
	rows, err := s.read().query(ctx, `SELECT seller_id, created_at FROM complaints
		WHERE mark_id = ? AND seller_id <> '' AND status IN (?, ?, ?) ORDER BY created_at, id`,
		markID, ComplaintUpheld, ComplaintContested, ComplaintReinstated)
	if err != nil {
		return nil, fmt.Errorf("store: repeat sellers of mark %s: %w", markID, err)
	}
	defer rows.Close()
	seen := map[string]int{}
	var out []time.Time
	for rows.Next() {
		var (
			seller string
			at     int64
		)
		if err := rows.Scan(&seller, &at); err != nil {
			return nil, fmt.Errorf("store: repeat sellers of mark %s: %w", markID, err)
		}
		if seen[seller]++; seen[seller] == 2 {
			out = append(out, fromMillis(at))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: repeat sellers of mark %s: %w", markID, err)
	}
	return out, nil
}
