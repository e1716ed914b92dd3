package service

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/simulator"
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
	// The collector gets its own families of metrics.exclude, the queue
	// lists' and inbound calls' go to their managers (excludeElsewhere).
	got = selection(parse("metrics:\n  enterprise_agents: true\n  exclude: [dyvms_queue_info, dyvms_enterprise_agent_state, dyvms_inbound_calls_total, dyvms_agent_info]\n"))
	want = collector.Selection{EnterpriseAgents: true, Exclude: []string{"dyvms_enterprise_agent_state", "dyvms_agent_info"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("selection %+v, want %+v", got, want)
	}
	if err := got.Check(); err != nil {
		t.Errorf("a validated section fails the collector's check: %v", err)
	}
}

// TestExcludeCallCentreFamilies: each call-centre family named in
// metrics.exclude leaves a real scrape (the collector's, the queue lists'
// and the inbound poller's alike) and every other family stays; the
// enterprise's read success and the pollers' health cannot be excluded.
func TestExcludeCallCentreFamilies(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	n := func(v int) *int { return &v }
	clock := simulator.NewFakeClock(time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC))
	sim, err := simulator.New(simulator.Config{
		Seed:        5,
		Credentials: []simulator.Credential{{AccessKeyID: simKeyID, AccessKeySecret: simSecret}},
		Enterprises: []simulator.Enterprise{{ID: 7000002, Channels: 20, Tasks: []simulator.Task{
			{ID: 19, Agents: n(8), Numbers: n(1_000_000), DialRatio: 2},
		}, Inbound: &simulator.Inbound{Queues: []simulator.InboundQueue{
			{Qno: "1000", Name: "after-sales", CallsPerHour: 600, ServiceLevel: simulator.Duration(15 * time.Second)},
		}}}},
	}, clock)
	if err != nil {
		t.Fatal(err)
	}
	const base = `tasks: [{enterprise_id: 7000002, task_id: 19}]
enterprises:
  - enterprise_id: 7000002
    online_agents: true
    inbound_calls: {interval: 1m}
    queues: {refresh_interval: 10m}
metrics:
  enterprise_agents: true
`
	e := newSimEnv(t, sim, base, clock.Now)
	svc := e.svc
	write := func(metrics string) { e.writeConfig(base + metrics) }
	ctx := context.Background()
	svc.RefreshQueues(ctx)
	for range 10 {
		clock.Advance(time.Minute)
		if err := svc.PollInboundCalls(ctx); err != nil {
			t.Fatal(err)
		}
	}
	families := func() map[string]bool {
		t.Helper()
		_, _, body := e.get("/metrics", nil)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for name, f := range fams {
			if len(f.GetMetric()) > 0 {
				out[name] = true
			}
		}
		return out
	}
	all := families()
	// Every enterprise family, the per-agent ones included, is in the
	// tables of docs/metrics.md (the root test leaves them to this one).
	page, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range all {
		if strings.HasPrefix(name, "dyvms_enterprise_") && !strings.Contains(string(page), "| `"+name+"`") && !strings.Contains(string(page), "| `"+name+"{") {
			t.Errorf("%s is not in the tables of docs/metrics.md", name)
		}
	}
	excludable := []string{
		"dyvms_enterprise_agents", "dyvms_enterprise_agent_state", "dyvms_enterprise_agent_state_duration_seconds", "dyvms_enterprise_agents_without_series",
		"dyvms_queue_info", "dyvms_queue_service_level_seconds",
		"dyvms_inbound_calls_total", "dyvms_inbound_answer_wait_seconds", "dyvms_inbound_abandon_wait_seconds",
	}
	for _, name := range append(excludable, "dyvms_enterprise_agents_scrape_success", "dyvms_inbound_call_records_lag_seconds", "dyvms_queue_list_errors_total", "dyvms_task_scrape_success") {
		if !all[name] {
			t.Fatalf("%s is not in the scrape before any exclusion", name)
		}
	}
	for _, name := range excludable {
		write("  exclude: [" + name + "]\n")
		if err := svc.Reload(); err != nil {
			t.Fatal(err)
		}
		got := families()
		for f := range all {
			if got[f] == (f == name) {
				t.Errorf("excluding %s: %s present %v", name, f, got[f])
			}
		}
	}
	// Back to nothing excluded: every family returns (the inbound counts
	// were kept meanwhile).
	write("")
	if err := svc.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := families(); len(got) != len(all) {
		t.Errorf("after the exclusions: %d families, %d before", len(got), len(all))
	}
	write("  exclude: [dyvms_enterprise_agents_scrape_success]\n")
	if err := svc.Reload(); err == nil || !strings.Contains(err.Error(), "cannot be excluded") {
		t.Errorf("excluding the enterprise's read success: %v", err)
	}
}
