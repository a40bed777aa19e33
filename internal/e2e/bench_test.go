package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/markwatch/markwatch/fixtures/benchstream"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/testenv"
)

// BenchmarkStreamText measures listings per second end to end through the
// real broker and a `markwatch detect` process: each iteration produces a
// burst of text-only fixture listings as fast as one producer can and ends
// when the detector's group has committed all of them (lag back to zero),
// so every listing has been scored and its complaints acknowledged. The
// detector runs with the shipped defaults (concurrency 8) on 3 partitions.
//
// Sub-benchmarks: burst=20000 for the rate, burst=50000 for the time the
// issue's 50,000-listing burst takes to drain (seconds/burst).
func BenchmarkStreamText(b *testing.B) {
	for _, n := range []int{20_000, 50_000} {
		b.Run(fmt.Sprintf("burst=%d", n), func(b *testing.B) { benchStreamText(b, n) })
	}
}

func benchStreamText(b *testing.B, n int) {
	listings := textListings(b, "bench", n)
	benchStream(b, fixtureMarks(b), n, func(round int) []*domain.Listing {
		// Fresh ids each round, so no round's listings are replays.
		for i, l := range listings {
			l.ListingID = fmt.Sprintf("bench-%d-%06d", round, i)
		}
		return listings
	})
}

// BenchmarkStreamNovel is BenchmarkStreamText over 10,000 generated marks
// and the streams of fixtures/benchstream: the repetitive one, and the
// one whose every listing carries words never seen before (so the text
// matcher's fuzzy cache cannot answer them), in bursts of 20,000.
func BenchmarkStreamNovel(b *testing.B) {
	marks := benchstream.Marks(10_000, 1)
	for _, novel := range []bool{false, true} {
		name := "repetitive"
		if novel {
			name = "novel"
		}
		b.Run(name+"/10k-marks/burst=20000", func(b *testing.B) {
			stream := benchstream.NewStream(marks, 2, novel)
			benchStream(b, marks, 20_000, func(int) []*domain.Listing {
				// One stream across rounds: ids never repeat, and in
				// the novel stream neither do the new words.
				ls := make([]*domain.Listing, 20_000)
				for i := range ls {
					ls[i] = stream.Next()
				}
				return ls
			})
		})
	}
}

// benchStream publishes marks, starts a detector and measures bursts of
// n listings from burst(round) until the group's lag is back to zero.
func benchStream(b *testing.B, marks []*domain.Mark, n int, burst func(round int) []*domain.Listing) {
	brokers := testenv.KafkaBrokers(b)
	s := newStack(b, brokers, stackOptions{})
	publishMarks(b, s, marks...)
	d := startDetector(b, s, "detector")
	w := newWriter(b, brokers, s.listings)

	var total time.Duration
	var produced time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		msgs := listingMessages(b, burst(round))
		round++
		b.StartTimer()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		for i := 0; i < len(msgs); i += 5000 {
			if err := produce(ctx, w, msgs[i:min(i+5000, len(msgs))]...); err != nil {
				cancel()
				b.Fatal(err)
			}
		}
		cancel()
		produced += time.Since(start)
		s.waitLagZero(b, 5*time.Minute)
		total += time.Since(start)
	}
	rounds := float64(b.N)
	// Lag zero must mean scored: the detector's own count must agree.
	if got := d.scored(); got != float64(n)*rounds {
		b.Fatalf("markwatch_listings_scored_total = %v, want %v", got, float64(n)*rounds)
	}
	b.ReportMetric(float64(n)*rounds/total.Seconds(), "listings/s")
	b.ReportMetric(total.Seconds()/rounds, "s/burst")
	b.ReportMetric(float64(n)*rounds/produced.Seconds(), "produced/s")
	b.ReportMetric(0, "ns/op")
}
