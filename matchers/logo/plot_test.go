package logo

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// TestLogoCurvePlot draws the table TestLogoCurve wrote (the file named by
// MARKWATCH_LOGO_CURVE_PLOT) as recall against false-match rate, one point
// per threshold, into the same path with .svg for .txt.
func TestLogoCurvePlot(t *testing.T) {
	in := os.Getenv("MARKWATCH_LOGO_CURVE_PLOT")
	if in == "" {
		t.Skip("set MARKWATCH_LOGO_CURVE_PLOT=<table> to draw the logo-detection curve")
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pts plotter.XYs
	var labels []string
	title := "logo detection"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# logos") {
			title = "logo detection: " + strings.TrimPrefix(line, "# ")
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 6 || strings.HasPrefix(line, "#") {
			continue
		}
		// min_inliers min_coverage min_distinct max_rival recall
		// false_match_rate …
		rec, err1 := strconv.ParseFloat(fs[4], 64)
		fmr, err2 := strconv.ParseFloat(fs[5], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", line)
		}
		pts = append(pts, plotter.XY{X: fmr * 100, Y: rec})
		labels = append(labels, fmt.Sprintf("%s/%s/%s/%s", fs[0], fs[1], fs[2], fs[3]))
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "unrelated photos matching a logo (%)"
	p.Y.Label.Text = "recall"
	p.Y.Min, p.Y.Max = 0, 1
	sp, err := plotter.NewScatter(pts)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(sp, lb, plotter.NewGrid())
	out := strings.TrimSuffix(in, ".txt") + ".svg"
	if err := p.Save(6*vg.Inch, 4*vg.Inch, out); err != nil {
		t.Fatal(err)
	}
}
