package telemetry

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var metricName = regexp.MustCompile(`markwatch_[a-z0-9_]+`)

// base strips the suffixes Prometheus adds to histograms and counters.
func base(n string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		n = strings.TrimSuffix(n, s)
	}
	return n
}

func check(t *testing.T, where, expr string, defined map[string]bool) {
	t.Helper()
	for _, n := range metricName.FindAllString(expr, -1) {
		if !defined[base(n)] {
			t.Errorf("%s names %s, which no Go code defines", where, n)
		}
	}
}

func TestRulesNameRealMetrics(t *testing.T) {
	defined := definedMetrics(t)
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Record, Alert, Expr string
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile("../../configs/prometheus/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("rules.yml: %v", err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Expr == "" || (r.Record == "") == (r.Alert == "") {
				t.Errorf("group %s: a rule needs an expr and one of record or alert: %+v", g.Name, r)
			}
			// Recording rules' own names (markwatch:...) use colons, not underscores.
			check(t, "rules.yml "+r.Record+r.Alert, r.Expr, defined)
			n++
		}
	}
	if n < 5 {
		t.Errorf("only %d rules", n)
	}
}

func TestDashboardNamesRealMetrics(t *testing.T) {
	defined := definedMetrics(t)
	b, err := os.ReadFile("../../configs/grafana/markwatch.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if len(d.Panels) < 6 {
		t.Errorf("only %d panels", len(d.Panels))
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			check(t, "panel "+p.Title, tg.Expr, defined)
		}
	}
}
