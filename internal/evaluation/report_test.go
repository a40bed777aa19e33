package evaluation

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportNotApplicable: with nothing flagged, precision is 0/0 and the
// report says n/a, not 1.000; so does every table row where it is 0/0.
func TestReportNotApplicable(t *testing.T) {
	var e Evaluation
	e.Add(outcome(false, "", "no_mark"))
	e.Add(outcome(true, "a", "leet", res("a", 0.3, false))) // missed: recall 0, precision 0/0
	var buf bytes.Buffer
	if err := e.WriteReport(&buf, 5); err != nil {
		t.Fatal(err)
	}
	report := buf.String()
	if !strings.Contains(report, "precision: n/a   recall: 0.0000   F1: n/a") {
		t.Errorf("overall line of an evaluation that flagged nothing:\n%s", report)
	}
	if strings.Contains(report, "1.000") {
		t.Errorf("a 0/0 ratio printed as 1:\n%s", report)
	}
	if !strings.Contains(report, "n/a") {
		t.Errorf("no n/a in the tables:\n%s", report)
	}
}

// TestPlotTitleMatchesReport: the plots' titles carry the overall figures
// rounded as the text report rounds them.
func TestPlotTitleMatchesReport(t *testing.T) {
	var e Evaluation
	e.Add(outcome(true, "a", "leet", res("a", 0.9, true)))                 // TP
	e.Add(outcome(true, "a", "leet", res("a", 0.8, true)))                 // TP
	e.Add(outcome(false, "", "nominative", res("a", 0.7, true)))           // FP: precision 2/3
	e.Add(outcome(true, "a", "cue_en", res("a", 0.2, false)))              // FN: recall 2/3
	e.Add(outcome(false, "", "resale_normal_price", res("a", 0.1, false))) // TN
	var buf bytes.Buffer
	if err := e.WriteReport(&buf, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "precision: 0.6667   recall: 0.6667") {
		t.Fatalf("report:\n%s", buf.String())
	}
	for _, title := range []string{e.plotTitle("precision–recall", 0.5), e.plotTitle("precision and recall by threshold", 0.5)} {
		if !strings.Contains(title, "precision 0.6667, recall 0.6667") {
			t.Errorf("title %q does not round as the report does (0.6667)", title)
		}
	}
}

// TestThresholdCurve: precision and recall at one global threshold, swept
// over [0, 1]; precision is left out where nothing is flagged, and the plot
// is a PNG.
func TestThresholdCurve(t *testing.T) {
	var e Evaluation
	e.Add(outcome(true, "a", "leet", res("a", 0.9, true)))
	e.Add(outcome(true, "a", "leet", res("a", 0.5, true)))
	e.Add(outcome(false, "", "nominative", res("a", 0.7, true)))
	e.Add(outcome(false, "", "no_mark"))
	pts := e.ThresholdCurve(10)
	if len(pts) != 11 || pts[0].Threshold != 0 || pts[10].Threshold != 1 {
		t.Fatalf("points %+v", pts)
	}
	for _, c := range []struct {
		i                 int
		precision, recall float64
		flagged           int
	}{
		{5, 2.0 / 3, 1, 3},   // ≥ 0.5: both positives and the nominative listing
		{6, 1.0 / 2, 0.5, 2}, // ≥ 0.6: 0.9 and 0.7
		{8, 1, 0.5, 1},       // ≥ 0.8: 0.9 only
		{10, 1, 0, 0},        // ≥ 1: nothing flagged
	} {
		p := pts[c.i]
		if p.Flagged != c.flagged || p.Recall != c.recall || (c.flagged > 0 && p.Precision != c.precision) {
			t.Errorf("at %.1f: %+v, want precision %.3f recall %.3f flagged %d", p.Threshold, p, c.precision, c.recall, c.flagged)
		}
	}
	png := filepath.Join(t.TempDir(), "threshold.png")
	if err := e.PlotThreshold(png, 0.55); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Fatalf("plot is not a PNG: %v", err)
	}
	var empty Evaluation
	if err := empty.PlotThreshold(filepath.Join(t.TempDir(), "x.png"), 0.5); err == nil {
		t.Error("a plot of nothing succeeded")
	}
}
