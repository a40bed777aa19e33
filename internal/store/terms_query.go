package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/markwatch/markwatch/internal/search/terms"
)

// Bounds of a text search's work (variables so that tests can make a small
// store take every path).
var (
	// textRareMatches is how many matches the planner may expect of a text
	// for its matches to be read whole from the GIN index and sorted by
	// queue key; a text expected to match more, or found to, walks the
	// queue in windows instead.
	textRareMatches = 2000
	// textMinWindow and textMaxWindow bound a window of the walk: the rows
	// of the queue read at once, each tested against the text (or the
	// other filters). The first window is sized to fill the page at the
	// expected selectivity, each next one twice the last.
	textMinWindow = 256
	textMaxWindow = 8192
	// textMaxScanned bounds the rows one page (or one count) reads: a
	// page of a text whose matches the walk finds rarely holds fewer rows
	// than its limit, with a cursor to go on, and a count stops with a
	// lower bound.
	textMaxScanned = 50_000
	// textCountPage and textCountScanned size the walk of a count: as for
	// a page of 50, and at most this many rows.
	textCountPage    = 50
	textCountScanned = 1024
	// textWalk, when not empty, makes every text walk ("terms" or
	// "filters") or read the segments ("segments") whatever the
	// estimates: for tests.
	textWalk = ""
	// textCommonPostings is how many complaints the rarest term of a text
	// must be expected to have for the text to count as common words
	// together: intersecting their posting lists in the whole GIN index
	// costs about the sum of their lengths (a million entries each at
	// five million complaints), so such a text reads the segments'
	// indexes in queue order instead (migration 23), when its matches are
	// too sparse to walk the queue.
	textCommonPostings = 20_000.0
	// textDenseShare is the share of complaints a text must be expected
	// to match for a walk of the queue (about 1/share rows read a match)
	// to beat reading the segments.
	textDenseShare = 0.01
)

// termsSegmentsSchema is the migration that made the segments' GIN
// indexes of complaint_terms (PostgreSQL).
const termsSegmentsSchema = 23

// termSegments are the ranges [lo, hi) of queue keys that each have a
// GIN index of their own on complaint_terms (migration 23), in queue
// order; "" is an open end. The first priority ('0') is one; the second
// ('1') is cut by score into twenty ranges of 0.05, and scores of 0 and
// below are the last. Never change them: the indexes are made from them
// once, and a query names a range exactly as its index's predicate does.
func termSegments() [][2]string {
	bound := func(i int) string { return fmt.Sprintf("1%016d", int64(i)*50_000_000_000_000) }
	segs := [][2]string{{"", bound(0)}}
	for i := range 20 {
		segs = append(segs, [2]string{bound(i), bound(i + 1)})
	}
	return append(segs, [2]string{bound(20), ""})
}

// segmentPredicate is the condition on queue_key of segment seg, as its
// index's predicate spells it: literals, so that the planner can prove
// that the index covers the query whatever the plan's parameters.
func segmentPredicate(seg [2]string) string {
	var conds []string
	if seg[0] != "" {
		conds = append(conds, `queue_key >= `+quoteLiteral(seg[0]))
	}
	if seg[1] != "" {
		conds = append(conds, `queue_key < `+quoteLiteral(seg[1]))
	}
	return strings.Join(conds, ` AND `)
}

// termsSegmentsMigration is migration 23's SQL: a partial GIN index of the
// terms of each segment (termSegments).
func termsSegmentsMigration() string {
	var b strings.Builder
	b.WriteString(`{{sqlite}}SELECT 1;{{end}}{{postgres}}`)
	for i, seg := range termSegments() {
		fmt.Fprintf(&b, "\n\tCREATE INDEX complaint_terms_terms_s%02d ON complaint_terms USING gin (terms) WHERE %s;", i, segmentPredicate(seg))
	}
	b.WriteString("\n\tANALYZE complaint_terms;\n\t{{end}}")
	return b.String()
}

// termSegmentsReady tells whether the store has the segments' indexes.
func (s *Store) termSegmentsReady() bool {
	return s.dialect == dialectPostgres && s.version >= termsSegmentsSchema
}

// textCandidate is a complaint a text search tests or keeps: its id,
// partition and queue key.
type textCandidate struct {
	id     string
	period int32
	key    string
}

// Planner settings of the plans textCandidates chooses, SET LOCAL for
// their queries only: the GIN index's bitmap, a walk of the queue_key
// index of complaint_terms, a walk of the other filters' queue index with
// a probe of each complaint's terms.
const (
	textBitmap     = `SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off`
	textPlanTerms  = `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`
	textPlanFilter = `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off`
	textPlanReset  = `RESET enable_seqscan; RESET enable_indexscan; RESET enable_indexonlyscan; RESET enable_bitmapscan; RESET enable_sort; RESET enable_hashjoin; RESET enable_mergejoin`
)

// textRead runs fn in a read-only transaction on PostgreSQL: the planner
// settings of a text search's queries are SET LOCAL, so that they end with
// it.
func (s *Store) textRead(ctx context.Context, fn func(r runner) error) error {
	record(ctx, "BEGIN READ ONLY")
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to keep
	// The enable_* settings price a plan they rule out so high that JIT
	// compilation would set in: hundreds of milliseconds for queries of
	// a few.
	record(ctx, "SET LOCAL jit = off")
	if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
		return err
	}
	if err := fn(runner{q: tx, dialect: s.dialect}); err != nil {
		return err
	}
	record(ctx, "COMMIT")
	return tx.Commit()
}

// estimate is the planner's estimate of the rows of SELECT 1 FROM from
// WHERE cond: planning only, no execution.
func estimate(ctx context.Context, r runner, from, cond string, args []any) (float64, error) {
	var plan string
	if err := r.queryRow(ctx, `EXPLAIN (FORMAT JSON) SELECT 1 FROM `+from+` WHERE `+cond, args...).Scan(&plan); err != nil {
		return 0, err
	}
	var p []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal([]byte(plan), &p); err != nil || len(p) == 0 {
		return 0, fmt.Errorf("estimate: %q: %w", plan, err)
	}
	return p[0].Plan.Rows, nil
}

// keptEstimate is how many complaints f's filters other than the text
// keep: counted by the triggers' tables where they keep it (status,
// source, holder, one matcher; or marks with statuses), else the planner's
// estimate. Planning a query of the partitioned complaints costs tens of
// milliseconds on a loaded machine, reading a count a few rows.
func (s *Store) keptEstimate(ctx context.Context, r runner, f QueueFilter) (float64, error) {
	f.Text = ""
	if f.CountKept() {
		n, _, err := s.CountQueueUpTo(ctx, f, QueueCountCap)
		return float64(n), err
	}
	onlyMarks := len(f.MarkID) > 0 && len(f.Source) == 0 && len(f.HolderID) == 0 && len(f.SellerID) == 0 && len(f.ListingID) == 0 &&
		len(f.Matcher) == 0 && f.IDs == nil && f.MinScore == nil && f.MaxScore == nil && f.CreatedAfter.IsZero() && f.CreatedBefore.IsZero()
	if onlyMarks {
		cond, args := inList("mark_id", f.MarkID)
		if len(f.Status) > 0 {
			in, a := inList("status", f.Status)
			cond, args = cond+" AND "+in, append(args, a...)
		}
		var n int64
		err := r.queryRow(ctx, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM complaint_mark_counts WHERE `+cond, args...).Scan(&n)
		return float64(n), err
	}
	from, _, cond, args := f.sql(s.statusTable())
	return estimate(ctx, r, from, cond, args)
}

// textCandidates calls fn with complaints whose terms hold every one of ts,
// within f's score bounds, after the queue key after, in queue order, a
// batch at a time, until fn returns false, they end (ended) or
// maxScanned rows were read. A batch may hold complaints that fail f's
// other filters: fn tests them (textFiltered). It chooses its plan from
// the planner's estimates, rather than leave the join to the planner
// (whose misjudged plans took 0.2–4 s at a million complaints):
//
//   - rare: a text expected to match at most textRareMatches complaints
//     has its matches after the cursor read from the GIN index (the terms'
//     posting lists intersected, then those rows), sorted by queue key.
//     If it has more than that after all, it is walked as below.
//   - walk the text: otherwise, when the other filters are expected to
//     keep more complaints than the text matches (or there are none), the
//     queue_key index of complaint_terms is read in windows from the
//     cursor, each row's terms tested: about one row in selectivity of the
//     text read per match.
//   - walk the filters: when the other filters keep fewer, their queue
//     index is read in windows from the cursor (as a list without text
//     reads it), each complaint's terms probed by id.
//
// Each window is sized to fill the page at the expected selectivity. The
// planner is held to each plan by SET LOCAL enable_* in the read-only
// transaction of r, and the settings reset for fn's queries.
//
// reached is the queue key of the last row the walk read: where a short
// page's cursor resumes.
func (s *Store) textCandidates(ctx context.Context, r runner, ts []string, f QueueFilter, after string, limit, maxScanned int,
	fn func(batch []textCandidate) (bool, error)) (ended bool, reached string, err error) {
	tq := tsqueryOf(ts)
	ranges := f.keyRanges()
	// keyCond is the condition on queue key column key of the rows after
	// the key from and within the score bounds.
	keyCond := func(key, from string) (string, []any) {
		cond, args := `1 = 1`, []any{}
		if from != "" {
			cond, args = key+` > ?`, append(args, from)
		}
		if ranges != nil {
			var rs []string
			for _, rg := range ranges {
				rs, args = append(rs, `(`+key+` >= ? AND `+key+` < ?)`), append(args, rg[0], rg[1])
			}
			cond += ` AND (` + strings.Join(rs, ` OR `) + `)`
		}
		return cond, args
	}
	// run runs q under the planner settings plan and reads its rows of
	// (id, period, key, hit, rows of the window), then puts the settings
	// back for fn.
	run := func(plan, q string, a ...any) (out []textCandidate, hits []bool, n int, err error) {
		if _, err := r.exec(ctx, plan); err != nil {
			return nil, nil, 0, err
		}
		defer func() { _, _ = r.exec(ctx, textPlanReset) }() // a failure fails fn's next query too
		rows, err := r.query(ctx, q, a...)
		if err != nil {
			return nil, nil, 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var c textCandidate
			var hit bool
			if err := rows.Scan(&c.id, &c.period, &c.key, &hit, &n); err != nil {
				return nil, nil, 0, err
			}
			out, hits = append(out, c), append(hits, hit)
		}
		return out, hits, n, rows.Err()
	}
	matches, err := estimate(ctx, r, `complaint_terms`, `terms @@ CAST(? AS tsquery)`, []any{tq})
	if err != nil {
		return false, after, err
	}
	// A term outside the column's most common elements is rarer than
	// the least common of them, whatever the planner makes of it (it
	// guesses half that frequency: on a small vocabulary, thousands of
	// matches for a word no complaint has).
	var (
		common []string
		freqs  []float64
	)
	m := pgtype.NewMap()
	if err := r.queryRow(ctx, `SELECT COALESCE(CAST(CAST(most_common_elems AS text) AS text[]), '{}'), COALESCE(most_common_elem_freqs, '{}')
		FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'complaint_terms' AND attname = 'terms'`).Scan(
		m.SQLScanner(&common), m.SQLScanner(&freqs)); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, after, err
	}
	var total float64
	if err := r.queryRow(ctx, `SELECT GREATEST(reltuples, 1) FROM pg_class WHERE oid = CAST('complaint_terms' AS regclass)`).Scan(&total); err != nil {
		return false, after, err
	}
	// rarest is the share of complaints the text's rarest term is
	// expected in: the length of the shortest posting list the GIN index
	// intersects.
	rarest := 1.0
	if len(common) > 0 {
		for _, t := range ts {
			i := slices.Index(common, t)
			if i < 0 || i >= len(freqs) {
				matches = min(matches, float64(textRareMatches))
				rarest = 0
				continue
			}
			rarest = min(rarest, freqs[i])
		}
	} else {
		rarest = 0 // no statistics: take the words to be rare
	}
	// Common words together, sparse together: their matches from the
	// segments' indexes, a segment at a time in queue order (migration
	// 23), unless the other filters keep fewer complaints than the text
	// matches (then their index is walked, below).
	segments := s.termSegmentsReady() && (textWalk == "segments" ||
		textWalk == "" && rarest*total > textCommonPostings && matches/total < textDenseShare)
	from, key, fcond, fargs := f.sql(s.statusTable())
	// kept is how many complaints the other filters keep, estimated once
	// and only for a plan that needs it.
	kept, keptKnown := total, fcond == "1 = 1"
	keptOf := func() (err error) {
		if !keptKnown {
			kept, err = s.keptEstimate(ctx, r, f)
			keptKnown = err == nil
		}
		return err
	}
	if segments {
		if err := keptOf(); err != nil {
			return false, after, err
		}
		if kept >= matches || textWalk == "segments" {
			return s.segmentCandidates(ctx, r, run, tq, keyCond, after, limit, maxScanned, fn)
		}
	}
	if matches <= float64(textRareMatches) && textWalk == "" {
		cond, args := keyCond("queue_key", after)
		rare, _, _, err := run(textBitmap, `SELECT id, period, queue_key, true, 0 FROM complaint_terms WHERE terms @@ CAST(? AS tsquery) AND `+cond+` LIMIT ?`,
			append(append([]any{tq}, args...), textRareMatches+1)...)
		if err != nil {
			return false, after, err
		}
		if len(rare) <= textRareMatches {
			slices.SortFunc(rare, func(a, b textCandidate) int { return strings.Compare(a.key, b.key) })
			for start, n := 0, limit+1; start < len(rare); start, n = start+n, min(2*n, textMaxWindow) {
				if more, err := fn(rare[start:min(start+n, len(rare))]); err != nil || !more {
					return false, after, err
				}
			}
			return true, after, nil
		}
		matches = float64(len(rare)) // at least
	}
	// The walk: the text's own index, or the other filters' when they are
	// expected to keep fewer complaints than the text matches.
	if err := keptOf(); err != nil {
		return false, after, err
	}
	byFilter := fcond != "1 = 1" && kept < matches
	switch textWalk {
	case "terms":
		byFilter = false
	case "filters":
		byFilter = fcond != "1 = 1"
	}
	// A window that fills the page at the expected share of its rows
	// that match: the text's alone when the window reads the filters'
	// index, the text's and the filters' when it reads the text's.
	sel := min(matches/total, 1)
	if !byFilter {
		sel *= min(kept/total, 1)
	}
	sel = max(sel, 1e-9)
	window := min(max(int(float64(limit+1)/sel*1.25), textMinWindow), textMaxWindow)
	for scanned := 0; scanned < maxScanned; window = min(2*window, textMaxWindow) {
		var q string
		var a []any
		plan := textPlanTerms
		if byFilter {
			plan = textPlanFilter
			kc, ka := keyCond(key, after)
			q = `WITH w AS MATERIALIZED (SELECT c.id, c.period, ` + key + ` AS queue_key FROM ` + from + ` WHERE ` + fcond + ` AND ` + kc + ` ORDER BY ` + key + ` LIMIT ?)
				SELECT w.id, w.period, w.queue_key, COALESCE(t.terms @@ CAST(? AS tsquery), false), (SELECT COUNT(*) FROM w)
				FROM w LEFT JOIN complaint_terms t ON t.id = w.id
				WHERE t.terms @@ CAST(? AS tsquery) OR w.queue_key = (SELECT MAX(queue_key) FROM w)`
			a = append(append(append(slices.Clone(fargs), ka...), window), tq, tq)
		} else {
			kc, ka := keyCond("queue_key", after)
			q = `WITH w AS MATERIALIZED (SELECT id, period, queue_key, terms FROM complaint_terms WHERE ` + kc + ` ORDER BY queue_key LIMIT ?)
				SELECT id, period, queue_key, terms @@ CAST(? AS tsquery), (SELECT COUNT(*) FROM w) FROM w
				WHERE terms @@ CAST(? AS tsquery) OR queue_key = (SELECT MAX(queue_key) FROM w)`
			a = append(append(ka, window), tq, tq)
		}
		rows, hits, n, err := run(plan, q, a...)
		if err != nil {
			return false, after, err
		}
		// In queue order: a few rows, sorted here rather than by a plan
		// that the settings above would price out.
		order := make([]int, len(rows))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(i, j int) int { return strings.Compare(rows[i].key, rows[j].key) })
		sorted, sortedHits := make([]textCandidate, len(rows)), make([]bool, len(rows))
		for i, o := range order {
			sorted[i], sortedHits[i] = rows[o], hits[o]
		}
		rows, hits = sorted, sortedHits
		var batch []textCandidate
		for i, c := range rows {
			if hits[i] {
				batch = append(batch, c)
			}
		}
		if len(batch) > 0 {
			if more, err := fn(batch); err != nil || !more {
				return false, batch[len(batch)-1].key, err
			}
		}
		// A window short of its size ends the queue; otherwise its last
		// row (returned hit or not) is where the next one starts.
		if n < window || len(rows) == 0 {
			return true, after, nil
		}
		after = rows[len(rows)-1].key
		scanned += window
	}
	return false, after, nil
}

// segmentCandidates is textCandidates' read of the segments: each
// segment after the key after, in queue order, has the text's matches
// within it read from its own GIN index (migration 23) and sorted, and
// handed to fn in windows, until fn returns false, the segments end
// (ended) or maxScanned matches were read. The work of a segment is the
// intersection of the text's posting lists within it, a part of the whole
// index's; a page of common words that many complaints have together
// reads one or a few segments.
func (s *Store) segmentCandidates(ctx context.Context, r runner,
	run func(plan, q string, a ...any) ([]textCandidate, []bool, int, error),
	tq string, keyCond func(key, from string) (string, []any), after string, limit, maxScanned int,
	fn func(batch []textCandidate) (bool, error)) (ended bool, reached string, err error) {
	read := 0
	for _, seg := range termSegments() {
		if seg[1] != "" && seg[1] <= after {
			continue // every key of it is before the cursor
		}
		if read >= maxScanned {
			return false, after, nil
		}
		cond, args := keyCond("queue_key", after)
		rows, _, _, err := run(textBitmap, `SELECT id, period, queue_key, true, 0 FROM complaint_terms
			WHERE terms @@ CAST(? AS tsquery) AND `+segmentPredicate(seg)+` AND `+cond, append([]any{tq}, args...)...)
		if err != nil {
			return false, after, err
		}
		read += len(rows)
		slices.SortFunc(rows, func(a, b textCandidate) int { return strings.Compare(a.key, b.key) })
		for start, n := 0, limit+1; start < len(rows); start, n = start+n, min(2*n, textMaxWindow) {
			if more, err := fn(rows[start:min(start+n, len(rows))]); err != nil || !more {
				return false, after, err
			}
		}
		if len(rows) > 0 {
			after = rows[len(rows)-1].key
		}
	}
	return true, after, nil
}

// textFiltered runs SELECT cols of the complaints among batch that pass f's
// other filters, in queue order, and calls row for each.
func textFiltered(ctx context.Context, r runner, f QueueFilter, batch []textCandidate, cols string, row func(*sql.Rows) error) error {
	// The status, if any, is tested on each candidate's row rather than
	// read from complaint_status: the candidates are few and their rows
	// are read anyway.
	from, key, cond, args := f.sql(false)
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
	if s.dialect != dialectPostgres {
		return s.listQueueTextSQLite(ctx, f, after, limit)
	}
	ts := terms.Query(f.Text)
	if len(ts) == 0 {
		return QueuePage{}, nil
	}
	_, key, _, _ := f.sql(false)
	var page QueuePage
	err := s.textRead(ctx, func(r runner) error {
		pr := pageRows{limit: limit}
		matched := 0
		ended, reached, err := s.textCandidates(ctx, r, ts, f, after, limit, textMaxScanned, func(batch []textCandidate) (bool, error) {
			err := textFiltered(ctx, r, f, batch, `c.status, c.body, c.created_at, c.updated_at, c.decided_at, c.decided_by, `+key, func(rows *sql.Rows) error {
				matched++
				return pr.add(rows)
			})
			return !pr.full, err
		})
		if err != nil {
			return err
		}
		page = pr.textPage(matched, ended, reached, after)
		return nil
	})
	if err != nil {
		return QueuePage{}, fmt.Errorf("store: list queue: text: %w", err)
	}
	return page, nil
}

// countQueueText is CountQueueUpTo with a text filter: the text's matches
// that pass the other filters, counted up to limit (then limit, capped);
// capped too when the walk read textCountScanned rows before the count was
// done (a lower bound). A rare text's matches are all counted (with the
// other filters, each probed); a common one's only as far as a page's
// walk goes.
func (s *Store) countQueueText(ctx context.Context, f QueueFilter, limit int) (n int64, capped bool, err error) {
	if !s.TextSearch() {
		return 0, false, errors.New("store: count queue: this store does not match text (QueueFilter.Text)")
	}
	if s.dialect != dialectPostgres {
		return s.countQueueTextSQLite(ctx, f, limit)
	}
	ts := terms.Query(f.Text)
	if len(ts) == 0 {
		return 0, false, nil
	}
	// The condition on the complaints: with complaint_status read for a
	// status (statusTable), the status is in the FROM clause and the
	// condition may be empty while the matches still need the test.
	_, _, fcond, _ := f.sql(false)
	err = s.textRead(ctx, func(r runner) error {
		n = 0
		// Windows sized for a page, and a few of them: a total costs
		// about what its page does, and is a lower bound past that.
		ended, _, err := s.textCandidates(ctx, r, ts, f, "", textCountPage, textCountScanned, func(batch []textCandidate) (bool, error) {
			if fcond == "1 = 1" {
				// Every match counts: no complaint to read.
				n += int64(len(batch))
				return n <= int64(limit), nil
			}
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
