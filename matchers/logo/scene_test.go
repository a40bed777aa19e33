package logo

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// The tests' data: invented logos (fixtures/generate), sellers' photos
// with one of them on, and photos with a logo that is not indexed, each
// JPEG-encoded at quality 40 and decoded again as a listing image is.

// lumaOf decodes a JPEG the tests made and returns its luma plane.
func lumaOf(t testing.TB, data []byte) *image.Gray {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return toGray(img)
}

func toGray(img image.Image) *image.Gray {
	if y, ok := img.(*image.YCbCr); ok {
		b := y.Bounds()
		g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
		for row := range b.Dy() {
			copy(g.Pix[row*g.Stride:row*g.Stride+b.Dx()], y.Y[row*y.YStride:])
		}
		return g
	}
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// logoSet is n invented logos (distinct names) with their features.
type logoSet struct {
	names []string
	imgs  []image.Image
	feats []*matchers.Features
}

var (
	logoCache   = map[string]*logoSet{}
	logoCacheMu sync.Mutex
)

// inventLogos returns n logos from seed, memoized across tests and
// benchmarks of one run.
func inventLogos(t testing.TB, seed uint64, n int) *logoSet {
	t.Helper()
	key := fmt.Sprint(seed, n)
	logoCacheMu.Lock()
	defer logoCacheMu.Unlock()
	if s, ok := logoCache[key]; ok {
		return s
	}
	r := rand.New(rand.NewPCG(seed, 1))
	ex := NewExtractor(ExtractorOptions{})
	s := &logoSet{}
	seen := map[string]bool{}
	for len(s.names) < n {
		name := generate.InventedName(r)
		if seen[name] {
			continue
		}
		img, err := generate.InventedLogo(r, name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ex.Logo(toGray(img))
		if err != nil {
			continue // featureless: drawn again
		}
		seen[name] = true
		s.names = append(s.names, name)
		s.imgs = append(s.imgs, img)
		s.feats = append(s.feats, f)
	}
	logoCache[key] = s
	return s
}

// marksOf makes one active mark per logo, its logo's features attached.
func marksOf(s *logoSet) []*matchers.Mark {
	out := make([]*matchers.Mark, len(s.names))
	for i, name := range s.names {
		out[i] = &matchers.Mark{
			Mark:       &domain.Mark{MarkID: fmt.Sprintf("m%05d", i), Name: name, Status: domain.MarkActive},
			References: []matchers.ReferenceImage{{Kind: matchers.RefLogo, URL: fmt.Sprintf("logo-%05d.png", i), Features: s.feats[i]}},
		}
	}
	return out
}

// scene is one listing photo of the test set.
type scene struct {
	logo int // the indexed logo shown, or -1
	box  image.Rectangle
	// f are the photo's features, without pixels; jpeg the photo as
	// encoded, from which pixels gives them with their pixels kept.
	f    *matchers.Features
	jpeg []byte
}

// pixelExtractor keeps a listing image's pixels, as the detector does.
// MARKWATCH_LOGO_LEVELS and MARKWATCH_LOGO_KEYPOINTS set its pyramid's
// levels and keypoints (ExtractorOptions.Levels, MaxKeypoints) for the
// curve (0: the defaults), whose photos' features are computed with it.
// With MARKWATCH_LOGO_COLOUR_MIN_DENSE not negative it describes the
// colour planes too (ExtractorOptions.Colour), as the detector does.
var pixelExtractor = NewExtractor(ExtractorOptions{Pixels: true, Colour: envFloat("MARKWATCH_LOGO_COLOUR_MIN_DENSE") >= 0, Levels: envInt("MARKWATCH_LOGO_LEVELS", 0), MaxKeypoints: envInt("MARKWATCH_LOGO_KEYPOINTS", 0), ColourKeypoints: envInt("MARKWATCH_LOGO_COLOUR_KEYPOINTS", 0)})

// pixels returns the scene's features with its pixels (Features.Pixels)
// for dense verification, and its colour planes' features; the caller
// releases them (Features.ReleasePixels). Without the photo, the
// features as they are.
func (s scene) pixels(t testing.TB) *matchers.Features {
	if s.jpeg == nil {
		return s.f
	}
	return pixelExtractor.ListingColour(planesOf(t, s.jpeg))
}

// scenes draws n photos showing logos of s (the i-th shows logo i mod
// len) and n photos showing logos of other, a set not indexed, JPEG 40.
func scenes(t testing.TB, seed uint64, s, other *logoSet, n int, o generate.SceneOptions) (pos, neg []scene) {
	t.Helper()
	ex := NewExtractor(ExtractorOptions{})
	make1 := func(i int, set *logoSet, logo int) scene {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		img, box := generate.LogoScene(r, set.imgs[logo], o)
		data := encodeJPEG(t, img, 40)
		f := ex.Listing(lumaOf(t, data))
		return scene{box: box, f: f, jpeg: data}
	}
	pos, neg = make([]scene, n), make([]scene, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pos[i] = make1(i, s, i%len(s.names))
			pos[i].logo = i % len(s.names)
			neg[i] = make1(1_000_000+i, other, i%len(other.names))
			neg[i].logo = -1
		})
	}
	wg.Wait()
	return pos, neg
}

// outcome is what the matcher made of a set of scenes. Whole detections
// count; partial ones (Detection.Partial), evidence only in context, are
// counted apart.
type outcome struct {
	found, wrong, falseNeg int // positives: right logo found; another logo found
	negHit                 int // negatives where any logo was found
	boxOK                  int // right logo found with its box inside the truth
	// partFound: positives whose logo is found only partly; partNeg:
	// negatives with a partial detection and no whole one.
	partFound, partNeg int
}

func run(t testing.TB, m *Matcher, pos, neg []scene) outcome {
	t.Helper()
	detect := func(sc []scene) func(int) []Detection {
		return func(i int) []Detection {
			l := &matchers.Listing{Listing: &domain.Listing{}, Images: []matchers.ListingImage{{Index: 0, Features: sc[i].pixels(t)}}}
			ds, err := m.Detect(t.Context(), l)
			matchers.ReleasePixels(l.Images)
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
	}
	return tally(pos, neg, detect(pos), detect(neg))
}

// tally counts the outcome of the detections of each scene (posDs(i) for
// pos[i], negDs(i) for neg[i]).
func tally(pos, neg []scene, posDs, negDs func(int) []Detection) outcome {
	var o outcome
	for i, sc := range pos {
		ds, part := whole(posDs(i))
		ok := false
		for _, d := range ds {
			if d.Mark.MarkID == fmt.Sprintf("m%05d", sc.logo) {
				ok = true
				r := d.Region
				// The region boxes the logo's keypoints, the truth its
				// whole canvas: most of the region lies inside the truth.
				if inside(image.Rect(r.X, r.Y, r.X+r.W, r.Y+r.H), sc.box) >= 0.8 {
					o.boxOK++
				}
				break
			}
		}
		switch {
		case ok:
			o.found++
		case len(ds) > 0:
			o.wrong++
		default:
			o.falseNeg++
			for _, d := range part {
				if d.Mark.MarkID == fmt.Sprintf("m%05d", sc.logo) {
					o.partFound++
					break
				}
			}
		}
	}
	for i := range neg {
		switch ds, part := whole(negDs(i)); {
		case len(ds) > 0:
			o.negHit++
		case len(part) > 0:
			o.partNeg++
		}
	}
	return o
}

// whole splits detections into whole and partial ones.
func whole(ds []Detection) (w, part []Detection) {
	for _, d := range ds {
		if d.Partial {
			part = append(part, d)
		} else {
			w = append(w, d)
		}
	}
	return w, part
}

// inside is the share of a's area inside b.
func inside(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if a.Empty() {
		return 0
	}
	return float64(in.Dx()*in.Dy()) / float64(a.Dx()*a.Dy())
}
