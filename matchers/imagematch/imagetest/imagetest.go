// Package imagetest builds hostile images for tests of the decoding
// bounds, without ever holding their pixels.
package imagetest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
)

// HostilePNG returns a PNG that declares a w×h 16-bit RGBA image of
// zeros: 8 bytes per pixel once decoded, about a thousandth of that
// encoded. At 7000×5700 (just under a 40 Mpx cap) it is about 310 KB and
// decodes to 319 MB. The rows are streamed through the compressor, so
// building it costs only its encoded size.
func HostilePNG(w, h int) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6 // 16 bits per sample, RGBA; no interlace

	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	row := make([]byte, 1+8*w) // filter byte 0, then zero samples
	for range h {
		_, _ = zw.Write(row)
	}
	_ = zw.Close()

	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk(&out, "IHDR", ihdr[:])
	chunk(&out, "IDAT", idat.Bytes())
	chunk(&out, "IEND", nil)
	return out.Bytes()
}

// chunk writes one PNG chunk with its CRC.
func chunk(w io.Writer, typ string, data []byte) {
	_ = binary.Write(w, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	_, _ = io.WriteString(crc, typ)
	_, _ = crc.Write(data)
	_, _ = io.WriteString(w, typ)
	_, _ = w.Write(data)
	_ = binary.Write(w, binary.BigEndian, crc.Sum32())
}
