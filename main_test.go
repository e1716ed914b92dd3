package main

// End-to-end in-process tests: the real binary, built once, run against the
// simulator on loopback; scraped, reloaded by SIGHUP and over HTTP, checked
// for secrets and against the metrics tables of docs/metrics.md.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/simulator"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

const (
	e2eKeyID  = "LTAIe2etestkey"
	e2eSecret = "e2e-SECRET-must-never-show-9f8e7d"
)

// exporterBinary is the exporter built once per test run.
func exporterBinary(t *testing.T) string {
	t.Helper()
	return testutil.BuildExporter(t)
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	code := m.Run()
	testutil.RemoveBuilds()
	os.Exit(code)
}

// startSimulator serves a small generated call centre: 2 enterprises × 3
// tasks × 5 agents, with the e2e key.
func startSimulator(t *testing.T) (string, *simulator.Simulator) {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(fmt.Sprintf(`
seed: 7
speed: 20
credentials:
  - access_key_id: %s
    access_key_secret: %s
generate:
  enterprises: 2
  tasks_per_enterprise: 3
  agents_per_task: 5
`, e2eKeyID, e2eSecret)))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return srv.URL, sim
}

func simTasks(t *testing.T) [][2]int64 {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte("credentials: [{access_key_id: a, access_key_secret: b}]\ngenerate: {enterprises: 2, tasks_per_enterprise: 3, agents_per_task: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]int64
	for _, e := range cfg.Enterprises {
		for _, tk := range e.Tasks {
			out = append(out, [2]int64{e.ID, tk.ID})
		}
	}
	return out
}

func writeExporterConfig(t *testing.T, path, endpoint, secretFile string, tasks [][2]int64, discover ...int64) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "endpoint: %s\ncredentials:\n  access_key_id: %s\n  access_key_secret_file: %s\n", endpoint, e2eKeyID, secretFile)
	if len(discover) > 0 {
		b.WriteString("discovery:\n")
		for _, e := range discover {
			fmt.Fprintf(&b, "  - enterprise_id: %d\n    types: [1]\n", e)
		}
	}
	b.WriteString("tasks:\n")
	for _, tk := range tasks {
		fmt.Fprintf(&b, "  - enterprise_id: %d\n    task_id: %d\n", tk[0], tk[1])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

type exporterProc struct {
	cmd  *exec.Cmd
	url  string
	logs *testutil.SyncBuffer
}

func startExporter(t *testing.T, args ...string) *exporterProc {
	t.Helper()
	return startProcess(t, exporterBinary(t), nil, args...)
}

// startProcess runs bin as the exporter on a free loopback port, with env
// added to the test's environment, and waits until it is ready.
func startProcess(t *testing.T, bin string, env []string, args ...string) *exporterProc {
	t.Helper()
	// Port 0: the exporter takes a port no one else has, and its log says
	// which (a port found free first could be taken before it listens).
	p := &exporterProc{logs: &testutil.SyncBuffer{}}
	p.cmd = exec.Command(bin, append([]string{"--web.listen-address=127.0.0.1:0", "--log.level=debug"}, args...)...)
	p.cmd.Env = append(append(os.Environ(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("exporter log:\n%s", p.logs.String())
		}
	})
	p.url = "http://" + listenAddress(t, p.logs)
	testutil.EventuallyTrue(t, 20*time.Second, "exporter ready", func() bool {
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape parses /metrics into families.
func scrape(t *testing.T, p *exporterProc) (string, map[string]*familyView) {
	t.Helper()
	code, body := get(t, p.url+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics answered %d: %s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	out := map[string]*familyView{}
	for name, mf := range mfs {
		fv := &familyView{}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			v := m.GetGauge().GetValue()
			if m.Counter != nil {
				v = m.GetCounter().GetValue()
			}
			fv.samples = append(fv.samples, sample{labels, v})
		}
		out[name] = fv
	}
	return body, out
}

type sample struct {
	labels map[string]string
	value  float64
}

type familyView struct{ samples []sample }

func (f *familyView) byLabel(name, value string) (float64, bool) {
	for _, s := range f.samplesOrNil() {
		if s.labels[name] == value {
			return s.value, true
		}
	}
	return 0, false
}

func (f *familyView) samplesOrNil() []sample {
	if f == nil {
		return nil
	}
	return f.samples
}

// task returns the value for one task (and optional extra label matches), or ok=false.
func (f *familyView) task(e, tk int64, extra ...string) (float64, bool) {
	if f == nil {
		return 0, false
	}
outer:
	for _, s := range f.samples {
		if s.labels["enterprise_id"] != fmt.Sprint(e) || s.labels["task_id"] != fmt.Sprint(tk) {
			continue
		}
		for i := 0; i+1 < len(extra); i += 2 {
			if s.labels[extra[i]] != extra[i+1] {
				continue outer
			}
		}
		return s.value, true
	}
	return 0, false
}

func (f *familyView) tasks() map[string]bool {
	out := map[string]bool{}
	if f != nil {
		for _, s := range f.samples {
			out[s.labels["enterprise_id"]+"/"+s.labels["task_id"]] = true
		}
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	endpoint, sim := startSimulator(t)
	all := simTasks(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(e2eSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "config.yml")
	first := [][2]int64{all[0], all[1], {all[0][0], 999999}} // the last one does not exist
	// The second enterprise is also discovered, so discovery's metrics and
	// its tasks show up too.
	writeExporterConfig(t, cfgFile, endpoint, secretFile, first, all[len(all)-1][0])
	p := startExporter(t, "--config.file="+cfgFile)
	testutil.EventuallyTrue(t, 10*time.Second, "the first discovery listing", func() bool {
		_, f := scrape(t, p)
		v, ok := f["dyvms_discovery_tasks"].byLabel("enterprise_id", fmt.Sprint(all[len(all)-1][0]))
		return ok && v > 0
	})

	// The second task is throttled on every call: it fails alone after its
	// retries, which are counted, and the first task is intact.
	throttled := first[1]
	if err := sim.SetFaults(simulator.Faults{Rules: []simulator.FaultRule{{Kind: "throttle", Enterprise: throttled[0], Task: throttled[1], TimeLeft: simulator.Duration(10 * time.Millisecond)}}}); err != nil {
		t.Fatal(err)
	}
	scrape(t, p)
	_, fams := scrape(t, p)
	if v, ok := fams["dyvms_task_scrape_success"].task(throttled[0], throttled[1]); !ok || v != 0 {
		t.Errorf("throttled task: scrape_success = %v (present %v), want 0", v, ok)
	}
	if v, ok := fams["dyvms_task_scrape_success"].task(first[0][0], first[0][1]); !ok || v != 1 {
		t.Errorf("healthy task next to a throttled one: scrape_success = %v, want 1", v)
	}
	retries := 0.0
	for _, s := range fams["dyvms_api_retries_total"].samplesOrNil() {
		if s.labels["code"] == "Throttling.User" {
			retries += s.value
		}
	}
	if retries < 1 {
		t.Errorf("no retries counted for Throttling.User: %v", fams["dyvms_api_retries_total"].samplesOrNil())
	}
	throttledFams := fams
	if err := sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}

	// Twice: the API counters are gathered before the tasks are read, so the
	// first scrape's own calls show in the second.
	scrape(t, p)
	body, fams := scrape(t, p)
	for name, f := range throttledFams {
		if fams[name] == nil {
			fams[name] = f // conditional families (retries) count for the README check
		}
	}
	for _, tk := range first[:2] {
		if v, ok := fams["dyvms_task_scrape_success"].task(tk[0], tk[1]); !ok || v != 1 {
			t.Errorf("task %v: scrape_success = %v (present %v), want 1", tk, v, ok)
		}
		if v, ok := fams["dyvms_task_agents_assigned"].task(tk[0], tk[1]); !ok || v != 5 {
			t.Errorf("task %v: agents_assigned = %v, want the simulator's 5", tk, v)
		}
		n := 0
		for _, s := range fams["dyvms_task_status"].samples {
			if s.labels["task_id"] == fmt.Sprint(tk[1]) && s.labels["enterprise_id"] == fmt.Sprint(tk[0]) {
				n += int(s.value)
			}
		}
		if n != 1 {
			t.Errorf("task %v: %d task states are 1", tk, n)
		}
	}
	// The unknown task fails alone: success 0, nothing else, HTTP 200.
	bad := first[2]
	if v, ok := fams["dyvms_task_scrape_success"].task(bad[0], bad[1]); !ok || v != 0 {
		t.Errorf("unknown task: scrape_success = %v (present %v), want 0", v, ok)
	}
	for name, f := range fams {
		if name == "dyvms_task_scrape_success" || name == "dyvms_task_scrape_duration_seconds" {
			continue
		}
		if _, ok := f.task(bad[0], bad[1]); ok {
			t.Errorf("failed task exports %s", name)
		}
	}
	if v, ok := fams["dyvms_api_requests_total"].task(0, 0); ok {
		t.Errorf("api_requests_total has task labels: %v", v)
	}
	codes := map[string]float64{}
	if fams["dyvms_api_requests_total"] == nil {
		t.Fatal("dyvms_api_requests_total missing")
	}
	for _, s := range fams["dyvms_api_requests_total"].samples {
		codes[s.labels["code"]] += s.value
	}
	if codes["OK"] < 2 || codes["isv.INVALID_PARAMETERS"] < 1 {
		t.Errorf("dyvms_api_requests_total by code = %v, want OK ≥ 2 and isv.INVALID_PARAMETERS ≥ 1", codes)
	}
	for _, name := range []string{"dyvms_exporter_build_info", "dyvms_exporter_config_last_reload_successful", "dyvms_exporter_config_last_reload_success_timestamp_seconds"} {
		if fams[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	checkREADMETable(t, fams)
	checkPromtool(t, body)

	// SIGHUP with a changed task list: the new list is scraped.
	second := [][2]int64{all[2], all[3]}
	writeExporterConfig(t, cfgFile, endpoint, secretFile, second)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{fmt.Sprintf("%d/%d", all[2][0], all[2][1]): true, fmt.Sprintf("%d/%d", all[3][0], all[3][1]): true}
	testutil.EventuallyTrue(t, 10*time.Second, "the reloaded task list to be scraped", func() bool {
		_, f := scrape(t, p)
		got := f["dyvms_task_scrape_success"].tasks()
		if len(got) != len(want) {
			return false
		}
		for k := range want {
			if !got[k] {
				return false
			}
		}
		return true
	})

	// A broken file over HTTP: refused with file and line, old list kept.
	if err := os.WriteFile(cfgFile, []byte("endpoint: "+endpoint+"\ntasks:\n  - enterprise_id: 1\n    task_id: 2\n    colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(p.url+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || !strings.Contains(string(rb), "config.yml:5") || !strings.Contains(string(rb), "colour") {
		t.Errorf("bad reload answered %d %q, want 500 naming config.yml:5 and the field", resp.StatusCode, rb)
	}
	_, f := scrape(t, p)
	if got := f["dyvms_task_scrape_success"].tasks(); len(got) != 2 || !got[fmt.Sprintf("%d/%d", all[2][0], all[2][1])] {
		t.Errorf("after a failed reload the tasks are %v, want the previous list", got)
	}
	if r := f["dyvms_exporter_config_last_reload_successful"]; r == nil || len(r.samples) != 1 || r.samples[0].value != 0 {
		t.Errorf("config_last_reload_successful after a failed reload: %+v, want 0", r)
	}
	if code, _ := get(t, p.url+"/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload answered %d, want 405", code)
	}

	// /exporter-metrics: the process metrics alone, at no API cost.
	before := sim.Stats().Requests
	code, own := get(t, p.url+"/exporter-metrics")
	if code != 200 || !strings.Contains(own, "dyvms_api_requests_total{") || !strings.Contains(own, "dyvms_exporter_build_info{") {
		t.Errorf("/exporter-metrics answered %d without the API counters or build info", code)
	}
	if strings.Contains(own, "dyvms_task_") || strings.Contains(own, "dyvms_agent_") {
		t.Errorf("/exporter-metrics contains task metrics")
	}
	if after := sim.Stats().Requests; after != before {
		t.Errorf("/exporter-metrics made %d API calls", after-before)
	}

	// The landing page and health endpoints, and no secret anywhere.
	_, landing := get(t, p.url+"/")
	if !strings.Contains(landing, "/metrics") {
		t.Errorf("landing page does not link /metrics")
	}
	body, _ = scrape(t, p)
	for what, text := range map[string]string{"metrics": body, "landing page": landing, "reload answer": string(rb), "logs": p.logs.String()} {
		if strings.Contains(text, e2eSecret) {
			t.Errorf("the secret appears in the %s", what)
		}
	}
}

var readmeMetric = regexp.MustCompile("`(dyvms_[a-z0-9_]+)(\\{[^`]*\\})?`")

// checkREADMETable compares the metric names in the tables of
// docs/metrics.md with the real exposition (this scrape plus the golden file,
// which holds the fields the simulator's live data leaves out, such as an end
// time). The call-record poller's families (dyvms_call_*, dyvms_calls_*),
// which this configuration does not turn on, are checked against the
// poller's own registry in the callrecords package.
func checkREADMETable(t *testing.T, fams map[string]*familyView) {
	t.Helper()
	page, err := os.ReadFile(filepath.Join("docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := string(page)
	documented := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(section))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		for _, m := range readmeMetric.FindAllStringSubmatch(cells[1], -1) {
			if !checkedElsewhere(m[1]) {
				documented[m[1]] = true
			}
		}
	}
	exposed := map[string]bool{}
	for name := range fams {
		if strings.HasPrefix(name, "dyvms_") && !checkedElsewhere(name) {
			exposed[name] = true
		}
	}
	golden, err := os.ReadFile("collector/testdata/golden.prom")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (dyvms_\S+)`).FindAllStringSubmatch(string(golden), -1) {
		exposed[m[1]] = true
	}
	var missing, extra []string
	for n := range exposed {
		if !documented[n] {
			missing = append(missing, n)
		}
	}
	for n := range documented {
		if !exposed[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("exposed but not in the tables of docs/metrics.md: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("in the tables of docs/metrics.md but never exposed: %v", extra)
	}
}

// checkedElsewhere are the families this configuration does not turn on,
// each checked against docs/metrics.md where it is: the call-record
// poller's in callrecords, the call-centre view's (enterprises) in
// service's TestCallCentreView (its per-agent series, dyvms_enterprise_agent_*,
// in TestExcludeCallCentreFamilies), the inbound poller's in service's
// TestCallCentreAPICost.
func checkedElsewhere(name string) bool {
	for _, p := range []string{"dyvms_call_", "dyvms_calls_", "dyvms_enterprise_agent", "dyvms_queue_", "dyvms_inbound_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// checkPromtool lints the exposition with promtool when it is installed
// (CI installs it; a developer machine may not have it).
func checkPromtool(t *testing.T, exposition string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found; CI must install the Debian prometheus package")
		}
		t.Log("promtool not installed; skipping the exposition lint")
		return
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestConfigCheck(t *testing.T) {
	bin := exporterBinary(t)
	good := exec.Command(bin, "--config.check", "--config.file=config.yml")
	if out, err := good.CombinedOutput(); err != nil {
		t.Errorf("--config.check on config.yml: %v\n%s", err, out)
	}
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(badFile, []byte("tasks:\n  - enterprise_id: 1\n    task_id: 2\n  - enterprise_id: 1\n    task_id: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := exec.Command(bin, "--config.check", "--config.file="+badFile)
	out, err := bad.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("--config.check on a bad file: err %v, want exit status 1", err)
	}
	if !strings.Contains(string(out), "bad.yml:5") || !strings.Contains(string(out), "duplicate") {
		t.Errorf("--config.check output %q does not name bad.yml:5 and the duplicate", out)
	}
	// A warning (an excluded family a shipped alert reads) is printed, and
	// the file is still valid.
	warnFile := filepath.Join(dir, "warn.yml")
	if err := os.WriteFile(warnFile, []byte("tasks: [{enterprise_id: 1, task_id: 2}]\nmetrics:\n  exclude: [dyvms_task_agents_available]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(bin, "--config.check", "--config.file="+warnFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "warning: "+warnFile+":3: metrics.exclude[0]: dyvms_task_agents_available is excluded but used by alert DyvmsCustomersWaitingNoAgentAvailable") {
		t.Errorf("--config.check with a warning: err %v, output %q", err, out)
	}
}

var listeningOn = regexp.MustCompile(`msg="Listening on" address=(\S+)`)

// listenAddress waits for the exporter's "Listening on" log line and
// returns the address it names: the port the exporter was given when told
// to listen on port 0.
func listenAddress(t *testing.T, logs *testutil.SyncBuffer) string {
	t.Helper()
	var addr string
	testutil.Eventually(t, 30*time.Second, 0, "the exporter to listen", func() (bool, string) {
		m := listeningOn.FindStringSubmatch(logs.String())
		if m == nil {
			return false, logs.String()
		}
		addr = m[1]
		return true, ""
	})
	return addr
}
