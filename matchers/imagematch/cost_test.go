package imagematch

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/markwatch/markwatch/matchers/imagematch/imagetest"
	"github.com/markwatch/markwatch/matchers/imagematch/internal/jpegdc"
)

// hostile is the PNG of issue 7: 323 KB that declares a 16-bit RGBA image
// just under the default pixel cap, 320 MB once decoded. Built once.
var hostile = sync.OnceValue(func() []byte { return imagetest.HostilePNG(7000, 5700) })

// TestHostilePNGRefusedFromHeader: the small PNG that decodes to 320 MB is
// refused from its header, naming its pixel format and what decoding it
// would take, having allocated nothing near that.
func TestHostilePNGRefusedFromHeader(t *testing.T) {
	data := hostile()
	h := NewHasher(Limits{})
	for name, hash := range map[string]func(context.Context, []byte) ([]uint64, error){
		"listing": h.HashListingImage, "reference": h.HashReference,
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := hash(context.Background(), data)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			for _, want := range []string{"png declares 7000×5700 pixels of 16-bit RGBA: decoding takes 3", "MiB, over the cap of 64.0 MiB"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("refusing it allocated %d bytes", alloc)
			}
		})
	}
}

// TestDecodedBytesCoverDecoders: the estimate from the header is at least
// what decoding and converting the image allocates, for every format and
// pixel layout the decoders produce, so the cap and the gate hold.
func TestDecodedBytesCoverDecoders(t *testing.T) {
	files, err := filepath.Glob("internal/jpegdc/testdata/*.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "testdata/video-001.png", "testdata/video-001.gif", "testdata/video-001.lossy.webp",
		"testdata/gopher-doc.with-alpha.lossless.webp")
	inputs := map[string][]byte{}
	for _, f := range files {
		if strings.Contains(f, "truncated") {
			continue
		}
		if _, err := os.Stat(strings.TrimSuffix(f, ".jpeg") + ".djpeg.pgm"); err == nil {
			continue // image/jpeg refuses it (see internal/jpegdc/testdata/README)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = data
	}
	photo := synthImage(kindPhoto, 7, 640, 480)
	inputs["rgba.png"] = encodePNG(t, photo)
	inputs["nrgba64.png"] = encodePNG(t, toNRGBA64(photo))
	gray := image.NewGray16(image.Rect(0, 0, 500, 300))
	inputs["gray16.png"] = encodePNG(t, gray)
	inputs["interlaced.png"] = interlacedPNG(t)
	lim := Limits{}.withDefaults()
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			f, cfg, err := decodeConfig(data, lim)
			if err != nil {
				t.Fatal(err)
			}
			est := decodedBytes(f, cfg, data)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			img, err := decodeFull(f, data)
			if err != nil {
				t.Fatal(err)
			}
			_ = planeFromImage(img, white)
			_ = planeFromImage(img, black)
			runtime.ReadMemStats(&after)
			alloc := int64(after.TotalAlloc - before.TotalAlloc)
			if alloc > est {
				t.Errorf("%s %dx%d %s: decoding allocated %d bytes, the estimate is %d", f, cfg.Width, cfg.Height, modelName(f, cfg.ColorModel), alloc, est)
			}
			t.Logf("%dx%d %s: allocated %d, estimated %d (%.1fx)", cfg.Width, cfg.Height, modelName(f, cfg.ColorModel), alloc, est, float64(est)/float64(alloc))
		})
	}
}

func toNRGBA64(src image.Image) *image.NRGBA64 {
	b := src.Bounds()
	out := image.NewNRGBA64(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.Set(x, y, src.At(x, y))
		}
	}
	return out
}

// interlacedPNG is an Adam7-interlaced 8-bit RGBA PNG of 64×64. image/png
// does not write interlaced files, so the seven passes are laid out and
// compressed here.
func interlacedPNG(t *testing.T) []byte {
	t.Helper()
	const w, hgt = 64, 64
	passes := [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	var raw bytes.Buffer
	for _, p := range passes {
		pw, ph := (w-p[0]+p[2]-1)/p[2], (hgt-p[1]+p[3]-1)/p[3]
		for y := range ph {
			raw.WriteByte(0)
			for x := range pw {
				raw.Write([]byte{byte(x * 4), byte(y * 4), 128, 255})
			}
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	ihdr := []byte{0, 0, 0, w, 0, 0, 0, hgt, 8, 6, 0, 0, 1}
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	out = append(out, pngChunk("IEND", nil)...)
	if img, err := png.Decode(bytes.NewReader(out)); err != nil || img.At(4, 0).(color.NRGBA).A != 255 {
		t.Fatalf("hand-made interlaced PNG does not decode: %v", err)
	}
	return out
}

// TestGateBoundsDecoding: while the Hasher's decode slots are taken, an
// image waits, and gives up with ErrBusy when its context ends; once
// they are free it decodes. Many images hashed at once never exceed the
// slots.
func TestGateBoundsDecoding(t *testing.T) {
	h := NewHasher(Limits{MaxDecoding: 1})
	data := encodePNG(t, synthImage(kindLogo, 1, 300, 200))
	release, err := h.gate.acquire(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.HashReference(ctx, data); !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrBusy wrapping the deadline", err)
	}
	release()
	if _, err := h.HashReference(context.Background(), data); err != nil {
		t.Fatalf("after release: %v", err)
	}

	// The byte budget: an image whose estimate is the whole budget waits
	// for every other decode.
	g := newGate(8, 100)
	r1, _ := g.acquire(context.Background(), 60)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := g.acquire(ctx2, 60); !errors.Is(err, ErrBusy) {
		t.Fatalf("over the byte budget: err = %v, want ErrBusy", err)
	}
	r2, err := g.acquire(context.Background(), 40)
	if err != nil {
		t.Fatal(err)
	}
	r1()
	r2()
	if r, err := g.acquire(context.Background(), 1000); err != nil {
		t.Fatalf("a cost over the budget is capped at it: %v", err)
	} else {
		r()
	}

	// Concurrency never exceeds the slots.
	g = newGate(2, 1<<30)
	var in, peak atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			r, err := g.acquire(context.Background(), 1)
			if err != nil {
				t.Error(err)
				return
			}
			n := in.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Millisecond)
			in.Add(-1)
			r()
		})
	}
	wg.Wait()
	if peak.Load() > 2 {
		t.Errorf("%d decodes at once, want at most 2", peak.Load())
	}
}

// TestGrayBytesCoverDecodeGray checks that the estimate LumaAtLeast
// charges for a JPEG's luma-only decode covers what it allocates, for
// baseline and progressive files at every scale.
func TestGrayBytesCoverDecodeGray(t *testing.T) {
	files, err := filepath.Glob("internal/jpegdc/testdata/*.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{"photo_800x600": encodeJPEG(t, synthImage(kindPhoto, 7, 800, 600), 85)}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = data
	}
	for name, data := range inputs {
		for shift := uint(0); shift <= jpegdc.MaxShift; shift++ {
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				continue
			}
			sof, _ := jpegFrame(data)
			est := jpegdc.GrayBytes(cfg.Width, cfg.Height, shift, sof.progressive) + decoderSlack
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err = jpegdc.DecodeGray(bytes.NewReader(data), 0, shift)
			runtime.ReadMemStats(&after)
			if err != nil {
				continue // refused (CMYK, RGB, truncated): nothing kept
			}
			if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > est {
				t.Errorf("%s at 1/%d: allocated %d bytes, the estimate is %d", name, 1<<shift, alloc, est)
			}
		}
	}
}
