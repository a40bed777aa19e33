package evaluation_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/calibration"
	"github.com/markwatch/markwatch/internal/config"
)

// TestCalibrationOnFixtures is the calibration run of the closing note:
// decisions simulated from the fixture labels (evaluation.Decisions), then
// the calibration the review service computes, per mark and over all
// marks pooled. Every recommendation must keep the target precision over
// at least the minimum decisions, checked here from the samples
// themselves. MARKWATCH_CALIBRATION_REPORT=1 logs the table that
// docs/BENCHMARKS.md shows.
func TestCalibrationOnFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("scores every fixture listing")
	}
	o, err := calibration.Options{}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	current := config.Default().Detection.Threshold
	byMark := scoreFixtures(t).Decisions()
	marks := make([]string, 0, len(byMark))
	var pooled []calibration.Sample
	for m, s := range byMark {
		marks = append(marks, m)
		pooled = append(pooled, s...)
	}
	sort.Strings(marks)

	var b strings.Builder
	fmt.Fprintf(&b, "| mark | decisions | upheld | precision at %.2f (filed, upheld) | recommended | precision there (filed, upheld) |\n|---|---|---|---|---|---|\n", current)
	recommended := 0
	row := func(name string, samples []calibration.Sample) *calibration.Report {
		r := calibration.Compute(samples, o)
		n, up := at(samples, current)
		rec, there := "none", "—"
		if r.Recommended != nil {
			recommended++
			rn, rup := at(samples, *r.Recommended)
			rec, there = fmt.Sprintf("%.2f", *r.Recommended), fmt.Sprintf("%.3f (%d, %d)", float64(rup)/float64(rn), rn, rup)
			// The recommendation's figures, recomputed from the samples.
			if rn < o.MinDecisions || float64(rup) < o.Target*float64(rn) || rn != r.RecommendedDecisions {
				t.Errorf("%s: recommended %.2f rests on %d decisions, %d upheld: below the minimum %d or the target %.2f",
					name, *r.Recommended, rn, rup, o.MinDecisions, o.Target)
			}
			// Lowest: one step below does not qualify.
			if lower := *r.Recommended - calibration.Step; lower > 0 {
				ln, lup := at(samples, lower)
				if ln >= o.MinDecisions && float64(lup) >= o.Target*float64(ln) {
					t.Errorf("%s: %.2f qualifies too, below the recommended %.2f", name, lower, *r.Recommended)
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s |\n", name, r.Overall.Decided, r.Overall.Upheld,
			fmt.Sprintf("%.3f (%d, %d)", float64(up)/float64(max(n, 1)), n, up), rec, there)
		return &r
	}
	for _, m := range marks {
		row(m, byMark[m])
	}
	all := row("all marks pooled", pooled)
	if all.Recommended == nil {
		t.Errorf("no threshold recommended over all %d decisions: %s", len(pooled), all.Reason)
	}
	if recommended < 2 {
		t.Errorf("only %d of %d marks have a recommendation", recommended-1, len(marks))
	}
	if t.Failed() || os.Getenv("MARKWATCH_CALIBRATION_REPORT") != "" {
		t.Logf("target %.2f, min decisions %d, current threshold %.2f; %d of %d marks with a recommendation\n%s",
			o.Target, o.MinDecisions, current, recommended-1, len(marks), b.String())
	}
}

// at counts the decided samples at or above threshold and the upheld ones.
func at(samples []calibration.Sample, threshold float64) (n, upheld int) {
	for _, s := range samples {
		if s.Score >= threshold && s.Outcome != calibration.Undecided {
			n++
			if s.Outcome == calibration.Upheld {
				upheld++
			}
		}
	}
	return n, upheld
}
