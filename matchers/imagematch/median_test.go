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

// TestSelectRankBucketedMatchesSort checks the bucketed selection against
// sorting, at every rank of short slices and at the median of long ones,
// with ties, values outside [0, 255] and both bucket scales.
func TestSelectRankBucketedMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n < 700; n += 1 + n/8 {
		for trial := range 8 {
			v := make([]float32, n)
			for i := range v {
				switch trial % 4 {
				case 0:
					v[i] = float32(rng.IntN(12)) // many ties in a few buckets
				case 1:
					v[i] = 100 + 6*float32(rng.NormFloat64()) // a background's grain
				case 2:
					v[i] = float32(rng.Float64()*300 - 20) // outside [0, 255] too
				default:
					v[i] = float32(i)*0.37 + float32(rng.Float64()) // a gradient
				}
			}
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			orig := slices.Clone(v)
			ranks := []int{n / 2}
			if n < 60 {
				ranks = ranks[:0]
				for k := range n {
					ranks = append(ranks, k)
				}
			}
			for _, scale := range []float32{1, 4} {
				for _, k := range ranks {
					var s lineScratch
					s.grow(n)
					if got := s.selectRank(v, k, scale); got != sorted[k] {
						t.Fatalf("n=%d trial %d scale %v: rank %d is %v, want %v", n, trial, scale, k, got, sorted[k])
					}
				}
			}
			if !slices.Equal(v, orig) {
				t.Fatalf("n=%d: lineScratch.selectRank modified its input", n)
			}
		}
	}
}

// uniformMedianBefore is uniformMedian as it was before its verdict could
// skip the grain: two full quickselects per line. The equivalence test
// holds the current one to it.
func uniformMedianBefore(l []float32) (bool, float32) {
	if len(l) == 0 {
		return true, 0
	}
	lo, hi := l[0], l[0]
	for _, v := range l[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi-lo <= trimTolerance {
		return true, (lo + hi) / 2
	}
	buf := slices.Clone(l)
	bg := selectMedian(buf)
	tol := float32(trimTolerance)
	if len(l) > 2 {
		d := buf[:len(l)-1]
		for i := range d {
			d[i] = abs32(l[i+1] - l[i])
		}
		sigma := selectMedian(d) / 0.954
		tol = min(max(tol, 3*sigma), trimMaxTolerance)
	}
	in := 0
	for _, v := range l {
		if v >= bg-tol && v <= bg+tol {
			in++
		}
	}
	off := len(l) - in
	return off <= trimSlack || float64(in) >= trimShare*float64(len(l)), bg
}

// TestUniformMedianUnchanged compares uniformMedian's verdicts and medians
// with uniformMedianBefore's on lines of backgrounds with grain of every
// strength, gradients, edges and outliers, at the lengths trimming sees.
func TestUniformMedianUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var scratch lineScratch
	verdicts := map[bool]int{}
	for range 20000 {
		n := 1 + rng.IntN(520)
		l := make([]float32, n)
		base, slope, grain := float32(rng.Float64()*255), float32(rng.NormFloat64()*0.05), rng.Float64()*12
		edge, outliers := rng.IntN(2*n+1)-n/2, rng.IntN(6)
		for i := range l {
			v := base + slope*float32(i) + float32(grain*rng.NormFloat64())
			if i >= edge && edge > 0 {
				v += 60
			}
			l[i] = min(max(v, 0), 255)
		}
		for range outliers {
			l[rng.IntN(n)] = float32(rng.Float64() * 255)
		}
		u, m := uniformMedian(l, &scratch)
		wu, wm := uniformMedianBefore(l)
		if u != wu || m != wm {
			t.Fatalf("line of %d (grain %.1f, edge %d, %d outliers): %v %v, before %v %v", n, grain, edge, outliers, u, m, wu, wm)
		}
		verdicts[u]++
	}
	if verdicts[true] < 2000 || verdicts[false] < 2000 {
		t.Fatalf("verdicts %v: the lines do not cover both", verdicts)
	}
}
