//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The alert the scenario must raise, and where the example Alertmanager
// configuration routes it.
const (
	wantAlert    = "DyvmsCustomersWaitingNoAgentAvailable"
	wantReceiver = "callcentre-pager"
)

// Bounds of the scenario: the alert must reach the webhook this soon after
// the agents pause, and its resolution this soon after they resume.
const (
	fireWithin    = 60 * time.Second
	resolveWithin = 60 * time.Second
	// The call centre's: from the floor's pause (the first calls to miss
	// the threshold must end, be polled and fill a fifth of ccRange; then
	// the shortened for:), and from its resume (the missed calls must
	// leave ccRange).
	slFireWithin    = 120 * time.Second
	slResolveWithin = 90 * time.Second
)

// TestEndToEnd runs the scenario against each generation of Prometheus and
// Alertmanager (see generations).
// The exporter is built once, from this module like a user would.
func TestEndToEnd(t *testing.T) {
	skipShort(t)
	goBin := requireTool(t, "go", "the Go toolchain builds the exporter")
	root := moduleRoot(t, goBin)
	exporterBin := testutil.BuildExporter(t)
	forEachGeneration(t, func(t *testing.T, g generation) {
		testEndToEnd(t, g, root, exporterBin)
	})
}

func testEndToEnd(t *testing.T, g generation, root, exporterBin string) {
	began := time.Now()
	promBin, amBin := g.prometheus, g.alertmanager
	dir := t.TempDir()
	phase := func(what string, since time.Time) { t.Logf("%-52s %6.1fs", what, time.Since(since).Seconds()) }

	// The simulated API, in-process, on a loopback port.
	t0 := time.Now()
	zone, offset := noonZone(time.Now())
	cred := simulator.Credential{AccessKeyID: "LTAIe2e" + randomHex(t, 8), AccessKeySecret: randomHex(t, 16)}
	simCfg := simConfig(cred, zone)
	sim, simURL := startSimulator(t, simCfg)
	warmUp(t, simURL, zone, cred, simCfg)
	throttled := throttleOnce(t, sim)
	tasks := 0
	for _, e := range simCfg.Enterprises {
		tasks += len(e.Tasks)
	}
	t.Logf("simulator at %s, %d tasks, speed %v, call-centre zone %s (UTC%+d, local time %s)",
		simURL, tasks, simSpeed, zone, offset, time.Now().In(mustZone(t, zone)).Format("15:04"))
	// The call centre's simulator (callcentre_test.go), in real time.
	ccCred := simulator.Credential{AccessKeyID: "LTAIcc" + randomHex(t, 8), AccessKeySecret: randomHex(t, 16)}
	ccCfg := callCentreSimConfig(ccCred, zone)
	_, ccURL := startSimulator(t, ccCfg)
	warmUp(t, ccURL, zone, ccCred, ccCfg)
	t.Logf("call-centre simulator at %s, enterprise %d, real time", ccURL, callCentreEnterprise)

	// The webhook receiver Alertmanager notifies.
	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)

	// The exporter.
	exporterCfg := exporterConfig(t, dir, simURL, zone, cred, simCfg, ccURL, ccCred)
	exporter, exporterAddr := startServer(t, dir, "exporter", exporterBin, func(addr string) []string {
		return []string{"--config.file=" + exporterCfg, "--web.listen-address=" + addr, "--log.level=info",
			// 0.9 s of Prometheus' 1 s scrape timeout for the API calls
			"--scrape.timeout-offset=100ms"}
	}, "/-/ready")
	awaitDiscovery(t, sim, throttled, "http://"+exporterAddr+"/metrics")

	// Alertmanager with the example configuration, receivers redirected.
	amCfg := filepath.Join(dir, "alertmanager.yml")
	adaptAlertmanager(t, filepath.Join(root, "rules", "alertmanager.yml"), amCfg, hookSrv.URL)
	_, amAddr := startServer(t, dir, "alertmanager", amBin, func(addr string) []string {
		return []string{"--config.file=" + amCfg, "--storage.path=" + filepath.Join(dir, "am"),
			"--web.listen-address=" + addr, "--cluster.listen-address=", "--log.level=info"}
	}, "/-/ready")

	// Prometheus with the repository's rules, for: shortened, and the
	// call-centre rules' 15-minute ranges too (adaptRules).
	recordFile, alertFile := filepath.Join(dir, "dyvms.rules.yml"), filepath.Join(dir, "dyvms.alerts.yml")
	adaptRules(t, filepath.Join(root, "rules", "dyvms.rules.yml"), recordFile)
	longestFor := adaptRules(t, filepath.Join(root, "rules", "dyvms.alerts.yml"), alertFile)
	requireAlerts(t, alertFile, wantAlert, slAlert)
	// Prometheus scrapes through a recorder of the negotiation.
	scrapeAddr, recorder := startScrapeRecorder(t, exporterAddr)
	promCfg := prometheusConfig(t, dir, scrapeAddr, amAddr, recordFile, alertFile)
	_, promAddr := startServer(t, dir, "prometheus", promBin, func(addr string) []string {
		return []string{"--config.file=" + promCfg, "--storage.tsdb.path=" + filepath.Join(dir, "prometheus-data"),
			"--web.listen-address=" + addr, "--log.level=info"}
	}, "/-/ready")
	prom := promAPI{base: "http://" + promAddr}
	phase("simulator, exporter, Alertmanager, Prometheus up", t0)

	// Prometheus scrapes the exporter, and every task is read.
	t0 = time.Now()
	testutil.Eventually(t, 30*time.Second, 250*time.Millisecond, "Prometheus scrapes every task", func() (bool, string) {
		up, err := prom.query(fmt.Sprintf(`up{job=%q}`, jobName))
		if err != nil {
			return false, err.Error()
		}
		ok, err := prom.query(fmt.Sprintf(`dyvms_task_scrape_success{job=%q} == 1`, jobName))
		if err != nil {
			return false, err.Error()
		}
		return len(up) == 1 && up[0].value() == "1" && len(ok) == tasks,
			fmt.Sprintf("up = %v, %d of %d tasks read", up, len(ok), tasks)
	})
	phase("first successful scrape of every task", t0)

	// The call centre's agents, queues and first inbound calls, meanwhile
	// polled in the background.
	awaitCallCentre(t, "http://"+exporterAddr+"/metrics")

	// Metric names: everything the rules and dashboards read must be in a
	// real scrape (or be recorded by a rule, or be Prometheus' own). The
	// exporter has served Prometheus by now: its API request counter exists
	// only once a request has been made, so a fresh exporter's very first
	// answer lacks it.
	scraped := scrapeNames(t, "http://"+exporterAddr+"/metrics")
	queries := dashboardQueries(t, root)
	checkNamesAgainstScrape(t, root, scraped, queries)

	// Every rule evaluates without error.
	t0 = time.Now()
	wantRules := len(ruleExprs(t, root))
	testutil.Eventually(t, 30*time.Second, 250*time.Millisecond, "every rule evaluated", func() (bool, string) {
		rules, err := prom.rules()
		if err != nil {
			return false, err.Error()
		}
		var notYet []string
		for _, r := range rules {
			switch r.Health {
			case "ok":
			case "err":
				t.Fatalf("rule %s fails in Prometheus: %s", r.Name, r.LastError)
			default:
				notYet = append(notYet, r.Name)
			}
		}
		return len(rules) == wantRules && len(notYet) == 0, fmt.Sprintf("%d of %d rules loaded, not evaluated yet: %v", len(rules), wantRules, notYet)
	})
	phase("every rule evaluated", t0)

	// Every dashboard query has data, and neither they nor the rules get
	// a warning or an info from Prometheus.
	t0 = time.Now()
	later := sinceMidnight(t, root)
	queriesNow, queriesLater := splitSinceMidnight(t, queries, later)
	checkDashboardQueries(t, prom, queriesNow)
	checkRecordedSeries(t, g, prom, root, later)
	checkNoAnnotations(t, g, prom, queries, ruleExprs(t, root))
	phase("every dashboard query and recording rule has data, no annotation", t0)

	// What the scrapes negotiated, and what Prometheus made of them.
	checkScrapeProtocol(t, g, recorder, prom, "http://"+exporterAddr+"/metrics")

	// Steady state for longer than the longest for:, and nothing fires.
	t0 = time.Now()
	samples := int(longestFor/time.Second) + 3
	testutil.Eventually(t, longestFor+30*time.Second, 250*time.Millisecond, "steady state outlasts the longest for:", func() (bool, string) {
		res, err := prom.query(fmt.Sprintf(`count_over_time(up{job=%q}[10m]) >= %d`, jobName, samples))
		if err != nil {
			return false, err.Error()
		}
		return len(res) == 1, fmt.Sprintf("fewer than %d scrapes so far", samples)
	})
	assertOnlyExpectedAlerts(t, prom, hook, false)
	phase(fmt.Sprintf("steady state, no alert (%d scrapes, longest for: %v)", samples, longestFor), t0)

	// The call centre's whole floor pauses: its callers wait, abandon and
	// overflow. Its alert takes longer to come than burstTask's (the
	// service level is over the last ccRange), so the floor pauses first
	// and stays paused through burstTask's scenario.
	floorPaused := time.Now()
	floorScenario(t, ccURL, simulator.ScenarioAgentsPause)

	// The operator's scenario: every agent of burstTask pauses while its
	// customers are answering.
	t0 = time.Now()
	scenario(t, simURL, simulator.ScenarioAgentsPause)
	fired := testutil.Eventually(t, fireWithin, 200*time.Millisecond, wantAlert+" reaches the "+wantReceiver+" webhook", func() (bool, string) {
		return notified(t, hook, "firing")
	})
	phase("agents pause -> "+wantAlert+" at the webhook", t0)
	// The customers are still waiting: the resolution below is the agents'
	// doing, not the burst of answers running out (see simSpeed).
	firing, err := prom.query(fmt.Sprintf(`ALERTS{alertname=%q, alertstate="firing", task_id="%d"}`, wantAlert, burstTask))
	if err != nil {
		t.Fatal(err)
	}
	if len(firing) == 0 {
		t.Fatalf("%s no longer fires in Prometheus before the agents resume: the simulated queue drained on its own; slow the simulator down (simSpeed)", wantAlert)
	}
	t0 = time.Now()
	scenario(t, simURL, simulator.ScenarioAgentsResume)
	resolved := testutil.Eventually(t, resolveWithin, 200*time.Millisecond, wantAlert+" resolved at the webhook", func() (bool, string) {
		return notified(t, hook, "resolved")
	})
	phase("agents resume -> resolved at the webhook", t0)

	// The call centre: its service level falls below the target and
	// slAlert reaches the team's channel; when the floor resumes, the
	// service level recovers and the alert resolves (timed from the pause).
	testutil.Eventually(t, max(slFireWithin-time.Since(floorPaused), 5*time.Second), 200*time.Millisecond, slAlert+" reaches the "+slReceiver+" webhook", func() (bool, string) {
		return slNotified(t, hook, "firing")
	})
	slFired := time.Since(floorPaused)
	paused, pausedText := serviceLevels(t, prom)
	low := 0
	for _, v := range paused {
		if v < 0.8 {
			low++
		}
	}
	if low == 0 {
		t.Fatalf("%s fired, yet no queue's service level is below 0.8: %s", slAlert, pausedText)
	}
	checkQueriesHaveData(t, prom, queries, withDataWhileFloorPaused)
	phase("floor pauses -> "+slAlert+" at the webhook (since the pause)", floorPaused)
	t0 = time.Now()
	floorScenario(t, ccURL, simulator.ScenarioAgentsResume)
	slResolved := testutil.Eventually(t, slResolveWithin, 200*time.Millisecond, slAlert+" resolved at the webhook for every queue it fired for", func() (bool, string) {
		return slNotified(t, hook, "resolved")
	})
	recovered, recoveredText := serviceLevels(t, prom)
	for q, v := range recovered {
		if v < 0.8 {
			t.Errorf("queue %s: service level %v after %s resolved, want at least 0.8 (%s)", q, v, slAlert, recoveredText)
		}
	}
	phase("floor resumes -> "+slAlert+" resolved at the webhook", t0)
	t.Logf("service level per queue: %s while paused; %s after the resume", pausedText, recoveredText)

	// The call-centre rules since midnight have a minute of history by now.
	checkSinceMidnight(t, prom, later, queriesLater)

	assertOnlyExpectedAlerts(t, prom, hook, true)
	checkSimulatorStats(t, simURL, simCfg)
	checkCallCentreStats(t, ccURL)
	if strings.Contains(exporter.log(), "WARNING: DATA RACE") {
		t.Errorf("the exporter reported a data race:\n%s", exporter.tail(60))
	}
	t.Logf("%s fired %.1fs after the pause, resolved %.1fs after the resume; %s fired %.1fs after the floor paused, resolved %.1fs after it resumed; whole test %.1fs",
		wantAlert, fired.Seconds(), resolved.Seconds(), slAlert, slFired.Seconds(), slResolved.Seconds(), time.Since(began).Seconds())
}

func moduleRoot(t *testing.T, goBin string) string {
	t.Helper()
	out, err := runIn(".", goBin, "list", "-m", "-f", "{{.Dir}}")
	if err != nil {
		t.Fatalf("go list -m: %v\n%s", err, out)
	}
	root := strings.TrimSpace(out)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %q: %v", root, err)
	}
	return root
}

func runIn(dir, bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// startSimulator serves the simulator and its admin endpoints on a loopback
// port, as cmd/dyvms-simulator and --simulator do.
func startSimulator(t *testing.T, cfg simulator.Config) (*simulator.Simulator, string) {
	t.Helper()
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", sim.AdminHandler())
	mux.Handle("/", sim)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sim, "http://" + ln.Addr().String()
}

// throttleOnce watches the simulator for the first throttled answer (the
// fault rule of simConfig) and then removes every fault rule, well within
// the throttleTimeLeft the exporter waits before its retry. The channel
// receives the error of the removal (nil) and is closed.
func throttleOnce(t *testing.T, sim *simulator.Simulator) <-chan error {
	t.Helper()
	if len(sim.Faults().Rules) == 0 {
		t.Fatal("simConfig has no fault rule to throttle discovery with")
	}
	done, stop := make(chan error, 1), make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if sim.Stats().Faults[simulator.FaultThrottle] > 0 {
				done <- sim.SetFaults(simulator.Faults{})
				return
			}
		}
	}()
	return done
}

// awaitDiscovery waits, before Prometheus starts, until the exporter's
// discovery has been throttled once, has retried, and has listed
// discoveredEnterprise's task: from then on its scrape has
// dyvms_api_retries_total and the dyvms_discovery_* series, and the
// throttled answer is older than Prometheus' first sample.
func awaitDiscovery(t *testing.T, sim *simulator.Simulator, throttled <-chan error, metricsURL string) {
	t.Helper()
	t0 := time.Now()
	select {
	case err := <-throttled:
		if err != nil {
			t.Fatalf("removing the simulator's fault rules: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the simulator has not throttled the exporter's discovery within 30 s; stats: %+v", sim.Stats())
	}
	ent := strconv.Itoa(discoveredEnterprise)
	testutil.Eventually(t, 30*time.Second, 100*time.Millisecond, "discovery retries after the throttled answer", func() (bool, string) {
		n := sim.Stats().Enterprises[ent]
		return n >= 2, fmt.Sprintf("%d CloudQueryTask requests for enterprise %s", n, ent)
	})
	testutil.Eventually(t, 30*time.Second, 250*time.Millisecond, "the exporter shows the retry and the discovered task", func() (bool, string) {
		samples := scrapeSamples(t, metricsURL)
		retries := samples[`dyvms_api_retries_total{account="default",code="Throttling.User",operation="CloudQueryTask"}`]
		found := samples[`dyvms_discovery_tasks{enterprise_id="`+ent+`"}`]
		return retries == "1" && found == "1", fmt.Sprintf("retries %q, tasks discovered %q", retries, found)
	})
	t.Logf("%-52s %6.1fs", "discovery throttled once, retried, 1 task listed", time.Since(t0).Seconds())
}

// warmUp reads every task once with the project's API client: the first
// request for a task simulates its configured history (up to half an hour
// of calls), which must not eat into the exporter's first, 0.5 s scrape
// budget. It also proves the key pair before the exporter uses it.
func warmUp(t *testing.T, endpoint, zone string, cred simulator.Credential, cfg simulator.Config) {
	t.Helper()
	c, err := apiclient.New(apiclient.Options{
		Endpoint:    endpoint,
		Credentials: apiclient.StaticCredentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret},
		Location:    mustZone(t, zone),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, e := range cfg.Enterprises {
		for _, task := range e.Tasks {
			if _, err := c.CloudMonitorTask(ctx, e.ID, task.ID); err != nil {
				t.Fatalf("warming up the simulator, enterprise %d task %d: %v", e.ID, task.ID, err)
			}
		}
	}
}

// scrapeSamples returns the samples of one scrape of u by series, as the
// exposition writes them (name{labels in its order}), with their values.
func scrapeSamples(t *testing.T, u string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(scrapeBody(t, u), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			out[line[:i]] = line[i+1:]
		}
	}
	return out
}

func scrapeNames(t *testing.T, u string) map[string]bool {
	t.Helper()
	resp, err := httpClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	names, err := promqlcheck.NamesFromExposition(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return names
}

// scenario switches burstTask through the simulator's admin endpoint, as an
// operator would with curl.
func scenario(t *testing.T, simURL, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body := simulator.Scenario{Enterprise: burstEnterprise, Task: burstTask, Name: name}
	if err := postJSON(ctx, simURL+"/admin/scenario", body); err != nil {
		t.Fatal(err)
	}
}

// isExpected tells the alerts the run may raise: wantAlert for burstTask, and
// callsAlert (calls_test.go), which the same pause of its agents can raise;
// and those of the call centre's floor (isCallCentreExpected).
func isExpected(labels map[string]string) bool {
	return (labels["alertname"] == wantAlert || labels["alertname"] == callsAlert) &&
		labels["enterprise_id"] == strconv.Itoa(burstEnterprise) &&
		labels["task_id"] == strconv.Itoa(burstTask) ||
		isCallCentreExpected(labels)
}

// notified reports whether the webhook received wantAlert for burstTask
// with the given status, through the receiver the route must choose.
func notified(t *testing.T, hook *webhook, status string) (bool, string) {
	t.Helper()
	got, err := hook.notifications()
	if err != nil {
		t.Fatalf("the webhook received something it cannot read: %v", err)
	}
	var seen []string
	for _, n := range got {
		for _, a := range n.Alerts {
			seen = append(seen, fmt.Sprintf("%s %s %s/%s via %s", a.Status, a.Labels["alertname"], a.Labels["enterprise_id"], a.Labels["task_id"], n.Path))
			if a.Labels["alertname"] != wantAlert || !isExpected(a.Labels) || a.Status != status {
				continue
			}
			if n.Receiver != wantReceiver || n.Path != "/"+wantReceiver {
				t.Fatalf("%s went to receiver %s (%s), want %s", wantAlert, n.Receiver, n.Path, wantReceiver)
			}
			if a.Labels["severity"] != "critical" || a.Labels["component"] != "callcentre" || a.Labels["job"] != jobName {
				t.Errorf("%s labels: %v", wantAlert, a.Labels)
			}
			if d := a.Annotations["description"]; !strings.Contains(d, "task "+strconv.Itoa(burstTask)) {
				t.Errorf("%s description not templated with the task: %q", wantAlert, d)
			}
			return true, ""
		}
	}
	return false, fmt.Sprintf("%d notifications: %v", len(got), seen)
}

// assertOnlyExpectedAlerts fails on any alert other than wantAlert for
// burstTask: in the webhook's notifications, among Prometheus' active
// alerts, and in the ALERTS series of the whole run. Before the scenario
// (afterScenario false) not even that one may have fired.
func assertOnlyExpectedAlerts(t *testing.T, prom promAPI, hook *webhook, afterScenario bool) {
	t.Helper()
	ok := func(labels map[string]string) bool { return afterScenario && isExpected(labels) }
	got, err := hook.notifications()
	if err != nil {
		t.Errorf("the webhook received something it cannot read: %v", err)
	}
	for _, n := range got {
		for _, a := range n.Alerts {
			if !ok(a.Labels) {
				t.Errorf("unexpected notification to %s: %s %v", n.Receiver, a.Status, a.Labels)
			}
		}
	}
	active, err := prom.alerts()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range active {
		switch {
		case a.State == "firing" && !ok(a.Labels):
			t.Errorf("unexpected alert firing in Prometheus: %v (value %s)", a.Labels, a.Value)
		case a.State == "pending":
			t.Logf("note: alert pending in Prometheus: %v (value %s)", a.Labels, a.Value)
		}
	}
	history, err := prom.query(`max_over_time(ALERTS{alertstate="firing"}[10m])`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range history {
		names = append(names, s.Metric["alertname"])
		if !ok(s.Metric) {
			t.Errorf("an unexpected alert fired during the run: %v", s.Metric)
		}
	}
	sort.Strings(names)
	if afterScenario && len(names) == 0 {
		t.Errorf("ALERTS has no trace of %s: the history check is not working", wantAlert)
	}
}

// checkSimulatorStats asserts through /admin/stats that the exporter read
// every task and listed discoveredEnterprise's, and that every request was
// answered OK but the one CloudQueryTask throttled on purpose.
func checkSimulatorStats(t *testing.T, simURL string, cfg simulator.Config) {
	t.Helper()
	var st simulator.Stats
	if err := getJSON(simURL+"/admin/stats", &st); err != nil {
		t.Fatal(err)
	}
	for code, n := range st.Codes {
		if code != "OK" && (code != "Throttling.User" || n != 1) {
			t.Errorf("the simulator answered %s %d times", code, n)
		}
	}
	if n := st.Faults[simulator.FaultThrottle]; n != 1 {
		t.Errorf("the simulator throttled %d requests, want the 1 injected", n)
	}
	if n := st.Enterprises[strconv.Itoa(discoveredEnterprise)]; n < 2 {
		t.Errorf("enterprise %d listed only %d times", discoveredEnterprise, n)
	}
	for _, e := range cfg.Enterprises {
		for _, task := range e.Tasks {
			if k := fmt.Sprintf("%d/%d", e.ID, task.ID); st.Tasks[k] < 5 {
				t.Errorf("task %s read only %d times", k, st.Tasks[k])
			}
		}
	}
	t.Logf("simulator: %d requests, codes %v", st.Requests, st.Codes)
}
