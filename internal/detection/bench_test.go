package detection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// syllables make pronounceable invented brand names.
var syllables = strings.Fields("ka ve lo ta ri no mi sa du ze pa ro qui len dor fa bri co nel ts ur am ex ol vi gra sto")

var words = strings.Fields("new women men leather bag shoes running size black white original sale free shipping gift box classic vintage wallet watch steel strap cotton hoodie limited edition premium quality fast delivery replica cheap")

func inventedMarks(n int, rng *rand.Rand) []*matchers.Mark {
	out := make([]*matchers.Mark, 0, n)
	seen := map[string]bool{}
	for len(out) < n {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		name := b.String()
		if seen[name] {
			continue
		}
		seen[name] = true
		id := fmt.Sprintf("m%06d", len(out))
		out = append(out, &matchers.Mark{Mark: &domain.Mark{
			SchemaVersion: 1, MarkID: id, HolderID: "h", Name: strings.ToUpper(name[:1]) + name[1:],
			Status: domain.MarkActive, Categories: []string{"bags"},
			ReferencePrices: []domain.ReferencePrice{{Amount: "400", Currency: "USD"}},
		}})
	}
	return out
}

func benchListings(marks []*matchers.Mark, n int, rng *rand.Rand) []*matchers.Listing {
	out := make([]*matchers.Listing, n)
	for i := range out {
		ws := make([]string, 12)
		for j := range ws {
			ws[j] = words[rng.IntN(len(words))]
		}
		if i%5 == 0 { // one listing in five names a brand, some misspelt
			name := marks[rng.IntN(len(marks))].Name
			if i%10 == 0 && len(name) > 6 {
				name = name[:3] + name[4:]
			}
			ws[rng.IntN(len(ws))] = name
		}
		out[i] = matchers.NewListing(&domain.Listing{
			SchemaVersion: 1, ListingID: fmt.Sprint(i), SellerID: "s", Category: "bags",
			Title:       strings.Join(ws, " "),
			Description: strings.Repeat("Great item in perfect condition, ships from our store. ", 4),
			Price:       &domain.Money{Amount: "25.00", Currency: "USD"},
		})
	}
	return out
}

// benchmarkScore measures text-only scoring of one listing by the whole
// engine (presearch, every matcher, the scorer) and reports the 99th
// percentile latency alongside ns/op.
func benchmarkScore(b *testing.B, nMarks int) {
	rng := rand.New(rand.NewPCG(7, 9))
	marks := inventedMarks(nMarks, rng)
	eng, err := Build(marks, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	ls := benchListings(marks, 8192, rng)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		t := time.Now()
		if _, err := eng.Score(ctx, ls[i%len(ls)]); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "listings/s")
}

func BenchmarkScoreText10kMarks(b *testing.B)  { benchmarkScore(b, 10_000) }
func BenchmarkScoreText100kMarks(b *testing.B) { benchmarkScore(b, 100_000) }

func BenchmarkBuild10kMarks(b *testing.B) {
	marks := inventedMarks(10_000, rand.New(rand.NewPCG(7, 9)))
	for b.Loop() {
		e, err := Build(marks, Options{})
		if err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}
