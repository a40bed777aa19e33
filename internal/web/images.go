package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
)

// The image proxy: reviewers' and brand owners' browsers never fetch a
// seller's URL. The console fetches it through the ImageSource (SSRF-safe,
// byte- and time-capped), serves only the four image formats detection
// decodes, and caches what it fetched. Each image is addressed by the
// complaint or mark it belongs to and its index, never by URL, so that the
// proxy cannot be pointed anywhere else and the tenant check of the object
// covers its images.

// maxProxyBytes caps one image the proxy serves; the fetcher has its own
// cap too.
const maxProxyBytes = 8 << 20

// proxyTimeout caps one fetch.
const proxyTimeout = 10 * time.Second

type cachedImage struct {
	contentType string
	body        []byte
}

func (c *Console) complaintImage(w http.ResponseWriter, r *request) error {
	cp, err := c.loadComplaint(r)
	if err != nil {
		return err
	}
	var refs []string
	if cp.Body.Listing != nil {
		refs = cp.Body.Listing.Images
	}
	return c.serveImage(w, r, refs)
}

func (c *Console) markImage(w http.ResponseWriter, r *request) error {
	m, err := c.loadMark(r)
	if err != nil {
		return err
	}
	return c.serveImage(w, r, markImageRefs(&m.Body))
}

// markImageRefs are the mark's reference images that can be fetched again:
// logos and official photos given by URL (uploads keep only their hashes).
func markImageRefs(m *domain.Mark) []string {
	var out []string
	for _, ref := range append(append([]string{}, m.Logos...), m.OfficialImages...) {
		if !strings.HasPrefix(ref, "upload:") {
			out = append(out, ref)
		}
	}
	return out
}

// uploadPreview serves the picture of what is matched of an uploaded
// reference image (what the matcher made of the upload, kept by the API),
// addressed by the mark and the file's sha256: the mark's tenant check
// covers it, and another holder's answers 404 like a missing one.
func (c *Console) uploadPreview(w http.ResponseWriter, r *request) error {
	m, err := c.loadMark(r)
	if err != nil {
		return err
	}
	pic, err := c.store.MarkPreviewImage(r.Context(), m.Body.MarkID, "upload:"+r.PathValue("sha"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		return err
	}
	return writeImage(w, cachedImage{contentType: "image/png", body: pic})
}

func (c *Console) serveImage(w http.ResponseWriter, r *request, refs []string) error {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(refs) || c.images == nil {
		return notFound()
	}
	ref := refs[n]
	img, ok := c.imgCache.Get(ref)
	if !ok {
		ctx, cancel := context.WithTimeout(r.Context(), proxyTimeout)
		defer cancel()
		body, err := c.images.Fetch(ctx, ref)
		if err != nil {
			c.log.InfoContext(r.Context(), "image proxy: fetch failed", "error", err)
			return &httpError{status: http.StatusBadGateway, msg: "The image could not be fetched."}
		}
		if len(body) > maxProxyBytes {
			return &httpError{status: http.StatusBadGateway, msg: "The image is too large."}
		}
		ct := imageType(body)
		if ct == "" {
			return &httpError{status: http.StatusBadGateway, msg: "Not a JPEG, PNG, GIF or WebP image."}
		}
		img = cachedImage{contentType: ct, body: body}
		c.imgCache.Add(ref, img)
	}
	return writeImage(w, img)
}

// writeImage writes an image the console serves: private, briefly cached,
// sandboxed.
func writeImage(w http.ResponseWriter, img cachedImage) error {
	h := w.Header()
	h.Set("Content-Type", img.contentType)
	h.Set("Content-Length", strconv.Itoa(len(img.body)))
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, err := w.Write(img.body)
	return err
}

// imageType is the content type of a JPEG, PNG, GIF or WebP image, sniffed
// from its bytes (never from the seller's headers), or "".
func imageType(b []byte) string {
	switch ct := http.DetectContentType(b); ct {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return ct
	}
	return ""
}
