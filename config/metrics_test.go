package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/collector"
)

const oneTask = "tasks: [{enterprise_id: 1, task_id: 2}]\n"

func TestMetricsDefaults(t *testing.T) {
	for _, doc := range []string{oneTask, oneTask + "metrics:\n", oneTask + "metrics: {}\n"} {
		cfg, err := Parse([]byte(doc), "x.yml")
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if !reflect.DeepEqual(cfg.Metrics, DefaultMetrics) || len(cfg.Warnings) > 0 {
			t.Errorf("%q: metrics %+v, warnings %v; want the defaults and no warning", doc, cfg.Metrics, cfg.Warnings)
		}
	}
}

// TestFamiliesAreCurrent keeps families.go, the copy of the collector's
// catalogue that metrics.exclude is checked against, in step with it.
func TestFamiliesAreCurrent(t *testing.T) {
	var want []family
	for _, f := range collector.Catalogue() {
		want = append(want, family{name: f.Name, agent: f.Agent, required: f.Required})
	}
	if !reflect.DeepEqual(families, want) {
		t.Errorf("families.go is out of date with collector.Catalogue(): run go generate ./config")
	}
	if len(want) < 40 {
		t.Errorf("the catalogue has %d families; the collector writes more than 40", len(want))
	}
}

func TestMetricsErrors(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want []string
	}{
		{"metrics:\n  agent_status: current_state\n", []string{
			`x.yml:3: metrics.agent_status: must be state_set or current, got "current_state"`}},
		{"metrics:\n  agents: 1\n", []string{
			"x.yml:3: metrics.agents: must be true or false, got 1"}},
		{"metrics:\n  agent_states: current\n", []string{
			"x.yml:3: metrics.agent_states: unknown key; valid keys: agent_status, agents, exclude"}},
		{"metrics:\n  exclude: dyvms_agent_info\n", []string{
			`x.yml:3: metrics.exclude: must be a list, got "dyvms_agent_info"`}},
		{"metrics:\n  exclude:\n    - dyvms_agent_stauts\n    - agent_info\n    - dyvms_task_scrape_success\n    - dyvms_api_requests_total\n    - [x]\n    - nothing_like_it\n    - 5\n", []string{
			`x.yml:4: metrics.exclude[0]: unknown family "dyvms_agent_stauts"; did you mean dyvms_agent_status?`,
			`x.yml:5: metrics.exclude[1]: unknown family "agent_info"; did you mean dyvms_agent_info?`,
			"x.yml:6: metrics.exclude[2]: dyvms_task_scrape_success cannot be excluded: it is the only series of a task whose read failed",
			`x.yml:7: metrics.exclude[3]: unknown family "dyvms_api_requests_total" (the exporter's own metrics cannot be excluded: they are not per task)`,
			"x.yml:8: metrics.exclude[4]: must be a string, got a list",
			`x.yml:9: metrics.exclude[5]: unknown family "nothing_like_it"`,
			"x.yml:10: metrics.exclude[6]: must be a family name such as dyvms_agent_info, got an integer",
		}},
		{"metrics:\n  exclude: [dyvms_agent_info, dyvms_agent_info]\n", []string{
			"x.yml:3: metrics.exclude[1]: dyvms_agent_info is listed twice, first at line 3"}},
	} {
		_, err := Parse([]byte(oneTask+tc.doc), "x.yml")
		if err == nil {
			t.Errorf("%q: loaded", tc.doc)
			continue
		}
		if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
			t.Errorf("%q:\n got:\n%s\nwant:\n%s", tc.doc, got, want)
		}
	}
}

// TestMetricsWarnings: excluding what a shipped rule or dashboard reads
// loads, with a warning naming the family and its users.
func TestMetricsWarnings(t *testing.T) {
	cfg, err := Parse([]byte(oneTask+"metrics:\n  exclude:\n    - dyvms_task_agents_available\n    - dyvms_task_today_agents\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 {
		t.Fatalf("warnings %v; want one, for dyvms_task_agents_available only", cfg.Warnings)
	}
	w := cfg.Warnings[0].Error()
	for _, part := range []string{"x.yml:4: metrics.exclude[0]: dyvms_task_agents_available is excluded but used by ", "alert DyvmsCustomersWaitingNoAgentAvailable (rules/dyvms.alerts.yml)", "grafana/dashboards/"} {
		if !strings.Contains(w, part) {
			t.Errorf("warning %q lacks %q", w, part)
		}
	}

	cfg, err = Parse([]byte(oneTask+"metrics:\n  agents: false\n  exclude: [dyvms_agent_info]\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 2 {
		t.Fatalf("warnings %v; want two", cfg.Warnings)
	}
	if w := cfg.Warnings[0].Error(); !strings.HasPrefix(w, "x.yml:3: metrics.agents: per-agent series are off, so these will have no data: ") || !strings.Contains(w, "alert DyvmsAgentDailyCallLimitReached") {
		t.Errorf("agents: false warning %q", w)
	}
	if w := cfg.Warnings[1].Error(); w != "x.yml:4: metrics.exclude[0]: dyvms_agent_info is an agent family: metrics.agents: false drops it already" {
		t.Errorf("redundant exclude warning %q", w)
	}
	// A task family excluded with agents off is not "dropped already".
	cfg, err = Parse([]byte(oneTask+"metrics:\n  agents: false\n  exclude: [dyvms_task_info]\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range cfg.Warnings {
		if strings.Contains(w.Error(), "drops it already") {
			t.Errorf("a task family is said to be dropped by agents: false: %v", w)
		}
	}
}

func TestClosest(t *testing.T) {
	names := collector.FamilyNames()
	for in, want := range map[string]string{
		"dyvms_agent_called":  "dyvms_agent_called",
		"dyvms_agent_caled":   "dyvms_agent_called",
		"task_channels_ivr":   "dyvms_task_channels_ivr",
		"dyvms_task_chanels":  "dyvms_task_channels",
		"process_cpu_seconds": "",
		"x":                   "",
	} {
		if got := closest(in, names); got != want {
			t.Errorf("closest(%q) = %q, want %q", in, got, want)
		}
	}
}
