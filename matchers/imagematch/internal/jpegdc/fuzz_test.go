package jpegdc

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that the DC decoder never panics, respects its pixel
// cap and returns a plane of the declared size with values in range.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpeg")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil && len(data) < 8000 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPixels = 1 << 20
		cfg, cfgErr := jpeg.DecodeConfig(bytes.NewReader(data))
		if cfgErr != nil || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
			// Callers check the config first; still, the decoder must not
			// panic or allocate unboundedly on such input.
			_, _ = Decode(bytes.NewReader(data), maxPixels)
			return
		}
		p, err := Decode(bytes.NewReader(data), maxPixels)
		if err != nil {
			return
		}
		if p.W != (cfg.Width+7)/8 || p.H != (cfg.Height+7)/8 || len(p.Pix) != p.W*p.H {
			t.Fatalf("plane %dx%d (%d values) for a %dx%d image", p.W, p.H, len(p.Pix), cfg.Width, cfg.Height)
		}
		for _, v := range p.Pix {
			if !(v >= 0 && v <= 255) {
				t.Fatalf("plane value %v outside [0, 255]", v)
			}
		}
	})
}
