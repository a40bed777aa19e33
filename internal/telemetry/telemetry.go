package telemetry

import (
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Namespace is the first part of every markwatch metric name.
const Namespace = "markwatch"

// Build declares a component's metrics with build, each registered on reg
// as it is created (promauto.With(reg)); a nil reg leaves them unregistered,
// so they count but nobody scrapes them. A registration that fails (a name
// registered twice on one registry) is returned as an error instead of the
// panic promauto raises, so that constructors keep their error contract.
func Build[M any](reg prometheus.Registerer, build func(f promauto.Factory) M) (m M, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				panic(r)
			}
			var zero M
			m, err = zero, fmt.Errorf("register metrics: %w", e)
		}
	}()
	return build(promauto.With(reg)), nil
}

// Init creates every combination of values (one slice per label, in the
// vector's label order) at zero. A counter born at its first event is
// invisible to increase() and rate() for that event: "precision by
// matcher" would show 0 where most decisions were upheld. Label values
// known in advance are therefore created up front.
func Init(v *prometheus.CounterVec, values ...[]string) {
	if len(values) == 0 {
		return
	}
	var walk func(prefix []string, rest [][]string)
	walk = func(prefix []string, rest [][]string) {
		if len(rest) == 0 {
			v.WithLabelValues(prefix...)
			return
		}
		for _, x := range rest[0] {
			walk(append(prefix[:len(prefix):len(prefix)], x), rest[1:])
		}
	}
	walk(nil, values)
}

// decimal rounds b to 6 significant digits: 0.1*3 is 0.30000000000000004
// in binary floating point, which Prometheus would expose as
// le="0.30000000000000004" and a score of exactly 0.3 would miss it.
func decimal(b float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(b, 'g', 6, 64), 64)
	if err != nil { // unreachable: FormatFloat's output always parses
		return b
	}
	return r
}

// LinearBuckets is prometheus.LinearBuckets with every bound rounded to the
// decimal it stands for (LinearBuckets(0.1, 0.1, 10) ends in exactly 1).
func LinearBuckets(start, width float64, count int) []float64 {
	return rounded(prometheus.LinearBuckets(start, width, count))
}

// ExponentialBuckets is prometheus.ExponentialBuckets with every bound
// rounded to 6 significant digits.
func ExponentialBuckets(start, factor float64, count int) []float64 {
	return rounded(prometheus.ExponentialBuckets(start, factor, count))
}

func rounded(bs []float64) []float64 {
	for i, b := range bs {
		bs[i] = decimal(b)
	}
	return bs
}

// BuildInfo returns markwatch_build_info{version, rule_version}, always 1:
// joined on instance, it tells which build and which scoring rules produced
// a series (a rule_version change files complaints anew).
func BuildInfo(version, ruleVersion string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help:        "Always 1; the labels name the build (version) and the detection rules (rule_version) of this process.",
		ConstLabels: prometheus.Labels{"version": version, "rule_version": ruleVersion},
	})
	g.Set(1)
	return g
}
