package evaluation

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// plotTitle is a plot's title: what it shows and the overall figures at the
// chosen threshold, rounded as the text report rounds them.
func (e *Evaluation) plotTitle(what string, threshold float64) string {
	f := e.Overall().figures()
	return fmt.Sprintf("markwatch %s (%d listings; precision %s, recall %s at threshold %.2f)",
		what, len(e.Outcomes), f.precision, f.recall, threshold)
}

// PlotCurve writes the precision–recall curve as a PNG to path, with the
// point of the given threshold marked.
func (e *Evaluation) PlotCurve(path string, threshold float64) error {
	pts := e.Curve()
	if len(pts) == 0 {
		return fmt.Errorf("plot: no scored listings")
	}
	p := plot.New()
	p.Title.Text = e.plotTitle("precision–recall", threshold)
	p.X.Label.Text = "recall"
	p.Y.Label.Text = "precision"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1.01, 0, 1.01
	p.Add(plotter.NewGrid())

	xy := make(plotter.XYs, 0, len(pts)+1)
	xy = append(xy, plotter.XY{X: 0, Y: pts[0].Precision})
	var op plotter.XYs
	for _, q := range pts {
		xy = append(xy, plotter.XY{X: q.Recall, Y: q.Precision})
		if q.Threshold >= threshold {
			op = plotter.XYs{{X: q.Recall, Y: q.Precision}}
		}
	}
	line, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	line.Width = vg.Points(2)
	p.Add(line)
	p.Legend.Add("precision–recall", line)
	if len(op) > 0 {
		sc, err := plotter.NewScatter(op)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Radius = vg.Points(5)
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("threshold %.2f", threshold), sc)
	}
	p.Legend.Left = true
	p.Legend.Top = false
	if err := p.Save(8*vg.Inch, 6*vg.Inch, path); err != nil {
		return fmt.Errorf("plot: save %s: %w", path, err)
	}
	return nil
}

// ThresholdPoint is precision and recall had one global threshold been t.
type ThresholdPoint struct {
	Threshold, Precision, Recall float64
	// Flagged is how many listings score at or above the threshold; with
	// none, precision is undefined and left out of the plot.
	Flagged int
}

// ThresholdCurve sweeps one global threshold over [0, 1] in steps of
// 1/steps and returns precision and recall at each: where the PR curve
// crowds into its top-right corner, this spreads the same figures along
// the threshold axis, so the choice of a threshold can be read off.
func (e *Evaluation) ThresholdCurve(steps int) []ThresholdPoint {
	positives := 0
	for _, o := range e.Outcomes {
		if o.Label.Infringing {
			positives++
		}
	}
	out := make([]ThresholdPoint, 0, steps+1)
	for i := 0; i <= steps; i++ {
		t := float64(i) / float64(steps)
		tp, flagged := 0, 0
		for _, o := range e.Outcomes {
			if o.Score > 0 && o.Score >= t {
				flagged++
				if o.Label.Infringing {
					tp++
				}
			}
		}
		out = append(out, ThresholdPoint{Threshold: t, Precision: ratio(tp, flagged, 1), Recall: ratio(tp, positives, 1), Flagged: flagged})
	}
	return out
}

// PlotThreshold writes precision and recall against the threshold as a
// PNG to path, with the chosen threshold drawn as a vertical line.
func (e *Evaluation) PlotThreshold(path string, threshold float64) error {
	if len(e.Outcomes) == 0 {
		return fmt.Errorf("plot: no scored listings")
	}
	pts := e.ThresholdCurve(200)
	p := plot.New()
	p.Title.Text = e.plotTitle("precision and recall by threshold", threshold)
	p.X.Label.Text = "threshold (one global threshold; marks may set their own)"
	p.Y.Label.Text = "precision, recall"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1.01
	p.Add(plotter.NewGrid())
	var prec, rec plotter.XYs
	for _, q := range pts {
		if q.Flagged > 0 {
			prec = append(prec, plotter.XY{X: q.Threshold, Y: q.Precision})
		}
		rec = append(rec, plotter.XY{X: q.Threshold, Y: q.Recall})
	}
	for _, s := range []struct {
		name  string
		xy    plotter.XYs
		color color.Color
	}{
		{"precision", prec, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{"recall", rec, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}},
	} {
		if len(s.xy) == 0 {
			continue
		}
		line, err := plotter.NewLine(s.xy)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		line.Width = vg.Points(2)
		line.Color = s.color
		p.Add(line)
		p.Legend.Add(s.name, line)
	}
	chosen, err := plotter.NewLine(plotter.XYs{{X: threshold, Y: 0}, {X: threshold, Y: 1.01}})
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	chosen.Width = vg.Points(1.5)
	chosen.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	p.Add(chosen)
	p.Legend.Add(fmt.Sprintf("threshold %.2f", threshold), chosen)
	p.Legend.Left = true
	p.Legend.Top = false
	if err := p.Save(8*vg.Inch, 6*vg.Inch, path); err != nil {
		return fmt.Errorf("plot: save %s: %w", path, err)
	}
	return nil
}
