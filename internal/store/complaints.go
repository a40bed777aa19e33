package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// Complaint statuses: open → upheld | rejected; upheld → contested (a
// counter-notice) → reinstated or upheld again.
const (
	ComplaintOpen       = "open"
	ComplaintUpheld     = "upheld"
	ComplaintRejected   = "rejected"
	ComplaintContested  = "contested"
	ComplaintReinstated = "reinstated"
)

// Complaint is a complaint in the review queue: the complaint as received and
// the review state the store keeps beside it.
type Complaint struct {
	// Body is the complaint as received from the complaints topic.
	Body   domain.Complaint
	Status string
	// CreatedAt is when the store first received the complaint, not
	// Body.CreatedAt, which is when its sender made it.
	CreatedAt time.Time
	UpdatedAt time.Time
	// DecidedAt and DecidedBy record the last uphold or reject; zero and
	// empty until then.
	DecidedAt time.Time
	DecidedBy string
}

// InsertComplaint stores c as an open complaint unless a complaint with its
// id is already stored, and tells which happened. It is the idempotent step
// of consuming the complaints topic: a redelivered or replayed complaint
// changes nothing, however many consumers insert it at once. The caller
// validates c (domain.DecodeComplaint does); the store checks only that it
// has an id.
func (tx *Tx) InsertComplaint(ctx context.Context, c *domain.Complaint) (inserted bool, err error) {
	if c == nil || c.ComplaintID == "" {
		return false, errors.New("store: insert complaint: no complaint id")
	}
	body, err := json.Marshal(c)
	if err != nil {
		return false, fmt.Errorf("store: insert complaint %s: %w", c.ComplaintID, err)
	}
	now := millis(tx.now)
	unique := "ON CONFLICT (id) DO NOTHING"
	if tx.r.dialect == dialectPostgres {
		// A partitioned table has no unique index on id alone
		// (migration 16): the id is claimed in complaint_ids first, which
		// waits for a concurrent insert of the same id to commit or roll
		// back, as the unique index did.
		res, err := tx.r.exec(ctx, `INSERT INTO complaint_ids (id, period) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, c.ComplaintID, periodOf(now))
		if err != nil {
			return false, fmt.Errorf("store: insert complaint %s: %w", c.ComplaintID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return false, fmt.Errorf("store: insert complaint %s: %w", c.ComplaintID, err)
			}
			return false, nil
		}
		unique = ""
	}
	// The queue key's first character is the priority, read in the
	// statement: '0' when the holder, the seller or the listing has
	// priority (hasPriority, spelt here on the new row's values).
	res, err := tx.r.exec(ctx, `INSERT INTO complaints
		(id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status, body, created_at, updated_at, queue_key, period)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			CASE WHEN EXISTS (SELECT 1 FROM holder_priority WHERE holder_id = ? AND priority > 0)
				OR EXISTS (SELECT 1 FROM seller_priority WHERE seller_id = ?)
				OR EXISTS (SELECT 1 FROM listing_priority WHERE listing_id = ?) THEN '0' ELSE '1' END || ?, ?)
		`+unique,
		c.ComplaintID, c.Source, c.ListingID, c.ListingVersion, c.MarkID, c.HolderID, c.SellerID, c.Score,
		ComplaintOpen, string(body), now, now, c.HolderID, c.SellerID, c.ListingID, queueKeyRest(c.Score, now, c.ComplaintID), periodOf(now))
	if err != nil {
		return false, fmt.Errorf("store: insert complaint %s: %w", c.ComplaintID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: insert complaint %s: %w", c.ComplaintID, err)
	}
	if n != 1 {
		return false, nil
	}
	// Its full-text terms (migration 20), on PostgreSQL.
	if err := tx.insertTerms(ctx, c, periodOf(now)); err != nil {
		return false, fmt.Errorf("store: insert complaint %s: terms: %w", c.ComplaintID, err)
	}
	// The matchers its evidence names, under the queue key just written
	// (migration 17); the redelivery above wrote nothing and adds nothing.
	// The period names the row's partition on PostgreSQL.
	for _, m := range EvidenceMatchers(c) {
		if _, err := tx.r.exec(ctx, `INSERT INTO complaint_matchers (complaint_id, matcher, queue_key)
			SELECT id, ?, queue_key FROM complaints WHERE id = ? AND period = ?`, m, c.ComplaintID, periodOf(now)); err != nil {
			return false, fmt.Errorf("store: insert complaint %s: matcher %s: %w", c.ComplaintID, m, err)
		}
	}
	return true, nil
}

// EvidenceMatchers are the distinct non-empty matcher names of c's
// evidence, in order of first appearance: what the queue's matcher filter
// finds c by.
func EvidenceMatchers(c *domain.Complaint) []string {
	var out []string
	for _, e := range c.Evidence {
		if e.Matcher != "" && !slices.Contains(out, e.Matcher) {
			out = append(out, e.Matcher)
		}
	}
	return out
}

// SetComplaintStatus moves a complaint from status from to status to on
// behalf of actor. It is the compare-and-set that makes concurrent decisions
// safe: when the complaint is no longer in status from, because another
// decision won, it is ErrConflict; an unknown id is ErrNotFound. Moving to
// upheld or rejected records the decision time and actor.
func (tx *Tx) SetComplaintStatus(ctx context.Context, id, from, to, actor string) error {
	_, err := tx.setComplaintStatus(ctx, id, from, to, actor)
	return err
}

// MoveComplaint is SetComplaintStatus of c from c.Status to to, which on
// success also brings c up to what the row now reads (status, updated_at
// and, for a decision, decided_at and decided_by): a caller that read c
// need not read it again. On an error c is unchanged.
func (tx *Tx) MoveComplaint(ctx context.Context, c *Complaint, to, actor string) error {
	decision, err := tx.setComplaintStatus(ctx, c.Body.ComplaintID, c.Status, to, actor)
	if err != nil {
		return err
	}
	c.Status, c.UpdatedAt = to, fromMillis(millis(tx.now))
	if decision {
		c.DecidedAt, c.DecidedBy = c.UpdatedAt, actor
	}
	return nil
}

// setComplaintStatus is SetComplaintStatus; it tells whether the move was
// a decision, which records its time and actor.
func (tx *Tx) setComplaintStatus(ctx context.Context, id, from, to, actor string) (bool, error) {
	switch to {
	case ComplaintOpen, ComplaintUpheld, ComplaintRejected, ComplaintContested, ComplaintReinstated:
	default:
		return false, fmt.Errorf("store: set complaint %s status: unknown status %q", id, to)
	}
	decision := to == ComplaintUpheld || to == ComplaintRejected
	now := millis(tx.now)
	byID, idArgs := tx.r.complaintByID(id)
	res, err := tx.r.exec(ctx, `UPDATE complaints SET
			status = ?,
			updated_at = ?,
			decided_at = CASE WHEN ? THEN ? ELSE decided_at END,
			decided_by = CASE WHEN ? THEN ? ELSE decided_by END
		WHERE `+byID+` AND status = ?`,
		append(append([]any{to, now, decision, now, decision, actor}, idArgs...), from)...)
	if err != nil {
		return false, fmt.Errorf("store: set complaint %s status %s: %w", id, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: set complaint %s status %s: %w", id, to, err)
	}
	if n == 1 {
		return decision, nil
	}
	var status string
	err = tx.r.queryRow(ctx, `SELECT status FROM complaints WHERE `+byID, idArgs...).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("store: set complaint %s status %s: %w", id, to, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("store: set complaint %s status %s: %w", id, to, err)
	}
	return false, fmt.Errorf("store: set complaint %s status %s: it is %s, not %s: %w", id, to, status, from, ErrConflict)
}

// GetComplaint returns the complaint with the given id, or ErrNotFound.
func (s *Store) GetComplaint(ctx context.Context, id string) (Complaint, error) {
	return s.read().getComplaint(ctx, id)
}

// GetComplaint returns the complaint with the given id, or ErrNotFound.
func (tx *Tx) GetComplaint(ctx context.Context, id string) (Complaint, error) {
	return tx.r.getComplaint(ctx, id)
}

func (r runner) getComplaint(ctx context.Context, id string) (Complaint, error) {
	byID, args := r.complaintByID(id)
	c, err := scanComplaintRow(r.queryRow(ctx, `SELECT status, body, created_at, updated_at, decided_at, decided_by
		FROM complaints WHERE `+byID, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Complaint{}, fmt.Errorf("store: get complaint %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Complaint{}, fmt.Errorf("store: get complaint %s: %w", id, err)
	}
	return c, nil
}

// complaintByID is the condition on complaints that finds the complaint
// id, and its arguments. On PostgreSQL it also names the complaint's
// period, read from complaint_ids (migration 19) in the same statement, so
// that the executor prunes the lookup to one partition rather than probing
// the primary key of every month: a decision reads and updates its
// complaint by id several times. SQLite has one table and its primary key
// on id.
func (r runner) complaintByID(id string) (string, []any) {
	if r.dialect != dialectPostgres {
		return `id = ?`, []any{id}
	}
	return `id = ? AND period = (SELECT i.period FROM complaint_ids i WHERE i.id = ?)`, []any{id, id}
}
