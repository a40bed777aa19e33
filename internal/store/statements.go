package store

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Statements records what a store sends to its database under one context:
// every statement and every BEGIN, COMMIT and ROLLBACK of WithTx, each one
// round trip to PostgreSQL (a statement pgx has not prepared on its
// connection yet costs one more, once per connection). Tests pin a
// request's round trips with it, so that a statement added to a decision
// fails a test instead of slowing every decision unnoticed. It is safe for
// concurrent use.
type Statements struct {
	mu   sync.Mutex
	sent []string
}

// statementsKey is the context key of a *Statements.
type statementsKey struct{}

// WithStatements returns a context under which the store records its
// statements in the returned Statements. Statements sent under other
// contexts (a background catch-up, another request) are not recorded.
func WithStatements(ctx context.Context) (context.Context, *Statements) {
	s := &Statements{}
	return context.WithValue(ctx, statementsKey{}, s), s
}

// Len is how many statements were recorded.
func (s *Statements) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// List returns the statements recorded, in order, each on one line with
// its whitespace collapsed, for a test's failure message.
func (s *Statements) List() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// record notes query when ctx carries a Statements. Outside tests the
// context carries none, and this costs one context lookup a statement.
func record(ctx context.Context, query string) {
	s, ok := ctx.Value(statementsKey{}).(*Statements)
	if !ok {
		return
	}
	line := strings.Join(strings.Fields(query), " ")
	s.mu.Lock()
	s.sent = append(s.sent, line)
	s.mu.Unlock()
}
