package detection

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/imagematch"
	"github.com/markwatch/markwatch/matchers/imagematch/imagetest"
	"github.com/markwatch/markwatch/matchers/logo"
)

// mapFetcher serves the bytes of known references; others are 404.
type mapFetcher map[string][]byte

func (f mapFetcher) Fetch(_ context.Context, ref string) ([]byte, error) {
	if b, ok := f[ref]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("fetch %s: %w", ref, &imagefetch.StatusError{URL: ref, Code: 404})
}

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestMarkSkipsUnusableReferences: a mark with one good logo and four
// reference images that cannot be used (missing, not an image, blank, a
// decompression bomb) is prepared with the good one; each of the others
// is reported with the mark and its reason and counted by reason.
func TestMarkSkipsUnusableReferences(t *testing.T) {
	logo := image.NewGray(image.Rect(0, 0, 200, 120))
	for y := range 120 {
		for x := range 200 {
			if (x/20+y/20)%2 == 0 || x > 150 {
				logo.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	fetch := mapFetcher{
		"good.png":    pngOf(t, logo),
		"blank.png":   pngOf(t, image.NewGray(image.Rect(0, 0, 100, 100))),
		"notes.txt":   []byte("not an image"),
		"hostile.png": imagetest.HostilePNG(7000, 5700),
	}
	reg := prometheus.NewRegistry()
	im, err := NewImages(fetch, imagematch.NewHasher(imagematch.Limits{}), ImageOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	m := &domain.Mark{
		SchemaVersion: 1, MarkID: "mk-1", HolderID: "h-1", Name: "Acme", Status: domain.MarkActive,
		Logos:          []string{"good.png", "blank.png", "hostile.png"},
		OfficialImages: []string{"missing.jpg", "notes.txt"},
	}
	p, skipped, err := im.Mark(context.Background(), m)
	if err != nil {
		t.Fatalf("Mark: %v", err)
	}
	if len(p.References) != 1 || p.References[0].URL != "good.png" || len(p.References[0].Hashes) == 0 {
		t.Errorf("references %+v, want good.png alone", p.References)
	}
	want := map[string]string{
		"blank.png": SkipFeatureless, "hostile.png": SkipTooLarge, "missing.jpg": SkipUnreadable, "notes.txt": SkipUnreadable,
	}
	if len(skipped) != len(want) {
		t.Fatalf("skipped %v, want %d", skipped, len(want))
	}
	for _, s := range skipped {
		if s.MarkID != "mk-1" || want[s.URL] != s.Reason || s.Err == nil {
			t.Errorf("skipped %v, want mark mk-1 and reason %q", s, want[s.URL])
		}
	}
	for reason, n := range map[string]float64{SkipFeatureless: 1, SkipTooLarge: 1, SkipUnreadable: 2} {
		if got := testutil.ToFloat64(im.metrics.skipped.WithLabelValues(reason)); got != n {
			t.Errorf("markwatch_reference_images_skipped_total{reason=%q} = %g, want %g", reason, got, n)
		}
	}
	// A second preparer on the same registry shares the counter.
	if _, err := NewImages(fetch, imagematch.NewHasher(imagematch.Limits{}), ImageOptions{Registerer: reg}); err != nil {
		t.Errorf("second preparer on one registry: %v", err)
	}
	// Canceled: the error is the context's, not a skip.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := im.Mark(ctx, &domain.Mark{MarkID: "mk-2", Logos: []string{"good2.png"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v", err)
	}
}

// lenHasher hashes an image to its length.
type lenHasher struct{}

func (lenHasher) HashListingImage(_ context.Context, b []byte) ([]uint64, error) {
	return []uint64{uint64(len(b))}, nil
}
func (lenHasher) HashReference(_ context.Context, b []byte) ([]uint64, error) {
	return []uint64{uint64(len(b))}, nil
}

// TestImagesCausesAndCache checks the cause given to each listing image
// and the cache lookups counted: a URL seen before is a url hit; the same
// bytes under another URL a content hit.
func TestImagesCausesAndCache(t *testing.T) {
	reg := prometheus.NewRegistry()
	im, err := NewImages(mapFetcher{"a": []byte("aaaa"), "b": []byte("aaaa")}, lenHasher{}, ImageOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	first, err := im.Listing(ctx, &domain.Listing{Images: []string{"a", "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Cause != CauseOK || first[1].Cause != CauseNotFound || first[1].Err == "" {
		t.Errorf("first listing: %+v", first)
	}
	again, err := im.Listing(ctx, &domain.Listing{Images: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Cause != CauseCached || again[1].Cause != CauseOK || len(again[1].Hashes) != 1 {
		t.Errorf("second listing: %+v", again)
	}
	for labels, want := range map[[2]string]float64{
		{cacheURL, "hit"}: 1, {cacheURL, "miss"}: 3, {cacheContent, "hit"}: 1, {cacheContent, "miss"}: 1,
	} {
		if got := testutil.ToFloat64(im.metrics.lookups.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("lookups{cache=%s,result=%s} = %v, want %v", labels[0], labels[1], got, want)
		}
	}
	// A second preparer on the same registry (reference and listing
	// images in one process) shares the counters.
	other, err := NewImages(mapFetcher{}, lenHasher{}, ImageOptions{Registerer: reg})
	if err != nil {
		t.Fatalf("a second preparer on one registry: %v", err)
	}
	if other.metrics.lookups != im.metrics.lookups {
		t.Error("a second preparer on one registry did not share the lookup counters")
	}
}

// TestListingImageBounds: in the detector's image path a hostile PNG is
// refused from its header, reported on its image, and the listing's other
// images are hashed.
func TestListingImageBounds(t *testing.T) {
	logo := image.NewGray(image.Rect(0, 0, 200, 120))
	for y := range 120 {
		for x := range 200 {
			if (x/20+y/20)%2 == 0 {
				logo.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	fetch := mapFetcher{"hostile.png": imagetest.HostilePNG(7000, 5700), "good.png": pngOf(t, logo)}
	im, err := NewImages(fetch, imagematch.NewHasher(imagematch.Limits{}), ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := im.Listing(context.Background(), &domain.Listing{ListingID: "l-1", Images: []string{"hostile.png", "good.png"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out[0].Err, "16-bit RGBA") || !strings.Contains(out[0].Err, "over the cap") || len(out[0].Hashes) != 0 {
		t.Errorf("hostile image: %+v", out[0])
	}
	if out[1].Err != "" || len(out[1].Hashes) == 0 {
		t.Errorf("good image: %+v", out[1])
	}
}

// countFeatures is a FeatureExtractor that counts its calls and gives
// every image one keypoint; it is not a ListingPreparer.
type countFeatures struct{ listing, logo atomic.Int32 }

func (c *countFeatures) ListingFeatures(context.Context, []byte) (*matchers.Features, error) {
	c.listing.Add(1)
	return &matchers.Features{W: 1, H: 1, Points: make([]matchers.Keypoint, 1), Desc: make([]matchers.Descriptor, 1)}, nil
}

func (c *countFeatures) LogoFeatures(context.Context, []byte) (*matchers.Features, error) {
	c.logo.Add(1)
	return &matchers.Features{W: 2, H: 2, Points: make([]matchers.Keypoint, 1), Desc: make([]matchers.Descriptor, 1)}, nil
}

// TestFeatureImages: with FeatureImages 2, a listing's first two images
// get features and the others are hashed alone; an image first seen past
// the bound (by URL, or the same bytes under another URL) gets its
// features when a later listing shows it first, and keeps them; a
// listing image whose bytes are a mark's logo is prepared as a listing
// image (its own hashes and listing features), not as the logo.
func TestFeatureImages(t *testing.T) {
	fetch := mapFetcher{}
	for _, n := range []string{"a", "b", "c", "d", "logo"} {
		fetch[n] = []byte(strings.Repeat(n, 8))
	}
	fetch["d-copy"] = fetch["d"]
	cf := &countFeatures{}
	im, err := NewImages(fetch, lenHasher{}, ImageOptions{Features: cf, FeatureImages: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	has := func(imgs []matchers.ListingImage) (out []bool) {
		for _, i := range imgs {
			if len(i.Hashes) != 1 || i.Err != "" {
				t.Fatalf("image %s: %+v", i.URL, i)
			}
			out = append(out, i.Features != nil)
		}
		return out
	}
	listing := func(urls ...string) []bool {
		out, err := im.Listing(ctx, &domain.Listing{Images: urls})
		if err != nil {
			t.Fatal(err)
		}
		return has(out)
	}
	if got := listing("a", "b", "c", "d"); !slices.Equal(got, []bool{true, true, false, false}) || cf.listing.Load() != 2 {
		t.Fatalf("first listing: features %v, %d extractions", got, cf.listing.Load())
	}
	// c was hashed without features: shown first, it gets them; d's
	// bytes under another URL too.
	if got := listing("c", "d-copy", "a"); !slices.Equal(got, []bool{true, true, false}) || cf.listing.Load() != 4 {
		t.Fatalf("second listing: features %v, %d extractions", got, cf.listing.Load())
	}
	// Now cached with features, wherever they come (d's by its bytes).
	if got := listing("d", "c", "b", "a"); !slices.Equal(got, []bool{true, true, false, false}) || cf.listing.Load() != 4 {
		t.Fatalf("third listing: features %v, %d extractions", got, cf.listing.Load())
	}
	if got := listing("b", "a"); !slices.Equal(got, []bool{true, true}) || cf.listing.Load() != 4 {
		t.Fatalf("fourth listing: features %v, %d extractions", got, cf.listing.Load())
	}
	// A mark's logo, then a listing showing the same file.
	p, skipped, err := im.Mark(ctx, &domain.Mark{MarkID: "m", Logos: []string{"logo"}})
	if err != nil || len(skipped) != 0 || len(p.References) != 1 || p.References[0].Features == nil || cf.logo.Load() != 1 {
		t.Fatalf("mark: %+v, skipped %v, %v", p, skipped, err)
	}
	out, err := im.Listing(ctx, &domain.Listing{Images: []string{"logo"}})
	if err != nil || out[0].Features == nil || out[0].Features.W != 1 || cf.listing.Load() != 5 {
		t.Errorf("listing showing the logo's file: %+v (%d listing extractions), %v", out[0], cf.listing.Load(), err)
	}
}

// countFetcher is a mapFetcher that counts its fetches.
type countFetcher struct {
	m mapFetcher
	n atomic.Int32
}

func (f *countFetcher) Fetch(ctx context.Context, ref string) ([]byte, error) {
	f.n.Add(1)
	return f.m.Fetch(ctx, ref)
}

// TestListingPixelsNotCached: features that keep their image's pixels
// (logo detection's dense check) go to the caller, and the caches keep
// them without; so with such an extractor a repeated image is fetched
// and prepared again, pixels and all, wherever its features are wanted
// (by URL or by content), rather than matched without them. Wanted for
// its hashes alone, it is still a cache hit; and without pixels a
// repeated image's features come from the cache as before.
func TestListingPixelsNotCached(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, generate.SellerPhoto(rand.New(rand.NewPCG(5, 7)), 320, 320), &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	h := imagematch.NewHasher(imagematch.Limits{})
	for _, pixels := range []bool{true, false} {
		t.Run(fmt.Sprintf("pixels=%v", pixels), func(t *testing.T) {
			fetch := &countFetcher{m: mapFetcher{"a.jpg": data, "a-copy.jpg": data}}
			im, err := NewImages(fetch, h, ImageOptions{Features: NewLumaFeatures(h, logo.ExtractorOptions{Pixels: pixels, Colour: pixels}), FeatureImages: 1})
			if err != nil {
				t.Fatal(err)
			}
			listing := func(urls ...string) []matchers.ListingImage {
				out, err := im.Listing(t.Context(), &domain.Listing{Images: urls})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			first := listing("a.jpg")
			if f := first[0].Features; first[0].Cause != CauseOK || f == nil || len(f.Points) == 0 || (f.Pixels != nil) != pixels || (len(f.Colour) == 2) != pixels {
				t.Fatalf("first listing: %+v, want features with pixels and colour planes %v", first[0], pixels)
			}
			// The caches hold the features without their pixels.
			byURL, ok := im.byURL.Peek("a.jpg")
			byBytes, ok2 := im.byBytes.Peek(contentKey{sha256.Sum256(data), roleListing})
			if !ok || !ok2 || byURL.features == nil || byBytes.features == nil {
				t.Fatalf("not cached: by URL %v, by content %v", ok, ok2)
			}
			if byURL.features.Colour != nil || byBytes.features.Colour != nil {
				t.Error("cached features keep their colour planes' features, of no use without their pixels")
			}
			if byURL.features.Pixels != nil || byBytes.features.Pixels != nil || byURL.pixels != pixels {
				t.Errorf("cached features keep pixels (by URL %v, by content %v), recorded %v", byURL.features.Pixels != nil, byBytes.features.Pixels != nil, byURL.pixels)
			}
			matchers.ReleasePixels(first)

			// The same image again, by URL and by content.
			again := listing("a.jpg", "a-copy.jpg")
			want := CauseCached
			wantFetches := int32(2)
			if pixels {
				want, wantFetches = CauseOK, 3
			}
			if f := again[0].Features; again[0].Cause != want || f == nil || (f.Pixels != nil) != pixels {
				t.Errorf("again by URL: cause %q, features %v, want cause %q and pixels %v", again[0].Cause, f != nil, want, pixels)
			}
			if got := fetch.n.Load(); got != wantFetches {
				t.Errorf("%d fetches after the second listing, want %d", got, wantFetches)
			}
			if f := listing("a-copy.jpg")[0].Features; f == nil || (f.Pixels != nil) != pixels {
				t.Errorf("again by content: features %v, want pixels %v", f != nil, pixels)
			}
			matchers.ReleasePixels(again)

			// Past FeatureImages only the hashes are wanted: a hit.
			past := listing("gone.jpg", "a.jpg")
			if past[1].Cause != CauseCached || len(past[1].Hashes) == 0 || past[1].Features != nil {
				t.Errorf("hashes alone: %+v, want a cache hit without features", past[1])
			}
		})
	}
}

// TestLogoMaxImagesConfig: detection.logo.max_images resolves to the
// images that get features: 0 the default 4, negative every image.
func TestLogoMaxImagesConfig(t *testing.T) {
	for in, want := range map[int]int{0: config.DefaultLogoMaxImages, -1: 0, 7: 7} {
		if got := (config.Logo{MaxImages: in}).FeatureImages(); got != want {
			t.Errorf("max_images %d: %d images with features, want %d", in, got, want)
		}
	}
}
