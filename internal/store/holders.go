package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// Holder is a rights holder: the owner of marks, on whose behalf brand owners
// file complaints.
type Holder struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// CreateHolder stores a new holder and returns it with its id (generated when
// h.ID is empty) and creation time. A duplicate id is ErrConflict.
func (tx *Tx) CreateHolder(ctx context.Context, h Holder) (Holder, error) {
	if h.Name == "" {
		return Holder{}, errors.New("store: create holder: empty name")
	}
	if h.ID == "" {
		id, err := newID("h_")
		if err != nil {
			return Holder{}, fmt.Errorf("store: create holder: %w", err)
		}
		h.ID = id
	}
	h.CreatedAt = fromMillis(millis(tx.now))
	_, err := tx.r.exec(ctx, `INSERT INTO holders (id, name, created_at) VALUES (?, ?, ?)`,
		h.ID, h.Name, millis(h.CreatedAt))
	if isUniqueViolation(err) {
		return Holder{}, fmt.Errorf("store: create holder %s: %w", h.ID, ErrConflict)
	}
	if err != nil {
		return Holder{}, fmt.Errorf("store: create holder %s: %w", h.ID, err)
	}
	return h, nil
}

// GetHolder returns the holder with the given id, or ErrNotFound.
func (s *Store) GetHolder(ctx context.Context, id string) (Holder, error) {
	return s.read().getHolder(ctx, id)
}

// GetHolder returns the holder with the given id, or ErrNotFound.
func (tx *Tx) GetHolder(ctx context.Context, id string) (Holder, error) {
	return tx.r.getHolder(ctx, id)
}

func (r runner) getHolder(ctx context.Context, id string) (Holder, error) {
	var (
		h  Holder
		at int64
	)
	err := r.queryRow(ctx, `SELECT id, name, created_at FROM holders WHERE id = ?`, id).Scan(&h.ID, &h.Name, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Holder{}, fmt.Errorf("store: get holder %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Holder{}, fmt.Errorf("store: get holder %s: %w", id, err)
	}
	h.CreatedAt = fromMillis(at)
	return h, nil
}

// HolderStats counts the decided manual complaints of a holder: decided is
// every rights_holder complaint a reviewer has upheld or rejected, upheld
// those whose uphold still stands or stood (upheld, contested, or
// reinstated after a counter-notice: the reviewer accepted the complaint;
// the seller's later objection is not the holder's fault). Automatic
// complaints are the detector's, not the holder's, and are not counted.
func (s *Store) HolderStats(ctx context.Context, holderID string) (decided, upheld int, err error) {
	// complaint_counts (migration 9) holds the holder's counts per status.
	err = s.read().queryRow(ctx, `SELECT
			CAST(COALESCE(SUM(n), 0) AS BIGINT),
			CAST(COALESCE(SUM(CASE WHEN status IN (?, ?, ?) THEN n ELSE 0 END), 0) AS BIGINT)
		FROM complaint_counts
		WHERE holder_id = ? AND source = ? AND status <> ?`,
		ComplaintUpheld, ComplaintContested, ComplaintReinstated, holderID, domain.SourceRightsHolder, ComplaintOpen).
		Scan(&decided, &upheld)
	if err != nil {
		return 0, 0, fmt.Errorf("store: holder %s stats: %w", holderID, err)
	}
	return decided, upheld, nil
}
