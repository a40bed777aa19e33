package imagematch

import (
	"context"
	"image/color"
	"testing"
)

// TestUnbanner checks that a semi-opaque band across the middle of a photo
// is found in most photos, where it is, and filled in, and that plain
// photos rarely show one: a wrong band costs only one more hash, but every hash is one more
// chance of a false match.
func TestUnbanner(t *testing.T) {
	h := NewHasher(Limits{})
	plainBands, n, banded, found := 0, 0, 0, 0
	for _, r := range synthRefs(t, 8) {
		if r.kind == kindLogo {
			continue
		}
		n++
		p, _, err := load(r.data, h.lim)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.unbanner(); ok {
			plainBands++
		}
		for _, pos := range []float64{0.3, 0.5, 0.7} {
			// A dark band: one close in brightness to the photo under it
			// changes little that a hash sees, found or not.
			img := bandOver(r.img, pos, color.RGBA{20, 20, 20, 255}, 0.6, "SALE -50%")
			p, _, err := load(encodeJPEG(t, img, 85), h.lim)
			if err != nil {
				t.Fatal(err)
			}
			banded++
			q, ok := p.unbanner()
			if !ok {
				continue // busy content can hide an edge; see the rate below
			}
			found++
			// The filled rows must cover the band.
			H := r.img.Bounds().Dy()
			top := float64(int(pos*float64(H-H/9))) / float64(H)
			bottom := top + float64(H/9)/float64(H)
			first, last := -1, -1
			for y := range p.h {
				for x := range p.w {
					if q.pix[y*p.w+x] != p.pix[y*p.w+x] {
						if first < 0 {
							first = y
						}
						last = y
						break
					}
				}
			}
			f0, f1 := float64(first)/float64(p.h), float64(last+1)/float64(p.h)
			if first < 0 || f0 > top+0.02 || f1 < bottom-0.02 || f1-f0 > 2*(bottom-top)+0.05 {
				t.Errorf("%s: band at %.3f–%.3f, filled %.3f–%.3f", r.name, top, bottom, f0, f1)
			}
		}
	}
	t.Logf("bands found in %d of %d banded and %d of %d plain photos", found, banded, plainBands, n)
	if found*3 < banded*2 {
		t.Errorf("bands found in only %d of %d banded photos", found, banded)
	}
	if plainBands*4 > n {
		t.Errorf("bands found in %d of %d plain photos", plainBands, n)
	}
}

// load decodes data as a listing image is decoded, for the tests of the
// planes: the brightness plane composited on white and its content.
func load(data []byte, lim Limits) (*plane, rect, error) {
	ds, _, err := NewHasher(lim).load(context.Background(), data, false, lumaNone)
	if err != nil {
		return nil, rect{}, err
	}
	return ds[0].p, ds[0].trim, nil
}
