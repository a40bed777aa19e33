package logo

import (
	"bufio"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TestLogoCurvePlot draws the tables TestLogoCurve wrote (the files named
// by MARKWATCH_LOGO_CURVE_PLOT, comma-separated) as recall against
// false-match rate, one point per threshold (the mean over seeds when the
// table has several), one series per table, into the first path with
// .svg for .txt. The first table's points are labelled with their
// thresholds; a series is named by the table's "# legend" line, else its
// file name. Points over maxPlotFMR are left out.
func TestLogoCurvePlot(t *testing.T) {
	in := os.Getenv("MARKWATCH_LOGO_CURVE_PLOT")
	if in == "" {
		t.Skip("set MARKWATCH_LOGO_CURVE_PLOT=<table>[,<table>…] to draw the logo-detection curve")
	}
	files := strings.Split(in, ",")
	p := plot.New()
	p.X.Label.Text = "unrelated photos matching a logo (%)"
	p.Y.Label.Text = "recall"
	p.Y.Min, p.Y.Max = 0, 1
	p.X.Min = 0
	p.Add(plotter.NewGrid())
	colours := []color.Color{color.RGBA{200, 40, 40, 255}, color.RGBA{160, 160, 160, 255}, color.RGBA{40, 90, 200, 255}, color.RGBA{30, 150, 60, 255}}
	for k, name := range files {
		pts, labels, title, legend := readCurve(t, name)
		if k == 0 {
			p.Title.Text = title
		}
		sp, err := plotter.NewScatter(pts)
		if err != nil {
			t.Fatal(err)
		}
		sp.GlyphStyle.Color = colours[k%len(colours)]
		sp.GlyphStyle.Shape = draw.CircleGlyph{}
		sp.GlyphStyle.Radius = vg.Points(3)
		p.Add(sp)
		p.Legend.Add(legend, sp)
		if k == 0 {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
			if err != nil {
				t.Fatal(err)
			}
			p.Add(lb)
		}
	}
	out := strings.TrimSuffix(files[0], ".txt") + ".svg"
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, out); err != nil {
		t.Fatal(err)
	}
}

// maxPlotFMR is the largest false-match rate drawn: the loosest rows
// (no distinctiveness or rival check, 40–60%) would squeeze the useful
// points into the left edge.
const maxPlotFMR = 0.2

// readCurve reads one table of TestLogoCurve: its points (false-match
// rate in percent, recall; the means over seeds when given), their
// threshold labels, its title and its legend.
func readCurve(t *testing.T, name string) (plotter.XYs, []string, string, string) {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pts plotter.XYs
	var labels []string
	title, legend := "logo detection", filepath.Base(name)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# logos"):
			title = "logo detection: " + strings.TrimPrefix(line, "# ")
			continue
		case strings.HasPrefix(line, "# legend "):
			legend = strings.TrimPrefix(line, "# legend ")
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 6 || strings.HasPrefix(line, "#") {
			continue
		}
		// min_inliers min_coverage min_distinct max_rival recall
		// false_match_rate … | recall mean min max, false_match_rate
		// mean min max
		ri, fi := 4, 5
		for i, x := range fs {
			if x == "|" && len(fs) >= i+7 {
				ri, fi = i+1, i+4
			}
		}
		rec, err1 := strconv.ParseFloat(fs[ri], 64)
		fmr, err2 := strconv.ParseFloat(fs[fi], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad line %q", name, line)
		}
		if fmr > maxPlotFMR {
			continue
		}
		pts = append(pts, plotter.XY{X: fmr * 100, Y: rec})
		labels = append(labels, fmt.Sprintf("%s/%s/%s/%s", fs[0], fs[1], fs[2], fs[3]))
	}
	if len(pts) == 0 {
		t.Fatalf("%s: no points", name)
	}
	return pts, labels, title, legend
}
