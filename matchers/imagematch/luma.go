package imagematch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"

	"github.com/markwatch/markwatch/matchers/imagematch/internal/jpegdc"
)

// Luma decodes an image in full, within the Hasher's Limits and under its
// decode budget (the same checks and gate as the hashes'), and returns its
// brightness as a grey image of the decoded size, transparent pixels seen
// on white. Logo detection (matchers/logo) needs every pixel, where the
// hashes make do with a JPEG's DC coefficients; it goes through here so
// that untrusted images are decoded one way only. It is LumaAtLeast at
// full resolution. Errors wrap ErrFormat, ErrTooLarge or ErrBusy.
func (h *Hasher) Luma(ctx context.Context, data []byte) (*image.Gray, error) {
	return h.LumaAtLeast(ctx, data, 0)
}

// LumaAtLeast is Luma reduced by 2 or 4 on each side, as far as the
// image's longer side stays at least minSide pixels (rounded up); minSide
// ≤ 0 asks for full resolution. A reduced pixel is the mean of the pixels
// it covers.
//
// A JPEG with a luma component (every colour and grey JPEG but CMYK and
// Adobe RGB ones) is decoded by internal/jpegdc's DecodeGray: only the Y
// coefficients are transformed, chroma is never reconstructed nor
// converted, scans of chroma alone are skipped unread, and the reduction
// is done in the inverse DCT, so a half-scale decode costs well under a
// full one. Its full-scale pixels are image/jpeg's Y plane exactly. Other
// images, and JPEGs without luma, are decoded in full by their format's
// decoder, then reduced.
func (h *Hasher) LumaAtLeast(ctx context.Context, data []byte, minSide int) (*image.Gray, error) {
	f, cfg, err := decodeConfig(data, h.lim)
	if err != nil {
		return nil, fmt.Errorf("imagematch: luma: %w", err)
	}
	shift := lumaShift(cfg.Width, cfg.Height, minSide)
	if f == formatJPEG {
		g, err := h.lumaJPEG(ctx, data, cfg, shift)
		var unsupported jpegdc.UnsupportedError
		if !errors.As(err, &unsupported) {
			if err != nil {
				return nil, fmt.Errorf("imagematch: luma: %w", err)
			}
			return g, nil
		}
		// No luma component to decode alone (CMYK, Adobe RGB), or a
		// feature image/jpeg may know: decoded in full below.
	}
	g, err := h.lumaFull(ctx, f, cfg, data)
	if err != nil {
		return nil, fmt.Errorf("imagematch: luma: %w", err)
	}
	return reduceGray(g, shift), nil
}

// LumaColour is Luma with the image's colour planes (Colour): a JPEG's
// Cb and Cr decoded with its luma in one pass (jpegdc.DecodeColour), other
// images' computed from their full decode, within the same caps and gate.
// Where the colour planes would pass the decode cap, or a JPEG's luma
// must be had by a full decode (CMYK, Adobe RGB), the luma is returned
// alone (Luma's). Errors are Luma's.
func (h *Hasher) LumaColour(ctx context.Context, data []byte) (Colour, error) {
	f, cfg, err := decodeConfig(data, h.lim)
	if err != nil {
		return Colour{}, fmt.Errorf("imagematch: luma: %w", err)
	}
	if f != formatJPEG {
		c, err := h.decodeFullColour(ctx, f, cfg, data, true)
		if err != nil {
			return Colour{}, fmt.Errorf("imagematch: luma: %w", err)
		}
		return c, nil
	}
	sof, ok := jpegFrame(data)
	progressive := sof.progressive || !ok
	if need := jpegdc.GrayBytes(cfg.Width, cfg.Height, 0, progressive) + jpegdc.ColourBytes(cfg.Width, cfg.Height, progressive) + decoderSlack; need <= h.lim.MaxDecodedBytes {
		release, err := h.gate.acquire(ctx, need)
		if err != nil {
			return Colour{}, fmt.Errorf("imagematch: luma: %w", err)
		}
		y, cb, cr, _, err := jpegdc.DecodeColour(bytes.NewReader(data), h.lim.MaxPixels, false)
		release()
		if err == nil {
			return Colour{Y: y, Cb: cb, Cr: cr}, nil
		}
	}
	// Refused or failed: the luma alone, which reports what is wrong
	// with the file.
	y, err := h.Luma(ctx, data)
	return Colour{Y: y}, err
}

// lumaShift is the reduction, as a power of two up to jpegdc.MaxShift,
// that keeps the longer side of a w×h image at least minSide pixels.
func lumaShift(w, h, minSide int) uint {
	long := max(w, h)
	for shift := uint(jpegdc.MaxShift); shift > 0 && minSide > 0; shift-- {
		s := 1 << shift
		if (long+s-1)/s >= minSide {
			return shift
		}
	}
	return 0
}

// lumaJPEG decodes a JPEG's luma alone at 1/(1<<shift) scale under the
// Hasher's caps and gate. A jpegdc.UnsupportedError is returned as is, for
// the caller to fall back to a full decode.
func (h *Hasher) lumaJPEG(ctx context.Context, data []byte, cfg image.Config, shift uint) (*image.Gray, error) {
	sof, _ := jpegFrame(data)
	need := jpegdc.GrayBytes(cfg.Width, cfg.Height, shift, sof.progressive) + decoderSlack
	if need > h.lim.MaxDecodedBytes {
		return nil, fmt.Errorf("%w: jpeg of %d×%d: decoding its luma takes %s, over the cap of %s",
			ErrTooLarge, cfg.Width, cfg.Height, mib(need), mib(h.lim.MaxDecodedBytes))
	}
	release, err := h.gate.acquire(ctx, need)
	if err != nil {
		return nil, err
	}
	defer release()
	g, err := jpegdc.DecodeGray(bytes.NewReader(data), h.lim.MaxPixels, shift)
	var unsupported jpegdc.UnsupportedError
	switch {
	case err == nil:
		return g, nil
	case errors.As(err, &unsupported):
		return nil, err
	case errors.Is(err, jpegdc.ErrTooLarge):
		return nil, fmt.Errorf("%w: jpeg: %w", ErrTooLarge, err)
	default:
		return nil, fmt.Errorf("%w: jpeg: %w", ErrFormat, err)
	}
}

// lumaFull decodes an image in full with its format's decoder and returns
// its brightness (grayOf), within the caps and under the gate.
func (h *Hasher) lumaFull(ctx context.Context, f format, cfg image.Config, data []byte) (*image.Gray, error) {
	c, err := h.decodeFullColour(ctx, f, cfg, data, false)
	return c.Y, err
}

// decodeFullColour is lumaFull that, with colour, also returns the
// image's colour planes (chromaOf) from the same decode, unless they
// would take it over the cap.
func (h *Hasher) decodeFullColour(ctx context.Context, f format, cfg image.Config, data []byte, colour bool) (Colour, error) {
	// The grey copy is one more byte per pixel on top of the decode,
	// the colour planes two more at most.
	need := decodedBytes(f, cfg, data) + int64(cfg.Width)*int64(cfg.Height)
	if need > h.lim.MaxDecodedBytes {
		return Colour{}, fmt.Errorf("%w: %s of %d×%d: decoding takes %s, over the cap of %s",
			ErrTooLarge, f, cfg.Width, cfg.Height, mib(need), mib(h.lim.MaxDecodedBytes))
	}
	if more := 2 * int64(cfg.Width) * int64(cfg.Height); colour && need+more <= h.lim.MaxDecodedBytes {
		need += more
	} else {
		colour = false
	}
	release, err := h.gate.acquire(ctx, need)
	if err != nil {
		return Colour{}, err
	}
	defer release()
	img, err := decodeFull(f, data)
	if err != nil {
		return Colour{}, err
	}
	c := Colour{Y: grayOf(img)}
	if colour {
		c.Cb, c.Cr = chromaOf(img)
	}
	return c, nil
}

// reduceGray is g reduced by 1<<shift on each side, each pixel the rounded
// mean of the pixels it covers (fewer at the right and bottom edges), as
// DecodeGray reduces a JPEG.
func reduceGray(g *image.Gray, shift uint) *image.Gray {
	if shift == 0 {
		return g
	}
	s := 1 << shift
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, (w+s-1)/s, (h+s-1)/s))
	for oy := range out.Rect.Dy() {
		for ox := range out.Rect.Dx() {
			sum, n := 0, 0
			for y := oy * s; y < min(oy*s+s, h); y++ {
				row := g.Pix[y*g.Stride:]
				for x := ox * s; x < min(ox*s+s, w); x++ {
					sum += int(row[x])
					n++
				}
			}
			out.Pix[oy*out.Stride+ox] = uint8((sum + n/2) / n)
		}
	}
	return out
}

// grayOf is img's brightness (Rec. 601 weights, as JPEG's Y) composited
// on white. A YCbCr image (every colour JPEG) gives its Y plane as is.
func grayOf(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.YCbCr:
		for y := range b.Dy() {
			o := src.YOffset(b.Min.X, b.Min.Y+y)
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Y[o:o+b.Dx()])
		}
		return g
	case *image.Gray:
		for y := range b.Dy() {
			o := src.PixOffset(b.Min.X, b.Min.Y+y)
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Pix[o:o+b.Dx()])
		}
		return g
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, gg, bb, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			// Premultiplied: on white, add the uncovered share of white.
			white := 0xffff - a
			l := (19595*(r+white) + 38470*(gg+white) + 7471*(bb+white) + 1<<15) >> 24
			g.Pix[y*g.Stride+x] = uint8(min(l, 255))
		}
	}
	return g
}

// chromaOf returns img's blue- and red-difference planes (see Colour): a
// YCbCr image's own (copied, at their resolution), nil for a grey image,
// and for any other image computed from each pixel composited on white
// (as grayOf composites it), at full resolution.
func chromaOf(img image.Image) (cb, cr *image.Gray) {
	b := img.Bounds()
	switch src := img.(type) {
	case *image.Gray, *image.Gray16:
		return nil, nil
	case *image.YCbCr:
		// The chroma samples of the image's pixels: the sub-image's
		// rectangle in chroma units, as image.YCbCr lays it out.
		cx0, cy0, cx1, cy1 := b.Min.X, b.Min.Y, b.Max.X, b.Max.Y
		switch src.SubsampleRatio {
		case image.YCbCrSubsampleRatio422:
			cx0, cx1 = cx0/2, (cx1+1)/2
		case image.YCbCrSubsampleRatio420:
			cx0, cx1, cy0, cy1 = cx0/2, (cx1+1)/2, cy0/2, (cy1+1)/2
		case image.YCbCrSubsampleRatio440:
			cy0, cy1 = cy0/2, (cy1+1)/2
		case image.YCbCrSubsampleRatio411:
			cx0, cx1 = cx0/4, (cx1+3)/4
		case image.YCbCrSubsampleRatio410:
			cx0, cx1, cy0, cy1 = cx0/4, (cx1+3)/4, cy0/2, (cy1+1)/2
		}
		r := image.Rect(0, 0, cx1-cx0, cy1-cy0)
		cb, cr = image.NewGray(r), image.NewGray(r)
		// COffset of the sub-image's first pixel is its first chroma
		// sample's.
		at := src.COffset(b.Min.X, b.Min.Y)
		for y := range r.Dy() {
			o := at + y*src.CStride
			copy(cb.Pix[y*cb.Stride:y*cb.Stride+r.Dx()], src.Cb[o:o+r.Dx()])
			copy(cr.Pix[y*cr.Stride:y*cr.Stride+r.Dx()], src.Cr[o:o+r.Dx()])
		}
		return cb, cr
	}
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	cb, cr = image.NewGray(r), image.NewGray(r)
	for y := range b.Dy() {
		for x := range b.Dx() {
			r16, g16, b16, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			white := 0xffff - a
			_, u, v := color.RGBToYCbCr(uint8(min(r16+white, 0xffff)>>8), uint8(min(g16+white, 0xffff)>>8), uint8(min(b16+white, 0xffff)>>8))
			cb.Pix[y*cb.Stride+x], cr.Pix[y*cr.Stride+x] = u, v
		}
	}
	return cb, cr
}
