package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/markwatch/markwatch/internal/evaluation"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("markwatch eval", flag.ContinueOnError)
	var f batchFlags
	f.register(fs)
	plot := fs.String("plot", "", "write the precision–recall curve to this PNG file")
	plotThreshold := fs.String("plot-threshold", "", "write precision and recall against the threshold, the chosen one marked, to this PNG file")
	worst := fs.Int("worst", 10, "how many of the worst false positives and negatives to show")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch eval -marks M -listings L [-plot pr.png] [-plot-threshold threshold.png] [flags]\n\nListings carry a label {infringing, mark_id, kind}. Prints precision, recall and F1\noverall, per matcher and per label kind, the confusion matrix and the worst mistakes.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := f.parse(fs, args, stderr); err != nil {
		return err
	}
	start := time.Now()
	b, err := openBatch(ctx, &f, stderr)
	if err != nil {
		return err
	}
	defer b.engine.Close()
	var ev evaluation.Evaluation
	bad, unlabeled := 0, 0
	err = b.run(ctx, f.listings, f.quiet, stderr, func(s scored) error {
		switch {
		case s.err != nil:
			bad++
			fmt.Fprintf(stderr, "%s:%d: skipped: %v\n", f.listings, s.line, s.err)
		case s.listing.Label == nil:
			unlabeled++
			fmt.Fprintf(stderr, "%s:%d: skipped: listing %s has no label\n", f.listings, s.line, s.listing.ListingID)
		default:
			ev.Add(s.listing, s.results)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(ev.Outcomes) == 0 {
		return fmt.Errorf("%s: no labeled listings to evaluate", f.listings)
	}
	fmt.Fprintf(stdout, "evaluated %d labeled listings against %d marks in %s (threshold %.2f)\n",
		len(ev.Outcomes), b.engine.Marks(), time.Since(start).Round(time.Millisecond), b.cfg.Detection.Threshold)
	if err := ev.WriteReport(stdout, *worst); err != nil {
		return err
	}
	if *plot != "" {
		if err := ev.PlotCurve(*plot, b.cfg.Detection.Threshold); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nprecision–recall curve written to %s\n", *plot)
	}
	if *plotThreshold != "" {
		if err := ev.PlotThreshold(*plotThreshold, b.cfg.Detection.Threshold); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "precision and recall by threshold written to %s\n", *plotThreshold)
	}
	if bad+unlabeled > 0 {
		fmt.Fprintf(stderr, "%d malformed and %d unlabeled lines skipped\n", bad, unlabeled)
		return exitError{1}
	}
	return nil
}
