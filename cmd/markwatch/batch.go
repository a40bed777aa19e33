package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/score"
)

// batchFlags are the flags score and eval share.
type batchFlags struct {
	marks, listings, config string
	allowHosts              string
	workers                 int
	threshold               float64
	quiet                   bool
}

func (f *batchFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.marks, "marks", "", "marks file, JSONL or JSON array (required)")
	fs.StringVar(&f.listings, "listings", "", "listings file, JSONL or JSON array; - for stdin (required)")
	fs.StringVar(&f.config, "config", "", "YAML configuration file (default: built-in defaults)")
	fs.StringVar(&f.allowHosts, "allow-hosts", "", "comma-separated hosts (host or host:port) images may be fetched from over http(s)")
	fs.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "listings scored in parallel")
	fs.Float64Var(&f.threshold, "threshold", 0, "complaint threshold for marks without their own (default from config)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
}

// parse parses args into fs and checks the required flags.
func (f *batchFlags) parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	return f.check(fs, stderr)
}

func (f *batchFlags) check(fs *flag.FlagSet, stderr io.Writer) error {
	var missing []string
	if f.marks == "" {
		missing = append(missing, "-marks")
	}
	if f.listings == "" {
		missing = append(missing, "-listings")
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "missing %s\n", strings.Join(missing, " and "))
		fs.Usage()
		return errUsage
	}
	if f.workers < 1 {
		f.workers = 1
	}
	return nil
}

// batch is the detection core set up for one marks file.
type batch struct {
	cfg      config.Config
	engine   *detection.Engine
	listings *detection.Images
	workers  int
	// skippedRefs counts the marks' reference images that could not be
	// used.
	skippedRefs int
}

// openBatch loads the configuration and the marks, hashes the marks'
// reference images and builds the engine.
func openBatch(ctx context.Context, f *batchFlags, stderr io.Writer) (*batch, error) {
	cfg, err := config.Load(f.config)
	if err != nil {
		return nil, err
	}
	if f.threshold != 0 {
		if f.threshold < 0 || f.threshold > 1 {
			return nil, fmt.Errorf("-threshold %g: must be in (0, 1]", f.threshold)
		}
		cfg.Detection.Threshold = f.threshold
	}
	if f.allowHosts != "" {
		cfg.Detection.Image.AllowHosts = append(cfg.Detection.Image.AllowHosts, strings.Split(f.allowHosts, ",")...)
	}
	hasher := detection.HasherFrom(cfg.Detection)
	marks, err := detection.ReadMarks(f.marks, cfg.Limits)
	if err != nil {
		return nil, err
	}
	markImages, err := newImages(cfg, filepath.Dir(f.marks), hasher)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	bar := newBar(len(marks), "hashing mark images", f.quiet || len(marks) < 50, stderr)
	prepared, skipped, err := detection.PrepareMarks(ctx, marks, markImages, func() { _ = bar.Add(1) })
	_ = bar.Finish()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.marks, err)
	}
	// A reference image that cannot be used is reported and left out;
	// its mark is scored with the rest.
	for _, s := range skipped {
		fmt.Fprintf(stderr, "%s: %v\n", f.marks, s)
	}
	eng, err := detection.Build(prepared, detection.OptionsFrom(cfg.Detection))
	if err != nil {
		return nil, err
	}
	if !f.quiet {
		fmt.Fprintf(stderr, "indexed %d marks in %s\n", eng.Marks(), time.Since(start).Round(time.Millisecond))
	}
	listingDir := "."
	if f.listings != "-" {
		listingDir = filepath.Dir(f.listings)
	}
	li, err := newImages(cfg, listingDir, hasher)
	if err != nil {
		return nil, err
	}
	return &batch{cfg: cfg, engine: eng, listings: li, workers: f.workers, skippedRefs: len(skipped)}, nil
}

// newImages returns an image preparer that resolves relative paths and
// file:// URLs against dir and fetches http(s) only from allowed hosts.
func newImages(cfg config.Config, dir string, h detection.Hasher) (*detection.Images, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fetch, err := imagefetch.New(imagefetch.Options{
		AllowHosts: cfg.Detection.Image.AllowHosts,
		MaxBytes:   cfg.Detection.Image.MaxBytes,
		Timeout:    cfg.Detection.Image.FetchTimeout,
		BaseDir:    abs,
		AllowFiles: true,
		UserAgent:  "markwatch/" + version,
	})
	if err != nil {
		return nil, err
	}
	return detection.ImagesFrom(cfg.Detection, fetch, h, nil)
}

// scored is one listing record after scoring, or the reason it was not.
type scored struct {
	line    int
	listing *domain.Listing
	images  []matchers.ListingImage
	results []score.Result
	err     error
}

// run scores every listing record of the listings file with b.workers
// workers and calls emit for each, in input order.
func (b *batch) run(ctx context.Context, path string, quiet bool, stderr io.Writer, emit func(scored) error) error {
	in, total, err := openListings(path)
	if err != nil {
		return err
	}
	defer in.Close()
	bar := newBar(total, "scoring", quiet || total < 200, stderr)
	defer bar.Finish()

	type job struct {
		seq int
		rec detection.Record
	}
	jobs := make(chan job)
	results := make(chan struct {
		seq int
		s   scored
	}, b.workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	for range b.workers {
		wg.Go(func() {
			for j := range jobs {
				s := b.scoreRecord(ctx, j.rec)
				select {
				case results <- struct {
					seq int
					s   scored
				}{j.seq, s}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(jobs)
		seq := 0
		for rec := range detection.Records(in, b.cfg.Limits.MaxMessageBytes) {
			select {
			case jobs <- job{seq, rec}:
				seq++
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	// Reorder: results arrive out of order; emit them by sequence.
	pending := map[int]scored{}
	next := 0
	for r := range results {
		pending[r.seq] = r.s
		for {
			s, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			_ = bar.Add(1)
			if err := emit(s); err != nil {
				cancel()
				return err
			}
		}
	}
	return ctx.Err()
}

func (b *batch) scoreRecord(ctx context.Context, rec detection.Record) scored {
	s := scored{line: rec.Line}
	if rec.Err != nil {
		s.err = rec.Err
		return s
	}
	l, err := domain.DecodeListing(rec.Data, b.cfg.Limits)
	if err != nil {
		s.err = err
		return s
	}
	s.listing = l
	p := matchers.NewListing(l)
	// The images' pixels (logo detection's dense check, pooled) are for
	// scoring only; the report reads the rest of the images.
	defer func() { matchers.ReleasePixels(p.Images) }()
	if p.Images, err = b.listings.Listing(ctx, l); err != nil {
		s.err = err
		return s
	}
	s.images = p.Images
	if s.results, err = b.engine.Score(ctx, p); err != nil {
		s.err = err
	}
	return s
}

// openListings opens the listings file (or stdin for "-") and counts its
// lines for the progress bar; the count is -1 when unknown.
func openListings(path string) (io.ReadCloser, int, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("listings: %w", err)
	}
	n, err := countRecords(f)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("listings: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("listings: %w", err)
	}
	return f, n, nil
}

// countRecords counts lines, which is what a JSONL file has records on
// (near enough for a progress bar); for a JSON array it gives up (-1).
func countRecords(r io.Reader) (int, error) {
	buf := make([]byte, 256<<10)
	n, first, last := 0, true, byte('\n')
	for {
		k, err := r.Read(buf)
		chunk := buf[:k]
		if first && len(bytes.TrimSpace(chunk)) > 0 {
			if bytes.TrimSpace(chunk)[0] == '[' {
				return -1, nil
			}
			first = false
		}
		n += bytes.Count(chunk, []byte{'\n'})
		if k > 0 {
			last = chunk[k-1]
		}
		if err == io.EOF {
			if last != '\n' {
				n++
			}
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// newBar returns a progress bar on stderr, or a silent one. A bar is
// drawn only on a terminal: in a log file or a pipe its frames are noise
// (dozens per run), and the summary at the end says what it would have.
func newBar(total int, desc string, silent bool, stderr io.Writer) *progressbar.ProgressBar {
	if silent || !isTerminal(stderr) {
		return progressbar.DefaultSilent(int64(total))
	}
	return progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("listings"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
		progressbar.OptionSetWidth(30),
	)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
