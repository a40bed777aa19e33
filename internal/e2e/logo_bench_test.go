package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/fixtures/benchstream"
	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/imagematch"
	"github.com/markwatch/markwatch/matchers/logo"
)

// BenchmarkStreamImageLogo measures listings per second end to end through
// the real broker for listings with one 800×800 JPEG each, with logo
// detection off and on (detection.logo.enabled; 1,000 logos indexed, on
// the marks topic beside the 40 fixture marks): with the defaults (two
// stages, 64 logos shortlisted), in one stage (detection.logo.shortlist
// -1) and with 32 logos shortlisted. Unlike BenchmarkStreamImage
// every image is a picture of its own: a generated seller's photo
// (fixtures/generate.SellerPhoto), one in ten with one of the indexed
// logos on it, JPEG quality 85, never served twice, so no cache spares a
// decode, a hash or a feature pass. The parts run in-process for the
// reason BenchmarkStreamImage gives.
//
// The images are drawn before the clock starts (about 30 ms each); the
// clock runs from the first listing produced to the consumer group's lag
// back at zero, as in BenchmarkStreamImage. Listings per round:
// MARKWATCH_BENCH_IMAGES (default 600).
func BenchmarkStreamImageLogo(b *testing.B) {
	brokers := testenv.KafkaBrokers(b)
	n := envInt(b, "MARKWATCH_BENCH_IMAGES", 600)
	t0 := time.Now()
	logos := benchLogos(b, 200, 1000)
	b.Logf("1,000 logo marks prepared in %v", time.Since(t0).Round(time.Millisecond))
	for _, v := range []struct {
		name              string
		on                bool
		shortlist, margin int
		colour            float64
	}{
		// The defaults: two stages, 64 logos shortlisted within 6 bits
		// of the nearest (one stage before 2026-12-04), the colour
		// planes matched too (since 2026-12-04).
		{"logo_off", false, 0, 0, 0}, {"logo_on_1000", true, 0, 0, 0},
		// The luma alone (detection.logo.colour_min_dense -1), the
		// default before the colour planes.
		{"logo_on_1000_no_colour", true, 0, 0, -1},
		// One stage, every logo paired (detection.logo.shortlist -1).
		{"logo_on_1000_one_stage", true, -1, 0, 0},
		// The cheapest matching measured (docs/BENCHMARKS.md, h-lspeed):
		// two stages, 32 logos shortlisted within 6 bits of the nearest.
		{"logo_on_1000_shortlist32", true, 32, 6, 0},
	} {
		name, on := v.name, v.on
		b.Run(name, func(b *testing.B) {
			s := newStack(b, brokers, stackOptions{})
			s.cfg.Detection.Logo.Enabled = on
			s.cfg.Detection.Logo.Shortlist, s.cfg.Detection.Logo.ShortlistMargin = v.shortlist, v.margin
			s.cfg.Detection.Logo.ColourMinDense = v.colour
			publishMarks(b, s, fixtureMarks(b)...)
			if on {
				publishLogoMarks(b, s, logos.marks)
			}

			var (
				mu     sync.Mutex
				images = map[string][]byte{}
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				data, ok := images[r.URL.Path]
				delete(images, r.URL.Path) // served once
				mu.Unlock()
				if !ok {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "image/jpeg")
				_, _ = w.Write(data)
			}))
			b.Cleanup(srv.Close)
			reg := runInProcess(b, s, strings.TrimPrefix(srv.URL, "http://"))
			w := newWriter(b, brokers, s.listings)
			listings := textListings(b, name, n)

			var total, cpu time.Duration
			round := 0
			for b.Loop() {
				b.StopTimer()
				t0 := time.Now()
				photos := sellerPhotos(b, uint64(round)+uint64(len(name))*1000, n, logos)
				b.Logf("%d photos drawn in %v", n, time.Since(t0).Round(time.Millisecond))
				mu.Lock()
				for i, l := range listings {
					l.ListingID = fmt.Sprintf("%s-%d-%06d", name, round, i)
					path := "/" + l.ListingID + ".jpg"
					images[path] = photos[i]
					l.Images = []string{srv.URL + path}
				}
				mu.Unlock()
				msgs := listingMessages(b, listings)
				round++
				runtime.GC()
				b.StartTimer()
				start, cpu0 := time.Now(), benchstream.ProcessCPU()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				err := produce(ctx, w, msgs...)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				s.waitLagZero(b, 10*time.Minute)
				total += time.Since(start)
				cpu += benchstream.ProcessCPU() - cpu0
			}
			// Rounds, not b.N: the function may run the loop more than once.
			ok := gathered(b, reg, "markwatch_image_fetches_total", "ok")
			if want := float64(n * round); ok != want {
				b.Fatalf("%v images fetched and prepared, want %v (failed: %v)", ok, want, gathered(b, reg, "markwatch_image_fetches_total", "failed"))
			}
			b.ReportMetric(float64(n*round)/total.Seconds(), "listings/s")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n*round), "cpu-ms/listing")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchLogoSet is the logos of BenchmarkStreamImageLogo: the drawn ones
// (put on some photos) and the marks carrying all of them.
type benchLogoSet struct {
	drawn []*drawnLogo
	marks []*domain.Mark
}

type drawnLogo struct {
	png   []byte
	feats *matchers.Features
	hash  domain.ImageHash
}

// benchLogos draws `drawn` invented logos, prepares their hashes and
// features as the registry does (detection.Images.Mark through
// LumaFeatures), and returns n active marks with one logo each: the drawn
// ones, then copies whose descriptors are XORed with a random mask of
// their own and whose hashes are XORed likewise (as matchers/logo's
// benchmarks do), so the index holds n logos' worth of distinct
// descriptors without drawing n logos.
func benchLogos(tb testing.TB, drawn, n int) *benchLogoSet {
	tb.Helper()
	r := rand.New(rand.NewPCG(11, 5))
	h := imagematch.NewHasher(imagematch.Limits{})
	feats := detection.NewLumaFeatures(h, logo.ExtractorOptions{})
	set := &benchLogoSet{}
	template := fixtureMarks(tb)[0]
	seen := map[string]bool{}
	for len(set.drawn) < drawn {
		name := generate.InventedName(r)
		if seen[name] {
			continue
		}
		img, err := generate.InventedLogo(r, name)
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			tb.Fatal(err)
		}
		f, err := feats.LogoFeatures(tb.Context(), buf.Bytes())
		if err != nil {
			continue // featureless: drawn again
		}
		hashes, err := h.HashReference(tb.Context(), buf.Bytes())
		if err != nil {
			continue
		}
		enc, err := matchers.EncodeFeatures(f)
		if err != nil {
			tb.Fatal(err)
		}
		seen[name] = true
		url := fmt.Sprintf("logos/bench-%04d.png", len(set.drawn))
		ih := domain.ImageHash{Kind: matchers.RefLogo, URL: url, Features: enc}
		for _, x := range hashes {
			ih.Hashes = append(ih.Hashes, matchers.FormatHash(x))
		}
		set.drawn = append(set.drawn, &drawnLogo{png: buf.Bytes(), feats: f, hash: ih})
	}
	for i := range n {
		src := set.drawn[i%drawn]
		ih := src.hash
		if i >= drawn {
			mask := matchers.Descriptor{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
			f := &matchers.Features{W: src.feats.W, H: src.feats.H, Points: src.feats.Points, Desc: make([]matchers.Descriptor, len(src.feats.Desc))}
			for j, d := range src.feats.Desc {
				for k := range d {
					f.Desc[j][k] = d[k] ^ mask[k]
				}
			}
			enc, err := matchers.EncodeFeatures(f)
			if err != nil {
				tb.Fatal(err)
			}
			ih = domain.ImageHash{Kind: matchers.RefLogo, URL: fmt.Sprintf("logos/bench-%04d.png", i), Features: enc}
			hmask := r.Uint64()
			for _, s := range src.hash.Hashes {
				x, err := matchers.ParseHash(s)
				if err != nil {
					tb.Fatal(err)
				}
				ih.Hashes = append(ih.Hashes, matchers.FormatHash(x^hmask))
			}
		}
		m := *template
		m.MarkID = fmt.Sprintf("bench-logo-%04d", i)
		m.Name = fmt.Sprintf("Benchlogo%04d", i)
		m.Variants, m.DistinctFrom, m.OfficialImages = nil, nil, nil
		m.Logos = []string{ih.URL}
		m.ImageHashes = []domain.ImageHash{ih}
		m.Registration.Number = fmt.Sprintf("BENCH-%06d", i)
		set.marks = append(set.marks, &m)
	}
	return set
}

// publishLogoMarks writes marks carrying logo features (up to 26 kB each)
// to the marks topic in batches under the broker's 1 MB record-batch cap,
// which publishMarks' writer (4 MB batches) exceeds with many of them.
func publishLogoMarks(tb testing.TB, s *stack, marks []*domain.Mark) {
	tb.Helper()
	w := newWriter(tb, s.brokers, s.marks)
	w.BatchBytes = 900 << 10
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for start := 0; start < len(marks); start += 25 {
		var msgs []kafka.Message
		for _, m := range marks[start:min(start+25, len(marks))] {
			v, err := json.Marshal(m)
			if err != nil {
				tb.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Key: []byte(m.MarkID), Value: v})
		}
		if err := produce(ctx, w, msgs...); err != nil {
			tb.Fatalf("publish logo marks: %v", err)
		}
	}
}

// envInt reads a positive integer from the environment variable name,
// def when it is unset.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// sellerPhotos draws n distinct 800×800 seller's photos as JPEG quality
// 85, one in ten with one of the drawn logos on it, on every core.
func sellerPhotos(tb testing.TB, seed uint64, n int, logos *benchLogoSet) [][]byte {
	tb.Helper()
	out := make([][]byte, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	for wk := range workers {
		wg.Go(func() {
			for i := wk; i < n; i += workers {
				r := rand.New(rand.NewPCG(seed, uint64(i)))
				img := generate.SellerPhoto(r, 800, 800)
				if i%10 == 0 {
					l := logos.drawn[r.IntN(len(logos.drawn))]
					logoImg, err := png.Decode(bytes.NewReader(l.png))
					if err != nil {
						errs <- err
						return
					}
					generate.PutLogo(r, img, logoImg, generate.SceneOptions{})
				}
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
					errs <- err
					return
				}
				out[i] = buf.Bytes()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return out
}
