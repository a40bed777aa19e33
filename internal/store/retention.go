package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RetentionPolicy says what ApplyRetention deletes. A zero time deletes
// nothing of its kind.
type RetentionPolicy struct {
	// DecidedBefore: a decided complaint (upheld, rejected or reinstated)
	// that arrived in a month that ended by the start of this time's month
	// is deleted with its claims and messages, unless a strike or a
	// counter-notice still refers to it (those keep it, however old, until
	// their own retention deletes them). Open and contested complaints are
	// never deleted.
	DecidedBefore time.Time
	// RecordsBefore: strikes that expired before it, counter-notices
	// closed (reinstated or decided) before it, and audit entries of the
	// months that ended by the start of its month are deleted.
	RecordsBefore time.Time
	// Batch is how many rows one deleting transaction takes where rows
	// are deleted one by one; 1000 when zero.
	Batch int
}

// RetentionResult is what one ApplyRetention deleted.
type RetentionResult struct {
	// Complaints, Strikes, CounterNotices and Audit count deleted rows.
	Complaints, Strikes, CounterNotices, Audit int64
	// Kept counts complaints past their retention that a strike or
	// counter-notice keeps, moved to complaints_kept as their month was
	// dropped (PostgreSQL).
	Kept int64
	// PartitionsDropped counts the partitions dropped whole (PostgreSQL).
	PartitionsDropped int
}

// decidedStatuses are the statuses whose complaints retention may delete.
var decidedStatuses = []string{ComplaintUpheld, ComplaintRejected, ComplaintReinstated}

// ApplyRetention deletes what p says has been kept long enough. Both stores
// delete the same rows: the complaint and audit cut-offs are rounded down
// to the start of a month, the partition boundary on PostgreSQL, where a
// month of complaints (its kept complaints moved to complaints_kept first)
// or of audit is dropped whole in one short transaction. What cannot go
// by partition — every row on SQLite, strikes and counter-notices, kept
// complaints that have lost their reason — is deleted in transactions of
// at most p.Batch rows, so that neither store holds a long write lock and
// PostgreSQL's vacuum keeps up. It stops at the first error, returning
// what it had deleted.
func (s *Store) ApplyRetention(ctx context.Context, p RetentionPolicy) (RetentionResult, error) {
	if p.Batch <= 0 {
		p.Batch = 1000
	}
	var res RetentionResult
	err := s.applyRetention(ctx, p, &res)
	if err != nil {
		return res, fmt.Errorf("store: retention: %w", err)
	}
	return res, nil
}

func (s *Store) applyRetention(ctx context.Context, p RetentionPolicy, res *RetentionResult) error {
	var err error
	if !p.RecordsBefore.IsZero() {
		cut := millis(p.RecordsBefore)
		if res.Strikes, err = s.deleteBatches(ctx, p.Batch,
			`SELECT id FROM strikes WHERE expires_at < ? LIMIT ?`, []any{cut},
			`DELETE FROM strikes WHERE id IN (%s)`); err != nil {
			return fmt.Errorf("strikes: %w", err)
		}
		if res.CounterNotices, err = s.deleteBatches(ctx, p.Batch,
			`SELECT complaint_id FROM counter_notices WHERE state IN (?, ?) AND updated_at < ? LIMIT ?`,
			[]any{CounterNoticeReinstated, CounterNoticeDecided, cut},
			`DELETE FROM counter_notices WHERE complaint_id IN (%s)`); err != nil {
			return fmt.Errorf("counter-notices: %w", err)
		}
	}
	if !p.DecidedBefore.IsZero() {
		if err := s.retainComplaints(ctx, periodOf(millis(p.DecidedBefore)), p.Batch, res); err != nil {
			return fmt.Errorf("complaints: %w", err)
		}
	}
	if !p.RecordsBefore.IsZero() {
		if err := s.retainAudit(ctx, periodOf(millis(p.RecordsBefore)), p.Batch, res); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// deleteBatches runs pick (with its args and the batch size last) for keys,
// then del with the keys in its IN list, one transaction per batch, until
// pick finds fewer than batch, and returns how many rows del deleted.
func (s *Store) deleteBatches(ctx context.Context, batch int, pick string, args []any, del string) (int64, error) {
	var total int64
	for {
		var n, found int64
		err := s.WithTx(ctx, func(tx *Tx) error {
			keys, err := tx.r.column(ctx, pick, append(args[:len(args):len(args)], batch)...)
			if err != nil || len(keys) == 0 {
				return err
			}
			found = int64(len(keys))
			r, err := tx.r.exec(ctx, fmt.Sprintf(del, placeholders(len(keys))), keys...)
			if err != nil {
				return err
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if found < int64(batch) {
			return total, nil
		}
	}
}

// retainComplaints deletes the decided complaints that arrived before the
// start of period cut and that no strike or counter-notice refers to.
func (s *Store) retainComplaints(ctx context.Context, cut int, batch int, res *RetentionResult) error {
	if s.partitioned() {
		parts, err := s.Partitions(ctx)
		if err != nil {
			return err
		}
		for _, pt := range parts {
			if pt.Table != "complaints" || pt.Period == periodKept || nextPeriod(pt.Period) > cut {
				continue
			}
			if err := s.dropComplaintPeriod(ctx, pt, res); err != nil {
				return fmt.Errorf("drop %s: %w", pt.Name, err)
			}
		}
	}
	// What is left past the cut-off: every complaint on SQLite, and on
	// PostgreSQL the kept complaints whose strike or counter-notice has
	// gone since. One status at a time, walking its arrival index from a
	// cursor, so that complaints kept by a strike are passed once, not
	// read again by every batch.
	before := millis(periodStart(cut))
	for _, status := range decidedStatuses {
		cursor := int64(-1 << 62)
		for {
			var ids []string
			var last int64
			err := s.WithTx(ctx, func(tx *Tx) error {
				rows, err := tx.r.query(ctx, `SELECT id, created_at FROM complaints c
					WHERE status = ? AND created_at >= ? AND created_at < ?
						AND NOT EXISTS (SELECT 1 FROM strikes s WHERE s.complaint_id = c.id)
						AND NOT EXISTS (SELECT 1 FROM counter_notices n WHERE n.complaint_id = c.id)
					ORDER BY created_at LIMIT ?`, status, cursor, before, batch)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var id string
					if err := rows.Scan(&id, &last); err != nil {
						return err
					}
					ids = append(ids, id)
				}
				if err := rows.Err(); err != nil || len(ids) == 0 {
					return err
				}
				n, err := tx.r.deleteComplaints(ctx, ids)
				res.Complaints += n
				return err
			})
			if err != nil {
				return err
			}
			if len(ids) < batch {
				break
			}
			cursor = last
		}
	}
	return nil
}

// deleteComplaints deletes the complaints ids with what hangs on them
// (claims, messages, matcher rows, and on PostgreSQL their full-text
// terms and complaint_ids rows); the complaint_counts and complaint_matcher_counts triggers count
// them out. The caller has checked that no
// strike or counter-notice refers to them.
func (r runner) deleteComplaints(ctx context.Context, ids []string) (int64, error) {
	in, args := placeholders(len(ids)), anys(ids)
	for _, q := range []string{`DELETE FROM claims WHERE complaint_id IN (%s)`, `DELETE FROM complaint_messages WHERE complaint_id IN (%s)`} {
		if _, err := r.exec(ctx, fmt.Sprintf(q, in), args...); err != nil {
			return 0, err
		}
	}
	res, err := r.exec(ctx, fmt.Sprintf(`DELETE FROM complaints WHERE id IN (%s)`, in), args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	// After the complaints, whose delete triggers read these rows to count
	// them out of complaint_matcher_counts.
	if _, err := r.exec(ctx, fmt.Sprintf(`DELETE FROM complaint_matchers WHERE complaint_id IN (%s)`, in), args...); err != nil {
		return 0, err
	}
	if r.dialect == dialectPostgres {
		for _, q := range []string{`DELETE FROM complaint_terms WHERE id IN (%s)`, `DELETE FROM complaint_ids WHERE id IN (%s)`} {
			if _, err := r.exec(ctx, fmt.Sprintf(q, in), args...); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// dropComplaintPeriod drops the partition pt of complaints in one
// transaction: the complaints a strike or counter-notice refers to, and
// those not decided yet, move to complaints_kept; the rest are counted out
// of complaint_counts, complaint_mark_counts and complaint_matcher_counts,
// their claims, messages, matcher rows, full-text terms and ids deleted, and the partition
// dropped, which costs the same whatever it holds and leaves nothing for
// vacuum.
func (s *Store) dropComplaintPeriod(ctx context.Context, pt Partition, res *RetentionResult) error {
	var kept, gone int64
	err := s.WithTx(ctx, func(tx *Tx) error {
		const keep = `(status NOT IN (?, ?, ?)
			OR EXISTS (SELECT 1 FROM strikes s WHERE s.complaint_id = complaints.id)
			OR EXISTS (SELECT 1 FROM counter_notices n WHERE n.complaint_id = complaints.id))`
		name := pgIdent(pt.Name)
		// complaint_ids says where the kept complaints go (migration 19)
		// before they move.
		if _, err := tx.r.exec(ctx, `UPDATE complaint_ids SET period = ? WHERE id IN (SELECT id FROM `+name+` complaints WHERE `+keep+`)`,
			periodKept, decidedStatuses[0], decidedStatuses[1], decidedStatuses[2]); err != nil {
			return fmt.Errorf("keep ids: %w", err)
		}
		// And so do their full-text terms (migration 20).
		if _, err := tx.r.exec(ctx, `UPDATE complaint_terms SET period = ? WHERE id IN (SELECT id FROM `+name+` complaints WHERE `+keep+`)`,
			periodKept, decidedStatuses[0], decidedStatuses[1], decidedStatuses[2]); err != nil {
			return fmt.Errorf("keep terms: %w", err)
		}
		r, err := tx.r.exec(ctx, `UPDATE complaints SET period = ? WHERE period = ? AND `+keep,
			periodKept, pt.Period, decidedStatuses[0], decidedStatuses[1], decidedStatuses[2])
		if err != nil {
			return fmt.Errorf("keep: %w", err)
		}
		if kept, err = r.RowsAffected(); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM claims WHERE complaint_id IN (SELECT id FROM ` + name + `)`,
			`DELETE FROM complaint_messages WHERE complaint_id IN (SELECT id FROM ` + name + `)`,
			`UPDATE complaint_counts c SET n = c.n - d.n
				FROM (SELECT holder_id, source, status, COUNT(*) AS n FROM ` + name + ` GROUP BY holder_id, source, status) d
				WHERE c.holder_id = d.holder_id AND c.source = d.source AND c.status = d.status`,
			`UPDATE complaint_mark_counts c SET n = c.n - d.n
				FROM (SELECT mark_id, status, COUNT(*) AS n FROM ` + name + ` GROUP BY mark_id, status) d
				WHERE c.mark_id = d.mark_id AND c.status = d.status`,
			`UPDATE complaint_matcher_counts c SET n = c.n - d.n
				FROM (SELECT m.matcher, p.holder_id, p.source, p.status, COUNT(*) AS n
					FROM ` + name + ` p JOIN complaint_matchers m ON m.complaint_id = p.id
					GROUP BY m.matcher, p.holder_id, p.source, p.status) d
				WHERE c.matcher = d.matcher AND c.holder_id = d.holder_id AND c.source = d.source AND c.status = d.status`,
			`DELETE FROM complaint_matchers WHERE complaint_id IN (SELECT id FROM ` + name + `)`,
			`DELETE FROM complaint_terms WHERE id IN (SELECT id FROM ` + name + `)`,
			// Dropping the partition fires no trigger (migration 22).
			`DELETE FROM complaint_status WHERE id IN (SELECT id FROM ` + name + `)`,
		} {
			if _, err := tx.r.exec(ctx, q); err != nil {
				return err
			}
		}
		r, err = tx.r.exec(ctx, `DELETE FROM complaint_ids WHERE id IN (SELECT id FROM `+name+`)`)
		if err != nil {
			return err
		}
		if gone, err = r.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.r.exec(ctx, `DROP TABLE `+name)
		return err
	})
	if err != nil {
		return err
	}
	s.parts.forget(pt.Period)
	res.Kept += kept
	res.Complaints += gone
	res.PartitionsDropped++
	return nil
}

// retainAudit deletes the audit entries of the months before period cut:
// their partitions on PostgreSQL, batches of rows on SQLite.
func (s *Store) retainAudit(ctx context.Context, cut int, batch int, res *RetentionResult) error {
	if !s.partitioned() {
		n, err := s.deleteBatches(ctx, batch, `SELECT id FROM audit_log WHERE at < ? ORDER BY at LIMIT ?`,
			[]any{millis(periodStart(cut))}, `DELETE FROM audit_log WHERE id IN (%s)`)
		res.Audit += n
		return err
	}
	parts, err := s.Partitions(ctx)
	if err != nil {
		return err
	}
	for _, pt := range parts {
		if pt.Table != "audit_log" || pt.Period == 0 || nextPeriod(pt.Period) > cut {
			continue
		}
		var n int64
		err := s.WithTx(ctx, func(tx *Tx) error {
			if err := tx.r.queryRow(ctx, `SELECT COUNT(*) FROM `+pgIdent(pt.Name)).Scan(&n); err != nil {
				return err
			}
			_, err := tx.r.exec(ctx, `DROP TABLE `+pgIdent(pt.Name))
			return err
		})
		if err != nil {
			return fmt.Errorf("drop %s: %w", pt.Name, err)
		}
		s.parts.forget(pt.Period)
		res.Audit += n
		res.PartitionsDropped++
	}
	return nil
}

// pgIdent quotes a PostgreSQL identifier.
func pgIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// anys converts strings into query arguments.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// column runs query and returns its single column's values as scanned,
// to pass back as arguments.
func (r runner) column(ctx context.Context, query string, args ...any) ([]any, error) {
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
