package logo

import (
	"errors"
	"image"
	"math"
	"slices"
	"sync"

	"github.com/markwatch/markwatch/matchers"
)

// ExtractorOptions configure feature extraction. Zero fields take the
// defaults.
type ExtractorOptions struct {
	// MaxSide is the longest side, in pixels, of the working copy of a
	// listing image (default 800): a larger image is scaled down first.
	// A logo at 8% of an 800-pixel image is 64 pixels wide, and every
	// pixel of it is needed (the first level enlarges it 1.3 times, see
	// NoUpsample).
	MaxSide int
	// MaxKeypoints caps a listing image's keypoints (default 1200).
	MaxKeypoints int
	// Levels is the number of pyramid levels of a listing image from its
	// own size (default 4: scales 1 to 2.2), which with the logo's own
	// levels covers a logo from 8% to 40% of the image's width and
	// beyond; the enlarged level (see NoUpsample) comes on top.
	Levels int
	// LogoSide is the longest side a logo is scaled to before extraction
	// (default 256).
	LogoSide int
	// LogoLevels is the number of pyramid levels of a logo (default 8:
	// from LogoSide down to about 40 pixels).
	LogoLevels int
	// MaxLogoKeypoints caps a logo's keypoints per polarity (default 256;
	// a logo is described as given and with its brightness inverted, so
	// that a dark logo printed light on a dark product is found too).
	MaxLogoKeypoints int
	// NoUpsample leaves out the enlarged level of a listing image's
	// pyramid. By default the pyramid starts with the working copy
	// enlarged 1.3 times (a keypoint scale of 1/1.3), before the Levels
	// levels from scale 1: a logo at 8–12% of an 800-pixel photo is 64–96
	// pixels wide, its name's letters a few pixels tall, and at the
	// photo's own size it has too few corners and too few descriptors
	// near the logo's own to verify (its emblem alone is shared by many
	// logos). Enlarged, its letters' corners are found and described at
	// the logo's finer reference levels. The listing's keypoints stay
	// MaxKeypoints in all, shared by area over one more level, so
	// matching costs the same; the features cost more CPU (75% more,
	// +15 ms per 800×800 image, when the level came; the enlarging was
	// made cheaper since, h-feat in docs/BENCHMARKS.md).
	NoUpsample bool
	// Threshold is FAST's brightness threshold (default 12: recoloured
	// and small logos have low-contrast corners).
	Threshold int
	// Pixels keeps a copy of a listing image's working plane (at most
	// MaxSide on a side: 640 KB for an 800×800 photo) in its features'
	// Pixels, for the matcher's dense verification of a fit
	// (Options.MinDenseShare): the pyramid's planes and box sums are
	// made again from it, as the extraction made them, only for a photo
	// with a fit to check and only the part of each level its fits need
	// (about 7.4 MB laid out, pooled); the caller releases them once the
	// listing is matched (matchers.ReleasePixels). Off, features are as
	// before and a fit is not checked densely.
	Pixels bool
	// Colour also describes a listing image's colour planes (its Cb and
	// Cr, ListingColour), each at half the working copy's size with its
	// contrast about neutral doubled (ColourGain), in features of their
	// own (matchers.Features.Colour) that keep their pixels: a logo
	// printed in a colour about as bright as the product under it (teal
	// on brown wood) has too little luma contrast for corners, and shows
	// in the plane its colour differs in. The matcher matches each plane
	// apart and keeps a fit there only if that plane's pixels confirm it
	// strongly (Options.ColourMinDense). It needs Pixels. Off, a listing
	// image's features are its luma's alone.
	Colour bool
	// ColourKeypoints caps each colour plane's keypoints (default 300).
	ColourKeypoints int
}

// ColourGain is how much a colour plane's contrast about neutral (128)
// is raised before its features are taken: chroma varies over a third
// of luma's range in a photo, and FAST's threshold is luma's. Measured on
// prints tone-matched to the product (TestLogoColourCurve): 2 found 27
// of 200 where 1 found 18, 3 19 and 4 15 (docs/BENCHMARKS.md, "Colour
// planes").
const ColourGain = 2

func (o ExtractorOptions) withDefaults() ExtractorOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxSide, 800)
	def(&o.MaxKeypoints, 1200)
	def(&o.Levels, 4)
	def(&o.LogoSide, 256)
	def(&o.LogoLevels, 8)
	def(&o.MaxLogoKeypoints, 256)
	def(&o.Threshold, 12)
	def(&o.ColourKeypoints, 300)
	return o
}

// Extractor computes the local features of listing images and logos. It
// holds no state and is safe for concurrent use.
type Extractor struct {
	o ExtractorOptions
}

// NewExtractor returns an Extractor with o's settings.
func NewExtractor(o ExtractorOptions) *Extractor {
	return &Extractor{o: o.withDefaults()}
}

// enlargedPool holds the planes of listing images' enlarged first
// levels (*[]uint8).
var enlargedPool = sync.Pool{New: func() any { return new([]uint8) }}

// ErrNoFeatures means a logo has too few corners to be found in a photo
// (blank, a plain shape, or too small).
var ErrNoFeatures = errors.New("logo: too few keypoints to detect")

// minLogoKeypoints is the fewest keypoints a usable logo has; below
// MinInliers nothing could ever verify.
const minLogoKeypoints = 24

// Listing returns the features of a listing image's luma plane, in the
// plane's pixel coordinates (the image scaled down to MaxSide internally).
func (e *Extractor) Listing(img *image.Gray) *matchers.Features {
	g := fromImage(img)
	unit := 1.0
	if side := max(g.w, g.h); side > e.o.MaxSide {
		unit = float64(side) / float64(e.o.MaxSide)
		g = resize(g, max(1, int(math.Round(float64(g.w)/unit))), max(1, int(math.Round(float64(g.h)/unit))))
	}
	var px *pixels
	if e.o.Pixels {
		// The working copy (at most MaxSide on a side), copied: the
		// caller's plane may be reused once this returns.
		px = &pixels{work: gray{g.w, g.h, slices.Clone(g.pix)}, unit: unit, levels: e.o.Levels, upsample: !e.o.NoUpsample}
	}
	levels := e.o.Levels
	if !e.o.NoUpsample {
		// The pyramid starts one step above the image's size (see
		// ExtractorOptions.NoUpsample): the working copy enlarged 1.3
		// times (bilinear), the levels after it from there.
		// Its 1 MB plane is pooled: an image's features allocate
		// little else.
		unit /= scaleStep
		up, buf := enlarged(g)
		defer enlargedPool.Put(buf)
		g = up
		levels++
	}
	// Listing keypoints are shared by area: a logo is as likely anywhere
	// in scale, and a finer level has more room for it.
	f := extract(g, levels, e.o.MaxKeypoints, e.o.Threshold, func(k int) float64 { return math.Pow(scaleStep, -float64(k)) }, unit, false)
	f.W, f.H = img.Bounds().Dx(), img.Bounds().Dy()
	if px != nil {
		f.Pixels = px
	}
	return f
}

// ListingColour is Listing, with the features of the image's colour
// planes cb and cr (a JPEG's Cb and Cr at their own resolution; any size,
// nil: none) in the result's Colour when ExtractorOptions.Colour and
// Pixels are set. Each plane is brought to half the working copy's size
// on each side (box filter, or bilinear when smaller: a 4:2:0 JPEG's
// planes of an image of at most MaxSide are that size already), its
// contrast about 128 multiplied by ColourGain, and described over Levels
// levels from there without the enlarged one; its keypoints are in the
// image's coordinates.
func (e *Extractor) ListingColour(y, cb, cr *image.Gray) *matchers.Features {
	f := e.Listing(y)
	if !e.o.Colour || !e.o.Pixels || cb == nil || cr == nil {
		return f
	}
	w, h := y.Bounds().Dx(), y.Bounds().Dy()
	unit := 1.0
	if side := max(w, h); side > e.o.MaxSide {
		unit = float64(side) / float64(e.o.MaxSide)
	}
	// The working copy's size, halved.
	cw := max(1, int(math.Round(float64(w)/unit/2)))
	ch := max(1, int(math.Round(float64(h)/unit/2)))
	for _, plane := range []*image.Gray{cb, cr} {
		g := fromImage(plane)
		if g.w != cw || g.h != ch {
			g = resize(g, cw, ch)
		} else {
			g = gray{g.w, g.h, slices.Clone(g.pix)}
		}
		for i, v := range g.pix {
			g.pix[i] = uint8(min(max(128+ColourGain*(int(v)-128), 0), 255))
		}
		// The plane's pixels stand for unit·w/cw image pixels a side.
		u := float64(w) / float64(cw)
		c := extract(g, e.o.Levels, e.o.ColourKeypoints, e.o.Threshold, func(k int) float64 { return math.Pow(scaleStep, -float64(k)) }, u, false)
		c.W, c.H = w, h
		c.Pixels = &pixels{work: g, unit: u, levels: e.o.Levels}
		f.Colour = append(f.Colour, c)
	}
	return f
}

// Logo returns the features of a logo's luma plane, scaled so that its
// longer side is LogoSide, in those scaled coordinates; twice: as given and
// with its brightness inverted. It fails with ErrNoFeatures when the logo
// has too few corners.
func (e *Extractor) Logo(img *image.Gray) (*matchers.Features, error) {
	g := fromImage(img)
	side := max(g.w, g.h)
	if side < 16 {
		return nil, ErrNoFeatures
	}
	k := float64(e.o.LogoSide) / float64(side)
	g = resize(g, max(1, int(math.Round(float64(g.w)*k))), max(1, int(math.Round(float64(g.h)*k))))
	// Small levels get a fair share: a logo at 8% of a photo is matched
	// against them.
	weight := func(k int) float64 { return math.Pow(scaleStep, -0.5*float64(k)) }
	f := extract(g, e.o.LogoLevels, e.o.MaxLogoKeypoints, e.o.Threshold, weight, 1, true)
	inv := gray{g.w, g.h, make([]uint8, len(g.pix))}
	for i, v := range g.pix {
		inv.pix[i] = 255 - v
	}
	fi := extract(inv, e.o.LogoLevels, e.o.MaxLogoKeypoints, e.o.Threshold, weight, 1, true)
	f.Points = append(f.Points, fi.Points...)
	f.Desc = append(f.Desc, fi.Desc...)
	if len(f.Points) < 2*minLogoKeypoints {
		return nil, ErrNoFeatures
	}
	return f, nil
}

// enlarged returns g enlarged scaleStep times (bilinear), a listing
// pyramid's first level, in a plane from enlargedPool that the caller
// puts back (buf) once done with it.
func enlarged(g gray) (up gray, buf *[]uint8) {
	w, h := enlargedSize(g.w, g.h)
	buf = enlargedPool.Get().(*[]uint8)
	if cap(*buf) < w*h {
		*buf = make([]uint8, w*h)
	}
	up = gray{w, h, (*buf)[:w*h]}
	enlarge(g, up, float64(g.w)/float64(w), float64(g.h)/float64(h))
	return up, buf
}

// pad surrounds g with n pixels that repeat its edge.
func pad(g gray, n int) gray {
	out := gray{g.w + 2*n, g.h + 2*n, make([]uint8, (g.w+2*n)*(g.h+2*n))}
	for y := range out.h {
		sy := min(max(y-n, 0), g.h-1)
		for x := range out.w {
			sx := min(max(x-n, 0), g.w-1)
			out.pix[y*out.w+x] = g.pix[sy*g.w+sx]
		}
	}
	return out
}
