package imagetest

import (
	"bytes"
	"image/color"
	"image/png"
	"testing"
)

func TestHostilePNG(t *testing.T) {
	data := HostilePNG(7000, 5700)
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 7000 || cfg.Height != 5700 || cfg.ColorModel != color.NRGBA64Model {
		t.Errorf("config %dx%d %T", cfg.Width, cfg.Height, cfg.ColorModel)
	}
	t.Logf("%d bytes encoded", len(data))
	if len(data) > 400<<10 {
		t.Errorf("%d bytes: not small", len(data))
	}
	// A small one decodes, so the stream is well formed.
	if _, err := png.Decode(bytes.NewReader(HostilePNG(30, 20))); err != nil {
		t.Fatal(err)
	}
}
