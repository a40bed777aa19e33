package cue

import (
	"strings"
	"testing"
)

// TestBuiltinLexicon checks the embedded lexicon loads, compiles, covers
// the languages the design promises, and keeps weights in the documented
// bands.
func TestBuiltinLexicon(t *testing.T) {
	es, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	langs := map[string]int{}
	for _, e := range es {
		for _, l := range e.Lang {
			langs[l]++
		}
		if e.Weight <= 0 {
			t.Errorf("%s: built-in weight %v; remove the entry instead", e.Phrase, e.Weight)
		}
	}
	for _, l := range []string{"en", "zh", "es", "fr", "de", "pt", "ru", "tr", "ar"} {
		if langs[l] < 3 {
			t.Errorf("language %s has %d cues, want at least 3", l, langs[l])
		}
	}
	if _, err := New(Options{}); err != nil {
		t.Fatalf("built-in lexicon does not compile: %v", err)
	}
}

func TestLoadLexicon(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int    // entries
		wantErr string // substring; "" means valid
	}{
		{name: "minimal", in: "cues:\n  - {phrase: reps, lang: en, weight: 0.5}\n", want: 1},
		{name: "lang list and context", in: "cues:\n  - phrase: replica\n    lang: [en, es]\n    weight: 0.8\n    window: 2\n    unless_followed_by: [jersey*]\n    unless_preceded_by: ['#']\n    note: x\n", want: 1},
		{name: "weight zero allowed for overrides", in: "cues:\n  - {phrase: oem, lang: en, weight: 0}\n", want: 1},
		{name: "no cues", in: "cues: []\n", want: 0},
		{name: "empty document", in: "", wantErr: "empty"},
		{name: "unknown key", in: "cues:\n  - {phrase: x, lang: en, weight: 1, wieght: 1}\n", wantErr: "wieght"},
		{name: "unknown top key", in: "cue: []\n", wantErr: "cue"},
		{name: "missing phrase", in: "cues:\n  - {lang: en, weight: 1}\n", wantErr: "cues[0]: phrase"},
		{name: "star only", in: "cues:\n  - {phrase: '*', lang: en, weight: 1}\n", wantErr: "phrase"},
		{name: "weight too big", in: "cues:\n  - {phrase: x, lang: en, weight: 1.5}\n", wantErr: "weight"},
		{name: "weight nan", in: "cues:\n  - {phrase: x, lang: en, weight: .nan}\n", wantErr: "weight"},
		{name: "missing lang", in: "cues:\n  - {phrase: x, weight: 1}\n", wantErr: "lang"},
		{name: "bad lang", in: "cues:\n  - {phrase: x, lang: English, weight: 1}\n", wantErr: "English"},
		{name: "lang map", in: "cues:\n  - {phrase: x, lang: {a: b}, weight: 1}\n", wantErr: "lang"},
		{name: "window too big", in: "cues:\n  - {phrase: x, lang: en, weight: 1, window: 9}\n", wantErr: "window"},
		{name: "empty context", in: "cues:\n  - {phrase: x, lang: en, weight: 1, unless_followed_by: ['']}\n", wantErr: "context"},
		{name: "empty form", in: "cues:\n  - {phrase: x, forms: [' '], lang: en, weight: 1}\n", wantErr: "forms[0]"},
		{name: "long phrase", in: "cues:\n  - {phrase: " + strings.Repeat("x", 201) + ", lang: en, weight: 1}\n", wantErr: "over"},
		{name: "two documents", in: "cues: []\n---\ncues: []\n", wantErr: "more than one"},
		{name: "not a mapping", in: "- x\n", wantErr: "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, err := LoadLexicon(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != tc.want {
				t.Fatalf("got %d entries, want %d", len(es), tc.want)
			}
		})
	}
}

// FuzzLoadLexicon checks that LoadLexicon never panics, and that New either
// compiles what it accepts or refuses it with an error.
func FuzzLoadLexicon(f *testing.F) {
	f.Add("cues:\n  - {phrase: reps, lang: en, weight: 0.5}\n")
	f.Add("cues:\n  - phrase: 高仿\n    lang: zh\n    weight: 0.9\n    unless_followed_by: [真]\n")
	f.Add("cues:\n  - {phrase: 'a*', forms: ['1:1', '#'], lang: [en, es], weight: 1, unless_preceded_by: ['#', 'x*']}\n")
	f.Add("cues: &a [*a]")
	f.Fuzz(func(t *testing.T, in string) {
		es, err := LoadLexicon(strings.NewReader(in))
		if err != nil {
			return
		}
		m, err := New(Options{NoBuiltin: true, Entries: es})
		if err != nil {
			return
		}
		m.Find(in, in, in)
	})
}
