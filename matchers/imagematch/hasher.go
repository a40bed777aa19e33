package imagematch

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/markwatch/markwatch/internal/domain"
)

// Hasher computes the perceptual hashes of listing and reference images
// within its Limits: each image's decode is bounded from its header, and
// the images it decodes at once share one budget (Limits.MaxDecoding,
// MaxDecodingBytes), so a process that shares one Hasher bounds the memory
// all its image decoding takes. It is safe for concurrent use.
type Hasher struct {
	lim  Limits
	gate *gate
}

// NewHasher returns a Hasher bounded by lim (zero fields take the defaults).
func NewHasher(lim Limits) *Hasher {
	lim = lim.withDefaults()
	return &Hasher{lim: lim, gate: newGate(lim.MaxDecoding, lim.MaxDecodingBytes)}
}

// HashListingImage decodes a listing image (bounded by the Hasher's Limits)
// and returns the hashes it is searched with, see listingRegions. A
// transparent image is seen composited on white, as a marketplace page
// shows it. It waits for its turn to decode until ctx ends. Errors wrap
// ErrFormat, ErrTooLarge, ErrFeatureless or ErrBusy.
func (h *Hasher) HashListingImage(ctx context.Context, data []byte) ([]uint64, error) {
	out, _, err := h.HashListingImageRegions(ctx, data)
	return out, err
}

// HashListingImageRegions is HashListingImage that also says, for each
// hash, which part of the image it was computed from: the box (in the
// image's pixels) of the content inside its borders, or of the image
// without a band a banner or sticker may hide, nil for the whole image.
// The hashes are HashListingImage's, in the same order; the Matcher
// reports the box of the hash that matched as the evidence's Region
// (matchers.ListingImage.Regions).
func (h *Hasher) HashListingImageRegions(ctx context.Context, data []byte) ([]uint64, []*domain.Region, error) {
	planes, _, err := h.load(ctx, data, false, lumaNone)
	if err != nil {
		return nil, nil, fmt.Errorf("imagematch: hash listing image: %w", err)
	}
	defer planes[0].p.release()
	return listingHashes(planes[0])
}

// HashListingImageLuma is HashListingImageRegions that also returns the
// image's luma, as Luma(ctx, data) returns it, for logo detection. A JPEG
// with a luma component (nearly every listing photo) is decoded once for
// both (jpegdc.DecodeGrayDC): the hashes are those HashListingImageRegions
// returns, computed from the same DC plane or the same full-resolution
// luma it would decode, and the luma is the same pixels, for one entropy
// decode instead of two. Other images are decoded once in full for both,
// unless the decode cap or the gate allow only the separate decodes; then
// the luma is decoded apart through Luma.
//
// The error is the hashes': an image that cannot be hashed returns no
// luma either. When the hashes could be computed but the luma could not
// (its decode failed, or ctx ended while it waited for the gate), g is
// nil and the hashes are returned without error; a caller that must tell
// a cancelled context apart checks ctx.Err().
func (h *Hasher) HashListingImageLuma(ctx context.Context, data []byte) (hashes []uint64, regions []*domain.Region, g *image.Gray, err error) {
	hashes, regions, c, err := h.hashListingImage(ctx, data, lumaGrey)
	return hashes, regions, c.Y, err
}

// Colour is an image's luma and colour planes, for logo detection's
// colour features (matchers/logo, ExtractorOptions.Colour).
type Colour struct {
	// Y is the luma, as Luma returns it.
	Y *image.Gray
	// Cb and Cr are the blue- and red-difference planes (JPEG's YCbCr,
	// 128 neutral) at their own resolution: a JPEG's as coded (a 4:2:0
	// JPEG's half the width and height, rounded up), another image's
	// at full resolution, transparent pixels seen on white. Both nil
	// when the image is grey or they could not be had within the caps
	// with the luma.
	Cb, Cr *image.Gray
}

// HashListingImageColour is HashListingImageLuma that also returns the
// image's colour planes (Colour), from the same decode: a JPEG's Cb and
// Cr decoded with its luma (jpegdc.DecodeColour: image/jpeg's planes
// exactly, the chroma transformed as the luma is, for the decode's cost
// of about half as many blocks again at 4:2:0), other images' computed
// from the full decode. The decode cap and the gate count them: when they
// would take the decode over the cap, or the luma could only be had apart
// (see HashListingImageLuma), the colour planes are not had (c.Cb and
// c.Cr nil) and the rest is as HashListingImageLuma's.
func (h *Hasher) HashListingImageColour(ctx context.Context, data []byte) (hashes []uint64, regions []*domain.Region, c Colour, err error) {
	return h.hashListingImage(ctx, data, lumaColour)
}

func (h *Hasher) hashListingImage(ctx context.Context, data []byte, luma lumaWant) (hashes []uint64, regions []*domain.Region, c Colour, err error) {
	planes, c, err := h.load(ctx, data, false, luma)
	if err != nil {
		return nil, nil, Colour{}, fmt.Errorf("imagematch: hash listing image: %w", err)
	}
	hashes, regions, err = listingHashes(planes[0])
	planes[0].p.release()
	if err != nil {
		return nil, nil, Colour{}, err
	}
	if c.Y == nil {
		c = Colour{}
		c.Y, _ = h.Luma(ctx, data)
	}
	return hashes, regions, c, nil
}

// listingHashes hashes a listing image's plane: its regions (see
// listingRegions), each with its box, and once more with a banner filled
// in (see unbanner).
func listingHashes(p decoded) ([]uint64, []*domain.Region, error) {
	regions := p.p.listingRegions(p.trim)
	out, from, _, err := p.p.hashRegions(regions)
	if err != nil {
		return nil, nil, fmt.Errorf("imagematch: hash listing image: %w", err)
	}
	boxes := make([]*domain.Region, len(out))
	for i, k := range from {
		boxes[i] = p.p.box(regions[k].clip)
	}
	if q, ok := p.p.unbanner(); ok {
		// A banner across the middle: hash the image once more with the
		// band filled in (see banner.go). Too flat to hash is no error.
		// Those hashes are of the whole image, painted over.
		extra, err := q.hashes(q.bases(q.trim()))
		q.release()
		if err == nil {
			for _, h := range extra {
				if !slices.Contains(out, h) {
					out = append(out, h)
					boxes = append(boxes, nil)
				}
			}
		}
	}
	return out, boxes, nil
}

// box is r in the source image's pixels, nil for the whole image.
func (p *plane) box(r rect) *domain.Region {
	if r == fullRect {
		return nil
	}
	x0, y0 := int(r.x0*float64(p.imgW)+0.5), int(r.y0*float64(p.imgH)+0.5)
	x1, y1 := int(r.x1*float64(p.imgW)+0.5), int(r.y1*float64(p.imgH)+0.5)
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, p.imgW), min(y1, p.imgH)
	if x1 <= x0 || y1 <= y0 {
		return nil
	}
	return &domain.Region{X: x0, Y: y0, W: x1 - x0, H: y1 - y0, ImageW: p.imgW, ImageH: p.imgH}
}

// HashReference decodes a mark's logo or official photo and returns the
// hashes stored for it, see referenceRegions: crops and a mirror image, so
// that a listing's cropped or flipped copy lands within the match distance
// of one of them. At most maxReferenceHashes are returned.
//
// A logo with transparency is published to be put on any background, and
// is often white or light for dark ones: composited on white alone it may
// be blank. It is hashed composited on white and on black, and the hashes
// of both are kept. A pHash depends only on the signs of the image's
// low-frequency coefficients about their median, so it does not change
// when brightness is scaled or shifted: a one-colour logo on any ground it
// stands out from lies near one of the two, the logo darker than its
// ground near the first and lighter than its ground near the second.
// Only when both are blank is the image featureless.
func (h *Hasher) HashReference(ctx context.Context, data []byte) ([]uint64, error) {
	out, _, err := h.hashReference(ctx, data)
	return out, err
}

// hashReference is HashReference, also returning the planes it decoded
// with whether each had anything to hash (InspectReference reports on
// them).
func (h *Hasher) hashReference(ctx context.Context, data []byte) ([]uint64, []hashedPlane, error) {
	planes, _, err := h.load(ctx, data, true, lumaNone)
	if err != nil {
		return nil, nil, fmt.Errorf("imagematch: hash reference image: %w", err)
	}
	var (
		lists  [][]uint64
		hashed []hashedPlane
	)
	for _, d := range planes {
		regions := d.p.referenceRegions(d.trim)
		hs, _, flat, err := d.p.hashRegions(regions)
		if errors.Is(err, ErrFeatureless) {
			hashed = append(hashed, hashedPlane{decoded: d, regions: len(regions), flat: flat})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("imagematch: hash reference image: %w", err)
		}
		lists = append(lists, hs)
		hashed = append(hashed, hashedPlane{decoded: d, hashes: len(hs), regions: len(regions), flat: flat})
	}
	if len(lists) == 0 {
		return nil, nil, fmt.Errorf("imagematch: hash reference image: %w", ErrFeatureless)
	}
	return interleave(lists, maxReferenceHashes), hashed, nil
}

// hashedPlane is a plane of a reference image with how many distinct
// hashes it gave (0: featureless on that ground).
type hashedPlane struct {
	decoded
	hashes int
	// regions were hashed, flat of them too flat to give a hash.
	regions, flat int
}

// interleave merges lists, taking one hash of each in turn and dropping
// duplicates, up to n hashes: when the cap cuts, it cuts the last
// (least general) variants of every plane alike.
func interleave(lists [][]uint64, n int) []uint64 {
	if len(lists) == 1 {
		return lists[0][:min(len(lists[0]), n)]
	}
	var out []uint64
	for i := 0; len(out) < n; i++ {
		more := false
		for _, l := range lists {
			if i < len(l) {
				more = true
				if len(out) < n {
					out = appendNew(out, l[i])
				}
			}
		}
		if !more {
			break
		}
	}
	return out
}

// maxReferenceHashes is the most hashes HashReference returns; the marks
// topic carries at most 64 per reference image.
const maxReferenceHashes = 64

// minFullShare is the least share of an image's area its content (the box
// inside uniform borders) must cover for the whole image to be hashed as
// well. A small mark on a plain canvas hashes, as a whole, to little more
// than "a blob there", and such hashes of different logos collide; the
// content box alone is what identifies it.
const minFullShare = 0.4

// maxAspect caps the aspect ratio of a content region. A word mark's box
// can be ten times wider than high; stretched to the square hash grid, an
// error of one cell in its height would change the hash. Widened with the
// background colour to at most 2:1, the box's edges matter little.
const maxAspect = 2.0

// region is what one hash is computed from: rectangle r of the image, of
// which only clip is image content, the rest reading as brightness bg (the
// colour around the content); mirror asks for the mirror image's hash too.
type region struct {
	r, clip rect
	bg      float32
	mirror  bool
	// mask is XORed into the region's hash. Hashes of the sticker bands
	// carry stickerMask, so they lie about 32 bits from every plain hash
	// and match only the same kind of band of another image: a sticker
	// band adds a handful of comparisons, not one per stored hash.
	mask uint64
}

// stickerMask tags the hashes of sticker bands (see region.mask); any
// fixed 64-bit value with 32 bits set does.
const stickerMask uint64 = 0x9e3779b97f4a7c15

// crop is the image cropped to r.
func crop(r rect) region { return region{r: r, clip: r} }

// content is the region around content box c (found by trimming): c widened
// to maxAspect if need be, on the colour that surrounds c.
func (p *plane) content(c rect) region {
	g := region{r: c, clip: c, bg: p.around(c)}
	w, h := (c.x1-c.x0)*float64(p.imgW), (c.y1-c.y0)*float64(p.imgH)
	if w > maxAspect*h {
		grow := (w/maxAspect - h) / float64(p.imgH) / 2
		g.r.y0, g.r.y1 = c.y0-grow, c.y1+grow
	} else if h > maxAspect*w {
		grow := (h/maxAspect - w) / float64(p.imgW) / 2
		g.r.x0, g.r.x1 = c.x0-grow, c.x1+grow
	}
	return g
}

// inset returns g with shares of its rectangle cut off the left, top,
// right and bottom.
func (g region) inset(c [4]float64) region {
	w, h := g.r.x1-g.r.x0, g.r.y1-g.r.y0
	g.r = rect{g.r.x0 + c[0]*w, g.r.y0 + c[1]*h, g.r.x1 - c[2]*w, g.r.y1 - c[3]*h}
	return g
}

// bases are the regions of an image every variant starts from: the whole
// image unless its content is small, and the content inside its borders
// if it has any.
func (p *plane) bases(trim rect) []region {
	if trim == fullRect {
		return []region{crop(fullRect)}
	}
	if (trim.x1-trim.x0)*(trim.y1-trim.y0) < minFullShare {
		return []region{p.content(trim)}
	}
	return []region{crop(fullRect), p.content(trim)}
}

// overlayBand is the share of an image's height that a sales banner
// typically covers at its bottom or top.
const overlayBand = 0.2

// stickerBand is the share of an image's width or height that a corner
// sticker ("SALE -50%" starburst, a seller's badge) typically covers.
const stickerBand = 0.38

// bands are the image without its bottom or its top band, trimmed again
// within what is left: a listing's banner hides one of them. The image
// without a wide band on any side covers a sticker in a corner.
func (p *plane) bands() []region {
	var out []region
	for i, band := range []rect{
		{0, 0, 1, 1 - overlayBand}, {0, overlayBand, 1, 1},
		{0, 0, 1 - stickerBand, 1}, {stickerBand, 0, 1, 1}, {0, 0, 1, 1 - stickerBand}, {0, stickerBand, 1, 1},
	} {
		g := crop(band)
		if t := p.trimWithin(band); t != band {
			g = p.content(t)
		}
		if i >= 2 {
			g.mask = stickerMask
		}
		out = append(out, g)
	}
	return out
}

// listingRegions are the regions of a listing image that are hashed: the
// bases and the bands, so that a banner across a logo or photo does not
// hide it.
func (p *plane) listingRegions(trim rect) []region {
	regions := p.bases(trim)
	for _, g := range p.bands() {
		if !slices.Contains(regions, g) {
			regions = append(regions, g)
		}
	}
	return regions
}

// referenceCrops are the crops of each base region of a reference image,
// as insets (left, top, right, bottom) in shares of the region: a listing
// crops up to a tenth off any side or corner, or shows the image with a
// band hidden under a banner.
var referenceCrops = [...][4]float64{
	{0, 0, 0, 0},
	{0.05, 0.05, 0.05, 0.05},
	{0.10, 0.10, 0.10, 0.10},
	{0.10, 0, 0, 0}, {0, 0.10, 0, 0}, {0, 0, 0.10, 0}, {0, 0, 0, 0.10},
	{0.10, 0.10, 0, 0}, {0, 0.10, 0.10, 0}, {0.10, 0, 0, 0.10}, {0, 0, 0.10, 0.10},
	{0, 0, 0, overlayBand}, {0, overlayBand, 0, 0},
}

// referenceRegions are the regions of a reference image that are hashed:
// each base with each crop, each base mirrored, and the same bands as a
// listing's. Mirrored crops are left out: every stored hash is one more
// chance of a false match, and flipped listings are rarely cropped as well.
func (p *plane) referenceRegions(trim rect) []region {
	var regions []region
	for _, b := range p.bases(trim) {
		for i, c := range referenceCrops {
			g := b.inset(c)
			g.mirror = i == 0
			regions = append(regions, g)
		}
	}
	return append(regions, p.bands()...)
}

// hashes hashes each region (and its mirror image where asked), dropping
// duplicates and regions too flat to hash. An image none of whose regions
// can be hashed is featureless.
func (p *plane) hashes(regions []region) ([]uint64, error) {
	out, _, _, err := p.hashRegions(regions)
	return out, err
}

// hashRegions is hashes that also returns, for each hash, the index in
// regions of the region it was first computed from, and how many regions
// were too flat to hash.
func (p *plane) hashRegions(regions []region) (out []uint64, from []int, flat int, err error) {
	cells := make([]float32, hashSide*hashSide)
	grid := make([]float64, hashSide*hashSide)
	add := func(h uint64, i int) {
		if !slices.Contains(out, h) {
			out, from = append(out, h), append(from, i)
		}
	}
	for i, r := range regions {
		p.sample(r, hashSide, hashSide, cells)
		for k, v := range cells {
			grid[k] = float64(v)
		}
		h, m, ok := phash(grid)
		if !ok {
			flat++
			continue
		}
		add(h^r.mask, i)
		if r.mirror {
			add(m^r.mask, i)
		}
	}
	if len(out) == 0 {
		return nil, nil, flat, ErrFeatureless
	}
	if len(out) > maxReferenceHashes {
		out, from = out[:maxReferenceHashes], from[:maxReferenceHashes]
	}
	return out, from, flat, nil
}

func appendNew(s []uint64, h uint64) []uint64 {
	if slices.Contains(s, h) {
		return s
	}
	return append(s, h)
}
