package store

import (
	"context"
	"fmt"
)

// MarkComplaints is one mark's complaints by status.
type MarkComplaints struct {
	MarkID   string
	ByStatus map[string]int
}

// BusiestMarks returns the n marks with the most open complaints (ties by
// mark id), most first, each with all its complaints by status (every
// status present, zero included). Marks with no open complaint are never
// among them. It bounds the per-mark metrics: n series per status however
// many marks are watched.
func (s *Store) BusiestMarks(ctx context.Context, n int) ([]MarkComplaints, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.read().query(ctx, `SELECT mark_id, COUNT(*) AS open FROM complaints
		WHERE status = ? GROUP BY mark_id ORDER BY open DESC, mark_id LIMIT ?`, ComplaintOpen, n)
	if err != nil {
		return nil, fmt.Errorf("store: busiest marks: %w", err)
	}
	defer rows.Close()
	var out []MarkComplaints
	for rows.Next() {
		var (
			id   string
			open int
		)
		if err := rows.Scan(&id, &open); err != nil {
			return nil, fmt.Errorf("store: busiest marks: %w", err)
		}
		out = append(out, MarkComplaints{MarkID: id, ByStatus: map[string]int{
			ComplaintOpen: open, ComplaintUpheld: 0, ComplaintRejected: 0, ComplaintContested: 0, ComplaintReinstated: 0,
		}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: busiest marks: %w", err)
	}
	rows.Close()
	// The other statuses of those marks, one indexed lookup per mark
	// (complaints_mark_id), rather than a scan of every decided complaint.
	for i := range out {
		err := func() error {
			rows, err := s.read().query(ctx, `SELECT status, COUNT(*) FROM complaints
				WHERE mark_id = ? AND status <> ? GROUP BY status`, out[i].MarkID, ComplaintOpen)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					status string
					k      int
				)
				if err := rows.Scan(&status, &k); err != nil {
					return err
				}
				out[i].ByStatus[status] = k
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("store: busiest marks: mark %s: %w", out[i].MarkID, err)
		}
	}
	return out, nil
}
