// Package evaluation measures the detection core against labeled listings:
// precision, recall and F1 overall, per matcher and per label kind; the
// confusion matrix; the worst mistakes with their explanations; the
// precision–recall curve and a reliability table of the score.
//
// A listing counts as predicted infringing when a complaint is filed for
// the mark its label names (for negatives: for any mark). A complaint
// filed on the wrong mark for an infringing listing is both a false
// positive and a false negative: it would send the wrong brand owner's
// complaint into review.
package evaluation

import (
	"cmp"
	"slices"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers/score"
)

// Outcome is one evaluated listing.
type Outcome struct {
	ListingID string
	Title     string
	Label     domain.Label
	// Predicted: a complaint was filed (on the labeled mark for positives).
	Predicted bool
	// WrongMark: a complaint was filed, but on another mark than the label's.
	WrongMark bool
	// Score is the listing's score for its labeled mark (positives) or its
	// best score over all marks (negatives): what a threshold is compared to.
	Score       float64
	Explanation string
	MarkID      string
	// Signals are the matcher scores behind Score.
	Signals map[string]float64
}

// Evaluation accumulates outcomes. Not safe for concurrent use.
type Evaluation struct {
	Outcomes []Outcome
}

// Add records the scoring of one labeled listing.
func (e *Evaluation) Add(l *domain.Listing, results []score.Result) {
	o := Outcome{ListingID: l.ListingID, Title: l.Title}
	if l.Label != nil {
		o.Label = *l.Label
	}
	var best *score.Result
	for i := range results {
		r := &results[i]
		if o.Label.Infringing && o.Label.MarkID != "" && r.Mark.MarkID != o.Label.MarkID {
			if r.Flagged {
				o.WrongMark = true
			}
			continue
		}
		if best == nil || r.Score > best.Score {
			best = r
		}
	}
	if best != nil {
		o.Score, o.Explanation, o.MarkID, o.Signals = best.Score, best.Explanation, best.Mark.MarkID, best.Signals
		o.Predicted = best.Flagged
	}
	if !o.Label.Infringing {
		// For a negative any complaint is a false positive.
		for i := range results {
			if results[i].Flagged {
				o.Predicted = true
			}
		}
		o.WrongMark = false
	}
	e.Outcomes = append(e.Outcomes, o)
}

// Counts is a confusion matrix.
type Counts struct {
	TP, FP, TN, FN int
}

// Precision is TP/(TP+FP), 1 when nothing was predicted.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP, 1) }

// Recall is TP/(TP+FN), 1 when there were no positives.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN, 1) }

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Total is the number of listings counted.
func (c Counts) Total() int { return c.TP + c.FP + c.TN + c.FN }

func ratio(a, b int, empty float64) float64 {
	if b == 0 {
		return empty
	}
	return float64(a) / float64(b)
}

func (c *Counts) add(o Outcome) {
	switch {
	case o.Label.Infringing && o.Predicted && !o.WrongMark:
		c.TP++
	case o.Label.Infringing && o.Predicted: // right mark flagged, but also a wrong one
		c.TP++
		c.FP++
	case o.Label.Infringing:
		c.FN++
		if o.WrongMark {
			c.FP++
		}
	case o.Predicted:
		c.FP++
	default:
		c.TN++
	}
}

// Overall is the confusion matrix over every outcome.
func (e *Evaluation) Overall() Counts {
	var c Counts
	for _, o := range e.Outcomes {
		c.add(o)
	}
	return c
}

// KindCounts is the confusion matrix of one label kind.
type KindCounts struct {
	Kind       string
	Infringing bool
	Counts
}

// ByKind returns the confusion matrix per label kind, positives first,
// then by kind name.
func (e *Evaluation) ByKind() []KindCounts {
	m := map[string]*KindCounts{}
	for _, o := range e.Outcomes {
		k := m[o.Label.Kind]
		if k == nil {
			k = &KindCounts{Kind: o.Label.Kind, Infringing: o.Label.Infringing}
			m[o.Label.Kind] = k
		}
		k.add(o)
	}
	out := make([]KindCounts, 0, len(m))
	for _, k := range m {
		out = append(out, *k)
	}
	slices.SortFunc(out, func(a, b KindCounts) int {
		if a.Infringing != b.Infringing {
			if a.Infringing {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return out
}

// MatcherCounts says how one matcher contributed: the confusion matrix of
// the listings whose deciding result had a positive signal from it.
type MatcherCounts struct {
	Matcher string
	// Counts: TP/FP over predicted listings where the matcher fired; FN
	// counts infringing listings missed although it fired, TN negatives
	// where it fired without a complaint.
	Counts
	// Share is the fraction of all true positives the matcher fired on.
	Share float64
}

// ByMatcher returns each matcher's contribution, by matcher name.
func (e *Evaluation) ByMatcher() []MatcherCounts {
	m := map[string]*Counts{}
	overall := e.Overall()
	for _, o := range e.Outcomes {
		for name, s := range o.Signals {
			if s <= 0 {
				continue
			}
			c := m[name]
			if c == nil {
				c = &Counts{}
				m[name] = c
			}
			c.add(o)
		}
	}
	var out []MatcherCounts
	for name, c := range m {
		out = append(out, MatcherCounts{Matcher: name, Counts: *c, Share: ratio(c.TP, overall.TP, 0)})
	}
	slices.SortFunc(out, func(a, b MatcherCounts) int { return cmp.Compare(a.Matcher, b.Matcher) })
	return out
}

// Worst returns up to n false positives, highest score first, and up to n
// false negatives, lowest score first.
func (e *Evaluation) Worst(n int) (fps, fns []Outcome) {
	for _, o := range e.Outcomes {
		if (o.Predicted && !o.Label.Infringing) || o.WrongMark {
			fps = append(fps, o)
		}
		if o.Label.Infringing && !o.Predicted {
			fns = append(fns, o)
		}
	}
	slices.SortStableFunc(fps, func(a, b Outcome) int { return cmp.Compare(b.Score, a.Score) })
	slices.SortStableFunc(fns, func(a, b Outcome) int { return cmp.Compare(a.Score, b.Score) })
	return fps[:min(n, len(fps))], fns[:min(n, len(fns))]
}

// Point is one point of the precision–recall curve.
type Point struct {
	Threshold, Precision, Recall float64
}

// Curve returns the precision–recall curve obtained by sweeping the
// threshold over every distinct score, highest first. It ignores per-mark
// thresholds: it shows what one global threshold would do.
func (e *Evaluation) Curve() []Point {
	type sp struct {
		score float64
		pos   bool
	}
	var all []sp
	positives := 0
	for _, o := range e.Outcomes {
		all = append(all, sp{o.Score, o.Label.Infringing})
		if o.Label.Infringing {
			positives++
		}
	}
	slices.SortFunc(all, func(a, b sp) int { return cmp.Compare(b.score, a.score) })
	var pts []Point
	tp, fp := 0, 0
	for i, s := range all {
		if s.score <= 0 {
			break
		}
		if s.pos {
			tp++
		} else {
			fp++
		}
		if i+1 < len(all) && all[i+1].score == s.score {
			continue
		}
		pts = append(pts, Point{Threshold: s.score, Precision: ratio(tp, tp+fp, 1), Recall: ratio(tp, positives, 1)})
	}
	return pts
}

// Bucket is one row of the reliability table.
type Bucket struct {
	Lo, Hi     float64
	N          int
	Infringing int
}

// Reliability groups outcomes by score into tenths and counts how many
// are infringing: for a calibrated score the share tracks the bucket.
func (e *Evaluation) Reliability() []Bucket {
	b := make([]Bucket, 10)
	for i := range b {
		b[i].Lo, b[i].Hi = float64(i)/10, float64(i+1)/10
	}
	for _, o := range e.Outcomes {
		i := min(int(o.Score*10), 9)
		b[i].N++
		if o.Label.Infringing {
			b[i].Infringing++
		}
	}
	return b
}
