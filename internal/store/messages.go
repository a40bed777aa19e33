package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Message authors: the two parties of a complaint's thread.
const (
	AuthorHolder = "holder"
	AuthorSeller = "seller"
)

// Message is one message of a complaint's thread between its rights holder
// and the listing's seller.
type Message struct {
	// ID orders the thread; it only grows.
	ID          int64
	ComplaintID string
	// Author is AuthorHolder or AuthorSeller.
	Author string
	// Actor is the user who posted it (the brand owner, or the
	// marketplace service account forwarding the seller's message).
	Actor     string
	Body      string
	CreatedAt time.Time
}

// AddMessage appends m to its complaint's thread and returns it with its
// id and time. The caller checks that the complaint exists and validates
// the body.
func (tx *Tx) AddMessage(ctx context.Context, m Message) (Message, error) {
	if m.ComplaintID == "" || (m.Author != AuthorHolder && m.Author != AuthorSeller) {
		return Message{}, errors.New("store: add message: no complaint or unknown author")
	}
	m.CreatedAt = fromMillis(millis(tx.now))
	err := tx.r.queryRow(ctx, `INSERT INTO complaint_messages (complaint_id, author, actor, body, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`,
		m.ComplaintID, m.Author, m.Actor, m.Body, millis(m.CreatedAt)).Scan(&m.ID)
	if err != nil {
		return Message{}, fmt.Errorf("store: add message to %s: %w", m.ComplaintID, err)
	}
	return m, nil
}

// Messages returns up to limit messages of complaintID's thread after the
// message afterID, oldest first; limit is 100 when zero, at most 1000.
func (s *Store) Messages(ctx context.Context, complaintID string, afterID int64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.read().query(ctx, `SELECT id, complaint_id, author, actor, body, created_at FROM complaint_messages
		WHERE complaint_id = ? AND id > ? ORDER BY id LIMIT ?`, complaintID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: messages of %s: %w", complaintID, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var (
			m  Message
			at int64
		)
		if err := rows.Scan(&m.ID, &m.ComplaintID, &m.Author, &m.Actor, &m.Body, &at); err != nil {
			return nil, fmt.Errorf("store: messages of %s: %w", complaintID, err)
		}
		m.CreatedAt = fromMillis(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: messages of %s: %w", complaintID, err)
	}
	return out, nil
}
