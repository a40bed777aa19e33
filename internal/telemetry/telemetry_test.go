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

// dashboard is the part of configs/grafana/markwatch.json the tests read.
type dashboard struct {
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardPanel struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("../../configs/grafana/markwatch.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	return d
}

var (
	// rangeWindow is the window of a range selector: [5m], [$__rate_interval].
	rangeWindow = regexp.MustCompile(`\[([^\]]+)\]`)
	// selector is a markwatch metric with its label matchers, if any.
	selector = regexp.MustCompile(`(markwatch_[a-z0-9_]+)(\{[^}]*\})?`)
)

// TestDashboard checks what makes the dashboard usable: every panel names
// metrics the code defines, has a unit and a description of what to do,
// rates over $__rate_interval (or a deliberate day), and follows the
// instance variable; the rows and the score heatmap are there.
func TestDashboard(t *testing.T) {
	defined := definedMetrics(t)
	d := readDashboard(t)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if !vars["instance"] || !vars["datasource"] {
		t.Errorf("dashboard variables %v: want datasource and instance", vars)
	}
	rows := map[string]bool{}
	heatmap := false
	n := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			rows[p.Title] = true
			continue
		}
		n++
		if p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("panel %q has no unit", p.Title)
		}
		if len(p.Description) < 40 {
			t.Errorf("panel %q: the description should say what to do when it moves: %q", p.Title, p.Description)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check(t, "panel "+p.Title, tg.Expr, defined)
			for _, w := range rangeWindow.FindAllStringSubmatch(tg.Expr, -1) {
				if w[1] != "$__rate_interval" && w[1] != "1d" {
					t.Errorf("panel %q: window [%s], want [$__rate_interval] (or [1d] for daily ratios)", p.Title, w[1])
				}
			}
			for _, m := range selector.FindAllStringSubmatch(tg.Expr, -1) {
				if !strings.Contains(m[2], `instance=~"$instance"`) {
					t.Errorf("panel %q: %s does not follow the instance variable", p.Title, m[0])
				}
			}
		}
		if p.Type == "heatmap" && strings.Contains(p.Targets[0].Expr, "markwatch_listing_score_bucket") {
			heatmap = true
		}
	}
	for _, r := range []string{"Detection", "Review", "API"} {
		if !rows[r] {
			t.Errorf("no %s row", r)
		}
	}
	if !heatmap {
		t.Error("the score distribution is not a heatmap")
	}
	if n < 25 {
		t.Errorf("only %d panels", n)
	}
}

// TestAlertsHaveRunbooks checks that every alert has a severity the
// routing note knows and a runbook_url whose anchor is a heading of
// docs/OPERATIONS.md.
func TestAlertsHaveRunbooks(t *testing.T) {
	ops, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(ops), "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			anchors[strings.ToLower(strings.TrimSpace(h))] = true
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile("../../configs/prometheus/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
			}
			_, anchor, ok := strings.Cut(r.Annotations["runbook_url"], "docs/OPERATIONS.md#")
			if !ok || anchor != strings.ToLower(r.Alert) || !anchors[anchor] {
				t.Errorf("%s: runbook_url %q, want docs/OPERATIONS.md#%s with a heading ### %s there",
					r.Alert, r.Annotations["runbook_url"], strings.ToLower(r.Alert), r.Alert)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: no summary or description", r.Alert)
			}
		}
	}
}
