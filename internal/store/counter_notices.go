package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Counter-notice states: waiting → reinstated (the waiting period ran out),
// escalated (the holder keeps the listing down) or decided (a reviewer
// decided the contested complaint first); escalated → decided.
const (
	CounterNoticeWaiting    = "waiting"
	CounterNoticeEscalated  = "escalated"
	CounterNoticeReinstated = "reinstated"
	CounterNoticeDecided    = "decided"
)

// CounterNotice is a seller's objection to an upheld complaint, forwarded by
// the marketplace.
type CounterNotice struct {
	ComplaintID string
	// Actor is who filed it (the marketplace's service account).
	Actor     string
	Statement string
	FiledAt   time.Time
	// ReinstateAt is when the listing comes back unless the holder
	// escalates or a reviewer decides first.
	ReinstateAt time.Time
	State       string
	UpdatedAt   time.Time
}

// FileCounterNotice stores cn in state waiting. FiledAt and ReinstateAt are
// the caller's (its clock and waiting period decide them). A complaint has at
// most one counter-notice: a second is ErrConflict.
func (tx *Tx) FileCounterNotice(ctx context.Context, cn CounterNotice) (CounterNotice, error) {
	if cn.ComplaintID == "" || cn.Actor == "" {
		return CounterNotice{}, errors.New("store: file counter-notice: complaint id and actor are required")
	}
	cn.State = CounterNoticeWaiting
	cn.FiledAt = fromMillis(millis(cn.FiledAt))
	cn.ReinstateAt = fromMillis(millis(cn.ReinstateAt))
	cn.UpdatedAt = fromMillis(millis(tx.now))
	_, err := tx.r.exec(ctx, `INSERT INTO counter_notices
		(complaint_id, actor, statement, filed_at, reinstate_at, state, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		cn.ComplaintID, cn.Actor, cn.Statement, millis(cn.FiledAt), millis(cn.ReinstateAt), cn.State, millis(cn.UpdatedAt))
	if isUniqueViolation(err) {
		return CounterNotice{}, fmt.Errorf("store: file counter-notice for %s: %w", cn.ComplaintID, ErrConflict)
	}
	if err != nil {
		return CounterNotice{}, fmt.Errorf("store: file counter-notice for %s: %w", cn.ComplaintID, err)
	}
	return cn, nil
}

// SetCounterNoticeState moves the counter-notice of complaintID from state
// from to state to, as a compare-and-set: when it is no longer in state
// from, it is ErrConflict; when there is none, ErrNotFound.
func (tx *Tx) SetCounterNoticeState(ctx context.Context, complaintID, from, to string) error {
	switch to {
	case CounterNoticeWaiting, CounterNoticeEscalated, CounterNoticeReinstated, CounterNoticeDecided:
	default:
		return fmt.Errorf("store: set counter-notice %s state: unknown state %q", complaintID, to)
	}
	res, err := tx.r.exec(ctx, `UPDATE counter_notices SET state = ?, updated_at = ?
		WHERE complaint_id = ? AND state = ?`, to, millis(tx.now), complaintID, from)
	if err != nil {
		return fmt.Errorf("store: set counter-notice %s state %s: %w", complaintID, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: set counter-notice %s state %s: %w", complaintID, to, err)
	}
	if n == 1 {
		return nil
	}
	cn, err := tx.GetCounterNotice(ctx, complaintID)
	if err != nil {
		return fmt.Errorf("store: set counter-notice %s state %s: %w", complaintID, to, err)
	}
	return fmt.Errorf("store: set counter-notice %s state %s: it is %s, not %s: %w", complaintID, to, cn.State, from, ErrConflict)
}

// DecideCounterNotice moves the counter-notice of complaintID to decided
// from whatever state it is in (a reviewer's decision settles it, waiting
// or escalated), in one statement; when there is none, ErrNotFound.
func (tx *Tx) DecideCounterNotice(ctx context.Context, complaintID string) error {
	res, err := tx.r.exec(ctx, `UPDATE counter_notices SET state = ?, updated_at = ? WHERE complaint_id = ?`,
		CounterNoticeDecided, millis(tx.now), complaintID)
	if err != nil {
		return fmt.Errorf("store: decide counter-notice %s: %w", complaintID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: decide counter-notice %s: %w", complaintID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: decide counter-notice %s: %w", complaintID, ErrNotFound)
	}
	return nil
}

// GetCounterNotice returns the counter-notice of complaintID, or ErrNotFound.
func (s *Store) GetCounterNotice(ctx context.Context, complaintID string) (CounterNotice, error) {
	return s.read().getCounterNotice(ctx, complaintID)
}

// GetCounterNotice returns the counter-notice of complaintID, or ErrNotFound.
func (tx *Tx) GetCounterNotice(ctx context.Context, complaintID string) (CounterNotice, error) {
	return tx.r.getCounterNotice(ctx, complaintID)
}

func (r runner) getCounterNotice(ctx context.Context, complaintID string) (CounterNotice, error) {
	var (
		cn                          CounterNotice
		filed, reinstate, updatedAt int64
	)
	err := r.queryRow(ctx, `SELECT complaint_id, actor, statement, filed_at, reinstate_at, state, updated_at
		FROM counter_notices WHERE complaint_id = ?`, complaintID).
		Scan(&cn.ComplaintID, &cn.Actor, &cn.Statement, &filed, &reinstate, &cn.State, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return CounterNotice{}, fmt.Errorf("store: get counter-notice %s: %w", complaintID, ErrNotFound)
	}
	if err != nil {
		return CounterNotice{}, fmt.Errorf("store: get counter-notice %s: %w", complaintID, err)
	}
	cn.FiledAt = fromMillis(filed)
	cn.ReinstateAt = fromMillis(reinstate)
	cn.UpdatedAt = fromMillis(updatedAt)
	return cn, nil
}

// DueCounterNotices returns the ids of up to limit complaints whose
// counter-notice is still waiting and whose reinstate_at is not after now,
// earliest first. Escalated and decided counter-notices never come due.
func (s *Store) DueCounterNotices(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read().query(ctx, `SELECT complaint_id FROM counter_notices
		WHERE state = ? AND reinstate_at <= ? ORDER BY reinstate_at, complaint_id LIMIT ?`,
		CounterNoticeWaiting, millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due counter-notices: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: due counter-notices: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: due counter-notices: %w", err)
	}
	return ids, nil
}
