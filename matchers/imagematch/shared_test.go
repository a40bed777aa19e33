package imagematch

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers/imagematch/internal/jpegdc"
)

// separateLoad is how load made a listing image's plane before its full
// decode of a JPEG became the luma alone and before the shared decode:
// the DC plane when it suffices, otherwise image/jpeg's decode. The
// equivalence tests hold the new paths to it.
func separateLoad(t *testing.T, data []byte) decoded {
	t.Helper()
	f, cfg, err := decodeConfig(data, Limits{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if f == formatJPEG && dcSized(cfg) {
		dc, err := jpegdc.Decode(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		p := planeFromDC(dc)
		if tr := p.trim(); dcSuffices(p, tr) {
			return decoded{p, tr}
		}
	}
	img, err := decodeFull(f, data)
	if err != nil {
		t.Fatal(err)
	}
	p := planeFromImage(img, white)
	return decoded{p, p.trim()}
}

// equivalenceImages are listing images of every kind the fixtures have
// (official photos edited, logos on canvases, sellers' own photos, logos
// in photos) and generated seller's photos as BenchmarkStreamImageLogo
// draws them: about a quarter of those are hashed from a full decode.
func equivalenceImages(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, dir := range []string{"images/listings", "images/own"} {
		paths, err := filepath.Glob(fixtures.Path(dir + "/*.jpg"))
		if err != nil || len(paths) == 0 {
			t.Fatalf("no fixture images in %s: %v", dir, err)
		}
		step := 6
		if testing.Short() {
			step = 18
		}
		for i, p := range paths {
			if i%step != 0 {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[dir+"/"+filepath.Base(p)] = data
		}
	}
	for i := range 16 {
		img := generate.SellerPhoto(rand.New(rand.NewPCG(99, uint64(i))), 800, 800)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		out["seller/"+string(rune('a'+i))] = buf.Bytes()
	}
	return out
}

// TestListingHashesUnchanged holds HashListingImageRegions (a JPEG's full
// decode now of its luma alone) and HashListingImageLuma (one decode for
// hashes and luma) to the hashes and boxes of the separate decodes, and
// the luma HashListingImageLuma returns to Luma's, image for image.
func TestListingHashesUnchanged(t *testing.T) {
	h := NewHasher(Limits{})
	ctx := context.Background()
	full := 0
	for name, data := range equivalenceImages(t) {
		want, wantBoxes, err := listingHashes(separateLoad(t, data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := separateLoad(t, data); d.p.w > 128 || d.p.h > 128 {
			full++ // a DC plane of an 800-pixel image is 100 cells a side
		}
		got, boxes, err := h.HashListingImageRegions(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(got, want) || !sameBoxes(boxes, wantBoxes) {
			t.Errorf("%s: HashListingImageRegions gives %x %v, the separate decodes %x %v", name, got, boxes, want, wantBoxes)
		}
		got, boxes, g, err := h.HashListingImageLuma(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(got, want) || !sameBoxes(boxes, wantBoxes) {
			t.Errorf("%s: HashListingImageLuma gives %x %v, the separate decodes %x %v", name, got, boxes, want, wantBoxes)
		}
		wantLuma, err := h.Luma(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g == nil || g.Rect != wantLuma.Rect || !bytes.Equal(g.Pix, wantLuma.Pix) {
			t.Errorf("%s: HashListingImageLuma's luma differs from Luma's", name)
		}
	}
	if full == 0 {
		t.Fatal("no image took the full decode: the test covers only the DC path")
	}
	t.Logf("%d images hashed from a full decode", full)
}

func sameBoxes(a, b []*domain.Region) bool {
	return slices.EqualFunc(a, b, func(x, y *domain.Region) bool {
		return x == nil && y == nil || x != nil && y != nil && *x == *y
	})
}

// TestHashListingImageLumaOtherFormats checks that images decoded by
// their format's decoder (PNG, and a CMYK JPEG, which has no luma to
// decode alone) give HashListingImageRegions' hashes and Luma's pixels
// from their one decode.
func TestHashListingImageLumaOtherFormats(t *testing.T) {
	h := NewHasher(Limits{})
	ctx := context.Background()
	src := synthImage(kindPhoto, 3, 320, 240)
	cmyk := image.NewCMYK(src.Bounds())
	for y := range src.Bounds().Dy() {
		for x := range src.Bounds().Dx() {
			cmyk.Set(x, y, src.At(x, y))
		}
	}
	for name, data := range map[string][]byte{
		"png":        encodePNG(t, src),
		"cmyk_jpeg":  encodeJPEG(t, cmyk, 90),
		"small_jpeg": encodeJPEG(t, synthImage(kindPhoto, 4, 120, 90), 90),
	} {
		want, wantBoxes, err := h.HashListingImageRegions(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, boxes, g, err := h.HashListingImageLuma(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(got, want) || !sameBoxes(boxes, wantBoxes) {
			t.Errorf("%s: hashes %x, HashListingImageRegions' %x", name, got, want)
		}
		wantLuma, err := h.Luma(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g == nil || g.Rect != wantLuma.Rect || !bytes.Equal(g.Pix, wantLuma.Pix) {
			t.Errorf("%s: luma differs from Luma's", name)
		}
	}
}
