package imagematch

import (
	"context"
	"fmt"
	"image"
	"image/color"

	"github.com/markwatch/markwatch/internal/domain"
)

// What a brand owner is shown when uploading a logo or an official photo:
// what the matcher will match, from the same decode and the same decisions
// as HashReference, and why the image may be weak evidence. The reasons
// are the matcher's own: the trimmed content box (trim.go), whether the
// image is hashed whole (minFullShare), how many distinct hashes its
// crops gave (flat crops give none, and similar crops the same), and the
// grounds a transparent logo was hashed on.

// Thresholds of the weak-image warnings.
const (
	// weakSide is the shortest side, in pixels, of content that is not
	// called small: twice the hash grid, so that every hash cell averages
	// a few pixels even after a crop of a tenth.
	weakSide = 2 * hashSide
	// weakHashes is the fewest distinct hashes an image with detail gives
	// (most give 20 to 30): fewer means its crops look alike or are flat,
	// so a copy lands near fewer of them.
	weakHashes = 10
	// weakFlatShare: an image one in weakFlatShare of whose crops (or
	// more) are too flat to hash has its detail in a small part of it.
	weakFlatShare = 8
	// weakTransparent is the share of (nearly) transparent area above
	// which a logo is called mostly transparent.
	weakTransparent = 0.5
	// previewSide caps the preview's longer side.
	previewSide = 256
)

// ReferenceReport says what of a reference image is matched and whether it
// is weak evidence.
type ReferenceReport struct {
	// Width and Height are the image's size in pixels.
	Width, Height int
	// Content is the box inside the image's uniform borders (the whole
	// image when it has none), in its pixels: what is matched.
	Content domain.Region
	// ContentOnly is set when the content covers under 40% of the image:
	// only the box is hashed, never the image as a whole.
	ContentOnly bool
	// Hashes is how many distinct hashes are stored for the image.
	Hashes int
	// Transparent is the share of the image's area that is transparent
	// (0 for an opaque image).
	Transparent float64
	// Grounds are the backgrounds a transparent image was hashed on
	// ("white", "black"); an opaque image is seen as it is, on white.
	Grounds []string
	// Warnings say, in a sentence each, why the image is weak evidence;
	// none when it is not.
	Warnings []string
	// Preview is the content box as the matcher sees it: brightness,
	// composited on the first ground it was hashed on, at most
	// previewSide pixels a side.
	Preview *image.Gray
}

// InspectReference hashes a reference image as HashReference does (the
// same hashes, the same errors) and reports on it.
func (h *Hasher) InspectReference(ctx context.Context, data []byte) ([]uint64, ReferenceReport, error) {
	hashes, planes, err := h.hashReference(ctx, data)
	if err != nil {
		return nil, ReferenceReport{}, err
	}
	var shown *hashedPlane
	rep := ReferenceReport{Hashes: len(hashes)}
	for i := range planes {
		if planes[i].hashes == 0 {
			continue
		}
		if shown == nil {
			shown = &planes[i]
		}
		rep.Grounds = append(rep.Grounds, []string{"white", "black"}[i])
	}
	p := shown.p
	rep.Width, rep.Height = p.imgW, p.imgH
	box := p.box(shown.trim)
	if box == nil {
		box = &domain.Region{W: p.imgW, H: p.imgH, ImageW: p.imgW, ImageH: p.imgH}
	}
	rep.Content = *box
	t := shown.trim
	rep.ContentOnly = t != fullRect && (t.x1-t.x0)*(t.y1-t.y0) < minFullShare
	if len(planes) == 2 {
		// Composited on white and on black, a pixel differs by its
		// transparency: the mean difference is the transparent share.
		var sum float64
		for k, v := range planes[0].p.pix {
			sum += float64(v - planes[1].p.pix[k])
		}
		rep.Transparent = min(max(sum/float64(len(planes[0].p.pix))/255, 0), 1)
	}
	rep.Preview = p.preview(shown.trim)

	if s := min(box.W, box.H); s < weakSide {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("small: what is matched is %d×%d pixels, under %d on a side; copies are found less reliably — upload a larger image", box.W, box.H, weakSide))
	}
	switch {
	case shown.flat*weakFlatShare >= shown.regions:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("little detail: %d of its %d crops are too flat to fingerprint; a copy that is cropped or partly covered may be missed", shown.flat, shown.regions))
	case rep.Hashes < weakHashes:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("little detail: its crops give only %d distinct fingerprints where a detailed image gives 18 or more; copies may be missed", rep.Hashes))
	}
	if rep.Transparent > weakTransparent {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("mostly transparent: %.0f%% of the image is see-through; it is matched on %s grounds only", 100*rep.Transparent, joinGrounds(rep.Grounds)))
	} else if len(planes) == 2 && len(rep.Grounds) == 1 {
		blank, seen := "black", "light"
		if rep.Grounds[0] == "black" {
			blank, seen = "white", "dark"
		}
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("blank on %s: it is matched only where it stands on a %s ground", blank, seen))
	}
	return hashes, rep, nil
}

func joinGrounds(g []string) string {
	if len(g) == 2 {
		return g[0] + " and " + g[1]
	}
	return g[0]
}

// preview renders box r of the plane as a grey image of at most
// previewSide pixels a side, by area averaging of the plane's cells.
func (p *plane) preview(r rect) *image.Gray {
	x0, y0 := int(r.x0*float64(p.w)), int(r.y0*float64(p.h))
	x1, y1 := max(int(r.x1*float64(p.w)+0.5), x0+1), max(int(r.y1*float64(p.h)+0.5), y0+1)
	x1, y1 = min(x1, p.w), min(y1, p.h)
	cw, ch := x1-x0, y1-y0
	// The output keeps the content's aspect in source pixels (cells need
	// not be square).
	aw, ah := (r.x1-r.x0)*float64(p.imgW), (r.y1-r.y0)*float64(p.imgH)
	scale := min(1, float64(previewSide)/max(aw, ah))
	ow, oh := max(1, int(aw*scale+0.5)), max(1, int(ah*scale+0.5))
	img := image.NewGray(image.Rect(0, 0, ow, oh))
	for oy := range oh {
		sy0, sy1 := y0+oy*ch/oh, y0+max((oy+1)*ch/oh, oy*ch/oh+1)
		for ox := range ow {
			sx0, sx1 := x0+ox*cw/ow, x0+max((ox+1)*cw/ow, ox*cw/ow+1)
			var sum float32
			n := 0
			for y := sy0; y < min(sy1, p.h); y++ {
				for x := sx0; x < min(sx1, p.w); x++ {
					sum += p.pix[y*p.w+x]
					n++
				}
			}
			img.SetGray(ox, oy, color.Gray{Y: uint8(min(max(sum/float32(max(n, 1))+0.5, 0), 255))})
		}
	}
	return img
}
