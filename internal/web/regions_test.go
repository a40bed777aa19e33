package web

import (
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestMatchFigures(t *testing.T) {
	refs := []string{"https://img.example/logo.png", "https://img.example/photo.jpg"}
	uploads := []string{"upload:" + strings.Repeat("ab", 32)}
	tests := []struct {
		name     string
		e        domain.Evidence
		images   int
		skip     bool
		box      bool
		src      string
		label    []string
		noHeight bool
	}{
		{name: "text evidence is no figure", e: domain.Evidence{Matcher: "text", Kind: "exact", Field: "title"}, images: 1, skip: true},
		{name: "logo found in a photo", images: 2,
			e: domain.Evidence{Matcher: "logo", Kind: "logo", Field: "images[1]", Reference: refs[0],
				Region: &domain.Region{X: 300, Y: 20, W: 80, H: 40, ImageW: 400, ImageH: 300}},
			box: true, src: "/img/marks/m_1/0",
			label: []string{"Listing photo 2", "80×40 pixels at x 300, y 20 of the 400×300 photo", "top right", "2% of its area", "logo reference " + refs[0]}},
		{name: "whole-image match of an upload", images: 1,
			e:   domain.Evidence{Matcher: "image", Kind: "official_photo", Field: "images[0]", Reference: uploads[0]},
			src: "/img/marks/m_1/uploads/" + strings.Repeat("ab", 32), label: []string{"Listing photo 1: the photo as a whole matched", "uploaded image abababababab"}},
		{name: "region outside the image is not drawn", images: 1,
			e:     domain.Evidence{Matcher: "logo", Kind: "logo", Field: "images[0]", Region: &domain.Region{X: 350, Y: 0, W: 100, H: 10, ImageW: 400, ImageH: 300}},
			label: []string{"outside the photo, not drawn"}},
		{name: "numbers that would overflow are not drawn", images: 1,
			e:     domain.Evidence{Matcher: "x", Kind: "logo", Field: "images[0]", Region: &domain.Region{X: 1<<62 + 1, Y: 0, W: 1 << 62, H: 10, ImageW: 1 << 32, ImageH: 1 << 32}},
			label: []string{"outside the photo, not drawn"}},
		{name: "an image the proxy does not serve", images: 1,
			e:   domain.Evidence{Matcher: "logo", Kind: "logo", Field: "images[3]", Reference: "logo-7", Region: &domain.Region{X: 0, Y: 0, W: 10, H: 10, ImageW: 100, ImageH: 100}},
			box: true, label: []string{"A listing photo (not shown)", "reference logo-7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := matchFigures([]domain.Evidence{tc.e}, tc.images, "m_1", refs, uploads)
			if tc.skip {
				if len(got) != 0 {
					t.Fatalf("figures %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d figures", len(got))
			}
			f := got[0]
			if (f.Box != nil) != tc.box || f.RefSrc != tc.src {
				t.Errorf("box %v src %q; want box %v src %q", f.Box, f.RefSrc, tc.box, tc.src)
			}
			if f.Box != nil && (f.ViewW != f.Box.ImageW || f.Height != figureWidth*f.Box.ImageH/f.Box.ImageW) {
				t.Errorf("view %d×%d height %d for %+v", f.ViewW, f.ViewH, f.Height, f.Box)
			}
			for _, want := range tc.label {
				if !strings.Contains(f.Label, want) {
					t.Errorf("label %q lacks %q", f.Label, want)
				}
			}
		})
	}
}

// TestComplaintDrawsRegions renders a complaint whose evidence has a region
// and a reference: the page draws the box over the listing photo in the
// photo's own coordinates, describes it in words, and shows the reference
// image through the proxy.
func TestComplaintDrawsRegions(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	id := e.complaint(t, ownHolder)
	page := e.login(t, "reviewer").get("/complaints/" + id)
	for _, want := range []string{
		`<svg class="region" viewBox="0 0 200 200" width="240" height="240" role="img" aria-labelledby="match-0"`,
		`<image href="/img/complaints/` + id + `/0"`,
		`<rect class="box" x="120" y="20" width="60" height="40">`,
		`id="match-0">Listing photo 1: the matched region is outlined, 60×40 pixels at x 120, y 20 of the 200×200 photo (top right, 6% of its area)`,
		`<img class="photo" src="/img/marks/m_h_own/0" alt="The reference image it matches: https://img.example/logo-m_h_own.png"`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("complaint page lacks %s", want)
		}
	}
}
