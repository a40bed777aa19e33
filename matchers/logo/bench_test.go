package logo

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// manyMarks returns n marks with logo features: the features of base's
// logos, each copy XORed with a random mask of its own. A mask moves every
// descriptor to other buckets while keeping how a logo's descriptors relate
// to each other, so 10,000 logos cost the index what 10,000 drawn logos
// would, without drawing them.
func manyMarks(base *logoSet, n int) []*matchers.Mark {
	r := rand.New(rand.NewPCG(99, 1))
	out := make([]*matchers.Mark, n)
	for i := range n {
		src := base.feats[i%len(base.feats)]
		f := src
		if i >= len(base.feats) {
			mask := matchers.Descriptor{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
			f = &matchers.Features{W: src.W, H: src.H, Points: src.Points, Desc: make([]matchers.Descriptor, len(src.Desc))}
			for j, d := range src.Desc {
				for k := range d {
					f.Desc[j][k] = d[k] ^ mask[k]
				}
			}
		}
		out[i] = &matchers.Mark{
			Mark:       &domain.Mark{MarkID: fmt.Sprintf("m%05d", i), Status: domain.MarkActive},
			References: []matchers.ReferenceImage{{Kind: matchers.RefLogo, URL: fmt.Sprintf("logo-%05d.png", i), Features: f}},
		}
	}
	return out
}

// benchmarkListing is the per-image cost of logo detection on an 800×800
// JPEG (quality 40) seller's photo showing one indexed logo, with n logos
// indexed: features (keypoints and descriptors) then matching and
// verification. The JPEG decode is not included (see
// BenchmarkLumaDecode800): it is the same full decode for any detector.
// The pixels are kept for dense verification, as the detector keeps them
// (MARKWATCH_LOGO_MIN_DENSE=-1: not, and not checked), and the colour
// planes described and matched as the detector does by default
// (MARKWATCH_LOGO_COLOUR_MIN_DENSE=-1: not).
func benchmarkListing(b *testing.B, n int) {
	logos := inventLogos(b, 21, 200)
	o := envOptions()
	o.MinDenseShare = envFloat("MARKWATCH_LOGO_MIN_DENSE")
	m, err := New(manyMarks(logos, n), o)
	if err != nil {
		b.Fatal(err)
	}
	colour := o.MinDenseShare >= 0 && envFloat("MARKWATCH_LOGO_COLOUR_MIN_DENSE") >= 0
	ex := NewExtractor(ExtractorOptions{Pixels: o.MinDenseShare >= 0, Colour: colour})
	var imgs []*matchers.Features
	grays := benchPhotos(b, logos)
	for _, p := range grays {
		imgs = append(imgs, ex.ListingColour(p.y, p.cb, p.cr))
	}
	idx, _ := m.Logos()
	b.ReportMetric(float64(m.IndexBytes())/float64(idx)*1000/(1<<20), "MiB/1000logos")
	b.Run("extract", func(b *testing.B) {
		c0 := cpuTime()
		for i := 0; b.Loop(); i++ {
			p := grays[i%len(grays)]
			ex.ListingColour(p.y, p.cb, p.cr).ReleasePixels()
		}
		b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
	b.Run("match", func(b *testing.B) {
		c0 := cpuTime()
		for i := 0; b.Loop(); i++ {
			// As a new image: its pyramids (the luma's and the colour
			// planes') not built yet.
			f := freshPixels(imgs[i%len(imgs)])
			l := &matchers.Listing{Listing: &domain.Listing{}, Images: []matchers.ListingImage{{Features: f}}}
			if _, err := m.Detect(b.Context(), l); err != nil {
				b.Fatal(err)
			}
			f.ReleasePixels()
		}
		b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}

// photoPlanes are a photo's luma and colour planes.
type photoPlanes struct{ y, cb, cr *image.Gray }

// benchPhotos are the benchmarks' 8 800×800 JPEG (quality 40) sellers'
// photos, the i-th showing logos' logo i, decoded.
func benchPhotos(b *testing.B, logos *logoSet) []photoPlanes {
	var out []photoPlanes
	for i := range 8 {
		r := rand.New(rand.NewPCG(22, uint64(i)))
		img, _ := generate.LogoScene(r, logos.imgs[i], generate.SceneOptions{})
		y, cb, cr := planesOf(b, encodeJPEG(b, img, 40))
		out = append(out, photoPlanes{y, cb, cr})
	}
	return out
}

// freshPixels is a copy of f whose pixels (and its colour planes') have
// no pyramid built yet, as a photo's first matching finds them.
func freshPixels(f *matchers.Features) *matchers.Features {
	g := *f
	if px, ok := f.Pixels.(*pixels); ok {
		fresh := *px
		fresh.built = nil
		g.Pixels = &fresh
	}
	g.Colour = nil
	for _, c := range f.Colour {
		g.Colour = append(g.Colour, freshPixels(c))
	}
	return &g
}

func BenchmarkListing1kLogos(b *testing.B)  { benchmarkListing(b, 1_000) }
func BenchmarkListing10kLogos(b *testing.B) { benchmarkListing(b, 10_000) }

// BenchmarkLogoFeatures is the cost of a logo's features at registration.
func BenchmarkLogoFeatures(b *testing.B) {
	logos := inventLogos(b, 21, 8)
	ex := NewExtractor(ExtractorOptions{})
	gs := make([]*imageGray, len(logos.imgs))
	for i, img := range logos.imgs {
		gs[i] = toGray(img)
	}
	for i := 0; b.Loop(); i++ {
		if _, err := ex.Logo(gs[i%len(gs)]); err != nil {
			b.Fatal(err)
		}
	}
}

type imageGray = image.Gray

// BenchmarkListingCurveSet is the matching cost on TestLogoCurve's drawn
// set (MARKWATCH_LOGO_CURVE_CACHE, written by a curve run; skipped
// without it): its logos are all drawn, so they share emblems and
// typefaces as marks do, where BenchmarkListing1kLogos's are 200 drawn
// logos and copies of them under random bit masks. Each operation is one
// photo's fits, the first 20 photos of each kind in turn.
func BenchmarkListingCurveSet(b *testing.B) {
	cache := os.Getenv("MARKWATCH_LOGO_CURVE_CACHE")
	if cache == "" {
		b.Skip("set MARKWATCH_LOGO_CURVE_CACHE to a curve run's drawn set")
	}
	data, err := os.ReadFile(cache)
	if err != nil {
		b.Fatal(err)
	}
	var cs curveSet
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&cs); err != nil {
		b.Fatal(err)
	}
	m, err := New(marksOf(&logoSet{names: make([]string, len(cs.Logos)), feats: cs.Logos}), envOptions())
	if err != nil {
		b.Fatal(err)
	}
	var imgs []*matchers.Features
	for _, s := range append(cs.Pos[:min(20, len(cs.Pos)):min(20, len(cs.Pos))], cs.Neg[:min(20, len(cs.Neg))]...) {
		imgs = append(imgs, s.F)
	}
	c0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, err := m.fits(b.Context(), &matchers.ListingImage{Features: imgs[i%len(imgs)]}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(m.IndexBytes())/(1<<20), "index-MiB")
}

// BenchmarkListingFeatures is BenchmarkListing1kLogos/extract without
// the index it builds first: the features of the same 800×800 JPEG
// photos, so that a change to the extraction can be compared in
// repeated short runs.
func BenchmarkListingFeatures(b *testing.B) {
	logos := inventLogos(b, 21, 8)
	ex := NewExtractor(ExtractorOptions{})
	var gs []*imageGray
	for i := range 8 {
		r := rand.New(rand.NewPCG(22, uint64(i)))
		img, _ := generate.LogoScene(r, logos.imgs[i], generate.SceneOptions{})
		gs = append(gs, lumaOf(b, encodeJPEG(b, img, 40)))
	}
	c0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		ex.Listing(gs[i%len(gs)])
	}
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkListingColourFeatures is BenchmarkListingFeatures with the
// colour planes described too (ExtractorOptions.Colour), as the detector
// does by default: the luma's features, then each 400×400 plane's.
func BenchmarkListingColourFeatures(b *testing.B) {
	logos := inventLogos(b, 21, 8)
	ex := NewExtractor(ExtractorOptions{Pixels: true, Colour: true})
	ps := benchPhotos(b, logos)
	c0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		p := ps[i%len(ps)]
		ex.ListingColour(p.y, p.cb, p.cr).ReleasePixels()
	}
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkDenseVerify is the cost of dense verification of one fit on a
// photo checked for the first time: the pyramid's rows the fit needs made
// from the kept working plane, then a descriptor at each of the logo's
// places (8 800×800 JPEG photos, each with its logo's fit).
func BenchmarkDenseVerify(b *testing.B) {
	logos := inventLogos(b, 21, 200)
	m, err := New(marksOf(logos), Options{})
	if err != nil {
		b.Fatal(err)
	}
	ex := NewExtractor(ExtractorOptions{Pixels: true})
	type job struct {
		px   *pixels
		pose fitPose
	}
	var jobs []job
	for i := range 8 {
		r := rand.New(rand.NewPCG(22, uint64(i)))
		img, _ := generate.LogoScene(r, logos.imgs[i], generate.SceneOptions{})
		f := ex.Listing(lumaOf(b, encodeJPEG(b, img, 40)))
		fits, poses, err := m.posedFits(b.Context(), &matchers.ListingImage{Features: f}, m.o.MinInliers)
		if err != nil {
			b.Fatal(err)
		}
		for k := range fits {
			if poses[k].lr.url == fmt.Sprintf("logo-%05d.png", i) || k == len(fits)-1 {
				jobs = append(jobs, job{f.Pixels.(*pixels), poses[k]})
				break
			}
		}
	}
	if len(jobs) == 0 {
		b.Fatal("no fit to verify")
	}
	c0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		j := jobs[i%len(jobs)]
		fresh := *j.px
		fresh.built = nil
		lr := j.pose.lr
		denseShare(&fresh, &lr, m.ix.pts[lr.first:lr.first+lr.n], m.ix.desc[lr.first:lr.first+lr.n], &j.pose.pl)
		fresh.Release()
	}
	b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
