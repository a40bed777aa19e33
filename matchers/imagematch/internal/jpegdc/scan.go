// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpegdc

import (
	"bytes"
	"math"
)

// scanComp is one component of a scan.
type scanComp struct {
	compIndex uint8
	td        uint8 // DC table selector.
	ta        uint8 // AC table selector.
}

// Specified in section B.2.3.
func (d *decoder) processSOS(n int) error {
	if d.nComp == 0 {
		return FormatError("missing SOF marker")
	}
	if n < 6 || 4+2*d.nComp < n || n%2 != 0 {
		return FormatError("SOS has wrong length")
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	nComp := int(d.tmp[0])
	if n != 4+2*nComp {
		return FormatError("SOS length inconsistent with number of components")
	}
	var scan [maxComponents]scanComp
	totalHV := 0
	for i := 0; i < nComp; i++ {
		cs := d.tmp[1+2*i] // Component selector.
		compIndex := -1
		for j, comp := range d.comp[:d.nComp] {
			if cs == comp.c {
				compIndex = j
			}
		}
		if compIndex < 0 {
			return FormatError("unknown component selector")
		}
		scan[i].compIndex = uint8(compIndex)
		// Section B.2.3 states that "the value of Cs_j shall be different from
		// the values of Cs_1 through Cs_(j-1)". Since we have previously
		// verified that a frame's component identifiers (C_i values in section
		// B.2.2) are unique, it suffices to check that the implicit indexes
		// into d.comp are unique.
		for j := 0; j < i; j++ {
			if scan[i].compIndex == scan[j].compIndex {
				return FormatError("repeated component selector")
			}
		}
		totalHV += d.comp[compIndex].h * d.comp[compIndex].v

		// The baseline t <= 1 restriction is specified in table B.3.
		scan[i].td = d.tmp[2+2*i] >> 4
		if t := scan[i].td; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Td value")
		}
		scan[i].ta = d.tmp[2+2*i] & 0x0f
		if t := scan[i].ta; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Ta value")
		}
	}
	// Section B.2.3 states that if there is more than one component then the
	// total H*V values in a scan must be <= 10.
	if d.nComp > 1 && totalHV > 10 {
		return FormatError("total sampling factors too large")
	}

	// zigStart and zigEnd are the spectral selection bounds.
	// ah and al are the successive approximation high and low values.
	// The spec calls these values Ss, Se, Ah and Al.
	//
	// For progressive JPEGs, these are the two more-or-less independent
	// aspects of progression. Spectral selection progression is when not
	// all of a block's 64 DCT coefficients are transmitted in one pass.
	// For example, three passes could transmit coefficient 0 (the DC
	// component), coefficients 1-5, and coefficients 6-63, in zig-zag
	// order. Successive approximation is when not all of the bits of a
	// band of coefficients are transmitted in one pass. For example,
	// three passes could transmit the 6 most significant bits, followed
	// by the second-least significant bit, followed by the least
	// significant bit.
	//
	// For sequential JPEGs, these parameters are hard-coded to 0/63/0/0, as
	// per table B.3.
	zigStart, zigEnd, ah, al := int32(0), int32(blockSize-1), uint32(0), uint32(0)
	if d.progressive {
		zigStart = int32(d.tmp[1+2*nComp])
		zigEnd = int32(d.tmp[2+2*nComp])
		ah = uint32(d.tmp[3+2*nComp] >> 4)
		al = uint32(d.tmp[3+2*nComp] & 0x0f)
		if (zigStart == 0 && zigEnd != 0) || zigStart > zigEnd || blockSize <= zigEnd {
			return FormatError("bad spectral selection bounds")
		}
		if zigStart != 0 && nComp != 1 {
			return FormatError("progressive AC coefficients for more than one component")
		}
		if ah != 0 && ah != al+1 {
			return FormatError("bad successive approximation values")
		}
	}

	// mxx and myy are the number of MCUs (Minimum Coded Units) in the image.
	h0, v0 := d.comp[0].h, d.comp[0].v // The h and v values from the Y components.
	mxx := (d.width + 8*h0 - 1) / (8 * h0)
	myy := (d.height + 8*v0 - 1) / (8 * v0)
	if d.dc == nil && (d.lum == nil || d.lum.img == nil) {
		// Refuse, before any work, what has no luma plane to take the DC of;
		// the caller falls back to a full decode for these.
		if d.nComp == 4 {
			return UnsupportedError("4-component (CMYK or YCbCrK) JPEG")
		}
		if d.nComp == 3 && d.isRGB() {
			return UnsupportedError("RGB JPEG")
		}
		if d.lum != nil {
			d.lum.alloc(d, mxx*h0, myy*v0)
		} else {
			d.dcStride = mxx * h0
			d.dc = make([]int32, mxx*h0*myy*v0)
		}
	}
	if d.lum != nil {
		hasLuma := false
		for _, s := range scan[:nComp] {
			hasLuma = hasLuma || s.compIndex == 0
		}
		if !hasLuma && d.lum.chromaOf(scan[0].compIndex) == nil {
			// A scan of chroma alone holds nothing the luma needs
			// (unless its chroma is asked for: DecodeColour).
			return d.skipScan()
		}
		for _, s := range scan[:nComp] {
			if cs := d.lum.chromaOf(s.compIndex); cs != nil {
				cs.coded = true
			}
		}
		return d.lumaScan(scan[:nComp], mxx, myy, zigStart, zigEnd, ah, al)
	}
	if zigStart != 0 {
		// A progressive AC scan holds nothing the DC plane needs.
		return d.skipScan()
	}

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
	)
	for my := 0; my < myy; my++ {
		for mx := 0; mx < mxx; mx++ {
			for i := 0; i < nComp; i++ {
				compIndex := scan[i].compIndex
				hi := d.comp[compIndex].h
				vi := d.comp[compIndex].v
				for j := 0; j < hi*vi; j++ {
					// The block order is blockAt's.
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

					if ah != 0 {
						// Refining a DC coefficient is one bit (section G.1.2.1).
						bit, err := d.decodeBit()
						if err != nil {
							return err
						}
						if bit && compIndex == 0 {
							d.dc[by*d.dcStride+bx] |= 1 << al
						}
						continue
					}

					// Decode the DC coefficient, as specified in section F.2.2.1.
					value, err := d.decodeHuffman(&d.huff[dcTable][scan[i].td])
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
					dc[compIndex] += dcDelta
					if compIndex == 0 {
						d.dc[by*d.dcStride+bx] = dc[compIndex] << al
					}
					if zigEnd == 0 {
						continue
					}
					if d.eobRun > 0 {
						d.eobRun--
						continue
					}
					// Sequential scans interleave the AC coefficients with
					// the DC ones: decode them (section F.2.2.2) only to
					// advance the bit stream.
					if err := d.skipAC(&d.huff[acTable][scan[i].ta], zigEnd); err != nil {
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

// blockAt is where block j of MCU (mx, my) lies, for a component with
// sampling factors hi×vi in an image mxx MCUs wide, in units of 8×8
// blocks: the third block in the first row is (2, 0). Interleaved scans
// visit the blocks one MCU at a time; non-interleaved scans visit them
// left to right, top to bottom, count being how many they have visited,
// and carry no data for blocks outside the image at the pixel level
// (inside false): see image/jpeg's scan.go for the worked examples.
func (d *decoder) blockAt(interleaved bool, hi, vi, mx, my, j, mxx int, count *int) (bx, by int, inside bool) {
	if interleaved {
		return hi*mx + j%hi, vi*my + j/hi, true
	}
	q := mxx * hi
	bx, by = *count%q, *count/q
	*count++
	return bx, by, bx*8 < d.width && by*8 < d.height
}

// restartAfter reads the restart marker due after n MCUs of a scan of
// total (if any is due: n a multiple of the restart interval, and not the
// scan's end) and resets the DC predictions dc, as per section F.2.1.3.1.
// In a non-interleaved scan the MCU is one block (section A.2), so there
// n counts blocks; image/jpeg counts groups of h×v blocks, and refuses
// such scans of a subsampled component, which libjpeg and this decoder
// read.
func (d *decoder) restartAfter(n, total int, expectedRST *uint8, dc *[maxComponents]int32) error {
	if d.ri == 0 || n == 0 || n%d.ri != 0 || n >= total {
		return nil
	}
	if err := d.restart(expectedRST); err != nil {
		return err
	}
	*dc = [maxComponents]int32{}
	return nil
}

// restart reads the restart marker expected after a restart interval and
// resets the entropy decoder; the caller resets its DC predictions.
func (d *decoder) restart(expectedRST *uint8) error {
	// For well-formed input, the RST[0-7] restart marker follows
	// immediately. For corrupt input, call findRST to try to
	// resynchronize.
	if err := d.readFull(d.tmp[:2]); err != nil {
		return err
	} else if d.tmp[0] != 0xff || d.tmp[1] != *expectedRST {
		if err := d.findRST(*expectedRST); err != nil {
			return err
		}
	}
	*expectedRST++
	if *expectedRST == rst7Marker+1 {
		*expectedRST = rst0Marker
	}
	// Reset the Huffman decoder.
	d.bits = bits{}
	// Reset the progressive decoder state, as per section G.1.2.2.
	d.eobRun = 0
	return nil
}

// skipAC consumes the AC coefficients 1..zigEnd of one block of a sequential
// scan without storing them.
func (d *decoder) skipAC(huff *huffman, zigEnd int32) error {
	for zig := int32(1); zig <= zigEnd; zig++ {
		// The fast paths of decodeY (luma.go).
		if d.bits.n < 16 {
			d.refillFast()
		}
		value, ok := d.huffFast(huff)
		if !ok {
			var err error
			if value, err = d.decodeHuffman(huff); err != nil {
				return err
			}
		}
		val0 := value >> 4
		val1 := value & 0x0f
		if val1 != 0 {
			zig += int32(val0)
			if zig > zigEnd {
				break
			}
			if d.bits.n >= int32(val1) {
				d.bits.n -= int32(val1)
				d.bits.m >>= val1
			} else if err := d.skipBits(val1); err != nil {
				return err
			}
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

// skipScan skips a scan's entropy-coded data without decoding it, stopping
// before the next marker: an 0xff byte followed by neither 0x00 (a stuffed
// byte), 0xff (fill) nor a restart marker.
func (d *decoder) skipScan() error {
	d.bits = bits{}
	d.bytes.nUnreadable = 0
	for {
		k := bytes.IndexByte(d.bytes.buf[d.bytes.i:d.bytes.j], 0xff)
		if k < 0 {
			d.bytes.i = d.bytes.j
			if err := d.fill(); err != nil {
				return err
			}
			continue
		}
		d.bytes.i += k + 1
		c, err := d.readByte()
		if err != nil {
			return err
		}
		switch {
		case c == 0x00 || (rst0Marker <= c && c <= rst7Marker):
		case c == 0xff:
			// Look at this byte again as the start of a marker.
			d.bytes.i--
		default:
			// Give back the marker: fill keeps the last two bytes of the
			// buffer, so both are still there even if readByte refilled.
			d.bytes.i -= 2
			return nil
		}
	}
}

// findRST advances past the next RST restart marker that matches expectedRST.
// Other than I/O errors, it is also an error if we encounter an {0xFF, M}
// two-byte marker sequence where M is not 0x00, 0xFF or the expectedRST.
//
// This is similar to libjpeg's jdmarker.c's next_marker function.
// https://github.com/libjpeg-turbo/libjpeg-turbo/blob/2dfe6c0fe9e18671105e94f7cbf044d4a1d157e6/jdmarker.c#L892-L935
//
// Precondition: d.tmp[:2] holds the next two bytes of JPEG-encoded input
// (input in the d.readFull sense).
func (d *decoder) findRST(expectedRST uint8) error {
	for {
		// i is the index such that, at the bottom of the loop, we read 2-i
		// bytes into d.tmp[i:2], maintaining the invariant that d.tmp[:2]
		// holds the next two bytes of JPEG-encoded input. It is either 0 or 1,
		// so that each iteration advances by 1 or 2 bytes (or returns).
		i := 0

		if d.tmp[0] == 0xff {
			if d.tmp[1] == expectedRST {
				return nil
			} else if d.tmp[1] == 0xff {
				i = 1
			} else if d.tmp[1] != 0x00 {
				// libjpeg's jdmarker.c's jpeg_resync_to_restart does something
				// fancy here, treating RST markers within two (modulo 8) of
				// expectedRST differently from RST markers that are 'more
				// distant'. Until we see evidence that recovering from such
				// cases is frequent enough to be worth the complexity, we take
				// a simpler approach for now. Any marker that's not 0x00, 0xff
				// or expectedRST is a fatal FormatError.
				return FormatError("bad RST marker")
			}

		} else if d.tmp[1] == 0xff {
			d.tmp[0] = 0xff
			i = 1
		}

		if err := d.readFull(d.tmp[i:2]); err != nil {
			return err
		}
	}
}
