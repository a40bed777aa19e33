package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// BankEntry is a negative-bank entry as stored: the published entry and,
// once undone, when and by whom.
type BankEntry struct {
	Entry     domain.BankEntry
	RemovedAt time.Time
	RemovedBy string
}

// Live reports whether the entry holds (was not undone).
func (e BankEntry) Live() bool { return e.RemovedAt.IsZero() }

// BankQuery selects negative-bank entries.
type BankQuery struct {
	// MarkID keeps the entries of one mark; with Global also the global
	// ones. Empty MarkID and Global: the global entries only; neither:
	// every entry.
	MarkID string
	Global bool
	// Removed includes undone entries.
	Removed bool
	// Limit caps the answer (default 500).
	Limit int
}

// AddBankEntry stores a new entry, validated; a duplicate entry_id is
// ErrConflict.
func (tx *Tx) AddBankEntry(ctx context.Context, e *domain.BankEntry) error {
	if err := e.Validate(domain.Limits{}); err != nil {
		return fmt.Errorf("store: add bank entry %s: %w", e.EntryID, err)
	}
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("store: add bank entry %s: %w", e.EntryID, err)
	}
	_, err = tx.r.exec(ctx, `INSERT INTO negative_bank (id, kind, mark_id, complaint_id, body, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.EntryID, e.Kind, e.MarkID, e.ComplaintID, string(body), e.CreatedBy, millis(e.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: add bank entry %s: %w", e.EntryID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: add bank entry %s: %w", e.EntryID, err)
	}
	return nil
}

// RemoveBankEntry undoes a live entry and returns it as removed; an entry
// that does not exist or was already undone is ErrNotFound.
func (tx *Tx) RemoveBankEntry(ctx context.Context, id, by string) (BankEntry, error) {
	now := millis(tx.now)
	res, err := tx.r.exec(ctx, `UPDATE negative_bank SET removed_at = ?, removed_by = ? WHERE id = ? AND removed_at IS NULL`, now, by, id)
	if err != nil {
		return BankEntry{}, fmt.Errorf("store: remove bank entry %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return BankEntry{}, errors.Join(fmt.Errorf("store: remove bank entry %s: %w", id, ErrNotFound), err)
	}
	return tx.r.bankEntry(ctx, id)
}

// BankEntry returns one entry, live or undone, or ErrNotFound.
func (s *Store) BankEntry(ctx context.Context, id string) (BankEntry, error) {
	return s.read().bankEntry(ctx, id)
}

const bankColumns = `body, removed_at, removed_by`

func (r runner) bankEntry(ctx context.Context, id string) (BankEntry, error) {
	e, err := scanBankEntry(r.queryRow(ctx, `SELECT `+bankColumns+` FROM negative_bank WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return BankEntry{}, fmt.Errorf("store: bank entry %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return BankEntry{}, fmt.Errorf("store: bank entry %s: %w", id, err)
	}
	return e, nil
}

// BankEntries returns the entries q selects, newest first.
func (s *Store) BankEntries(ctx context.Context, q BankQuery) ([]BankEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 500
	}
	where, args := "1 = 1", []any{}
	switch {
	case q.MarkID != "" && q.Global:
		where, args = "mark_id IN (?, '')", append(args, q.MarkID)
	case q.MarkID != "":
		where, args = "mark_id = ?", append(args, q.MarkID)
	case q.Global:
		where = "mark_id = ''"
	}
	if !q.Removed {
		where += " AND removed_at IS NULL"
	}
	rows, err := s.read().query(ctx, `SELECT `+bankColumns+` FROM negative_bank WHERE `+where+`
		ORDER BY created_at DESC, id LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: bank entries: %w", err)
	}
	defer rows.Close()
	var out []BankEntry
	for rows.Next() {
		e, err := scanBankEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("store: bank entries: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bank entries: %w", err)
	}
	return out, nil
}

func scanBankEntry(row rowScanner) (BankEntry, error) {
	var (
		e         BankEntry
		body      string
		removedAt sql.NullInt64
		removedBy sql.NullString
	)
	if err := row.Scan(&body, &removedAt, &removedBy); err != nil {
		return BankEntry{}, err
	}
	if err := json.Unmarshal([]byte(body), &e.Entry); err != nil {
		return BankEntry{}, fmt.Errorf("decode body: %w", err)
	}
	if removedAt.Valid {
		e.RemovedAt = fromMillis(removedAt.Int64)
	}
	e.RemovedBy = removedBy.String
	return e, nil
}
