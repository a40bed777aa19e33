// Package detection assembles the detection core — the matchers and the
// scorer — over a set of marks, and prepares listings and marks for it:
// reading mark and listing files, fetching and hashing images with a cache.
// The batch commands (score, eval) and the streaming detector use it, so
// that a listing is scored the same way everywhere.
package detection

import (
	"errors"
	"fmt"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/cue"
	"github.com/markwatch/markwatch/matchers/imagematch"
	"github.com/markwatch/markwatch/matchers/logo"
	"github.com/markwatch/markwatch/matchers/price"
	"github.com/markwatch/markwatch/matchers/score"
	"github.com/markwatch/markwatch/matchers/seller"
	"github.com/markwatch/markwatch/matchers/text"
)

// Options holds the options of every part of the detection core.
type Options struct {
	Score  score.Options
	Text   text.Options
	Cue    cue.Options
	Price  price.Options
	Image  imagematch.Options
	Logo   logo.Options
	Seller seller.Options
}

// Engine is the detection core built over one set of marks. It is
// immutable and safe for concurrent use; to follow mark updates build a new
// Engine and swap it in, then Close the old one when no listing uses it.
type Engine struct {
	*score.Scorer
	text *text.Matcher
}

// Build builds every matcher and the scorer over marks.
func Build(marks []*matchers.Mark, o Options) (*Engine, error) {
	tm, err := text.New(marks, o.Text)
	if err != nil {
		return nil, fmt.Errorf("detection: %w", err)
	}
	im, err := imagematch.New(marks, o.Image)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("detection: %w", err), tm.Close())
	}
	lm, err := logo.New(marks, o.Logo)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("detection: %w", err), tm.Close())
	}
	cm, err := cue.New(o.Cue)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("detection: %w", err), tm.Close())
	}
	pm, err := price.New(o.Price)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("detection: %w", err), tm.Close())
	}
	sm, err := seller.New(o.Seller)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("detection: %w", err), tm.Close())
	}
	sc, err := score.New(marks, []matchers.Presearcher{tm, im, lm}, []matchers.Matcher{tm, im, lm, cm, pm, sm}, o.Score)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("detection: %w", err), tm.Close())
	}
	return &Engine{Scorer: sc, text: tm}, nil
}

// BuildDomain builds the engine over decoded marks that carry their image
// hashes (as the marks topic delivers them): nothing is fetched.
func BuildDomain(marks []*domain.Mark, o Options) (*Engine, error) {
	prepared := make([]*matchers.Mark, 0, len(marks))
	for _, m := range marks {
		p, err := matchers.NewMark(m)
		if err != nil {
			return nil, fmt.Errorf("detection: %w", err)
		}
		prepared = append(prepared, p)
	}
	return Build(prepared, o)
}

// Close releases the engine's indexes.
func (e *Engine) Close() error { return e.text.Close() }
