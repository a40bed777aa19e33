package evaluation

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/score"
)

func outcome(infringing bool, markID, kind string, results ...score.Result) (*domain.Listing, []score.Result) {
	return &domain.Listing{ListingID: "l", Title: "t", Label: &domain.Label{Infringing: infringing, MarkID: markID, Kind: kind}}, results
}

func res(markID string, s float64, flagged bool) score.Result {
	return score.Result{Mark: &matchers.Mark{Mark: &domain.Mark{MarkID: markID}}, Score: s, Flagged: flagged,
		Signals: map[string]float64{"text": 0.9}, Explanation: "because"}
}

func TestCounts(t *testing.T) {
	var e Evaluation
	e.Add(outcome(true, "a", "leet", res("a", 0.9, true)))                        // TP
	e.Add(outcome(true, "a", "leet", res("a", 0.3, false)))                       // FN
	e.Add(outcome(true, "a", "cue_en", res("b", 0.8, true)))                      // wrong mark: FN + FP
	e.Add(outcome(false, "", "nominative", res("a", 0.6, true)))                  // FP
	e.Add(outcome(false, "", "no_mark"))                                          // TN
	e.Add(outcome(false, "", "resale_normal_price", res("a", 0.2, false)))        // TN
	e.Add(outcome(true, "a", "cue_en", res("a", 0.7, true), res("c", 0.6, true))) // TP + FP (extra wrong mark)
	c := e.Overall()
	if c != (Counts{TP: 2, FP: 3, TN: 2, FN: 2}) {
		t.Fatalf("counts %+v", c)
	}
	if p := c.Precision(); p != 0.4 {
		t.Errorf("precision %v", p)
	}
	kinds := e.ByKind()
	if kinds[0].Kind != "cue_en" || !kinds[0].Infringing {
		t.Errorf("positives should come first: %+v", kinds)
	}
	fps, fns := e.Worst(10)
	if len(fps) != 3 || len(fns) != 2 || fns[0].Score > fns[1].Score {
		t.Errorf("worst: %d fps, %d fns %+v", len(fps), len(fns), fns)
	}
	pts := e.Curve()
	if len(pts) == 0 || pts[len(pts)-1].Recall > 1 || pts[0].Threshold < pts[len(pts)-1].Threshold {
		t.Errorf("curve %+v", pts)
	}
	var buf bytes.Buffer
	if err := e.WriteReport(&buf, 5); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"precision: 0.4000", "confusion matrix", "nominative", "worst false positives", "because"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
	png := filepath.Join(t.TempDir(), "pr.png")
	if err := e.PlotCurve(png, 0.5); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Fatalf("plot is not a PNG: %v", err)
	}
}
