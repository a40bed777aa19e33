package price

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"gopkg.in/yaml.v3"
)

// maxRatesBytes bounds how much of a rate file LoadRates reads; a real
// table lists a few hundred currencies at most.
const maxRatesBytes = 1 << 20

// rateFile is the on-disk form of a rate table.
type rateFile struct {
	Base  string             `yaml:"base"`
	Rates map[string]float64 `yaml:"rates"`
}

// LoadRates reads a currency rate table written as YAML:
//
//	base: USD
//	rates: {EUR: 0.92, CNY: 7.2}
//
// A rate is how many units of the currency buy one unit of base. Decoding is
// strict: unknown keys, a missing base, currency codes that are not three
// upper-case letters, and rates that are not positive finite numbers are
// errors naming the offending field or currency. A rate for base itself must
// be 1. The returned map does not contain base.
func LoadRates(r io.Reader) (base string, rates map[string]float64, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRatesBytes+1))
	if err != nil {
		return "", nil, fmt.Errorf("price: read rates: %w", err)
	}
	if len(data) > maxRatesBytes {
		return "", nil, fmt.Errorf("price: read rates: over %d bytes", maxRatesBytes)
	}
	var f rateFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return "", nil, errors.New("price: decode rates: empty document")
		}
		return "", nil, fmt.Errorf("price: decode rates: %w", err)
	}
	// A second document would be silently ignored by a plain Decode; a
	// config file with two tables is a mistake worth reporting.
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return "", nil, errors.New("price: decode rates: more than one YAML document")
	}
	if f.Base == "" {
		return "", nil, errors.New("price: rates: base: required")
	}
	if err := checkRates(f.Base, f.Rates); err != nil {
		return "", nil, fmt.Errorf("price: rates: %w", err)
	}
	out := make(map[string]float64, len(f.Rates))
	for c, v := range f.Rates {
		if c != f.Base {
			out[c] = v
		}
	}
	return f.Base, out, nil
}

// checkRates validates a base currency and a rate table against it. Errors
// name the field or currency at fault, in a deterministic order.
func checkRates(base string, rates map[string]float64) error {
	if !isCurrency(base) {
		return fmt.Errorf("base: want a 3-letter ISO 4217 code such as \"USD\", got %q", base)
	}
	codes := make([]string, 0, len(rates))
	for c := range rates {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		v := rates[c]
		switch {
		case !isCurrency(c):
			return fmt.Errorf("rates: currency %q: want a 3-letter ISO 4217 code such as \"EUR\"", c)
		case math.IsNaN(v) || math.IsInf(v, 0) || v <= 0:
			return fmt.Errorf("rates: currency %s: rate %v is not a positive number", c, v)
		case c == base && v != 1:
			return fmt.Errorf("rates: currency %s is the base; its rate must be 1, got %v", c, v)
		}
	}
	return nil
}

// isCurrency reports whether s looks like an ISO 4217 code, the same test
// the domain codec applies to listing and reference prices.
func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
