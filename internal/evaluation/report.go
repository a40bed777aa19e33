package evaluation

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteReport prints the evaluation for a person: overall figures, the
// confusion matrix, per-kind and per-matcher tables, the reliability table
// and the worst mistakes with their explanations.
func (e *Evaluation) WriteReport(w io.Writer, worst int) error {
	c := e.Overall()
	f := c.figures()
	var b strings.Builder
	fmt.Fprintf(&b, "listings: %d   precision: %s   recall: %s   F1: %s\n\n", len(e.Outcomes), f.precision, f.recall, f.f1)
	fmt.Fprintf(&b, "confusion matrix      predicted+  predicted-\n")
	fmt.Fprintf(&b, "  infringing         %10d  %10d\n", c.TP, c.FN)
	fmt.Fprintf(&b, "  not infringing     %10d  %10d\n\n", c.FP, c.TN)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tlabel\tn\tflagged\tmissed\tprecision\trecall\tF1\t")
	for _, k := range e.ByKind() {
		label := "neg"
		if k.Infringing {
			label = "pos"
		}
		if k.Infringing {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t\n", k.Kind, label, k.TP+k.FN, k.TP, k.FN,
				ratioText(k.TP, k.TP+k.FP, 3), ratioText(k.TP, k.TP+k.FN, 3), f1Text(k.Counts, 3))
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t-\t-\t-\t-\t\n", k.Kind, label, k.FP+k.TN, k.FP)
		}
	}
	tw.Flush()
	b.WriteString("  (for negative kinds 'flagged' counts false positives)\n\n")

	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "matcher\tfired\tTP\tFP\tprecision\tshare of TPs\t")
	for _, m := range e.ByMatcher() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%.3f\t\n", m.Matcher, m.Total(), m.TP, m.FP, ratioText(m.TP, m.TP+m.FP, 3), m.Share)
	}
	tw.Flush()
	b.WriteString("  (a matcher 'fired' when its signal was positive for the listing's deciding mark)\n\n")

	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "score\tlistings\tinfringing\tshare\t")
	for _, r := range e.Reliability() {
		share := "-"
		if r.N > 0 {
			share = fmt.Sprintf("%.2f", float64(r.Infringing)/float64(r.N))
		}
		fmt.Fprintf(tw, "%.1f–%.1f\t%d\t%d\t%s\t\n", r.Lo, r.Hi, r.N, r.Infringing, share)
	}
	tw.Flush()

	fps, fns := e.Worst(worst)
	fmt.Fprintf(&b, "\nworst false positives (%d shown)\n", len(fps))
	for _, o := range fps {
		fmt.Fprintf(&b, "  %.3f  %s [%s] %q\n         %s\n", o.Score, o.ListingID, o.Label.Kind, o.Title, orNone(o.Explanation))
	}
	fmt.Fprintf(&b, "\nworst false negatives (%d shown)\n", len(fns))
	for _, o := range fns {
		fmt.Fprintf(&b, "  %.3f  %s [%s] %q\n         %s\n", o.Score, o.ListingID, o.Label.Kind, o.Title, orNone(o.Explanation))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// figures are the overall precision, recall and F1 as the report and the
// plots print them: one rounding everywhere, and "n/a" where a ratio is
// 0/0 (no listing flagged: precision is unknown, not perfect).
type figures struct{ precision, recall, f1 string }

func (c Counts) figures() figures {
	return figures{
		precision: ratioText(c.TP, c.TP+c.FP, 4),
		recall:    ratioText(c.TP, c.TP+c.FN, 4),
		f1:        f1Text(c, 4),
	}
}

// ratioText is a/b with digits decimals, or "n/a" when b is 0.
func ratioText(a, b, digits int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", digits, float64(a)/float64(b))
}

// f1Text is c's F1 with digits decimals, or "n/a" when precision or
// recall is 0/0.
func f1Text(c Counts, digits int) string {
	if c.TP+c.FP == 0 || c.TP+c.FN == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", digits, c.F1())
}

func orNone(s string) string {
	if s == "" {
		return "(no candidate mark found)"
	}
	return s
}
