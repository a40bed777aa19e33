package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claim is one reviewer's lease on one complaint: while it runs, nobody
// else works the complaint.
type Claim struct {
	ComplaintID string
	UserID      string
	ExpiresAt   time.Time
}

// ClaimComplaint gives userID the claim on complaintID until `until`, when
// nobody else holds a claim on it that runs past now; a claim userID
// already holds is renewed. It returns the claim that stands afterwards:
// when its UserID is not userID, someone else holds the complaint and
// nothing changed. The insert-or-update is one statement, so of two
// reviewers claiming at once exactly one wins.
func (tx *Tx) ClaimComplaint(ctx context.Context, complaintID, userID string, until time.Time) (Claim, error) {
	if complaintID == "" || userID == "" {
		return Claim{}, errors.New("store: claim: complaint and user are required")
	}
	c := Claim{ComplaintID: complaintID}
	var at int64
	err := tx.r.queryRow(ctx, `INSERT INTO claims (complaint_id, user_id, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (complaint_id) DO UPDATE SET user_id = excluded.user_id, expires_at = excluded.expires_at
		WHERE claims.user_id = excluded.user_id OR claims.expires_at <= ?
		RETURNING user_id, expires_at`, complaintID, userID, millis(until), millis(tx.now)).Scan(&c.UserID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		// The update's WHERE refused: another reviewer's claim runs.
		err = tx.r.queryRow(ctx, `SELECT user_id, expires_at FROM claims WHERE complaint_id = ?`, complaintID).Scan(&c.UserID, &at)
	}
	if err != nil {
		return Claim{}, fmt.Errorf("store: claim %s: %w", complaintID, err)
	}
	c.ExpiresAt = fromMillis(at)
	return c, nil
}

// ReleaseClaim ends userID's claim on complaintID, if it holds one.
func (tx *Tx) ReleaseClaim(ctx context.Context, complaintID, userID string) error {
	if _, err := tx.r.exec(ctx, `DELETE FROM claims WHERE complaint_id = ? AND user_id = ?`, complaintID, userID); err != nil {
		return fmt.Errorf("store: release claim %s: %w", complaintID, err)
	}
	return nil
}

// Claims returns the claims on the given complaints that run past now, by
// complaint id.
func (s *Store) Claims(ctx context.Context, complaintIDs []string, now time.Time) (map[string]Claim, error) {
	out := make(map[string]Claim, len(complaintIDs))
	if len(complaintIDs) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(complaintIDs)+1)
	for _, id := range complaintIDs {
		args = append(args, id)
	}
	args = append(args, millis(now))
	rows, err := s.read().query(ctx, `SELECT complaint_id, user_id, expires_at FROM claims
		WHERE complaint_id IN (?`+strings.Repeat(", ?", len(complaintIDs)-1)+`) AND expires_at > ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: claims: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c  Claim
			at int64
		)
		if err := rows.Scan(&c.ComplaintID, &c.UserID, &at); err != nil {
			return nil, fmt.Errorf("store: claims: %w", err)
		}
		c.ExpiresAt = fromMillis(at)
		out[c.ComplaintID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claims: %w", err)
	}
	return out, nil
}
