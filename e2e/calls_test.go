//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// callsAlert is the alert of the call records' abandoned-call rate.
const callsAlert = "DyvmsCallsAbandonedHigh"

// callRecordsConfig is the call_records section polling every enterprise
// of cfg as often as the configuration allows, so that the records of the
// run are counted within seconds.
func callRecordsConfig(cfg simulator.Config) string {
	var b strings.Builder
	b.WriteString("call_records:\n")
	for _, e := range cfg.Enterprises {
		fmt.Fprintf(&b, "  - enterprise_id: %d\n    interval: 10s\n    lateness: 30s\n    settle: 2s\n", e.ID)
	}
	return b.String()
}

// fastAgents makes every agent of cfg pick up within 2 s and never miss a
// call: with more agents than channels no customer of a steady task is
// then abandoned (the simulator's default agents are slower than the 2 s
// rule a quarter of the time).
func fastAgents(cfg *simulator.Config) {
	for i := range cfg.Enterprises {
		for j := range cfg.Enterprises[i].Tasks {
			cfg.Enterprises[i].Tasks[j].AgentFastAnswer = floatp(1)
			cfg.Enterprises[i].Tasks[j].AgentMiss = floatp(0)
		}
	}
}

// The call-outcome chain end to end: the simulator's call records → the
// exporter's poller → Prometheus' rules → Alertmanager. All agents of one
// task pause: its abandoned-call rate goes over 3 % and DyvmsCallsAbandonedHigh
// reaches the webhook; the other task's rate stays at 0.
//
// It runs once per generation (forEachGeneration), each with its own
// simulator, Prometheus and Alertmanager.
func TestCallOutcomesEndToEnd(t *testing.T) {
	skipShort(t)
	goBin := requireTool(t, "go", "the Go toolchain builds the exporter")
	root := moduleRoot(t, goBin)
	exporterBin := testutil.BuildExporter(t)

	forEachGeneration(t, func(t *testing.T, g generation) {
		callOutcomes(t, g, root, exporterBin)
	})
}

// callOutcomes runs the scenario of TestCallOutcomesEndToEnd against one
// generation of Prometheus and Alertmanager, with a simulator of its own.
func callOutcomes(t *testing.T, g generation, root, exporterBin string) {
	const (
		ent       = 7200001
		burst     = 31
		steady    = 32
		speed     = 4 // simulated seconds per second: volume in seconds
		minVolume = 120
	)
	promBin, amBin := g.prometheus, g.alertmanager
	dir := t.TempDir()
	began := time.Now()
	zone, _ := noonZone(time.Now())
	cred := simulator.Credential{AccessKeyID: "LTAIcalls" + randomHex(t, 8), AccessKeySecret: randomHex(t, 16)}
	d := func(v time.Duration) simulator.Duration { return simulator.Duration(v) }
	noBreaks := d(1000 * time.Hour)
	simCfg := simulator.Config{
		Seed: 2, Speed: speed, Timezone: zone, Credentials: []simulator.Credential{cred},
		Enterprises: []simulator.Enterprise{{ID: ent, Channels: 60, Tasks: []simulator.Task{
			// Over-dials into a full floor of fast agents: when they pause,
			// every customer about to answer is abandoned.
			{ID: burst, Name: "e2e calls burst", StartedAgo: d(5 * time.Minute), Numbers: intp(1_000_000),
				Agents: intp(40), Concurrency: 30, DialRatio: 20, AnswerProbability: floatp(1),
				TalkMean: d(3 * time.Second), WrapupMean: durp(0), PauseEvery: noBreaks},
			{ID: steady, Name: "e2e calls steady", StartedAgo: d(5 * time.Minute), Numbers: intp(1_000_000),
				Agents: intp(10), Concurrency: 4, DialRatio: 1.5, AnswerProbability: floatp(0.5),
				TalkMean: d(20 * time.Second), WrapupMean: durp(2 * time.Second), PauseEvery: noBreaks},
		}}},
	}
	fastAgents(&simCfg)
	_, simURL := startSimulator(t, simCfg)
	warmUp(t, simURL, zone, cred, simCfg)
	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)

	secretFile := filepath.Join(dir, "access_key_secret")
	writeFile(t, secretFile, []byte(cred.AccessKeySecret+"\n"), 0o600)
	exporterCfg := filepath.Join(dir, "exporter.yml")
	writeFile(t, exporterCfg, []byte(fmt.Sprintf("endpoint: %s\ntimezone: %s\ncredentials:\n  access_key_id: %s\n  access_key_secret_file: %s\n"+
		"tasks:\n  - {enterprise_id: %d, task_id: %d}\n  - {enterprise_id: %d, task_id: %d}\n%s",
		simURL, zone, cred.AccessKeyID, secretFile, ent, burst, ent, steady, callRecordsConfig(simCfg))), 0o600)
	exporter, exporterAddr := startServer(t, dir, "exporter", exporterBin, func(addr string) []string {
		return []string{"--config.file=" + exporterCfg, "--web.listen-address=" + addr, "--log.level=debug", "--scrape.timeout-offset=100ms"}
	}, "/-/ready")
	amCfg := filepath.Join(dir, "alertmanager.yml")
	adaptAlertmanager(t, filepath.Join(root, "rules", "alertmanager.yml"), amCfg, hookSrv.URL)
	_, amAddr := startServer(t, dir, "alertmanager", amBin, func(addr string) []string {
		return []string{"--config.file=" + amCfg, "--storage.path=" + filepath.Join(dir, "am"),
			"--web.listen-address=" + addr, "--cluster.listen-address=", "--log.level=info"}
	}, "/-/ready")
	recordFile, alertFile := filepath.Join(dir, "dyvms.rules.yml"), filepath.Join(dir, "dyvms.alerts.yml")
	adaptRules(t, filepath.Join(root, "rules", "dyvms.rules.yml"), recordFile)
	adaptRules(t, filepath.Join(root, "rules", "dyvms.alerts.yml"), alertFile)
	promCfg := prometheusConfig(t, dir, exporterAddr, amAddr, recordFile, alertFile)
	_, promAddr := startServer(t, dir, "prometheus", promBin, func(addr string) []string {
		return []string{"--config.file=" + promCfg, "--storage.tsdb.path=" + filepath.Join(dir, "prometheus-data"),
			"--web.listen-address=" + addr, "--log.level=info"}
	}, "/-/ready")
	prom := promAPI{base: "http://" + promAddr}
	t.Logf("%-52s %6.1fs", "built and started", time.Since(began).Seconds())

	ratio := func(task int) (float64, bool, string) {
		res, err := prom.query(fmt.Sprintf(`dyvms:task_calls_abandoned:ratio_24h{enterprise_id="%d", task_id="%d"}`, ent, task))
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 {
			return 0, false, fmt.Sprintf("%d series", len(res))
		}
		v, err := strconv.ParseFloat(res[0].value(), 64)
		if err != nil {
			t.Fatal(err)
		}
		return v, true, res[0].value()
	}
	// Steady state: volume enough for the alert, nobody abandoned.
	t0 := time.Now()
	testutil.Eventually(t, 90*time.Second, 500*time.Millisecond, "call records counted: enough live answers of the burst task, a rate for both tasks", func() (bool, string) {
		res, err := prom.query(fmt.Sprintf(`increase(dyvms_calls_live_answered_total{enterprise_id="%d", task_id="%d"}[24h]) >= %d`, ent, burst, minVolume))
		if err != nil {
			t.Fatal(err)
		}
		_, okB, b := ratio(burst)
		_, okS, s := ratio(steady)
		return len(res) == 1 && okB && okS, fmt.Sprintf("volume reached: %v, rate of burst %s, of steady %s", len(res) == 1, b, s)
	})
	for _, task := range []int{burst, steady} {
		if v, _, _ := ratio(task); v != 0 {
			t.Fatalf("task %d: abandoned-call rate %v in steady state, want 0 (fast agents, more agents than channels)", task, v)
		}
		// Every live answer connected within 2 s: the wait histogram's
		// le="2" bucket is found, however this Prometheus spells it.
		res, err := prom.query(fmt.Sprintf(`dyvms:task_calls_answer_to_agent_within_2s:ratio_24h{enterprise_id="%d", task_id="%d"}`, ent, task))
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].value() != "1" {
			t.Fatalf("task %d: answered and connected within 2 s: %v, want 1", task, res)
		}
	}
	t.Logf("%-52s %6.1fs", "steady state counted, no call abandoned", time.Since(t0).Seconds())

	// Every agent of the burst task pauses.
	t0 = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := postJSON(ctx, simURL+"/admin/scenario", simulator.Scenario{Enterprise: ent, Task: burst, Name: simulator.ScenarioAgentsPause}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 120*time.Second, 250*time.Millisecond, callsAlert+" for the burst task at the webhook", func() (bool, string) {
		got, err := hook.notifications()
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, n := range got {
			for _, a := range n.Alerts {
				seen = append(seen, a.Labels["alertname"]+"/"+a.Labels["task_id"]+" "+a.Status+" via "+n.Receiver)
				if a.Labels["alertname"] != callsAlert || a.Status != "firing" {
					continue
				}
				if a.Labels["task_id"] != strconv.Itoa(burst) {
					t.Fatalf("%s fired for task %s: %v", callsAlert, a.Labels["task_id"], a.Labels)
				}
				if n.Receiver != "callcentre-team" || a.Labels["severity"] != "warning" || a.Labels["component"] != "callcentre" {
					t.Fatalf("%s went to %s with %v", callsAlert, n.Receiver, a.Labels)
				}
				return true, ""
			}
		}
		v, _, _ := ratio(burst)
		return false, fmt.Sprintf("burst rate %.3f; notifications %v", v, seen)
	})
	vb, _, _ := ratio(burst)
	vs, _, _ := ratio(steady)
	if vb <= 0.03 || vs != 0 {
		t.Fatalf("abandoned-call rates: burst %v (want > 3 %%), steady %v (want 0)", vb, vs)
	}
	history, err := prom.query(fmt.Sprintf(`max_over_time(ALERTS{alertname=%q, task_id="%d"}[10m])`, callsAlert, steady))
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 0 {
		t.Fatalf("%s was active for the steady task: %v", callsAlert, history)
	}
	if log := exporter.log(); strings.Contains(log, "WARNING: DATA RACE") || strings.Contains(log, "reading call records failed") {
		t.Errorf("the exporter's log:\n%s", exporter.tail(40))
	}
	t.Logf("agents pause -> %s at the webhook after %.1fs: burst %.1f %%, steady %.1f %%; whole test %.1fs",
		callsAlert, time.Since(t0).Seconds(), 100*vb, 100*vs, time.Since(began).Seconds())
}
