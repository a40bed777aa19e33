package api

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/markwatch/markwatch/internal/store"
)

// callerKey marks a request made in process by Call, carrying the user the
// caller has already authenticated. It is unexported: no HTTP client can
// set it, so only Call skips the token check.
type callerKey struct{}

// Call serves one API request as user, in process: the route table, the
// rate limit, identity.Authorize with the route's roles and tenant rule,
// the body cap, validation and the handler are exactly those an HTTP
// caller goes through. Only the token check is skipped, because the caller
// (the console, with its session) has authenticated user already. It
// returns the status and the JSON body, the error envelope included.
//
// The console makes every change through Call, so that it can never be a
// second, laxer path to the review flow.
func (a *API) Call(ctx context.Context, user *store.User, method, target, contentType string, body io.Reader) (int, []byte) {
	if body == nil {
		body = http.NoBody
	}
	r, err := http.NewRequestWithContext(context.WithValue(ctx, callerKey{}, user), method, target, body)
	if err != nil {
		return http.StatusBadRequest, []byte(`{"error":{"code":"invalid_request","message":"bad request target"}}`)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	rec := &recorder{header: http.Header{}}
	a.inProcess.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.status, rec.body.Bytes()
}

// recorder is the response of an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
