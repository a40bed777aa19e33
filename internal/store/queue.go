package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// queueKeyRest is a complaint's queue key without its first character, the
// priority ('0' first, '1' after): the score descending as sixteen digits of
// (1 − score)·10¹⁵, the arrival in milliseconds as sixteen digits, then the
// id. Ascending order of the whole key is the review queue's order.
// Migration 9 computes the same string in SQL for the rows it finds.
func queueKeyRest(score float64, createdMillis int64, id string) string {
	inv := int64(math.Round((1 - score) * 1e15))
	return fmt.Sprintf("%016d%016d%s", max(inv, 0), max(createdMillis, 0), id)
}

// hasPriority is the SQL condition that a row of complaints comes first in
// the queue: its holder is a priority holder (holder_priority, migration
// 12), its seller is in a network with a strike (seller_priority, 14), or
// its listing has enough buyer reports (listing_priority, 15). The queue
// key's first character is '0' exactly when it holds; whatever changes one
// of the three re-keys the complaints it touches with it.
const hasPriority = `(EXISTS (SELECT 1 FROM holder_priority hp WHERE hp.holder_id = complaints.holder_id AND hp.priority > 0)
	OR EXISTS (SELECT 1 FROM seller_priority sp WHERE sp.seller_id = complaints.seller_id)
	OR EXISTS (SELECT 1 FROM listing_priority lp WHERE lp.listing_id = complaints.listing_id))`

// SetListingPriority puts the complaints of a listing first in the queue,
// now and when they arrive, and tells whether the listing had no priority
// before. Buyer reports raise it; nothing lowers it.
func (tx *Tx) SetListingPriority(ctx context.Context, listingID string) (bool, error) {
	res, err := tx.r.exec(ctx, `INSERT INTO listing_priority (listing_id, since) VALUES (?, ?)
		ON CONFLICT (listing_id) DO NOTHING`, listingID, millis(tx.now))
	if err != nil {
		return false, fmt.Errorf("store: listing priority %s: %w", listingID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.r.exec(ctx, `UPDATE complaints SET queue_key = '0' || substr(queue_key, 2)
		WHERE listing_id = ? AND substr(queue_key, 1, 1) <> '0'`, listingID); err != nil {
		return false, fmt.Errorf("store: listing priority %s: %w", listingID, err)
	}
	if err := tx.rekeyMatchers(ctx, "listing_id", listingID); err != nil {
		return false, fmt.Errorf("store: listing priority %s: %w", listingID, err)
	}
	return true, nil
}

// rekeyMatchers copies into complaint_matchers the queue keys of the
// complaints whose column (holder_id, seller_id or listing_id) is value,
// after a priority change re-keyed them: the matcher filter pages in the
// same order as the queue. Rows whose key did not change are not written.
// A join, not a lookup of each matcher row's complaint by id, which on
// PostgreSQL would probe every month's partition once a row.
//
// On PostgreSQL complaint_terms' copies too (migration 20), joined on the
// period as well, so that each row probes one partition.
func (tx *Tx) rekeyMatchers(ctx context.Context, column, value string) error {
	_, err := tx.r.exec(ctx, `UPDATE complaint_matchers SET queue_key = c.queue_key
		FROM complaints c
		WHERE c.`+column+` = ? AND complaint_matchers.complaint_id = c.id AND complaint_matchers.queue_key <> c.queue_key`, value)
	if err != nil || tx.r.dialect != dialectPostgres {
		return err
	}
	_, err = tx.r.exec(ctx, `UPDATE complaint_terms SET queue_key = c.queue_key
		FROM complaints c
		WHERE c.`+column+` = ? AND complaint_terms.id = c.id AND complaint_terms.period = c.period
			AND complaint_terms.queue_key <> c.queue_key`, value)
	return err
}

// QueueFilter selects complaints of the review queue. Every non-empty
// filter must hold; within one list any value may match. Zero values are
// no filter.
type QueueFilter struct {
	Status, Source, MarkID, HolderID, SellerID []string
	// Matcher keeps the complaints whose evidence names one of these
	// matchers (text, image, price, cue, seller, logo...; migration 17).
	Matcher []string `json:",omitempty"`
	// ListingID keeps the complaints about these listings.
	ListingID []string `json:",omitempty"`
	// Text keeps the complaints whose text has every term of it, as the
	// search index matches a text query (terms.Query against terms.Of; no
	// terms match nothing). Only where TextSearch: on PostgreSQL, from
	// complaint_terms (migration 20; see listQueueText). ListQueue and
	// CountQueueUpTo take it; QueueKeys does not.
	Text string `json:",omitempty"`
	// IDs, when not nil, keeps only these complaints: the full-text
	// search's matches, ordered and paged by the store. It is not part of
	// a cursor's fingerprint (the search's text is).
	IDs []string `json:"-"`
	// MinScore and MaxScore bound the score, both inclusive.
	MinScore, MaxScore *float64
	// CreatedAfter (inclusive) and CreatedBefore (exclusive) bound the
	// store arrival time.
	CreatedAfter, CreatedBefore time.Time
}

// QueueCountCap is where CountQueue stops counting rows: past it the count
// is a lower bound, so that a total never costs more than this many index
// entries.
const QueueCountCap = 10_000

// QueuePage is one page of ListQueue.
type QueuePage struct {
	Complaints []Complaint
	// After is the queue key of the last complaint, to pass as after for
	// the next page; empty when this is the last page.
	After string
	// Matched is, for a text filter, how many complaints the page's own
	// reads found to match it and the other filters: the page's, those
	// after it in the batches read, and those of earlier pages when the
	// page had no cursor. MatchedAll tells that this is every match (the
	// first page read to the end), so a total without a count of its own.
	Matched    int
	MatchedAll bool
}

// inList is "col IN (?, ...)" and its arguments.
func inList(col string, vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return col + " IN (?" + strings.Repeat(", ?", len(vals)-1) + ")", args
}

// sql is the FROM clause, the queue key column to order and page by, and
// the condition with its arguments of f in dialect d. The complaints are
// c. One matcher reads the matcher index m in its queue order (migration
// 17) and joins each row's complaint; several test each complaint for any
// of them. On PostgreSQL a status with no other filter but the score and
// arrival bounds reads complaint_status (migration 22), whose (status,
// queue_key) index no longer is one of complaints: one ordered index scan
// a status, merged in queue order when there are several. Its rows, named
// c too, have only id, period, queue_key and created_at: a query that
// needs more joins the complaints of the rows it keeps (eachQueueRange).
// With other filters the status is a test of each complaint their index
// finds. narrow tells that the store has complaint_status (statusTable).
func (f QueueFilter) sql(narrow bool) (from, key, cond string, args []any) {
	from, key = "complaints c", "c.queue_key"
	var conds []string
	add := func(c string, a ...any) { conds, args = append(conds, c), append(args, a...) }
	switch len(f.Matcher) {
	case 0:
	case 1:
		from, key = "complaint_matchers m JOIN complaints c ON c.id = m.complaint_id", "m.queue_key"
		add("m.matcher = ?", f.Matcher[0])
	default:
		in, a := inList("m.matcher", f.Matcher)
		add("EXISTS (SELECT 1 FROM complaint_matchers m WHERE m.complaint_id = c.id AND "+in+")", a...)
	}
	status := f.Status
	if f.narrow(narrow) {
		// The statuses are spelt out in the FROM clause, not parameters,
		// so that its arguments stay those of the condition: a status is
		// one of five words, quoted as a literal.
		var branches []string
		for _, st := range slices.Compact(slices.Sorted(slices.Values(f.Status))) {
			branches = append(branches, `SELECT id, period, queue_key, created_at FROM complaint_status WHERE status = `+quoteLiteral(st))
		}
		from = "(" + strings.Join(branches, " UNION ALL ") + ") c"
		status = nil
	}
	for _, c := range []struct {
		col  string
		vals []string
	}{
		{"c.status", status}, {"c.source", f.Source}, {"c.mark_id", f.MarkID},
		{"c.holder_id", f.HolderID}, {"c.seller_id", f.SellerID}, {"c.listing_id", f.ListingID},
	} {
		if len(c.vals) > 0 {
			in, a := inList(c.col, c.vals)
			add(in, a...)
		}
	}
	if f.IDs != nil {
		if len(f.IDs) == 0 {
			add("1 = 0")
		} else {
			in, a := inList("c.id", f.IDs)
			add(in, a...)
		}
	}
	// The score bounds are not here: they are ranges of the queue key
	// (keyRanges), which every query of f adds.
	// Arrival is kept in milliseconds: t ≥ a ⇔ ms ≥ ⌈a⌉ and t < b ⇔ ms < ⌈b⌉.
	ceilMillis := func(t time.Time) int64 {
		ms := t.UnixMilli()
		if t.Sub(time.UnixMilli(ms)) > 0 {
			ms++
		}
		return ms
	}
	if !f.CreatedAfter.IsZero() {
		add("c.created_at >= ?", ceilMillis(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		add("c.created_at < ?", ceilMillis(f.CreatedBefore))
	}
	if len(conds) == 0 {
		return from, key, "1 = 1", nil
	}
	return from, key, strings.Join(conds, " AND "), args
}

// narrow tells whether f's queries read complaint_status rather than
// complaints (sql), where statusTable says the store has it.
func (f QueueFilter) narrow(statusTable bool) bool {
	return statusTable && len(f.Status) > 0 && f.onlyStatus()
}

// statusSchema is the migration that made complaint_status (PostgreSQL).
const statusSchema = 22

// statusTable tells whether the store keeps complaint_status (migration
// 22, PostgreSQL), where the status lists and the oldest open complaint
// are read.
func (s *Store) statusTable() bool {
	return s.dialect == dialectPostgres && s.version >= statusSchema
}

// onlyStatus tells whether f has no filter that an index of complaints
// serves beside the status: the score and arrival bounds aside, nothing
// but the status.
func (f QueueFilter) onlyStatus() bool {
	return len(f.Matcher) == 0 && len(f.Source) == 0 && len(f.MarkID) == 0 && len(f.HolderID) == 0 &&
		len(f.SellerID) == 0 && len(f.ListingID) == 0 && f.IDs == nil
}

// quoteLiteral is s as a PostgreSQL string literal (standard conforming
// strings: a quote doubled).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// keyRanges are the ranges [lo, hi) of queue keys of the complaints within
// f's score bounds, one per priority ('0', then '1'), in queue order; nil
// without a score bound. Within a priority the key orders by score
// descending, so a score bound is a range of each index that ends in
// queue_key: the database reads only the entries of scores in bounds
// instead of walking the whole index to test each row's score. The range
// is the score test itself, at the key's resolution (scores that round to
// the same 10⁻¹⁵ as a bound are within it): a separate test of the score
// column made PostgreSQL count the bound's selectivity twice, expect few
// rows and read and sort the whole range instead of its first page.
func (f QueueFilter) keyRanges() [][2]string {
	if f.MinScore == nil && f.MaxScore == nil {
		return nil
	}
	// inv is the key's score digits of score, as queueKeyRest writes them.
	inv := func(score float64) int64 { return max(int64(math.Round((1-score)*1e15)), 0) }
	// Sixteen digits hold scores from about −9 to 1; a bound outside them
	// leaves that end of the range open (every key's digits sort after
	// "" and before "~").
	const digits = 1e16
	lo, hi := "", "~"
	if f.MaxScore != nil {
		if v := inv(*f.MaxScore); v > 0 && v < digits {
			lo = fmt.Sprintf("%016d", v)
		}
	}
	if f.MinScore != nil {
		if v := inv(*f.MinScore) + 1; v < digits {
			hi = fmt.Sprintf("%016d", v)
		}
	}
	return [][2]string{{"0" + lo, "0" + hi}, {"1" + lo, "1" + hi}}
}

// queueRanges are the key ranges each query of f runs over: f's keyRanges,
// without the first priority's when no complaint can have it (no holder,
// seller or listing has priority: whatever sets one re-keys its
// complaints with it, and whatever clears one re-keys them back), so that
// a score bound costs one query, not two, while nothing has priority; one
// unbounded range without a score bound.
func (s *Store) queueRanges(ctx context.Context, f QueueFilter) ([][2]string, error) {
	ranges := f.keyRanges()
	if ranges == nil {
		return [][2]string{{}}, nil
	}
	var prioritized int
	if err := s.read().queryRow(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM holder_priority WHERE priority > 0)
		OR EXISTS (SELECT 1 FROM seller_priority) OR EXISTS (SELECT 1 FROM listing_priority) THEN 1 ELSE 0 END`).Scan(&prioritized); err != nil {
		return nil, err
	}
	if prioritized == 0 {
		return ranges[1:], nil
	}
	return ranges, nil
}

// eachQueueRange runs the query SELECT cols FROM f ... ORDER BY the queue
// key, after the key after, once per key range of f (keyRanges) in queue
// order, until limit rows were read, and calls row for each. The ranges
// are disjoint and ordered, so the rows come in queue order.
func (s *Store) eachQueueRange(ctx context.Context, f QueueFilter, cols, after string, limit int, row func(*sql.Rows) error) error {
	from, key, cond, args := f.sql(s.statusTable())
	if after != "" {
		cond += " AND " + key + " > ?"
		args = append(args, after)
	}
	ranges, err := s.queueRanges(ctx, f)
	if err != nil {
		return err
	}
	read := 0
	for _, r := range ranges {
		if read >= limit {
			break
		}
		c, a := cond, slices.Clone(args)
		if r[0] != "" || r[1] != "" {
			c += " AND " + key + " >= ? AND " + key + " < ?"
			a = append(a, r[0], r[1])
		}
		a = append(a, limit-read)
		q := `SELECT ` + cols + ` FROM ` + from + ` WHERE ` + c + ` ORDER BY ` + key + ` LIMIT ?`
		if f.narrow(s.statusTable()) {
			// The page's keys from complaint_status, then their
			// complaints, each by its partition's primary key: as one
			// join, PostgreSQL prices a probe of every partition per row
			// and may hash the whole table instead. Several statuses are
			// a page of each, from its own range of the (status,
			// queue_key) index, merged: the union of them all would be
			// read whole and sorted.
			var branches []string
			var ba []any
			for _, st := range slices.Compact(slices.Sorted(slices.Values(f.Status))) {
				one := f
				one.Status = []string{st}
				bfrom, _, _, _ := one.sql(true)
				branches = append(branches, `(SELECT c.id, c.period, c.queue_key FROM `+bfrom+` WHERE `+c+` ORDER BY `+key+` LIMIT ?)`)
				ba = append(ba, a...)
			}
			q = `WITH k AS MATERIALIZED (SELECT * FROM (` + strings.Join(branches, ` UNION ALL `) + `) u ORDER BY queue_key LIMIT ?)
				SELECT ` + cols + ` FROM k JOIN complaints c ON c.id = k.id AND c.period = k.period ORDER BY k.queue_key`
			a = append(ba, limit-read)
		}
		rows, err := s.read().query(ctx, q, a...)
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

// ListQueue returns up to limit complaints of f in queue order (priority,
// then score descending, then arrival, then id) after the queue key after
// (from the start when empty). It is a keyset page: with any single filter
// the database walks the index of that filter and queue_key (migrations 12
// and 13) from after and reads limit+1 rows, whatever the size of the
// queue; a score bound narrows that walk to the bound's key ranges.
func (s *Store) ListQueue(ctx context.Context, f QueueFilter, after string, limit int) (QueuePage, error) {
	if limit < 1 {
		return QueuePage{}, fmt.Errorf("store: list queue: limit %d", limit)
	}
	if f.Text != "" {
		return s.listQueueText(ctx, f, after, limit)
	}
	_, key, _, _ := f.sql(s.statusTable())
	pr := pageRows{limit: limit}
	if err := s.eachQueueRange(ctx, f, `c.status, c.body, c.created_at, c.updated_at, c.decided_at, c.decided_by, `+key, after, limit+1, pr.add); err != nil {
		return QueuePage{}, fmt.Errorf("store: list queue: %w", err)
	}
	return pr.page(), nil
}

// QueueEntry is a complaint's place in the queue.
type QueueEntry struct {
	ID, Key string
}

// QueueKeys is ListQueue without the complaints: up to limit ids and queue
// keys of f in queue order after the key after, read from the indexes
// alone where the filter allows. The full-text search walks the queue with
// it and tests each batch against the text index.
func (s *Store) QueueKeys(ctx context.Context, f QueueFilter, after string, limit int) ([]QueueEntry, error) {
	if limit < 1 {
		return nil, fmt.Errorf("store: queue keys: limit %d", limit)
	}
	if f.Text != "" {
		return nil, fmt.Errorf("store: queue keys: a text filter is for ListQueue and CountQueueUpTo")
	}
	_, key, _, _ := f.sql(s.statusTable())
	out := make([]QueueEntry, 0, limit)
	err := s.eachQueueRange(ctx, f, `c.id, `+key, after, limit, func(rows *sql.Rows) error {
		var e QueueEntry
		if err := rows.Scan(&e.ID, &e.Key); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue keys: %w", err)
	}
	return out, nil
}

// CountKept tells whether the count of f is kept by triggers
// (complaint_counts, complaint_matcher_counts): f filters on nothing but
// status, source, holder and at most one matcher. CountQueueUpTo then
// reads a few rows; otherwise it reads up to its limit of index entries.
func (f QueueFilter) CountKept() bool {
	return len(f.MarkID) == 0 && len(f.SellerID) == 0 && len(f.ListingID) == 0 && f.IDs == nil && f.Text == "" && f.MinScore == nil && f.MaxScore == nil &&
		f.CreatedAfter.IsZero() && f.CreatedBefore.IsZero() && len(f.Matcher) <= 1
}

// CountQueue counts the complaints of f: CountQueueUpTo with
// QueueCountCap.
func (s *Store) CountQueue(ctx context.Context, f QueueFilter) (n int64, estimated bool, err error) {
	return s.CountQueueUpTo(ctx, f, QueueCountCap)
}

// CountQueueUpTo counts the complaints of f. When f filters on nothing but
// status, source, holder and at most one matcher, the count is exact and
// reads the trigger-kept complaint_counts (migration 12) or
// complaint_matcher_counts (migration 17), a few rows; otherwise the rows
// are counted up to limit, and past it the count is limit and capped is
// true (a lower bound).
func (s *Store) CountQueueUpTo(ctx context.Context, f QueueFilter, limit int) (n int64, capped bool, err error) {
	if f.Text != "" {
		return s.countQueueText(ctx, f, limit)
	}
	if f.CountKept() {
		table, conds, args := "complaint_counts", []string{"1 = 1"}, []any{}
		if len(f.Matcher) == 1 {
			table = "complaint_matcher_counts"
			conds, args = append(conds, "matcher = ?"), append(args, f.Matcher[0])
		}
		for _, c := range []struct {
			col  string
			vals []string
		}{{"status", f.Status}, {"source", f.Source}, {"holder_id", f.HolderID}} {
			if len(c.vals) > 0 {
				in, a := inList(c.col, c.vals)
				conds, args = append(conds, in), append(args, a...)
			}
		}
		if err := s.read().queryRow(ctx, `SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM `+table+` WHERE `+strings.Join(conds, " AND "), args...).Scan(&n); err != nil {
			return 0, false, fmt.Errorf("store: count queue: %w", err)
		}
		return n, false, nil
	}
	from, key, cond, args := f.sql(s.statusTable())
	// Through the matcher index the rows are read in its order, so that
	// the count probes a complaint per row up to the cap; unordered,
	// PostgreSQL may merge-join on the complaints' primary key and read
	// many more complaints than the cap. A score bound counts within its
	// key ranges (keyRanges), so that a rare bound reads few entries.
	order := ""
	if len(f.Matcher) == 1 {
		order = ` ORDER BY ` + key
	}
	ranges, err := s.queueRanges(ctx, f)
	if err != nil {
		return 0, false, fmt.Errorf("store: count queue: %w", err)
	}
	for _, r := range ranges {
		if n > int64(limit) {
			break
		}
		c, a := cond, slices.Clone(args)
		if r[0] != "" || r[1] != "" {
			c += " AND " + key + " >= ? AND " + key + " < ?"
			a = append(a, r[0], r[1])
		}
		a = append(a, int64(limit)+1-n)
		var m int64
		if err := s.read().queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+from+` WHERE `+c+order+` LIMIT ?) capped`, a...).Scan(&m); err != nil {
			return 0, false, fmt.Errorf("store: count queue: %w", err)
		}
		n += m
	}
	if n > int64(limit) {
		return int64(limit), true, nil
	}
	return n, false, nil
}

// SetPriorityHolders makes holders exactly the holders whose complaints
// come first in the queue, re-keying the complaints of each holder whose
// priority changed (an index range per holder) in one transaction. It
// writes nothing when the set is unchanged, so the search index calls it on
// every catch-up; replicas that call it at once agree, since the result
// depends only on holders.
func (s *Store) SetPriorityHolders(ctx context.Context, holders []string) error {
	want := make(map[string]bool, len(holders))
	for _, h := range holders {
		want[h] = true
	}
	have, err := s.priorityHolders(ctx, s.read())
	if err != nil {
		return err
	}
	if maps.Equal(have, want) {
		return nil
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		have, err := s.priorityHolders(ctx, tx.r)
		if err != nil {
			return err
		}
		var changed []string
		for h := range want {
			if !have[h] {
				changed = append(changed, h)
			}
		}
		for h := range have {
			if !want[h] {
				changed = append(changed, h)
			}
		}
		slices.Sort(changed)
		for _, h := range changed {
			prefix := "1"
			if want[h] {
				prefix = "0"
				if _, err := tx.r.exec(ctx, `INSERT INTO holder_priority (holder_id, priority) VALUES (?, 1)
					ON CONFLICT (holder_id) DO UPDATE SET priority = 1`, h); err != nil {
					return err
				}
			} else if _, err := tx.r.exec(ctx, `DELETE FROM holder_priority WHERE holder_id = ?`, h); err != nil {
				return err
			}
			// A complaint whose seller or listing has priority
			// (migrations 14, 15) keeps it when its holder loses its own.
			if _, err := tx.r.exec(ctx, `UPDATE complaints SET queue_key = ? || substr(queue_key, 2)
				WHERE holder_id = ? AND substr(queue_key, 1, 1) <> ?
				AND (? = '0' OR NOT `+hasPriority+`)`,
				prefix, h, prefix, prefix); err != nil {
				return err
			}
			// The matcher index's copies of the keys (migration 17).
			if err := tx.rekeyMatchers(ctx, "holder_id", h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set priority holders: %w", err)
	}
	return nil
}

func (s *Store) priorityHolders(ctx context.Context, r runner) (map[string]bool, error) {
	rows, err := r.query(ctx, `SELECT holder_id FROM holder_priority WHERE priority > 0`)
	if err != nil {
		return nil, fmt.Errorf("store: priority holders: %w", err)
	}
	defer rows.Close()
	out := make(map[string]bool)
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("store: priority holders: %w", err)
		}
		out[h] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: priority holders: %w", err)
	}
	return out, nil
}
