package detection

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/imagematch"
	"github.com/markwatch/markwatch/matchers/logo"
)

// twoDecodes is a FeatureExtractor that is not a ListingPreparer, so
// Images hashes and extracts features through two decodes, as before the
// shared decode.
type twoDecodes struct{ l *LumaFeatures }

func (t twoDecodes) ListingFeatures(ctx context.Context, data []byte) (*matchers.Features, error) {
	return t.l.ListingFeatures(ctx, data)
}

func (t twoDecodes) LogoFeatures(ctx context.Context, data []byte) (*matchers.Features, error) {
	return t.l.LogoFeatures(ctx, data)
}

// TestListingPreparedFromOneDecode: listing images prepared through
// LumaFeatures' one decode (ListingPreparer) have the hashes, regions and
// features of the two separate decodes, for seller's photos with and
// without a logo on them (some hashed from the DC plane, some from the
// full luma), a PNG, and an image that cannot be hashed.
func TestListingPreparedFromOneDecode(t *testing.T) {
	fetch := mapFetcher{"blank.png": pngOf(t, image.NewGray(image.Rect(0, 0, 64, 64)))}
	logoImg, err := generate.InventedLogo(rand.New(rand.NewPCG(3, 4)), "Verolta")
	if err != nil {
		t.Fatal(err)
	}
	l := &domain.Listing{ListingID: "l-1"}
	for i := range 12 {
		r := rand.New(rand.NewPCG(7, uint64(i)))
		img := generate.SellerPhoto(r, 640, 640)
		if i%3 == 0 {
			generate.PutLogo(r, img, logoImg, generate.SceneOptions{})
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		ref := fmt.Sprintf("photo-%d.jpg", i)
		fetch[ref] = buf.Bytes()
		l.Images = append(l.Images, ref)
	}
	fetch["photo.png"] = pngOf(t, generate.SellerPhoto(rand.New(rand.NewPCG(8, 8)), 300, 200))
	l.Images = append(l.Images, "photo.png", "blank.png")

	h := imagematch.NewHasher(imagematch.Limits{})
	one := NewLumaFeatures(h, logo.ExtractorOptions{})
	var _ ListingPreparer = one
	prepare := func(f FeatureExtractor) []matchers.ListingImage {
		im, err := NewImages(fetch, h, ImageOptions{Features: f})
		if err != nil {
			t.Fatal(err)
		}
		out, err := im.Listing(context.Background(), l)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got, want := prepare(one), prepare(twoDecodes{one})
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: one decode gives %d hashes, %d regions, features %v, err %q; two decodes %d, %d, %v, %q", want[i].URL,
				len(got[i].Hashes), len(got[i].Regions), got[i].Features != nil, got[i].Err,
				len(want[i].Hashes), len(want[i].Regions), want[i].Features != nil, want[i].Err)
		}
	}
	if n := len(want); want[n-1].Err == "" || want[n-2].Features == nil || want[0].Features == nil {
		t.Fatalf("the cases do not cover what they should: blank %q, png features %v", want[n-1].Err, want[n-2].Features != nil)
	}
}

// TestFastFeaturesConfig checks that detection.logo.fast_features reaches
// the extractor: by default a listing image's pyramid has an enlarged
// first level (keypoints of scale 1/1.3), with fast_features it has none.
func TestFastFeaturesConfig(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, generate.SellerPhoto(rand.New(rand.NewPCG(5, 6)), 640, 640), &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	for _, fast := range []bool{false, true} {
		var d config.Detection
		d.Logo.Enabled, d.Logo.FastFeatures = true, fast
		im, err := ImagesFrom(d, mapFetcher{}, imagematch.NewHasher(imagematch.Limits{}), nil)
		if err != nil {
			t.Fatal(err)
		}
		if im.features == nil {
			t.Fatal("logo detection on, but no feature extractor")
		}
		f, err := im.features.ListingFeatures(context.Background(), buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		enlarged := 0
		for _, p := range f.Points {
			if p.Scale < 1 {
				enlarged++
			}
		}
		if len(f.Points) == 0 || (enlarged > 0) == fast {
			t.Errorf("fast_features %v: %d keypoints, %d from an enlarged level", fast, len(f.Points), enlarged)
		}
	}
}

// TestLogoShortlistConfig checks that detection.logo.shortlist,
// shortlist_tables, shortlist_nearest, shortlist_margin, min_distinct and
// min_partial_coverage reach the logo matcher's options.
func TestLogoShortlistConfig(t *testing.T) {
	d := config.Default().Detection
	if o := OptionsFrom(d).Logo; o.Shortlist != 0 || o.ShortlistTables != 0 {
		t.Errorf("default: shortlist %d of %d tables, want one stage", o.Shortlist, o.ShortlistTables)
	}
	d.Logo.Shortlist, d.Logo.ShortlistTables, d.Logo.MinDistinct, d.Logo.ShortlistNearest, d.Logo.ShortlistMargin, d.Logo.MinPartialCoverage = 64, 2, 2, 8, 6, 0.15
	if o := OptionsFrom(d).Logo; o.Shortlist != 64 || o.ShortlistTables != 2 || o.MinDistinct != 2 || o.ShortlistNearest != 8 || o.ShortlistMargin != 6 || o.MinPartialCoverage != 0.15 {
		t.Errorf("shortlist %d of %d tables, %d nearest, margin %d, min distinct %g, min partial coverage %g; want 64 of 2, 8, 6, 2, 0.15", o.Shortlist, o.ShortlistTables, o.ShortlistNearest, o.ShortlistMargin, o.MinDistinct, o.MinPartialCoverage)
	}
}

// TestMinDenseShareConfig checks that detection.logo.min_dense_share
// reaches the logo matcher's options and decides whether listing
// features keep their pixels: checked (0, the default, or positive) they
// do, -1 they do not.
func TestMinDenseShareConfig(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, generate.SellerPhoto(rand.New(rand.NewPCG(5, 6)), 320, 320), &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	for share, pixels := range map[float64]bool{0: true, 0.6: true, -1: false} {
		var d config.Detection
		d.Logo.Enabled, d.Logo.MinDenseShare = true, share
		if o := OptionsFrom(d).Logo; o.MinDenseShare != share {
			t.Errorf("min_dense_share %g: logo.Options.MinDenseShare %g", share, o.MinDenseShare)
		}
		f := listingFeaturesFrom(t, d, buf.Bytes())
		if (f.Pixels != nil) != pixels {
			t.Errorf("min_dense_share %g: features keep pixels %v, want %v", share, f.Pixels != nil, pixels)
		}
		// The colour planes are described with the pixels kept, unless
		// colour_min_dense is negative.
		if (len(f.Colour) == 2) != pixels {
			t.Errorf("min_dense_share %g: %d colour planes' features", share, len(f.Colour))
		}
		_, _, fp, err := preparedFrom(t, d, buf.Bytes())
		if err != nil || fp == nil || (len(fp.Colour) == 2) != pixels {
			t.Errorf("min_dense_share %g, PrepareListing: %v, colour planes %v", share, err, fp != nil && fp.Colour != nil)
		}
		matchers.ReleasePixels([]matchers.ListingImage{{Features: f}, {Features: fp}})
		d.Logo.ColourMinDense = -1
		if share >= 0 {
			if o := OptionsFrom(d).Logo; o.ColourMinDense != -1 {
				t.Errorf("colour_min_dense -1: logo.Options.ColourMinDense %g", o.ColourMinDense)
			}
			f := listingFeaturesFrom(t, d, buf.Bytes())
			if f.Pixels == nil || f.Colour != nil {
				t.Errorf("colour_min_dense -1: pixels %v, colour planes %d", f.Pixels != nil, len(f.Colour))
			}
			// Prepared with its hashes, the same.
			_, _, f2, err := preparedFrom(t, d, buf.Bytes())
			if err != nil || f2 == nil || f2.Colour != nil {
				t.Errorf("colour_min_dense -1, PrepareListing: %v, colour planes %v", err, f2 != nil && f2.Colour != nil)
			}
			matchers.ReleasePixels([]matchers.ListingImage{{Features: f}, {Features: f2}})
		}
	}
	// min_dense_evenness and the rival's settling reach the matcher's
	// options as given.
	for _, v := range []float64{0, 0.7} {
		var d config.Detection
		d.Logo.Enabled, d.Logo.MinDenseEvenness, d.Logo.RivalDenseMargin, d.Logo.RivalMinDense = true, v, v/2, v
		d.Logo.RivalApartMargin, d.Logo.RivalApartMin, d.Logo.StrongDense = v/4, v/3, v/5
		if o := OptionsFrom(d).Logo; o.MinDenseEvenness != v || o.RivalDenseMargin != v/2 || o.RivalMinDense != v || o.RivalApartMargin != v/4 || o.RivalApartMin != v/3 || o.StrongDense != v/5 {
			t.Errorf("min_dense_evenness %g, rival_dense_margin %g, rival_min_dense %g, rival_apart_margin %g, rival_apart_min %g, strong_dense %g: logo.Options %g, %g, %g, %g, %g, %g", v, v/2, v, v/4, v/3, v/5, o.MinDenseEvenness, o.RivalDenseMargin, o.RivalMinDense, o.RivalApartMargin, o.RivalApartMin, o.StrongDense)
		}
	}
}

// listingFeaturesFrom is the features of a listing image as the image
// preparer d configures computes them (ListingFeatures).
func listingFeaturesFrom(t *testing.T, d config.Detection, data []byte) *matchers.Features {
	t.Helper()
	im, err := ImagesFrom(d, mapFetcher{}, imagematch.NewHasher(imagematch.Limits{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := im.features.ListingFeatures(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// preparedFrom is a listing image hashed with its features as the image
// preparer d configures prepares it (PrepareListing).
func preparedFrom(t *testing.T, d config.Detection, data []byte) ([]uint64, []*domain.Region, *matchers.Features, error) {
	t.Helper()
	im, err := ImagesFrom(d, mapFetcher{}, imagematch.NewHasher(imagematch.Limits{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return im.features.(*LumaFeatures).PrepareListing(context.Background(), data)
}
