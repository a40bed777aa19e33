package detection

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"

	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/matchers/imagematch"
)

// Causes of an image that could not be had, as ListingImage.Cause and the
// cause label of markwatch_image_fetches_total name them. The set is
// closed, so that the label's cardinality is bounded whatever image hosts
// answer.
const (
	CauseOK          = "ok"           // fetched and hashed
	CauseCached      = "cached"       // hashes found in the cache by URL: no fetch
	CauseNotFound    = "not_found"    // HTTP 404/410 or no such file
	CauseRefusedHost = "refused_host" // the SSRF guard refused the host, scheme, path or address
	CauseTooLarge    = "too_large"    // over the byte or pixel cap
	CauseTimeout     = "timeout"      // the fetch timed out
	CauseHTTPError   = "http_error"   // any other HTTP status than 200
	CauseNetwork     = "network_error"
	CauseDecode      = "decode_error" // not a decodable JPEG, PNG, GIF or WebP
	CauseFeatureless = "featureless"  // blank or nearly uniform: nothing to hash
	CauseCanceled    = "canceled"     // the listing's context ended (shutdown)
	CauseOther       = "other"
)

// FailureCauses are the causes of an image that could not be had, in the
// order a dashboard lists them.
func FailureCauses() []string {
	return []string{CauseNotFound, CauseRefusedHost, CauseTooLarge, CauseTimeout, CauseHTTPError,
		CauseNetwork, CauseDecode, CauseFeatureless, CauseCanceled, CauseOther}
}

// ImageCause names why fetching or hashing an image failed with err
// (CauseOK for nil). A timeout is checked before a cancellation: the
// fetcher's own deadline is a slow host, the listing's cancellation is
// shutdown.
func ImageCause(err error) string {
	var se *imagefetch.StatusError
	var ne net.Error
	switch {
	case err == nil:
		return CauseOK
	case errors.Is(err, imagefetch.ErrNotAllowed), errors.Is(err, imagefetch.ErrForbiddenAddress):
		return CauseRefusedHost
	case errors.Is(err, imagefetch.ErrTooLarge), errors.Is(err, imagematch.ErrTooLarge):
		return CauseTooLarge
	case errors.Is(err, imagematch.ErrFormat):
		return CauseDecode
	case errors.Is(err, imagematch.ErrFeatureless):
		return CauseFeatureless
	case errors.As(err, &se):
		if se.Code == http.StatusNotFound || se.Code == http.StatusGone {
			return CauseNotFound
		}
		return CauseHTTPError
	case errors.Is(err, fs.ErrNotExist):
		return CauseNotFound
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return CauseTimeout
	case errors.Is(err, context.Canceled):
		return CauseCanceled
	case errors.As(err, &ne):
		return CauseNetwork
	}
	return CauseOther
}
