package api

// Calibration from decisions: GET /v1/marks/{id}/calibration shows how the
// mark's automatic complaints fared in review, with the threshold the
// decisions recommend; POST /v1/marks/{id}/threshold is how an admin
// applies one. Nothing changes a threshold by itself: the recommendation
// is advice, and the change is an audited act that reaches the detectors
// through the marks topic like every other change of the mark.

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/calibration"
	"github.com/markwatch/markwatch/internal/store"
)

// calibrationMaxComplaints bounds the complaints one calibration reads:
// the newest of the window, enough for any threshold to rest on, and a
// bounded cost for a mark with a flood of them.
const calibrationMaxComplaints = 50_000

// calibrationParams are the query parameters GET
// /v1/marks/{id}/calibration accepts.
var calibrationParams = []string{"days"}

// calibrationResponse is a mark's calibration.
type calibrationResponse struct {
	MarkID string `json:"mark_id"`
	// Threshold is the mark's own threshold; absent when the detectors'
	// default applies.
	Threshold    *float64 `json:"threshold,omitempty"`
	Version      int64    `json:"version"`
	Target       float64  `json:"target"`
	MinDecisions int      `json:"min_decisions"`
	WindowDays   int      `json:"window_days"`
	// Truncated: the window held more automatic complaints than one
	// calibration reads; the newest were used.
	Truncated bool               `json:"truncated"`
	Report    calibration.Report `json:"calibration"`
}

// thresholdRequest is the body of POST /v1/marks/{id}/threshold.
type thresholdRequest struct {
	// Threshold is the mark's new complaint threshold, in (0, 1].
	Threshold float64 `json:"threshold"`
	// Reason is why, for the audit log; required.
	Reason string `json:"reason"`
	// Version is the mark version the admin calibrated; when given, a
	// mark changed since is a 409 rather than a threshold chosen for
	// another state of it.
	Version *int64 `json:"version,omitempty"`
}

func (a *API) markCalibration(w http.ResponseWriter, r *request) error {
	o := a.calibration
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(calibrationParams, k) {
			return badRequest("query parameter %s: unknown; want one of %s", k, strings.Join(calibrationParams, ", "))
		}
		if len(q[k]) > 1 {
			return badRequest("query parameter %s: given more than once", k)
		}
	}
	if v := q.Get("days"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 || days > 365 {
			return badRequest("query parameter days: want an integer from 1 to 365")
		}
		o.WindowDays = days
	}
	report, truncated, err := a.calibrate(r, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, calibrationResponse{
		MarkID: r.mark.Body.MarkID, Threshold: r.mark.Body.Threshold, Version: r.mark.Version,
		Target: o.Target, MinDecisions: o.MinDecisions, WindowDays: o.WindowDays,
		Truncated: truncated, Report: report,
	})
	return nil
}

// calibrate computes the calibration of the request's mark over o's
// window, from its automatic complaints in the store.
func (a *API) calibrate(r *request, o calibration.Options) (calibration.Report, bool, error) {
	since := time.Now().Add(-time.Duration(o.WindowDays) * 24 * time.Hour)
	rows, err := a.store.CalibrationComplaints(r.Context(), r.mark.Body.MarkID, since, calibrationMaxComplaints)
	if err != nil {
		return calibration.Report{}, false, fmt.Errorf("calibrate mark %s: %w", r.mark.Body.MarkID, err)
	}
	samples := make([]calibration.Sample, len(rows))
	for i, c := range rows {
		samples[i] = calibration.Sample{Score: c.Score, Outcome: outcomeOf(c.Status), Matchers: c.Matchers}
	}
	return calibration.Compute(samples, o), len(rows) == calibrationMaxComplaints, nil
}

// outcomeOf maps a complaint's review status onto what calibration learns
// from it: upheld stands while contested; a reinstated listing means the
// takedown did not stand.
func outcomeOf(status string) calibration.Outcome {
	switch status {
	case store.ComplaintUpheld, store.ComplaintContested:
		return calibration.Upheld
	case store.ComplaintRejected, store.ComplaintReinstated:
		return calibration.Rejected
	}
	return calibration.Undecided
}

func (a *API) setMarkThreshold(w http.ResponseWriter, r *request) error {
	var req thresholdRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return badRequest("field reason: required")
	}
	if req.Threshold <= 0 || req.Threshold > 1 {
		return badRequest("field threshold: must be in (0, 1], got %g", req.Threshold)
	}
	version := r.mark.Version
	if req.Version != nil {
		version = *req.Version
	}
	// The audit entry records what the decisions recommended when the
	// admin acted, so that a threshold set against the advice shows.
	report, _, err := a.calibrate(r, a.calibration)
	if err != nil {
		return err
	}
	recommended := "none"
	if report.Recommended != nil {
		recommended = strconv.FormatFloat(*report.Recommended, 'g', -1, 64)
	}
	from := "default"
	if r.mark.Body.Threshold != nil {
		from = strconv.FormatFloat(*r.mark.Body.Threshold, 'g', -1, 64)
	}
	id := r.mark.Body.MarkID
	var changed store.Mark
	err = a.store.WithTx(r.Context(), func(tx *store.Tx) error {
		var err error
		if changed, err = tx.SetMarkThreshold(r.Context(), id, version, req.Threshold); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(r.Context(), store.AuditEntry{
			Actor: r.user.ID, Action: "mark.threshold", ObjectType: "mark", ObjectID: id,
			Detail: auditDetail(map[string]string{
				"from": from, "to": strconv.FormatFloat(req.Threshold, 'g', -1, 64),
				"recommended": recommended, "reason": req.Reason,
			}),
		}); err != nil {
			return err
		}
		// Detectors watch active marks only; a pending or suspended
		// mark carries its threshold to them when it is verified.
		if changed.Body.Active() {
			return a.publishMark(r.Context(), tx, &changed)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set mark %s threshold: %w", id, err)
	}
	a.metrics.thresholds.WithLabelValues(strconv.FormatBool(report.Recommended != nil && *report.Recommended == req.Threshold)).Inc()
	writeJSON(w, http.StatusOK, newMarkResponse(&changed))
	return nil
}
