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

// QueueQuery selects complaints for the review queue without full text.
// Empty fields do not filter.
type QueueQuery struct {
	Status, Source, MarkID, HolderID, SellerID []string
	// MinScore and MaxScore bound the score, both inclusive.
	MinScore, MaxScore *float64
	// CreatedAfter (inclusive) and CreatedBefore (exclusive) bound the
	// arrival time.
	CreatedAfter, CreatedBefore time.Time
	// First are the holders whose complaints come first (good-faith
	// notifiers).
	First []string
	// Offset and Limit page the result.
	Offset, Limit int
	// NoTotal skips counting the matches (QueueIDs returns -1): a caller
	// that knows the count another way saves a scan of the queue.
	NoTotal bool
}

// QueueIDs returns the ids of a page of the queue in its order — First
// holders' complaints, then the rest, each by score descending, then
// arrival, then id (the search index's order) — and how many complaints
// match. Each part is read in index order (complaints_queue), so a page
// costs its rows, not the whole queue; the count is one scan of the
// matching index entries.
func (s *Store) QueueIDs(ctx context.Context, q QueueQuery) ([]string, int, error) {
	where := []string{"1 = 1"}
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN (?"+strings.Repeat(", ?", len(vals)-1)+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("status", q.Status)
	in("source", q.Source)
	in("mark_id", q.MarkID)
	in("holder_id", q.HolderID)
	in("seller_id", q.SellerID)
	if q.MinScore != nil {
		where, args = append(where, "score >= ?"), append(args, *q.MinScore)
	}
	if q.MaxScore != nil {
		where, args = append(where, "score <= ?"), append(args, *q.MaxScore)
	}
	if !q.CreatedAfter.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, millis(q.CreatedAfter))
	}
	if !q.CreatedBefore.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, millis(q.CreatedBefore))
	}
	cond := strings.Join(where, " AND ")
	r := s.read()
	total := -1
	if !q.NoTotal {
		if err := r.queryRow(ctx, `SELECT COUNT(*) FROM complaints WHERE `+cond, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("store: queue: %w", err)
		}
	}
	limit := max(1, min(q.Limit, 1000))
	offset := max(0, q.Offset)
	part := func(extra string, extraArgs []any, off, n int) ([]string, error) {
		a := append(append(append([]any{}, args...), extraArgs...), n, off)
		rows, err := r.query(ctx, `SELECT id FROM complaints WHERE `+cond+extra+`
			ORDER BY score DESC, created_at, id LIMIT ? OFFSET ?`, a...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	var ids []string
	rest, restOffset := "", offset
	var restArgs []any
	if len(q.First) > 0 {
		firstCond := " AND holder_id IN (?" + strings.Repeat(", ?", len(q.First)-1) + ")"
		var firstArgs []any
		for _, h := range q.First {
			firstArgs = append(firstArgs, h)
		}
		var nFirst int
		if err := r.queryRow(ctx, `SELECT COUNT(*) FROM complaints WHERE `+cond+firstCond, append(append([]any{}, args...), firstArgs...)...).Scan(&nFirst); err != nil {
			return nil, 0, fmt.Errorf("store: queue: %w", err)
		}
		if offset < nFirst {
			got, err := part(firstCond, firstArgs, offset, limit)
			if err != nil {
				return nil, 0, fmt.Errorf("store: queue: %w", err)
			}
			ids = got
		}
		rest = strings.Replace(firstCond, "IN", "NOT IN", 1)
		restArgs = firstArgs
		restOffset = max(0, offset-nFirst)
	}
	if len(ids) < limit {
		got, err := part(rest, restArgs, restOffset, limit-len(ids))
		if err != nil {
			return nil, 0, fmt.Errorf("store: queue: %w", err)
		}
		ids = append(ids, got...)
	}
	return ids, total, nil
}
