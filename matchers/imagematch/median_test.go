package imagematch

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMedianMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for n := 1; n < 300; n++ {
		for range 5 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.IntN(20)) // many ties
			}
			s := slices.Clone(v)
			slices.Sort(s)
			if got, want := median(v), s[n/2]; got != want {
				t.Fatalf("n=%d: median %v, want %v", n, got, want)
			}
		}
	}
}
