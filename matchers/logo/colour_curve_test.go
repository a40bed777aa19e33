package logo

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/matchers"
)

// TestLogoColourCurve measures the colour planes (Options.ColourMinDense)
// where they are for: photos whose logo is printed in an ink of another
// hue than the product under it but of its brightness
// (generate.SceneOptions.ToneMatched), MARKWATCH_LOGO_COLOUR_CURVE_PHOTOS
// (default 200) showing one of MARKWATCH_LOGO_CURVE_LOGOS (1,000) indexed
// logos and as many showing a logo that is not indexed (the curve's
// look-alikes: the same emblems and typefaces, other names), printed the
// same way. It writes, for colour planes off and at several bars (the
// plane's dense share and the fit's inliers), the recall and the share
// of look-alike photos with a logo found, and the recall by the logo's
// width. It runs only with MARKWATCH_LOGO_COLOUR_CURVE=<file> (figures in
// docs/BENCHMARKS.md, "Colour planes").
func TestLogoColourCurve(t *testing.T) {
	out := os.Getenv("MARKWATCH_LOGO_COLOUR_CURVE")
	if out == "" {
		t.Skip("set MARKWATCH_LOGO_COLOUR_CURVE=<file> to measure the colour planes on tone-matched prints")
	}
	nLogos := envInt("MARKWATCH_LOGO_CURVE_LOGOS", 1000)
	n := envInt("MARKWATCH_LOGO_COLOUR_CURVE_PHOTOS", 200)
	logos := inventLogos(t, 11, nLogos)
	other := inventLogos(t, 12, 100)
	pos, neg := scenes(t, 15, logos, other, n, generate.SceneOptions{ToneMatched: true})
	m, err := New(marksOf(logos), envOptions())
	if err != nil {
		t.Fatal(err)
	}
	m.denseAll = true
	type fitted struct {
		luma   []Detection
		planes [][]Detection
	}
	fitAll := func(sc []scene) []fitted {
		res := make([]fitted, len(sc))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for i, s := range sc {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				f := pixelExtractor.ListingColour(planesOf(t, s.jpeg))
				defer f.ReleasePixels()
				fs, err := m.fits(t.Context(), &matchers.ListingImage{Features: f})
				if err != nil {
					t.Error(err)
					return
				}
				res[i].luma = fs
				if res[i].planes, err = m.colourFits(t.Context(), &matchers.ListingImage{Features: f}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return res
	}
	fp, fn := fitAll(pos), fitAll(neg)
	var b strings.Builder
	fmt.Fprintf(&b, "# logos %d; photos %d with an indexed logo, %d with a look-alike, each printed tone-matched (another hue, the product's luma), JPEG 40\n", nLogos, len(pos), len(neg))
	fmt.Fprintf(&b, "# colour_min_dense colour_min_inliers recall false_match_rate found_in_colour wrong_logo\n")
	type bar struct {
		dense   float64
		inliers int
	}
	for _, br := range []bar{{-1, 0}, {0.8, 16}, {0.85, 16}, {0.9, 16}, {0.95, 16}, {0.9, 24}, {0.9, 32}, {0.85, 32}, {0.8, 32}} {
		o := envOptions()
		o.ColourMinDense, o.ColourMinInliers = br.dense, br.inliers
		o = o.withDefaults()
		colour := 0
		decided := func(fs []fitted, count bool) func(int) []Detection {
			return func(i int) []Detection {
				ds := o.decide(fs[i].luma)
				cs := o.colourKept(fs[i].luma, fs[i].planes)
				if count {
					colour += len(cs)
				}
				return append(ds, cs...)
			}
		}
		r := tally(pos, neg, decided(fp, true), decided(fn, false))
		fmt.Fprintf(&b, "%g %d %.4f %.4f %d %d\n", br.dense, br.inliers, float64(r.found)/float64(len(pos)), float64(r.negHit)/float64(len(neg)), colour, r.wrong)
	}
	// The luma's confirmation of the colour planes' fits kept at 0.8
	// (LumaDense): of the right logo, and of look-alikes.
	o8 := envOptions()
	o8.ColourMinDense, o8.ColourMinInliers = 0.8, 16
	o8 = o8.withDefaults()
	var right, wrong []string
	for i, sc := range pos {
		for _, d := range o8.colourKept(fp[i].luma, fp[i].planes) {
			s := fmt.Sprintf("%.2f/%.2f/%d", d.LumaDense, d.Dense, d.Inliers)
			if d.Mark.MarkID == fmt.Sprintf("m%05d", sc.logo) {
				right = append(right, s)
			} else {
				wrong = append(wrong, s)
			}
		}
	}
	for i := range neg {
		for _, d := range o8.colourKept(fn[i].luma, fn[i].planes) {
			wrong = append(wrong, fmt.Sprintf("%.2f/%.2f/%d", d.LumaDense, d.Dense, d.Inliers))
		}
	}
	fmt.Fprintf(&b, "# colour detections at 0.8 and 16 inliers (luma dense / plane dense / inliers): right logo %v; another logo or a look-alike %v\n", right, wrong)
	// Recall at the defaults by the logo's width in the photo.
	o := envOptions().withDefaults()
	var found, all [3]int
	for i, sc := range pos {
		w := float64(sc.box.Dx()) / 800
		k := min(2, max(0, int((w-0.08)/0.12)))
		all[k]++
		ds := append(o.decide(fp[i].luma), o.colourKept(fp[i].luma, fp[i].planes)...)
		for _, d := range ds {
			if !d.Partial && d.Mark.MarkID == fmt.Sprintf("m%05d", sc.logo) {
				found[k]++
				break
			}
		}
	}
	fmt.Fprintf(&b, "# recall at the defaults by the logo's box width: 8-20%% %d/%d, 20-32%% %d/%d, 32%% and over %d/%d\n", found[0], all[0], found[1], all[1], found[2], all[2])
	t.Log("\n" + b.String())
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
