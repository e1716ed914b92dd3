package service

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The call-centre view against the simulator: every online agent of the
// enterprise counted by state on each scrape (one request per scrape,
// through the account's pacer), the agents of a task that goes offline
// leave the count, and the queues with their thresholds once listed.
func TestCallCentreView(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	sim := callCentreSim(t) // time stands still: task 20's agents are not on a call when they go offline
	e := newSimEnv(t, sim, `tasks:
  - {enterprise_id: 7000002, task_id: 19}
enterprises:
  - enterprise_id: 7000002
    online_agents: true
    queues:
`, nil)
	total := func(body string) (int, []string) {
		t.Helper()
		ls := lines(body, `dyvms_enterprise_agents{enterprise_id="7000002"`)
		sum := 0
		for _, l := range ls {
			v, err := strconv.Atoi(l[strings.LastIndexByte(l, ' ')+1:])
			if err != nil {
				t.Fatalf("%q", l)
			}
			sum += v
		}
		return sum, ls
	}
	_, _, body := e.get("/metrics", nil)
	if sum, ls := total(body); sum != 11 || len(ls) != 8 {
		t.Fatalf("%d agents in %d states, want the 11 agents of both tasks in all 8 states:\n%s", sum, len(ls), body)
	}
	if l := lines(body, `dyvms_enterprise_agents_scrape_success{enterprise_id="7000002"} 1`); len(l) != 1 {
		t.Fatal("no scrape_success 1")
	}
	if err := sim.Scenario(simulator.Scenario{Enterprise: 7000002, Task: 20, Name: simulator.ScenarioAgentsOffline}); err != nil {
		t.Fatal(err)
	}
	_, _, body = e.get("/metrics", nil)
	if sum, _ := total(body); sum != 8 {
		t.Fatalf("%d agents online after task 20's went offline, want 8", sum)
	}
	// Read from the registry after the scrape: within a scrape the request
	// counter may be gathered before the agents' request has finished.
	var listed float64
	got, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		for _, m := range f.GetMetric() {
			ls := map[string]string{}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			if f.GetName() == "dyvms_api_requests_total" && ls["account"] == "default" && ls["code"] == "OK" && ls["operation"] == "CloudListOnlineAgent" {
				listed = m.GetCounter().GetValue()
			}
		}
	}
	if listed != 2 {
		t.Fatalf("two scrapes, %v CloudListOnlineAgent requests on the default account", listed)
	}
	if len(lines(body, "dyvms_queue_info")) != 0 {
		t.Fatal("queues before the first listing")
	}
	e.svc.RefreshQueues(context.Background())
	_, _, body = e.get("/metrics", nil)
	for _, want := range []string{
		`dyvms_queue_info{enterprise_id="7000002",queue="1000",queue_name="售后"} 1`,
		`dyvms_queue_info{enterprise_id="7000002",queue="1001",queue_name="投诉"} 1`,
		`dyvms_queue_service_level_seconds{enterprise_id="7000002",queue="1000"} 15`,
		`dyvms_queue_service_level_seconds{enterprise_id="7000002",queue="1001"} 20`,
		`dyvms_queue_list_errors_total{enterprise_id="7000002"} 0`,
	} {
		if len(lines(body, want)) != 1 {
			t.Errorf("missing %s:\n%s", want, strings.Join(lines(body, "dyvms_queue"), "\n"))
		}
	}
	// Every family of the view is in the tables of docs/metrics.md (the
	// exporter's own test leaves these to this one: its configuration has
	// no enterprises).
	page, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for name := range fams {
		if strings.HasPrefix(name, "dyvms_enterprise_agents") || strings.HasPrefix(name, "dyvms_queue_") {
			seen++
			if !strings.Contains(string(page), "| `"+name+"`") && !strings.Contains(string(page), "| `"+name+"{") {
				t.Errorf("%s is not in the tables of docs/metrics.md", name)
			}
		}
	}
	if seen != 5 {
		t.Errorf("%d call-centre families exposed, want 5", seen)
	}
}

// An exporter that watches only the call centre (no task, no discovery)
// loads and serves it: the enterprise's agents on /metrics, no task series.
func TestCallCentreViewWithoutTasks(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	sim := callCentreSim(t)
	e := newSimEnv(t, sim, "enterprises:\n  - {enterprise_id: 7000002, online_agents: true}\n", nil)
	code, _, body := e.get("/metrics", nil)
	if code != 200 {
		t.Fatalf("/metrics answered %d", code)
	}
	if ls := lines(body, `dyvms_enterprise_agents{enterprise_id="7000002"`); len(ls) != 8 {
		t.Errorf("%d agent state series, want 8:\n%s", len(ls), body)
	}
	if ls := lines(body, `dyvms_task_`); len(ls) != 0 {
		t.Errorf("task series without a task: %v", ls)
	}
}

// callCentreSim is enterprise 7000002 with two tasks (8 and 3 agents) and
// two inbound queues, on a clock that stands still.
func callCentreSim(t *testing.T) *simulator.Simulator {
	t.Helper()
	n := func(v int) *int { return &v }
	sim, err := simulator.New(simulator.Config{
		Seed:        5,
		Credentials: []simulator.Credential{{AccessKeyID: simKeyID, AccessKeySecret: simSecret}},
		Enterprises: []simulator.Enterprise{{ID: 7000002, Channels: 20, Tasks: []simulator.Task{
			{ID: 19, Agents: n(8), Numbers: n(1_000_000), DialRatio: 2},
			{ID: 20, Agents: n(3), Numbers: n(1_000_000)},
		}, Inbound: &simulator.Inbound{Queues: []simulator.InboundQueue{
			{Qno: "1000", Name: "售后", CallsPerHour: 600, ServiceLevel: simulator.Duration(15 * time.Second)},
			{Qno: "1001", Name: "投诉", CallsPerHour: 60},
		}}}},
	}, simulator.NewFakeClock(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return sim
}
