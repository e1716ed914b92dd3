package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/simulator"
)

const (
	simKeyID  = "LTAIservicetestkey"
	simSecret = "service-test-secret"
)

// The simulated account: enterprises 8000001..8000003 with tasks 1..4
// each, all predictive. The exporter's test configuration names
// 8000001 by static tasks and 8000002 by discovery, never 8000003.
const simAccount = `
seed: 11
generate: {enterprises: 3, tasks_per_enterprise: 4, agents_per_task: 2, max_started_ago: 1m}
`

// testEnv is a simulator on loopback and a Service reading it.
type testEnv struct {
	t       *testing.T
	sim     *simulator.Simulator
	simURL  string
	cfgPath string
	reg     *prometheus.Registry
	svc     *Service
	handler http.Handler
}

// defaultExporterConfig: two static tasks of 8000001, one of 8000002 that
// discovery also finds, and discovery of 8000002.
const defaultExporterConfig = `
discovery:
  - {enterprise_id: 8000002, types: [1]}
tasks:
  - {enterprise_id: 8000001, task_id: 1}
  - {enterprise_id: 8000001, task_id: 2}
  - {enterprise_id: 8000002, task_id: 1}
`

func newTestEnv(t *testing.T, exporterConfig string, ho HTTPOptions) *testEnv {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte(fmt.Sprintf("credentials: [{access_key_id: %s, access_key_secret: %s}]\n%s", simKeyID, simSecret, simAccount)))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return startTestEnv(t, sim, exporterConfig, ho, nil)
}

// newSimEnv is a Service reading sim (whose credentials must include
// simKeyID) with exporterConfig after the endpoint and key; now, when
// given, is the clock of the background pollers.
func newSimEnv(t *testing.T, sim *simulator.Simulator, exporterConfig string, now func() time.Time) *testEnv {
	t.Helper()
	return startTestEnv(t, sim, exporterConfig, HTTPOptions{}, now)
}

func startTestEnv(t *testing.T, sim *simulator.Simulator, exporterConfig string, ho HTTPOptions, now func() time.Time) *testEnv {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := &testEnv{t: t, sim: sim, simURL: srv.URL, cfgPath: filepath.Join(t.TempDir(), "config.yml"), reg: prometheus.NewRegistry()}
	e.writeConfig(exporterConfig)
	var err error
	e.svc, err = New(Options{ConfigFile: e.cfgPath, Registerer: e.reg, Gatherer: e.reg, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	e.handler, err = e.svc.Handler(ho, make(chan chan error))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// writeConfig writes the exporter's configuration: the simulator's
// endpoint and key, then body (discovery and tasks).
func (e *testEnv) writeConfig(body string) {
	e.t.Helper()
	head := fmt.Sprintf("endpoint: %s\ncredentials:\n  access_key_id: %s\n  access_key_secret: %s\n", e.simURL, simKeyID, simSecret)
	if err := os.WriteFile(e.cfgPath, []byte(head+body), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) refresh() {
	e.t.Helper()
	if err := e.svc.RefreshDiscovery(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// get serves one request through the exporter's handler.
func (e *testEnv) get(target string, header http.Header) (int, http.Header, string) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Result().Header, string(body)
}

// apiCalls is every request the simulator saw.
func (e *testEnv) apiCalls() uint64 { return e.sim.Stats().Requests }

func lines(body, prefix string) []string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}
