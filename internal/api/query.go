package api

import (
	"net/url"
	"time"

	"github.com/markwatch/markwatch/internal/search"
	"github.com/markwatch/markwatch/internal/store"
)

// ParseComplaintQuery returns the search query the parameters of GET
// /v1/complaints mean for user, validated as the API validates them, with
// a brand owner confined to its own holder. The console serves the queue
// without full text from the store with it; the meaning of every filter
// stays the API's.
func ParseComplaintQuery(params url.Values, user *store.User) (search.Query, error) {
	q, err := parseListQuery(params, user, time.Now())
	return q.Query, err
}
