package calibration

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkCompute calibrates over the most complaints one calibration
// reads (api's calibrationMaxComplaints, 50,000), half decided.
func BenchmarkCompute(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := make([]Sample, 50_000)
	for i := range samples {
		s := Sample{Score: rng.Float64(), Matchers: []string{"text", "image"}[:1+rng.IntN(2)]}
		switch rng.IntN(4) {
		case 0, 1:
			s.Outcome = Upheld
		case 2:
			s.Outcome = Rejected
		}
		samples[i] = s
	}
	o, err := Options{}.WithDefaults()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Compute(samples, o)
	}
}
