package service

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
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
	waitUntil(t, "the half-sent requests to reach the server", func() bool { return active.Load() == n })
	for _, c := range conns {
		c.Close()
	}
	waitUntil(t, "the server to finish the half-sent requests", func() bool { return closed.Load() == n })
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

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
