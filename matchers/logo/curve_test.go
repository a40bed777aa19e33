package logo

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"image"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/matchers"
)

// envInt reads a size of the curve from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestLogoCurve measures the logo-detection curve: recall on sellers'
// photos showing an indexed logo (8–40% of the width, ±30°, mild
// perspective, recoloured, JPEG 40) against the share of photos showing a
// logo that is not indexed in which some logo is found, at several
// MinInliers thresholds, with MARKWATCH_LOGO_CURVE_LOGOS logos indexed
// (default 1000). It runs only with MARKWATCH_LOGO_CURVE set (it draws
// hundreds of photos) and writes the table to the file that variable
// names, for docs/BENCHMARKS.md and docs/logo-curve.svg. With
// MARKWATCH_LOGO_CURVE_SEEDS=n (default 1) the fits are computed n times
// with other RANSAC seeds and each point gains the mean, least and most
// recall and false-match rate over them (the first columns stay those of
// the production seed).
func TestLogoCurve(t *testing.T) {
	out := os.Getenv("MARKWATCH_LOGO_CURVE")
	if out == "" {
		t.Skip("set MARKWATCH_LOGO_CURVE=<file> to measure the logo-detection curve")
	}
	nLogos := envInt("MARKWATCH_LOGO_CURVE_LOGOS", 1000)
	nPos := envInt("MARKWATCH_LOGO_CURVE_PHOTOS", 300)
	nNeg := envInt("MARKWATCH_LOGO_CURVE_UNRELATED", 1000)
	var (
		marks    []*matchers.Mark
		pos, neg []scene
	)
	// Drawing the set takes most of the run: MARKWATCH_LOGO_CURVE_CACHE
	// names a file that keeps it between runs while tuning.
	cache := os.Getenv("MARKWATCH_LOGO_CURVE_CACHE")
	var cs curveSet
	if cache != "" {
		if data, err := os.ReadFile(cache); err == nil {
			if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&cs); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(cs.Logos) != nLogos || len(cs.Pos) != nPos || len(cs.Neg) != nNeg || (nPos > 0 && cs.Pos[0].JPEG == nil) {
		logos := inventLogos(t, 11, nLogos)
		other := inventLogos(t, 12, max(50, nNeg/10))
		p, _ := scenes(t, 13, logos, other, nPos, generate.SceneOptions{})
		_, n := scenes(t, 14, logos, other, nNeg, generate.SceneOptions{})
		cs = curveSet{Logos: logos.feats}
		for _, sc := range p {
			cs.Pos = append(cs.Pos, cachedScene{sc.logo, sc.box, sc.f, sc.jpeg})
		}
		for _, sc := range n {
			cs.Neg = append(cs.Neg, cachedScene{sc.logo, sc.box, sc.f, sc.jpeg})
		}
		if cache != "" {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(&cs); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cache, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	marks = marksOf(&logoSet{names: make([]string, len(cs.Logos)), feats: cs.Logos})
	for _, c := range cs.Pos {
		pos = append(pos, scene{c.Logo, c.Box, c.F, c.JPEG})
	}
	for _, c := range cs.Neg {
		neg = append(neg, scene{c.Logo, c.Box, c.F, c.JPEG})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# logos %d, photos with an indexed logo %d, photos with another logo %d\n", nLogos, len(pos), len(neg))
	// The fits are found once; each threshold decides on them as Detect
	// would.
	// MARKWATCH_LOGO_CURVE_SEEDS runs the fits again with other RANSAC
	// seeds: a fit near a threshold (a rival at 0.8 times the inliers,
	// a coverage at 0.2) passes or fails with the samples drawn, so two
	// variants compared on one seed differ by luck as well as by code.
	seeds := envInt("MARKWATCH_LOGO_CURVE_SEEDS", 1)
	ms := make([]*Matcher, seeds)
	for seed := range ms {
		m, err := New(marks, envOptions())
		if err != nil {
			t.Fatal(err)
		}
		m.seed = uint64(seed) * curveSeedStep
		m.denseAll = true
		ms[seed] = m
	}
	// Each photo's features are computed once, with its pixels kept for
	// dense verification (unless MARKWATCH_LOGO_MIN_DENSE is negative),
	// and fitted with every seed's matcher before the pixels are let go:
	// fits[seed][i].
	withPixels := envFloat("MARKWATCH_LOGO_MIN_DENSE") >= 0
	// The colour planes' fits (MARKWATCH_LOGO_COLOUR_MIN_DENSE not
	// negative) are planes[seed][i][plane].
	type fitSet struct {
		fits   [][][]Detection
		planes [][][][]Detection
	}
	fitsOf := func(sc []scene) fitSet {
		out := make([][][]Detection, seeds)
		planes := make([][][][]Detection, seeds)
		for s := range out {
			out[s] = make([][]Detection, len(sc))
			planes[s] = make([][][]Detection, len(sc))
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for i, s := range sc {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				f := s.f
				if withPixels {
					f = s.pixels(t)
					defer f.ReleasePixels()
				}
				for seed, m := range ms {
					fs, err := m.fits(t.Context(), &matchers.ListingImage{Features: f})
					if err != nil {
						t.Error(err)
						return
					}
					out[seed][i] = fs
					if len(f.Colour) > 0 {
						if planes[seed][i], err = m.colourFits(t.Context(), &matchers.ListingImage{Features: f}); err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		return fitSet{out, planes}
	}
	type point struct{ recall, fmr []float64 }
	points := make([]point, len(curveThresholds))
	var partial point
	var rows []string
	c0 := cpuTime()
	allPos := fitsOf(pos)
	allNeg := fitsOf(neg)
	fmt.Fprintf(&b, "# features and matching %.1f cpu-ms per photo over %d seeds (shortlist %d of %d tables, %d nearest, margin %d)\n", float64((cpuTime()-c0).Microseconds())/1000/float64(len(pos)+len(neg)), seeds, ms[0].o.Shortlist, ms[0].o.ShortlistTables, ms[0].o.ShortlistNearest, ms[0].o.ShortlistMargin)
	for seed := range seeds {
		posFits, negFits := allPos.fits[seed], allNeg.fits[seed]
		// What Detect keeps of a photo's fits: the luma's decided, and
		// the colour planes' (Options.colourKept).
		decided := func(o Options, fits [][]Detection, planes [][][]Detection) func(int) []Detection {
			return func(i int) []Detection {
				return append(o.decide(fits[i]), o.colourKept(fits[i], planes[i])...)
			}
		}
		posPlanes, negPlanes := allPos.planes[seed], allNeg.planes[seed]
		if os.Getenv("MARKWATCH_LOGO_CURVE_DUMP") != "" {
			dump(t, posFits, pos, fmt.Sprintf("s%d pos", seed))
			dump(t, negFits, neg, fmt.Sprintf("s%d neg", seed))
		}
		for k, th := range curveThresholds {
			// Whole detections: partial ones are evidence only in
			// context, counted below.
			o := Options{MinInliers: th.k, MinCoverage: th.cov, MinDistinct: th.dist, MaxRival: th.rival, MinPartialCoverage: -1, MinEvenness: envFloat("MARKWATCH_LOGO_MIN_EVENNESS"), MinGuidedEvenness: envFloat("MARKWATCH_LOGO_MIN_GUIDED"), MinDenseShare: envFloat("MARKWATCH_LOGO_MIN_DENSE"), MinDenseEvenness: envFloat("MARKWATCH_LOGO_MIN_DENSE_EVEN"), RivalDenseMargin: envFloat("MARKWATCH_LOGO_RIVAL_DENSE"), RivalMinDense: envFloat("MARKWATCH_LOGO_RIVAL_MIN_DENSE"), RivalApartMargin: envFloat("MARKWATCH_LOGO_RIVAL_APART"), RivalApartMin: envFloat("MARKWATCH_LOGO_RIVAL_APART_MIN"), ColourMinDense: envFloat("MARKWATCH_LOGO_COLOUR_MIN_DENSE")}.withDefaults()
			r := tally(pos, neg, decided(o, posFits, posPlanes), decided(o, negFits, negPlanes))
			recall, fmr := float64(r.found)/float64(len(pos)), float64(r.negHit)/float64(len(neg))
			points[k].recall, points[k].fmr = append(points[k].recall, recall), append(points[k].fmr, fmr)
			if seed == 0 {
				rows = append(rows, fmt.Sprintf("%d %.2f %.1f %.1f %.4f %.4f %d %d", th.k, th.cov, th.dist, th.rival, recall, fmr, r.boxOK, r.wrong))
			}
		}
		// The partial tier at the defaults (Options.MinPartialCoverage):
		// the photos whose logo is found only partly, and the unrelated
		// photos with a partial detection and no whole one.
		o := Options{MinEvenness: envFloat("MARKWATCH_LOGO_MIN_EVENNESS"), MinGuidedEvenness: envFloat("MARKWATCH_LOGO_MIN_GUIDED"), MinDenseShare: envFloat("MARKWATCH_LOGO_MIN_DENSE"), MinDenseEvenness: envFloat("MARKWATCH_LOGO_MIN_DENSE_EVEN"), RivalDenseMargin: envFloat("MARKWATCH_LOGO_RIVAL_DENSE"), RivalMinDense: envFloat("MARKWATCH_LOGO_RIVAL_MIN_DENSE"), RivalApartMargin: envFloat("MARKWATCH_LOGO_RIVAL_APART"), RivalApartMin: envFloat("MARKWATCH_LOGO_RIVAL_APART_MIN"), ColourMinDense: envFloat("MARKWATCH_LOGO_COLOUR_MIN_DENSE")}.withDefaults()
		r := tally(pos, neg, decided(o, posFits, posPlanes), decided(o, negFits, negPlanes))
		partial.recall = append(partial.recall, float64(r.partFound)/float64(len(pos)))
		partial.fmr = append(partial.fmr, float64(r.partNeg)/float64(len(neg)))
	}
	def := Options{}.withDefaults()
	fmt.Fprintf(&b, "# min_evenness %g (MARKWATCH_LOGO_MIN_EVENNESS; 0: the default, %g; -1: not checked)\n", envFloat("MARKWATCH_LOGO_MIN_EVENNESS"), def.MinEvenness)
	fmt.Fprintf(&b, "# min_guided_evenness %g (MARKWATCH_LOGO_MIN_GUIDED; 0: the default, %g; -1: not checked)\n", envFloat("MARKWATCH_LOGO_MIN_GUIDED"), def.MinGuidedEvenness)
	fmt.Fprintf(&b, "# min_dense_share %g (MARKWATCH_LOGO_MIN_DENSE; 0: the default, %g; -1: not checked)\n", envFloat("MARKWATCH_LOGO_MIN_DENSE"), def.MinDenseShare)
	fmt.Fprintf(&b, "# min_dense_evenness %g (MARKWATCH_LOGO_MIN_DENSE_EVEN; 0: the default, %g; -1: not checked)\n", envFloat("MARKWATCH_LOGO_MIN_DENSE_EVEN"), def.MinDenseEvenness)
	fmt.Fprintf(&b, "# rival_dense_margin %g (MARKWATCH_LOGO_RIVAL_DENSE; 0: the default, %g; -1: off), rival_min_dense %g (MARKWATCH_LOGO_RIVAL_MIN_DENSE; 0: %g)\n", envFloat("MARKWATCH_LOGO_RIVAL_DENSE"), def.RivalDenseMargin, envFloat("MARKWATCH_LOGO_RIVAL_MIN_DENSE"), def.RivalMinDense)
	fmt.Fprintf(&b, "# colour_min_dense %g (MARKWATCH_LOGO_COLOUR_MIN_DENSE; 0: the default, %g; -1: colour planes not used)\n", envFloat("MARKWATCH_LOGO_COLOUR_MIN_DENSE"), def.ColourMinDense)
	fmt.Fprintf(&b, "# rival_apart_margin %g (MARKWATCH_LOGO_RIVAL_APART; 0: the default, %g; -1: off), rival_apart_min %g (MARKWATCH_LOGO_RIVAL_APART_MIN; 0: %g)\n", envFloat("MARKWATCH_LOGO_RIVAL_APART"), def.RivalApartMargin, envFloat("MARKWATCH_LOGO_RIVAL_APART_MIN"), def.RivalApartMin)
	fmt.Fprintf(&b, "# min_inliers min_coverage min_distinct max_rival recall false_match_rate box_inside wrong_logo")
	if seeds > 1 {
		fmt.Fprintf(&b, " | over %d seeds: recall mean min max, false_match_rate mean min max", seeds)
	}
	b.WriteString("\n")
	for k, row := range rows {
		b.WriteString(row)
		if seeds > 1 {
			r, f := points[k].recall, points[k].fmr
			fmt.Fprintf(&b, " | %.4f %.4f %.4f %.4f %.4f %.4f", mean(r), slices.Min(r), slices.Max(r), mean(f), slices.Min(f), slices.Max(f))
		}
		b.WriteString("\n")
	}
	o := Options{}.withDefaults()
	fmt.Fprintf(&b, "# partial (coverage %.2f to %.2f) at the defaults: found only partly %.4f, unrelated photos with a partial match only %.4f",
		o.MinPartialCoverage, o.MinCoverage, partial.recall[0], partial.fmr[0])
	if seeds > 1 {
		r, f := partial.recall, partial.fmr
		fmt.Fprintf(&b, " | over %d seeds: %.4f %.4f %.4f, %.4f %.4f %.4f", seeds, mean(r), slices.Min(r), slices.Max(r), mean(f), slices.Min(f), slices.Max(f))
	}
	b.WriteString("\n")
	t.Log("\n" + b.String())
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// envOptions are the matcher's options for the curve and the
// benchmarks: the defaults, with the two-stage matching of
// MARKWATCH_LOGO_SHORTLIST logos from MARKWATCH_LOGO_SHORTLIST_TABLES
// tables when set, each listing descriptor voting for its
// MARKWATCH_LOGO_SHORTLIST_NEAREST nearest logos (-1: every one) within
// MARKWATCH_LOGO_SHORTLIST_MARGIN bits of its nearest in the shortlist
// (to compare the settings on the same drawn set), and
// MARKWATCH_LOGO_ITERATIONS and MARKWATCH_LOGO_MAX_ITERATIONS the least
// and most RANSAC samples per logo (equal: a fixed number, as before
// sampling stopped on confidence), MARKWATCH_LOGO_CANDIDATES the
// logos verified per photo (Options.MaxCandidates), and
// MARKWATCH_LOGO_SHORTLIST_MIN_VOTES the least first-stage score of a
// logo paired in the second stage (-1: every one shortlisted).
func envOptions() Options {
	n, _ := strconv.Atoi(os.Getenv("MARKWATCH_LOGO_SHORTLIST_NEAREST"))
	short, _ := strconv.Atoi(os.Getenv("MARKWATCH_LOGO_SHORTLIST"))
	margin, _ := strconv.Atoi(os.Getenv("MARKWATCH_LOGO_SHORTLIST_MARGIN"))
	return Options{Shortlist: short, ShortlistTables: envInt("MARKWATCH_LOGO_SHORTLIST_TABLES", 0), ShortlistNearest: n,
		ShortlistMargin: margin, Iterations: envInt("MARKWATCH_LOGO_ITERATIONS", 0),
		MaxIterations: envInt("MARKWATCH_LOGO_MAX_ITERATIONS", 0), MaxCandidates: envInt("MARKWATCH_LOGO_CANDIDATES", 0),
		ShortlistMinVotes: envFloat("MARKWATCH_LOGO_SHORTLIST_MIN_VOTES")}
}

// envFloat is the number in the environment variable name, 0 when unset
// or not a number: MARKWATCH_LOGO_MIN_EVENNESS and
// MARKWATCH_LOGO_MIN_GUIDED set MinEvenness and MinGuidedEvenness on the
// curve (unset: the defaults, 0.7; -1: not checked, as before).
func envFloat(name string) float64 {
	v, _ := strconv.ParseFloat(os.Getenv(name), 64)
	return v
}

func init() {
	// MARKWATCH_LOGO_TIE_SCALE tries another shortlistTieScale on the
	// curve.
	if v, err := strconv.ParseFloat(os.Getenv("MARKWATCH_LOGO_TIE_SCALE"), 32); err == nil {
		shortlistTieScale = float32(v)
	}
}

// curveSeedStep spaces the RANSAC seeds of TestLogoCurve's runs (a
// prime, so that logo ids and seeds do not line up).
const curveSeedStep = 7919

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(max(1, len(xs)))
}

// curveSet is TestLogoCurve's drawn set, as cached.
type curveSet struct {
	Logos    []*matchers.Features
	Pos, Neg []cachedScene
}

type cachedScene struct {
	Logo int
	Box  image.Rectangle
	F    *matchers.Features
	// JPEG is the photo as encoded (features with pixels are computed
	// from it).
	JPEG []byte
}

// curveThresholds are the curve's points: MinInliers, MinCoverage,
// MinDistinct and MaxRival.
var curveThresholds = []struct {
	k                int
	cov, dist, rival float64
}{
	{8, 0.1, 0.5, 0.9}, {12, 0.15, 1, 0.9}, {12, 0.15, 1.5, 0.8}, {16, 0.15, 1, 0.8}, {16, 0.15, 1.5, 0.8},
	{16, 0.2, 1, 0.8}, {16, 0.2, 1.5, 0.8}, {16, 0.2, 2, 0.8}, {16, 0.2, 1.5, 0.7},
	{20, 0.2, 2, 0.7}, {24, 0.25, 2, 0.7}, {16, 0.15, 0.01, 100},
}

// dump logs every fit's inliers, coverage, distinct weight and rival,
// for choosing defaults.
func dump(t *testing.T, fits [][]Detection, sc []scene, what string) {
	for i, fs := range fits {
		t.Logf("%sbox %d w %.3f", what, i, float64(sc[i].box.Dx())/float64(max(sc[i].f.W, 1)))
		for _, d := range fs {
			right := d.Mark.MarkID == fmt.Sprintf("m%05d", sc[i].logo)
			t.Logf("%s %d right=%v inliers %d coverage %.3f distinct %.2f rival %d even %.3f guided %.3f dense %.3f deven %.3f rdense %.3f apart %.3f rapart %.3f", what, i, right, d.Inliers, d.Coverage, d.Distinct, d.Rival, d.Evenness, d.Guided, d.Dense, d.DenseEvenness, d.RivalDense, d.Apart, d.RivalApart)
		}
	}
}
