// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpegdc

import (
	"image"
	"io"
	"math"
)

// This file is the second mode of the decoder: the luma in full, for what
// needs every pixel (logo detection's local features). It keeps what makes
// the DC mode cheap — no chroma inverse DCT, no colour conversion, scans
// of chroma alone skipped unread — and decodes every coefficient of the Y
// component. The block decoding and the progressive refinement are
// image/jpeg's (scan.go); only where a block goes differs.

// MaxShift is the largest scale reduction DecodeGray offers: 1<<MaxShift.
const MaxShift = 2

// lumaState is the output of a DecodeGray and, for a progressive JPEG, the
// Y coefficients kept across its scans.
type lumaState struct {
	// shift reduces the output by 1<<shift on each side: each 8×8 block
	// gives 8>>shift pixels a side.
	shift uint
	img   *image.Gray
	// coef holds a progressive JPEG's Y blocks (natural order, quantized),
	// stride per row, until the last scan is read.
	coef   []block
	stride int
	// withDC asks for the decoder's dc array to be filled as in Decode's
	// mode (DecodeGrayDC); it has the coefficients' stride.
	withDC bool
	// colour asks for the chroma planes too (DecodeColour, full scale
	// only); chroma holds them, Cb then Cr, once a YCbCr JPEG's first
	// scan is reached (img nil otherwise: a grey JPEG has none).
	colour bool
	chroma [2]chromaState
}

// chromaState is one chroma component's output and, for a progressive
// JPEG, its blocks kept across the scans (stride blocks a row).
type chromaState struct {
	img    *image.Gray
	coef   []block
	stride int
	// coded says a scan held the component: a plane no scan coded
	// (a truncated or malformed file) is no colour at all.
	coded bool
}

// chromaOf is the state of component comp's plane, nil when it is not
// decoded (the luma, or colour not asked for, or a grey JPEG).
func (l *lumaState) chromaOf(comp uint8) *chromaState {
	if comp == 0 || comp > 2 || l.chroma[comp-1].img == nil {
		return nil
	}
	return &l.chroma[comp-1]
}

// block is the 64 coefficients of an 8×8 block.
type block [blockSize]int32

// alloc sizes the output for an image of bw×bh Y blocks (MCU padding
// included) once the first scan is reached; processSOF has checked the
// pixel cap.
func (l *lumaState) alloc(d *decoder, bw, bh int) {
	s := 1 << l.shift
	l.img = image.NewGray(image.Rect(0, 0, (d.width+s-1)/s, (d.height+s-1)/s))
	if d.progressive {
		l.stride = bw
		l.coef = make([]block, bw*bh)
	}
	if l.withDC {
		d.dcStride = bw
		d.dc = make([]int32, bw*bh)
	}
	if l.colour && l.shift == 0 && d.nComp == 3 {
		// processSOS has refused RGB JPEGs: these are Cb and Cr. Each
		// plane is the component's own resolution, its blocks
		// bw·hc/h0 a row (the MCUs' columns times the component's
		// blocks in one).
		h0, v0 := d.comp[0].h, d.comp[0].v
		for c := 1; c <= 2; c++ {
			hc, vc := d.comp[c].h, d.comp[c].v
			cs := &l.chroma[c-1]
			cw, ch := (d.width*hc+h0-1)/h0, (d.height*vc+v0-1)/v0
			cs.img = image.NewGray(image.Rect(0, 0, cw, ch))
			cs.stride = bw / h0 * hc
			if d.progressive {
				cs.coef = make([]block, cs.stride*(bh/v0*vc))
			}
		}
	}
}

// ColourBytes is the memory DecodeColour takes for a width×height JPEG
// beyond DecodeGray's at full scale (GrayBytes): the two chroma planes,
// counted at the luma's resolution (4:4:4, the most), and for a
// progressive JPEG 4 bytes per chroma pixel of coefficients (MCU padding
// included).
func ColourBytes(width, height int, progressive bool) int64 {
	n := 2 * (int64(width) + 32) * (int64(height) + 16)
	if progressive {
		n *= 5
	}
	return n
}

// GrayBytes is the memory DecodeGray takes for a width×height JPEG at
// 1/(1<<shift) scale beyond its fixed state: the grey output and, for a
// progressive JPEG, 4 bytes per luma pixel of coefficients (MCU padding
// of up to 4×2 blocks included).
func GrayBytes(width, height int, shift uint, progressive bool) int64 {
	s := int64(1) << shift
	n := ((int64(width) + s - 1) / s) * ((int64(height) + s - 1) / s)
	if progressive {
		n += 4 * (int64(width) + 32) * (int64(height) + 16)
	}
	return n
}

// DecodeGray reads a JPEG from r and returns its luma at 1/(1<<shift) of
// its size on each side (shift 0 to MaxShift; the last row and column
// cover what is left when the size is not a multiple). At full scale the
// pixels are image/jpeg's Y plane exactly; reduced, each is the rounded
// mean of the s×s of them it covers, averaged block by block as each is
// transformed (never held at full size). A reduced transform (each output
// pixel straight from the 64 coefficients, in float) was tried: it was no
// cheaper than image/jpeg's integer IDCT followed by the means, and off
// where pixels clip. Baseline and progressive JPEGs, with any
// sampling factors image/jpeg accepts and restart intervals, are decoded;
// JPEGs whose first component is not luma (CMYK, YCbCrK, Adobe RGB) are
// refused with an UnsupportedError, so that the caller can fall back.
// maxPixels (0 = no cap) bounds width*height before any allocation.
func DecodeGray(r io.Reader, maxPixels int64, shift uint) (*image.Gray, error) {
	g, _, err := decodeGray(r, maxPixels, shift, false)
	return g, err
}

// DecodeGrayDC is DecodeGray that also returns the DC plane Decode would
// return for the same data, value for value, from the same pass: the
// quantized DC coefficient of each Y block is kept as it is decoded (4
// bytes per block, DCBytes). A caller that needs both the luma and the
// DC plane (the perceptual hashes and logo detection of one listing
// image) pays for one entropy decode instead of two. Errors are
// DecodeGray's.
func DecodeGrayDC(r io.Reader, maxPixels int64, shift uint) (*image.Gray, *Plane, error) {
	return decodeGray(r, maxPixels, shift, true)
}

// DCBytes is the memory DecodeGrayDC takes beyond DecodeGray's
// (GrayBytes) for a width×height JPEG: the DC coefficients (MCU padding
// of up to 4×2 blocks included) and the float plane made of them.
func DCBytes(width, height int) int64 {
	bw, bh := (int64(width)+31)/8, (int64(height)+15)/8
	return 4*bw*bh + 4*bw*bh
}

// DecodeColour is DecodeGrayDC at full scale (withDC: the DC plane too,
// else it is nil) that also decodes the JPEG's chroma: its Cb and Cr
// planes at their own resolution (a 4:2:0 JPEG's at half the width and
// height, rounded up), image/jpeg's Cb and Cr exactly. A grey JPEG has
// none: cb and cr are nil. Chroma scans are then read rather than skipped,
// and chroma blocks transformed, which the luma alone spares: the colour
// planes are for logo detection's colour features (matchers/logo,
// ExtractorOptions.Colour). A file where no scan codes one of the chroma
// components (image/jpeg decodes its plane as 0) has none either. Errors
// are DecodeGray's.
func DecodeColour(r io.Reader, maxPixels int64, withDC bool) (y, cb, cr *image.Gray, dc *Plane, err error) {
	d := decoder{maxPixels: maxPixels, lum: &lumaState{withDC: withDC, colour: true}}
	g, dc, err := d.decodeGray(r)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if c := &d.lum.chroma; !c[0].coded || !c[1].coded {
		// A component no scan coded (image/jpeg leaves its plane at
		// 0, a saturated colour): no colour planes.
		return g, nil, nil, dc, nil
	}
	return g, d.lum.chroma[0].img, d.lum.chroma[1].img, dc, nil
}

func decodeGray(r io.Reader, maxPixels int64, shift uint, withDC bool) (*image.Gray, *Plane, error) {
	if shift > MaxShift {
		return nil, nil, UnsupportedError("scale below 1/4")
	}
	d := decoder{maxPixels: maxPixels, lum: &lumaState{shift: shift, withDC: withDC}}
	return d.decodeGray(r)
}

// decodeGray decodes r in the luma mode d.lum asks for.
func (d *decoder) decodeGray(r io.Reader) (*image.Gray, *Plane, error) {
	withDC := d.lum.withDC
	if err := d.decode(r); err != nil {
		return nil, nil, err
	}
	if d.progressive && withDC {
		// A block's DC coefficient is final once every scan is read
		// (its refinements included), and in the same units as Decode
		// keeps it (shifted by al, the refinement bits ORed in); the
		// reconstruction below overwrites it.
		for i := range d.dc {
			d.dc[i] = d.lum.coef[i][0]
		}
	}
	if d.progressive {
		d.reconstructProgressive()
	}
	if !withDC {
		return d.lum.img, nil, nil
	}
	return d.lum.img, d.plane(), nil
}

// lumaScan decodes one scan that includes the Y component: Y blocks in
// full, the other components' only to advance the bit stream. scan is the
// scan's components, mxx×myy its MCUs; zigStart, zigEnd, ah and al are the
// spectral selection and successive approximation of a progressive scan.
func (d *decoder) lumaScan(scan []scanComp, mxx, myy int, zigStart, zigEnd int32, ah, al uint32) error {
	d.bits = bits{}
	mcu, expectedRST := 0, uint8(rst0Marker)
	var (
		dc [maxComponents]int32
		// bx and by are the location of the current block, in units of 8x8
		// blocks: the third block in the first row has (bx, by) = (2, 0).
		bx, by     int
		blockCount int
		// units counts the blocks of a non-interleaved scan.
		units int
		b     block
		other block // coefficients of a chroma block, discarded
	)
	nComp := len(scan)
	for my := 0; my < myy; my++ {
		for mx := 0; mx < mxx; mx++ {
			for i := range scan {
				compIndex := scan[i].compIndex
				hi := d.comp[compIndex].h
				vi := d.comp[compIndex].v
				for j := 0; j < hi*vi; j++ {
					// Block order as in processSOS.
					var inside bool
					if bx, by, inside = d.blockAt(nComp != 1, hi, vi, mx, my, j, mxx, &blockCount); !inside {
						continue
					}
					if nComp == 1 {
						// In a non-interleaved scan the MCU is one block.
						if err := d.restartAfter(units, math.MaxInt, &expectedRST, &dc); err != nil {
							return err
						}
						units++
					}
					if compIndex != 0 && !d.progressive {
						if cs := d.lum.chromaOf(compIndex); cs != nil {
							// A sequential chroma block, asked for
							// (DecodeColour): as a luma block, into
							// its plane.
							b = block{}
							ac, err := d.decodeSeq(&b, &d.quant[d.comp[compIndex].tq], &d.huff[dcTable][scan[i].td], &d.huff[acTable][scan[i].ta], &dc[compIndex])
							if err != nil {
								return err
							}
							storeBlock(cs.img, &b, ac, bx, by)
							continue
						}
						// A sequential chroma block: its DC and AC
						// coefficients are decoded only to advance.
						if err := d.skipBlock(&d.huff[dcTable][scan[i].td], &d.huff[acTable][scan[i].ta]); err != nil {
							return err
						}
						continue
					}
					if !d.progressive {
						// A sequential luma block: decoded, dequantized and
						// transformed straight into the image.
						b = block{}
						ac, err := d.decodeSeq(&b, &d.quant[d.comp[0].tq], &d.huff[dcTable][scan[i].td], &d.huff[acTable][scan[i].ta], &dc[0])
						if err != nil {
							return err
						}
						if d.dc != nil {
							// Decode's mode keeps the same: the
							// prediction, quantized.
							d.dc[by*d.dcStride+bx] = dc[0]
						}
						d.store(&b, ac, bx, by)
						continue
					}
					var p *block
					switch {
					case compIndex != 0:
						if cs := d.lum.chromaOf(compIndex); cs != nil {
							p = &cs.coef[by*cs.stride+bx]
							break
						}
						// Only DC scans interleave chroma with luma in a
						// progressive JPEG; the predictions must still run.
						other = block{}
						p = &other
					default:
						p = &d.lum.coef[by*d.lum.stride+bx]
					}
					if ah != 0 {
						if err := d.refine(p, &d.huff[acTable][scan[i].ta], zigStart, zigEnd, 1<<al); err != nil {
							return err
						}
					} else if err := d.decodeBlock(p, &d.huff[dcTable][scan[i].td], &d.huff[acTable][scan[i].ta], zigStart, zigEnd, al, &dc[compIndex]); err != nil {
						return err
					}
				} // for j
			} // for i
			mcu++
			if nComp != 1 {
				if err := d.restartAfter(mcu, mxx*myy, &expectedRST, &dc); err != nil {
					return err
				}
			}
		} // for mx
	} // for my
	return nil
}

// skipBlock consumes one block of a sequential scan; its DC prediction is
// never needed.
func (d *decoder) skipBlock(dcHuff, acHuff *huffman) error {
	value, err := d.decodeHuffman(dcHuff)
	if err != nil {
		return err
	}
	if value > 16 {
		return UnsupportedError("excessive DC component")
	}
	if err := d.skipBits(value); err != nil {
		return err
	}
	if d.eobRun > 0 {
		d.eobRun--
		return nil
	}
	return d.skipAC(acHuff, blockSize-1)
}

// decodeSeq decodes one block of a sequential scan into b, dequantized
// by qt (natural order), and returns the OR of its AC coefficients (0:
// none): decodeBlock for zigStart 0, zigEnd 63, al 0, with the
// dequantization done as each coefficient arrives.
func (d *decoder) decodeSeq(b *block, qt *[blockSize]int32, dcHuff, acHuff *huffman, pred *int32) (int32, error) {
	value, err := d.decodeHuffman(dcHuff)
	if err != nil {
		return 0, err
	}
	if value > 16 {
		return 0, UnsupportedError("excessive DC component")
	}
	dcDelta, err := d.receiveExtend(value)
	if err != nil {
		return 0, err
	}
	*pred += dcDelta
	b[0] = *pred * qt[0]
	if d.eobRun > 0 {
		d.eobRun--
		return 0, nil
	}
	nz := int32(0) // the OR of the AC coefficients
	for zig := int32(1); zig < blockSize; zig++ {
		// Most codes are found in the look-up table with the bits at
		// hand; the calls are for the rest.
		if d.bits.n < 16 {
			d.refillFast()
		}
		value, ok := d.huffFast(acHuff)
		if !ok {
			var err error
			if value, err = d.decodeHuffman(acHuff); err != nil {
				return 0, err
			}
		}
		val0 := value >> 4
		val1 := value & 0x0f
		if val1 != 0 {
			zig += int32(val0)
			if zig >= blockSize {
				break
			}
			ac, ok := d.extendFast(val1)
			if !ok {
				var err error
				if ac, err = d.receiveExtend(val1); err != nil {
					return 0, err
				}
			}
			c := ac * qt[zig]
			b[unzig[zig]] = c
			nz |= c
			continue
		}
		if val0 != 0x0f {
			if err := d.startEOBRun(val0); err != nil {
				return 0, err
			}
			d.eobRun--
			break
		}
		zig += 0x0f
	}
	return nz, nil
}

// startEOBRun reads the length of an end-of-band run whose code has run
// length r (section G.1.2.2): 1<<r blocks plus r more bits' worth. In a
// sequential scan r is 0, a plain end of block.
func (d *decoder) startEOBRun(r uint8) error {
	d.eobRun = uint16(1 << r)
	if r != 0 {
		bits, err := d.decodeBits(int32(r))
		if err != nil {
			return err
		}
		d.eobRun |= uint16(bits)
	}
	return nil
}

// refillFast tops the bit accumulator up to 25–32 bits from the buffered
// bytes while none of them is 0xff (a stuffed byte or a marker: those are
// left to readByteStuffedByte). The bytes it takes are never given back
// (nUnreadable 0): it never takes a marker's, so what the accumulator
// holds beyond the scan's last code is the scan's own padding, which
// nothing reads again.
func (d *decoder) refillFast() {
	i, j := d.bytes.i, d.bytes.j
	n, a := d.bits.n, d.bits.a
	for n <= 24 && i < j && d.bytes.buf[i] != 0xff {
		a = a<<8 | uint32(d.bytes.buf[i])
		i++
		n += 8
	}
	if n == d.bits.n {
		return
	}
	d.bytes.i, d.bytes.nUnreadable = i, 0
	d.bits.a, d.bits.n, d.bits.m = a, n, 1<<uint(n-1)
}

// huffFast is decodeHuffman's look-up-table path, small enough to be
// inlined: ok is false when fewer than 8 bits are at hand or the code is
// longer than 8 bits (or h is empty), and nothing has been consumed.
func (d *decoder) huffFast(h *huffman) (value uint8, ok bool) {
	if d.bits.n < lutSize {
		return 0, false
	}
	v := h.lut[(d.bits.a>>uint32(d.bits.n-lutSize))&0xff]
	if v == 0 {
		return 0, false
	}
	n := (v & 0xff) - 1
	d.bits.n -= int32(n)
	d.bits.m >>= n
	return uint8(v >> 8), true
}

// extendFast is receiveExtend when t bits are at hand, small enough to be
// inlined; ok is false, and nothing consumed, otherwise.
func (d *decoder) extendFast(t uint8) (int32, bool) {
	if d.bits.n < int32(t) {
		return 0, false
	}
	d.bits.n -= int32(t)
	d.bits.m >>= t
	s := int32(1) << t
	x := int32(d.bits.a>>uint8(d.bits.n)) & (s - 1)
	if x < s>>1 {
		x += ((-1) << t) + 1
	}
	return x, true
}

// decodeBlock decodes the coefficients zigStart..zigEnd of one block into
// b (natural order, shifted left by al), as specified in sections F.2.2.1,
// F.2.2.2 and G.1.2.2; pred is the component's DC prediction.
func (d *decoder) decodeBlock(b *block, dcHuff, acHuff *huffman, zigStart, zigEnd int32, al uint32, pred *int32) error {
	zig := zigStart
	if zig == 0 {
		zig++
		value, err := d.decodeHuffman(dcHuff)
		if err != nil {
			return err
		}
		if value > 16 {
			return UnsupportedError("excessive DC component")
		}
		dcDelta, err := d.receiveExtend(value)
		if err != nil {
			return err
		}
		*pred += dcDelta
		b[0] = *pred << al
	}
	if zig > zigEnd {
		return nil
	}
	if d.eobRun > 0 {
		d.eobRun--
		return nil
	}
	for ; zig <= zigEnd; zig++ {
		value, err := d.decodeHuffman(acHuff)
		if err != nil {
			return err
		}
		val0 := value >> 4
		val1 := value & 0x0f
		if val1 != 0 {
			zig += int32(val0)
			if zig > zigEnd {
				break
			}
			ac, err := d.receiveExtend(val1)
			if err != nil {
				return err
			}
			b[unzig[zig]] = ac << al
			continue
		}
		if val0 != 0x0f {
			if err := d.startEOBRun(val0); err != nil {
				return err
			}
			d.eobRun--
			break
		}
		zig += 0x0f
	}
	return nil
}

// refine decodes a successive approximation refinement block, as specified in
// section G.1.2.
func (d *decoder) refine(b *block, h *huffman, zigStart, zigEnd, delta int32) error {
	// Refining a DC component is trivial.
	if zigStart == 0 {
		bit, err := d.decodeBit()
		if err != nil {
			return err
		}
		if bit {
			b[0] |= delta
		}
		return nil
	}

	// Refining AC components is more complicated; see sections G.1.2.2 and G.1.2.3.
	zig := zigStart
	if d.eobRun == 0 {
	loop:
		for ; zig <= zigEnd; zig++ {
			z := int32(0)
			value, err := d.decodeHuffman(h)
			if err != nil {
				return err
			}
			val0 := value >> 4
			val1 := value & 0x0f

			switch val1 {
			case 0:
				if val0 != 0x0f {
					if err := d.startEOBRun(val0); err != nil {
						return err
					}
					break loop
				}
			case 1:
				z = delta
				bit, err := d.decodeBit()
				if err != nil {
					return err
				}
				if !bit {
					z = -z
				}
			default:
				return FormatError("unexpected Huffman code")
			}

			zig, err = d.refineNonZeroes(b, zig, zigEnd, int32(val0), delta)
			if err != nil {
				return err
			}
			if zig > zigEnd {
				return FormatError("too many coefficients")
			}
			if z != 0 {
				b[unzig[zig]] = z
			}
		}
	}
	if d.eobRun > 0 {
		d.eobRun--
		if _, err := d.refineNonZeroes(b, zig, zigEnd, -1, delta); err != nil {
			return err
		}
	}
	return nil
}

// refineNonZeroes refines non-zero entries of b in zig-zag order. If nz >= 0,
// the first nz zero entries are skipped over.
func (d *decoder) refineNonZeroes(b *block, zig, zigEnd, nz, delta int32) (int32, error) {
	for ; zig <= zigEnd; zig++ {
		u := unzig[zig]
		if b[u] == 0 {
			if nz == 0 {
				break
			}
			nz--
			continue
		}
		bit, err := d.decodeBit()
		if err != nil {
			return 0, err
		}
		if !bit {
			continue
		}
		if b[u] >= 0 {
			b[u] += delta
		} else {
			b[u] -= delta
		}
	}
	return zig, nil
}

// reconstructProgressive transforms every Y block of a progressive JPEG
// once its last scan has been read, and every chroma block asked for.
func (d *decoder) reconstructProgressive() {
	for by := 0; by*8 < d.height; by++ {
		for bx := 0; bx*8 < d.width; bx++ {
			d.reconstruct(&d.lum.coef[by*d.lum.stride+bx], bx, by)
		}
	}
	for c := range d.lum.chroma {
		cs := &d.lum.chroma[c]
		if cs.img == nil {
			continue
		}
		qt := &d.quant[d.comp[c+1].tq]
		for by := 0; by*8 < cs.img.Rect.Dy(); by++ {
			for bx := 0; bx*8 < cs.img.Rect.Dx(); bx++ {
				b := &cs.coef[by*cs.stride+bx]
				storeBlock(cs.img, b, dequantize(b, qt), bx, by)
			}
		}
	}
}

// dequantize dequantizes block b (natural order) by qt (zig-zag order)
// in place and returns the OR of its AC coefficients.
func dequantize(b *block, qt *[blockSize]int32) int32 {
	ac := int32(0)
	for zig := 1; zig < blockSize; zig++ {
		c := b[unzig[zig]] * qt[zig]
		b[unzig[zig]] = c
		ac |= c
	}
	b[0] *= qt[0]
	return ac
}

// storeBlock transforms the dequantized block b at (bx, by), ac the OR of
// its AC coefficients (0: a flat block: every pixel is the DC's level,
// rounded as image/jpeg's IDCT rounds it), and writes what of it lies
// inside img, at full scale (store's, at shift 0). b is overwritten.
func storeBlock(img *image.Gray, b *block, ac int32, bx, by int) {
	x0, y0 := bx*8, by*8
	w, h := min(8, img.Rect.Dx()-x0), min(8, img.Rect.Dy()-y0)
	if w <= 0 || h <= 0 {
		return
	}
	if ac == 0 {
		v := clip8((b[0] + 4) >> 3)
		for y := range h {
			row := img.Pix[(y0+y)*img.Stride+x0:][:w]
			for x := range row {
				row[x] = v
			}
		}
		return
	}
	idct(b)
	// Straight into the image, row by row: a copy call per 8-pixel row
	// cost as much as clipping it.
	for y := range h {
		dst := img.Pix[(y0+y)*img.Stride+x0:][:w]
		src := b[y*8 : y*8+8]
		for x := range dst {
			dst[x] = clip8(src[x])
		}
	}
}

// reconstruct dequantizes Y block b at (bx, by) and stores it (store). b
// is overwritten.
func (d *decoder) reconstruct(b *block, bx, by int) {
	d.store(b, dequantize(b, &d.quant[d.comp[0].tq]), bx, by)
}

// store transforms the dequantized Y block b at (bx, by), ac the OR of
// its AC coefficients (0: a flat block), at the output's scale and writes
// what of it lies inside the image. b is overwritten.
func (d *decoder) store(b *block, ac int32, bx, by int) {
	l := d.lum
	if l.shift == 0 {
		storeBlock(l.img, b, ac, bx, by)
		return
	}
	n := 8 >> l.shift
	img := l.img
	x0, y0 := bx*n, by*n
	w, h := min(n, img.Rect.Dx()-x0), min(n, img.Rect.Dy()-y0)
	if w <= 0 || h <= 0 {
		return
	}
	if ac == 0 {
		// A flat block: every pixel, at any scale, is the DC's level
		// (rounded as image/jpeg's IDCT rounds it).
		v := clip8((b[0] + 4) >> 3)
		for y := range h {
			row := img.Pix[(y0+y)*img.Stride+x0:]
			for x := range w {
				row[x] = v
			}
		}
		return
	}
	var out [blockSize]uint8
	s := 1 << l.shift
	realW, realH := min(8, d.width-bx*8), min(8, d.height-by*8)
	switch {
	case realW == 8 && realH == 8:
		idct(b)
		boxMeans(b, l.shift, &out)
	default:
		// A block across the right or bottom edge: the means are of the
		// pixels inside the image, not of the encoder's padding.
		idct(b)
		for y := range h {
			for x := range w {
				sum, k := int32(0), int32(0)
				for yy := y * s; yy < min(y*s+s, realH); yy++ {
					for xx := x * s; xx < min(x*s+s, realW); xx++ {
						sum += int32(clip8(b[yy*8+xx]))
						k++
					}
				}
				out[y*n+x] = uint8((sum + k/2) / k)
			}
		}
	}
	for y := range h {
		copy(img.Pix[(y0+y)*img.Stride+x0:][:w], out[y*n:y*n+w])
	}
}

// boxMeans writes the means of the (1<<shift)² clipped pixels of each
// output pixel of the inverse-transformed block b into out (row stride
// 8>>shift), rounded half up.
func boxMeans(b *block, shift uint, out *[blockSize]uint8) {
	var px [blockSize]uint16
	for i, c := range b {
		px[i] = uint16(clip8(c))
	}
	if shift == 1 {
		for y := range 4 {
			r0, r1 := px[16*y:16*y+8:16*y+8], px[16*y+8:16*y+16:16*y+16]
			for x := range 4 {
				out[4*y+x] = uint8((r0[2*x] + r0[2*x+1] + r1[2*x] + r1[2*x+1] + 2) >> 2)
			}
		}
		return
	}
	for y := range 2 {
		for x := range 2 {
			sum := uint16(8)
			for yy := 4 * y; yy < 4*y+4; yy++ {
				r := px[8*yy+4*x : 8*yy+4*x+4 : 8*yy+4*x+4]
				sum += r[0] + r[1] + r[2] + r[3]
			}
			out[2*y+x] = uint8(sum >> 4)
		}
	}
}

// clip8 level-shifts an inverse-transformed sample by +128 and clips it
// to [0, 255], as image/jpeg does.
func clip8(c int32) uint8 {
	if c < -128 {
		return 0
	}
	if c > 127 {
		return 255
	}
	return uint8(c + 128)
}
