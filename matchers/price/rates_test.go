package price

import (
	"maps"
	"strings"
	"testing"
)

func TestLoadRates(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantBase  string
		wantRates map[string]float64
		wantErr   string // substring; "" means valid
	}{
		{name: "flow map", in: "base: USD\nrates: {EUR: 0.92, CNY: 7.2}\n", wantBase: "USD", wantRates: map[string]float64{"EUR": 0.92, "CNY": 7.2}},
		{name: "block map", in: "base: EUR\nrates:\n  USD: 1.087\n  JPY: 162\n", wantBase: "EUR", wantRates: map[string]float64{"USD": 1.087, "JPY": 162}},
		{name: "base listed at one is dropped", in: "base: USD\nrates: {USD: 1, EUR: 0.9}", wantBase: "USD", wantRates: map[string]float64{"EUR": 0.9}},
		{name: "no rates", in: "base: USD\n", wantBase: "USD", wantRates: map[string]float64{}},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "missing base", in: "rates: {EUR: 0.92}", wantErr: "base: required"},
		{name: "unknown key", in: "base: USD\nrate: {EUR: 0.92}", wantErr: "rate"},
		{name: "zero rate", in: "base: USD\nrates: {EUR: 0}", wantErr: "EUR"},
		{name: "negative rate", in: "base: USD\nrates: {EUR: 0.9, CNY: -7}", wantErr: "CNY"},
		{name: "nan rate", in: "base: USD\nrates: {EUR: .nan}", wantErr: "EUR"},
		{name: "infinite rate", in: "base: USD\nrates: {EUR: .inf}", wantErr: "EUR"},
		{name: "string rate", in: "base: USD\nrates: {EUR: lots}", wantErr: "lots"},
		{name: "lowercase code", in: "base: USD\nrates: {eur: 0.9}", wantErr: "eur"},
		{name: "lowercase base", in: "base: usd\n", wantErr: "base"},
		{name: "base rate not one", in: "base: USD\nrates: {USD: 0.5}", wantErr: "USD"},
		{name: "duplicate key", in: "base: USD\nrates: {EUR: 0.9, EUR: 0.8}", wantErr: "EUR"},
		{name: "two documents", in: "base: USD\n---\nbase: EUR\n", wantErr: "more than one"},
		{name: "not a map", in: "- USD\n", wantErr: "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, rates, err := LoadRates(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if base != tc.wantBase || !maps.Equal(rates, tc.wantRates) {
				t.Fatalf("got %s %v, want %s %v", base, rates, tc.wantBase, tc.wantRates)
			}
		})
	}
}

func TestLoadRatesTooLarge(t *testing.T) {
	in := "base: USD\n# " + strings.Repeat("x", maxRatesBytes) + "\n"
	if _, _, err := LoadRates(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "over") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

// FuzzLoadRates checks that whatever LoadRates accepts is a table New
// accepts too, and that it never panics.
func FuzzLoadRates(f *testing.F) {
	for _, s := range []string{
		"base: USD\nrates: {EUR: 0.92, CNY: 7.2}\n",
		"base: EUR\nrates:\n  USD: 1.087\n",
		"base: USD\nrates: {EUR: -1}",
		"base: USD\nrates: {EUR: .nan}",
		"rates: &a {EUR: *a}",
		"",
		"---\n---\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		base, rates, err := LoadRates(strings.NewReader(in))
		if err != nil {
			return
		}
		if _, err := New(Options{Base: base, Rates: rates}); err != nil {
			t.Fatalf("LoadRates accepted %q but New refuses it: %v", in, err)
		}
	})
}
