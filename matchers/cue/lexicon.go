package cue

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed lexicon.yaml
var builtinLexicon string

// maxLexiconBytes bounds how much of a lexicon file LoadLexicon reads.
const maxLexiconBytes = 4 << 20

// Limits on one entry, so that a lexicon from config cannot make matching
// slow: context is checked word by word around every hit.
const (
	defaultWindow = 3
	maxWindow     = 8
	maxPhraseLen  = 200
	maxContext    = 64
)

// Entry is one counterfeit cue of the lexicon.
type Entry struct {
	// Phrase is the cue as a reviewer reads it; evidence names it. A
	// trailing "*" lets the last word continue (case endings, suffixes).
	Phrase string `yaml:"phrase"`
	// Forms are other spellings counted as the same cue; the same "*" rule
	// applies to each.
	Forms []string `yaml:"forms,omitempty"`
	// Lang lists the ISO 639-1 codes of the languages the cue belongs to.
	Lang Langs `yaml:"lang"`
	// Weight in [0, 1] is how strongly the cue alone suggests a counterfeit.
	// In Options.Entries, weight 0 removes a built-in cue.
	Weight float64 `yaml:"weight"`
	// UnlessFollowedBy and UnlessPrecededBy cancel the cue when one of these
	// words or phrases appears within Window words after or before it. A
	// trailing "*" makes the last word a prefix; "#" stands for any number.
	UnlessFollowedBy []string `yaml:"unless_followed_by,omitempty"`
	UnlessPrecededBy []string `yaml:"unless_preceded_by,omitempty"`
	// Window is the context window in words, 1..8; 0 means 3.
	Window int `yaml:"window,omitempty"`
	// Note documents the entry for people editing the lexicon.
	Note string `yaml:"note,omitempty"`
}

// Langs is a list of language codes; in YAML either one code or a list.
type Langs []string

// UnmarshalYAML accepts `lang: en` as well as `lang: [en, es]`.
func (l *Langs) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = Langs{n.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = s
		return nil
	}
	return fmt.Errorf("line %d: lang: want a language code or a list of codes", n.Line)
}

// lexiconFile is the on-disk form of a lexicon.
type lexiconFile struct {
	Cues []Entry `yaml:"cues"`
}

// Builtin returns a copy of the embedded lexicon (lexicon.yaml).
func Builtin() ([]Entry, error) {
	es, err := LoadLexicon(strings.NewReader(builtinLexicon))
	if err != nil {
		return nil, fmt.Errorf("cue: built-in lexicon: %w", err)
	}
	return es, nil
}

// LoadLexicon reads a lexicon written as YAML, in the format of the embedded
// lexicon.yaml:
//
//	cues:
//	  - phrase: replica
//	    lang: [en, es]
//	    weight: 0.8
//	    unless_followed_by: [jersey*]
//
// Decoding is strict: unknown keys are errors, and every entry is validated
// (see Entry.Validate); errors name the entry.
func LoadLexicon(r io.Reader) ([]Entry, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxLexiconBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cue: read lexicon: %w", err)
	}
	if len(data) > maxLexiconBytes {
		return nil, fmt.Errorf("cue: read lexicon: over %d bytes", maxLexiconBytes)
	}
	var f lexiconFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("cue: decode lexicon: empty document")
		}
		return nil, fmt.Errorf("cue: decode lexicon: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("cue: decode lexicon: more than one YAML document")
	}
	for i := range f.Cues {
		if err := f.Cues[i].Validate(); err != nil {
			return nil, fmt.Errorf("cue: lexicon: cues[%d]: %w", i, err)
		}
	}
	return f.Cues, nil
}

// Validate checks one entry's fields, without folding: a phrase, a weight in
// [0, 1], language codes, a window in range and non-empty context words.
func (e *Entry) Validate() error {
	if strings.TrimSpace(strings.TrimSuffix(e.Phrase, "*")) == "" {
		return errors.New("phrase: required")
	}
	for _, p := range append([]string{e.Phrase}, e.Forms...) {
		if len(p) > maxPhraseLen {
			return fmt.Errorf("phrase %q: over %d bytes", trunc(p), maxPhraseLen)
		}
	}
	for i, f := range e.Forms {
		if strings.TrimSpace(strings.TrimSuffix(f, "*")) == "" {
			return fmt.Errorf("%s: forms[%d]: empty", e.Phrase, i)
		}
	}
	if math.IsNaN(e.Weight) || e.Weight < 0 || e.Weight > 1 {
		return fmt.Errorf("%s: weight: must be in [0, 1], got %v", e.Phrase, e.Weight)
	}
	if len(e.Lang) == 0 {
		return fmt.Errorf("%s: lang: required", e.Phrase)
	}
	for _, l := range e.Lang {
		if !isLangCode(l) {
			return fmt.Errorf("%s: lang: %q is not an ISO 639 code such as \"en\"", e.Phrase, trunc(l))
		}
	}
	if e.Window < 0 || e.Window > maxWindow {
		return fmt.Errorf("%s: window: must be in 0..%d, got %d", e.Phrase, maxWindow, e.Window)
	}
	if n := len(e.UnlessFollowedBy) + len(e.UnlessPrecededBy); n > maxContext {
		return fmt.Errorf("%s: %d context words, over the cap of %d", e.Phrase, n, maxContext)
	}
	for _, c := range append(append([]string(nil), e.UnlessFollowedBy...), e.UnlessPrecededBy...) {
		if strings.TrimSpace(strings.TrimSuffix(c, "*")) == "" || len(c) > maxPhraseLen {
			return fmt.Errorf("%s: context word %q: empty or too long", e.Phrase, trunc(c))
		}
	}
	return nil
}

// isLangCode reports whether s is two or three lower-case ASCII letters.
func isLangCode(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := range len(s) {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// trunc shortens s for an error message.
func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
