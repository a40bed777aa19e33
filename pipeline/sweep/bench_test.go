package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
)

// benchWords are the ordinary words listing titles are made of.
var benchWords = strings.Fields("new women men leather bag shoes running size black white brown original sale " +
	"free shipping gift box classic vintage wallet watch steel strap cotton hoodie limited edition premium " +
	"quality fast delivery tote shoulder crossbody canvas suede small large mini jacket coat wool silk scarf")

// neverSeen returns a word no listing used before (a model code or a
// seller's own name), so that no cache helps.
func neverSeen(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	n := 5 + rng.IntN(5)
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

// benchRecords returns n listing records as the listings topic holds them:
// text only, titles of ordinary words plus two never-seen ones, one in a
// thousand naming the swept mark in an obfuscated spelling with a cue.
func benchRecords(n int) []kafka.Message {
	rng := rand.New(rand.NewPCG(11, 13))
	out := make([]kafka.Message, n)
	for i := range out {
		ws := make([]string, 0, 10)
		for range 8 {
			ws = append(ws, benchWords[rng.IntN(len(benchWords))])
		}
		ws = append(ws, neverSeen(rng), neverSeen(rng))
		if i%1000 == 0 {
			ws = append(ws, "Qui11ora", "replica")
		}
		rng.Shuffle(len(ws), func(a, b int) { ws[a], ws[b] = ws[b], ws[a] })
		id := fmt.Sprintf("bench-%07d", i)
		l := domain.Listing{SchemaVersion: 1, ListingID: id, Version: 1, SellerID: "s-" + neverSeen(rng), Category: "bags",
			Title:       strings.Join(ws, " "),
			Description: "Great " + benchWords[rng.IntN(len(benchWords))] + " in perfect condition, ships from our store within two days.",
			Price:       &domain.Money{Amount: fmt.Sprintf("%d.00", 20+rng.IntN(300)), Currency: "EUR"},
			CreatedAt:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		v, err := json.Marshal(l)
		if err != nil {
			panic(err)
		}
		out[i] = kafka.Message{Partition: 0, Offset: int64(i), Key: []byte(id), Value: v}
	}
	return out
}

// benchScorer is the scoring path of a pass over one new mark, with every
// record of recs indexed as the latest of its key.
func benchScorer(b *testing.B, recs []kafka.Message) *scorer {
	eng, err := detection.BuildDomain([]*domain.Mark{quillora()}, detection.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = eng.Close() })
	latest := newLastOffsets(len(recs))
	for _, m := range recs {
		latest.add(m.Key, m.Offset)
	}
	return &scorer{eng: eng, latest: latest, topic: "complaints", rule: eng.Options().RuleVersion,
		limits: domain.Limits{}.WithDefaults(), now: time.Now}
}

// benchPool is how many distinct records the benchmarks cycle through:
// enough that the text matcher's fuzzy cache (100,000 terms) never holds a
// record's never-seen words when it comes round again.
const benchPool = 200_000

// BenchmarkSweepScoreOneMark is the per-listing cost of a sweep for one new
// mark: the superseded check, strict decoding, preparing and scoring a
// text-only listing against an engine over that mark alone, and building
// the complaint of the one listing in a thousand that is flagged. One
// goroutine, as the sweeper runs.
func BenchmarkSweepScoreOneMark(b *testing.B) {
	recs := benchRecords(benchPool)
	sc := benchScorer(b, recs)
	ctx := context.Background()
	flagged := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := range b.N {
		outcome, _, err := sc.score(ctx, recs[i%len(recs)])
		if err != nil {
			b.Fatal(err)
		}
		if outcome == outcomeFlagged {
			flagged++
		}
	}
	b.StopTimer()
	if b.N >= 2000 && flagged == 0 {
		b.Fatal("no listing flagged: the benchmark would measure nothing but misses")
	}
	reportRates(b, cpuTime(b)-cpu0)
}

// reportRates reports listings per wall-clock second and per CPU second
// of the whole process (garbage collection included). On a shared machine
// the wall-clock rate falls with other people's load; the CPU rate is what
// one core that is all the sweep's would reach.
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "listings/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "listings/cpu-s")
	}
}

// cpuTime is the user and system CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSweepScoreOneMarkParallel is the same path on every core
// (GOMAXPROCS goroutines), what a sweep could reach with one worker per
// core; the sweeper itself uses one.
func BenchmarkSweepScoreOneMarkParallel(b *testing.B) {
	recs := benchRecords(benchPool)
	sc := benchScorer(b, recs)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if _, _, err := sc.score(ctx, recs[int(i)%len(recs)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRates(b, cpuTime(b)-cpu0)
}
