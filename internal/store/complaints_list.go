package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// eachComplaintPage is how many complaints EachComplaint reads per query:
// paging keeps no cursor open while the callback runs, so the callback may
// use the store (an in-memory SQLite store has a single connection).
const eachComplaintPage = 500

// EachComplaint calls fn for every complaint updated at or after since (all
// of them when since is zero), in order of update time then id, until fn
// returns false. It is how the search index is rebuilt at start and caught
// up afterwards.
func (s *Store) EachComplaint(ctx context.Context, since time.Time, fn func(Complaint) bool) error {
	// The first page takes every row at or after since; the next ones
	// resume after the last (updated_at, id) read.
	afterAt, afterID := int64(-1<<62), ""
	if !since.IsZero() {
		afterAt = millis(since)
	}
	first := true
	for {
		page, err := s.complaintPage(ctx, afterAt, afterID, first)
		if err != nil {
			return err
		}
		first = false
		for _, p := range page {
			if !fn(p.c) {
				return nil
			}
		}
		if len(page) < eachComplaintPage {
			return nil
		}
		last := page[len(page)-1]
		afterAt, afterID = last.updated, last.c.Body.ComplaintID
	}
}

type pagedComplaint struct {
	c       Complaint
	updated int64
}

// complaintPage reads the page after (afterAt, afterID); the first page
// includes rows at afterAt with any id.
func (s *Store) complaintPage(ctx context.Context, afterAt int64, afterID string, first bool) ([]pagedComplaint, error) {
	cond := `(updated_at > ? OR (updated_at = ? AND id > ?))`
	args := []any{afterAt, afterAt, afterID}
	if first {
		cond = `updated_at >= ?`
		args = []any{afterAt}
	}
	rows, err := s.read().query(ctx, `SELECT status, body, created_at, updated_at, decided_at, decided_by
		FROM complaints WHERE `+cond+` ORDER BY updated_at, id LIMIT `+fmt.Sprint(eachComplaintPage), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list complaints: %w", err)
	}
	defer rows.Close()
	var out []pagedComplaint
	for rows.Next() {
		var row complaintRow
		if err := row.scan(rows); err != nil {
			return nil, fmt.Errorf("store: list complaints: %w", err)
		}
		c, err := row.complaint()
		if err != nil {
			return nil, fmt.Errorf("store: list complaints: %w", err)
		}
		out = append(out, pagedComplaint{c: c, updated: row.updated})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list complaints: %w", err)
	}
	return out, nil
}

// QueueStats describes the review queue at one moment.
type QueueStats struct {
	// ByStatus counts complaints by status; every status is present.
	ByStatus map[string]int
	// OldestOpen is when the oldest open complaint arrived; zero when
	// none is open.
	OldestOpen time.Time
}

// QueueStats counts complaints by status and finds the oldest open one. The
// counts come from complaint_counts (migration 9), a few rows whatever the
// size of the queue.
func (s *Store) QueueStats(ctx context.Context) (QueueStats, error) {
	st := QueueStats{ByStatus: map[string]int{
		ComplaintOpen: 0, ComplaintUpheld: 0, ComplaintRejected: 0, ComplaintContested: 0, ComplaintReinstated: 0,
	}}
	rows, err := s.read().query(ctx, `SELECT status, CAST(SUM(n) AS BIGINT) FROM complaint_counts GROUP BY status`)
	if err != nil {
		return QueueStats{}, fmt.Errorf("store: queue stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status string
			n      int
		)
		if err := rows.Scan(&status, &n); err != nil {
			return QueueStats{}, fmt.Errorf("store: queue stats: %w", err)
		}
		st.ByStatus[status] = n
	}
	if err := rows.Err(); err != nil {
		return QueueStats{}, fmt.Errorf("store: queue stats: %w", err)
	}
	rows.Close()
	var oldest sql.NullInt64
	// The status is spelt out, not a parameter: a generic plan could not
	// use the partial index of open complaints (migration 21; on
	// PostgreSQL complaint_status's since migration 22).
	table := "complaints"
	if s.statusTable() {
		table = "complaint_status"
	}
	if err := s.read().queryRow(ctx, `SELECT MIN(created_at) FROM `+table+` WHERE status = 'open'`).Scan(&oldest); err != nil {
		return QueueStats{}, fmt.Errorf("store: queue stats: oldest open: %w", err)
	}
	st.OldestOpen = fromNullMillis(oldest)
	return st, nil
}

// HolderDecisions is one holder's HolderStats.
type HolderDecisions struct {
	HolderID        string
	Decided, Upheld int
}

// AllHolderStats returns HolderStats for every holder with at least one
// decided manual complaint, ordered by holder id. It reads complaint_counts
// (migration 9): its cost grows with the holders, not the complaints.
func (s *Store) AllHolderStats(ctx context.Context) ([]HolderDecisions, error) {
	rows, err := s.read().query(ctx, `SELECT
			holder_id,
			CAST(SUM(n) AS BIGINT),
			CAST(COALESCE(SUM(CASE WHEN status IN (?, ?, ?) THEN n ELSE 0 END), 0) AS BIGINT)
		FROM complaint_counts
		WHERE source = ? AND status <> ?
		GROUP BY holder_id HAVING SUM(n) > 0 ORDER BY holder_id`,
		ComplaintUpheld, ComplaintContested, ComplaintReinstated, domain.SourceRightsHolder, ComplaintOpen)
	if err != nil {
		return nil, fmt.Errorf("store: all holder stats: %w", err)
	}
	defer rows.Close()
	var out []HolderDecisions
	for rows.Next() {
		var h HolderDecisions
		if err := rows.Scan(&h.HolderID, &h.Decided, &h.Upheld); err != nil {
			return nil, fmt.Errorf("store: all holder stats: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: all holder stats: %w", err)
	}
	return out, nil
}

// complaintRow is a complaint as read by `status, body, created_at,
// updated_at, decided_at, decided_by` (and any columns after them),
// scanned but not yet decoded: a page reads one row past its end and
// decodes only the rows it keeps.
type complaintRow struct {
	status, body     string
	created, updated int64
	decidedAt        sql.NullInt64
	decidedBy        sql.NullString
}

// scan reads the row's six complaint columns, then the extra columns
// into more.
func (r *complaintRow) scan(rows *sql.Rows, more ...any) error {
	return rows.Scan(append([]any{&r.status, &r.body, &r.created, &r.updated, &r.decidedAt, &r.decidedBy}, more...)...)
}

// complaint decodes the row.
func (r *complaintRow) complaint() (Complaint, error) {
	c := Complaint{Status: r.status}
	if err := json.Unmarshal([]byte(r.body), &c.Body); err != nil {
		return Complaint{}, fmt.Errorf("decode body: %w", err)
	}
	c.CreatedAt, c.UpdatedAt = fromMillis(r.created), fromMillis(r.updated)
	c.DecidedAt, c.DecidedBy = fromNullMillis(r.decidedAt), r.decidedBy.String
	return c, nil
}

// eachRow calls fn for each of rows, closes them, and returns how many
// it read and the first error (fn's, or the rows' own).
func eachRow(rows *sql.Rows, fn func(*sql.Rows) error) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		if err := fn(rows); err != nil {
			return n, err
		}
	}
	return n, rows.Err()
}

// pageRows fills a queue page from rows of complaintRow's columns followed
// by the queue key, read limit+1 at most: the first limit become the
// page's complaints, and a row after them tells that there is a next page
// (full), which starts after last.
type pageRows struct {
	limit      int
	complaints []Complaint
	last       string
	full       bool
}

// add reads one row; once the page is full it reads no more.
func (p *pageRows) add(rows *sql.Rows) error {
	if p.full {
		return nil
	}
	var row complaintRow
	var k string
	if err := row.scan(rows, &k); err != nil {
		return err
	}
	if len(p.complaints) == p.limit {
		p.full = true
		return nil
	}
	c, err := row.complaint()
	if err != nil {
		return err
	}
	p.complaints = append(p.complaints, c)
	p.last = k
	return nil
}

// page is the page read, After set when there is a next one.
func (p *pageRows) page() QueuePage {
	q := QueuePage{Complaints: p.complaints}
	if p.full {
		q.After = p.last
	}
	return q
}

// textPage is the page of a text search that read matched matches after
// the key after: when the walk did not end (it stopped at textMaxScanned
// rows before the page was full), a short page whose cursor resumes where
// the walk reached; when it ended on a first page, every match.
func (p *pageRows) textPage(matched int, ended bool, reached, after string) QueuePage {
	page := p.page()
	page.Matched = matched
	switch {
	case p.full:
		// page() set After to the last complaint kept.
	case !ended:
		page.After = reached
	default:
		page.MatchedAll = after == ""
	}
	return page
}
