package detection

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"testing"

	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/matchers/imagematch"
)

// timeoutError is a net.Error that timed out, as a dial or read deadline
// gives.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestImageCause(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("imagefetch: fetch http://x/a.jpg: %w", err) }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, CauseOK},
		{"host not allowed", wrap(imagefetch.ErrNotAllowed), CauseRefusedHost},
		{"private address", wrap(imagefetch.ErrForbiddenAddress), CauseRefusedHost},
		{"over the byte cap", wrap(imagefetch.ErrTooLarge), CauseTooLarge},
		{"over the pixel cap", wrap(imagematch.ErrTooLarge), CauseTooLarge},
		{"not an image", wrap(imagematch.ErrFormat), CauseDecode},
		{"blank", wrap(imagematch.ErrFeatureless), CauseFeatureless},
		{"404", &imagefetch.StatusError{URL: "u", Code: 404}, CauseNotFound},
		{"410", wrap(&imagefetch.StatusError{URL: "u", Code: 410}), CauseNotFound},
		{"503", wrap(&imagefetch.StatusError{URL: "u", Code: 503}), CauseHTTPError},
		{"no such file", wrap(fs.ErrNotExist), CauseNotFound},
		{"deadline", wrap(context.DeadlineExceeded), CauseTimeout},
		{"net timeout", wrap(timeoutError{}), CauseTimeout},
		{"canceled", wrap(context.Canceled), CauseCanceled},
		{"refused", wrap(&net.OpError{Op: "dial", Err: errors.New("connection refused")}), CauseNetwork},
		{"other", errors.New("something else"), CauseOther},
	} {
		if got := ImageCause(c.err); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
