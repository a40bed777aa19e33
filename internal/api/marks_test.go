package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// The mark routes' examples join the authorization matrix's table here, so
// that the matrix covers them (it fails for a route without an example).
func init() {
	for name, ex := range map[string]example{
		"POST /v1/marks": func(*testing.T, *env, string) (string, string) {
			// holder_id is the brand owner's own, so both an admin and
			// the brand owner may send it.
			return "/v1/marks", `{"holder_id":"` + ownHolder + `","name":"Acme","registration":{"office":"EUIPO","number":"018000001","jurisdictions":["EU"],"classes":[25]}}`
		},
		"GET /v1/marks": func(*testing.T, *env, string) (string, string) { return "/v1/marks?limit=5", "" },
		"GET /v1/marks/{id}": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/marks/" + e.mark(t, holder, domain.MarkPending), ""
		},
		"POST /v1/marks/{id}/images": func(t *testing.T, e *env, holder string) (string, string) {
			body, _ := multipartBody(t, upload{"logo", "logo.png", testPNG(t, 1)})
			return "/v1/marks/" + e.mark(t, holder, domain.MarkPending) + "/images", body
		},
		"POST /v1/marks/{id}/verify": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/marks/" + e.mark(t, holder, domain.MarkPending) + "/verify", ""
		},
		"POST /v1/marks/{id}/suspend": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/marks/" + e.mark(t, holder, domain.MarkActive) + "/suspend", ""
		},
		"POST /v1/marks/{id}/remove": func(t *testing.T, e *env, holder string) (string, string) {
			return "/v1/marks/" + e.mark(t, holder, domain.MarkActive) + "/remove", ""
		},
	} {
		examples[name] = ex
	}
}

// mark stores a mark of holder in status and returns its id.
func (e *env) mark(t testing.TB, holder, status string) string {
	t.Helper()
	id := fmt.Sprintf("m_test_%d", e.seq.Add(1))
	m := &domain.Mark{
		SchemaVersion: domain.SchemaVersion, MarkID: id, HolderID: holder, Name: "Acme " + id,
		Registration: domain.Registration{Office: "EUIPO", Number: "1"}, Status: status,
	}
	err := e.store.WithTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.CreateMark(context.Background(), m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// testPNG is a small PNG with enough structure to hash; seed varies it.
func testPNG(t testing.TB, seed int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			v := uint8((x*seed*7 + y*3) % 256)
			if (x/12+y/12+seed)%2 == 0 {
				v = 255 - v
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngBomb is a small PNG that decodes to width×height pixels.
func pngBomb(t testing.TB, width, height int) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, image.NewGray(image.Rect(0, 0, width, height))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type upload struct {
	field, name string
	data        []byte
}

// multipartBody encodes files as a multipart/form-data body whose first
// line names its boundary, as env.do expects.
func multipartBody(t testing.TB, files ...upload) (body, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range files {
		w, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), mw.FormDataContentType()
}

func decodeResponse[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// markEvents returns the unpublished events of the marks topic.
func markEvents(t *testing.T, e *env) []store.OutboxEvent {
	t.Helper()
	events, err := e.store.PendingEvents(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.OutboxEvent
	for _, ev := range events {
		if ev.Topic == DefaultMarksTopic {
			out = append(out, ev)
		}
	}
	return out
}

// TestMarkLifecycle registers a mark as its brand owner, uploads its logo,
// verifies it (the mark, with its image hashes, goes to the marks topic),
// suspends it (a tombstone follows) and removes it (another), each with its
// audit entry.
func TestMarkLifecycle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		w := e.do("POST", "/v1/marks", `{"name":"Acme","variants":["ACME"],"distinct_from":["Acne"],
			"registration":{"office":"EUIPO","number":"018000001","jurisdictions":["EU","UK"],"classes":[18,25]},
			"categories":["bags"],"reference_prices":[{"category":"bags","amount":"250.00","currency":"EUR"}],
			"authorized_sellers":["s_official"],"threshold":0.7}`, identity.RoleBrandOwner)
		if w.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		created := decodeResponse[markResponse](t, w.Body.Bytes())
		if created.Status != domain.MarkPending || created.Mark.HolderID != ownHolder || created.Version != 1 ||
			created.Mark.Registration.Classes[1] != 25 || *created.Mark.Threshold != 0.7 {
			t.Fatalf("created %+v", created)
		}
		id := created.MarkID
		if got := markEvents(t, e); len(got) != 0 {
			t.Fatalf("a pending mark was published: %+v", got)
		}

		logo := testPNG(t, 1)
		body, _ := multipartBody(t, upload{"logo", "logo.png", logo})
		w = e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleBrandOwner)
		if w.Code != http.StatusOK {
			t.Fatalf("upload: %d %s", w.Code, w.Body)
		}
		sum := sha256.Sum256(logo)
		wantURL := "upload:" + hex.EncodeToString(sum[:])
		up := decodeResponse[markImagesResponse](t, w.Body.Bytes())
		if up.Added != 1 || len(up.Mark.Mark.ImageHashes) != 1 || up.Mark.Mark.ImageHashes[0].URL != wantURL ||
			up.Mark.Mark.ImageHashes[0].Kind != "logo" || len(up.Mark.Mark.ImageHashes[0].Hashes) == 0 {
			t.Fatalf("upload answered %+v", up)
		}

		w = e.do("POST", "/v1/marks/"+id+"/verify", "", identity.RoleAdmin)
		if w.Code != http.StatusOK {
			t.Fatalf("verify: %d %s", w.Code, w.Body)
		}
		events := markEvents(t, e)
		if len(events) != 1 || events[0].Key != id || events[0].Payload == nil {
			t.Fatalf("after verify, events %+v", events)
		}
		published, err := domain.DecodeMark(events[0].Payload, domain.Limits{})
		if err != nil {
			t.Fatalf("published mark does not decode strictly: %v", err)
		}
		if published.Status != domain.MarkActive || published.MarkID != id || len(published.ImageHashes) != 1 ||
			published.ImageHashes[0].URL != wantURL || published.Registration.Number != "018000001" {
			t.Errorf("published %+v", published)
		}

		// Verifying twice is a conflict and publishes nothing more.
		if w = e.do("POST", "/v1/marks/"+id+"/verify", "", identity.RoleAdmin); w.Code != http.StatusConflict {
			t.Errorf("second verify: %d %s", w.Code, w.Body)
		}

		w = e.do("POST", "/v1/marks/"+id+"/suspend", "", identity.RoleAdmin)
		if w.Code != http.StatusOK {
			t.Fatalf("suspend: %d %s", w.Code, w.Body)
		}
		events = markEvents(t, e)
		if len(events) != 2 || events[1].Key != id || events[1].Payload != nil {
			t.Fatalf("after suspend, events %+v; want a tombstone", events)
		}
		if got := decodeResponse[markResponse](t, w.Body.Bytes()); got.Status != domain.MarkSuspended {
			t.Errorf("suspended mark answered %+v", got)
		}

		// Removal is final: another tombstone, and no way back.
		if w = e.do("POST", "/v1/marks/"+id+"/remove", "", identity.RoleAdmin); w.Code != http.StatusOK {
			t.Fatalf("remove: %d %s", w.Code, w.Body)
		}
		events = markEvents(t, e)
		if len(events) != 3 || events[2].Key != id || events[2].Payload != nil {
			t.Fatalf("after remove, events %+v; want a second tombstone", events)
		}
		for _, action := range []string{"verify", "suspend", "remove"} {
			if w = e.do("POST", "/v1/marks/"+id+"/"+action, "", identity.RoleAdmin); w.Code != http.StatusConflict {
				t.Errorf("%s a removed mark: %d %s", action, w.Code, w.Body)
			}
		}

		entries, err := e.store.AuditLog(t.Context(), store.AuditQuery{ObjectType: "mark", ObjectID: id})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, en := range entries {
			actions = append(actions, en.Action)
		}
		if got := strings.Join(actions, ","); got != "mark.create,mark.images,mark.verify,mark.suspend,mark.remove" {
			t.Errorf("audit actions %s", got)
		}
	})
}

// TestMarkImagesOfActiveMark checks that new images of an active mark are
// published at once, and that re-uploading a file changes nothing.
func TestMarkImagesOfActiveMark(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	id := e.mark(t, ownHolder, domain.MarkActive)
	body, _ := multipartBody(t, upload{"official", "photo.png", testPNG(t, 2)}, upload{"logo", "logo.png", testPNG(t, 3)})
	for i, wantAdded := range []int{2, 0} {
		w := e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleAdmin)
		if w.Code != http.StatusOK {
			t.Fatalf("upload %d: %d %s", i, w.Code, w.Body)
		}
		if got := decodeResponse[markImagesResponse](t, w.Body.Bytes()); got.Added != wantAdded {
			t.Errorf("upload %d added %d, want %d", i, got.Added, wantAdded)
		}
	}
	events := markEvents(t, e)
	if len(events) != 1 {
		t.Fatalf("events %+v, want one", events)
	}
	m, err := domain.DecodeMark(events[0].Payload, domain.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ImageHashes) != 2 || m.ImageHashes[0].Kind != "official" {
		t.Errorf("published image hashes %+v", m.ImageHashes)
	}
}

// TestMarkImageRefusals checks that bad uploads are refused, naming the
// file, and change nothing.
func TestMarkImageRefusals(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{Marks: MarkOptions{
		MaxImageBytes: 64 << 10, MaxUploadBytes: 256 << 10, MaxImagePixels: 1_000_000,
	}})
	id := e.mark(t, ownHolder, domain.MarkPending)
	bomb := pngBomb(t, 3000, 3000)
	if len(bomb) > 64<<10 {
		t.Fatalf("the bomb is %d bytes, not small", len(bomb))
	}
	huge := make([]byte, 100<<10)
	copy(huge, testPNG(t, 4))
	multi := func(files ...upload) string { b, _ := multipartBody(t, files...); return b }
	tests := []struct {
		name   string
		body   string
		status int
		msgHas string
	}{
		{"png bomb", multi(upload{"logo", "bomb.png", bomb}), 400, `"bomb.png" (logo): image too large`},
		{"not an image", multi(upload{"official", "notes.txt", []byte("hello, these are not pixels")}), 400, `"notes.txt" (official): not a decodable`},
		{"svg", multi(upload{"logo", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)}), 400, `"logo.svg" (logo): not a decodable`},
		{"blank image", multi(upload{"logo", "blank.png", pngBomb(t, 50, 50)}), 400, `"blank.png" (logo): image is blank`},
		{"file over the cap", multi(upload{"logo", "huge.png", huge}), 413, `"huge.png"`},
		{"unknown field", multi(upload{"banner", "b.png", testPNG(t, 5)}), 400, "banner"},
		{"no files", "--b0undary--\r\n", 400, "no files"},
		{"request over the cap", multi(upload{"logo", "a.png", huge[:60<<10]}, upload{"logo", "b.png", huge[:60<<10]},
			upload{"logo", "c.png", huge[:60<<10]}, upload{"logo", "d.png", huge[:60<<10]}, upload{"logo", "e.png", huge[:60<<10]}), 413, ""},
		{"not multipart", `{"logo":"x"}`, 400, "multipart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("POST", "/v1/marks/"+id+"/images", tc.body, identity.RoleBrandOwner)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			env := checkEnvelope(t, w.Body.Bytes())
			if !strings.Contains(env.Error.Message, tc.msgHas) {
				t.Errorf("message %q does not name %s", env.Error.Message, tc.msgHas)
			}
		})
	}
	m, err := e.store.GetMark(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || len(m.Body.ImageHashes) != 0 {
		t.Errorf("refused uploads changed the mark: %+v", m)
	}
}

// TestMarkRequests checks the registration's refusals and the tenant rules
// of reading and listing.
func TestMarkRequests(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	const reg = `"registration":{"office":"EUIPO","number":"1"}`
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		role   identity.Role
		status int
		msgHas string
	}{
		{"no registration", "POST", "/v1/marks", `{"name":"Acme"}`, identity.RoleBrandOwner, 400, "registration"},
		{"class out of range", "POST", "/v1/marks", `{"name":"Acme","registration":{"office":"EUIPO","number":"1","classes":[46]}}`, identity.RoleBrandOwner, 400, "classes"},
		{"no name", "POST", "/v1/marks", `{` + reg + `}`, identity.RoleBrandOwner, 400, "name"},
		{"bad threshold", "POST", "/v1/marks", `{"name":"A",` + reg + `,"threshold":1.5}`, identity.RoleBrandOwner, 400, "threshold"},
		{"bad price", "POST", "/v1/marks", `{"name":"A",` + reg + `,"reference_prices":[{"amount":"x","currency":"EUR"}]}`, identity.RoleBrandOwner, 400, "amount"},
		{"status is the registry's", "POST", "/v1/marks", `{"name":"A",` + reg + `,"status":"active"}`, identity.RoleBrandOwner, 400, "status"},
		{"image hashes are the registry's", "POST", "/v1/marks", `{"name":"A",` + reg + `,"image_hashes":[]}`, identity.RoleBrandOwner, 400, "image_hashes"},
		{"brand owner names another holder", "POST", "/v1/marks", `{"holder_id":"h_other","name":"A",` + reg + `}`, identity.RoleBrandOwner, 400, "holder_id"},
		{"admin names no holder", "POST", "/v1/marks", `{"name":"A",` + reg + `}`, identity.RoleAdmin, 400, "holder_id"},
		{"admin names a missing holder", "POST", "/v1/marks", `{"holder_id":"h_missing","name":"A",` + reg + `}`, identity.RoleAdmin, 400, "h_missing"},
		{"admin for another holder", "POST", "/v1/marks", `{"holder_id":"h_other","name":"A",` + reg + `}`, identity.RoleAdmin, 201, ""},
		{"unknown mark", "GET", "/v1/marks/m_missing", "", identity.RoleAdmin, 404, "mark"},
		{"brand owner lists another holder", "GET", "/v1/marks?holder_id=h_other", "", identity.RoleBrandOwner, 404, "holder"},
		{"unknown list parameter", "GET", "/v1/marks?status=active", "", identity.RoleAdmin, 400, "status"},
		{"bad limit", "GET", "/v1/marks?limit=0", "", identity.RoleAdmin, 400, "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(tc.method, tc.path, tc.body, tc.role)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status >= 400 {
				if env := checkEnvelope(t, w.Body.Bytes()); !strings.Contains(env.Error.Message, tc.msgHas) {
					t.Errorf("message %q does not name %s", env.Error.Message, tc.msgHas)
				}
			}
		})
	}
}

// TestListMarks pages through the marks as an admin and checks that a brand
// owner sees only its own holder's.
func TestListMarks(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{})
	// newEnv registered m_own and m_other, which sort first.
	own := []string{markOf[ownHolder], e.mark(t, ownHolder, domain.MarkPending), e.mark(t, ownHolder, domain.MarkActive)}
	other := e.mark(t, otherHolder, domain.MarkActive)
	list := func(path string, role identity.Role) markListResponse {
		t.Helper()
		w := e.do("GET", path, "", role)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return decodeResponse[markListResponse](t, w.Body.Bytes())
	}
	ids := func(r markListResponse) string {
		var s []string
		for _, m := range r.Marks {
			s = append(s, m.MarkID)
		}
		return strings.Join(s, ",")
	}
	if got, want := ids(list("/v1/marks", identity.RoleBrandOwner)), strings.Join(own, ","); got != want {
		t.Errorf("brand owner sees %s, want %s", got, want)
	}
	first := list("/v1/marks?limit=3", identity.RoleAdmin)
	if first.NextAfter == "" || len(first.Marks) != 3 {
		t.Fatalf("first page %+v", first)
	}
	second := list("/v1/marks?limit=3&after="+first.NextAfter, identity.RoleAdmin)
	if got := ids(first) + "," + ids(second); got != strings.Join(append([]string{markOf[otherHolder]}, append(own, other)...), ",") {
		t.Errorf("pages %s", got)
	}
	if second.NextAfter != "" {
		t.Errorf("last page has a cursor %q", second.NextAfter)
	}
}

func FuzzMarkRequest(f *testing.F) {
	for _, s := range []string{
		`{"name":"Acme","registration":{"office":"EUIPO","number":"1","jurisdictions":["EU"],"classes":[25]}}`,
		`{"holder_id":"h_own","name":"Acme","variants":["ACME"],"distinct_from":["Acne"],"registration":{"office":"USPTO","number":"9"},"categories":["bags"],"reference_prices":[{"amount":"10.00","currency":"USD"}],"authorized_sellers":["s1"],"threshold":0.5,"logos":["https://x.test/l.png"]}`,
		`{"name":"Acme","registration":{"classes":[0]}}`, `{"name":"Acme","threshold":-1}`, `{"Name":"x"}`,
		`{"name":"a","name":"b"}`, `{"registration":{"Office":"x"}}`, `[]`, `null`, ``, `{`, `{"name":"` + "\xff" + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, owner := range []bool{true, false} {
			m, err := decodeMarkRequest(body, owner, ownHolder, "m_fuzz")
			if err != nil {
				if _, ok := err.(*apiError); !ok && !errors.Is(err, domain.ErrInvalid) {
					t.Fatalf("error %T %v is neither an API error nor an invalid mark", err, err)
				}
				continue
			}
			if m.Status != domain.MarkPending || m.MarkID != "m_fuzz" || (owner && m.HolderID != ownHolder) {
				t.Fatalf("decoded %+v", m)
			}
			// What the registry accepts, detectors must read back.
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := domain.DecodeMark(data, domain.Limits{}); err != nil {
				t.Fatalf("accepted mark does not decode: %v\n%s", err, data)
			}
		}
	})
}

// TestConcurrentVerify checks that of concurrent verifications of one mark
// exactly one succeeds and publishes; the others are 409.
func TestConcurrentVerify(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng.NewDSN(t), Options{})
		id := e.mark(t, ownHolder, domain.MarkPending)
		const n = 8
		codes := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { codes <- e.do("POST", "/v1/marks/"+id+"/verify", "", identity.RoleAdmin).Code })
		}
		wg.Wait()
		close(codes)
		count := map[int]int{}
		for c := range codes {
			count[c]++
		}
		if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
			t.Errorf("statuses %v, want one 200 and %d 409", count, n-1)
		}
		if events := markEvents(t, e); len(events) != 1 {
			t.Errorf("%d events, want 1", len(events))
		}
	})
}

// BenchmarkMarkImageUpload measures one upload of a 96×64 PNG logo through
// the handler: multipart parsing, hashing and the transaction.
func BenchmarkMarkImageUpload(b *testing.B) {
	e := newEnv(b, "sqlite:"+b.TempDir()+"/bench.db", Options{})
	id := e.mark(b, ownHolder, domain.MarkActive)
	i := 0
	for b.Loop() {
		i++
		body, _ := multipartBody(b, upload{"logo", "logo.png", testPNG(b, i%150+1)})
		if w := e.do("POST", "/v1/marks/"+id+"/images", body, identity.RoleAdmin); w.Code != http.StatusOK {
			b.Fatalf("upload: %d %s", w.Code, w.Body)
		}
	}
}
