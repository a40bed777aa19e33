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
// many marks are watched. It reads complaint_mark_counts (migration 19),
// kept by triggers as complaints change: n index entries and the other
// statuses of those n marks, whatever the size of the table, so that a
// Prometheus scrape costs the same at five million complaints as at none.
func (s *Store) BusiestMarks(ctx context.Context, n int) ([]MarkComplaints, error) {
	if n <= 0 {
		return nil, nil
	}
	r := s.read()
	rows, err := r.query(ctx, `SELECT mark_id, n FROM complaint_mark_counts
		WHERE status = ? AND n > 0 ORDER BY n DESC, mark_id LIMIT ?`, ComplaintOpen, n)
	if err != nil {
		return nil, fmt.Errorf("store: busiest marks: %w", err)
	}
	defer rows.Close()
	var out []MarkComplaints
	index := map[string]int{}
	for rows.Next() {
		var (
			id   string
			open int
		)
		if err := rows.Scan(&id, &open); err != nil {
			return nil, fmt.Errorf("store: busiest marks: %w", err)
		}
		index[id] = len(out)
		out = append(out, MarkComplaints{MarkID: id, ByStatus: map[string]int{
			ComplaintOpen: open, ComplaintUpheld: 0, ComplaintRejected: 0, ComplaintContested: 0, ComplaintReinstated: 0,
		}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: busiest marks: %w", err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	// The other statuses of those marks, from the same table.
	ids := make([]string, len(out))
	for i, m := range out {
		ids[i] = m.MarkID
	}
	in, args := inList("mark_id", ids)
	rows, err = r.query(ctx, `SELECT mark_id, status, n FROM complaint_mark_counts WHERE `+in+` AND status <> ?`,
		append(args, ComplaintOpen)...)
	if err != nil {
		return nil, fmt.Errorf("store: busiest marks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, status string
			k          int
		)
		if err := rows.Scan(&id, &status, &k); err != nil {
			return nil, fmt.Errorf("store: busiest marks: %w", err)
		}
		out[index[id]].ByStatus[status] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: busiest marks: %w", err)
	}
	return out, nil
}
