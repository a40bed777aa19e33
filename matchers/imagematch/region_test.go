package imagematch

import (
	"context"
	"image/color"
	"slices"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// TestListingRegions checks that HashListingImageRegions returns exactly
// HashListingImage's hashes with one region each, that the region of a
// trimmed hash is the picture inside the padding, in the image's pixels,
// and that a listing carrying its regions gets the matched hash's region
// as evidence, with the same score and evidence otherwise as without.
func TestListingRegions(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(Limits{})
	ref := synthImage(kindProduct, 41, 640, 480)
	refHashes, err := h.HashReference(ctx, encodeJPEG(t, ref, 92))
	if err != nil {
		t.Fatal(err)
	}
	// The official photo on a white canvas: 160 px left and right, 120 px
	// above and below.
	data := encodePNG(t, padded(ref, 0.25, 0.25, color.White))
	plain, err := h.HashListingImage(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	hashes, regions, err := h.HashListingImageRegions(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hashes, plain) || len(regions) != len(hashes) {
		t.Fatalf("%d hashes and %d regions; want HashListingImage's %d hashes, one region each", len(hashes), len(regions), len(plain))
	}
	content := domain.Region{X: 160, Y: 120, W: 640, H: 480, ImageW: 960, ImageH: 720}
	near := func(r *domain.Region) bool {
		// Trimming works on cells of the working plane and may bite a
		// little into a flat edge of the picture: 2% of the side.
		d := func(a, b int) bool { return a-b <= 20 && b-a <= 20 }
		return r != nil && d(r.X, content.X) && d(r.Y, content.Y) && d(r.W, content.W) && d(r.H, content.H) &&
			r.ImageW == content.ImageW && r.ImageH == content.ImageH
	}
	found := false
	for _, r := range regions {
		if r != nil && (r.X < 0 || r.Y < 0 || r.X+r.W > r.ImageW || r.Y+r.H > r.ImageH || r.W <= 0 || r.H <= 0) {
			t.Errorf("region %+v outside the image", *r)
		}
		found = found || near(r)
	}
	if !found || regions[0] != nil {
		t.Errorf("regions %v: want the whole image first and the content box %+v among them", regions, content)
	}

	mark := &matchers.Mark{Mark: &domain.Mark{MarkID: "kestrel"},
		References: []matchers.ReferenceImage{{Kind: matchers.RefOfficial, URL: "upload:abc", Hashes: refHashes}}}
	m, err := New([]*matchers.Mark{mark}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	listing := func(withRegions bool) matchers.Signal {
		l := matchers.NewListing(&domain.Listing{ListingID: "l", Title: "bag"})
		img := matchers.ListingImage{Index: 0, URL: "https://shop.example/0.png", Hashes: hashes}
		if withRegions {
			img.Regions = regions
		}
		l.Images = append(l.Images, img)
		sigs, err := m.Match(ctx, l, []*matchers.Mark{mark})
		if err != nil {
			t.Fatal(err)
		}
		return sigs[0]
	}
	without, with := listing(false), listing(true)
	if without.Score <= 0.5 || with.Score != without.Score || len(with.Evidence) != 1 || len(without.Evidence) != 1 {
		t.Fatalf("scores %v with regions, %v without; want the same strong match", with.Score, without.Score)
	}
	e, e0 := with.Evidence[0], without.Evidence[0]
	if e.Reference != "upload:abc" || e0.Region != nil {
		t.Errorf("evidence reference %q, region without regions %v", e.Reference, e0.Region)
	}
	e.Region, e0.Region = nil, nil
	if e != e0 {
		t.Errorf("evidence differs beyond the region: %+v vs %+v", e, e0)
	}
	// The copy matches through its trimmed hash: the region is the
	// picture inside the canvas, one of the image's regions.
	if r := with.Evidence[0].Region; !near(r) || !slices.ContainsFunc(regions, func(x *domain.Region) bool { return x != nil && *x == *r }) {
		t.Errorf("matched region %v, want one of the image's, near %+v", r, content)
	}
	t.Logf("matched region %v: %s", with.Evidence[0].Region, with.Evidence[0].Detail)
}
