package imagematch

import (
	"bytes"
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
)

// Limits bound what decoding an image may cost. Zero fields take the
// defaults.
type Limits struct {
	// MaxBytes caps the encoded size, checked before anything is parsed.
	MaxBytes int64
	// MaxPixels caps width*height as the header declares it, checked before
	// any pixel buffer is allocated.
	MaxPixels int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
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

// load decodes data, within lim, into the brightness plane the hashes are
// computed from and finds the content inside its borders. A JPEG large
// enough is decoded at 1/8 scale from its DC coefficients alone, unless
// its content turns out too small for that resolution; anything else is
// decoded fully.
func load(data []byte, lim Limits) (*plane, rect, error) {
	f, cfg, err := decodeConfig(data, lim)
	if err != nil {
		return nil, rect{}, err
	}
	if f == formatJPEG && (cfg.Width+7)/8 >= dcMinBlocks && (cfg.Height+7)/8 >= dcMinBlocks {
		dc, err := jpegdc.Decode(bytes.NewReader(data), lim.MaxPixels)
		var unsupported jpegdc.UnsupportedError
		switch {
		case err == nil:
			p := planeFromDC(dc)
			t := p.trim()
			if t == fullRect || (t.x1-t.x0)*float64(p.w) >= minContentCells && (t.y1-t.y0)*float64(p.h) >= minContentCells {
				return p, t, nil
			}
		case errors.As(err, &unsupported):
			// CMYK or RGB JPEG: no luma to take the DC of; decode fully.
		default:
			return nil, rect{}, fmt.Errorf("%w: jpeg: %w", ErrFormat, err)
		}
	}
	p, err := decodeFull(f, data)
	if err != nil {
		return nil, rect{}, err
	}
	return p, p.trim(), nil
}

// decodeFull decodes the whole image with the format's decoder (the first
// frame of a GIF) and converts it to a brightness plane.
func decodeFull(f format, data []byte) (*plane, error) {
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
	return planeFromImage(img), nil
}
