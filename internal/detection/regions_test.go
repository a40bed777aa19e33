package detection

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"slices"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers/imagematch"
)

// TestListingRegions: a listing image hashed through imagematch carries
// one region per hash (the image matcher reports the matched one), the
// same from the cache as when hashed; the hashes are HashListingImage's.
func TestListingRegions(t *testing.T) {
	// A chequered picture on a white canvas, so that trimming finds a box.
	img := image.NewGray(image.Rect(0, 0, 300, 200))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	for y := 50; y < 150; y++ {
		for x := 60; x < 240; x++ {
			if (x/15+y/15)%2 == 0 {
				img.SetGray(x, y, color.Gray{Y: 20})
			}
		}
	}
	data := pngOf(t, img)
	h := imagematch.NewHasher(imagematch.Limits{})
	im, err := NewImages(mapFetcher{"a.png": data}, h, ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := h.HashListingImage(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"hashed", "cached"} {
		imgs, err := im.Listing(context.Background(), &domain.Listing{Images: []string{"a.png"}})
		if err != nil {
			t.Fatal(err)
		}
		got := imgs[0]
		if !slices.Equal(got.Hashes, want) || len(got.Regions) != len(got.Hashes) {
			t.Fatalf("%s: %d hashes, %d regions; want HashListingImage's %d, one region each", pass, len(got.Hashes), len(got.Regions), len(want))
		}
		if !slices.ContainsFunc(got.Regions, func(r *domain.Region) bool { return r != nil && r.ImageW == 300 && r.ImageH == 200 }) {
			t.Errorf("%s: no region inside the 300×200 image: %v", pass, got.Regions)
		}
	}
}
