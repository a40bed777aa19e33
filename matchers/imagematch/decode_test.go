package imagematch

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"os"
	"runtime"
	"strings"
	"testing"
)

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// pngBomb is a valid-looking PNG of a few dozen bytes that declares a
// w×h RGBA image.
func pngBomb(w, h uint32) []byte {
	var ihdr bytes.Buffer
	_ = binary.Write(&ihdr, binary.BigEndian, w)
	_ = binary.Write(&ihdr, binary.BigEndian, h)
	ihdr.Write([]byte{8, 6, 0, 0, 0}) // 8-bit RGBA, no interlace
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr.Bytes())...)
	// A zlib stream of a few zero bytes; the decoder would want w*h*4 of them.
	out = append(out, pngChunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01})...)
	return append(out, pngChunk("IEND", nil)...)
}

// loadOne loads data as a listing image under the default Limits and
// returns its one plane.
func loadOne(data []byte) (*plane, rect, error) {
	d, _, err := NewHasher(Limits{}).load(context.Background(), data, false, lumaNone)
	if err != nil {
		return nil, rect{}, err
	}
	return d[0].p, d[0].trim, nil
}

// jpegBomb is a JPEG whose frame header declares w×h pixels.
func jpegBomb(t *testing.T, w, h uint16) []byte {
	t.Helper()
	data := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 16, 16)), 90)
	i := bytes.Index(data, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 in the stdlib encoder's output")
	}
	binary.BigEndian.PutUint16(data[i+5:], h)
	binary.BigEndian.PutUint16(data[i+7:], w)
	return data
}

// gifBomb is a GIF whose logical screen is w×h.
func gifBomb(t *testing.T, w, h uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	pal := color.Palette{color.Black, color.White}
	if err := gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 4, 4), pal), nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	binary.LittleEndian.PutUint16(data[6:], w)
	binary.LittleEndian.PutUint16(data[8:], h)
	return data
}

// webpBomb is a WebP whose VP8X canvas is w×h.
func webpBomb(w, h uint32) []byte {
	vp8x := make([]byte, 10)
	w, h = w-1, h-1
	vp8x[4], vp8x[5], vp8x[6] = byte(w), byte(w>>8), byte(w>>16)
	vp8x[7], vp8x[8], vp8x[9] = byte(h), byte(h>>8), byte(h>>16)
	var body bytes.Buffer
	body.WriteString("WEBPVP8X")
	_ = binary.Write(&body, binary.LittleEndian, uint32(len(vp8x)))
	body.Write(vp8x)
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

func TestDecodeRefusesTooLarge(t *testing.T) {
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 40_000_000}
	tests := []struct {
		name string
		data []byte
		want string // in the error message
	}{
		{"png_50000x50000", pngBomb(50000, 50000), "50000×50000 = 2500000000 pixels, over the cap of 40000000"},
		{"png_just_over", pngBomb(8000, 5001), "8000×5001 = 40008000 pixels, over the cap of 40000000"},
		{"jpeg_65000x65000", jpegBomb(t, 65000, 65000), "jpeg declares 65000×65000"},
		{"gif_65535x65535", gifBomb(t, 65535, 65535), "gif declares 65535×65535"},
		{"webp_16384x16384", webpBomb(16384, 16384), "webp declares 16384×16384"},
		{"bytes_over_cap", append(encodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)), 90), make([]byte, 1<<20)...), "bytes, over the cap of 1048576 bytes"},
	}
	h := NewHasher(lim)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := h.HashListingImage(context.Background(), tc.data)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			// Refused from the header: nothing near the image's size was
			// allocated (the test's own data aside).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("refusing the image allocated %d bytes", alloc)
			}
		})
	}
}

func TestDecodeRefusesOtherFormats(t *testing.T) {
	valid := encodeJPEG(t, synthImage(kindPhoto, 1, 300, 300), 85)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("hello, world")},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		{"bmp", append([]byte("BM"), make([]byte, 60)...)},
		{"tiff", append([]byte("II*\x00"), make([]byte, 60)...)},
		{"riff_not_webp", append([]byte("RIFF\x10\x00\x00\x00WAVEfmt "), make([]byte, 16)...)},
		{"jpeg_truncated", valid[:len(valid)/2]},
		{"jpeg_header_only", valid[:200]},
		{"png_bad_crc", func() []byte { b := pngBomb(10, 10); b[20] ^= 0xff; return b }()},
	}
	h := NewHasher(Limits{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.HashListingImage(context.Background(), tc.data); !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
			if _, err := h.HashReference(context.Background(), tc.data); !errors.Is(err, ErrFormat) {
				t.Fatalf("HashReference err = %v, want ErrFormat", err)
			}
		})
	}
}

func TestFeatureless(t *testing.T) {
	white := image.NewGray(image.Rect(0, 0, 600, 600))
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	grey := image.NewRGBA(image.Rect(0, 0, 300, 200))
	draw.Draw(grey, grey.Bounds(), image.NewUniform(color.RGBA{120, 120, 120, 255}), image.Point{}, draw.Src)
	// One grey level of texture is still blank to the eye and to the hash.
	faint := image.NewGray(image.Rect(0, 0, 400, 400))
	for i := range faint.Pix {
		faint.Pix[i] = 200 + uint8(i/400%2)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"white_jpeg_dc_path", encodeJPEG(t, white, 85)},
		{"grey_png", encodePNG(t, grey)},
		{"faint_stripes_png", encodePNG(t, faint)},
	}
	h := NewHasher(Limits{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if hs, err := h.HashListingImage(context.Background(), tc.data); !errors.Is(err, ErrFeatureless) {
				t.Fatalf("HashListingImage = %x, %v; want ErrFeatureless", hs, err)
			}
			if _, err := h.HashReference(context.Background(), tc.data); !errors.Is(err, ErrFeatureless) {
				t.Fatalf("HashReference err = %v, want ErrFeatureless", err)
			}
		})
	}
}

// TestFormatsHashAlike hashes one picture stored as baseline, progressive
// and CMYK JPEG, PNG, GIF and lossy WebP: each must match the PNG's
// reference hashes.
func TestFormatsHashAlike(t *testing.T) {
	files := []string{
		"internal/jpegdc/testdata/video-001.jpeg",
		"internal/jpegdc/testdata/video-001.progressive.jpeg",
		"internal/jpegdc/testdata/video-001.q50.420.jpeg",
		"internal/jpegdc/testdata/video-001.cmyk.jpeg",
		"internal/jpegdc/testdata/video-001.rgb.jpeg",
		"testdata/video-001.gif",
		"testdata/video-001.lossy.webp",
	}
	h := NewHasher(Limits{})
	ref, err := os.ReadFile("testdata/video-001.png")
	if err != nil {
		t.Fatal(err)
	}
	refHashes, err := h.HashReference(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			hs, err := h.HashListingImage(context.Background(), data)
			if err != nil {
				t.Fatalf("HashListingImage: %v", err)
			}
			if d := minDistance(hs, refHashes); d > DefaultMaxDistance {
				t.Errorf("distance %d to the PNG, want ≤ %d", d, DefaultMaxDistance)
			} else {
				t.Logf("distance %d", d)
			}
		})
	}
}

// TestDCPathMatchesFullDecode checks that the 1/8-scale DC plane and a full
// decode of the same JPEG give (nearly) the same hashes, for sizes that are
// and are not multiples of the 8×8 block.
func TestDCPathMatchesFullDecode(t *testing.T) {
	tests := []struct {
		name string
		kind synthKind
		w, h int
	}{
		{"photo_800x800", kindPhoto, 800, 800},
		{"photo_1001x667", kindPhoto, 1001, 667},
		{"product_640x480", kindProduct, 640, 480},
		{"product_900x600", kindProduct, 900, 600},
		{"photo_401x1203", kindPhoto, 401, 1203},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := encodeJPEG(t, synthImage(tc.kind, uint64(100+i), tc.w, tc.h), 85)
			p, trim, err := loadOne(data)
			if err != nil {
				t.Fatal(err)
			}
			img, err := decodeFull(formatJPEG, data)
			if err != nil {
				t.Fatal(err)
			}
			full := planeFromImage(img, white)
			a, err := p.hashes(p.listingRegions(trim))
			if err != nil {
				t.Fatal(err)
			}
			b, err := full.hashes(full.listingRegions(full.trim()))
			if err != nil {
				t.Fatal(err)
			}
			// The whole image's hash is first in both lists.
			d := Distance(a[0], b[0])
			if p.w == full.w && p.h == full.h {
				t.Errorf("both planes are %dx%d: the DC path was not taken", p.w, p.h)
			}
			if d > 4 {
				t.Errorf("DC plane (%dx%d) and full decode (%dx%d) hash %d bits apart, want ≤ 4", p.w, p.h, full.w, full.h, d)
			}
			t.Logf("DC plane %dx%d, full %dx%d: %d bits apart", p.w, p.h, full.w, full.h, d)
		})
	}
}

func TestTransparencyOnWhite(t *testing.T) {
	// A logo with a transparent background is shown on white; the same
	// logo flattened onto white must hash alike.
	logo := synthImage(kindLogo, 3, 500, 400)
	transparent := image.NewNRGBA(logo.Bounds())
	onWhite := image.NewRGBA(logo.Bounds())
	bg := logo.RGBAAt(0, 0)
	for y := range 400 {
		for x := range 500 {
			c := logo.RGBAAt(x, y)
			if c == bg {
				transparent.SetNRGBA(x, y, color.NRGBA{})
				onWhite.SetRGBA(x, y, color.RGBA{255, 255, 255, 255})
			} else {
				transparent.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, 255})
				onWhite.SetRGBA(x, y, c)
			}
		}
	}
	h := NewHasher(Limits{})
	ref, err := h.HashReference(context.Background(), encodePNG(t, transparent))
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.HashListingImage(context.Background(), encodeJPEG(t, onWhite, 90))
	if err != nil {
		t.Fatal(err)
	}
	if d := minDistance(got, ref); d > 2 {
		t.Errorf("transparent PNG and its white-backed JPEG are %d bits apart, want ≤ 2", d)
	}
	alpha, err := os.ReadFile("testdata/gopher-doc.with-alpha.lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.HashListingImage(context.Background(), alpha); err != nil {
		t.Errorf("WebP with alpha: %v", err)
	}
}

func TestHashCounts(t *testing.T) {
	h := NewHasher(Limits{})
	for _, r := range synthRefs(t, 2) {
		ref, err := h.HashReference(context.Background(), r.data)
		if err != nil {
			t.Fatal(err)
		}
		if len(ref) < 10 || len(ref) > maxReferenceHashes {
			t.Errorf("%s: %d reference hashes, want 10..%d", r.name, len(ref), maxReferenceHashes)
		}
		l, err := h.HashListingImage(context.Background(), r.data)
		if err != nil {
			t.Fatal(err)
		}
		if len(l) < 1 || len(l) > 8 {
			t.Errorf("%s: %d listing hashes, want 1..8", r.name, len(l))
		}
		if d := minDistance(l, ref); d != 0 {
			t.Errorf("%s: the image is %d bits from its own reference hashes", r.name, d)
		}
	}
}

func TestDefaultsAndJPEGStdlibFallback(t *testing.T) {
	if got := NewHasher(Limits{}).lim; got.MaxBytes != DefaultMaxBytes || got.MaxPixels != DefaultMaxPixels {
		t.Errorf("defaults = %+v", got)
	}
	// A small JPEG goes through image/jpeg, a large one through the DC
	// decoder; both must decode.
	for _, size := range []int{100, 255, 256, 2000} {
		img := synthImage(kindPhoto, uint64(size), size, size)
		if _, err := NewHasher(Limits{}).HashListingImage(context.Background(), encodeJPEG(t, img, 80)); err != nil {
			t.Errorf("%dx%d: %v", size, size, err)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := NewHasher(Limits{}).HashListingImage(context.Background(), buf.Bytes()); !errors.Is(err, ErrFeatureless) {
		t.Errorf("1×1 JPEG: err = %v, want ErrFeatureless", err)
	}
}
