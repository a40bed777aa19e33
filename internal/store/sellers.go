package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Seller statuses, the rungs of the strike ladder in climbing order.
const (
	SellerActive     = "active"
	SellerWarned     = "warned"
	SellerSuspended  = "suspended"
	SellerTerminated = "terminated"
)

// Seller is a marketplace seller as the review flow sees it. A seller the
// store has never recorded is active with no strikes.
type Seller struct {
	ID        string
	Status    string
	UpdatedAt time.Time
}

// Strike is one upheld complaint against a seller. It counts towards the
// ladder until ExpiresAt.
type Strike struct {
	ID          int64
	SellerID    string
	ComplaintID string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// GetSeller returns the seller with the given id, or ErrNotFound when the
// store has never recorded it (callers treat that as active).
func (s *Store) GetSeller(ctx context.Context, id string) (Seller, error) {
	return s.read().getSeller(ctx, id)
}

// GetSeller returns the seller with the given id, or ErrNotFound.
func (tx *Tx) GetSeller(ctx context.Context, id string) (Seller, error) {
	return tx.r.getSeller(ctx, id)
}

func (r runner) getSeller(ctx context.Context, id string) (Seller, error) {
	var (
		sl Seller
		at int64
	)
	err := r.queryRow(ctx, `SELECT id, status, updated_at FROM sellers WHERE id = ?`, id).Scan(&sl.ID, &sl.Status, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Seller{}, fmt.Errorf("store: get seller %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Seller{}, fmt.Errorf("store: get seller %s: %w", id, err)
	}
	sl.UpdatedAt = fromMillis(at)
	return sl, nil
}

// LockSeller returns the seller with the given id, recording it as active
// when the store has not seen it, and holds its row until tx ends: on
// PostgreSQL a concurrent LockSeller of the same seller waits for tx to
// commit and then reads what it wrote (SQLite's single writer serializes
// transactions anyway). Strike counting and ladder climbing happen under
// this lock, so that two strikes decided at once are both counted and a
// rung is climbed once.
func (tx *Tx) LockSeller(ctx context.Context, id string) (Seller, error) {
	if id == "" {
		return Seller{}, errors.New("store: lock seller: empty seller id")
	}
	var (
		sl Seller
		at int64
	)
	// DO UPDATE, unlike DO NOTHING, locks an existing row and returns it.
	err := tx.r.queryRow(ctx, `INSERT INTO sellers (id, status, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = sellers.status
		RETURNING id, status, updated_at`, id, SellerActive, millis(tx.now)).Scan(&sl.ID, &sl.Status, &at)
	if err != nil {
		return Seller{}, fmt.Errorf("store: lock seller %s: %w", id, err)
	}
	sl.UpdatedAt = fromMillis(at)
	return sl, nil
}

// SetSellerStatus records status as the seller's status, creating the seller
// when the store has not seen it yet.
func (tx *Tx) SetSellerStatus(ctx context.Context, id, status string) (Seller, error) {
	switch status {
	case SellerActive, SellerWarned, SellerSuspended, SellerTerminated:
	default:
		return Seller{}, fmt.Errorf("store: set seller %s status: unknown status %q", id, status)
	}
	if id == "" {
		return Seller{}, errors.New("store: set seller status: empty seller id")
	}
	sl := Seller{ID: id, Status: status, UpdatedAt: fromMillis(millis(tx.now))}
	_, err := tx.r.exec(ctx, `INSERT INTO sellers (id, status, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
		sl.ID, sl.Status, millis(sl.UpdatedAt))
	if err != nil {
		return Seller{}, fmt.Errorf("store: set seller %s status %s: %w", id, status, err)
	}
	return sl, nil
}

// AddStrike records a strike for st.SellerID over st.ComplaintID, with the
// given CreatedAt and ExpiresAt (the caller's clock and policy decide them),
// unless that complaint already has one; it tells which happened. That makes
// upholding a complaint a second time, after a counter-notice, harmless.
func (tx *Tx) AddStrike(ctx context.Context, st Strike) (Strike, bool, error) {
	return tx.AddStrikeStatus(ctx, st, "")
}

// AddStrikeStatus is AddStrike that, when it adds the strike and status
// is not empty, also records status as the seller's status, as
// SetSellerStatus does: a strike that lifts its seller to a new rung of
// the ladder. On PostgreSQL both happen in one statement. The seller must
// be recorded already (LockSeller records it).
func (tx *Tx) AddStrikeStatus(ctx context.Context, st Strike, status string) (Strike, bool, error) {
	switch status {
	case "", SellerActive, SellerWarned, SellerSuspended, SellerTerminated:
	default:
		return Strike{}, false, fmt.Errorf("store: add strike for %s: unknown seller status %q", st.ComplaintID, status)
	}
	if st.SellerID == "" || st.ComplaintID == "" {
		return Strike{}, false, errors.New("store: add strike: seller id and complaint id are required")
	}
	if !st.ExpiresAt.After(st.CreatedAt) {
		return Strike{}, false, fmt.Errorf("store: add strike for %s: expires at %v, not after %v", st.ComplaintID, st.ExpiresAt, st.CreatedAt)
	}
	st.CreatedAt = fromMillis(millis(st.CreatedAt))
	st.ExpiresAt = fromMillis(millis(st.ExpiresAt))
	insert := `INSERT INTO strikes (seller_id, complaint_id, created_at, expires_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (complaint_id) DO NOTHING RETURNING id`
	args := []any{st.SellerID, st.ComplaintID, millis(st.CreatedAt), millis(st.ExpiresAt)}
	together := status != "" && tx.r.dialect == dialectPostgres
	if together {
		// The seller's row changes only when the strike was added.
		insert = `WITH strike AS (` + insert + `),
			seller AS (UPDATE sellers SET status = ?, updated_at = ? WHERE id = ? AND EXISTS (SELECT 1 FROM strike))
			SELECT id FROM strike`
		args = append(args, status, millis(tx.now), st.SellerID)
	}
	err := tx.r.queryRow(ctx, insert, args...).Scan(&st.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Strike{}, false, nil
	}
	if err != nil {
		return Strike{}, false, fmt.Errorf("store: add strike for %s: %w", st.ComplaintID, err)
	}
	if status != "" && !together {
		if _, err := tx.SetSellerStatus(ctx, st.SellerID, status); err != nil {
			return Strike{}, false, err
		}
	}
	// A strike gives the seller's network priority in the queue.
	if err := tx.refreshSellerNetworkPriority(ctx, st.SellerID); err != nil {
		return Strike{}, false, err
	}
	return st, true, nil
}

// RemoveStrike deletes the strike over complaintID, when there is one, and
// tells whether there was: a complaint that did not stand (rejected or
// reinstated after a counter-notice) must not count against the seller. The
// audit log keeps the history.
func (tx *Tx) RemoveStrike(ctx context.Context, complaintID string) (bool, error) {
	var seller string
	err := tx.r.queryRow(ctx, `DELETE FROM strikes WHERE complaint_id = ? RETURNING seller_id`, complaintID).Scan(&seller)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: remove strike for %s: %w", complaintID, err)
	}
	// The seller's network may have lost its last strike.
	if err := tx.refreshSellerNetworkPriority(ctx, seller); err != nil {
		return false, err
	}
	return true, nil
}

// CountActiveStrikes returns how many of the seller's strikes expire after
// now: the number the ladder climbs by.
func (tx *Tx) CountActiveStrikes(ctx context.Context, sellerID string, now time.Time) (int, error) {
	var n int
	err := tx.r.queryRow(ctx, `SELECT COUNT(*) FROM strikes WHERE seller_id = ? AND expires_at > ?`,
		sellerID, millis(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count strikes of %s: %w", sellerID, err)
	}
	return n, nil
}

// StrikeRecord is what a new strike of the seller is weighed against, read
// in one statement under LockSeller: how many of its strikes expire after
// now (CountActiveStrikes) and whether the audit log has an entry action
// about it (HasAudit), such as its education instead of an earlier strike.
func (tx *Tx) StrikeRecord(ctx context.Context, sellerID string, now time.Time, action string) (active int, audited bool, err error) {
	var found int
	err = tx.r.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM strikes WHERE seller_id = ? AND expires_at > ?),
		(SELECT COUNT(*) FROM (SELECT 1 FROM audit_log
			WHERE object_type = 'seller' AND object_id = ? AND action = ? LIMIT 1) AS found)`,
		sellerID, millis(now), sellerID, action).Scan(&active, &found)
	if err != nil {
		return 0, false, fmt.Errorf("store: strike record of %s: %w", sellerID, err)
	}
	return active, found > 0 || tx.log.hasAudit("seller", sellerID, action), nil
}

// SellerStanding is the seller's status (active when the store has not
// recorded it) and how many of its strikes expire after now, read
// together: GetSeller and CountActiveStrikes in one statement.
func (tx *Tx) SellerStanding(ctx context.Context, sellerID string, now time.Time) (status string, active int, err error) {
	var st sql.NullString
	err = tx.r.queryRow(ctx, `SELECT (SELECT status FROM sellers WHERE id = ?),
		(SELECT COUNT(*) FROM strikes WHERE seller_id = ? AND expires_at > ?)`,
		sellerID, sellerID, millis(now)).Scan(&st, &active)
	if err != nil {
		return "", 0, fmt.Errorf("store: standing of seller %s: %w", sellerID, err)
	}
	if !st.Valid {
		return SellerActive, active, nil
	}
	return st.String, active, nil
}

// SellerStrikes returns all the seller's strikes, expired ones included,
// oldest first.
func (s *Store) SellerStrikes(ctx context.Context, sellerID string) ([]Strike, error) {
	return s.read().sellerStrikes(ctx, sellerID)
}

// SellerStrikes returns all the seller's strikes, oldest first.
func (tx *Tx) SellerStrikes(ctx context.Context, sellerID string) ([]Strike, error) {
	return tx.r.sellerStrikes(ctx, sellerID)
}

func (r runner) sellerStrikes(ctx context.Context, sellerID string) ([]Strike, error) {
	rows, err := r.query(ctx, `SELECT id, seller_id, complaint_id, created_at, expires_at
		FROM strikes WHERE seller_id = ? ORDER BY id`, sellerID)
	if err != nil {
		return nil, fmt.Errorf("store: strikes of %s: %w", sellerID, err)
	}
	defer rows.Close()
	var strikes []Strike
	for rows.Next() {
		var (
			st                 Strike
			created, expiresAt int64
		)
		if err := rows.Scan(&st.ID, &st.SellerID, &st.ComplaintID, &created, &expiresAt); err != nil {
			return nil, fmt.Errorf("store: strikes of %s: %w", sellerID, err)
		}
		st.CreatedAt = fromMillis(created)
		st.ExpiresAt = fromMillis(expiresAt)
		strikes = append(strikes, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: strikes of %s: %w", sellerID, err)
	}
	return strikes, nil
}
