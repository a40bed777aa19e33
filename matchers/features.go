package matchers

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Features are the local features of one image — keypoints with a 256-bit
// binary descriptor each — that logo detection (matchers/logo) compares.
// They are computed before matching, like the perceptual hashes: for a
// listing image by the image preparer, for a mark's logo by the registry,
// which carries them on the marks topic (domain.ImageHash.Features).
type Features struct {
	// W and H are the size of the image the keypoints' coordinates refer
	// to (for a listing image, the image as decoded).
	W, H int
	// Points and Desc are parallel: Desc[i] describes Points[i].
	Points []Keypoint
	Desc   []Descriptor
	// Pixels, when set, describes the listing image at any position after
	// its features were taken, for logo detection's check of a fit's
	// pose (matchers/logo, Options.MinDenseShare). In memory only: never
	// encoded, and the image cache keeps features without it.
	Pixels Pixels
	// Colour, when set, holds the features of the image's colour planes
	// (its Cb then its Cr plane, at their own resolution), each in the
	// image's coordinates (the same W and H) with Pixels of its own: a
	// logo printed in a colour as bright as the product it is on shows
	// in them where the luma has too little contrast to have corners
	// (matchers/logo, ExtractorOptions.Colour). In memory only, as
	// Pixels.
	Colour []*Features
}

// Pixels are what a listing image's features keep of the image after
// extraction (matchers/logo keeps its working plane and builds the
// pyramid from it when asked), so that a descriptor can be taken
// anywhere once a logo's pose is known.
type Pixels interface {
	// DescribeMapped returns the descriptor of the patch centred on (x,
	// y) sampled exactly where a reference keypoint's pattern lands: the
	// sampling pattern steered to angle (radians, as Keypoint.Angle, the
	// reference's own), each of its offsets (u, v) taken to the image
	// offset (m[0]·u + m[1]·v, m[2]·u + m[3]·v) in image pixels, each
	// sample read between pixels of the pyramid level nearest the map's
	// scale (the square root of its determinant's magnitude); false when
	// no level is within a factor of 1.4 of it or the patch is not
	// inside the image. A fit's pose (its local linear map at the
	// keypoint) places a reference descriptor's samples where they fall,
	// rather than at the nearest level's pixels and angle bin.
	DescribeMapped(x, y float64, m [4]float64, angle float64) (Descriptor, bool)
	// Release gives the memory back for the next image; DescribeMapped finds
	// nothing after. Calling it is optional (the garbage collector frees
	// unreleased pixels) and idempotent.
	Release()
}

// ReleasePixels releases the pixels of each image's features (see
// Pixels.Release) and drops them from the features: for a caller done
// matching a listing.
func ReleasePixels(imgs []ListingImage) {
	for i := range imgs {
		if f := imgs[i].Features; f != nil {
			f.ReleasePixels()
		}
	}
}

// ReleasePixels releases f's pixels and its colour planes' (see
// Pixels.Release) and drops them from the features.
func (f *Features) ReleasePixels() {
	if f.Pixels != nil {
		f.Pixels.Release()
		f.Pixels = nil
	}
	for _, c := range f.Colour {
		if c != nil && c.Pixels != nil {
			c.Pixels.Release()
			c.Pixels = nil
		}
	}
}

// Keypoint is where a descriptor was taken: its centre in the image's
// coordinates, the patch's orientation in radians and the scale of the
// pyramid level it was found at (1 for the full image, 1.3 for the next
// level, …, 1/1.3 for a listing image's enlarged first level; the patch
// covers Scale times 31 pixels of the image).
type Keypoint struct {
	X, Y, Angle, Scale float32
}

// Descriptor is a 256-bit binary (rotated BRIEF) descriptor.
type Descriptor [4]uint64

// MaxEncodedFeatures caps the keypoints of one encoded reference image:
// EncodeFeatures keeps the first ones, DecodeFeatures refuses more. At
// 38 bytes a keypoint that is under 20 KB of base64 per logo on the marks
// topic.
const MaxEncodedFeatures = 512

// featuresMagic starts every encoded feature set; the digit is the
// format's version.
const featuresMagic = "LF1"

// keypointBytes is one keypoint's size in the encoding: x, y in 1/4
// pixels (uint16 each), the angle in 256ths of a turn, the scale in 16ths,
// then the 32 bytes of its descriptor.
const keypointBytes = 2 + 2 + 1 + 1 + 32

// maxEncodedSide is the largest image side the encoding can place a
// keypoint in (1/4-pixel steps in 16 bits).
const maxEncodedSide = math.MaxUint16 / 4

// ErrFeatures means an encoded feature set is malformed.
var ErrFeatures = errors.New("malformed features")

// EncodeFeatures writes f compactly, base64 without padding, for the marks
// topic. Positions are rounded to 1/4 pixel, angles to 1/256 of a turn,
// scales to 1/16; keypoints past MaxEncodedFeatures are dropped. The image
// may be at most 16383 pixels on a side.
func EncodeFeatures(f *Features) (string, error) {
	if f.W <= 0 || f.H <= 0 || f.W > maxEncodedSide || f.H > maxEncodedSide {
		return "", fmt.Errorf("%w: image of %d×%d cannot be encoded", ErrFeatures, f.W, f.H)
	}
	if len(f.Points) != len(f.Desc) {
		return "", fmt.Errorf("%w: %d keypoints, %d descriptors", ErrFeatures, len(f.Points), len(f.Desc))
	}
	n := min(len(f.Points), MaxEncodedFeatures)
	b := make([]byte, 0, len(featuresMagic)+6+n*keypointBytes)
	b = append(b, featuresMagic...)
	b = binary.BigEndian.AppendUint16(b, uint16(f.W))
	b = binary.BigEndian.AppendUint16(b, uint16(f.H))
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for i := range n {
		p := f.Points[i]
		b = binary.BigEndian.AppendUint16(b, quarter(p.X, f.W))
		b = binary.BigEndian.AppendUint16(b, quarter(p.Y, f.H))
		turn := math.Mod(float64(p.Angle)/(2*math.Pi), 1)
		if turn < 0 {
			turn++
		}
		b = append(b, byte(int(math.Round(turn*256))&0xff))
		b = append(b, byte(min(max(math.Round(float64(p.Scale)*16), 1), 255)))
		for _, w := range f.Desc[i] {
			b = binary.BigEndian.AppendUint64(b, w)
		}
	}
	return base64.RawStdEncoding.EncodeToString(b), nil
}

// quarter is v in 1/4 pixels, clamped into an image of side n.
func quarter(v float32, n int) uint16 {
	return uint16(min(max(math.Round(float64(v)*4), 0), float64(n*4-1)))
}

// DecodeFeatures reads a feature set written by EncodeFeatures. It is a
// decoder of untrusted input (the marks topic): it checks the length
// before allocating, and every keypoint lies inside the declared image.
func DecodeFeatures(s string) (*Features, error) {
	if len(s) > base64.RawStdEncoding.EncodedLen(len(featuresMagic)+6+MaxEncodedFeatures*keypointBytes) {
		return nil, fmt.Errorf("%w: %d characters, over the cap", ErrFeatures, len(s))
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFeatures, err)
	}
	if len(b) < len(featuresMagic)+6 || string(b[:len(featuresMagic)]) != featuresMagic {
		return nil, fmt.Errorf("%w: no %s header", ErrFeatures, featuresMagic)
	}
	b = b[len(featuresMagic):]
	w, h, n := int(binary.BigEndian.Uint16(b)), int(binary.BigEndian.Uint16(b[2:])), int(binary.BigEndian.Uint16(b[4:]))
	b = b[6:]
	switch {
	case w == 0 || h == 0 || w > maxEncodedSide || h > maxEncodedSide:
		return nil, fmt.Errorf("%w: image of %d×%d", ErrFeatures, w, h)
	case n > MaxEncodedFeatures:
		return nil, fmt.Errorf("%w: %d keypoints, over the cap of %d", ErrFeatures, n, MaxEncodedFeatures)
	case len(b) != n*keypointBytes:
		return nil, fmt.Errorf("%w: %d bytes for %d keypoints, want %d", ErrFeatures, len(b), n, n*keypointBytes)
	}
	f := &Features{W: w, H: h, Points: make([]Keypoint, n), Desc: make([]Descriptor, n)}
	for i := range n {
		k := b[i*keypointBytes:]
		x, y := int(binary.BigEndian.Uint16(k)), int(binary.BigEndian.Uint16(k[2:]))
		if x >= 4*w || y >= 4*h {
			return nil, fmt.Errorf("%w: keypoint %d at (%d, %d)/4 outside the %d×%d image", ErrFeatures, i, x, y, w, h)
		}
		if k[5] == 0 {
			return nil, fmt.Errorf("%w: keypoint %d has scale 0", ErrFeatures, i)
		}
		f.Points[i] = Keypoint{
			X: float32(x) / 4, Y: float32(y) / 4,
			Angle: float32(float64(k[4]) / 256 * 2 * math.Pi),
			Scale: float32(k[5]) / 16,
		}
		for j := range 4 {
			f.Desc[i][j] = binary.BigEndian.Uint64(k[6+8*j:])
		}
	}
	return f, nil
}
