package service

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// TestCallCentreAPICost runs an hour of a 200-agent call centre on the
// simulator's clock with the view the issue costs: a scrape every 30 s
// (CloudListOnlineAgent), inbound calls polled every minute
// (CloudQueryIbCdr, through the account's pacer), queues listed every 10
// minutes (CloudListQueue). It counts the requests the simulator received
// per operation (the figure of docs/call-centre.md), and that the inbound
// calls reached /metrics by queue and outcome, with the poller's health.
func TestCallCentreAPICost(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	n := func(v int) *int { return &v }
	clock := simulator.NewFakeClock(time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)) // 10:00 in Shanghai, no month boundary
	var tasks []simulator.Task
	for i := range 4 {
		tasks = append(tasks, simulator.Task{ID: int64(19 + i), Agents: n(50), Numbers: n(1_000_000), DialRatio: 1.2, TalkMean: simulator.Duration(60 * time.Second)})
	}
	sim, err := simulator.New(simulator.Config{
		Seed:        7,
		Credentials: []simulator.Credential{{AccessKeyID: simKeyID, AccessKeySecret: simSecret}},
		Enterprises: []simulator.Enterprise{{ID: 7000002, Channels: 300, Tasks: tasks, Inbound: &simulator.Inbound{Queues: []simulator.InboundQueue{
			{Qno: "1000", Name: "after-sales", CallsPerHour: 900, ServiceLevel: simulator.Duration(15 * time.Second)},
			{Qno: "1001", Name: "complaints", CallsPerHour: 300},
		}}}},
	}, clock)
	if err != nil {
		t.Fatal(err)
	}
	e := newSimEnv(t, sim, `api: {requests_per_second: 1000, burst: 1000}
enterprises:
  - enterprise_id: 7000002
    online_agents: true
    inbound_calls: {interval: 1m, lateness: 15m, settle: 1m, max_tracked: 200000}
    queues: {refresh_interval: 10m}
`, clock.Now)
	svc := e.svc
	ctx := context.Background()
	sim.ResetStats()
	var body string
	for s := 30; s <= 3600; s += 30 {
		clock.Advance(30 * time.Second)
		if s%600 == 30 {
			svc.RefreshQueues(ctx)
		}
		if s%60 == 0 {
			if err := svc.PollInboundCalls(ctx); err != nil {
				t.Fatalf("poll at %d s: %v", s, err)
			}
		}
		_, _, body = e.get("/metrics", nil)
	}
	st := sim.Stats()
	agents, ib, queues := st.Actions["CloudListOnlineAgent"], st.Actions["CloudQueryIbCdr"], st.Actions["CloudListQueue"]
	total := agents + ib + queues
	t.Logf("requests in an hour: %d (CloudListOnlineAgent %d, CloudQueryIbCdr %d, CloudListQueue %d); all actions %v", total, agents, ib, queues, st.Actions)
	if agents != 120 || ib < 60 || ib > 66 || queues != 6 || total > 200 || st.Requests != total {
		t.Errorf("an hour cost %d requests: %v", total, st.Actions)
	}
	// The inbound calls reached /metrics, by queue and outcome, and the
	// poller's health with them.
	var answered, offered float64
	for _, l := range lines(body, `dyvms_inbound_calls_total{enterprise_id="7000002",outcome=`) {
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err != nil {
			t.Fatal(l)
		}
		offered += v
		if strings.Contains(l, `outcome="answered",queue="1000"`) {
			answered += v
		}
	}
	if answered < 300 || offered < 700 {
		t.Errorf("%v answered in queue 1000 of %v calls:\n%s", answered, offered, strings.Join(lines(body, "dyvms_inbound"), "\n"))
	}
	for _, want := range []string{
		`dyvms_inbound_call_records_tracked{enterprise_id="7000002"}`,
		`dyvms_inbound_call_records_pages_total{enterprise_id="7000002"} ` + strconv.FormatUint(ib, 10),
		`dyvms_inbound_answer_wait_seconds_bucket{enterprise_id="7000002",queue="1000",le="15"}`,
		`dyvms_inbound_calls_total{enterprise_id="7000002",outcome="answered",queue="1001"}`,
	} {
		if len(lines(body, want)) == 0 {
			t.Errorf("missing %s", want)
		}
	}
	if lag := lines(body, `dyvms_inbound_call_records_lag_seconds{enterprise_id="7000002"} `); len(lag) != 1 || !strings.HasSuffix(lag[0], " 60") {
		t.Errorf("lag %v, want the settle (60 s)", lag)
	}
	// Every inbound family is in the tables of docs/metrics.md.
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
		if strings.HasPrefix(name, "dyvms_inbound_") {
			seen++
			if !strings.Contains(string(page), "| `"+name+"`") && !strings.Contains(string(page), "| `"+name+"{") {
				t.Errorf("%s is not in the tables of docs/metrics.md", name)
			}
		}
	}
	for _, n := range promqlcheck.CallCentreMetrics {
		fam := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suffix); ok && fams[base] != nil && fams[base].GetType() == dto.MetricType_HISTOGRAM {
				fam = base
			}
		}
		if fams[fam] == nil {
			t.Errorf("promqlcheck.CallCentreMetrics lists %s, which the exporter does not export", n)
		}
	}
	if seen < 15 {
		t.Errorf("%d inbound families exposed", seen)
	}
}
