package api

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/matchers/imagematch"
	"github.com/markwatch/markwatch/matchers/imagematch/imagetest"
)

// TestHostilePNGUpload: the 310 KB PNG that decodes to 320 MB is refused
// from its header with a 400 that says why, under the default caps.
func TestHostilePNGUpload(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	id := e.mark(t, ownHolder, domain.MarkPending)
	body, _ := multipartBody(t, upload{"logo", "hostile.png", imagetest.HostilePNG(7000, 5700)})
	w := e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleBrandOwner)
	if w.Code != 400 {
		t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
	}
	msg := checkEnvelope(t, w.Body.Bytes()).Error.Message
	for _, want := range []string{`"hostile.png" (logo)`, "16-bit RGBA", "over the cap of 64.0 MiB"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
}

// busyHasher waits for its turn until the context ends, as a Hasher whose
// every decode slot is taken.
type busyHasher struct{}

func (busyHasher) HashReference(ctx context.Context, _ []byte) ([]uint64, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("imagematch: hash reference image: %w: %w", imagematch.ErrBusy, ctx.Err())
}

// TestUploadBusy: an upload that waits DecodeWait for its turn to be
// decoded is answered 503 with Retry-After, not held indefinitely.
func TestUploadBusy(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{Marks: MarkOptions{Hasher: busyHasher{}, DecodeWait: 20 * time.Millisecond}})
	id := e.mark(t, ownHolder, domain.MarkPending)
	body, _ := multipartBody(t, upload{"logo", "a.png", testPNG(t, 3)})
	start := time.Now()
	w := e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleBrandOwner)
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q, want 503 with Retry-After: %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if env := checkEnvelope(t, w.Body.Bytes()); env.Error.Code != "busy" {
		t.Errorf("code %q, want busy", env.Error.Code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %s", d)
	}
}

// TestTransparentLogoUpload: a white logo on transparency, blank on white,
// is accepted and hashed; a fully transparent one is still refused.
func TestTransparentLogoUpload(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	id := e.mark(t, ownHolder, domain.MarkPending)
	logo := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for y := range 200 {
		for x := range 300 {
			dx, dy := float64(x-100), float64(y-100)
			if dx*dx+dy*dy < 60*60 || (x > 180 && x < 260 && y > 60 && y < 140 && (x-180)%20 < 10) {
				logo.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, logo); err != nil {
		t.Fatal(err)
	}
	body, _ := multipartBody(t, upload{"logo", "white.png", b.Bytes()})
	if w := e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleBrandOwner); w.Code != 200 {
		t.Fatalf("white-on-transparent logo: status %d: %s", w.Code, w.Body)
	}
	b.Reset()
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 300, 200))); err != nil {
		t.Fatal(err)
	}
	body, _ = multipartBody(t, upload{"logo", "empty.png", b.Bytes()})
	w := e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleBrandOwner)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "blank") {
		t.Fatalf("fully transparent image: status %d: %s", w.Code, w.Body)
	}
}
