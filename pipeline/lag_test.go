package pipeline

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newTestLagGauge(t *testing.T) (*lagGauge, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	g := m.lag
	g.topic, g.staleAfter, g.log = "listings", 10*time.Second, slog.New(slog.DiscardHandler)
	return g, reg
}

func TestLagGaugeHeldPartitions(t *testing.T) {
	base := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		steps     []lagStep
		want      map[string]float64 // partition -> lag, after the steps
		wantErrs  float64
		wantAgeAt time.Duration // age at the end, from base
	}{
		{
			name:  "first refresh exports the held partitions",
			steps: []lagStep{{at: 0, lag: map[int]int64{0: 5, 3: 7}}},
			want:  map[string]float64{"0": 5, "3": 7},
		},
		{
			name: "a partition given away loses its series",
			steps: []lagStep{
				{at: 0, lag: map[int]int64{0: 5, 1: 1, 3: 7}},
				{at: 2 * time.Second, lag: map[int]int64{1: 0, 4: 9}},
			},
			want:      map[string]float64{"1": 0, "4": 9},
			wantAgeAt: 2 * time.Second,
		},
		{
			name: "a member that holds nothing exports nothing",
			steps: []lagStep{
				{at: 0, lag: map[int]int64{0: 5}},
				{at: 2 * time.Second, lag: map[int]int64{}},
			},
			want:      map[string]float64{},
			wantAgeAt: 2 * time.Second,
		},
		{
			name: "a failed refresh keeps the values while they are fresh, and ages them",
			steps: []lagStep{
				{at: 0, lag: map[int]int64{0: 47}},
				{at: 2 * time.Second, err: errors.New("coordinator gone")},
				{at: 4 * time.Second, err: errors.New("coordinator gone")},
			},
			want:      map[string]float64{"0": 47},
			wantErrs:  2,
			wantAgeAt: 4 * time.Second,
		},
		{
			name: "values older than staleAfter are dropped, not shown as current",
			steps: []lagStep{
				{at: 0, lag: map[int]int64{0: 47, 1: 3}},
				{at: 6 * time.Second, err: errors.New("coordinator gone")},
				{at: 12 * time.Second, err: errors.New("coordinator gone")},
			},
			want:      map[string]float64{},
			wantErrs:  2,
			wantAgeAt: 12 * time.Second,
		},
		{
			name: "a good refresh after an outage exports again and resets the age",
			steps: []lagStep{
				{at: 0, lag: map[int]int64{0: 47}},
				{at: 12 * time.Second, err: errors.New("coordinator gone")},
				{at: 14 * time.Second, lag: map[int]int64{0: 2000}},
			},
			want:      map[string]float64{"0": 2000},
			wantErrs:  1,
			wantAgeAt: 14 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, reg := newTestLagGauge(t)
			g.start(base)
			for _, s := range tt.steps {
				g.update(base.Add(s.at), s.lag, s.err)
			}
			if got := gatherLag(t, reg); !mapsEqual(got, tt.want) {
				t.Errorf("lag series %v, want %v", got, tt.want)
			}
			if got := testutil.ToFloat64(g.errors); got != tt.wantErrs {
				t.Errorf("refresh errors %v, want %v", got, tt.wantErrs)
			}
			end := base.Add(tt.wantAgeAt)
			lastGood := base
			for _, s := range tt.steps {
				if s.err == nil {
					lastGood = base.Add(s.at)
				}
			}
			if got, want := g.age(end), end.Sub(lastGood); got != want {
				t.Errorf("age %v, want %v", got, want)
			}
		})
	}
}

type lagStep struct {
	at  time.Duration
	lag map[int]int64
	err error
}

// gatherLag returns markwatch_consumer_lag by partition, as scraped.
func gatherLag(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "markwatch_consumer_lag" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "partition" {
					out[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

func mapsEqual(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestLagRefreshAgeExported checks the age gauge and error counter are
// scraped under their documented names, the age from the start of
// refreshing until the first success.
func TestLagRefreshAgeExported(t *testing.T) {
	g, reg := newTestLagGauge(t)
	if n, err := testutil.GatherAndCount(reg, "markwatch_consumer_lag_refresh_age_seconds", "markwatch_consumer_lag_refresh_errors_total"); err != nil || n != 2 {
		t.Fatalf("age and error series %d (%v), want 2", n, err)
	}
	g.start(time.Now().Add(-30 * time.Second))
	age := gatherValue(t, reg, "markwatch_consumer_lag_refresh_age_seconds")
	if age < 30 || age > 60 {
		t.Errorf("age %v s after 30 s without a good refresh", age)
	}
}

func gatherValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s not exported", name)
	return 0
}
