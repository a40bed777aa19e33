package imagematch

import (
	"bytes"
	"context"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/corona10/goimagehash"

	"github.com/markwatch/markwatch/fixtures/benchstream"
	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// photo800 is an 800×800 scene with photo grain, as JPEG quality 85: about
// 2 bits per pixel, in the range of marketplace product photos.
func photo800(b *testing.B) []byte {
	b.Helper()
	data := encodeJPEG(b, synthImage(kindPhoto, 7, 800, 800), 85)
	b.Cleanup(func() { b.ReportMetric(float64(len(data)), "jpeg_bytes") })
	return data
}

// BenchmarkHashJPEG800 is the fast path: DC-only decode, trim, and the
// listing's hashes.
func BenchmarkHashJPEG800(b *testing.B) {
	data := photo800(b)
	h := NewHasher(Limits{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.HashListingImage(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashJPEG800Naive is the obvious path for comparison: a full
// stdlib decode and goimagehash.PerceptionHash (one hash, no variants).
func BenchmarkHashJPEG800Naive(b *testing.B) {
	data := photo800(b)
	b.ReportAllocs()
	for b.Loop() {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := goimagehash.PerceptionHash(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashJPEG800Stages splits the fast path into its parts.
func BenchmarkHashJPEG800Stages(b *testing.B) {
	data := photo800(b)
	b.Run("decode_stdlib", func(b *testing.B) {
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load_dc_and_trim", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := loadOne(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	p, trim, err := loadOne(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hash_listing_regions", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.hashes(p.listingRegions(trim)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHashReference hashes a reference photo with all its variants.
func BenchmarkHashReference(b *testing.B) {
	data := photo800(b)
	h := NewHasher(Limits{})
	for b.Loop() {
		if _, err := h.HashReference(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexSearch presearches one listing with two images (about six
// hashes, as HashListingImage returns) over a million reference hashes:
// 40,000 marks with 25 hashes each.
func BenchmarkIndexSearch(b *testing.B) {
	const marks, perMark = 40_000, 25
	rng := rand.New(rand.NewPCG(1, 2))
	var ms []*matchers.Mark
	for i := range marks {
		ref := matchers.ReferenceImage{Kind: matchers.RefOfficial, URL: "https://brand.example/p.jpg"}
		for range perMark {
			ref.Hashes = append(ref.Hashes, rng.Uint64())
		}
		ms = append(ms, &matchers.Mark{
			Mark:       &domain.Mark{MarkID: "m" + string(rune('a'+i%26)) + itoa(i)},
			References: []matchers.ReferenceImage{ref},
		})
	}
	m, err := New(ms, Options{})
	if err != nil {
		b.Fatal(err)
	}
	l := &matchers.Listing{Listing: &domain.Listing{ListingID: "l1"}}
	for i := range 2 {
		img := matchers.ListingImage{Index: i, URL: "https://shop.example/x.jpg"}
		for range 3 {
			img.Hashes = append(img.Hashes, rng.Uint64())
		}
		l.Images = append(l.Images, img)
	}
	// One planted match, so that the result path is exercised.
	l.Images[0].Hashes[0] = ms[marks/2].References[0].Hashes[3] ^ 0b1011
	n := m.Len()
	b.Cleanup(func() { b.ReportMetric(float64(n), "ref_hashes") })
	for b.Loop() {
		ids, err := m.Candidates(context.Background(), l)
		if err != nil || len(ids) == 0 {
			b.Fatalf("Candidates = %v, %v", ids, err)
		}
	}
}

func itoa(i int) string {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(buf[n:])
		}
	}
}

// sellerPhotos800 are n generated 800×800 seller's photos
// (fixtures/generate.SellerPhoto, as BenchmarkStreamImageLogo draws them)
// as JPEG quality 85. Four of the first 24 show a product small enough on
// a plain ground that the hashes need the full decode (7 of the first 30).
func sellerPhotos800(b *testing.B, n int) [][]byte {
	b.Helper()
	out := make([][]byte, n)
	for i := range out {
		img := generate.SellerPhoto(rand.New(rand.NewPCG(99, uint64(i))), 800, 800)
		out[i] = encodeJPEG(b, img, 85)
	}
	return out
}

// BenchmarkSellerPhoto800 prepares generated seller's photos for
// matching, one at a time, in turn: the hashes alone
// (HashListingImageRegions, logo detection off), the hashes and the luma
// from one decode (HashListingImageLuma, logo detection on), with the
// colour planes too (HashListingImageColour, logo detection's default),
// and the two separate decodes logo detection took before. Besides ns/op it reports
// the process's CPU time per photo, which other load on a shared machine
// inflates less.
func BenchmarkSellerPhoto800(b *testing.B) {
	photos := sellerPhotos800(b, 24)
	h := NewHasher(Limits{})
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		run  func(data []byte) error
	}{
		{"hashes", func(data []byte) error {
			_, _, err := h.HashListingImageRegions(ctx, data)
			return err
		}},
		{"hashes_and_luma", func(data []byte) error {
			_, _, _, err := h.HashListingImageLuma(ctx, data)
			return err
		}},
		{"hashes_luma_and_colour", func(data []byte) error {
			_, _, _, err := h.HashListingImageColour(ctx, data)
			return err
		}},
		{"hashes_then_luma", func(data []byte) error {
			if _, _, err := h.HashListingImageRegions(ctx, data); err != nil {
				return err
			}
			_, err := h.Luma(ctx, data)
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu0 := benchstream.ProcessCPU()
			for b.Loop() {
				if err := bc.run(photos[i%len(photos)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64((benchstream.ProcessCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
