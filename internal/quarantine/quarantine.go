// Package quarantine is the review service's flood quarantine: it watches
// each mark's automatic complaints and decisions and quarantines the mark,
// one of its reference images or one of its variants when it suddenly
// files far more complaints than its baseline, or when recent decisions
// upheld too few of them. A quarantine is written on the mark and
// published through the marks topic, so every detector stops filing those
// matches within one marks update (they still score them, and count and
// log what they did not file). An admin releases it through the API.
//
// Why on the mark and not a topic of its own: a quarantine is part of what
// a detector needs to know about a mark, the marks topic already reaches
// every detector and the sweeper in order with the mark's other changes,
// and a quarantine does not change what a sweep fingerprints.
//
// Attribution: when a mark floods, the complaints of the recent window are
// read and counted per reference (image or variant, from their evidence);
// a reference behind at least Options.Share of them is quarantined alone
// (a stock photo uploaded as an official image), otherwise the whole mark.
// Low precision is attributed the same way over the decided complaints.
// A released quarantine is not imposed again for the baseline window: the
// admin has looked, and the flood that tripped it is still in the counts.
package quarantine

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// Options are the thresholds of a quarantine. Zero fields take the
// defaults.
type Options struct {
	// Window is the recent window whose complaints are compared with the
	// baseline (default 1h).
	Window time.Duration
	// Baseline is the window before Window whose rate is the mark's
	// normal (default 7 days).
	Baseline time.Duration
	// Factor is how many times the baseline rate the recent window must
	// reach to be a flood (default 10).
	Factor float64
	// MinCount is the fewest complaints in the recent window that can be a
	// flood (default 50), so a quiet mark's three complaints are not.
	MinCount int
	// PrecisionWindow is how far back decided complaints count for the
	// precision floor (default 7 days).
	PrecisionWindow time.Duration
	// PrecisionFloor quarantines a mark or reference whose decided
	// complaints were upheld less often than this (default 0.2; negative
	// turns the precision trigger off).
	PrecisionFloor float64
	// MinDecisions is the fewest decided complaints before the precision
	// floor applies (default 20).
	MinDecisions int
	// Share is the part of the flood (or of the decided complaints) one
	// reference must account for to be quarantined alone (default 0.8).
	Share float64
}

// WithDefaults fills in the zero fields.
func (o Options) WithDefaults() Options {
	set := func(p *time.Duration, d time.Duration) {
		if *p <= 0 {
			*p = d
		}
	}
	set(&o.Window, time.Hour)
	set(&o.Baseline, 7*24*time.Hour)
	set(&o.PrecisionWindow, 7*24*time.Hour)
	if o.Factor <= 0 {
		o.Factor = 10
	}
	if o.MinCount <= 0 {
		o.MinCount = 50
	}
	if o.PrecisionFloor == 0 {
		o.PrecisionFloor = 0.2
	}
	if o.MinDecisions <= 0 {
		o.MinDecisions = 20
	}
	if o.Share <= 0 || o.Share > 1 {
		o.Share = 0.8
	}
	return o
}

// Windows are the store's windows for o at now.
func (o Options) Windows(now time.Time) store.RateWindows {
	return store.RateWindows{
		Recent: now.Add(-o.Window), Baseline: now.Add(-o.Window - o.Baseline), Precision: now.Add(-o.PrecisionWindow),
	}
}

// Trips reports which trigger, if any, the mark's counts trip; the flood
// comes first. It needs no complaint bodies, so the watcher asks it of
// every mark and reads bodies only for the marks it names.
func (o Options) Trips(r store.MarkComplaintRate) string {
	if r.Recent >= o.MinCount && float64(r.Recent) > o.Factor*o.baselineRate(r.Baseline) {
		return domain.TriggerFlood
	}
	if o.PrecisionFloor > 0 && r.Decided >= o.MinDecisions && float64(r.Upheld) < o.PrecisionFloor*float64(r.Decided) {
		return domain.TriggerPrecision
	}
	return ""
}

// baselineRate is the baseline's complaints per Window, at least one
// complaint per baseline window so that a mark with no history floods
// only past MinCount.
func (o Options) baselineRate(n int) float64 {
	return float64(max(n, 1)) * float64(o.Window) / float64(o.Baseline)
}

// Decide returns the quarantine the mark's counts and complaints call for,
// if any and if it does not hold already or was released within the
// baseline window. complaints are the mark's automatic complaints of the
// recent window (flood) or the precision window (precision), as
// store.CalibrationComplaints returns them.
func (o Options) Decide(m *domain.Mark, r store.MarkComplaintRate, complaints []store.CalibrationComplaint, now time.Time) (domain.Quarantine, bool) {
	trigger := o.Trips(r)
	if trigger == "" {
		return domain.Quarantine{}, false
	}
	q := domain.Quarantine{Kind: domain.QuarantineMark, Trigger: trigger, Since: now}
	// Count the complaints per reference: the flood's, or the decided
	// ones and how many of those were upheld.
	type tally struct{ n, upheld int }
	per := map[string]*tally{}
	total := 0
	recent := now.Add(-o.Window)
	for _, c := range complaints {
		decided, upheld := outcome(c.Status)
		if trigger == domain.TriggerFlood && c.CreatedAt.Before(recent) || trigger == domain.TriggerPrecision && !decided {
			continue
		}
		total++
		for _, ref := range c.References {
			t := per[ref]
			if t == nil {
				t = &tally{}
				per[ref] = t
			}
			t.n++
			if upheld {
				t.upheld++
			}
		}
	}
	refs := make([]string, 0, len(per))
	for k := range per {
		refs = append(refs, k)
	}
	// The reference behind the most complaints, ties by name.
	slices.SortFunc(refs, func(a, b string) int {
		return cmp.Or(cmp.Compare(per[b].n, per[a].n), strings.Compare(a, b))
	})
	for _, key := range refs {
		t := per[key]
		if float64(t.n) < o.Share*float64(total) {
			break
		}
		kind, ref, _ := strings.Cut(key, ":")
		// The mark's own name is the mark: no reference to single out.
		if kind == domain.QuarantineVariant && strings.EqualFold(ref, m.Name) {
			continue
		}
		if trigger == domain.TriggerPrecision && (t.n < o.MinDecisions || float64(t.upheld) >= o.PrecisionFloor*float64(t.n)) {
			continue
		}
		q.Kind, q.Ref = kind, ref
		q.Reason = reason(o, r, trigger, fmt.Sprintf("%d of the %d (%.0f%%) matched %s %s", t.n, total, 100*float64(t.n)/float64(total), kind, ref))
		break
	}
	if q.Reason == "" {
		q.Reason = reason(o, r, trigger, "no single reference image or variant accounts for them")
	}
	for _, old := range m.Quarantines {
		if old.Key() != q.Key() {
			continue
		}
		if old.Active() || now.Sub(old.ReleasedAt) < o.Baseline {
			return domain.Quarantine{}, false
		}
	}
	return q, true
}

// reason writes the figures that tripped the trigger, for the holder and
// admins.
func reason(o Options, r store.MarkComplaintRate, trigger, which string) string {
	if trigger == domain.TriggerFlood {
		return fmt.Sprintf("flood: %d automatic complaints in the last %s against a baseline of %.1f per %s (at least %g times that and %d complaints quarantine); %s",
			r.Recent, o.Window, o.baselineRate(r.Baseline), o.Window, o.Factor, o.MinCount, which)
	}
	return fmt.Sprintf("precision: %d of %d decided automatic complaints of the last %s upheld (%.0f%%, under the floor of %.0f%%); %s",
		r.Upheld, r.Decided, o.PrecisionWindow, 100*float64(r.Upheld)/math.Max(1, float64(r.Decided)), 100*o.PrecisionFloor, which)
}

// outcome tells whether a complaint of status s is decided, and upheld.
func outcome(s string) (decided, upheld bool) {
	switch s {
	case store.ComplaintUpheld, store.ComplaintContested:
		return true, true
	case store.ComplaintRejected, store.ComplaintReinstated:
		return true, false
	}
	return false, false
}

// Apply adds q to the mark's quarantines, replacing a released one of the
// same key, and returns the new list.
func Apply(qs []domain.Quarantine, q domain.Quarantine) []domain.Quarantine {
	out := make([]domain.Quarantine, 0, len(qs)+1)
	for _, old := range qs {
		if old.Key() != q.Key() {
			out = append(out, old)
		}
	}
	return append(out, q)
}

// Release marks the quarantine of kind and ref released by actor at now,
// and reports whether one held.
func Release(qs []domain.Quarantine, kind, ref, actor string, now time.Time) ([]domain.Quarantine, bool) {
	out := slices.Clone(qs)
	for i, q := range out {
		if q.Kind == kind && q.Ref == ref && q.Active() {
			out[i].ReleasedAt, out[i].ReleasedBy = now, actor
			return out, true
		}
	}
	return qs, false
}
