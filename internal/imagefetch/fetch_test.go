package imagefetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// server starts a test server and returns it with its host:port.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, srv.Listener.Addr().String()
}

// fetcher returns a Fetcher whose idle connections are closed when the
// test ends, so that the leak check sees no transport goroutines.
func fetcher(t *testing.T, opts Options) *Fetcher {
	t.Helper()
	f, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(f.CloseIdleConnections)
	return f
}

var png1x1 = []byte("\x89PNG\r\n\x1a\n fake image bytes")

func TestFetchHTTP(t *testing.T) {
	var gotUA string
	_, addr := server(t, func(w http.ResponseWriter, r *http.Request) {
		gotUA = r.Header.Get("User-Agent")
		w.Write(png1x1)
	})
	f := fetcher(t, Options{AllowHosts: []string{addr}, AllowPrivate: true, UserAgent: "test-agent"})
	data, err := f.Fetch(context.Background(), "http://"+addr+"/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, png1x1) || gotUA != "test-agent" {
		t.Fatalf("got %q with user agent %q", data, gotUA)
	}
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	var hits int
	_, addr := server(t, func(w http.ResponseWriter, r *http.Request) { hits++; w.Write(png1x1) })
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name, url string
		allow     string
	}{
		{"ip_literal", "http://" + addr + "/a.png", addr},
		{"localhost_name", "http://localhost:" + port + "/a.png", "localhost:" + port},
		{"ipv4_mapped_ipv6", "http://[::ffff:127.0.0.1]:" + port + "/a.png", "[::ffff:127.0.0.1]:" + port},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fetcher(t, Options{AllowHosts: []string{tc.allow}})
			_, err := f.Fetch(context.Background(), tc.url)
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("err = %v, want ErrForbiddenAddress", err)
			}
			if !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), tc.url) {
				t.Errorf("error %q does not name the URL and the reason", err)
			}
			if Transient(err) {
				t.Error("a forbidden address is reported as transient")
			}
		})
	}
	if hits != 0 {
		t.Fatalf("the server was reached %d times", hits)
	}
}

func TestAllowlist(t *testing.T) {
	_, addr := server(t, func(w http.ResponseWriter, r *http.Request) { w.Write(png1x1) })
	host, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		name  string
		allow []string
		url   string
		ok    bool
		want  string
	}{
		{"host_and_port", []string{addr}, "http://" + addr + "/x", true, ""},
		{"no_hosts", nil, "http://" + addr + "/x", false, "no hosts are allowed"},
		{"other_port", []string{host + ":1"}, "http://" + addr + "/x", false, "not in the allowlist"},
		{"host_without_port_means_default_port", []string{host}, "http://" + addr + "/x", false, "not in the allowlist"},
		{"other_host", []string{"cdn.example.com"}, "http://" + addr + "/x", false, "host " + addr + " is not in the allowlist"},
		{"scheme", []string{addr}, "ftp://" + addr + "/x", false, `scheme "ftp"`},
		{"credentials", []string{addr}, "http://user:pw@" + addr + "/x", false, "credentials"},
		{"wildcard_needs_subdomain", []string{"*." + host + ":" + port}, "http://" + addr + "/x", false, "not in the allowlist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fetcher(t, Options{AllowHosts: tc.allow, AllowPrivate: true})
			_, err := f.Fetch(context.Background(), tc.url)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Fetch: %v", err)
			case !tc.ok && !errors.Is(err, ErrNotAllowed):
				t.Fatalf("err = %v, want ErrNotAllowed", err)
			case !tc.ok && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestHostRules(t *testing.T) {
	tests := []struct {
		rule, host, port, scheme string
		want                     bool
	}{
		{"cdn.example.com", "cdn.example.com", "443", "https", true},
		{"cdn.example.com", "cdn.example.com", "80", "http", true},
		{"cdn.example.com", "cdn.example.com", "8443", "https", false},
		{"cdn.example.com", "img.cdn.example.com", "443", "https", false},
		{"CDN.Example.com:8443", "cdn.example.com", "8443", "https", true},
		{"*.example.com", "img.example.com", "443", "https", true},
		{"*.example.com", "a.b.example.com", "80", "http", true},
		{"*.example.com", "example.com", "443", "https", false},
		{"*.example.com", "badexample.com", "443", "https", false},
		{"[2001:db8::1]:8080", "2001:db8::1", "8080", "http", true},
	}
	for _, tc := range tests {
		t.Run(tc.rule+"/"+tc.host+":"+tc.port, func(t *testing.T) {
			r, err := parseHostRule(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.matches(tc.host, tc.port, tc.scheme); got != tc.want {
				t.Errorf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	_, other := server(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("from the other host")) })
	var mux http.ServeMux
	srv, addr := server(t, mux.ServeHTTP)
	mux.HandleFunc("/image.png", func(w http.ResponseWriter, r *http.Request) { w.Write(png1x1) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/image.png", http.StatusFound) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+other+"/secret", http.StatusFound)
	})
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/loop/", func(w http.ResponseWriter, r *http.Request) {
		n := len(r.URL.Path)
		http.Redirect(w, r, fmt.Sprintf("/loop/%d", n), http.StatusFound)
	})
	tests := []struct {
		name    string
		path    string
		allow   []string
		wantErr error
		want    string
	}{
		{"followed", "/moved", []string{addr}, nil, ""},
		{"to_disallowed_host", "/away", []string{addr}, ErrNotAllowed, "redirect to http://" + other + "/secret"},
		{"to_metadata_service", "/metadata", []string{addr, "169.254.169.254"}, ErrForbiddenAddress, "metadata"},
		{"too_many", "/loop/", []string{addr}, ErrNotAllowed, "more than 3 redirects"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{AllowHosts: tc.allow, AllowPrivate: tc.wantErr != ErrForbiddenAddress}
			f := fetcher(t, opts)
			if tc.wantErr == ErrForbiddenAddress {
				// The first hop is to the local test server; only the
				// redirect's destination must be refused.
				f.opts.AllowPrivate = false
				f.client.Transport = allowLoopback(t, f, srv)
			}
			data, err := f.Fetch(context.Background(), srv.URL+tc.path)
			if tc.wantErr == nil {
				if err != nil || !bytes.Equal(data, png1x1) {
					t.Fatalf("Fetch = %q, %v", data, err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.wantErr, tc.want)
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		f := fetcher(t, Options{AllowHosts: []string{addr}, AllowPrivate: true, MaxRedirects: -1})
		if _, err := f.Fetch(context.Background(), srv.URL+"/moved"); !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "more than 0 redirects") {
			t.Fatalf("err = %v", err)
		}
	})
}

// allowLoopback returns f's transport with a dial check that lets the test
// server's own address through and applies the real check to anything else.
func allowLoopback(t *testing.T, f *Fetcher, srv *httptest.Server) http.RoundTripper {
	t.Helper()
	tr := f.client.Transport.(*http.Transport).Clone()
	allowed := srv.Listener.Addr().String()
	dialer := &net.Dialer{Timeout: time.Second}
	tr.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		if address != allowed {
			if err := f.checkDial(network, address, nil); err != nil {
				return nil, err
			}
		}
		return dialer.DialContext(ctx, network, address)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func TestTooLarge(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 5000)
	_, addr := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			// No Content-Length: only the read cap can stop it.
			w.Write(big[:1000])
			w.(http.Flusher).Flush()
			for range 4 {
				w.Write(big[:1000])
			}
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(big)))
		w.Write(big)
	})
	f := fetcher(t, Options{AllowHosts: []string{addr}, AllowPrivate: true, MaxBytes: 4096})
	for _, path := range []string{"/sized", "/chunked"} {
		t.Run(path, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), "http://"+addr+path)
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "cap of 4096") {
				t.Fatalf("err = %v, want ErrTooLarge naming the cap", err)
			}
		})
	}
	exact := fetcher(t, Options{AllowHosts: []string{addr}, AllowPrivate: true, MaxBytes: 5000})
	if data, err := exact.Fetch(context.Background(), "http://"+addr+"/chunked"); err != nil || len(data) != 5000 {
		t.Fatalf("at exactly the cap: %d bytes, %v", len(data), err)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	_, addr := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.Write(png1x1[:4])
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	f := fetcher(t, Options{AllowHosts: []string{addr}, AllowPrivate: true, Timeout: 150 * time.Millisecond})
	for _, path := range []string{"/slow-headers", "/slow-body"} {
		t.Run(path, func(t *testing.T) {
			start := time.Now()
			_, err := f.Fetch(context.Background(), "http://"+addr+path)
			if err == nil || !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
				t.Fatalf("err = %v, want a timeout", err)
			}
			if !Transient(err) {
				t.Errorf("a timeout is not reported as transient: %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v with a 150ms timeout", d)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	_, addr := server(t, func(w http.ResponseWriter, r *http.Request) {
		code := map[string]int{"/gone": 404, "/busy": 503, "/slowdown": 429}[r.URL.Path]
		http.Error(w, "no", code)
	})
	f := fetcher(t, Options{AllowHosts: []string{addr}, AllowPrivate: true})
	tests := []struct {
		path      string
		code      int
		transient bool
	}{{"/gone", 404, false}, {"/busy", 503, true}, {"/slowdown", 429, true}}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), "http://"+addr+tc.path)
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.code || Transient(err) != tc.transient {
				t.Fatalf("err = %v, want status %d (transient %v)", err, tc.code, tc.transient)
			}
		})
	}
}

func TestCanceled(t *testing.T) {
	f := fetcher(t, Options{AllowHosts: []string{"cdn.example.com"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Fetch(ctx, "https://cdn.example.com/a.jpg"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// fileTree makes base/images/logo.png, a secret next to base, and a
// symbolic link inside base that points at the secret.
func fileTree(t testing.TB) (base, secret string) {
	t.Helper()
	dir := t.TempDir()
	base = filepath.Join(dir, "base")
	secret = filepath.Join(dir, "secret.txt")
	for _, d := range []string{filepath.Join(base, "images"), filepath.Join(base, "emptydir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "images", "logo.png"), png1x1, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "big.png"), make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("TOP SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(base, "images", "link.png")); err != nil {
		t.Fatal(err)
	}
	return base, secret
}

// errAny stands for any error in test tables: how os.Root refuses a
// symbolic link out of the root depends on the platform.
var errAny = errors.New("any error")

func TestFiles(t *testing.T) {
	base, secret := fileTree(t)
	f := fetcher(t, Options{AllowFiles: true, BaseDir: base, MaxBytes: 50})
	abs := filepath.Join(base, "images", "logo.png")
	tests := []struct {
		name    string
		ref     string
		wantErr error
		want    string
	}{
		{"relative", "images/logo.png", nil, ""},
		{"dot_segments_inside", "images/../images/./logo.png", nil, ""},
		{"file_url", "file://" + abs, nil, ""},
		{"file_url_localhost", "file://localhost" + abs, nil, ""},
		{"file_url_relative", "file:images/logo.png", nil, ""},
		{"escape_with_dotdot", "../secret.txt", ErrNotAllowed, "outside the base directory"},
		{"escape_deep", "images/../../secret.txt", ErrNotAllowed, "outside the base directory"},
		{"absolute_outside", secret, ErrNotAllowed, "outside the base directory"},
		{"file_url_outside", "file://" + secret, ErrNotAllowed, "outside the base directory"},
		{"file_url_etc_passwd", "file:///etc/passwd", ErrNotAllowed, "outside the base directory"},
		{"symlink_out", "images/link.png", errAny, "link.png"},
		{"file_url_other_host", "file://fileserver/share/x.png", ErrNotAllowed, `on host "fileserver"`},
		{"directory", "emptydir", ErrNotAllowed, "not a regular file"},
		{"over_cap", "big.png", ErrTooLarge, "100 bytes, over the cap of 50"},
		{"missing", "images/none.png", os.ErrNotExist, "none.png"},
		{"scheme", "gopher://x/y", ErrNotAllowed, `scheme "gopher"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := f.Fetch(context.Background(), tc.ref)
			if tc.wantErr == nil {
				if err != nil || !bytes.Equal(data, png1x1) {
					t.Fatalf("Fetch = %q, %v", data, err)
				}
				return
			}
			if err == nil || (tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v saying %q", err, tc.wantErr, tc.want)
			}
			if bytes.Contains(data, []byte("SECRET")) {
				t.Fatal("read the secret")
			}
		})
	}
	t.Run("disabled", func(t *testing.T) {
		f := fetcher(t, Options{BaseDir: base})
		if _, err := f.Fetch(context.Background(), "images/logo.png"); !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "file access is disabled") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"files_without_base", Options{AllowFiles: true}, "AllowFiles needs a BaseDir"},
		{"negative_bytes", Options{MaxBytes: -1}, "max bytes -1 is negative"},
		{"negative_timeout", Options{Timeout: -time.Second}, "timeout -1s is negative"},
		{"url_as_host", Options{AllowHosts: []string{"https://cdn.example.com"}}, "allow_hosts[0]"},
		{"path_in_host", Options{AllowHosts: []string{"ok.example.com", "cdn.example.com/images"}}, "allow_hosts[1]"},
		{"bad_port", Options{AllowHosts: []string{"cdn.example.com:99999"}}, "bad port"},
		{"empty_host", Options{AllowHosts: []string{""}}, "allow_hosts[0]"},
		{"inner_wildcard", Options{AllowHosts: []string{"cdn.*.com"}}, "bad host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: err = %v, want %q", err, tc.want)
			}
		})
	}
	f, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.opts.MaxBytes != DefaultMaxBytes || f.opts.Timeout != DefaultTimeout || f.opts.MaxRedirects != DefaultMaxRedirects || f.opts.UserAgent != DefaultUserAgent {
		t.Errorf("defaults: %+v", f.opts)
	}
}

func TestForbiddenAddresses(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" = allowed
	}{
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"::1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"169.254.169.254", "metadata"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:169.254.169.254", "metadata"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"0.1.2.3", "0.0.0.0/8"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "reserved"},
		{"198.18.0.1", "benchmarking"},
		{"64:ff9b::a00:1", "NAT64"},
		{"2002:a00:1::1", "6to4"},
		{"not-an-ip", "not an IP address"},
		{"8.8.8.8", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"2606:4700::1111", ""},
		{"64:ff9b::808:808", ""},
		{"::ffff:8.8.8.8", ""},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			got := forbidden(tc.addr)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("forbidden(%s) = %q, want %q", tc.addr, got, tc.want)
			}
		})
	}
}

// FuzzFetchFile feeds arbitrary references to a Fetcher that may read
// files only: it must never panic, never read outside its base directory,
// and never go to the network.
func FuzzFetchFile(f *testing.F) {
	for _, s := range []string{
		"images/logo.png", "../secret.txt", "file:///etc/passwd", "images/link.png",
		"file://localhost/x", "http://127.0.0.1/", "%2e%2e/secret.txt", "images/..\\..\\secret.txt",
		"/", "", "file:", "file:../secret.txt", "\x00",
	} {
		f.Add(s)
	}
	base, _ := fileTree(f)
	fx, err := New(Options{AllowFiles: true, BaseDir: base, MaxBytes: 1 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		data, err := fx.Fetch(context.Background(), ref)
		if bytes.Contains(data, []byte("SECRET")) {
			t.Fatalf("Fetch(%q) read the secret", ref)
		}
		if u, perr := url.Parse(ref); perr == nil && (u.Scheme == "http" || u.Scheme == "https") && !errors.Is(err, ErrNotAllowed) {
			t.Fatalf("Fetch(%q) with no allowed hosts: err = %v", ref, err)
		}
	})
}

// TestReadAllSizeHint: whatever size the source declares (unknown, none,
// its own, less or more than it sends), readAll returns every byte, and
// a declared size that is right is read into one buffer.
func TestReadAllSizeHint(t *testing.T) {
	data := bytes.Repeat([]byte("markwatch"), 3000)
	for _, tt := range []struct {
		name string
		size int64
	}{
		{"unknown", -1}, {"zero", 0}, {"exact", int64(len(data))}, {"less", 100}, {"more", int64(len(data)) * 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(iotest.OneByteReader(bytes.NewReader(data)), tt.size)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("readAll = %d bytes, %v; want the %d bytes", len(got), err, len(data))
			}
			if tt.name == "exact" && cap(got) != len(data)+1 {
				t.Errorf("capacity %d: the buffer grew", cap(got))
			}
		})
	}
	if _, err := readAll(iotest.ErrReader(errors.New("boom")), 10); err == nil {
		t.Error("a read error is lost")
	}
}
