package service

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/task"
)

func ts(ps ...[2]int64) []task.Task {
	var out []task.Task
	for _, p := range ps {
		out = append(out, task.Task{EnterpriseID: p[0], TaskID: p[1]})
	}
	return out
}

// Discovered tasks are scraped like static ones, once each, and listing
// happens in discovery's own time, never on a scrape.
func TestScrapeStaticAndDiscovered(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	static := ts([2]int64{8000001, 1}, [2]int64{8000001, 2}, [2]int64{8000002, 1})
	if got := e.svc.Scrape().Tasks; !slices.Equal(got, static) {
		t.Errorf("before discovery: %v", got)
	}
	e.refresh()
	want := append(static, ts([2]int64{8000002, 2}, [2]int64{8000002, 3}, [2]int64{8000002, 4})...)
	if got := e.svc.Scrape().Tasks; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v (static first, then discovered, no repeats)", got, want)
	}

	e.sim.ResetStats()
	for range 2 {
		code, _, body := e.get("/metrics", nil)
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d", code)
		}
		if n := len(lines(body, "dyvms_task_scrape_success{")); n != len(want) {
			t.Errorf("%d dyvms_task_scrape_success series, want %d", n, len(want))
		}
	}
	st := e.sim.Stats()
	if st.Actions["CloudQueryTask"] != 0 || st.Actions["CloudMonitorTask"] != 2*uint64(len(want)) {
		t.Errorf("two scrapes made %v, want %d CloudMonitorTask and no CloudQueryTask", st.Actions, 2*len(want))
	}
}

// A reload that removes an enterprise's discovery entry removes its tasks
// from scrapes, /sd and /probe, and its discovery series; the unchanged
// entry keeps its list without listing again.
func TestReloadRemovesDiscoveredEnterprise(t *testing.T) {
	e := newTestEnv(t, `
discovery:
  - {enterprise_id: 8000002, types: [1]}
  - {enterprise_id: 8000003, types: [1], statuses: [0, 1, 2, 3]}
tasks:
  - {enterprise_id: 8000001, task_id: 1}
`, HTTPOptions{})
	e.refresh()
	if got := len(e.svc.Scrape().Tasks); got != 9 {
		t.Fatalf("%d tasks before the reload, want 1 + 4 + 4", got)
	}
	_, _, metrics := e.get("/metrics", nil)
	if !strings.Contains(metrics, `dyvms_discovery_tasks{enterprise_id="8000003"} 4`) {
		t.Fatalf("no discovery gauge for 8000003:\n%s", strings.Join(lines(metrics, "dyvms_discovery"), "\n"))
	}

	e.writeConfig(`
discovery:
  - {enterprise_id: 8000002, types: [1]}
tasks:
  - {enterprise_id: 8000001, task_id: 1}
`)
	e.sim.ResetStats()
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	want := ts([2]int64{8000001, 1}, [2]int64{8000002, 1}, [2]int64{8000002, 2}, [2]int64{8000002, 3}, [2]int64{8000002, 4})
	if got := e.svc.Scrape().Tasks; !slices.Equal(got, want) {
		t.Errorf("after the reload: %v, want %v", got, want)
	}
	if got := sdGroups(t, e, "example.com"); len(got) != len(want) {
		t.Errorf("/sd after the reload: %v", got)
	}
	if code, _, _ := e.get("/probe?enterprise_id=8000003&task_id=1", nil); code != http.StatusForbidden {
		t.Errorf("probe of the removed enterprise: %d", code)
	}
	_, _, metrics = e.get("/metrics", nil)
	if strings.Contains(metrics, `enterprise_id="8000003"`) {
		t.Errorf("series of the removed enterprise remain:\n%s", strings.Join(lines(metrics, "dyvms_discovery"), "\n"))
	}
	if !strings.Contains(metrics, `dyvms_discovery_tasks{enterprise_id="8000002"} 4`) {
		t.Errorf("unchanged entry lost its gauge:\n%s", strings.Join(lines(metrics, "dyvms_discovery"), "\n"))
	}
	if n := e.sim.Stats().Actions["CloudQueryTask"]; n != 0 {
		t.Errorf("%d CloudQueryTask calls on reload, want 0 (the unchanged entry keeps its list)", n)
	}
}

// RunDiscovery, as main runs it, lists at start without being asked.
func TestRunDiscovery(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.RunDiscovery(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.svc.Scrape().Tasks) != 6 {
		if time.Now().After(deadline) {
			t.Fatalf("discovered tasks not scraped: %v", e.svc.Scrape().Tasks)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.sim.Stats().Actions["CloudQueryTask"]; n != 1 {
		t.Errorf("%d listings, want 1 (one type, no status filter, 4 tasks on one page)", n)
	}
}
