// Package calibration learns from reviewers' decisions on automatic
// complaints: the precision of a mark's complaints and of each matcher
// behind them, the scores of upheld and rejected complaints, the lowest
// threshold that would have kept precision at a target, and what each
// threshold would have filed. It only recommends: a threshold changes when
// an admin applies it (POST /v1/marks/{id}/threshold), never here.
//
// The computation is pure, over samples the caller gathers (the store's
// complaints table in the service, simulated decisions in the fixture
// calibration run), so that both see the same numbers.
package calibration

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Defaults of Options.
const (
	DefaultTarget       = 0.95
	DefaultMinDecisions = 30
	DefaultWindowDays   = 90
)

// Options configures a calibration. Zero values take the defaults.
type Options struct {
	// Target is the precision a recommended threshold must keep on the
	// decided complaints at or above it; DefaultTarget when zero.
	Target float64
	// MinDecisions is how many decided complaints at or above a threshold
	// it takes before that threshold may be recommended, so that a
	// handful of lucky decisions never moves a mark; DefaultMinDecisions
	// when zero.
	MinDecisions int
	// WindowDays is how far back complaints are counted, by when they
	// were received; DefaultWindowDays when zero.
	WindowDays int
}

// WithDefaults returns o with the defaults applied, or an error naming the
// field that is out of range.
func (o Options) WithDefaults() (Options, error) {
	if o.Target == 0 {
		o.Target = DefaultTarget
	}
	if o.MinDecisions == 0 {
		o.MinDecisions = DefaultMinDecisions
	}
	if o.WindowDays == 0 {
		o.WindowDays = DefaultWindowDays
	}
	switch {
	case o.Target <= 0 || o.Target > 1:
		return o, fmt.Errorf("calibration: target must be in (0, 1], got %g", o.Target)
	case o.MinDecisions < 1:
		return o, fmt.Errorf("calibration: min decisions must be positive, got %d", o.MinDecisions)
	case o.WindowDays < 1 || o.WindowDays > 3660:
		return o, fmt.Errorf("calibration: window days must be from 1 to 3660, got %d", o.WindowDays)
	}
	return o, nil
}

// Outcome is what review made of an automatic complaint.
type Outcome int

const (
	// Undecided: still open; counts as filed, not as decided.
	Undecided Outcome = iota
	// Upheld: the reviewer agreed (including upheld complaints the seller
	// contests: the decision stands until it is reversed).
	Upheld
	// Rejected: the reviewer disagreed, or the listing was reinstated
	// after a counter-notice (the takedown did not stand).
	Rejected
)

// Sample is one automatic complaint of the window.
type Sample struct {
	Score   float64
	Outcome Outcome
	// Matchers are the distinct matchers of its evidence.
	Matchers []string
}

// Step is the granularity of the thresholds a recommendation chooses
// from; WhatIfStep that of the what-if table.
const (
	Step       = 0.01
	WhatIfStep = 0.05
)

// Bucket counts the decided complaints whose score is in [From, To).
// The last bucket includes 1.
type Bucket struct {
	From     float64 `json:"from"`
	To       float64 `json:"to"`
	Upheld   int     `json:"upheld"`
	Rejected int     `json:"rejected"`
}

// Stats are the decisions on a set of complaints: a mark's, or those a
// matcher gave evidence for (a complaint counts once for each matcher
// behind it).
type Stats struct {
	// Matcher names the matcher; empty for all of the mark's complaints.
	Matcher string `json:"matcher,omitempty"`
	// Decided and Upheld count decisions; Precision is Upheld/Decided,
	// absent when nothing is decided.
	Decided   int      `json:"decided"`
	Upheld    int      `json:"upheld"`
	Precision *float64 `json:"precision,omitempty"`
	// Scores is the score distribution of the upheld and rejected
	// complaints, in ten buckets of 0.1.
	Scores []Bucket `json:"scores"`
}

// WhatIf is what one threshold would have done over the window: how many
// of the window's complaints score at or above it (Filed), how many of
// those were decided and how many upheld. Complaints the mark's threshold
// of the time kept from being filed are not known, so rows below that
// threshold are lower bounds.
type WhatIf struct {
	Threshold float64  `json:"threshold"`
	Filed     int      `json:"filed"`
	Decided   int      `json:"decided"`
	Upheld    int      `json:"upheld"`
	Precision *float64 `json:"precision,omitempty"`
}

// Report is a calibration of one mark.
type Report struct {
	// Filed counts every automatic complaint of the window.
	Filed int `json:"filed"`
	// Overall are the decisions on all of them.
	Overall  Stats   `json:"overall"`
	Matchers []Stats `json:"matchers"`
	// Recommended is the lowest threshold (in steps of Step) whose
	// decided complaints at or above it number at least MinDecisions and
	// are upheld at Target or more; absent when there is none, and
	// Reason says why.
	Recommended *float64 `json:"recommended_threshold,omitempty"`
	// RecommendedPrecision and RecommendedDecisions are the precision
	// and the decisions the recommendation rests on.
	RecommendedPrecision *float64 `json:"recommended_precision,omitempty"`
	RecommendedDecisions int      `json:"recommended_decisions,omitempty"`
	Reason               string   `json:"reason"`
	WhatIf               []WhatIf `json:"what_if"`
}

// Compute calibrates from samples; o must have its defaults applied.
func Compute(samples []Sample, o Options) Report {
	r := Report{Filed: len(samples), Overall: stats(samples)}
	byMatcher := map[string][]Sample{}
	for _, s := range samples {
		for i, m := range s.Matchers {
			if !slices.Contains(s.Matchers[:i], m) { // once per matcher
				byMatcher[m] = append(byMatcher[m], s)
			}
		}
	}
	names := make([]string, 0, len(byMatcher))
	for m := range byMatcher {
		names = append(names, m)
	}
	sort.Strings(names)
	r.Matchers = make([]Stats, 0, len(names))
	for _, m := range names {
		st := stats(byMatcher[m])
		st.Matcher = m
		r.Matchers = append(r.Matchers, st)
	}

	// Decided complaints by score, lowest first, with the upheld among
	// the first i in upheldBelow[i]: a threshold's decisions are a suffix,
	// found by binary search.
	decided := make([]Sample, 0, r.Overall.Decided)
	for _, s := range samples {
		if s.Outcome != Undecided {
			decided = append(decided, s)
		}
	}
	slices.SortFunc(decided, func(a, b Sample) int { return cmpFloat(a.Score, b.Score) })
	upheldBelow := make([]int, len(decided)+1)
	for i, s := range decided {
		upheldBelow[i+1] = upheldBelow[i]
		if s.Outcome == Upheld {
			upheldBelow[i+1]++
		}
	}
	prefix := func(t float64) (n, upheld int) {
		i := sort.Search(len(decided), func(i int) bool { return decided[i].Score >= t })
		return len(decided) - i, upheldBelow[len(decided)] - upheldBelow[i]
	}
	switch {
	case r.Overall.Decided < o.MinDecisions:
		r.Reason = fmt.Sprintf("%d decided complaints in the last %d days; a recommendation needs at least %d", r.Overall.Decided, o.WindowDays, o.MinDecisions)
	default:
		// Lowest threshold first: the first that qualifies wins.
		for i := 1; i <= steps(Step); i++ {
			t := round(float64(i) * Step)
			n, up := prefix(t)
			if n >= o.MinDecisions && float64(up) >= o.Target*float64(n) {
				r.Recommended = ptr(t)
				r.RecommendedPrecision = ptr(float64(up) / float64(n))
				r.RecommendedDecisions = n
				r.Reason = fmt.Sprintf("lowest threshold whose %d decided complaints at or above it are upheld at %.3f, target %.3f", n, float64(up)/float64(n), o.Target)
				break
			}
		}
		if r.Recommended == nil {
			r.Reason = fmt.Sprintf("no threshold keeps precision at %.3f over at least %d decided complaints", o.Target, o.MinDecisions)
		}
	}
	for i := 1; i <= steps(WhatIfStep); i++ {
		t := round(float64(i) * WhatIfStep)
		w := WhatIf{Threshold: t}
		for _, s := range samples {
			if s.Score < t {
				continue
			}
			w.Filed++
			if s.Outcome != Undecided {
				w.Decided++
			}
			if s.Outcome == Upheld {
				w.Upheld++
			}
		}
		if w.Decided > 0 {
			w.Precision = ptr(float64(w.Upheld) / float64(w.Decided))
		}
		r.WhatIf = append(r.WhatIf, w)
	}
	return r
}

// stats counts the decisions on samples and their score distribution.
func stats(samples []Sample) Stats {
	st := Stats{Scores: make([]Bucket, 10)}
	for i := range st.Scores {
		st.Scores[i] = Bucket{From: round(float64(i) / 10), To: round(float64(i+1) / 10)}
	}
	for _, s := range samples {
		if s.Outcome == Undecided {
			continue
		}
		st.Decided++
		b := &st.Scores[min(max(int(math.Floor(s.Score*10+1e-9)), 0), 9)]
		if s.Outcome == Upheld {
			st.Upheld++
			b.Upheld++
		} else {
			b.Rejected++
		}
	}
	if st.Decided > 0 {
		st.Precision = ptr(float64(st.Upheld) / float64(st.Decided))
	}
	return st
}

func steps(step float64) int { return int(math.Round(1 / step)) }

// round removes the floating-point noise of i*step (0.07 rather than
// 0.07000000000000001), so that thresholds read and compare as written.
func round(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func ptr(f float64) *float64 { return &f }
