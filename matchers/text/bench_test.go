package text

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/markwatch/markwatch/fixtures/benchstream"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// benchMarks converts generated marks for the matcher.
func benchMarks(ms []*domain.Mark) []*matchers.Mark {
	out := make([]*matchers.Mark, len(ms))
	for i, m := range ms {
		out[i] = &matchers.Mark{Mark: m}
	}
	return out
}

// BenchmarkStream measures the text matcher (exact and fuzzy passes) on
// one listing at a time, on the repetitive and the never-seen-words
// streams of fixtures/benchstream, with the delete index and, for
// comparison, bleve's automaton; options as the shipped config sets them.
// Novel listings never repeat, so the fuzzy cache cannot answer their new
// words. Besides ns/op, each reports the process's CPU time per listing
// (robust to other load on a shared machine) and p50/p99 latencies.
func BenchmarkStream(b *testing.B) {
	for _, nMarks := range []int{10_000, 100_000} {
		marks := benchMarks(benchstream.Marks(nMarks, 1))
		for _, novel := range []bool{false, true} {
			for _, idx := range []string{FuzzyIndexDeletes, FuzzyIndexBleve} {
				stream := "repetitive"
				if novel {
					stream = "novel"
				}
				b.Run(fmt.Sprintf("%s/%dk/%s", stream, nMarks/1000, idx), func(b *testing.B) {
					benchmarkStream(b, marks, novel, idx)
				})
			}
		}
	}
}

// shippedOptions are the text options of the shipped configuration
// (internal/config's defaults), which the package defaults differ from.
func shippedOptions(idx string) Options {
	return Options{FuzzyMinRunes: 5, Fuzzy2MinRunes: 6, FuzzyPrefix: 1, FuzzyCacheSize: 100000, MaxDescriptionBytes: 8192, FuzzyIndex: idx}
}

func benchmarkStream(b *testing.B, marks []*matchers.Mark, novel bool, idx string) {
	m, err := New(marks, shippedOptions(idx))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	domainMarks := make([]*domain.Mark, len(marks))
	for i, mk := range marks {
		domainMarks[i] = mk.Mark
	}
	s := benchstream.NewStream(domainMarks, 2, novel)
	next := func() *matchers.Listing { return matchers.NewListing(s.Next()) }
	// The repetitive stream cycles a fixed set, as the engine benchmark
	// always has; the novel stream is generated ahead, b.N listings, so
	// that none repeats and generating costs neither time nor CPU here.
	n := 8192
	if novel {
		n = b.N
	}
	pool := make([]*matchers.Listing, n)
	for i := range pool {
		pool[i] = next()
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchstream.ProcessCPU()
	for i := range b.N {
		l := pool[i%len(pool)]
		t := time.Now()
		if _, _, err := m.MatchCandidates(ctx, l); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	b.ReportMetric(float64((benchstream.ProcessCPU()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
	reportLatency(b, lat)
}

// reportLatency adds the median and 99th percentile of per-listing
// latencies and the rate to the benchmark's output.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(float64(len(lat))/sum.Seconds(), "listings/s")
}

// BenchmarkBuild builds the matcher over generated marks with each fuzzy
// index and reports the heap the built matcher keeps (after a collection;
// the English dictionary, shared by every matcher, is loaded beforehand
// and not counted) beside the build time.
func BenchmarkBuild(b *testing.B) {
	english()
	for _, nMarks := range []int{10_000, 100_000} {
		marks := benchMarks(benchstream.Marks(nMarks, 1))
		for _, idx := range []string{FuzzyIndexDeletes, FuzzyIndexBleve} {
			b.Run(fmt.Sprintf("%dk/%s", nMarks/1000, idx), func(b *testing.B) {
				var kept uint64
				for range b.N {
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					m, err := New(marks, shippedOptions(idx))
					if err != nil {
						b.Fatal(err)
					}
					runtime.GC()
					runtime.ReadMemStats(&after)
					kept = after.HeapAlloc - before.HeapAlloc
					runtime.KeepAlive(m)
					m.Close()
				}
				b.ReportMetric(float64(kept)/(1<<20), "heap-MB")
			})
		}
	}
}
