//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

// requireTool returns the path of a command; without it the test skips on a
// developer machine and fails in CI (CI=true installs it).
func requireTool(t *testing.T, name, hint string) string {
	t.Helper()
	return testutil.Tool(t, name, hint)
}

// generation is one pair of Prometheus and Alertmanager the end-to-end
// tests run against: Debian's packages (Prometheus 2.42, Alertmanager 0.25,
// what many servers still run) and the current ones .ci/run builds
// (Prometheus 3, Alertmanager 0.3x).
type generation struct {
	name         string // subtest name
	prometheus   string // binaries
	alertmanager string
	major        int // Prometheus' major version
}

// Versions of the current generation, as .ci/tools.sh builds them.
const (
	prometheus3Version   = "v0.316.0" // Prometheus 3.x as a Go module version
	alertmanager3Version = "v0.34.1"
)

// generations lists the generations; each resolves its binaries in its own
// subtest (a missing one skips, or fails in CI, only that subtest).
var generations = []struct {
	name  string
	major int
	find  func(t *testing.T) (prometheus, alertmanager string)
}{
	{"prometheus2", 2, func(t *testing.T) (string, string) {
		return requireTool(t, "prometheus", "Debian: apt-get install -y prometheus"),
			requireTool(t, "prometheus-alertmanager", "Debian: apt-get install -y prometheus-alertmanager")
	}},
	{"prometheus3", 3, func(t *testing.T) (string, string) {
		hint := "run .ci/run once (it builds Prometheus 3 and Alertmanager into its cache), or set the variable"
		return testutil.ToolFromEnv(t, "DYVMS_PROMETHEUS3", testutil.CachedToolPath("prometheus", prometheus3Version, "prometheus"), hint),
			testutil.ToolFromEnv(t, "DYVMS_ALERTMANAGER3", testutil.CachedToolPath("alertmanager", alertmanager3Version, "alertmanager"), hint)
	}},
}

// forEachGeneration runs f as a subtest per generation, one after the
// other (the machine is small, and the scenarios time alerts).
func forEachGeneration(t *testing.T, f func(t *testing.T, g generation)) {
	for _, gen := range generations {
		t.Run(gen.name, func(t *testing.T) {
			prom, am := gen.find(t)
			f(t, generation{name: gen.name, prometheus: prom, alertmanager: am, major: gen.major})
		})
	}
}

// process is a child process in its own process group, its output in a
// log file.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// startProcess starts bin in its own process group with its stdout and
// stderr in dir/<logName>.log. A cleanup stops the whole group (SIGTERM,
// then SIGKILL) and, if the test failed, prints the log's tail.
func startProcess(t *testing.T, dir, name, logName, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(dir, logName+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so that stopping it stops whatever it started;
	// and killed with the test binary (a panic, a -timeout, ^C), which
	// would otherwise leave it running outside the terminal's group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("---- last lines of the %s log (%s):\n%s", name, logName, p.tail(40))
		}
	})
	return p
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop terminates the process group: SIGTERM, SIGKILL after 10 s.
func (p *process) stop(t *testing.T) {
	pgid := p.cmd.Process.Pid // Setpgid: the group id is the leader's pid
	if !p.hasExited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Logf("%s did not stop within 10 s of SIGTERM; killing its process group", p.name)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.exited
		}
	}
	// Anything the process left behind in its group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// tail returns the last n lines of the log.
func (p *process) tail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *process) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// freeAddr returns a loopback address with a port nobody listened on a
// moment ago (the kernel's choice for 127.0.0.1:0).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startServer starts a child that listens on a free loopback port and waits
// until GET readyPath answers 200. Between freeAddr closing the port and the
// child binding it, something else may take it: then it tries another port.
func startServer(t *testing.T, dir, name, bin string, args func(addr string) []string, readyPath string) (*process, string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		logName := name
		if attempt > 1 {
			logName = fmt.Sprintf("%s-%d", name, attempt)
		}
		p := startProcess(t, dir, name, logName, bin, args(addr)...)
		err := waitReady(p, "http://"+addr+readyPath, 60*time.Second)
		if err == nil {
			return p, addr
		}
		if attempt < 3 && p.hasExited() && strings.Contains(p.log(), "address already in use") {
			continue
		}
		t.Fatalf("%s at %s did not become ready: %v\n---- last lines of its log:\n%s", name, addr, err, p.tail(40))
	}
}

func waitReady(p *process, u string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if p.hasExited() {
			return fmt.Errorf("exited: %v", p.waitErr)
		}
		resp, err := httpClient.Get(u)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %v", timeout, last)
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// --- Prometheus HTTP API

type promAPI struct{ base string }

type apiEnvelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	// Annotations of a query: warnings (both generations) and, since
	// Prometheus 3, infos (e.g. rate() of a series not named like a
	// counter), which Grafana shows on the panel.
	Warnings []string `json:"warnings"`
	Infos    []string `json:"infos"`
}

func (p promAPI) get(path string, params url.Values, v any) error {
	_, err := p.getAnnotated(path, params, v)
	return err
}

// getAnnotated is get, also returning the answer's warnings and infos.
func (p promAPI) getAnnotated(path string, params url.Values, v any) ([]string, error) {
	u := p.base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := httpClient.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var env apiEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
	}
	if env.Status != "success" {
		return nil, fmt.Errorf("GET %s: %s: %s: %s", path, resp.Status, env.ErrorType, env.Error)
	}
	var notes []string
	for _, w := range env.Warnings {
		notes = append(notes, "warning: "+w)
	}
	for _, i := range env.Infos {
		notes = append(notes, "info: "+i)
	}
	return notes, json.Unmarshal(env.Data, v)
}

// sample is one element of an instant vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s sample) value() string {
	v, _ := s.Value[1].(string)
	return v
}

// query evaluates an instant query now. A scalar or string result counts
// as one sample without labels.
func (p promAPI) query(q string) ([]sample, error) {
	res, _, err := p.queryAnnotated(q)
	return res, err
}

// queryAnnotated is query, also returning the answer's warnings and infos.
func (p promAPI) queryAnnotated(q string) ([]sample, []string, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	notes, err := p.getAnnotated("/api/v1/query", url.Values{"query": {q}}, &data)
	if err != nil {
		return nil, nil, err
	}
	switch data.ResultType {
	case "vector":
		var out []sample
		err := json.Unmarshal(data.Result, &out)
		return out, notes, err
	case "scalar", "string":
		var v [2]any
		err := json.Unmarshal(data.Result, &v)
		return []sample{{Value: v}}, notes, err
	default:
		return nil, notes, fmt.Errorf("query %s: unexpected result type %q", q, data.ResultType)
	}
}

type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	Value       string            `json:"value"`
}

func (p promAPI) alerts() ([]promAlert, error) {
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := p.get("/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

type promRule struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

func (p promAPI) rules() ([]promRule, error) {
	var data struct {
		Groups []struct {
			Name  string     `json:"name"`
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	if err := p.get("/api/v1/rules", nil, &data); err != nil {
		return nil, err
	}
	var out []promRule
	for _, g := range data.Groups {
		out = append(out, g.Rules...)
	}
	return out, nil
}

// --- the Alertmanager webhook receiver

// notification is one webhook call of Alertmanager (payload version 4, the
// fields the test reads).
type notification struct {
	Path     string    `json:"-"` // /<receiver name>, set by the test's URL rewrite
	At       time.Time `json:"-"`
	Receiver string    `json:"receiver"`
	Status   string    `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// webhook records every notification it receives.
type webhook struct {
	mu   sync.Mutex
	got  []notification
	errs []error
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var n notification
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		err = dec.Decode(&n)
	}
	n.Path, n.At = r.URL.Path, time.Now()
	w.mu.Lock()
	if err != nil {
		w.errs = append(w.errs, fmt.Errorf("%s %s: %v: %.200s", r.Method, r.URL.Path, err, body))
	} else {
		w.got = append(w.got, n)
	}
	w.mu.Unlock()
}

func (w *webhook) notifications() ([]notification, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]notification(nil), w.got...), errors.Join(w.errs...)
}

func postJSON(ctx context.Context, u string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, body)
	}
	return nil
}

func getJSON(u string, v any) error {
	resp, err := httpClient.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// skipShort skips a test of the whole chain under go test -short: each
// starts Prometheus and Alertmanager (twice, one per generation) and runs
// for tens of seconds, while -short is for the quick check of the code.
// The unit tests of the package's helpers still run.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end chain (real Prometheus and Alertmanager): not with -short")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuilds()
	os.Exit(code)
}
