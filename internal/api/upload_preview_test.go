package api

import (
	"bytes"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestUploadPreview uploads a small logo: the answer reports what the
// matcher makes of it (size, matched box, a warning that it is small),
// and the upload's transaction keeps that report and a PNG of the matched
// box beside the mark, once however often the file is uploaded.
func TestUploadPreview(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.mark(t, ownHolder, domain.MarkPending)
		body, _ := multipartBody(t, upload{"logo", "logo.png", testPNG(t, 1)})
		for range 2 {
			w := e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleBrandOwner)
			if w.Code != http.StatusOK {
				t.Fatalf("upload: %d %s", w.Code, w.Body)
			}
			resp := decodeResponse[markImagesResponse](t, w.Body.Bytes())
			if len(resp.Uploaded) != 1 {
				t.Fatalf("uploaded %+v", resp.Uploaded)
			}
			u := resp.Uploaded[0]
			if u.URL != resp.Mark.Mark.ImageHashes[0].URL || u.Kind != "logo" || u.FileName != "logo.png" ||
				u.Report.Width != 96 || u.Report.Height != 64 || u.Report.Content.ImageW != 96 || u.Report.Hashes != len(resp.Mark.Mark.ImageHashes[0].Hashes) ||
				len(u.Report.Warnings) == 0 || !strings.HasPrefix(u.Report.Warnings[0], "small") {
				t.Errorf("upload report %+v", u)
			}
		}
		previews, err := e.store.MarkPreviews(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(previews) != 1 || previews[0].FileName != "logo.png" || !strings.HasPrefix(previews[0].Report.Warnings[0], "small") {
			t.Fatalf("stored previews %+v", previews)
		}
		pic, err := e.store.MarkPreviewImage(t.Context(), id, previews[0].URL)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(pic))
		if err != nil {
			t.Fatalf("stored preview is no PNG: %v", err)
		}
		c := previews[0].Report.Content
		if b := img.Bounds(); b.Dx() != c.W || b.Dy() != c.H {
			t.Errorf("preview %v, want the matched box %d×%d", b, c.W, c.H)
		}
	})
}
