package web

import (
	"bytes"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestUploadPreviewPage uploads a small logo from the mark page: the page
// then shows what will be matched, as a picture served through the
// console, with the matcher's warning that it is small; the picture is
// the brand owner's, an admin's and a reviewer's to see, and another
// holder's owner gets 404 for it as for the mark.
func TestUploadPreviewPage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.mark(t, ownHolder, "", "pending")
		bo := e.login(t, "brand_owner")
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("logo", "tiny-logo.png")
		fw.Write(testPNG(t, 90, 60))
		mw.Close()
		req, _ := http.NewRequest("POST", e.srv.URL+"/marks/"+id+"/images?csrf="+url.QueryEscape(bo.csrf), &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if up := bo.do(req); up.status != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", up.status, up.body)
		}
		page := bo.get("/marks/" + id)
		src := regexp.MustCompile(`<img class="pixelated" src="(/img/marks/` + id + `/uploads/[0-9a-f]{64})" alt="What is matched of tiny-logo.png: [^"]+"`).FindStringSubmatch(page.body)
		if src == nil {
			t.Fatalf("mark page lacks the upload's preview: %.4000s", page.body)
		}
		if !strings.Contains(page.body, `<span class="warn">Weak: small: what is matched is `) || !strings.Contains(page.body, "tiny-logo.png (logo), 90×60 pixels") {
			t.Errorf("mark page lacks the size and the weak-image warning")
		}
		for user, want := range map[string]int{"brand_owner": 200, "admin": 200, "reviewer": 200, "other_owner": 404, "marketplace": 403} {
			c := bo
			if user != "brand_owner" {
				c = e.login(t, user)
			}
			r := c.get(src[1])
			if r.status != want {
				t.Errorf("%s gets the preview: %d, want %d", user, r.status, want)
				continue
			}
			if want == 200 {
				if _, err := png.Decode(strings.NewReader(r.body)); err != nil || r.header.Get("Content-Type") != "image/png" {
					t.Errorf("%s: preview is no PNG (%s): %v", user, r.header.Get("Content-Type"), err)
				}
			}
		}
		if r := bo.get("/img/marks/" + id + "/uploads/" + strings.Repeat("0", 64)); r.status != http.StatusNotFound {
			t.Errorf("an upload the mark does not have: %d", r.status)
		}
	})
}
