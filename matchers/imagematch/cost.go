package imagematch

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"

	"golang.org/x/sync/semaphore"
)

// The decoders' memory is not something they bound themselves: image/png
// allocates the whole image the header declares, and a 300 KB file of
// zeros can declare 40 Mpx of 16-bit RGBA, 320 MB. The cost of a decode is
// therefore estimated from the header (size, colour model, depth,
// subsampling, progressive or interlaced), refused past
// Limits.MaxDecodedBytes, and charged against a gate that bounds what all
// images being decoded at once may hold. The estimates follow what the
// stdlib and x/image decoders allocate and err on the high side.

// decodedBytes estimates the peak memory of decoding data in full and
// converting it to a brightness plane.
func decodedBytes(f format, cfg image.Config, data []byte) int64 {
	w, h := int64(cfg.Width), int64(cfg.Height)
	px := w * h
	var img int64
	switch f {
	case formatJPEG:
		img = jpegBytes(cfg, data)
	case formatPNG:
		img = px * int64(pngBytesPerPixel(cfg.ColorModel))
		if len(data) > 28 && data[28] == 1 {
			// Adam7: each pass is decoded into an image of its own,
			// then copied into the final one.
			img *= 2
		}
	case formatGIF:
		img = px // one palette index per pixel, first frame only
	case formatWebP:
		switch {
		case cfg.ColorModel == color.NRGBAModel, bytes.Contains(data, []byte("VP8L")):
			// Lossless: ARGB words, then the NRGBA image.
			img = 8 * px
		case cfg.ColorModel == color.NYCbCrAModel:
			img = px*3/2 + px // 4:2:0 plus alpha
		default:
			img = px * 3 / 2
		}
	}
	return img + resampleBytes(cfg.Width, cfg.Height) + decoderSlack + 2*8*w
}

// decoderSlack covers a decoder's fixed state (Huffman and zlib tables,
// buffered readers); two rows of the widest pixels cover image/png's
// current and previous row.
const decoderSlack = 256 << 10

// resampleBytes is what planeFromImage adds to the decoded image: one row
// of floats and the horizontally resampled rows, for two planes (a
// reference with transparency is converted twice).
func resampleBytes(w, h int) int64 {
	ww, _ := workSize(w, h)
	return 2 * (4*int64(w) + 4*int64(ww)*int64(h) + 4*workSide*workSide)
}

// dcBytes estimates the memory of the DC-only decode of a JPEG (one int32
// per 8×8 block of each component, the float plane and its resampling).
func dcBytes(cfg image.Config) int64 {
	bw, bh := int64(cfg.Width+15)/8, int64(cfg.Height+15)/8
	return 4*4*bw*bh + 4*bw*bh + resampleBytes(int(bw), int(bh))
}

// pngBytesPerPixel is the size of a pixel of the image image/png decodes
// to, for the colour model png.DecodeConfig reports.
func pngBytesPerPixel(m color.Model) int {
	switch m {
	case color.GrayModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // unknown: assume the largest
}

// jpegBytes estimates image/jpeg's allocations for data: the decoded
// planes at their subsampling, a conversion buffer for 4-component (CMYK,
// Adobe RGB) images, and for a progressive JPEG the coefficients of every
// block (64 int32 per 8×8 block, 4 bytes per sample) kept across scans.
// Without a readable frame header it assumes 3 full-resolution components.
func jpegBytes(cfg image.Config, data []byte) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	sof, ok := jpegFrame(data)
	if !ok {
		return px * (3 + 4 + 4*3)
	}
	var hmax, vmax int64 = 1, 1
	for _, c := range sof.comps {
		hmax, vmax = max(hmax, int64(c.h)), max(vmax, int64(c.v))
	}
	var samples int64
	for _, c := range sof.comps {
		samples += px * int64(c.h) * int64(c.v) / (hmax * vmax)
	}
	n := samples
	if len(sof.comps) == 4 {
		n += 4 * px // converted to image.CMYK or image.RGBA
	}
	if sof.progressive {
		n += 4 * samples
	}
	return n
}

// jpegSOF is what jpegFrame reads of a JPEG frame header.
type jpegSOF struct {
	progressive bool
	comps       []struct{ h, v byte }
}

// jpegFrame walks a JPEG's marker segments up to its frame header (SOFn)
// and returns the components' sampling factors and whether it is
// progressive. ok is false when no frame header is found.
func jpegFrame(data []byte) (jpegSOF, bool) {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return jpegSOF{}, false
		}
		marker := data[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		seg := data[i+4 : min(len(data), i+2+n)]
		switch marker {
		case 0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf:
			if len(seg) < 6 {
				return jpegSOF{}, false
			}
			nc := int(seg[5])
			if nc < 1 || nc > 4 || len(seg) < 6+3*nc {
				return jpegSOF{}, false
			}
			sof := jpegSOF{progressive: marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce}
			for k := range nc {
				hv := seg[6+3*k+1]
				sof.comps = append(sof.comps, struct{ h, v byte }{max(hv>>4, 1), max(hv&0x0f, 1)})
			}
			return sof, true
		case 0xda: // start of scan before any frame header
			return jpegSOF{}, false
		}
		i += 2 + n
	}
	return jpegSOF{}, false
}

// modelName names an image's pixel format for error messages.
func modelName(f format, m color.Model) string {
	switch m {
	case color.GrayModel:
		return "8-bit grey"
	case color.Gray16Model:
		return "16-bit grey"
	case color.RGBAModel, color.NRGBAModel:
		return "8-bit RGBA"
	case color.RGBA64Model, color.NRGBA64Model:
		return "16-bit RGBA"
	case color.YCbCrModel:
		return "YCbCr"
	case color.NYCbCrAModel:
		return "YCbCr with alpha"
	case color.CMYKModel:
		return "CMYK"
	}
	if _, ok := m.(color.Palette); ok {
		return "palette colour"
	}
	return string(f)
}

// mib formats a byte count in MiB for error messages.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// gate bounds the images a Hasher decodes at once, by count and by the
// sum of their estimated decode memory. Waiting ends with the context.
type gate struct {
	slots  chan struct{}
	bytes  *semaphore.Weighted
	budget int64
}

func newGate(n int, budget int64) *gate {
	return &gate{slots: make(chan struct{}, n), bytes: semaphore.NewWeighted(budget), budget: budget}
}

// acquire waits for a slot and cost bytes of the budget (at most the whole
// budget) and returns the function that gives them back. When ctx ends
// first the error wraps ErrBusy and ctx's error.
func (g *gate) acquire(ctx context.Context, cost int64) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
	cost = min(max(cost, 1), g.budget)
	if err := g.bytes.Acquire(ctx, cost); err != nil {
		<-g.slots
		return nil, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	return func() {
		g.bytes.Release(cost)
		<-g.slots
	}, nil
}
