package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// logBatch is what AppendAudit and EnqueueEvent gathered in a transaction
// since DeferLog, in the order they were appended.
type logBatch struct {
	on     bool
	audit  []AuditEntry
	events []OutboxEvent
}

// hasAudit tells whether an entry with action about the object is
// gathered.
func (b *logBatch) hasAudit(objectType, objectID, action string) bool {
	return slices.ContainsFunc(b.audit, func(e AuditEntry) bool {
		return e.ObjectType == objectType && e.ObjectID == objectID && e.Action == action
	})
}

// logBatchRows caps the rows of one INSERT: 500 outbox rows are 2,500
// parameters, well under SQLite's 32,766 and PostgreSQL's 65,535.
const logBatchRows = 500

// DeferLog makes the AppendAudit and EnqueueEvent calls of the rest of tx
// gather their rows and write them all when the function given to WithTx
// returns nil, just before COMMIT: on PostgreSQL in one statement (the
// audit entries and the outbox events, each a multi-row INSERT, the first
// in a data-modifying WITH), on SQLite in one INSERT per table. A decision
// appends up to five of each, one round trip apiece otherwise.
//
// What it changes for the caller: the rows get their ids at the end, in
// the order they were appended, so AppendAudit and EnqueueEvent return ID
// 0; a duplicate EventID fails the transaction at its end (ErrConflict, as
// before) instead of at EnqueueEvent; the transaction's own reads of the
// audit log see the rows gathered (HasAudit looks at them first, AuditLog
// writes them first). Nothing outside the transaction can tell.
func (tx *Tx) DeferLog() { tx.log.on = true }

// writeLog writes the rows gathered since DeferLog, and forgets them.
func (tx *Tx) writeLog(ctx context.Context) error {
	audit, events := tx.log.audit, tx.log.events
	tx.log.audit, tx.log.events = nil, nil
	if len(audit) == 0 && len(events) == 0 {
		return nil
	}
	if tx.r.dialect == dialectPostgres && len(audit) <= logBatchRows && len(events) <= logBatchRows && len(audit) > 0 && len(events) > 0 {
		// One round trip: PostgreSQL runs every part of a WITH, used or
		// not, and the rows get their ids in the order of their VALUES.
		aq, aargs := auditInsert(audit)
		eq, eargs := outboxInsert(events)
		_, err := tx.r.exec(ctx, `WITH audit AS (`+aq+`) `+eq, append(aargs, eargs...)...)
		return logError(events, err)
	}
	for chunk := range slices.Chunk(audit, logBatchRows) {
		q, args := auditInsert(chunk)
		if _, err := tx.r.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("store: append audit %s %s/%s and %d more: %w", chunk[0].Action, chunk[0].ObjectType, chunk[0].ObjectID, len(chunk)-1, err)
		}
	}
	for chunk := range slices.Chunk(events, logBatchRows) {
		q, args := outboxInsert(chunk)
		if _, err := tx.r.exec(ctx, q, args...); err != nil {
			return logError(chunk, err)
		}
	}
	return nil
}

// logError names the events of a failed batch write; a duplicate event id
// is ErrConflict, as from EnqueueEvent.
func logError(events []OutboxEvent, err error) error {
	if err == nil {
		return nil
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.EventID
	}
	if isUniqueViolation(err) {
		err = ErrConflict
	}
	return fmt.Errorf("store: write audit and events %s: %w", strings.Join(ids, ", "), err)
}

// auditInsert is the INSERT of entries, in order, and its arguments.
func auditInsert(entries []AuditEntry) (string, []any) {
	args := make([]any, 0, 6*len(entries))
	for _, e := range entries {
		args = append(args, millis(e.At), e.Actor, e.Action, e.ObjectType, e.ObjectID, string(e.Detail))
	}
	return `INSERT INTO audit_log (at, actor, action, object_type, object_id, detail) VALUES ` +
		valueRows(len(entries), 6), args
}

// outboxInsert is the INSERT of events, in order, and its arguments.
func outboxInsert(events []OutboxEvent) (string, []any) {
	args := make([]any, 0, 5*len(events))
	for _, e := range events {
		payload := sql.NullString{String: string(e.Payload), Valid: e.Payload != nil}
		args = append(args, e.EventID, e.Topic, e.Key, payload, millis(e.CreatedAt))
	}
	return `INSERT INTO outbox (event_id, topic, key, payload, created_at) VALUES ` + valueRows(len(events), 5), args
}

// valueRows is n parenthesized tuples of width placeholders.
func valueRows(n, width int) string {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
}
