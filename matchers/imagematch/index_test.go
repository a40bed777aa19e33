package imagematch

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIndexSearchMatchesBruteForce checks the scan against a direct
// computation, across chunk boundaries and after removals.
func TestIndexSearchMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ix := newIndex()
	marks := map[string][]uint64{}
	const n = 3000
	for i := range n {
		id := itoa(i)
		hs := make([]uint64, 50)
		for k := range hs {
			hs[k] = rng.Uint64()
		}
		marks[id] = hs
		ix.set(id, hs)
	}
	// Plant near copies of a few hashes spread over the index, so that
	// there are hits in several chunks.
	query := []uint64{rng.Uint64(), rng.Uint64()}
	for i, id := range []string{"7", "1500", "2999"} {
		marks[id][i] = flip(query[i%2], 3+i)
		ix.set(id, marks[id])
	}
	for i := 0; i < n; i += 7 {
		ix.remove(itoa(i))
		delete(marks, itoa(i))
	}
	if len(ix.hashes) != len(marks)*50 {
		t.Fatalf("index holds %d hashes, want %d", len(ix.hashes), len(marks)*50)
	}
	for _, maxDist := range []int{5, 10, 16} {
		got, err := ix.search(context.Background(), query, maxDist)
		if err != nil {
			t.Fatal(err)
		}
		var want []hit
		for id, hs := range marks {
			best := 65
			for _, h := range hs {
				for _, q := range query {
					best = min(best, Distance(h, q))
				}
			}
			if best <= maxDist {
				want = append(want, hit{id, best})
			}
		}
		slices.SortFunc(want, func(a, b hit) int {
			if a.dist != b.dist {
				return a.dist - b.dist
			}
			if a.id < b.id {
				return -1
			}
			return 1
		})
		if !slices.Equal(got, want) {
			t.Errorf("maxDist %d: got %v, want %v", maxDist, got, want)
		}
	}
}

func TestIndexSearchCanceled(t *testing.T) {
	ix := newIndex()
	ix.set("m", make([]uint64, 10))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.search(ctx, []uint64{0}, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestIndexReusesSlots(t *testing.T) {
	ix := newIndex()
	for range 100 {
		ix.set("a", []uint64{1, 2})
		ix.set("b", []uint64{3})
		ix.remove("a")
	}
	if len(ix.ids) > 2 || len(ix.hashes) != 1 {
		t.Fatalf("%d slots and %d hashes after churn, want ≤ 2 and 1", len(ix.ids), len(ix.hashes))
	}
}
