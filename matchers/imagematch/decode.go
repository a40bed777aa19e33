package imagematch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"

	"github.com/markwatch/markwatch/matchers/imagematch/internal/jpegdc"
)

// Default caps of Limits.
const (
	DefaultMaxBytes  = 10 << 20   // 10 MiB of encoded image
	DefaultMaxPixels = 40_000_000 // 40 Mpx, e.g. 8000×5000
	// DefaultMaxDecodedBytes admits an 8-bit RGBA PNG of 4096×4096 or a
	// full decode of a 21 Mpx JPEG; large JPEG photos mostly take the DC
	// path, which needs a sixty-fourth of that.
	DefaultMaxDecodedBytes = 64 << 20
	// DefaultMaxDecodingBytes lets two images at the per-image cap, or
	// many small ones, decode at once.
	DefaultMaxDecodingBytes = 128 << 20
	// DefaultMaxDecoding is how many images decode at once.
	DefaultMaxDecoding = 4
)

// Limits bound what decoding an image may cost. Zero fields take the
// defaults.
type Limits struct {
	// MaxBytes caps the encoded size, checked before anything is parsed.
	MaxBytes int64
	// MaxPixels caps width*height as the header declares it, checked before
	// any pixel buffer is allocated.
	MaxPixels int64
	// MaxDecodedBytes caps the memory one image's decode may take: its
	// pixels times the bytes per pixel of the decoder's output for the
	// colour model and depth the header declares (a 16-bit RGBA PNG takes
	// 8 per pixel), plus the resampling buffers. It is checked from the
	// header, before any pixel buffer is allocated, so a small file that
	// decompresses to hundreds of megabytes is refused for the cost of
	// reading its first bytes.
	MaxDecodedBytes int64
	// MaxDecodingBytes caps the sum of that memory over the images one
	// Hasher decodes at once; an image waits for its share (see
	// ErrBusy). Raised to MaxDecodedBytes if lower.
	MaxDecodingBytes int64
	// MaxDecoding caps how many images one Hasher decodes at once. Share
	// one Hasher across a process to make the caps the process's.
	MaxDecoding int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxDecodedBytes <= 0 {
		l.MaxDecodedBytes = DefaultMaxDecodedBytes
	}
	if l.MaxDecodingBytes <= 0 {
		l.MaxDecodingBytes = DefaultMaxDecodingBytes
	}
	l.MaxDecodingBytes = max(l.MaxDecodingBytes, l.MaxDecodedBytes)
	if l.MaxDecoding <= 0 {
		l.MaxDecoding = DefaultMaxDecoding
	}
	return l
}

// Sentinel errors; the returned errors wrap them with the details.
var (
	// ErrFormat means the data is not a JPEG, PNG, GIF or WebP image, or its
	// header is malformed.
	ErrFormat = errors.New("not a decodable JPEG, PNG, GIF or WebP image")
	// ErrTooLarge means the data or the image it declares exceeds Limits.
	ErrTooLarge = errors.New("image too large")
	// ErrFeatureless means the image (nearly) has one brightness, so its
	// perceptual hash would be noise that matches other blank images.
	ErrFeatureless = errors.New("image is blank or nearly uniform")
	// ErrBusy means the context ended while the image waited for its turn
	// to be decoded (Limits.MaxDecoding, MaxDecodingBytes); it wraps the
	// context's error. A request handler that bounds the wait with a
	// deadline answers it as "try again later".
	ErrBusy = errors.New("too many images being decoded at once")
)

// format is an image format the hasher decodes. Only these four: every
// decoder is attack surface, and marketplaces serve nothing else.
type format string

const (
	formatJPEG format = "jpeg"
	formatPNG  format = "png"
	formatGIF  format = "gif"
	formatWebP format = "webp"
)

// sniff recognizes the format by its magic bytes. The global image format
// registry is not used, so that a decoder some other package registers
// (BMP, TIFF) never becomes reachable from untrusted input here.
func sniff(data []byte) (format, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		return formatJPEG, true
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, true
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return formatGIF, true
	case len(data) >= 16 && string(data[:4]) == "RIFF" && string(data[8:15]) == "WEBPVP8":
		return formatWebP, true
	}
	return "", false
}

// decodeConfig returns the declared size of the image after checking the
// byte cap, the format and the pixel cap; nothing proportional to the
// image's size has been allocated when it returns.
func decodeConfig(data []byte, lim Limits) (format, image.Config, error) {
	if int64(len(data)) > lim.MaxBytes {
		return "", image.Config{}, fmt.Errorf("%w: %d bytes, over the cap of %d bytes", ErrTooLarge, len(data), lim.MaxBytes)
	}
	f, ok := sniff(data)
	if !ok {
		return "", image.Config{}, fmt.Errorf("%w: unrecognized signature %q", ErrFormat, data[:min(len(data), 8)])
	}
	var (
		cfg image.Config
		err error
	)
	r := bytes.NewReader(data)
	switch f {
	case formatJPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case formatPNG:
		cfg, err = png.DecodeConfig(r)
	case formatGIF:
		cfg, err = gif.DecodeConfig(r)
	case formatWebP:
		cfg, err = webp.DecodeConfig(r)
	}
	if err != nil {
		return "", image.Config{}, fmt.Errorf("%w: %s header: %w", ErrFormat, f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", image.Config{}, fmt.Errorf("%w: %s declares an empty %d×%d image", ErrFormat, f, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.MaxPixels {
		return "", image.Config{}, fmt.Errorf("%w: %s declares %d×%d = %d pixels, over the cap of %d", ErrTooLarge, f, cfg.Width, cfg.Height, px, lim.MaxPixels)
	}
	return f, cfg, nil
}

// dcMinBlocks is the smallest side, in 8×8 blocks, for which a JPEG is
// hashed from its DC coefficients alone. The hash looks at the image
// through a 64×64 grid, and a DC plane with fewer than 32 cells per side
// would have to be stretched; below that a full decode is cheap anyway.
const dcMinBlocks = 32

// minContentCells is the fewest cells of the working plane the content
// inside an image's borders must span on each side. Hashing a trimmed
// region needs its edges to within a few percent; a small logo on a large
// canvas, seen through 8×8 blocks, would have edges off by a tenth of its
// size, so such an image is decoded in full instead.
const minContentCells = 48

// decoded is one brightness plane of an image and the content inside its
// borders.
type decoded struct {
	p    *plane
	trim rect
}

// load decodes data, within the Hasher's Limits and under its gate, into
// the brightness planes the hashes are computed from: one composited on
// white, as a marketplace page shows an image, and for a reference image
// with transparency a second one composited on black (see HashReference).
// A JPEG large enough is decoded at 1/8 scale from its DC coefficients
// alone, unless its content turns out too small for that resolution;
// anything else is decoded fully: a JPEG's luma alone (loadLuma), other
// images by their format's decoder. The cost of the full decode is
// estimated from the header and refused past MaxDecodedBytes before any
// pixel buffer exists.
//
// With luma above lumaNone (listing images, for logo detection), load
// also returns the image's luma at full resolution, as Luma returns it,
// and with lumaColour its colour planes (see Colour), from the same
// decode wherever it can (see loadShared); no luma when it could not,
// for the caller to decode it apart.
func (h *Hasher) load(ctx context.Context, data []byte, reference bool, luma lumaWant) ([]decoded, Colour, error) {
	f, cfg, err := decodeConfig(data, h.lim)
	if err != nil {
		return nil, Colour{}, err
	}
	if f == formatJPEG && luma != lumaNone {
		if out, c, ok, err := h.loadShared(ctx, data, cfg, luma == lumaColour); ok {
			return out, c, err
		}
	}
	full := decodedBytes(f, cfg, data)
	lumaOK := f == formatJPEG // until a decoder says it has no luma component
	if f == formatJPEG && dcSized(cfg) {
		release, err := h.gate.acquire(ctx, dcBytes(cfg))
		if err != nil {
			return nil, Colour{}, err
		}
		dc, err := jpegdc.Decode(bytes.NewReader(data), h.lim.MaxPixels)
		var unsupported jpegdc.UnsupportedError
		switch {
		case err == nil:
			p := planeFromDC(dc)
			release()
			if t := p.trim(); dcSuffices(p, t) {
				return []decoded{{p, t}}, Colour{}, nil
			}
			if c := lumaCost(cfg, data); c > h.lim.MaxDecodedBytes {
				return nil, Colour{}, fmt.Errorf("%w: jpeg of %d×%d: its content is too small to hash at 1/8 scale, and a full decode takes %s, over the cap of %s",
					ErrTooLarge, cfg.Width, cfg.Height, mib(c), mib(h.lim.MaxDecodedBytes))
			}
		case errors.As(err, &unsupported):
			// CMYK or RGB JPEG: no luma to take the DC of; decode fully.
			release()
			lumaOK = false
		default:
			release()
			return nil, Colour{}, fmt.Errorf("%w: jpeg: %w", ErrFormat, err)
		}
	}
	if lumaOK && lumaCost(cfg, data) <= h.lim.MaxDecodedBytes {
		// A JPEG's full decode is of its luma alone, the one component
		// the plane is made of.
		if p, ok, err := h.loadLuma(ctx, data, cfg); ok {
			if err != nil {
				return nil, Colour{}, err
			}
			return []decoded{{p, p.trim()}}, Colour{}, nil
		}
	}
	if luma != lumaNone {
		// The grey copy Luma returns is one more byte per pixel.
		full += int64(cfg.Width) * int64(cfg.Height)
	}
	if luma == lumaColour {
		// And the colour planes two more, at most: without them when
		// they would pass the cap, as loadShared does.
		if more := 2 * int64(cfg.Width) * int64(cfg.Height); full+more <= h.lim.MaxDecodedBytes {
			full += more
		} else {
			luma = lumaGrey
		}
	}
	if full > h.lim.MaxDecodedBytes {
		return nil, Colour{}, fmt.Errorf("%w: %s declares %d×%d pixels of %s: decoding takes %s, over the cap of %s",
			ErrTooLarge, f, cfg.Width, cfg.Height, modelName(f, cfg.ColorModel), mib(full), mib(h.lim.MaxDecodedBytes))
	}
	release, err := h.gate.acquire(ctx, full)
	if err != nil {
		return nil, Colour{}, err
	}
	defer release()
	img, err := decodeFull(f, data)
	if err != nil {
		return nil, Colour{}, err
	}
	p := planeFromImage(img, white)
	out := []decoded{{p, p.trim()}}
	if reference && !opaque(img) {
		p := planeFromImage(img, black)
		out = append(out, decoded{p, p.trim()})
	}
	var c Colour
	if luma != lumaNone {
		c.Y = grayOf(img) // what lumaFull makes of the same decode
	}
	if luma == lumaColour {
		c.Cb, c.Cr = chromaOf(img)
	}
	return out, c, nil
}

// dcSized reports whether a JPEG is large enough to be hashed from its DC
// coefficients (dcMinBlocks).
func dcSized(cfg image.Config) bool {
	return (cfg.Width+7)/8 >= dcMinBlocks && (cfg.Height+7)/8 >= dcMinBlocks
}

// dcSuffices reports whether plane p of a JPEG's DC coefficients, trimmed
// to t, is fine enough to hash: no borders and not framed (see framed),
// or content inside the borders at least minContentCells on each side.
func dcSuffices(p *plane, t rect) bool {
	if t == fullRect {
		return !p.framed()
	}
	return (t.x1-t.x0)*float64(p.w) >= minContentCells && (t.y1-t.y0)*float64(p.h) >= minContentCells
}

// lumaCost is the memory of decoding a JPEG's luma alone at full scale
// (jpegdc.DecodeGray) and resampling it into the working plane. A frame
// header jpegFrame cannot read is costed as progressive, the dearer.
func lumaCost(cfg image.Config, data []byte) int64 {
	sof, ok := jpegFrame(data)
	return jpegdc.GrayBytes(cfg.Width, cfg.Height, 0, sof.progressive || !ok) + resampleBytes(cfg.Width, cfg.Height) + decoderSlack
}

// loadLuma is the full decode of a JPEG that has a luma component: its
// luma alone (jpegdc.DecodeGray: no chroma transform, no colour
// conversion), whose pixels are image/jpeg's Y plane exactly, so that the
// plane made of it is the one image/jpeg's decode gives (planeFromImage
// reads only Y). ok is false, and nothing was decoded, when the caller
// must decode with image/jpeg instead: the luma decoder refused or failed
// on the file (image/jpeg then reports what it reported before).
func (h *Hasher) loadLuma(ctx context.Context, data []byte, cfg image.Config) (p *plane, ok bool, err error) {
	release, err := h.gate.acquire(ctx, lumaCost(cfg, data))
	if err != nil {
		return nil, true, err
	}
	defer release()
	g, err := jpegdc.DecodeGray(bytes.NewReader(data), h.lim.MaxPixels, 0)
	if err != nil {
		return nil, false, nil
	}
	return planeFromImage(g, white), true, nil
}

// loadShared decodes a listing JPEG once for both its hashes and its luma
// (jpegdc.DecodeGrayDC) and makes the hashes' plane as the separate path
// of load would make it from the same file: from the DC plane where that
// path takes the DC plane (the values jpegdc.Decode gives), from the luma
// where it decodes in full (image/jpeg's Y plane exactly). The hashes are
// therefore the same as without the luma, for one entropy decode instead
// of two (three when the content is too small for the DC plane). ok is
// false, and nothing was decoded, where load must take the separate path:
// no luma component (CMYK, Adobe RGB), over the decode cap as one decode,
// or a decode error (the separate decodes then report what they reported
// before). The gate is held until the plane is made.
//
// With colour, the JPEG's chroma planes are decoded in the same pass
// (jpegdc.DecodeColour) and returned with the luma, unless they would
// take the decode over the cap; the hashes are the same.
func (h *Hasher) loadShared(ctx context.Context, data []byte, cfg image.Config, colour bool) (out []decoded, c Colour, ok bool, err error) {
	need := lumaCost(cfg, data) + jpegdc.DCBytes(cfg.Width, cfg.Height) + dcBytes(cfg)
	if colour {
		// Over the cap with the colour planes, the luma and hashes
		// are still decoded together, without them.
		sof, ok := jpegFrame(data)
		more := jpegdc.ColourBytes(cfg.Width, cfg.Height, sof.progressive || !ok)
		if colour = need+more <= h.lim.MaxDecodedBytes; colour {
			need += more
		}
	}
	if need > h.lim.MaxDecodedBytes {
		return nil, Colour{}, false, nil
	}
	release, err := h.gate.acquire(ctx, need)
	if err != nil {
		return nil, Colour{}, true, err
	}
	defer release()
	var dc *jpegdc.Plane
	if colour {
		c.Y, c.Cb, c.Cr, dc, err = jpegdc.DecodeColour(bytes.NewReader(data), h.lim.MaxPixels, true)
	} else {
		c.Y, dc, err = jpegdc.DecodeGrayDC(bytes.NewReader(data), h.lim.MaxPixels, 0)
	}
	if err != nil {
		return nil, Colour{}, false, nil
	}
	if dcSized(cfg) {
		p := planeFromDC(dc)
		if t := p.trim(); dcSuffices(p, t) {
			return []decoded{{p, t}}, c, true, nil
		}
	}
	p := planeFromImage(c.Y, white)
	return []decoded{{p, p.trim()}}, c, true, nil
}

// lumaWant is what load returns besides the hashes' planes: nothing, the
// luma, or the luma and the colour planes.
type lumaWant uint8

const (
	lumaNone lumaWant = iota
	lumaGrey
	lumaColour
)

// decodeFull decodes the whole image with the format's decoder (the first
// frame of a GIF).
func decodeFull(f format, data []byte) (image.Image, error) {
	var (
		img image.Image
		err error
	)
	r := bytes.NewReader(data)
	switch f {
	case formatJPEG:
		img, err = jpeg.Decode(r)
	case formatPNG:
		img, err = png.Decode(r)
	case formatGIF:
		img, err = gif.Decode(r)
	case formatWebP:
		img, err = webp.Decode(r)
	default:
		return nil, fmt.Errorf("%w: %q", ErrFormat, f)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, f, err)
	}
	return img, nil
}

// opaque reports whether img has no transparent pixel. Images that cannot
// say (none of the decoders' types) count as opaque.
func opaque(img image.Image) bool {
	o, ok := img.(interface{ Opaque() bool })
	return !ok || o.Opaque()
}
