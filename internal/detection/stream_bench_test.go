package detection

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/markwatch/markwatch/fixtures/benchstream"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/text"
)

// BenchmarkScoreStream measures text-only scoring of one listing by the
// whole engine, with the shipped configuration, on the repetitive stream
// and on the never-seen-words stream of fixtures/benchstream, at 10,000
// and 100,000 marks, with the text matcher's delete index and (for
// comparison) bleve's automaton. Novel listings are generated ahead and
// never repeat. Besides ns/op it reports the process's CPU time per
// listing, which other load on a shared machine does not inflate, and
// the p50 and p99 latency.
func BenchmarkScoreStream(b *testing.B) {
	for _, nMarks := range []int{10_000, 100_000} {
		dm := benchstream.Marks(nMarks, 1)
		marks := make([]*matchers.Mark, len(dm))
		for i, m := range dm {
			marks[i] = &matchers.Mark{Mark: m}
		}
		for _, novel := range []bool{false, true} {
			for _, idx := range []string{text.FuzzyIndexDeletes, text.FuzzyIndexBleve} {
				stream := "repetitive"
				if novel {
					stream = "novel"
				}
				b.Run(fmt.Sprintf("%s/%dk/%s", stream, nMarks/1000, idx), func(b *testing.B) {
					opts := OptionsFrom(config.Default().Detection)
					opts.Text.FuzzyIndex = idx
					eng, err := Build(marks, opts)
					if err != nil {
						b.Fatal(err)
					}
					defer eng.Close()
					s := benchstream.NewStream(dm, 2, novel)
					n := 8192
					if novel {
						n = b.N
					}
					pool := make([]*matchers.Listing, n)
					for i := range pool {
						pool[i] = matchers.NewListing(s.Next())
					}
					ctx := context.Background()
					lat := make([]time.Duration, 0, b.N)
					b.ReportAllocs()
					b.ResetTimer()
					cpu0 := benchstream.ProcessCPU()
					for i := range b.N {
						t := time.Now()
						if _, err := eng.Score(ctx, pool[i%len(pool)]); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t))
					}
					b.StopTimer()
					b.ReportMetric(float64((benchstream.ProcessCPU()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
					b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
				})
			}
		}
	}
}
