package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
)

// What matched in the photos: every evidence item about a listing image
// (an image match, a logo found inside a seller's photo) is drawn as the
// listing photo with the matched region outlined, beside the reference
// image that matched. The photo and its box are one SVG whose coordinates
// are the image's own pixels (viewBox = image_w × image_h), so the box
// scales with the photo at any size and needs no inline style (the
// console's CSP allows none). A caption says in words what the box shows.

// matchFigure is one evidence item about a listing image, ready to draw.
type matchFigure struct {
	E domain.Evidence
	// Image is the listing image's index, when the evidence names one
	// the proxy serves (Field "images[N]"); HasImage says whether it does.
	Image    int
	HasImage bool
	// ViewW and ViewH are the SVG's coordinate space: the region's image
	// size, or a square when there is no region.
	ViewW, ViewH int
	// Height is the drawn height for a width of figureWidth.
	Height int
	// Box is the region to outline, nil when the whole image matched or
	// the region does not lie in the image.
	Box *domain.Region
	// RefSrc is the reference image through the console's proxy, "" when
	// it cannot be shown; RefName names it.
	RefSrc, RefName string
	// Label describes the figure for people who cannot see it.
	Label string
}

// figureWidth is the width the listing photo is drawn at.
const figureWidth = 240

// imageEvidenceKinds are the kinds of evidence about a listing image that
// carry no region (the image matcher's whole-image matches).
var imageEvidenceKinds = []string{"official_photo", "logo"}

// matchFigures returns the figures of the complaint's image evidence.
// listingImages is how many listing images the proxy serves; refs are the
// mark's reference images by URL (markImageRefs) and uploads the URLs of
// its uploaded references ("upload:<sha256>"), whose previews the console
// serves; markID addresses them.
func matchFigures(ev []domain.Evidence, listingImages int, markID string, refs, uploads []string) []matchFigure {
	var out []matchFigure
	for _, e := range ev {
		if e.Region == nil && e.Reference == "" && !slices.Contains(imageEvidenceKinds, e.Kind) {
			continue
		}
		f := matchFigure{E: e, ViewW: figureWidth, ViewH: figureWidth, Height: figureWidth}
		if n, ok := imageIndex(e.Field); ok && n < listingImages {
			f.Image, f.HasImage = n, true
		}
		if r := e.Region; r != nil && validRegion(r) {
			f.Box = r
			f.ViewW, f.ViewH = r.ImageW, r.ImageH
			// At most four times as high as wide: a sliver of an image
			// must not push the page down.
			f.Height = max(1, min(4*figureWidth, figureWidth*r.ImageH/r.ImageW))
		}
		f.RefName = e.Reference
		if i := slices.Index(refs, e.Reference); i >= 0 && e.Reference != "" {
			f.RefSrc = "/img/marks/" + url.PathEscape(markID) + "/" + strconv.Itoa(i)
		} else if sha, ok := strings.CutPrefix(e.Reference, "upload:"); ok && slices.Contains(uploads, e.Reference) {
			f.RefSrc = "/img/marks/" + url.PathEscape(markID) + "/uploads/" + url.PathEscape(sha)
			f.RefName = "uploaded image " + sha[:min(len(sha), 12)]
		}
		f.Label = f.describe()
		out = append(out, f)
	}
	return out
}

// imageIndex reads N from an evidence field "images[N]".
func imageIndex(field string) (int, bool) {
	s, ok := strings.CutPrefix(field, "images[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	n, err := strconv.Atoi(s)
	return n, ok && err == nil && n >= 0
}

// maxRegionSide bounds every number of a region the page draws: evidence
// may come from a manual complaint, and no decodable image is wider
// (imagematch caps pixels at 40 million). It keeps the arithmetic below
// far from overflowing.
const maxRegionSide = 1 << 26

// validRegion tells whether r is a non-empty box inside its image: a
// region that is not cannot be drawn truthfully.
func validRegion(r *domain.Region) bool {
	for _, v := range []int{r.X, r.Y, r.W, r.H, r.ImageW, r.ImageH} {
		if v < 0 || v > maxRegionSide {
			return false
		}
	}
	return r.ImageW > 0 && r.ImageH > 0 && r.W > 0 && r.H > 0 && r.X+r.W <= r.ImageW && r.Y+r.H <= r.ImageH
}

// describe says in words what the figure shows: which photo, where the
// box is and how large, and what it matched.
func (f *matchFigure) describe() string {
	var b strings.Builder
	if f.HasImage {
		fmt.Fprintf(&b, "Listing photo %d", f.Image+1)
	} else {
		b.WriteString("A listing photo (not shown)")
	}
	switch r := f.E.Region; {
	case f.Box != nil:
		fmt.Fprintf(&b, ": the matched region is outlined, %d×%d pixels at x %d, y %d of the %d×%d photo (%s, %d%% of its area)",
			r.W, r.H, r.X, r.Y, r.ImageW, r.ImageH, placeOf(r), int64(100)*int64(r.W)*int64(r.H)/(int64(r.ImageW)*int64(r.ImageH)))
	case r != nil:
		b.WriteString(": the evidence names a region outside the photo, not drawn")
	default:
		b.WriteString(": the photo as a whole matched")
	}
	what := f.E.Kind
	if what == "" {
		what = f.E.Matcher
	}
	if f.RefName != "" {
		fmt.Fprintf(&b, "; it matches the %s reference %s", what, f.RefName)
	}
	if f.E.Detail != "" {
		b.WriteString(" — " + f.E.Detail)
	}
	return b.String()
}

// placeOf names where the region's centre lies in its image, in thirds.
func placeOf(r *domain.Region) string {
	col := []string{"left", "centre", "right"}[min(2, 3*(2*r.X+r.W)/(2*r.ImageW))]
	row := []string{"top", "middle", "bottom"}[min(2, 3*(2*r.Y+r.H)/(2*r.ImageH))]
	if row == "middle" && col == "centre" {
		return "centre"
	}
	return row + " " + col
}
