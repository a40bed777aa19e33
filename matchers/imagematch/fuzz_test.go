package imagematch

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"os"
	"testing"
)

// FuzzHashListingImage feeds arbitrary bytes to the hasher: it must never
// panic, must stay within its caps, and must either fail with one of its
// sentinel errors or return between one and four hashes.
func FuzzHashListingImage(f *testing.F) {
	// Small seeds: the fuzzer mutates and minimizes faster.
	for _, name := range []string{
		"testdata/video-001.lossy.webp",
		"testdata/gopher-doc.with-alpha.lossless.webp",
		"internal/jpegdc/testdata/video-001.q50.420.progressive.jpeg",
		"internal/jpegdc/testdata/video-005.gray.q50.jpeg",
	} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// A JPEG just large enough for the DC path, and small PNG and GIF.
	f.Add(encodeJPEG(f, synthImage(kindLogo, 5, 256, 256), 20))
	pal := image.NewPaletted(image.Rect(0, 0, 9, 7), color.Palette{color.Black, color.White})
	pal.Pix[3] = 1
	f.Add(encodePNG(f, pal))
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(gifBuf.Bytes())
	f.Add(pngBomb(3000, 3000))
	f.Add([]byte("\xff\xd8\xff\xd9"))

	// Small caps keep each input cheap: at most 256 KiB and 1 Mpx.
	h := NewHasher(Limits{MaxBytes: 256 << 10, MaxPixels: 1 << 20})
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, err := h.HashListingImage(context.Background(), data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrFeatureless) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(hs) < 1 || len(hs) > 8 {
			t.Fatalf("%d hashes", len(hs))
		}
	})
}

// FuzzHashReference feeds arbitrary bytes to the reference hasher, which
// also looks at transparent images on black: it must never panic, must
// fail only with a sentinel error, and must return 1 to 64 hashes.
func FuzzHashReference(f *testing.F) {
	alpha, err := os.ReadFile("testdata/gopher-doc.with-alpha.lossless.webp")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(alpha)
	f.Add(encodePNG(f, transparentLogo(1, 60, 40, color.RGBA{255, 255, 255, 255}, color.RGBA{255, 255, 255, 255})))
	f.Add(encodePNG(f, image.NewNRGBA64(image.Rect(0, 0, 20, 10))))
	f.Add(pngBomb(3000, 3000))
	h := NewHasher(Limits{MaxBytes: 256 << 10, MaxPixels: 1 << 20, MaxDecodedBytes: 8 << 20})
	f.Fuzz(func(t *testing.T, data []byte) {
		hs, err := h.HashReference(context.Background(), data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrFeatureless) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(hs) < 1 || len(hs) > maxReferenceHashes {
			t.Fatalf("%d hashes", len(hs))
		}
	})
}
