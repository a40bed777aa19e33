package telemetry

import (
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestBuildReturnsRegistrationErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	build := func(f promauto.Factory) prometheus.Counter {
		return f.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "x_total", Help: "x"})
	}
	if _, err := Build(reg, build); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(reg, build); err == nil {
		t.Error("a second registration of one name gave no error")
	}
	c, err := Build(nil, build)
	if err != nil || c == nil {
		t.Errorf("nil registerer: %v, %v", c, err)
	}
}

func TestInitCreatesEveryCombination(t *testing.T) {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "v_total", Help: "v"}, []string{"a", "b"})
	Init(v, []string{"x", "y"}, []string{"1", "2", "3"})
	if n := testutil.CollectAndCount(v); n != 6 {
		t.Fatalf("%d series, want 6", n)
	}
	if got := testutil.ToFloat64(v.WithLabelValues("y", "3")); got != 0 {
		t.Errorf("y,3 = %v, want 0", got)
	}
}

func TestBucketsAreDecimal(t *testing.T) {
	for _, c := range []struct {
		name string
		got  []float64
		want []string
	}{
		{"linear", LinearBuckets(0.1, 0.1, 10), []string{"0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"}},
		{"exponential", ExponentialBuckets(0.00005, 2.5, 4), []string{"5e-05", "0.000125", "0.0003125", "0.00078125"}},
	} {
		for i, b := range c.got {
			if s := strconv.FormatFloat(b, 'g', -1, 64); s != c.want[i] {
				t.Errorf("%s bucket %d = %s, want %s", c.name, i, s, c.want[i])
			}
		}
	}
}
