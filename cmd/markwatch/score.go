package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

func runScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("markwatch score", flag.ContinueOnError)
	var f batchFlags
	f.register(fs)
	out := fs.String("out", "", "write results to this file instead of stdout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch score -marks M -listings L [-out F] [flags]\n\nScores every listing and prints one JSON line per listing:\n{listing_id, version, flagged, score, complaints [...]}.\nMalformed lines are reported with their line number and skipped; the exit status is 1 if any was.\n\nflags:")
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

	w := stdout
	var file *os.File
	if *out != "" {
		if file, err = os.Create(*out); err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)

	var st struct{ listings, flagged, complaints, bad, missingImages int }
	err = b.run(ctx, f.listings, f.quiet, stderr, func(s scored) error {
		if s.err != nil {
			st.bad++
			fmt.Fprintf(stderr, "%s:%d: skipped: %v\n", f.listings, s.line, s.err)
			return nil
		}
		st.listings++
		res := domain.ScoreResult{ListingID: s.listing.ListingID, Version: s.listing.Version, Complaints: []domain.ComplaintSummary{}}
		for _, img := range s.images {
			if img.Err != "" {
				st.missingImages++
				res.Warnings = append(res.Warnings, fmt.Sprintf("images[%d] not used: %s", img.Index, img.Err))
				fmt.Fprintf(stderr, "%s:%d: listing %s: images[%d] not used: %s\n", f.listings, s.line, s.listing.ListingID, img.Index, img.Err)
			}
		}
		for _, r := range s.results {
			res.Score = max(res.Score, r.Score)
			if !r.Flagged {
				continue
			}
			res.Flagged = true
			res.Complaints = append(res.Complaints, domain.ComplaintSummary{
				ComplaintID: r.ComplaintID, MarkID: r.Mark.MarkID, Score: r.Score,
				Explanation: r.Explanation, Evidence: r.Evidence,
			})
		}
		if res.Flagged {
			st.flagged++
		}
		st.complaints += len(res.Complaints)
		return enc.Encode(res)
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stderr, "scored %d listings against %d marks in %s (%.0f listings/s): %d flagged, %d complaints, %d malformed lines skipped, %d images not used, %d reference images skipped\n",
		st.listings, b.engine.Marks(), elapsed.Round(time.Millisecond), float64(st.listings)/elapsed.Seconds(),
		st.flagged, st.complaints, st.bad, st.missingImages, b.skippedRefs)
	if *out != "" {
		fmt.Fprintf(stderr, "results written to %s\n", *out)
	}
	if st.bad > 0 {
		return exitError{1}
	}
	return nil
}
