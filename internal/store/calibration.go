package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// CalibrationComplaint is an automatic complaint as calibration sees it:
// its score, its review status and the matchers of its evidence.
type CalibrationComplaint struct {
	Score    float64
	Status   string
	Matchers []string
	// References are the reference images and variants its evidence
	// matched, as "image:<url>" and "variant:<phrase>", each once: what
	// the flood quarantine attributes a complaint to.
	References []string
	CreatedAt  time.Time
}

// CalibrationComplaints returns the automatic complaints (sources auto and
// sweep: the ones a threshold filed) of a mark received at or after since,
// newest first, at most limit of them. It reads only what calibration
// needs; the evidence is taken from each complaint's body.
func (s *Store) CalibrationComplaints(ctx context.Context, markID string, since time.Time, limit int) ([]CalibrationComplaint, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read().query(ctx, `SELECT score, status, body, created_at FROM complaints
		WHERE mark_id = ? AND source IN (?, ?) AND created_at >= ?
		ORDER BY created_at DESC, id LIMIT ?`,
		markID, domain.SourceAuto, domain.SourceSweep, millis(since), limit)
	if err != nil {
		return nil, fmt.Errorf("store: calibration complaints of mark %s: %w", markID, err)
	}
	defer rows.Close()
	var out []CalibrationComplaint
	for rows.Next() {
		var (
			c       CalibrationComplaint
			body    string
			created int64
		)
		if err := rows.Scan(&c.Score, &c.Status, &body, &created); err != nil {
			return nil, fmt.Errorf("store: calibration complaints of mark %s: %w", markID, err)
		}
		// Only the evidence's matchers are wanted; decoding into a
		// narrow struct skips the listing snapshot and the rest.
		var ev struct {
			Evidence []struct {
				Matcher   string `json:"matcher"`
				Reference string `json:"reference"`
			} `json:"evidence"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return nil, fmt.Errorf("store: calibration complaints of mark %s: decode body: %w", markID, err)
		}
		for _, e := range ev.Evidence {
			if e.Matcher != "" {
				c.Matchers = append(c.Matchers, e.Matcher)
			}
			if ref := evidenceReference(e.Matcher, e.Reference); ref != "" && !slices.Contains(c.References, ref) {
				c.References = append(c.References, ref)
			}
		}
		c.CreatedAt = fromMillis(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: calibration complaints of mark %s: %w", markID, err)
	}
	return out, nil
}

// evidenceReference is the quarantine key of a piece of evidence's
// reference: image matches by their reference image, text matches by the
// name or variant; "" for the rest.
func evidenceReference(matcher, ref string) string {
	if ref == "" {
		return ""
	}
	switch matcher {
	case "image":
		return domain.QuarantineImage + ":" + ref
	case "text":
		return domain.QuarantineVariant + ":" + ref
	}
	return ""
}
