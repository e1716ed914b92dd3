//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/grafana"
	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
	"github.com/dyvms-community/dyvms_exporter/service"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The exporters of TestModesGiveTheSameAnswers, one Prometheus job each.
var modeJobs = []struct{ job, metrics string }{
	{"dyvms_state_set", "{agent_status: state_set}"},
	{"dyvms_current", "{agent_status: current}"},
	{"dyvms_no_agents", "{agents: false}"},
}

// TestModesGiveTheSameAnswers: three exporters read the same fixed answers
// with metrics.agent_status state_set, current, and metrics.agents false;
// one real Prometheus scrapes them as three jobs and runs the recording
// rules. Every dashboard query, recorded series and alert expression that
// reads task or agent families must give the same answer for the state-set
// and current jobs; without agents, those reading per-agent series are empty
// and the others give the state-set answer.
func TestModesGiveTheSameAnswers(t *testing.T) {
	skipShort(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cred := simulator.Credential{AccessKeyID: "LTAImodes" + randomHex(t, 8), AccessKeySecret: randomHex(t, 16)}
	simURL, tasks := startFixtureSimulator(t, root, dir, cred)

	var targets []string
	for _, m := range modeJobs {
		targets = append(targets, startInProcessExporter(t, dir, m.job, m.metrics, simURL, cred, tasks))
	}
	forEachGeneration(t, func(t *testing.T, g generation) {
		compareModes(t, root, dir, g.prometheus, targets, len(tasks))
	})
}

func compareModes(t *testing.T, root, dir, bin string, targets []string, tasks int) {
	pdir := filepath.Join(dir, "prom-"+randomHex(t, 4))
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	var scrapes []any
	for i, m := range modeJobs {
		scrapes = append(scrapes, map[string]any{"job_name": m.job, "static_configs": []any{map[string]any{"targets": []string{targets[i]}}}})
	}
	// The recording rules as shipped, evaluated every second.
	recordFile := filepath.Join(pdir, "dyvms.rules.yml")
	adaptRules(t, filepath.Join(root, promqlcheck.RecordingRulesFile), recordFile)
	cfgPath := filepath.Join(pdir, "prometheus.yml")
	writeYAML(t, cfgPath, map[string]any{
		"global":         map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"rule_files":     []string{recordFile},
		"scrape_configs": scrapes,
	})
	_, addr := startServer(t, pdir, "prometheus", bin, func(addr string) []string {
		return []string{"--config.file=" + cfgPath, "--storage.tsdb.path=" + filepath.Join(pdir, "data"), "--web.listen-address=" + addr, "--log.level=warn"}
	}, "/-/ready")
	prom := promAPI{base: "http://" + addr}

	// Enough scrapes and rule evaluations for the 1m rate windows of the
	// dashboards, every task read by every job.
	testutil.Eventually(t, 60*time.Second, 250*time.Millisecond, "every job scraped 8 times, every task read", func() (bool, string) {
		var status []string
		ready := true
		for _, m := range modeJobs {
			n, err := prom.query(fmt.Sprintf(`count_over_time(up{job=%q}[1m]) >= 8`, m.job))
			if err != nil {
				return false, err.Error()
			}
			ok, err := prom.query(fmt.Sprintf(`dyvms_task_scrape_success{job=%q} == 1`, m.job))
			if err != nil {
				return false, err.Error()
			}
			ready = ready && len(n) == 1 && len(ok) == tasks
			status = append(status, fmt.Sprintf("%s: %d scrapes ok, %d tasks", m.job, len(n), len(ok)))
		}
		rules, err := prom.rules()
		if err != nil {
			return false, err.Error()
		}
		for _, r := range rules {
			if r.Health == "err" {
				t.Fatalf("rule %s fails: %s", r.Name, r.LastError)
			}
			ready = ready && r.Health == "ok"
		}
		return ready && len(rules) > 0, strings.Join(status, "; ") + fmt.Sprintf("; %d rules", len(rules))
	})

	recorded, alerts := ruleExpressions(t, root)
	perAgent := func(name string) bool { return strings.HasPrefix(name, "dyvms_agent_") }
	comparable := map[string]bool{}
	for _, f := range collector.Catalogue() {
		comparable[f.Name] = f.Name != "dyvms_task_scrape_duration_seconds" // varies from scrape to scrape
	}
	// A recorded name is comparable or per-agent if what it reads is.
	var reads func(name string, pred func(string) bool, all bool) bool
	reads = func(name string, pred func(string) bool, all bool) bool {
		expr, ok := recorded[name]
		if !ok {
			return pred(name)
		}
		return readsAll(t, expr, func(n string) bool { return reads(n, pred, all) }, all)
	}

	type query struct{ key, expr string }
	var queries []query
	for name := range recorded {
		queries = append(queries, query{"record " + name, fmt.Sprintf(`{__name__=%q, job="$job"}`, name)})
	}
	for name, expr := range alerts {
		queries = append(queries, query{"alert " + name, withJob(t, expr)})
	}
	for _, d := range grafana.Dashboards() {
		var walk func(ps []grafana.Panel)
		walk = func(ps []grafana.Panel) {
			for _, p := range ps {
				for _, tg := range p.Targets {
					queries = append(queries, query{d.File + "/" + p.Title + "/" + tg.RefID, tg.Expr})
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	sort.Slice(queries, func(i, j int) bool { return queries[i].key < queries[j].key })

	compared, withData, emptyWithoutAgents := 0, 0, 0
	var empty []string
	for _, q := range queries {
		expr := q.expr
		if strings.HasPrefix(q.key, "record ") {
			if !reads(strings.TrimPrefix(q.key, "record "), func(n string) bool { return comparable[n] }, true) {
				continue
			}
		} else if !readsAll(t, substituteFor(t, expr, "x"), func(n string) bool { return reads(n, func(m string) bool { return comparable[m] }, true) }, true) {
			continue
		}
		agentOnly := strings.HasPrefix(q.key, "record ") && reads(strings.TrimPrefix(q.key, "record "), perAgent, false) ||
			!strings.HasPrefix(q.key, "record ") && readsAll(t, substituteFor(t, expr, "x"), func(n string) bool { return reads(n, perAgent, false) }, false)
		// On a loaded machine a scrape can miss its 1 s timeout, and the
		// job's series go stale until the next one: ask again a few times
		// before calling an answer empty or different. A real difference
		// between the modes persists.
		var answers map[string]string
		for attempt := 0; attempt < 10; attempt++ {
			if attempt > 0 {
				time.Sleep(300 * time.Millisecond)
			}
			answers = map[string]string{}
			for _, m := range modeJobs {
				res, err := prom.query(substituteFor(t, expr, m.job))
				if err != nil {
					t.Fatalf("%s: %v", q.key, err)
				}
				answers[m.job] = normalise(res)
			}
			noAgentsOK := agentOnly && answers["dyvms_no_agents"] == "" || !agentOnly && answers["dyvms_no_agents"] == answers["dyvms_state_set"]
			same := answers["dyvms_current"] == answers["dyvms_state_set"] && noAgentsOK
			if same && (answers["dyvms_state_set"] != "" || attempt >= 2) {
				break // an empty answer thrice is the query's, not a missed scrape
			}
		}
		compared++
		if answers["dyvms_state_set"] != "" {
			withData++
		} else {
			empty = append(empty, q.key)
		}
		if answers["dyvms_current"] != answers["dyvms_state_set"] {
			t.Errorf("%s: current mode answers differently\nstate_set: %s\ncurrent:   %s\nquery: %s", q.key, answers["dyvms_state_set"], answers["dyvms_current"], expr)
		}
		switch {
		case agentOnly && answers["dyvms_no_agents"] != "":
			t.Errorf("%s reads per-agent series but has data without them: %s", q.key, answers["dyvms_no_agents"])
		case agentOnly:
			emptyWithoutAgents++
		case answers["dyvms_no_agents"] != answers["dyvms_state_set"]:
			t.Errorf("%s: without per-agent series a task-level query answers differently\nstate_set: %s\nno agents: %s", q.key, answers["dyvms_state_set"], answers["dyvms_no_agents"])
		}
	}
	t.Logf("%d queries compared across the modes (%d with data; %d per-agent ones empty without agents)", compared, withData, emptyWithoutAgents)
	if compared < 40 || withData < compared*3/4 || emptyWithoutAgents < 8 {
		t.Errorf("too little compared: %d queries, %d with data, %d per-agent; empty: %v", compared, withData, emptyWithoutAgents, empty)
	}
}

// substituteFor fills a dashboard query's variables for one job (every
// instance, enterprise and task) and a rule query's "$job".
func substituteFor(t *testing.T, expr, job string) string {
	t.Helper()
	values := map[string]string{}
	for k, v := range templateValues {
		values[k] = v
	}
	values["job"] = job
	s, missing := promqlcheck.SubstituteWith(expr, values)
	if len(missing) > 0 {
		t.Fatalf("no value for %v in %s", missing, expr)
	}
	return s
}

// withJob adds job="$job" to every selector of a rule expression.
func withJob(t *testing.T, expr string) string {
	t.Helper()
	e, err := promqlcheck.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	for _, vs := range promqlcheck.Selectors(e) {
		vs.LabelMatchers = append(vs.LabelMatchers, labels.MustNewMatcher(labels.MatchEqual, "job", "$job"))
	}
	return e.String()
}

// readsAll tells whether pred holds for all (or, with all false, any) of
// the metric names expr reads.
func readsAll(t *testing.T, expr string, pred func(string) bool, all bool) bool {
	t.Helper()
	e, err := promqlcheck.Parse(expr)
	if err != nil {
		t.Fatalf("%v: %s", err, expr)
	}
	sels := promqlcheck.Selectors(e)
	for _, vs := range sels {
		if pred(promqlcheck.MetricName(vs)) != all {
			return !all
		}
	}
	return all && len(sels) > 0
}

// ruleExpressions returns the recording rules (record → expr) and the
// alerts (name → expr) of the repository's rule files.
func ruleExpressions(t *testing.T, root string) (map[string]string, map[string]string) {
	t.Helper()
	recorded, alerts := map[string]string{}, map[string]string{}
	eachRule(t, root, func(_ string, r promqlcheck.Rule) {
		if r.Record != "" {
			recorded[r.Record] = r.Expr
		} else {
			alerts[r.Alert] = r.Expr
		}
	})
	return recorded, alerts
}

// normalise renders a result without job and instance (the modes differ in
// both), one sample a line, sorted.
func normalise(res []sample) string {
	var lines []string
	for _, s := range res {
		var ls []string
		for k, v := range s.Metric {
			if k != "job" && k != "instance" {
				ls = append(ls, k+"="+v)
			}
		}
		sort.Strings(ls)
		lines = append(lines, "{"+strings.Join(ls, ",")+"} "+s.value())
	}
	sort.Strings(lines)
	return strings.Join(lines, " ")
}

// startFixtureSimulator serves fixed answers, the same on every call, so
// that three exporters reading at different moments see the same call
// centre: the vendor's example (task 19), a task whose agents are in every
// state, two of each, with limits and removed agents (31), and a task
// without agent rows (32).
func startFixtureSimulator(t *testing.T, root, dir string, cred simulator.Credential) (string, [][2]int64) {
	t.Helper()
	example, err := os.ReadFile(filepath.Join(root, "apiclient", "testdata", "cloudmonitortask_example.json"))
	if err != nil {
		t.Fatal(err)
	}
	const ent = 7000002
	fixtures := []simulator.Fixture{{Enterprise: ent, Task: 19, Body: string(example)}}
	variant := func(task int64, agents, removed []string) {
		var doc map[string]any
		if err := json.Unmarshal(example, &doc); err != nil {
			t.Fatal(err)
		}
		data := doc["Data"].(map[string]any)
		proto := data["AgentStatisticList"].([]any)[0].(map[string]any)
		rows := func(states []string, base int) []any {
			out := []any{}
			for i, st := range states {
				a := map[string]any{}
				for k, v := range proto {
					a[k] = v
				}
				a["Cno"], a["Name"], a["AgentStatus"] = fmt.Sprint(base+i), fmt.Sprintf("坐席 %d", i), st
				a["CallLimit"], a["TodayAnsweredCount"], a["CalledCount"], a["NoBridgeCount"] = 50+i, i, 10+i, i%3
				out = append(out, a)
			}
			return out
		}
		data["AgentStatisticList"], data["RemovedAgentStatisticList"] = rows(agents, 2000), rows(removed, 3000)
		body, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		fixtures = append(fixtures, simulator.Fixture{Enterprise: ent, Task: task, Body: string(body)})
	}
	every := []string{"stateIdle", "statePause", "stateInuse", "stateCalling", "stateWrapup", "", "stateOnMars"}
	variant(31, append(every, every...), []string{"stateIdle", ""})
	variant(32, nil, nil)
	sim, err := simulator.New(simulator.Config{
		Seed: 1, Credentials: []simulator.Credential{cred},
		Enterprises: []simulator.Enterprise{{ID: ent, Channels: 10}},
		Fixtures:    fixtures,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return srv.URL, [][2]int64{{ent, 19}, {ent, 31}, {ent, 32}}
}

// startInProcessExporter runs the exporter's service (what main.go wires)
// with the given metrics: section on a loopback port and returns its
// host:port.
func startInProcessExporter(t *testing.T, dir, name, metrics, simURL string, cred simulator.Credential, tasks [][2]int64) string {
	t.Helper()
	secret := filepath.Join(dir, name+".secret")
	writeFile(t, secret, []byte(cred.AccessKeySecret+"\n"), 0o600)
	var b strings.Builder
	fmt.Fprintf(&b, "endpoint: %s\ncredentials:\n  access_key_id: %s\n  access_key_secret_file: %s\nmetrics: %s\ntasks:\n", simURL, cred.AccessKeyID, secret, metrics)
	for _, tk := range tasks {
		fmt.Fprintf(&b, "  - {enterprise_id: %d, task_id: %d}\n", tk[0], tk[1])
	}
	cfg := filepath.Join(dir, name+".yml")
	writeFile(t, cfg, []byte(b.String()), 0o600)
	reg := prometheus.NewRegistry()
	svc, err := service.New(service.Options{ConfigFile: cfg, Logger: log.NewNopLogger(), Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.Handler(service.HTTPOptions{TimeoutOffset: 100 * time.Millisecond}, make(chan chan error))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
