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

// Mark is a registered mark with the registry's bookkeeping beside it.
type Mark struct {
	// Body is the mark as detectors receive it; Body.Status is always the
	// stored status.
	Body domain.Mark
	// Version counts the mark's changes, from 1; every write adds one, and
	// the writes compare it, so that two concurrent changes cannot both
	// apply to the same version.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MarkQuery selects marks. Empty fields do not filter.
type MarkQuery struct {
	HolderID string
	// AfterID is the cursor: only marks with a larger id are returned.
	AfterID string
	// Limit caps the marks returned; 100 when zero, at most 1000.
	Limit int
}

// CreateMark stores m, at version 1, and returns it. The caller validates m
// (domain.Mark.Validate); the store checks only that it has an id, a holder
// and a known status. A duplicate id is ErrConflict; an unknown holder is
// ErrNotFound.
func (tx *Tx) CreateMark(ctx context.Context, m *domain.Mark) (Mark, error) {
	if m == nil || m.MarkID == "" || m.HolderID == "" {
		return Mark{}, errors.New("store: create mark: mark id and holder id are required")
	}
	if !knownMarkStatus(m.Status) {
		return Mark{}, fmt.Errorf("store: create mark %s: unknown status %q", m.MarkID, m.Status)
	}
	if _, err := tx.GetHolder(ctx, m.HolderID); err != nil {
		return Mark{}, fmt.Errorf("store: create mark %s: %w", m.MarkID, err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return Mark{}, fmt.Errorf("store: create mark %s: %w", m.MarkID, err)
	}
	now := millis(tx.now)
	_, err = tx.r.exec(ctx, `INSERT INTO marks (id, holder_id, status, body, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?)`, m.MarkID, m.HolderID, m.Status, string(body), now, now)
	if isUniqueViolation(err) {
		return Mark{}, fmt.Errorf("store: create mark %s: %w", m.MarkID, ErrConflict)
	}
	if err != nil {
		return Mark{}, fmt.Errorf("store: create mark %s: %w", m.MarkID, err)
	}
	return tx.GetMark(ctx, m.MarkID)
}

// GetMark returns the mark with the given id, or ErrNotFound.
func (s *Store) GetMark(ctx context.Context, id string) (Mark, error) {
	return s.read().getMark(ctx, id)
}

// GetMark returns the mark with the given id, or ErrNotFound.
func (tx *Tx) GetMark(ctx context.Context, id string) (Mark, error) {
	return tx.r.getMark(ctx, id)
}

const markColumns = `status, body, version, created_at, updated_at`

func (r runner) getMark(ctx context.Context, id string) (Mark, error) {
	m, err := scanMark(r.queryRow(ctx, `SELECT `+markColumns+` FROM marks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Mark{}, fmt.Errorf("store: get mark %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Mark{}, fmt.Errorf("store: get mark %s: %w", id, err)
	}
	return m, nil
}

// GetMarkHolder returns the mark with the given id and the holder its body
// names, read together (a seller notice names both), or ErrNotFound when
// there is no such mark. holderFound is false when the holder is not
// stored.
func (tx *Tx) GetMarkHolder(ctx context.Context, id string) (m Mark, h Holder, holderFound bool, err error) {
	var (
		holderID string
		name     sql.NullString
		at       sql.NullInt64
	)
	m, err = scanMark(extraColumns{tx.r.queryRow(ctx, `SELECT m.status, m.body, m.version, m.created_at, m.updated_at,
			m.holder_id, h.name, h.created_at
		FROM marks m LEFT JOIN holders h ON h.id = m.holder_id WHERE m.id = ?`, id), []any{&holderID, &name, &at}})
	if errors.Is(err, sql.ErrNoRows) {
		return Mark{}, Holder{}, false, fmt.Errorf("store: get mark %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Mark{}, Holder{}, false, fmt.Errorf("store: get mark %s: %w", id, err)
	}
	if holderID != m.Body.HolderID {
		// The column and the body disagree: the body is what callers
		// read the holder from.
		h, err = tx.r.getHolder(ctx, m.Body.HolderID)
		if errors.Is(err, ErrNotFound) {
			return m, Holder{}, false, nil
		}
		return m, h, err == nil, err
	}
	if !name.Valid {
		return m, Holder{}, false, nil
	}
	return m, Holder{ID: holderID, Name: name.String, CreatedAt: fromMillis(at.Int64)}, true, nil
}

// extraColumns scans the columns a scan function knows, then extra.
type extraColumns struct {
	row   rowScanner
	extra []any
}

func (e extraColumns) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra...)...) }

// ListMarks returns the marks matching q in id order.
func (s *Store) ListMarks(ctx context.Context, q MarkQuery) ([]Mark, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	query := `SELECT ` + markColumns + ` FROM marks WHERE id > ?`
	args := []any{q.AfterID}
	if q.HolderID != "" {
		query += ` AND holder_id = ?`
		args = append(args, q.HolderID)
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.read().query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list marks: %w", err)
	}
	defer rows.Close()
	var marks []Mark
	for rows.Next() {
		m, err := scanMark(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list marks: %w", err)
		}
		marks = append(marks, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list marks: %w", err)
	}
	return marks, nil
}

// SetMarkStatus moves a mark from status from to status to and returns it
// as changed. It is a compare-and-set: when the mark is no longer in status
// from, because another change won, it is ErrConflict; an unknown id is
// ErrNotFound.
func (tx *Tx) SetMarkStatus(ctx context.Context, id, from, to string) (Mark, error) {
	if !knownMarkStatus(to) {
		return Mark{}, fmt.Errorf("store: set mark %s status: unknown status %q", id, to)
	}
	return tx.updateMark(ctx, "set mark "+id+" status "+to, id, func(m *domain.Mark) error {
		if m.Status != from {
			return fmt.Errorf("it is %s, not %s: %w", m.Status, from, ErrConflict)
		}
		m.Status = to
		return nil
	})
}

// AddMarkImages appends hashes to the mark's image hashes and returns the
// mark as changed. A hash whose URL the mark already has is skipped, so
// uploading the same image twice changes nothing; when nothing is new the
// mark is returned unchanged, at the same version. The caller validates the
// result (the cap on image hashes is the domain's).
func (tx *Tx) AddMarkImages(ctx context.Context, id string, hashes []domain.ImageHash) (Mark, error) {
	unchanged := false
	m, err := tx.updateMark(ctx, "add mark "+id+" images", id, func(m *domain.Mark) error {
		have := map[string]bool{}
		for _, h := range m.ImageHashes {
			have[h.URL] = true
		}
		n := len(m.ImageHashes)
		for _, h := range hashes {
			if !have[h.URL] {
				have[h.URL] = true
				m.ImageHashes = append(m.ImageHashes, h)
			}
		}
		unchanged = len(m.ImageHashes) == n
		if unchanged {
			return errUnchanged
		}
		return nil
	})
	if unchanged {
		return tx.GetMark(ctx, id)
	}
	return m, err
}

// errUnchanged tells updateMark that the change is a no-op.
var errUnchanged = errors.New("unchanged")

// updateMark reads the mark, applies change to its body, and writes it back
// at the next version, compared against the version read.
func (tx *Tx) updateMark(ctx context.Context, op, id string, change func(m *domain.Mark) error) (Mark, error) {
	m, err := tx.GetMark(ctx, id)
	if err != nil {
		return Mark{}, fmt.Errorf("store: %s: %w", op, err)
	}
	if err := change(&m.Body); err != nil {
		return Mark{}, fmt.Errorf("store: %s: %w", op, err)
	}
	body, err := json.Marshal(&m.Body)
	if err != nil {
		return Mark{}, fmt.Errorf("store: %s: %w", op, err)
	}
	now := millis(tx.now)
	res, err := tx.r.exec(ctx, `UPDATE marks SET status = ?, body = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`, m.Body.Status, string(body), now, id, m.Version)
	if err != nil {
		return Mark{}, fmt.Errorf("store: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Mark{}, fmt.Errorf("store: %s: %w", op, err)
	}
	if n != 1 {
		// Another transaction wrote the mark since it was read (possible
		// on PostgreSQL, where writers run side by side).
		return Mark{}, fmt.Errorf("store: %s: changed concurrently: %w", op, ErrConflict)
	}
	m.Version++
	m.UpdatedAt = fromMillis(now)
	return m, nil
}

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

func scanMark(row rowScanner) (Mark, error) {
	var (
		m                Mark
		status, body     string
		created, updated int64
	)
	if err := row.Scan(&status, &body, &m.Version, &created, &updated); err != nil {
		return Mark{}, err
	}
	if err := json.Unmarshal([]byte(body), &m.Body); err != nil {
		return Mark{}, fmt.Errorf("decode body: %w", err)
	}
	m.Body.Status = status
	m.CreatedAt = fromMillis(created)
	m.UpdatedAt = fromMillis(updated)
	return m, nil
}

func knownMarkStatus(s string) bool {
	switch s {
	case domain.MarkPending, domain.MarkActive, domain.MarkSuspended, domain.MarkRemoved:
		return true
	}
	return false
}

// SetMarkThreshold sets the mark's complaint threshold and returns the mark
// as changed, at its next version. It is a compare-and-set on version: a
// mark changed since the caller read it at that version is ErrConflict, so
// that a threshold chosen from one calibration never lands on a mark that
// moved meanwhile. The caller validates the threshold (domain.Mark does).
func (tx *Tx) SetMarkThreshold(ctx context.Context, id string, version int64, threshold float64) (Mark, error) {
	m, err := tx.GetMark(ctx, id)
	if err != nil {
		return Mark{}, fmt.Errorf("store: set mark %s threshold: %w", id, err)
	}
	if m.Version != version {
		return Mark{}, fmt.Errorf("store: set mark %s threshold: it is at version %d, not %d: %w", id, m.Version, version, ErrConflict)
	}
	return tx.updateMark(ctx, "set mark "+id+" threshold", id, func(m *domain.Mark) error {
		m.Threshold = &threshold
		return nil
	})
}

// MarkEdit is a change to the lists of a mark its holder keeps current.
// A nil field leaves the mark's list as it is; a non-nil one replaces it.
type MarkEdit struct {
	Variants          *[]string
	AuthorizedSellers *[]string
	ReferencePrices   *[]domain.ReferencePrice
}

// Apply makes the edit on m.
func (e MarkEdit) Apply(m *domain.Mark) {
	if e.Variants != nil {
		m.Variants = *e.Variants
	}
	if e.AuthorizedSellers != nil {
		m.AuthorizedSellers = *e.AuthorizedSellers
	}
	if e.ReferencePrices != nil {
		m.ReferencePrices = *e.ReferencePrices
	}
}

// EditMark applies edit to the mark and returns it as changed, at its next
// version. It is a compare-and-set on version, like SetMarkThreshold: a
// mark changed since the caller read it at that version is ErrConflict.
// The caller validates the result (domain.Mark.Validate).
func (tx *Tx) EditMark(ctx context.Context, id string, version int64, edit MarkEdit) (Mark, error) {
	m, err := tx.GetMark(ctx, id)
	if err != nil {
		return Mark{}, fmt.Errorf("store: edit mark %s: %w", id, err)
	}
	if m.Version != version {
		return Mark{}, fmt.Errorf("store: edit mark %s: it is at version %d, not %d: %w", id, m.Version, version, ErrConflict)
	}
	return tx.updateMark(ctx, "edit mark "+id, id, func(m *domain.Mark) error {
		edit.Apply(m)
		return nil
	})
}
