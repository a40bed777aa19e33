package api

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/matchers"
)

// fakeFeaturer returns one keypoint for images it is given, or fails.
type fakeFeaturer struct{ fail bool }

func (f fakeFeaturer) LogoFeatures(context.Context, []byte) (*matchers.Features, error) {
	if f.fail {
		return nil, errors.New("too few keypoints")
	}
	return &matchers.Features{W: 10, H: 10, Points: []matchers.Keypoint{{X: 1, Y: 2, Scale: 1}}, Desc: []matchers.Descriptor{{42}}}, nil
}

// TestUploadLogoFeatures: an uploaded logo carries its encoded features,
// an official photo none, and a logo whose features fail is still
// accepted with its hashes.
func TestUploadLogoFeatures(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 120, 80))
	for y := range 80 {
		for x := range 120 {
			v := uint8(255)
			if (x/10+y/10)%2 == 0 {
				v = 0
			}
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for _, tc := range []struct {
		name      string
		field     string
		fail      bool
		wantFeats bool
	}{
		{"logo", "logo", false, true},
		{"official photo", "official", false, false},
		{"logo without features", "logo", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, storetest.SQLiteDSN(t), Options{Marks: MarkOptions{Logos: fakeFeaturer{fail: tc.fail}}})
			id := e.mark(t, ownHolder, domain.MarkPending)
			body, _ := multipartBody(t, upload{tc.field, "x.png", data})
			if w := e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleBrandOwner); w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			m, err := e.store.GetMark(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Body.ImageHashes) != 1 {
				t.Fatalf("image hashes %+v", m.Body.ImageHashes)
			}
			got := m.Body.ImageHashes[0].Features
			if (got != "") != tc.wantFeats {
				t.Fatalf("features %q, want some: %v", got, tc.wantFeats)
			}
			if got != "" {
				f, err := matchers.DecodeFeatures(got)
				if err != nil || len(f.Desc) != 1 || f.Desc[0][0] != 42 {
					t.Fatalf("features decode to %+v, %v", f, err)
				}
			}
		})
	}
}
