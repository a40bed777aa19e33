package evaluation

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PlotCurve writes the precision–recall curve as a PNG to path, with the
// point of the given threshold marked.
func (e *Evaluation) PlotCurve(path string, threshold float64) error {
	pts := e.Curve()
	if len(pts) == 0 {
		return fmt.Errorf("plot: no scored listings")
	}
	p := plot.New()
	c := e.Overall()
	p.Title.Text = fmt.Sprintf("markwatch precision–recall (%d listings; P=%.3f R=%.3f at threshold %.2f)", len(e.Outcomes), c.Precision(), c.Recall(), threshold)
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
