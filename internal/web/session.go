package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
)

// CookieName is the session cookie's name.
const CookieName = "mw_session"

var (
	errNoSession       = errors.New("no session")
	errUnauthenticated = errors.New("log in first")
	errCSRF            = errors.New("the form is out of date or came from another site: reload the page and try again")
	errRateLimited     = errors.New("too many login attempts: wait a minute and try again")
)

// newSecret returns 256 random bits, base64url.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// session returns the request's live session, touching it, or errNoSession.
func (c *Console) session(r *http.Request) (*store.Session, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil || len(ck.Value) != 43 {
		return nil, errNoSession
	}
	sess, err := c.store.SessionByHash(r.Context(), hashSecret(ck.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, err
	}
	now := c.now()
	if now.After(sess.ExpiresAt) || now.Sub(sess.SeenAt) > c.idle || !sess.User.DisabledAt.IsZero() {
		return nil, errNoSession
	}
	// One write a minute at most keeps the idle clock right without a
	// write per page view.
	if now.Sub(sess.SeenAt) > time.Minute {
		if err := c.store.WithTx(r.Context(), func(tx *store.Tx) error { return tx.TouchSession(r.Context(), sess.IDHash) }); err != nil {
			return nil, err
		}
	}
	return &sess, nil
}

// checkCSRF compares the request's token (form field csrf, header
// X-CSRF-Token, or for multipart uploads the csrf query parameter) with
// the session's, in constant time.
func (c *Console) checkCSRF(r *request) error {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			got = r.URL.Query().Get("csrf")
		} else {
			got = r.PostFormValue("csrf")
		}
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(r.sess.CSRF)) != 1 {
		return errCSRF
	}
	return nil
}

// limiters hands out one token bucket per key (a username or an address),
// forgetting the idle ones so that the map stays small.
type limiters struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newLimiters(r rate.Limit, burst int) *limiters {
	return &limiters{rate: r, burst: burst, m: map[string]*rate.Limiter{}}
}

func (l *limiters) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) > 10_000 {
		// Buckets that are full again carry no state worth keeping.
		for k, lim := range l.m {
			if lim.Tokens() >= float64(l.burst) {
				delete(l.m, k)
			}
		}
	}
	lim, ok := l.m[key]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[key] = lim
	}
	return lim.Allow()
}

// clientAddr is the request's remote address without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type loginPage struct {
	Username string
	Next     string
	Error    string
}

func (c *Console) loginForm(w http.ResponseWriter, r *request) error {
	if r.user != nil {
		http.Redirect(w, r.Request, landing(r.user), http.StatusSeeOther)
		return nil
	}
	return c.render(w, r, http.StatusOK, "login", "Log in", loginPage{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) login(w http.ResponseWriter, r *request) error {
	username := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	password := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	addr := clientAddr(r.Request)
	fail := func(status int, msg string) error {
		return c.render(w, r, status, "login", "Log in", loginPage{Username: username, Next: next, Error: msg})
	}
	if len(username) > 64 || len(password) > identity.MaxPasswordLen {
		return fail(http.StatusUnauthorized, "Wrong username or password.")
	}
	// Both buckets are charged on every attempt, so neither one address
	// trying many users nor many addresses trying one user get far.
	userOK, addrOK := c.byUser.allow(username), c.byAddr.allow(addr)
	if !userOK || !addrOK {
		w.Header().Set("Retry-After", "60")
		c.auditLogin(r, "user.login_refused", "", username, addr, "rate limited")
		return fail(http.StatusTooManyRequests, errRateLimited.Error())
	}
	u, err := identity.CheckPassword(r.Context(), c.store, username, password)
	if errors.Is(err, identity.ErrUnauthenticated) {
		c.auditLogin(r, "user.login_failed", "", username, addr, "wrong username or password")
		return fail(http.StatusUnauthorized, "Wrong username or password.")
	}
	if err != nil {
		return err
	}
	secret, err := newSecret()
	if err != nil {
		return err
	}
	csrf, err := newSecret()
	if err != nil {
		return err
	}
	err = c.store.WithTx(r.Context(), func(tx *store.Tx) error {
		if _, err := tx.CreateSession(r.Context(), store.Session{
			IDHash: hashSecret(secret), User: *u, CSRF: csrf, ExpiresAt: c.now().Add(c.ttl),
		}); err != nil {
			return err
		}
		return appendAudit(r, tx, u.ID, "user.login", "user", u.ID, map[string]any{"address": addr})
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: secret, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil, MaxAge: int(c.ttl.Seconds()),
	})
	if next == "" {
		next = landing(u)
	}
	http.Redirect(w, r.Request, next, http.StatusSeeOther)
	return nil
}

// auditLogin records a refused login. A failure to write it is logged,
// not shown: the person at the form learns nothing from it.
func (c *Console) auditLogin(r *request, action, userID, username, addr, reason string) {
	if username == "" {
		username = "(empty)"
	}
	err := c.store.WithTx(r.Context(), func(tx *store.Tx) error {
		return appendAudit(r, tx, "anonymous", action, "login", username, map[string]any{"address": addr, "reason": reason})
	})
	if err != nil {
		c.log.ErrorContext(r.Context(), "audit login", "error", err)
	}
}

func appendAudit(r *request, tx *store.Tx, actor, action, objectType, objectID string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = tx.AppendAudit(r.Context(), store.AuditEntry{Actor: actor, Action: action, ObjectType: objectType, ObjectID: objectID, Detail: b})
	return err
}

func (c *Console) logout(w http.ResponseWriter, r *request) error {
	err := c.store.WithTx(r.Context(), func(tx *store.Tx) error {
		if err := tx.DeleteSession(r.Context(), r.sess.IDHash, c.now().Add(-c.idle)); err != nil {
			return err
		}
		return appendAudit(r, tx, r.user.ID, "user.logout", "user", r.user.ID, map[string]any{})
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: -1})
	http.Redirect(w, r.Request, "/login", http.StatusSeeOther)
	return nil
}

// landing is where a user goes after logging in.
func landing(u *store.User) string {
	switch identity.Role(u.Role) {
	case identity.RoleBrandOwner:
		return "/marks"
	case identity.RoleAdmin:
		return "/queue"
	case identity.RoleReviewer:
		return "/queue"
	}
	return "/account"
}

// safeNext keeps a post-login redirect on this site: a path, never a
// scheme-relative or absolute URL.
func safeNext(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\r\n") {
		return ""
	}
	return s
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func cutSpace(s string) (string, string, bool) { return strings.Cut(s, " ") }
