package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/api"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
)

const (
	ownHolder   = "h_own"
	otherHolder = "h_other"
	// testPassword is every test user's password.
	testPassword = "correct horse battery"
)

// env is a console over a fresh database, served by an httptest server on
// the same mux as the API, with one user per role (the brand owner of
// ownHolder, plus "other_owner" of otherHolder).
type env struct {
	store   *store.Store
	review  *review.Service
	api     *api.API
	console *Console
	srv     *httptest.Server
	seq     atomic.Int64
	offset  atomic.Int64 // added to the console's clock, in nanoseconds
	users   map[string]store.User
	images  *fakeImages
}

// fakeImages serves a small PNG for any reference and counts fetches.
type fakeImages struct {
	fetches atomic.Int64
	png     []byte
}

func (f *fakeImages) Fetch(ctx context.Context, ref string) ([]byte, error) {
	f.fetches.Add(1)
	if strings.Contains(ref, "broken") {
		return []byte("<html>not an image</html>"), nil
	}
	return f.png, nil
}

func testPNG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 5), uint8((x + y) * 3), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newEnv(t testing.TB, dsn string, opts Options) *env {
	t.Helper()
	e := newEnvNoCleanup(t, dsn, opts)
	t.Cleanup(func() {
		e.srv.Close()
		e.store.Close()
	})
	return e
}

// testCountBudget is the API's budget for per-filter counts in tests: room
// on a loaded machine, since the tests read the counts. The benchmarks use
// the default (zero).
var testCountBudget = time.Minute

// newEnvNoCleanup is newEnv for an env that lives as long as the process
// (the benchmarks' seeded database).
func newEnvNoCleanup(t testing.TB, dsn string, optsList ...Options) *env {
	t.Helper()
	var opts Options
	if len(optsList) > 0 {
		opts = optsList[0]
	}
	ctx := context.Background()
	e := &env{users: map[string]store.User{}, images: &fakeImages{png: testPNG(t, 200, 200)}}
	now := func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }
	st, err := store.OpenOptions(ctx, store.Options{DSN: dsn, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := review.New(review.Options{Store: st, Clock: clockFunc(now)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Store: st, Review: rv, RateLimit: rate.Inf, CountBudget: testCountBudget})
	if err != nil {
		t.Fatal(err)
	}
	e.store, e.review, e.api = st, rv, a
	opts.Store, opts.Review, opts.API = st, rv, a
	if opts.Images == nil {
		opts.Images = e.images
	}
	if opts.LoginRate == 0 {
		opts.LoginRate = rate.Inf
	}
	opts.Now = now
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.console = c
	mux := http.NewServeMux()
	mux.Handle("/v1/", a.Handler())
	mux.Handle("/", c.Handler())
	e.srv = httptest.NewServer(mux)
	hash, err := identity.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	err = st.WithTx(ctx, func(tx *store.Tx) error {
		for _, h := range []string{ownHolder, otherHolder} {
			if _, err := tx.CreateHolder(ctx, store.Holder{ID: h, Name: "Holder " + h}); err != nil {
				return err
			}
		}
		mk := func(username, role, holder string) error {
			_, th, err := identity.NewToken()
			if err != nil {
				return err
			}
			u, err := tx.CreateUser(ctx, store.User{Name: "Test " + username, Role: role, HolderID: holder, Username: username}, th)
			if err != nil {
				return err
			}
			e.users[username] = u
			return tx.SetPassword(ctx, u.ID, "", hash)
		}
		for _, role := range identity.Roles() {
			holder := ""
			if role == identity.RoleBrandOwner {
				holder = ownHolder
			}
			if err := mk(string(role), string(role), holder); err != nil {
				return err
			}
		}
		if err := mk("reviewer2", store.RoleReviewer, ""); err != nil {
			return err
		}
		return mk("other_owner", store.RoleBrandOwner, otherHolder)
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// complaint stores an open complaint of holder with a listing snapshot,
// evidence and a photo, and returns its id.
func (e *env) complaint(t testing.TB, holder string) string {
	t.Helper()
	return e.complaintScored(t, holder, 0.9)
}

// complaintScored is complaint with the given score.
func (e *env) complaintScored(t testing.TB, holder string, score float64) string {
	t.Helper()
	return e.complaintBy(t, holder, score, "")
}

// complaintBy is complaintScored about the listing of seller (a new
// seller for each complaint when "").
func (e *env) complaintBy(t testing.TB, holder string, score float64, seller string) string {
	t.Helper()
	n := e.seq.Add(1)
	id := fmt.Sprintf("c_%s_%d", holder, n)
	if seller == "" {
		seller = fmt.Sprintf("s_%d", n)
	}
	c := &domain.Complaint{
		SchemaVersion: domain.SchemaVersion, ComplaintID: id, Source: domain.SourceAuto,
		ListingID: fmt.Sprintf("l_%d", n), ListingVersion: 1, MarkID: "m_" + holder, HolderID: holder,
		SellerID: seller, Score: score, Explanation: "the mark with a replica cue",
		Evidence: []domain.Evidence{
			{Matcher: "text", Score: 0.6, Field: "title", Match: "Qui11ora", Kind: "leet", Detail: "Quillora"},
			{Matcher: "cue", Score: 0.3, Field: "title", Match: "replica", Kind: "cue", Detail: "en"},
			// A logo found inside the seller's photo: the region and the
			// reference that matched, as logo detection reports them.
			{Matcher: "image", Score: 0.4, Field: "images[0]", Match: "https://img.example/" + id + ".jpg", Kind: "logo",
				Detail: "logo in the photo (distance 6/64)", Reference: "https://img.example/logo-m_" + holder + ".png",
				Region: &domain.Region{X: 120, Y: 20, W: 60, H: 40, ImageW: 200, ImageH: 200}},
		},
		Listing: &domain.ListingSnapshot{
			Title: fmt.Sprintf("Qui11ora replica bag %d", n), Description: "AAA replica, mirror quality",
			Price: &domain.Money{Amount: "25.00", Currency: "EUR"}, Images: []string{"https://img.example/" + id + ".jpg"},
		},
	}
	// Ingest refuses a complaint through a mark that is not registered
	// and active: register the holder's mark on first use.
	if _, err := e.store.GetMark(context.Background(), c.MarkID); err != nil {
		e.mark(t, holder, "", domain.MarkActive)
	}
	if _, err := e.review.Ingest(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return id
}

// mark stores a mark of holder (id "m_"+holder+suffix) in status.
func (e *env) mark(t testing.TB, holder, suffix, status string) string {
	t.Helper()
	id := "m_" + holder + suffix
	err := e.store.WithTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.CreateMark(context.Background(), &domain.Mark{
			SchemaVersion: domain.SchemaVersion, MarkID: id, HolderID: holder, Name: "Quillora " + holder, Status: status,
			Registration: domain.Registration{Office: "EUIPO", Number: "0181" + suffix}, Logos: []string{"https://img.example/logo-" + id + ".png"},
			ReferencePrices: []domain.ReferencePrice{{Amount: "900.00", Currency: "EUR"}},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// client is a browser-like HTTP client with a cookie jar that does not
// follow redirects, so that tests see them.
type client struct {
	t    testing.TB
	e    *env
	http *http.Client
	csrf string
}

func (e *env) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login logs in as username and remembers the session's CSRF token.
func (e *env) login(t testing.TB, username string) *client {
	t.Helper()
	c := e.client(t)
	resp := c.post("/login", url.Values{"username": {username}, "password": {testPassword}})
	if resp.status != http.StatusSeeOther {
		t.Fatalf("login as %s: %d %s", username, resp.status, resp.body)
	}
	page := c.get("/account")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no CSRF token on the account page: %s", page.body)
	}
	c.csrf = m[1]
	return c
}

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(r *http.Request) response {
	c.t.Helper()
	resp, err := c.http.Do(r)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location"), header: resp.Header}
}

func (c *client) get(path string) response {
	c.t.Helper()
	r, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	return c.do(r)
}

// post sends a form, with the session's CSRF token unless form has one.
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") && c.csrf != "" {
		form.Set("csrf", c.csrf)
	}
	r, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(r)
}

func reviewDecision() review.Decision {
	return review.Decision{Verdict: review.VerdictUphold, ReasonCode: "counterfeit", Actor: "u_test"}
}

func markWithLogo(id, logo string) *domain.Mark {
	return &domain.Mark{SchemaVersion: domain.SchemaVersion, MarkID: id, HolderID: ownHolder, Name: "Broken", Status: "active",
		Registration: domain.Registration{Office: "EUIPO", Number: "1"}, Logos: []string{logo}}
}

// clockFunc is a review.Clock.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// previewSHA names the upload preview env.preview stores.
const previewSHA = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"

// preview stores the preview of an upload of the mark (once) and returns
// the upload's sha256, as the API keeps it for an uploaded file.
func (e *env) preview(t testing.TB, markID string) string {
	t.Helper()
	err := e.store.WithTx(context.Background(), func(tx *store.Tx) error {
		return tx.PutMarkPreview(context.Background(), store.MarkPreview{
			MarkID: markID, URL: "upload:" + previewSHA, Kind: "logo", FileName: "logo.png",
			Report: store.UploadReport{Width: 40, Height: 40, Content: domain.Region{W: 40, H: 40, ImageW: 40, ImageH: 40}, Hashes: 20},
		}, testPNG(t, 40, 40))
	})
	if err != nil {
		t.Fatal(err)
	}
	return previewSHA
}
