package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	itest "github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// loadCounter is a logger that counts configuration loads (the initial
// one and every successful reload).
type loadCounter struct{ n atomic.Int64 }

func (c *loadCounter) Log(kv ...any) error {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "msg" && kv[i+1] == "configuration loaded" {
			c.n.Add(1)
		}
	}
	return nil
}

func newCountedEnv(t *testing.T, body string) (*testEnv, *loadCounter) {
	t.Helper()
	e := newTestEnv(t, body, HTTPOptions{})
	loads := &loadCounter{}
	e.svc.logger = log.Logger(loads)
	e.svc.o.Logger = loads
	return e, loads
}

// A reload that leaves the API settings alone keeps the client and its
// pacer: the min_interval cache still answers the tasks it holds, while a
// task added by the reload is read. A change of an API setting does build
// a new one (with an empty cache).
func TestReloadKeepsPacerWhenAPISettingsUnchanged(t *testing.T) {
	const tasks = "tasks:\n  - {enterprise_id: 8000001, task_id: 1}\n  - {enterprise_id: 8000001, task_id: 2}\n"
	e := newTestEnv(t, "api: {min_interval: 1h}\n"+tasks, HTTPOptions{})
	if code, _, body := e.get("/metrics", nil); code != 200 || len(lines(body, "dyvms_task_scrape_success{")) != 2 {
		t.Fatalf("first scrape: %d\n%s", code, body)
	}
	before := e.svc.accounts["default"].api
	e.sim.ResetStats()

	// Same API settings; another task and another concurrency.
	e.writeConfig("api: {min_interval: 1h, concurrency: 3}\n" + tasks + "  - {enterprise_id: 8000001, task_id: 3}\n")
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	_, _, body := e.get("/metrics", nil)
	if n := len(lines(body, "dyvms_task_scrape_success{")); n != 3 {
		t.Fatalf("after the reload %d tasks scraped, want 3\n%s", n, body)
	}
	if st := e.sim.Stats(); st.Requests != 1 || st.Tasks["8000001/3"] != 1 {
		t.Errorf("after a reload with the same API settings the API saw %d requests (%v), want only the new task 8000001/3: the min_interval cache was dropped", st.Requests, st.Tasks)
	}
	if e.svc.accounts["default"].api != before {
		t.Error("the client and pacer were rebuilt by a reload that changed no API setting")
	}
	if got := e.svc.Scrape().Concurrency; got != 3 {
		t.Errorf("concurrency after the reload = %d, want the new 3", got)
	}

	// A changed API setting builds a new pacer, which has no cache yet.
	e.sim.ResetStats()
	e.writeConfig("api: {min_interval: 2h, concurrency: 3}\n" + tasks)
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	e.get("/metrics", nil)
	if st := e.sim.Stats(); st.Requests != 2 {
		t.Errorf("after changing api.min_interval the API saw %d requests, want 2 (a new pacer, empty cache)", st.Requests)
	}
	if e.svc.accounts["default"].api == before {
		t.Error("changing api.min_interval kept the old pacer")
	}
}

// postReload sends POST /-/reload and returns the status.
func postReload(t *testing.T, url string) int {
	resp, err := http.Post(url+"/-/reload", "", nil)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// 300 reload requests and a SIGHUP waiting at once are answered by one
// reload.
func TestConcurrentReloadsCollapse(t *testing.T) {
	e, loads := newCountedEnv(t, defaultExporterConfig)
	in := make(chan chan error)
	h, err := e.svc.Handler(HTTPOptions{}, in)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Hold every request until all 300 wait, so that the batch does not
	// depend on how fast this machine starts goroutines.
	const n = 300
	queued := make(chan chan error, n)
	all := make(chan struct{})
	go func() {
		for range n {
			queued <- <-in
		}
		close(all)
	}()
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = postReload(t, srv.URL) }()
	}
	select {
	case <-all:
	case <-time.After(2 * time.Minute):
		t.Fatal("the 300 reload requests did not all arrive")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loads.n.Store(0)
	hup := make(chan struct{}, 1) // a SIGHUP waiting too
	hup <- struct{}{}
	go e.svc.RunReloads(ctx, hup, queued)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d answered %d", i, c)
		}
	}
	if got := loads.n.Load(); got != 1 {
		t.Errorf("%d concurrent reload requests and a SIGHUP caused %d reloads, want 1", n, got)
	}
}

// Requests whose body never arrives cause no reload, however many there
// are; a whole one still does.
func TestHalfSentReloadsDoNothing(t *testing.T) {
	e, loads := newCountedEnv(t, defaultExporterConfig)
	reloads := make(chan chan error)
	h, err := e.svc.Handler(HTTPOptions{}, reloads)
	if err != nil {
		t.Fatal(err)
	}
	var active, closed atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateActive:
			active.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.svc.RunReloads(ctx, nil, reloads)
	loads.n.Store(0)

	const n = 20
	var conns []net.Conn
	for range n {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /-/reload HTTP/1.1\r\nHost: exporter\r\nContent-Length: 10\r\n\r\nabc")
		conns = append(conns, c)
	}
	itest.EventuallyTrue(t, time.Minute, "the half-sent requests to reach the server", func() bool { return active.Load() == n })
	for _, c := range conns {
		c.Close()
	}
	itest.EventuallyTrue(t, time.Minute, "the server to finish the half-sent requests", func() bool { return closed.Load() == n })
	if got := loads.n.Load(); got != 0 {
		t.Errorf("%d half-sent POSTs caused %d reloads, want 0", n, got)
	}
	if code := postReload(t, srv.URL); code != http.StatusOK {
		t.Errorf("a whole POST /-/reload answered %d", code)
	}
	if got := loads.n.Load(); got != 1 {
		t.Errorf("one whole POST caused %d reloads, want 1", got)
	}
}

// TestReloadGaugesFollowTheConfigurationInForce: one owner of the
// configuration in force. The reload gauges say success only once the new
// configuration and its client are both in force; a reload that fails,
// reading the file or building its client, leaves the gauge at 0, the
// timestamp, the configuration and the client as they were, and scrapes
// go on with the previous pair. The gauge used to be set when the file
// was read, before the client was built: a reload failing while building
// left it saying success, with the new configuration reported in force
// and the old client serving it.
func TestReloadGaugesFollowTheConfigurationInForce(t *testing.T) {
	const tasks = "tasks:\n  - {enterprise_id: 8000001, task_id: 1}\n"
	e := newTestEnv(t, tasks, HTTPOptions{})
	ok := func() float64 { return testutil.ToFloat64(e.svc.reloadOK) }
	stamp := func() float64 { return testutil.ToFloat64(e.svc.reloadTime) }
	if ok() != 1 || stamp() == 0 {
		t.Fatalf("after the first load: successful=%v timestamp=%v", ok(), stamp())
	}
	client := func() *pacer.Pacer { return e.svc.accounts[config.DefaultAccountName].api }
	good, goodAPI, goodStamp := e.svc.Config(), client(), stamp()

	failBuild := errors.New("no client today")
	e.svc.build = func(*config.Config, string, accountSettings, apiclient.CredentialsProvider, string) (*pacer.Pacer, error) {
		return nil, failBuild
	}
	for _, c := range []struct{ name, body string }{
		{"a file that does not parse", tasks + "tasks: []\n"},
		{"a client that cannot be built", "api: {requests_per_second: 3}\n" + tasks + "  - {enterprise_id: 8000001, task_id: 2}\n"},
	} {
		e.writeConfig(c.body)
		err := e.svc.Reload()
		if err == nil {
			t.Fatalf("%s: reload succeeded", c.name)
		}
		if ok() != 0 || stamp() != goodStamp {
			t.Errorf("%s: successful=%v timestamp=%v, want 0 and %v", c.name, ok(), stamp(), goodStamp)
		}
		if e.svc.Config() != good || client() != goodAPI {
			t.Errorf("%s: the configuration or client in force changed", c.name)
		}
		if code, _, body := e.get("/metrics", nil); code != 200 || len(lines(body, "dyvms_task_scrape_success{")) != 1 {
			t.Errorf("%s: the scrape does not serve the previous configuration: %d\n%s", c.name, code, body)
		}
	}
	if !errors.Is(e.svc.Reload(), failBuild) {
		t.Error("the build's error is not the reload's")
	}

	// A reload that needs no new client does not build one: it succeeds.
	e.writeConfig(tasks + "  - {enterprise_id: 8000001, task_id: 2}\n")
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	if ok() != 1 || client() != goodAPI || len(e.svc.Config().Tasks) != 2 {
		t.Errorf("a reload of the task list: successful=%v, same client %v, %d tasks", ok(), client() == goodAPI, len(e.svc.Config().Tasks))
	}
	// And once the client can be built, a reload that needs one succeeds.
	e.svc.build = e.svc.newClient
	e.writeConfig("api: {requests_per_second: 3}\n" + tasks)
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	if ok() != 1 || stamp() < goodStamp || client() == goodAPI || e.svc.Config().API.RequestsPerSecond != 3 {
		t.Errorf("a good reload: successful=%v, new client %v, rps %v", ok(), client() != goodAPI, e.svc.Config().API.RequestsPerSecond)
	}
	if n, err := testutil.GatherAndCount(e.reg, "dyvms_exporter_config_last_reload_successful", "dyvms_exporter_config_last_reload_success_timestamp_seconds"); err != nil || n != 2 {
		t.Errorf("reload gauges in the registry: %d, %v", n, err)
	}
}

// TestReloadOneSectionAtATime: a reload that edits one section keeps the
// client (and its pacer: cache, coalescing, limiter) when the section is
// not one the client is built from, rebuilds it when it is, and in both
// cases puts the edited section in force.
func TestReloadOneSectionAtATime(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(simSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{
		"tasks":        "tasks:\n  - {enterprise_id: 8000001, task_id: 1}\n",
		"discovery":    "discovery:\n  - {enterprise_id: 8000002, types: [1]}\n",
		"call_records": "call_records:\n  - {enterprise_id: 8000001, interval: 1m}\n",
		"metrics":      "metrics: {agents: true}\n",
		"api":          "api: {concurrency: 4, min_interval: 0s}\n",
	}
	body := func(edit map[string]string) string {
		var b strings.Builder
		for _, k := range []string{"tasks", "discovery", "call_records", "metrics", "api"} {
			if v, ok := edit[k]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(sections[k])
			}
		}
		return b.String()
	}
	e := newTestEnv(t, body(nil), HTTPOptions{})
	client := func() *pacer.Pacer { return e.svc.accounts[config.DefaultAccountName].api }
	for _, c := range []struct {
		section, text string
		rebuild       bool
		inForce       func(*config.Config) bool
	}{
		{"tasks", "tasks:\n  - {enterprise_id: 8000001, task_id: 1}\n  - {enterprise_id: 8000001, task_id: 2}\n", false,
			func(c *config.Config) bool { return len(c.Tasks) == 2 }},
		{"discovery", "discovery:\n  - {enterprise_id: 8000002, types: [1, 2]}\n", false,
			func(c *config.Config) bool { return len(c.Discovery[0].Types) == 2 }},
		{"call_records", "call_records:\n  - {enterprise_id: 8000001, interval: 2m}\n", false,
			func(c *config.Config) bool { return c.CallRecords[0].Interval == 2*time.Minute }},
		{"metrics", "metrics: {agents: false}\n", false,
			func(c *config.Config) bool { return !c.Metrics.Agents }},
		{"api", "api: {concurrency: 2, min_interval: 0s}\n", false,
			func(c *config.Config) bool { return c.API.Concurrency == 2 }},
		{"api", "api: {concurrency: 4, min_interval: 5s}\n", true,
			func(c *config.Config) bool { return c.API.MinInterval == 5*time.Second }},
		{"credentials", "", true,
			func(c *config.Config) bool { return c.Credentials.AccessKeySecretFile == secretFile }},
	} {
		before := client()
		if c.section == "credentials" {
			// The same key, its secret now read from a file.
			head := fmt.Sprintf("endpoint: %s\ncredentials:\n  access_key_id: %s\n  access_key_secret_file: %s\n", e.simURL, simKeyID, secretFile)
			if err := os.WriteFile(e.cfgPath, []byte(head+body(nil)), 0o600); err != nil {
				t.Fatal(err)
			}
		} else {
			e.writeConfig(body(map[string]string{c.section: c.text}))
		}
		if err := e.svc.Reload(); err != nil {
			t.Fatalf("%s: %v", c.section, err)
		}
		if rebuilt := client() != before; rebuilt != c.rebuild {
			t.Errorf("editing %s (%q): client rebuilt %v, want %v", c.section, c.text, rebuilt, c.rebuild)
		}
		if !c.inForce(e.svc.Config()) {
			t.Errorf("editing %s (%q): the edit is not in force", c.section, c.text)
		}
		if code, _, _ := e.get("/metrics", nil); code != 200 {
			t.Errorf("editing %s: scrape answered %d", c.section, code)
		}
	}
}

// A configuration with call_records loads and reloads without deadlock:
// the poller, taking the new client, asks the service the account of each
// enterprise, so the service must not hold its lock while it hands the
// client over (New hung on it). Bounded, so that the bug fails the test
// in seconds instead of hanging it.
func TestApplyDoesNotHoldTheLockOverTheLoops(t *testing.T) {
	done := make(chan *testEnv, 1)
	go func() {
		e := newTestEnv(t, "tasks:\n  - {enterprise_id: 8000001, task_id: 1}\ncall_records:\n  - {enterprise_id: 8000001}\n", HTTPOptions{})
		e.writeConfig("tasks:\n  - {enterprise_id: 8000001, task_id: 1}\ncall_records:\n  - {enterprise_id: 8000001, interval: 2m}\n")
		if err := e.svc.Reload(); err != nil {
			t.Error(err)
		}
		done <- e
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("loading a configuration with call_records did not finish in 20 s: the service deadlocked handing the client to the poller")
	}
}
