package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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
