package imagematch

import (
	"context"
	"fmt"
	"image"
)

// Luma decodes an image in full, within the Hasher's Limits and under its
// decode budget (the same checks and gate as the hashes'), and returns its
// brightness as a grey image of the decoded size, transparent pixels seen
// on white. Logo detection (matchers/logo) needs every pixel, where the
// hashes make do with a JPEG's DC coefficients; it goes through here so
// that untrusted images are decoded one way only. Errors wrap ErrFormat,
// ErrTooLarge or ErrBusy.
func (h *Hasher) Luma(ctx context.Context, data []byte) (*image.Gray, error) {
	f, cfg, err := decodeConfig(data, h.lim)
	if err != nil {
		return nil, fmt.Errorf("imagematch: luma: %w", err)
	}
	// The grey copy is one more byte per pixel on top of the decode.
	need := decodedBytes(f, cfg, data) + int64(cfg.Width)*int64(cfg.Height)
	if need > h.lim.MaxDecodedBytes {
		return nil, fmt.Errorf("imagematch: luma: %w: %s of %d×%d: decoding takes %s, over the cap of %s",
			ErrTooLarge, f, cfg.Width, cfg.Height, mib(need), mib(h.lim.MaxDecodedBytes))
	}
	release, err := h.gate.acquire(ctx, need)
	if err != nil {
		return nil, fmt.Errorf("imagematch: luma: %w", err)
	}
	defer release()
	img, err := decodeFull(f, data)
	if err != nil {
		return nil, fmt.Errorf("imagematch: luma: %w", err)
	}
	return grayOf(img), nil
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
