package service

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
)

// TestMetricsSectionHonoured: /metrics and /probe both build only what the
// metrics: section asks for, and a reload changes it for the next scrape.
func TestMetricsSectionHonoured(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig+"metrics:\n  agent_status: current\n  exclude: [dyvms_agent_info]\n", HTTPOptions{})
	for _, target := range []string{"/metrics", "/probe?enterprise_id=8000001&task_id=2"} {
		code, _, body := e.get(target, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, code, body)
		}
		if n := len(lines(body, "dyvms_agent_info{")); n != 0 {
			t.Errorf("%s: %d dyvms_agent_info series, excluded", target, n)
		}
		status, called := lines(body, "dyvms_agent_status{"), lines(body, "dyvms_agent_called{")
		if len(called) == 0 || len(status) != len(called) {
			t.Errorf("%s: %d agent_status series for %d agent rows; current mode wants one each", target, len(status), len(called))
		}
		for _, l := range status {
			if !strings.HasSuffix(l, "} 1") {
				t.Errorf("%s: %s: current mode writes 1 only", target, l)
			}
		}
	}

	e.writeConfig(defaultExporterConfig + "metrics: {agents: false}\n")
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/metrics", "/probe?enterprise_id=8000001&task_id=2"} {
		_, _, body := e.get(target, nil)
		if n := len(lines(body, "dyvms_agent_")); n != 0 {
			t.Errorf("%s: %d per-agent lines with agents: false", target, n)
		}
		if n := len(lines(body, "dyvms_task_agents_online{")); n == 0 {
			t.Errorf("%s: task-level families gone too", target)
		}
	}
}

// selection maps the metrics: section onto the collector's Selection: the
// defaults are the zero Selection (the full exposition), and every key
// reaches it.
func TestSelection(t *testing.T) {
	parse := func(doc string) config.Metrics {
		t.Helper()
		cfg, err := config.Parse([]byte("tasks: [{enterprise_id: 1, task_id: 2}]\n"+doc), "x.yml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Metrics
	}
	for _, doc := range []string{"", "metrics:\n", "metrics: {}\n"} {
		if sel := selection(parse(doc)); !reflect.DeepEqual(sel, collector.Selection{}) {
			t.Errorf("%q: the default section gives %+v, want the zero Selection (the full exposition)", doc, sel)
		}
	}
	got := selection(parse("metrics:\n  agent_status: current\n  agents: true\n  exclude:\n    - dyvms_agent_info\n    - dyvms_task_today_agents\n"))
	want := collector.Selection{AgentStatus: collector.AgentStatusCurrent, Exclude: []string{"dyvms_agent_info", "dyvms_task_today_agents"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("selection %+v, want %+v", got, want)
	}
	if err := got.Check(); err != nil {
		t.Errorf("a validated section fails the collector's check: %v", err)
	}
	if got := selection(parse("metrics: {agents: false}\n")); !got.NoAgents || got.AgentStatus != collector.AgentStatusStateSet {
		t.Errorf("agents: false gives %+v", got)
	}
}
