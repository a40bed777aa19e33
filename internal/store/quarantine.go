package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// MarkComplaintRate is what the flood quarantine reads of one mark's
// automatic complaints (sources auto and sweep): how many arrived in the
// recent window and in the baseline before it, and, of those filed in the
// precision window, how many were decided and how many upheld.
type MarkComplaintRate struct {
	MarkID   string
	Recent   int
	Baseline int
	Decided  int
	Upheld   int
}

// RateWindows are the windows of ComplaintRates, as start times: recent
// is [Recent, now), the baseline [Baseline, Recent), the precision window
// [Precision, now).
type RateWindows struct {
	Recent, Baseline, Precision time.Time
}

// ComplaintRates returns, per mark with automatic complaints since the
// earliest window start, the counts of MarkComplaintRate. A complaint
// stands as upheld while upheld or contested, and as not upheld when
// rejected or reinstated, as in calibration.
func (s *Store) ComplaintRates(ctx context.Context, w RateWindows) ([]MarkComplaintRate, error) {
	from := min(millis(w.Baseline), millis(w.Precision))
	recent, base, prec := millis(w.Recent), millis(w.Baseline), millis(w.Precision)
	rows, err := s.read().query(ctx, `SELECT mark_id,
			SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN created_at >= ? AND created_at < ? THEN 1 ELSE 0 END),
			SUM(CASE WHEN created_at >= ? AND status IN (?, ?, ?, ?) THEN 1 ELSE 0 END),
			SUM(CASE WHEN created_at >= ? AND status IN (?, ?) THEN 1 ELSE 0 END)
		FROM complaints WHERE source IN (?, ?) AND created_at >= ?
		GROUP BY mark_id ORDER BY mark_id`,
		recent, base, recent,
		prec, ComplaintUpheld, ComplaintContested, ComplaintRejected, ComplaintReinstated,
		prec, ComplaintUpheld, ComplaintContested,
		domain.SourceAuto, domain.SourceSweep, from)
	if err != nil {
		return nil, fmt.Errorf("store: complaint rates: %w", err)
	}
	defer rows.Close()
	var out []MarkComplaintRate
	for rows.Next() {
		var r MarkComplaintRate
		if err := rows.Scan(&r.MarkID, &r.Recent, &r.Baseline, &r.Decided, &r.Upheld); err != nil {
			return nil, fmt.Errorf("store: complaint rates: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: complaint rates: %w", err)
	}
	return out, nil
}

// SetMarkQuarantines replaces the mark's quarantines (history included)
// and returns the mark at its next version. The caller publishes the mark
// (EnqueueMark) when it is active, in the same transaction.
func (tx *Tx) SetMarkQuarantines(ctx context.Context, id string, qs []domain.Quarantine) (Mark, error) {
	return tx.updateMark(ctx, "set mark "+id+" quarantines", id, func(m *domain.Mark) error {
		m.Quarantines = qs
		return m.Validate(domain.Limits{})
	})
}

// EnqueueMark puts the mark's current version in the outbox for the
// compacted marks topic: its body when active, a tombstone otherwise. The
// event id is the mark's id and version, so each version is published
// once.
func (tx *Tx) EnqueueMark(ctx context.Context, topic string, m *Mark) error {
	var payload json.RawMessage
	if m.Body.Active() {
		var err error
		if payload, err = json.Marshal(&m.Body); err != nil {
			return fmt.Errorf("store: encode mark %s: %w", m.Body.MarkID, err)
		}
	}
	_, err := tx.EnqueueEvent(ctx, OutboxEvent{
		EventID: "mark:" + m.Body.MarkID + ":" + strconv.FormatInt(m.Version, 10),
		Topic:   topic, Key: m.Body.MarkID, Payload: payload,
	})
	return err
}
