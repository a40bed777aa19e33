// Package imagefetch loads listing and reference images from the places
// listings point at: http(s) URLs on allowed hosts, and files under a base
// directory. Image URLs come from untrusted listings, so every fetch is
// bounded (bytes, time, redirects) and cannot be turned against the
// network it runs in (SSRF): the address a connection goes to is checked
// when it is dialled, after DNS resolution, so that neither a hostname
// resolving to an internal address nor a redirect to one gets through.
//
// Caching is left to callers: what is worth keeping (the bytes, or the
// hashes computed from them) depends on the caller.
package imagefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults for unset Options fields.
const (
	DefaultMaxBytes     = 10 << 20
	DefaultTimeout      = 10 * time.Second
	DefaultMaxRedirects = 3
	DefaultUserAgent    = "markwatch-imagefetch/1"
)

// Options configure a Fetcher.
type Options struct {
	// AllowHosts lists the hosts http(s) images may come from: "host"
	// allows the scheme's default port, "host:port" that port, and
	// "*.example.com" any subdomain of example.com on the default port.
	// Empty means no http(s) at all.
	AllowHosts []string
	// AllowPrivate lets connections go to loopback, private, link-local and
	// other internal addresses. For tests against local servers only.
	AllowPrivate bool
	// MaxBytes caps an image's size; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Timeout caps a whole fetch, redirects and body included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxRedirects caps the redirects followed; 0 means
	// DefaultMaxRedirects, negative means none.
	MaxRedirects int
	// BaseDir is where relative paths and file:// URLs are resolved; a file
	// outside it is never read.
	BaseDir string
	// AllowFiles enables relative paths and file:// URLs.
	AllowFiles bool
	// UserAgent is sent with http(s) requests; empty means
	// DefaultUserAgent.
	UserAgent string
}

// Sentinel errors; returned errors wrap them and name the image and the
// reason.
var (
	// ErrNotAllowed means the reference is of a kind or on a host the
	// Fetcher may not fetch from, or a path outside BaseDir.
	ErrNotAllowed = errors.New("not allowed")
	// ErrForbiddenAddress means a host resolved to an internal address
	// (loopback, private, link-local, metadata service, ...).
	ErrForbiddenAddress = errors.New("forbidden address")
	// ErrTooLarge means the image exceeds MaxBytes.
	ErrTooLarge = errors.New("image too large")
)

// StatusError is an http(s) response other than 200 OK.
type StatusError struct {
	URL  string
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("imagefetch: fetch %s: HTTP %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// Transient reports whether err may go away on retry: a timeout, a
// connection failure, or an HTTP status of 408, 429 or 5xx. Refusals
// (ErrNotAllowed, ErrForbiddenAddress, ErrTooLarge) and other statuses are
// permanent.
func Transient(err error) bool {
	var se *StatusError
	switch {
	case err == nil, errors.Is(err, ErrNotAllowed), errors.Is(err, ErrForbiddenAddress), errors.Is(err, ErrTooLarge):
		return false
	case errors.As(err, &se):
		return se.Code == http.StatusRequestTimeout || se.Code == http.StatusTooManyRequests || se.Code >= 500
	case errors.Is(err, context.Canceled):
		return false
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Fetcher fetches images. It is safe for concurrent use.
type Fetcher struct {
	opts   Options
	hosts  []hostRule
	client *http.Client
}

// New validates opts and returns a Fetcher.
func New(opts Options) (*Fetcher, error) {
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("imagefetch: max bytes %d is negative", opts.MaxBytes)
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("imagefetch: timeout %v is negative", opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.AllowFiles {
		if opts.BaseDir == "" {
			return nil, errors.New("imagefetch: AllowFiles needs a BaseDir")
		}
		abs, err := filepath.Abs(opts.BaseDir)
		if err != nil {
			return nil, fmt.Errorf("imagefetch: base dir %q: %w", opts.BaseDir, err)
		}
		opts.BaseDir = abs
	}
	f := &Fetcher{opts: opts}
	for i, h := range opts.AllowHosts {
		r, err := parseHostRule(h)
		if err != nil {
			return nil, fmt.Errorf("imagefetch: allow_hosts[%d]: %w", i, err)
		}
		f.hosts = append(f.hosts, r)
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: f.checkDial}
	f.client = &http.Client{
		Transport: &http.Transport{
			// Never through a proxy: the address check must see the real
			// destination, and an environment proxy would hide it.
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   opts.Timeout,
			ResponseHeaderTimeout: opts.Timeout,
			// Images are compressed already; transparent gzip would only
			// open the door to a decompression bomb.
			DisableCompression: true,
			MaxIdleConns:       64,
			IdleConnTimeout:    90 * time.Second,
		},
		CheckRedirect: f.checkRedirect,
	}
	return f, nil
}

// CloseIdleConnections closes the idle connections of the Fetcher's
// transport, e.g. on shutdown.
func (f *Fetcher) CloseIdleConnections() { f.client.CloseIdleConnections() }

// Fetch returns the bytes of the image ref points at: a relative path
// (resolved against BaseDir), a file:// URL, or an http(s) URL.
func (f *Fetcher) Fetch(ctx context.Context, ref string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("imagefetch: fetch %q: not a URL or path: %w", ref, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return f.fetchHTTP(ctx, u)
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("imagefetch: fetch %s: %w: file URL on host %q", ref, ErrNotAllowed, u.Host)
		}
		p := u.Path
		if u.Opaque != "" { // file:relative/path
			p = u.Opaque
		}
		return f.readFile(ctx, ref, p)
	case "":
		// A plain path. It is taken as written, not percent-decoded: paths
		// in fixtures are file names, not URL paths.
		return f.readFile(ctx, ref, ref)
	default:
		return nil, fmt.Errorf("imagefetch: fetch %s: %w: scheme %q (want http, https, file or a path)", ref, ErrNotAllowed, u.Scheme)
	}
}

// readFile reads path, relative to BaseDir or absolute inside it, through
// an os.Root so that neither ".." nor a symbolic link leads outside.
func (f *Fetcher) readFile(ctx context.Context, ref, path string) ([]byte, error) {
	if !f.opts.AllowFiles {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w: file access is disabled", ref, ErrNotAllowed)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path = filepath.FromSlash(path)
	if filepath.IsAbs(path) {
		rel, err := filepath.Rel(f.opts.BaseDir, path)
		if err != nil || !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("imagefetch: fetch %s: %w: outside the base directory %s", ref, ErrNotAllowed, f.opts.BaseDir)
		}
		path = rel
	}
	if !filepath.IsLocal(path) {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w: outside the base directory %s", ref, ErrNotAllowed, f.opts.BaseDir)
	}
	root, err := os.OpenRoot(f.opts.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("imagefetch: fetch %s: open base directory: %w", ref, err)
	}
	defer root.Close()
	// A symbolic link out of BaseDir fails here, as if it did not exist.
	file, err := root.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w", ref, err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w", ref, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w: not a regular file (%v)", ref, ErrNotAllowed, st.Mode().Type())
	}
	if st.Size() > f.opts.MaxBytes {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w: %d bytes, over the cap of %d", ref, ErrTooLarge, st.Size(), f.opts.MaxBytes)
	}
	return f.readCapped(ref, file, st.Size())
}

// maxPrealloc caps the buffer readCapped allocates up front from a
// declared size: a server may declare megabytes and send nothing.
const maxPrealloc = 1 << 20

// readCapped reads r to the end, failing once it yields more than MaxBytes.
// size is what the source declares (file size, Content-Length; -1 if
// unknown): the buffer starts at that size, up to maxPrealloc, instead of
// growing from 512 bytes by copies (about three times a listing photo's
// size in allocations).
func (f *Fetcher) readCapped(ref string, r io.Reader, size int64) ([]byte, error) {
	data, err := readAll(io.LimitReader(r, f.opts.MaxBytes+1), min(size, f.opts.MaxBytes, maxPrealloc))
	if err != nil {
		return nil, fmt.Errorf("imagefetch: fetch %s: read: %w", ref, err)
	}
	if int64(len(data)) > f.opts.MaxBytes {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w: more than the cap of %d bytes", ref, ErrTooLarge, f.opts.MaxBytes)
	}
	return data, nil
}

func (f *Fetcher) fetchHTTP(ctx context.Context, u *url.URL) ([]byte, error) {
	ref := u.Redacted()
	if err := f.allowURL(u); err != nil {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w", ref, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w", ref, err)
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "image/jpeg, image/png, image/gif, image/webp")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w", ref, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: ref, Code: resp.StatusCode}
	}
	if resp.ContentLength > f.opts.MaxBytes {
		return nil, fmt.Errorf("imagefetch: fetch %s: %w: Content-Length %d, over the cap of %d bytes", ref, ErrTooLarge, resp.ContentLength, f.opts.MaxBytes)
	}
	data, err := f.readCapped(ref, resp.Body, resp.ContentLength)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("imagefetch: fetch %s: read body: %w", ref, ctx.Err())
	}
	return data, err
}

// readAll is io.ReadAll with the buffer's first capacity given: size+1
// bytes, so that a source of the size it declared is read without growing
// the buffer (the last read finds the end); 512 when size < 0.
func readAll(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, max(size+1, 512))
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append grow it
		}
	}
}

// unwrapURLError drops the *url.Error layer, whose message repeats the
// URL that our own message already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// checkRedirect re-checks every redirect against the allowlist and caps
// their number; the dial-time address check applies to them as well.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.opts.MaxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrNotAllowed, max(f.opts.MaxRedirects, 0))
	}
	if prev := via[len(via)-1].URL; prev.Scheme == "https" && req.URL.Scheme == "http" {
		return fmt.Errorf("%w: redirect from https to http %s", ErrNotAllowed, req.URL.Redacted())
	}
	if err := f.allowURL(req.URL); err != nil {
		return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
	}
	return nil
}

// allowURL checks scheme, credentials and host:port against the allowlist.
func (f *Fetcher) allowURL(u *url.URL) error {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("%w: scheme %q", ErrNotAllowed, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL", ErrNotAllowed)
	}
	if len(f.hosts) == 0 {
		return fmt.Errorf("%w: no hosts are allowed for http(s) images", ErrNotAllowed)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	for _, r := range f.hosts {
		if r.matches(host, port, scheme) {
			return nil
		}
	}
	return fmt.Errorf("%w: host %s is not in the allowlist", ErrNotAllowed, net.JoinHostPort(host, port))
}

// hostRule is one AllowHosts entry.
type hostRule struct {
	host     string // lower case; without "*." for a wildcard
	wildcard bool   // any subdomain of host
	port     string // "" for the scheme's default port
}

func parseHostRule(s string) (hostRule, error) {
	var r hostRule
	if s == "" || strings.ContainsAny(s, "/?#@ ") {
		return r, fmt.Errorf("%q is not a host or host:port", s)
	}
	host := s
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return r, fmt.Errorf("%q: bad port %q", s, p)
		}
		host, r.port = h, p
	} else if strings.Count(s, ":") == 1 {
		return r, fmt.Errorf("%q is not a host or host:port", s)
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		host, r.wildcard = rest, true
	}
	if host == "" || strings.Contains(host, "*") {
		return r, fmt.Errorf("%q: bad host", s)
	}
	r.host = host
	return r, nil
}

func (r hostRule) matches(host, port, scheme string) bool {
	switch {
	case r.port == "" && port != map[string]string{"http": "80", "https": "443"}[scheme]:
		return false
	case r.port != "" && port != r.port:
		return false
	case r.wildcard:
		return strings.HasSuffix(host, "."+r.host)
	default:
		return host == r.host
	}
}

// checkDial runs for every connection, with the address DNS resolved the
// host to: the last word on where a request goes.
func (f *Fetcher) checkDial(network, address string, _ syscall.RawConn) error {
	if f.opts.AllowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrForbiddenAddress, address, err)
	}
	if why := forbidden(host); why != "" {
		return fmt.Errorf("%w: %s is %s", ErrForbiddenAddress, host, why)
	}
	return nil
}
