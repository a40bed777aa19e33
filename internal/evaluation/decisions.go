package evaluation

import (
	"sort"

	"github.com/markwatch/markwatch/internal/calibration"
)

// Decisions simulates reviewers' decisions from the labels, for a
// calibration run: each evaluated listing with a scored mark is an
// automatic complaint on that mark, at its score, as a permissive
// threshold would have filed it; it is upheld when the listing is labeled
// infringing on that mark and rejected otherwise. Its matchers are those
// with a nonzero signal. Keyed by mark id.
func (e *Evaluation) Decisions() map[string][]calibration.Sample {
	out := map[string][]calibration.Sample{}
	for _, o := range e.Outcomes {
		if o.MarkID == "" || o.Score <= 0 {
			continue // no mark scored: no threshold would file it
		}
		s := calibration.Sample{Score: o.Score, Outcome: calibration.Rejected}
		if o.Label.Infringing && o.Label.MarkID == o.MarkID {
			s.Outcome = calibration.Upheld
		}
		for m, v := range o.Signals {
			if v > 0 {
				s.Matchers = append(s.Matchers, m)
			}
		}
		sort.Strings(s.Matchers)
		out[o.MarkID] = append(out[o.MarkID], s)
	}
	return out
}
