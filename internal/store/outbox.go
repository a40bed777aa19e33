package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// OutboxEvent is a message waiting in the transactional outbox to be
// published to a topic. It is written in the transaction of the change it
// announces and published afterwards, at least once, under EventID.
type OutboxEvent struct {
	// ID orders the outbox; it only grows.
	ID int64
	// EventID is the stable id consumers deduplicate on.
	EventID string
	Topic   string
	Key     string
	// Payload is the JSON message; nil is a tombstone for a compacted
	// topic.
	Payload     json.RawMessage
	CreatedAt   time.Time
	PublishedAt time.Time
}

// EnqueueEvent adds e to the outbox in the transaction of the change it
// announces; ID and CreatedAt are set by the store and returned. A duplicate
// EventID is ErrConflict.
func (tx *Tx) EnqueueEvent(ctx context.Context, e OutboxEvent) (OutboxEvent, error) {
	if e.EventID == "" || e.Topic == "" {
		return OutboxEvent{}, errors.New("store: enqueue event: event id and topic are required")
	}
	// TEXT holds the payload in both databases, so it must be JSON (and
	// hence UTF-8).
	payload := sql.NullString{String: string(e.Payload), Valid: e.Payload != nil}
	if e.Payload != nil && !json.Valid(e.Payload) {
		return OutboxEvent{}, fmt.Errorf("store: enqueue event %s: payload is not JSON", e.EventID)
	}
	e.CreatedAt = fromMillis(millis(tx.now))
	e.PublishedAt = time.Time{}
	err := tx.r.queryRow(ctx, `INSERT INTO outbox (event_id, topic, key, payload, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`,
		e.EventID, e.Topic, e.Key, payload, millis(e.CreatedAt)).Scan(&e.ID)
	if isUniqueViolation(err) {
		return OutboxEvent{}, fmt.Errorf("store: enqueue event %s: %w", e.EventID, ErrConflict)
	}
	if err != nil {
		return OutboxEvent{}, fmt.Errorf("store: enqueue event %s: %w", e.EventID, err)
	}
	return e, nil
}

// PendingEvents returns up to limit unpublished events, oldest first. It
// only reads; the relay that claims and publishes them is built on it.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]OutboxEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read().query(ctx, `SELECT id, event_id, topic, key, payload, created_at
		FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending events: %w", err)
	}
	defer rows.Close()
	var events []OutboxEvent
	for rows.Next() {
		var (
			e       OutboxEvent
			payload sql.NullString
			created int64
		)
		if err := rows.Scan(&e.ID, &e.EventID, &e.Topic, &e.Key, &payload, &created); err != nil {
			return nil, fmt.Errorf("store: pending events: %w", err)
		}
		if payload.Valid {
			e.Payload = json.RawMessage(payload.String)
		}
		e.CreatedAt = fromMillis(created)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending events: %w", err)
	}
	return events, nil
}
