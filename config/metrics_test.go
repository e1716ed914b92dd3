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
			"x.yml:3: metrics.agent_states: unknown key; valid keys: agent_status, agents, exclude, enterprise_agents"}},
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

// The call centre's families: metrics.exclude names them as it names the
// task families, with the enterprise's read success kept as the task's is,
// the pollers' health refused with its reason, and the same warnings.
func TestMetricsCallCentreFamilies(t *testing.T) {
	cfg, err := Parse([]byte(oneTask+"metrics:\n  enterprise_agents: true\n  exclude:\n    - dyvms_enterprise_agents\n    - dyvms_enterprise_agent_state\n    - dyvms_enterprise_agent_state_duration_seconds\n    - dyvms_enterprise_agents_without_series\n    - dyvms_queue_info\n    - dyvms_queue_service_level_seconds\n    - dyvms_inbound_calls_total\n    - dyvms_inbound_answer_wait_seconds\n    - dyvms_inbound_abandon_wait_seconds\nenterprises:\n  - {enterprise_id: 1, online_agents: true}\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Metrics.EnterpriseAgents || len(cfg.Metrics.Exclude) != 9 {
		t.Errorf("metrics %+v", cfg.Metrics)
	}
	warned := map[string]bool{}
	for _, w := range cfg.Warnings {
		warned[w.Field] = true
		if !strings.Contains(w.Msg, "is excluded but used by ") || !strings.Contains(w.Msg, "dyvms:") && !strings.Contains(w.Msg, "alert Dyvms") && !strings.Contains(w.Msg, "dashboard") {
			t.Errorf("warning %v", w)
		}
	}
	// The shipped rules and alerts read the online agents, the inbound
	// counts, the answer wait and the queues' thresholds (shipped.go is
	// regenerated from them).
	for _, f := range []string{"metrics.exclude[0]", "metrics.exclude[5]", "metrics.exclude[6]", "metrics.exclude[7]"} {
		if !warned[f] {
			t.Errorf("no warning for %s: %v", f, cfg.Warnings)
		}
	}

	_, err = Parse([]byte(oneTask+"metrics:\n  exclude:\n    - dyvms_enterprise_agents_scrape_success\n    - dyvms_inbound_call_records_lag_seconds\n    - dyvms_queue_list_errors_total\n"), "x.yml")
	want := strings.Join([]string{
		"x.yml:4: metrics.exclude[0]: dyvms_enterprise_agents_scrape_success cannot be excluded: it is the only series of an enterprise whose read failed",
		`x.yml:5: metrics.exclude[1]: unknown family "dyvms_inbound_call_records_lag_seconds" (the pollers' health series cannot be excluded: they are how a stalled poller shows)`,
		`x.yml:6: metrics.exclude[2]: unknown family "dyvms_queue_list_errors_total" (the pollers' health series cannot be excluded: they are how a stalled poller shows)`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant\n%s", err, want)
	}

	// Off by default, and excluding what it would write says so.
	cfg, err = Parse([]byte(oneTask+"metrics:\n  exclude: [dyvms_enterprise_agent_state]\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Metrics.EnterpriseAgents {
		t.Errorf("enterprise_agents is on by default")
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Error() != "x.yml:3: metrics.exclude[0]: dyvms_enterprise_agent_state is written only with metrics.enterprise_agents: true, which is off" {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	if _, err := Parse([]byte(oneTask+"metrics:\n  enterprise_agents: 2\n"), "x.yml"); err == nil || !strings.Contains(err.Error(), "x.yml:3") {
		t.Errorf("enterprise_agents: 2 gives %v", err)
	}
}

// enterprise_agents without an enterprise read with online_agents loads,
// with a warning at its line; with one, no warning.
func TestEnterpriseAgentsWithoutOnlineAgents(t *testing.T) {
	cfg, err := Parse([]byte(oneTask+"metrics:\n  enterprise_agents: true\nenterprises:\n  - {enterprise_id: 1, queues: {}}\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Error() != "x.yml:3: metrics.enterprise_agents: no enterprises entry has online_agents: true, so there are no per-agent series to write" {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	cfg, err = Parse([]byte(oneTask+"metrics:\n  enterprise_agents: true\nenterprises:\n  - {enterprise_id: 1, online_agents: true}\n"), "x.yml")
	if err != nil || len(cfg.Warnings) != 0 {
		t.Errorf("with online_agents: %v, warnings %v", err, cfg.Warnings)
	}
}
