package imagematch

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png"
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

// TestHashListingImageColour holds HashListingImageColour to
// HashListingImageLuma's hashes, boxes and luma, image for image, and its
// colour planes to image/jpeg's Cb and Cr for a JPEG, to each pixel's
// YCbCr for a PNG (transparent pixels on white) and a CMYK JPEG; a grey
// JPEG has none, and neither has a JPEG whose colour planes would pass
// the decode cap, which is still hashed with its luma.
func TestHashListingImageColour(t *testing.T) {
	h := NewHasher(Limits{})
	ctx := context.Background()
	images := equivalenceImages(t)
	src := synthImage(kindPhoto, 3, 320, 240)
	cmyk := image.NewCMYK(src.Bounds())
	nrgba := image.NewNRGBA(src.Bounds())
	grey := image.NewGray(src.Bounds())
	for y := range src.Bounds().Dy() {
		for x := range src.Bounds().Dx() {
			cmyk.Set(x, y, src.At(x, y))
			c := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
			c.A = uint8(x % 256) // a gradient of transparency
			nrgba.SetNRGBA(x, y, c)
			grey.Set(x, y, src.At(x, y))
		}
	}
	images["png"] = encodePNG(t, nrgba)
	images["cmyk_jpeg"] = encodeJPEG(t, cmyk, 90)
	images["grey_jpeg"] = encodeJPEG(t, grey, 90)
	for name, data := range images {
		want, wantBoxes, wantY, err := h.HashListingImageLuma(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, boxes, c, err := h.HashListingImageColour(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(got, want) || !sameBoxes(boxes, wantBoxes) {
			t.Errorf("%s: hashes %x %v, HashListingImageLuma's %x %v", name, got, boxes, want, wantBoxes)
		}
		if c.Y == nil || !bytes.Equal(c.Y.Pix, wantY.Pix) || c.Y.Rect != wantY.Rect {
			t.Errorf("%s: luma differs from HashListingImageLuma's", name)
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch m := img.(type) {
		case *image.Gray:
			if c.Cb != nil || c.Cr != nil {
				t.Errorf("%s: colour planes for a grey image", name)
			}
		case *image.YCbCr:
			if c.Cb == nil || c.Cr == nil {
				t.Fatalf("%s: no colour planes", name)
			}
			for y := range c.Cb.Rect.Dy() {
				for x := range c.Cb.Rect.Dx() {
					o := y*m.CStride + x
					if c.Cb.Pix[y*c.Cb.Stride+x] != m.Cb[o] || c.Cr.Pix[y*c.Cr.Stride+x] != m.Cr[o] {
						t.Fatalf("%s: chroma at %d,%d differs from image/jpeg's", name, x, y)
					}
				}
			}
		default:
			b := img.Bounds()
			if c.Cb == nil || c.Cb.Rect.Dx() != b.Dx() || c.Cb.Rect.Dy() != b.Dy() {
				t.Fatalf("%s: colour planes %v for a %v image", name, c.Cb, b)
			}
			for y := 0; y < b.Dy(); y += 7 {
				for x := 0; x < b.Dx(); x += 5 {
					r, g, bl, a := img.At(x, y).RGBA()
					wh := 0xffff - a
					_, u, v := color.RGBToYCbCr(uint8((r+wh)>>8), uint8((g+wh)>>8), uint8((bl+wh)>>8))
					if c.Cb.GrayAt(x, y).Y != u || c.Cr.GrayAt(x, y).Y != v {
						t.Fatalf("%s: chroma at %d,%d is %d,%d, want %d,%d", name, x, y, c.Cb.GrayAt(x, y).Y, c.Cr.GrayAt(x, y).Y, u, v)
					}
				}
			}
		}
	}
	// A cap that lets the luma be decoded with the hashes but not the
	// colour planes too: the hashes and the luma as before, no colour.
	data := images["seller/a"]
	f, cfg, err := decodeConfig(data, Limits{}.withDefaults())
	if err != nil || f != formatJPEG {
		t.Fatalf("seller/a: %v %v", f, err)
	}
	tight := NewHasher(Limits{MaxDecodedBytes: lumaCost(cfg, data) + jpegdc.DCBytes(cfg.Width, cfg.Height) + dcBytes(cfg)})
	want, _, wantY, err := h.HashListingImageLuma(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	got, _, c, err := tight.HashListingImageColour(ctx, data)
	if err != nil {
		t.Fatalf("under a tight cap: %v", err)
	}
	if !slices.Equal(got, want) || c.Y == nil || !bytes.Equal(c.Y.Pix, wantY.Pix) || c.Cb != nil || c.Cr != nil {
		t.Errorf("under a tight cap: hashes %x (want %x), luma %v, colour %v %v", got, want, c.Y != nil, c.Cb != nil, c.Cr != nil)
	}
}

// TestLumaColour: LumaColour's luma is Luma's and its colour planes
// HashListingImageColour's, for a JPEG, a PNG, a grey JPEG; under a cap
// that the colour planes would pass, the luma alone; a broken file fails
// as Luma fails.
func TestLumaColour(t *testing.T) {
	h := NewHasher(Limits{})
	ctx := context.Background()
	src := synthImage(kindPhoto, 5, 200, 150)
	grey := image.NewGray(src.Bounds())
	for y := range src.Bounds().Dy() {
		for x := range src.Bounds().Dx() {
			grey.Set(x, y, src.At(x, y))
		}
	}
	for name, data := range map[string][]byte{
		"jpeg": encodeJPEG(t, src, 80), "png": encodePNG(t, src), "grey_jpeg": encodeJPEG(t, grey, 80),
	} {
		c, err := h.LumaColour(ctx, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantY, err := h.Luma(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		_, _, want, err := h.HashListingImageColour(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.Y.Pix, wantY.Pix) || (c.Cb == nil) != (want.Cb == nil) || (name == "grey_jpeg") != (c.Cb == nil) {
			t.Fatalf("%s: luma equal %v, colour %v (HashListingImageColour's %v)", name, bytes.Equal(c.Y.Pix, wantY.Pix), c.Cb != nil, want.Cb != nil)
		}
		if c.Cb != nil && (!bytes.Equal(c.Cb.Pix, want.Cb.Pix) || !bytes.Equal(c.Cr.Pix, want.Cr.Pix)) {
			t.Errorf("%s: colour planes differ from HashListingImageColour's", name)
		}
	}
	data := encodeJPEG(t, src, 80)
	_, cfg, _ := decodeConfig(data, Limits{}.withDefaults())
	tight := NewHasher(Limits{MaxDecodedBytes: jpegdc.GrayBytes(cfg.Width, cfg.Height, 0, false) + jpegdc.ColourBytes(cfg.Width, cfg.Height, false) + decoderSlack - 1})
	c, err := tight.LumaColour(ctx, data)
	if err != nil || c.Y == nil || c.Cb != nil {
		t.Fatalf("under a tight cap: %v, luma %v, colour %v", err, c.Y != nil, c.Cb != nil)
	}
	if _, err := h.LumaColour(ctx, data[:len(data)/3]); err == nil {
		t.Fatal("a truncated JPEG decodes")
	}
}

// TestHashListingImageColourCap: a PNG whose colour planes would take its
// full decode over the cap is still hashed, with its luma and without
// them, as HashListingImageLuma hashes it.
func TestHashListingImageColourCap(t *testing.T) {
	ctx := context.Background()
	data := encodePNG(t, synthImage(kindPhoto, 8, 320, 240))
	f, cfg, err := decodeConfig(data, Limits{}.withDefaults())
	if err != nil || f != formatPNG {
		t.Fatalf("%v %v", f, err)
	}
	limit := decodedBytes(f, cfg, data) + int64(cfg.Width)*int64(cfg.Height)
	h := NewHasher(Limits{MaxDecodedBytes: limit})
	want, _, wantY, err := h.HashListingImageLuma(ctx, data)
	if err != nil {
		t.Fatalf("within the cap for the luma: %v", err)
	}
	got, _, c, err := h.HashListingImageColour(ctx, data)
	if err != nil {
		t.Fatalf("the colour planes over the cap: %v, want the hashes and luma without them", err)
	}
	if !slices.Equal(got, want) || c.Y == nil || !bytes.Equal(c.Y.Pix, wantY.Pix) || c.Cb != nil {
		t.Errorf("hashes %x (want %x), luma %v, colour %v", got, want, c.Y != nil, c.Cb != nil)
	}
	if _, _, c, err := NewHasher(Limits{MaxDecodedBytes: limit + 2*int64(cfg.Width)*int64(cfg.Height)}).HashListingImageColour(ctx, data); err != nil || c.Cb == nil {
		t.Errorf("with room for the colour planes: %v, colour %v", err, c.Cb != nil)
	}
}
