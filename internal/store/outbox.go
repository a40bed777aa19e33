package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
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
	if tx.log.on {
		tx.log.events = append(tx.log.events, e)
		return e, nil
	}
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

// PendingEvents returns up to limit unpublished events, oldest first,
// claimed or not. It only reads; a relay uses ClaimEvents.
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

// ClaimEvents leases up to limit unpublished events that no relay holds a
// live lease on, oldest first, until now + ttl, and returns them. Until the
// lease runs out no other ClaimEvents returns them; afterwards they are
// claimable again, so an event whose relay died between claiming and
// MarkPublished is published by another, under the same EventID.
//
// Several relays may claim at once. On PostgreSQL the candidate rows are
// locked with FOR UPDATE SKIP LOCKED, so concurrent claims take disjoint
// batches without waiting for each other; on SQLite the single writer
// serializes the claims, and each sees the leases of the ones before it.
func (s *Store) ClaimEvents(ctx context.Context, limit int, ttl time.Duration) ([]OutboxEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("store: claim events: lease %v is not positive", ttl)
	}
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var events []OutboxEvent
	err := s.WithTx(ctx, func(tx *Tx) error {
		now := millis(tx.now)
		rows, err := tx.r.query(ctx, `UPDATE outbox SET claimed_until = ?
			WHERE id IN (SELECT id FROM outbox
				WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?)
				ORDER BY id LIMIT ?`+lock+`)
			RETURNING id, event_id, topic, key, payload, created_at`,
			now+ttl.Milliseconds(), now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				e       OutboxEvent
				payload sql.NullString
				created int64
			)
			if err := rows.Scan(&e.ID, &e.EventID, &e.Topic, &e.Key, &payload, &created); err != nil {
				return err
			}
			if payload.Valid {
				e.Payload = json.RawMessage(payload.String)
			}
			e.CreatedAt = fromMillis(created)
			events = append(events, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim events: %w", err)
	}
	// RETURNING has no order; publishing in id order keeps the events of
	// one key in the order they were written.
	sort.Slice(events, func(i, j int) bool { return events[i].ID < events[j].ID })
	return events, nil
}

// MarkPublished records that the outbox events with the given ids (OutboxEvent.ID)
// are published and returns how many were not already marked. An event is
// marked once: marking it again changes nothing.
func (s *Store) MarkPublished(ctx context.Context, ids []int64) (int, error) {
	return s.setPublished(ctx, "mark published", `published_at = ?, claimed_until = NULL`, ids, true)
}

// ReleaseClaims gives up the lease on the unpublished events with the given
// ids, so that the next ClaimEvents takes them at once instead of after the
// lease; a relay calls it when publishing failed.
func (s *Store) ReleaseClaims(ctx context.Context, ids []int64) error {
	_, err := s.setPublished(ctx, "release claims", `claimed_until = NULL`, ids, false)
	return err
}

// setPublished runs UPDATE outbox SET set WHERE id IN ids AND published_at
// IS NULL; set starts with "published_at = ?" when withNow.
func (s *Store) setPublished(ctx context.Context, op, set string, ids []int64, withNow bool) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := s.WithTx(ctx, func(tx *Tx) error {
		args := make([]any, 0, len(ids)+1)
		if withNow {
			args = append(args, millis(tx.now))
		}
		for _, id := range ids {
			args = append(args, id)
		}
		res, err := tx.r.exec(ctx, `UPDATE outbox SET `+set+` WHERE published_at IS NULL AND id IN (?`+
			strings.Repeat(", ?", len(ids)-1)+`)`, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", op, err)
	}
	return int(n), nil
}

// OutboxBacklog returns how many events are unpublished and the creation
// time of the oldest (zero when there is none).
func (s *Store) OutboxBacklog(ctx context.Context) (int, time.Time, error) {
	var (
		n      int
		oldest sql.NullInt64
	)
	err := s.read().queryRow(ctx, `SELECT COUNT(*), MIN(created_at) FROM outbox WHERE published_at IS NULL`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: outbox backlog: %w", err)
	}
	return n, fromNullMillis(oldest), nil
}

// GetEvent returns the outbox event with the given EventID, published or
// not, or ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, eventID string) (OutboxEvent, error) {
	var (
		e         OutboxEvent
		payload   sql.NullString
		created   int64
		published sql.NullInt64
	)
	err := s.read().queryRow(ctx, `SELECT id, event_id, topic, key, payload, created_at, published_at
		FROM outbox WHERE event_id = ?`, eventID).Scan(&e.ID, &e.EventID, &e.Topic, &e.Key, &payload, &created, &published)
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxEvent{}, fmt.Errorf("store: get event %s: %w", eventID, ErrNotFound)
	}
	if err != nil {
		return OutboxEvent{}, fmt.Errorf("store: get event %s: %w", eventID, err)
	}
	if payload.Valid {
		e.Payload = json.RawMessage(payload.String)
	}
	e.CreatedAt = fromMillis(created)
	e.PublishedAt = fromNullMillis(published)
	return e, nil
}
