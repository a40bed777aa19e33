package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/markwatch/markwatch/internal/search/terms"
)

// Bounds of a text search's work (variables so that tests can make a small
// store take every path).
var (
	// textRareMatches is how many matches after the cursor a text may have
	// to be read whole from the GIN index and sorted by queue key; a text
	// with more walks the queue_key index of complaint_terms instead,
	// testing each entry's terms. Reading the matches costs about one row
	// of complaint_terms each; the walk about 1/selectivity rows a result,
	// which past this many matches is fewer.
	textRareMatches = 10_000
	// textFirstBatch and textMaxBatch bound each batch of candidates the
	// walk reads and tests against the other filters: a few pages' worth
	// first, then twice the last.
	textFirstBatch = 200
	textMaxBatch   = 4096
	// textMaxCandidates bounds the text matches one page (or one count)
	// tests against the other filters: a page of a text whose matches
	// rarely pass them holds fewer rows than its limit, with a cursor to go
	// on, and a count stops with a lower bound.
	textMaxCandidates = 50_000
)

// textCandidate is a complaint whose terms match a text: its id, partition
// and queue key, from complaint_terms alone.
type textCandidate struct {
	id     string
	period int32
	key    string
}

// textRead runs fn in a read-only transaction on PostgreSQL: the planner
// settings of a text search's queries are SET LOCAL, so that they end with
// it.
func (s *Store) textRead(ctx context.Context, fn func(r runner) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to keep
	if err := fn(runner{q: tx, dialect: s.dialect}); err != nil {
		return err
	}
	return tx.Commit()
}

// textCandidates calls fn with the complaints whose terms hold every one of
// ts, within f's score bounds, after the queue key after, in queue order, a
// batch at a time, until fn returns false, the matches end (ended) or
// textMaxCandidates were given. It reads complaint_terms only, on one of
// two plans whose choice it makes itself rather than leave to the planner's
// estimate of a text's matches (a wrong one costs a walk of the whole
// queue, or a read of a million matches):
//
//   - rare: the matches after the cursor are read from the GIN index (a
//     bitmap: the index's lists of the terms, intersected, then the rows
//     in table order) up to textRareMatches+1; when there are no more, they
//     are sorted by queue key and given in batches. This costs the
//     matches, fewer than textRareMatches.
//   - common: otherwise the queue_key index is walked from the cursor and
//     each entry's terms tested, a batch at a time: a text matching one
//     complaint in m costs about m rows a result, and m < N /
//     textRareMatches on a store of N.
//
// The planner is held to each plan by SET LOCAL enable_* in a read-only
// transaction; fn runs its queries on the same runner.
func (s *Store) textCandidates(ctx context.Context, r runner, ts []string, f QueueFilter, after string,
	fn func(batch []textCandidate) (bool, error)) (ended bool, err error) {
	tq := tsqueryOf(ts)
	ranges := f.keyRanges()
	// where is the condition of the matches after the key from.
	where := func(from string) (string, []any) {
		cond, args := `terms @@ CAST(? AS tsquery)`, []any{tq}
		if from != "" {
			cond, args = cond+` AND queue_key > ?`, append(args, from)
		}
		if ranges != nil {
			var rs []string
			for _, rg := range ranges {
				rs, args = append(rs, `(queue_key >= ? AND queue_key < ?)`), append(args, rg[0], rg[1])
			}
			cond += ` AND (` + strings.Join(rs, ` OR `) + `)`
		}
		return cond, args
	}
	read := func(q string, a ...any) ([]textCandidate, error) {
		rows, err := r.query(ctx, q, a...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []textCandidate
		for rows.Next() {
			var c textCandidate
			if err := rows.Scan(&c.id, &c.period, &c.key); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	if _, err := r.exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off`); err != nil {
		return false, err
	}
	cond, args := where(after)
	rare, err := read(`SELECT id, period, queue_key FROM complaint_terms WHERE `+cond+` LIMIT ?`, append(args, textRareMatches+1)...)
	if err != nil {
		return false, err
	}
	given := 0
	if len(rare) <= textRareMatches {
		slices.SortFunc(rare, func(a, b textCandidate) int { return strings.Compare(a.key, b.key) })
		for start, n := 0, textFirstBatch; start < len(rare); start, n = start+n, min(2*n, textMaxBatch) {
			if given >= textMaxCandidates {
				return false, nil
			}
			batch := rare[start:min(start+n, len(rare))]
			given += len(batch)
			if more, err := fn(batch); err != nil || !more {
				return false, err
			}
		}
		return true, nil
	}
	if _, err := r.exec(ctx, `SET LOCAL enable_indexscan = on; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off`); err != nil {
		return false, err
	}
	for n := textFirstBatch; given < textMaxCandidates; n = min(2*n, textMaxBatch) {
		cond, args := where(after)
		batch, err := read(`SELECT id, period, queue_key FROM complaint_terms WHERE `+cond+` ORDER BY queue_key LIMIT ?`, append(args, n)...)
		if err != nil {
			return false, err
		}
		given += len(batch)
		if len(batch) > 0 {
			if more, err := fn(batch); err != nil || !more {
				return false, err
			}
		}
		if len(batch) < n {
			return true, nil
		}
		after = batch[len(batch)-1].key
	}
	return false, nil
}

// textFiltered runs SELECT cols of the complaints among batch that pass f's
// other filters, in queue order, and calls row for each.
func textFiltered(ctx context.Context, r runner, f QueueFilter, batch []textCandidate, cols string, row func(*sql.Rows) error) error {
	from, key, cond, args := f.sql()
	ids, periods := make([]string, len(batch)), make([]int32, len(batch))
	for i, c := range batch {
		ids[i], periods[i] = c.id, c.period
	}
	// One partition's primary key per candidate: the candidates are a
	// list of (id, period) pairs joined to the complaints.
	q := `SELECT ` + cols + ` FROM ` + from + ` JOIN unnest(CAST(? AS text[]), CAST(? AS integer[])) AS x(id, period)
		ON c.id = x.id AND c.period = x.period WHERE ` + cond + ` ORDER BY ` + key
	rows, err := r.query(ctx, q, append([]any{ids, periods}, args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// listQueueText is ListQueue with a text filter (PostgreSQL): the text's
// matches in queue order from complaint_terms (textCandidates), each batch
// tested against the other filters on the complaints, until the page is
// full. A page tests at most textMaxCandidates matches: when the other
// filters pass few of them, it holds fewer than limit complaints and After
// is the key of the last match tested, to go on from.
func (s *Store) listQueueText(ctx context.Context, f QueueFilter, after string, limit int) (QueuePage, error) {
	if !s.TextSearch() {
		return QueuePage{}, errors.New("store: list queue: this store does not match text (QueueFilter.Text)")
	}
	ts := terms.Query(f.Text)
	if len(ts) == 0 {
		return QueuePage{}, nil
	}
	_, key, _, _ := f.sql()
	var page QueuePage
	err := s.textRead(ctx, func(r runner) error {
		page = QueuePage{}
		var last string // the key of the last complaint kept or match tested
		full := false
		ended, err := s.textCandidates(ctx, r, ts, f, after, func(batch []textCandidate) (bool, error) {
			err := textFiltered(ctx, r, f, batch, `c.status, c.body, c.created_at, c.updated_at, c.decided_at, c.decided_by, `+key, func(rows *sql.Rows) error {
				if full {
					return nil
				}
				var (
					c                Complaint
					body, k          string
					created, updated int64
					decidedAt        sql.NullInt64
					decidedBy        sql.NullString
				)
				if err := rows.Scan(&c.Status, &body, &created, &updated, &decidedAt, &decidedBy, &k); err != nil {
					return err
				}
				if len(page.Complaints) == limit {
					// One more than the page: there is a next one.
					full = true
					return nil
				}
				if err := json.Unmarshal([]byte(body), &c.Body); err != nil {
					return fmt.Errorf("decode body: %w", err)
				}
				c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
				c.DecidedAt, c.DecidedBy = fromNullMillis(decidedAt), decidedBy.String
				page.Complaints = append(page.Complaints, c)
				last = k
				return nil
			})
			if err != nil {
				return false, err
			}
			if !full {
				last = batch[len(batch)-1].key
			}
			return !full, nil
		})
		if err != nil {
			return err
		}
		if full || !ended {
			page.After = last
		}
		return nil
	})
	if err != nil {
		return QueuePage{}, fmt.Errorf("store: list queue: text: %w", err)
	}
	return page, nil
}

// countQueueText is CountQueueUpTo with a text filter: the text's matches
// that pass the other filters, counted up to limit (then limit, capped);
// capped too when textMaxCandidates matches were tested before the count
// was done (a lower bound).
func (s *Store) countQueueText(ctx context.Context, f QueueFilter, limit int) (n int64, capped bool, err error) {
	if !s.TextSearch() {
		return 0, false, errors.New("store: count queue: this store does not match text (QueueFilter.Text)")
	}
	ts := terms.Query(f.Text)
	if len(ts) == 0 {
		return 0, false, nil
	}
	err = s.textRead(ctx, func(r runner) error {
		n = 0
		ended, err := s.textCandidates(ctx, r, ts, f, "", func(batch []textCandidate) (bool, error) {
			err := textFiltered(ctx, r, f, batch, `1`, func(*sql.Rows) error { n++; return nil })
			return n <= int64(limit), err
		})
		capped = !ended
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: count queue: text: %w", err)
	}
	if n > int64(limit) {
		return int64(limit), true, nil
	}
	return n, capped, nil
}
