package imagematch

import (
	"context"
	"image"
	"image/color"
	"slices"
	"strings"
	"testing"
)

// TestInspectReference checks the report on reference images: the same
// hashes as HashReference, the content box and preview of a padded photo,
// and each weak-image warning where it applies and only there.
func TestInspectReference(t *testing.T) {
	h := NewHasher(Limits{})
	photo := synthImage(kindPhoto, 7, 640, 480)
	// A small image: detailed, but 96 pixels a side.
	small := resized(synthImage(kindProduct, 8, 640, 480), 0.15)
	// A plain one: a dot in a corner of a smooth gradient; crops that
	// cut the dot off are flat.
	plain := image.NewGray(image.Rect(0, 0, 400, 400))
	for y := range 400 {
		for x := range 400 {
			v := uint8(120 + y/8)
			if (x-30)*(x-30)+(y-30)*(y-30) < 15*15 {
				v = 30
			}
			plain.SetGray(x, y, color.Gray{Y: v})
		}
	}
	// A mostly transparent logo: an opaque chequered emblem of 200×200
	// in the middle of 400×400 of nothing.
	sparse := image.NewNRGBA(image.Rect(0, 0, 400, 400))
	for y := 100; y < 300; y++ {
		for x := 100; x < 300; x++ {
			v := uint8(40)
			if (x/25+y/25)%2 == 0 || (x > 220 && y < 160) {
				v = 200
			}
			sparse.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	// A white logo on transparency, with holes: blank on white.
	white := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	for y := 20; y < 280; y++ {
		for x := 20; x < 280; x++ {
			if (x/20)%2 == 1 || (y/20)%2 == 1 || (x > 180 && y > 200) {
				white.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
			}
		}
	}
	tests := []struct {
		name  string
		data  []byte
		warns []string // a substring of each warning, in order
		check func(t *testing.T, r ReferenceReport)
	}{
		{"padded photo", encodePNG(t, padded(photo, 0.5, 0.5, color.White)), nil, func(t *testing.T, r ReferenceReport) {
			c := r.Content
			if r.Width != 1280 || r.Height != 960 || c.X < 300 || c.X > 340 || c.Y < 220 || c.Y > 260 || c.W < 600 || c.W > 660 || c.H < 440 || c.H > 500 || !r.ContentOnly {
				t.Errorf("report %dx%d content %+v content-only %v; want the photo at (320, 240) on its canvas, hashed alone", r.Width, r.Height, c, r.ContentOnly)
			}
			if b := r.Preview.Bounds(); b.Dx() != previewSide || b.Dy() < 182 || b.Dy() > 202 {
				t.Errorf("preview %v; want %d wide in the content's aspect", b, previewSide)
			}
		}},
		{"small", encodePNG(t, small), []string{"small: what is matched is 96×"}, nil},
		{"plain", encodePNG(t, plain), []string{"small: what is matched is 29×29", "little detail: 3 of its 19 crops are too flat"}, nil},
		{"mostly transparent", encodePNG(t, sparse), []string{"mostly transparent: 75%"}, func(t *testing.T, r ReferenceReport) {
			if !slices.Equal(r.Grounds, []string{"white", "black"}) {
				t.Errorf("grounds %v", r.Grounds)
			}
		}},
		{"white on transparency", encodePNG(t, white), []string{"blank on white"}, func(t *testing.T, r ReferenceReport) {
			if !slices.Equal(r.Grounds, []string{"black"}) {
				t.Errorf("grounds %v", r.Grounds)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := h.HashReference(context.Background(), tc.data)
			if err != nil {
				t.Fatal(err)
			}
			got, rep, err := h.InspectReference(context.Background(), tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) || rep.Hashes != len(want) {
				t.Errorf("InspectReference hashes differ from HashReference's")
			}
			if len(rep.Warnings) != len(tc.warns) {
				t.Fatalf("warnings %q, want %d", rep.Warnings, len(tc.warns))
			}
			for i, w := range tc.warns {
				if !strings.Contains(rep.Warnings[i], w) {
					t.Errorf("warning %q, want %q", rep.Warnings[i], w)
				}
			}
			if tc.check != nil {
				tc.check(t, rep)
			}
			t.Logf("%s: %d hashes, content %+v, transparent %.2f, warnings %q", tc.name, rep.Hashes, rep.Content, rep.Transparent, rep.Warnings)
		})
	}
	// A refusal is HashReference's.
	if _, _, err := h.InspectReference(context.Background(), encodePNG(t, image.NewGray(image.Rect(0, 0, 200, 200)))); err == nil ||
		!strings.Contains(err.Error(), ErrFeatureless.Error()) {
		t.Errorf("a blank image: %v", err)
	}
}
