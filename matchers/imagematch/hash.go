package imagematch

import (
	"math"
	"math/bits"

	"github.com/corona10/goimagehash/etcs"
	"github.com/corona10/goimagehash/transforms"
)

// hashSide is the side of the grid the DCT runs on, the size
// goimagehash's DCT2DFast64 takes.
const hashSide = 64

// minContrast is the least low-frequency contrast, in grey levels, that an
// image must have to be hashed. Below it the 64 coefficients are
// compression noise and two blank images would match each other.
const minContrast = 1.0

// dctScale converts the root of the summed squared coefficients of
// goimagehash's unscaled 64×64 DCT-II to grey levels: a cosine of amplitude
// A along one axis has a coefficient of A·64·64/2.
const dctScale = hashSide * hashSide / 2

// phash is the perceptual hash of a 64×64 brightness grid: goimagehash's
// DCT, then one bit per coefficient of the 8×8 block of frequencies 1..8 in
// each direction, set when the coefficient exceeds their median (the layout
// of the original pHash; bit 63 is frequency (1, 1), then row by row).
//
// goimagehash.PerceptionHash keeps frequencies 0..7 instead. That spends
// 15 bits on the image's mean and on its purely horizontal or vertical
// profile, which all word marks share: measured with the same variants on
// generated images (TestHashRobustness, 12 per kind), unrelated logos came
// within 8 bits of each other with frequencies 0..7 and no closer than 12
// with 1..8. An image that varies along one axis only (pure stripes or a
// linear gradient) has no such coefficients and is refused as featureless.
//
// phash also returns the hash of the horizontally mirrored grid, which
// costs nothing: mirroring negates the DCT-II coefficients of odd
// horizontal frequency. ok is false when the grid is too flat to hash.
// grid is overwritten.
func phash(grid []float64) (h, mirrored uint64, ok bool) {
	transforms.DCT2DFast64(&grid)
	var low [64]float64
	for v := range 8 {
		copy(low[v*8:v*8+8], grid[(v+1)*hashSide+1:])
	}
	var energy float64
	for _, c := range low {
		energy += c * c
	}
	if math.Sqrt(energy)/dctScale < minContrast {
		return 0, 0, false
	}
	h = threshold(low[:])
	for i := range low {
		if u := i%8 + 1; u%2 == 1 { // odd horizontal frequency
			low[i] = -low[i]
		}
	}
	return h, threshold(low[:]), true
}

// threshold sets bit 63-i for each coefficient above the median.
func threshold(coef []float64) uint64 {
	med := etcs.MedianOfPixelsFast64(coef)
	var h uint64
	for i, c := range coef {
		if c > med {
			h |= 1 << (63 - i)
		}
	}
	return h
}

// Distance is the Hamming distance between two 64-bit hashes.
func Distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }
