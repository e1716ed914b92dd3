package service

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/pacer"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// connCounter counts a server's open connections.
type connCounter struct {
	mu   sync.Mutex
	open map[net.Conn]bool
	max  int
}

func (c *connCounter) track(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st {
	case http.StateNew:
		c.open[conn] = true
		c.max = max(c.max, len(c.open))
	case http.StateClosed, http.StateHijacked:
		delete(c.open, conn)
	}
}

func (c *connCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

// TestReloadStormLeavesNoConnections: a storm of reloads that each build a
// new API client (an API setting changes every time), each followed by a
// scrape through the client it built, leaves open only the connections of
// the client in force: each replaced client's are closed (defect 12 of
// issue 19: every replaced client kept its idle connections for the 90 s
// idle timeout, 558 open after 400 reloads).
func TestReloadStormLeavesNoConnections(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	cfg, err := simulator.ParseConfig([]byte(fmt.Sprintf("credentials: [{access_key_id: %s, access_key_secret: %s}]\n%s", simKeyID, simSecret, simAccount)))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	conns := &connCounter{open: map[net.Conn]bool{}}
	srv := httptest.NewUnstartedServer(sim)
	srv.Config.ConnState = conns.track
	srv.Start()
	t.Cleanup(srv.Close)

	path := filepath.Join(t.TempDir(), "config.yml")
	write := func(rps int) {
		body := fmt.Sprintf("endpoint: %s\ncredentials: {access_key_id: %s, access_key_secret: %s}\napi: {requests_per_second: %d}\n"+
			"tasks:\n  - {enterprise_id: 8000001, task_id: 1}\n  - {enterprise_id: 8000001, task_id: 2}\n", srv.URL, simKeyID, simSecret, rps)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(100)
	reg := prometheus.NewRegistry()
	// No Options.HTTPClient: the clients make their own, as in production.
	svc, err := New(Options{ConfigFile: path, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.Handler(HTTPOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const reloads = 60
	for i := range reloads {
		write(101 + i%2) // another setting each time: a new client
		client := func() *pacer.Pacer { return svc.accounts[config.DefaultAccountName].api }
		before := client()
		if err := svc.Reload(); err != nil {
			t.Fatal(err)
		}
		if client() == before {
			t.Fatal("the reload kept the client; the test needs a new one each time")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape %d: %d", i, rec.Code)
		}
	}
	// The client in force keeps its connections (at most one per task
	// read at once); every other one closed its own.
	deadline := time.Now().Add(10 * time.Second)
	for conns.count() > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open after %d reloads (at most %d at once), want at most 2: replaced clients keep theirs", conns.count(), reloads, conns.max)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
