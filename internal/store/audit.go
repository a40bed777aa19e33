package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AuditEntry is one line of the append-only audit log: who changed what,
// when.
type AuditEntry struct {
	// ID orders the log; it only grows.
	ID int64
	// At is the time of the transaction that wrote the entry.
	At    time.Time
	Actor string
	// Action names the change, such as "complaint.uphold" or "mark.verify".
	Action     string
	ObjectType string
	ObjectID   string
	// Detail is a JSON object with whatever else the change needs to be
	// understood later; {} when empty.
	Detail json.RawMessage
}

// AppendAudit appends e to the audit log in the transaction of the change it
// records, so the entry exists exactly when the change does. ID and At are
// set by the store and returned.
func (tx *Tx) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.Actor == "" || e.Action == "" || e.ObjectType == "" || e.ObjectID == "" {
		return AuditEntry{}, errors.New("store: append audit: actor, action, object type and object id are required")
	}
	if len(e.Detail) == 0 {
		e.Detail = json.RawMessage(`{}`)
	}
	if !json.Valid(e.Detail) {
		return AuditEntry{}, fmt.Errorf("store: append audit %s %s/%s: detail is not JSON", e.Action, e.ObjectType, e.ObjectID)
	}
	e.At = fromMillis(millis(tx.now))
	if tx.log.on {
		tx.log.audit = append(tx.log.audit, e)
		return e, nil
	}
	err := tx.r.queryRow(ctx, `INSERT INTO audit_log (at, actor, action, object_type, object_id, detail)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		millis(e.At), e.Actor, e.Action, e.ObjectType, e.ObjectID, string(e.Detail)).Scan(&e.ID)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("store: append audit %s %s/%s: %w", e.Action, e.ObjectType, e.ObjectID, err)
	}
	return e, nil
}

// AuditQuery selects audit entries. Empty fields do not filter.
type AuditQuery struct {
	ObjectType string
	ObjectID   string
	Actor      string
	// AfterID is the cursor: only entries with a larger id are returned.
	AfterID int64
	// Limit caps the entries returned; 100 when zero, at most 1000.
	Limit int
}

// AuditLog returns the entries matching q, oldest first.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	return s.read().auditLog(ctx, q)
}

// AuditLog returns the entries matching q, oldest first, as this transaction
// sees them.
func (tx *Tx) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if err := tx.writeLog(ctx); err != nil {
		return nil, err
	}
	return tx.r.auditLog(ctx, q)
}

func (r runner) auditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	query := `SELECT id, at, actor, action, object_type, object_id, detail FROM audit_log WHERE id > ?`
	args := []any{q.AfterID}
	for _, f := range []struct{ column, value string }{
		{"object_type", q.ObjectType}, {"object_id", q.ObjectID}, {"actor", q.Actor},
	} {
		if f.value != "" {
			query += ` AND ` + f.column + ` = ?`
			args = append(args, f.value)
		}
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, q.Limit)
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	var entries []AuditEntry
	for rows.Next() {
		var (
			e      AuditEntry
			at     int64
			detail string
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &detail); err != nil {
			return nil, fmt.Errorf("store: audit log: %w", err)
		}
		e.At = fromMillis(at)
		e.Detail = json.RawMessage(detail)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return entries, nil
}

// HasAudit reports whether the audit log holds an entry with action about
// the object, such as whether a seller was ever educated instead of struck.
func (tx *Tx) HasAudit(ctx context.Context, objectType, objectID, action string) (bool, error) {
	if tx.log.hasAudit(objectType, objectID, action) {
		return true, nil
	}
	var n int
	err := tx.r.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM audit_log
		WHERE object_type = ? AND object_id = ? AND action = ? LIMIT 1) AS found`,
		objectType, objectID, action).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: has audit %s %s/%s: %w", action, objectType, objectID, err)
	}
	return n > 0, nil
}
