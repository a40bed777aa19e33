// Package web is the console: the review queue and complaint pages for
// reviewers, the portal for brand owners and the administration pages,
// server-rendered with html/template from templates embedded in the binary,
// with a little vanilla JavaScript for keyboard shortcuts. No CDN, no build
// step.
//
// Pages are thin. Reads go to the store and the review service, after
// identity.Authorize — the authorization decision the API makes too — with
// the roles of the API route that does the same thing where there is one
// (api.API.Allowed). Changes go through the API itself, in process
// (api.API.Call), so that a decision, a mark registration or a lifted
// suspension made in the console passes exactly the checks of the API. The
// tenant always comes from the session, and another holder's complaint,
// mark or image answers 404 like a missing one.
//
// Sessions are cookies holding 256 random bits; the store keeps only their
// hash (like API tokens), with a CSRF token that every state-changing form
// and fetch must carry, an idle and an absolute expiry. Cross-origin
// requests are refused as well (http.CrossOriginProtection). Logins are
// rate-limited per username and per address and audited.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/api"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ImageSource fetches an image by reference (a URL or a path), bounded and
// SSRF-safe: *imagefetch.Fetcher. It must return when ctx is done.
type ImageSource interface {
	Fetch(ctx context.Context, ref string) ([]byte, error)
}

// Options configures New. Zero values take the defaults.
type Options struct {
	// Store, Review and API are the review service's parts; required.
	Store  *store.Store
	Review *review.Service
	API    *api.API
	// Images fetches listing and reference images for the image proxy;
	// without it the console shows no images.
	Images ImageSource
	// Logger receives server errors; none when nil.
	Logger *slog.Logger
	// IdleTimeout ends a session unused this long; 30 minutes when zero.
	IdleTimeout time.Duration
	// SessionTTL ends any session this long after login; 12 hours when
	// zero.
	SessionTTL time.Duration
	// LoginRate and LoginBurst limit login attempts per username and per
	// address: one every 6 seconds, burst 5, when zero.
	LoginRate  rate.Limit
	LoginBurst int
	// ClaimTTL is a reviewer's lease on an open complaint;
	// review.DefaultClaimTTL when zero.
	ClaimTTL time.Duration
	// ImageCacheEntries caps the proxy's cache; 512 when zero.
	ImageCacheEntries int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Console serves the console's pages. It is safe for concurrent use.
type Console struct {
	store     *store.Store
	review    *review.Service
	api       *api.API
	images    ImageSource
	log       *slog.Logger
	idle      time.Duration
	ttl       time.Duration
	claimTTL  time.Duration
	now       func() time.Time
	pages     map[string]*template.Template
	byUser    *limiters
	byAddr    *limiters
	imgCache  *lru.Cache[string, cachedImage]
	handler   http.Handler
	pageRoles map[string][]identity.Role
	// order remembers each reviewer's queue order (complaint.go).
	order queueOrders
}

// New returns the console over opts.
func New(opts Options) (*Console, error) {
	if opts.Store == nil || opts.Review == nil || opts.API == nil {
		return nil, errors.New("web: new: a store, a review service and the API are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.LoginRate == 0 {
		opts.LoginRate = rate.Every(6 * time.Second)
	}
	if opts.LoginBurst == 0 {
		opts.LoginBurst = 5
	}
	if opts.ClaimTTL == 0 {
		opts.ClaimTTL = review.DefaultClaimTTL
	}
	if opts.ImageCacheEntries == 0 {
		opts.ImageCacheEntries = 512
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IdleTimeout < 0 || opts.SessionTTL < opts.IdleTimeout || opts.ClaimTTL < 0 || opts.ImageCacheEntries < 0 {
		return nil, fmt.Errorf("web: new: idle timeout %v, session TTL %v and claim TTL %v must be positive, the TTL at least the idle timeout",
			opts.IdleTimeout, opts.SessionTTL, opts.ClaimTTL)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("web: new: %w", err)
	}
	cache, err := lru.New[string, cachedImage](opts.ImageCacheEntries)
	if err != nil {
		return nil, fmt.Errorf("web: new: %w", err)
	}
	c := &Console{
		store: opts.Store, review: opts.Review, api: opts.API, images: opts.Images,
		log: opts.Logger.With("component", "web"), idle: opts.IdleTimeout, ttl: opts.SessionTTL,
		claimTTL: opts.ClaimTTL, now: opts.Now, pages: pages,
		byUser: newLimiters(opts.LoginRate, opts.LoginBurst), byAddr: newLimiters(opts.LoginRate, opts.LoginBurst*4),
		imgCache: cache,
	}
	h, err := c.routes()
	if err != nil {
		return nil, fmt.Errorf("web: new: %w", err)
	}
	c.handler = h
	return c, nil
}

// Handler serves the console. Mount it at "/" beside the API's "/v1/".
func (c *Console) Handler() http.Handler { return c.handler }

// page is one entry of the console's page table.
type page struct {
	pattern string
	// public pages need no session (the login page, static files).
	public bool
	// sameAs names the API route ("POST /v1/complaints/{id}/decision")
	// whose roles the page takes; allow is used when it is empty.
	sameAs string
	allow  []identity.Role
	// handler serves the page. One that loads a holder's object checks
	// it with request.authorize (identity.Authorize with the page's roles
	// and the object's holder) before showing anything of it.
	handler func(w http.ResponseWriter, r *request) error
}

// request is an incoming request with its session.
type request struct {
	*http.Request
	sess *store.Session
	user *store.User
	// roles are the page's allowed roles, for the tenant checks the
	// handler makes with identity.Authorize once it has loaded an object.
	roles []identity.Role
}

// routes builds the mux from the page table, every page behind the same
// wrapper: session, CSRF on changes, identity.Authorize by role.
func (c *Console) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	c.pageRoles = map[string][]identity.Role{}
	for _, p := range c.pageTable() {
		roles := p.allow
		if p.sameAs != "" {
			method, pattern, _ := cutSpace(p.sameAs)
			r, ok := c.api.Allowed(method, pattern)
			if !ok {
				return nil, fmt.Errorf("page %s: no API route %s", p.pattern, p.sameAs)
			}
			roles = r
		}
		if !p.public && len(roles) == 0 {
			return nil, fmt.Errorf("page %s: no roles", p.pattern)
		}
		for _, r := range roles {
			if !slices.Contains(identity.Roles(), r) {
				return nil, fmt.Errorf("page %s: unknown role %q", p.pattern, r)
			}
		}
		c.pageRoles[p.pattern] = roles
		mux.Handle(p.pattern, c.wrap(p, roles))
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(mux)), nil
}

// Roles returns the roles allowed on a page of the table (for tests).
func (c *Console) Roles(pattern string) []identity.Role { return c.pageRoles[pattern] }

// securityHeaders sets what every console response carries: no framing, no
// sniffing, and a content security policy that allows only the console's
// own scripts, styles and images.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

func (c *Console) wrap(p page, roles []identity.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &request{Request: r, roles: roles}
		err := c.serve(p, w, req)
		if err != nil {
			c.renderError(w, req, err)
		}
	})
}

func (c *Console) serve(p page, w http.ResponseWriter, r *request) error {
	if p.public {
		if sess, err := c.session(r.Request); err == nil {
			r.sess, r.user = sess, &sess.User
		}
		return p.handler(w, r)
	}
	sess, err := c.session(r.Request)
	if err != nil {
		if errors.Is(err, errNoSession) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r.Request, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return nil
			}
			return errUnauthenticated
		}
		return err
	}
	r.sess, r.user = sess, &sess.User
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := c.checkCSRF(r); err != nil {
			return err
		}
	}
	if err := identity.Authorize(r.user, r.roles, identity.Unowned()); err != nil {
		return err
	}
	return p.handler(w, r)
}

// authorize asks identity.Authorize whether the page's user may act on an
// object of holderID.
func (r *request) authorize(holderID string) error {
	return identity.Authorize(r.user, r.roles, identity.OwnedBy(holderID))
}

// mayCall tells whether the user may make the API call route ("GET
// /v1/sellers/{id}/network") on an object of holderID (empty: none), by
// identity.Authorize with the route's roles. A page shows a section of the
// API's data, or a form that makes an API call, only to whom the API would
// answer: the console is never a second, laxer path. An unknown route
// allows nobody.
func (c *Console) mayCall(r *request, route, holderID string) bool {
	method, pattern, _ := cutSpace(route)
	roles, ok := c.api.Allowed(method, pattern)
	if !ok || r.user == nil {
		return false
	}
	obj := identity.Unowned()
	if holderID != "" {
		obj = identity.OwnedBy(holderID)
	}
	return identity.Authorize(r.user, roles, obj) == nil
}

// isRole tells whether the user has role.
func (r *request) isRole(role identity.Role) bool {
	return r.user != nil && identity.Role(r.user.Role) == role
}
