package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/search/terms"
)

// sqliteTermsSchema is the migration that made complaint_term_keys
// (SQLite).
const sqliteTermsSchema = 24

// termRowsBatch is how many (term, queue key) rows one INSERT carries: two
// parameters each, well under SQLite's limit of parameters.
const termRowsBatch = 4000

// sqliteFilterCap is how far the other filters' complaints are counted
// when choosing the plan (a count kept by triggers is read whole): a
// filter that keeps more is walked only if the text's rarest term has
// more complaints still, which a count this far cannot tell.
const sqliteFilterCap = 10_000

// sqliteWalkFirst sizes the chunks of a SQLite text walk: the first chunk
// is this many entries of the walked term, each next one twice the last,
// and a page (or a count) reads at most textMaxScanned of them, as on
// PostgreSQL: a text whose matches are rarer than that comes back short,
// with a cursor. A variable for tests.
var sqliteWalkFirst = 8192

// sqliteTextWalk, when not empty, makes every SQLite text search walk its
// rarest term ("terms") or the other filters' index ("filters", where
// there are filters) whatever the counts: for tests.
var sqliteTextWalk = ""

// insertSQLiteTerms stores a row of complaint_term_keys per term of c under
// the queue key its insert just wrote (migration 24).
func (tx *Tx) insertSQLiteTerms(ctx context.Context, c *domain.Complaint) error {
	ts, err := json.Marshal(complaintTerms(c))
	if err != nil {
		return err
	}
	_, err = tx.r.exec(ctx, `INSERT OR IGNORE INTO complaint_term_keys (term, queue_key)
		SELECT j.value, c.queue_key FROM complaints c, json_each(?) j WHERE c.id = ?`, string(ts), c.ComplaintID)
	return err
}

// termRows are the complaint_term_keys rows of a complaint with queue key
// key.
func termRows(c *domain.Complaint, key string) [][2]string {
	ts := complaintTerms(c)
	out := make([][2]string, len(ts))
	for i, t := range ts {
		out[i] = [2]string{t, key}
	}
	return out
}

// insertTermRows writes rows into complaint_term_keys, termRowsBatch at a
// time; a row already there is skipped.
func insertTermRows(ctx context.Context, r runner, rows [][2]string) error {
	for start := 0; start < len(rows); start += termRowsBatch {
		batch := rows[start:min(start+termRowsBatch, len(rows))]
		args := make([]any, 0, 2*len(batch))
		for _, row := range batch {
			args = append(args, row[0], row[1])
		}
		q := `INSERT OR IGNORE INTO complaint_term_keys (term, queue_key) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?), `, len(batch)), ", ")
		if _, err := r.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// fillSQLiteTerms gives every complaint stored before migration 24 its
// rows of complaint_term_keys, in the migration's transaction: pages of
// complaints in id order. It reads every complaint once and writes a row
// per term (docs/BENCHMARKS.md has its time at 100k).
func fillSQLiteTerms(ctx context.Context, tx *Tx) error {
	if tx.r.dialect == dialectPostgres {
		return nil
	}
	after := ""
	for {
		rows, err := tx.r.query(ctx, `SELECT id, queue_key, body FROM complaints WHERE id > ? ORDER BY id LIMIT ?`, after, fillTermsPage)
		if err != nil {
			return fmt.Errorf("fill complaint term keys: %w", err)
		}
		var out [][2]string
		n := 0
		for rows.Next() {
			var (
				id, key, body string
				c             domain.Complaint
			)
			if err := rows.Scan(&id, &key, &body); err != nil {
				rows.Close()
				return fmt.Errorf("fill complaint term keys: %w", err)
			}
			if err := json.Unmarshal([]byte(body), &c); err != nil {
				rows.Close()
				return fmt.Errorf("fill complaint term keys: complaint %s: %w", id, err)
			}
			out = append(out, termRows(&c, key)...)
			after = id
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("fill complaint term keys: %w", err)
		}
		if err := insertTermRows(ctx, tx.r, out); err != nil {
			return fmt.Errorf("fill complaint term keys: %w", err)
		}
		if n < fillTermsPage {
			return nil
		}
	}
}

// sqliteTextPlan is how a SQLite text search reads: by the entries of one
// term (walk) in queue order, or by the other filters' queue index with
// every term probed per row (when they keep fewer complaints than that
// term has).
type sqliteTextPlan struct {
	walk     string   // the term whose entries are walked; "" walks the filters
	probe    []string // the terms tested on each row
	nothing  bool     // a term no complaint has: no match
	byFilter bool
}

// sqliteTextPlanOf picks the plan of text terms ts with filter f: the
// rarest term's entries (complaint_term_counts, migration 25), the others
// probed rarest first, unless the other filters keep fewer complaints than
// that term has.
func (s *Store) sqliteTextPlanOf(ctx context.Context, f QueueFilter, ts []string) (sqliteTextPlan, error) {
	ts = slices.Compact(slices.Sorted(slices.Values(ts)))
	in, args := inList("term", ts)
	rows, err := s.read().query(ctx, `SELECT term, n FROM complaint_term_counts WHERE n > 0 AND `+in, args...)
	if err != nil {
		return sqliteTextPlan{}, err
	}
	counts := map[string]int64{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			rows.Close()
			return sqliteTextPlan{}, err
		}
		counts[t] = n
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return sqliteTextPlan{}, err
	}
	if len(counts) < len(ts) {
		// A term no complaint has.
		return sqliteTextPlan{nothing: true}, nil
	}
	// Rarest first; ties by the term, so that a plan is the same for the
	// same counts.
	slices.SortStableFunc(ts, func(a, b string) int { return cmp.Compare(counts[a], counts[b]) })
	plan := sqliteTextPlan{walk: ts[0], probe: ts[1:]}
	other := f
	other.Text = ""
	_, _, cond, _ := other.sql(false)
	filtered := cond != "1 = 1" || other.MinScore != nil || other.MaxScore != nil
	switch {
	case sqliteTextWalk == "terms" || !filtered:
	case sqliteTextWalk == "filters":
		return sqliteTextPlan{probe: ts, byFilter: true}, nil
	default:
		// Walking the filters' index pays when they keep fewer complaints
		// than the rarest term has.
		kept, capped, err := s.CountQueueUpTo(ctx, other, int(min(counts[ts[0]], sqliteFilterCap)))
		if err != nil {
			return sqliteTextPlan{}, err
		}
		if !capped && kept < counts[ts[0]] {
			return sqliteTextPlan{probe: ts, byFilter: true}, nil
		}
	}
	return plan, nil
}

// eachSQLiteText runs SELECT cols of the complaints of f whose terms hold
// every one of ts, in queue order after the key after, up to limit rows,
// and calls row for each; the last column of cols must be the queue key.
// The walk of a term reads its entries of complaint_term_keys in queue
// order (the table's primary key), probes the other terms by the
// (queue_key, term) index and the complaint by its queue key, and tests
// the other filters on it: it stops when limit rows passed, whatever the
// number of matches after them.
//
// A walk of a term reads it in chunks (sqliteWalkFirst entries, doubling):
// each chunk's last key is found first by an OFFSET read of the term's
// entries alone, then the chunk is walked with the probes. It stops at
// textMaxScanned entries; ended is false then, and reached is the key of
// the last entry read, where a short page's cursor resumes.
func (s *Store) eachSQLiteText(ctx context.Context, f QueueFilter, ts []string, cols, after string, limit int, row func(*sql.Rows) error) (ended bool, reached string, err error) {
	plan, err := s.sqliteTextPlanOf(ctx, f, ts)
	if err != nil || plan.nothing {
		return true, "", err
	}
	g := f
	g.Text = ""
	if len(g.Matcher) == 1 && !plan.byFilter {
		// One matcher reads its own index in queue order (QueueFilter.sql);
		// walking a term, it is a test of each complaint instead, as
		// several matchers are.
		g.Matcher = []string{g.Matcher[0], g.Matcher[0]}
	}
	from, key, cond, args := g.sql(false)
	if plan.byFilter {
		// The query eachQueueRange runs, with the terms as one more test.
		for _, t := range plan.probe {
			cond += ` AND EXISTS (SELECT 1 FROM complaint_term_keys u WHERE u.queue_key = ` + key + ` AND u.term = ?)`
			args = append(args, t)
		}
	} else {
		key = "t.queue_key"
		from = `complaint_term_keys t CROSS JOIN ` + from
		conds := []string{`t.term = ?`, `c.queue_key = t.queue_key`}
		a := []any{plan.walk}
		for _, t := range plan.probe {
			conds = append(conds, `EXISTS (SELECT 1 FROM complaint_term_keys u WHERE u.queue_key = t.queue_key AND u.term = ?)`)
			a = append(a, t)
		}
		cond, args = strings.Join(conds, ` AND `)+` AND `+cond, append(a, args...)
	}
	ranges, err := s.queueRanges(ctx, f)
	if err != nil {
		return false, "", err
	}
	read := 0
	// walkRanges reads the rows of f after the key lo and up to the key
	// hi ("": no bound), range by range in queue order.
	walkRanges := func(lo, hi string) error {
		c, a := cond, slices.Clone(args)
		if lo != "" {
			c += ` AND ` + key + ` > ?`
			a = append(a, lo)
		}
		if hi != "" {
			c += ` AND ` + key + ` <= ?`
			a = append(a, hi)
		}
		for _, r := range ranges {
			if read >= limit {
				return nil
			}
			c, a := c, slices.Clone(a)
			if r[0] != "" || r[1] != "" {
				c += ` AND ` + key + ` >= ? AND ` + key + ` < ?`
				a = append(a, r[0], r[1])
			}
			a = append(a, limit-read)
			rows, err := s.read().query(ctx, `SELECT `+strings.ReplaceAll(cols, "{{key}}", key)+` FROM `+from+` WHERE `+c+` ORDER BY `+key+` LIMIT ?`, a...)
			if err != nil {
				return err
			}
			n, err := eachRow(rows, row)
			read += n
			if err != nil {
				return err
			}
		}
		return nil
	}
	if plan.byFilter {
		// The filters keep fewer complaints than the rarest term has
		// (counted up to sqliteFilterCap): their own walk is bounded.
		return true, "", walkRanges(after, "")
	}
	lo, chunk, scanned := after, sqliteWalkFirst, 0
	for read < limit {
		if scanned >= textMaxScanned {
			return false, lo, nil
		}
		chunk = min(chunk, textMaxScanned-scanned)
		var hi string
		err := s.read().queryRow(ctx, `SELECT queue_key FROM complaint_term_keys WHERE term = ? AND queue_key > ?
			ORDER BY queue_key LIMIT 1 OFFSET ?`, plan.walk, lo, chunk-1).Scan(&hi)
		last := errors.Is(err, sql.ErrNoRows)
		if err != nil && !last {
			return false, "", err
		}
		// The last chunk (fewer entries left than its size) has no upper
		// bound.
		if err := walkRanges(lo, hi); err != nil {
			return false, "", err
		}
		if last {
			return true, "", nil
		}
		lo, scanned, chunk = hi, scanned+chunk, chunk*2
	}
	return true, "", nil
}

// listQueueTextSQLite is listQueueText on SQLite: limit+1 matches read in
// queue order (eachSQLiteText). Matched is what the page read: its own and
// the one after it; MatchedAll when a first page read them all.
func (s *Store) listQueueTextSQLite(ctx context.Context, f QueueFilter, after string, limit int) (QueuePage, error) {
	ts := terms.Query(f.Text)
	if len(ts) == 0 {
		return QueuePage{}, nil
	}
	pr := pageRows{limit: limit}
	matched := 0
	ended, reached, err := s.eachSQLiteText(ctx, f, ts, `c.status, c.body, c.created_at, c.updated_at, c.decided_at, c.decided_by, {{key}}`, after, limit+1, func(rows *sql.Rows) error {
		matched++
		return pr.add(rows)
	})
	if err != nil {
		return QueuePage{}, fmt.Errorf("store: list queue: text: %w", err)
	}
	return pr.textPage(matched, ended, reached, after), nil
}

// countQueueTextSQLite is countQueueText on SQLite: the matches counted up
// to limit, then limit and capped.
func (s *Store) countQueueTextSQLite(ctx context.Context, f QueueFilter, limit int) (int64, bool, error) {
	ts := terms.Query(f.Text)
	if len(ts) == 0 {
		return 0, false, nil
	}
	var n int64
	ended, _, err := s.eachSQLiteText(ctx, f, ts, `{{key}}`, "", limit+1, func(*sql.Rows) error { n++; return nil })
	if err != nil {
		return 0, false, fmt.Errorf("store: count queue: text: %w", err)
	}
	if n > int64(limit) {
		return int64(limit), true, nil
	}
	return n, !ended, nil
}
