package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// sdGroups fetches /sd and checks it against Prometheus' HTTP SD schema:
// a JSON array of {targets: non-empty list of strings, labels: string map}
// and nothing else. It returns the (enterprise_id, task_id) of each group.
func sdGroups(t *testing.T, e *testEnv, wantTarget string) [][2]string {
	t.Helper()
	code, hdr, body := e.get("/sd", nil)
	if code != http.StatusOK {
		t.Fatalf("/sd: %d %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json (Prometheus refuses anything else)", ct)
	}
	if !strings.HasPrefix(strings.TrimSpace(body), "[") {
		t.Fatalf("not a JSON array: %s", body)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	var groups []struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	if err := dec.Decode(&groups); err != nil {
		t.Fatalf("/sd answer does not decode: %v\n%s", err, body)
	}
	var out [][2]string
	seen := map[[2]string]bool{}
	for i, g := range groups {
		if len(g.Targets) != 1 || g.Targets[0] != wantTarget {
			t.Errorf("group %d: targets %q, want [%q]", i, g.Targets, wantTarget)
		}
		keys := make([]string, 0, len(g.Labels))
		for k := range g.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"__metrics_path__", "__param_enterprise_id", "__param_task_id", "enterprise_id", "task_id"}; !slices.Equal(keys, want) {
			t.Errorf("group %d: labels %q, want %q", i, keys, want)
		}
		l := g.Labels
		if l["__metrics_path__"] != "/probe" || l["__param_enterprise_id"] != l["enterprise_id"] || l["__param_task_id"] != l["task_id"] ||
			l["enterprise_id"] == "" || l["task_id"] == "" {
			t.Errorf("group %d: labels %v", i, l)
		}
		k := [2]string{l["enterprise_id"], l["task_id"]}
		if seen[k] {
			t.Errorf("task %v listed twice", k)
		}
		seen[k] = true
		out = append(out, k)
	}
	return out
}

func pairs(ps ...string) [][2]string {
	var out [][2]string
	for _, p := range ps {
		ent, task, _ := strings.Cut(p, "/")
		out = append(out, [2]string{ent, task})
	}
	return out
}

func TestSDStaticAndDiscovered(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	// Before the first listing: the static tasks only.
	if got, want := sdGroups(t, e, "example.com"), pairs("8000001/1", "8000001/2", "8000002/1"); !slices.Equal(got, want) {
		t.Errorf("before discovery: %v, want %v", got, want)
	}
	e.refresh()
	// 8000002/1 is static and discovered: one group.
	want := pairs("8000001/1", "8000001/2", "8000002/1", "8000002/2", "8000002/3", "8000002/4")
	got := sdGroups(t, e, "example.com") // httptest.NewRequest's Host
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Every target it hands out is one the exporter serves.
	for _, k := range got {
		q := url.Values{"enterprise_id": {k[0]}, "task_id": {k[1]}}
		code, _, body := e.get("/probe?"+q.Encode(), nil)
		if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`dyvms_task_scrape_success{enterprise_id=%q,task_id=%q} 1`, k[0], k[1])) {
			t.Errorf("probe of %v: %d\n%s", k, code, body)
		}
	}
}

func TestSDAddress(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	req := httptest.NewRequest(http.MethodGet, "/sd", nil)
	req.Host = "10.1.2.3:10681"
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"targets":["10.1.2.3:10681"]`) {
		t.Errorf("the request's Host is not the target: %s", rec.Body.String())
	}

	e2 := newTestEnv(t, defaultExporterConfig, HTTPOptions{ExternalAddress: "dyvms-exporter.monitoring.svc:10681"})
	sdGroups(t, e2, "dyvms-exporter.monitoring.svc:10681")

	for _, bad := range []string{"http://exporter:10681", "exporter:10681/metrics", " exporter:10681", "user@exporter:1"} {
		if _, err := e.svc.Handler(HTTPOptions{ExternalAddress: bad}, nil); err == nil || !strings.Contains(err.Error(), "host:port") {
			t.Errorf("external address %q: %v", bad, err)
		}
	}
	for _, p := range []string{"/probe", "/sd"} {
		if _, err := e.svc.Handler(HTTPOptions{TelemetryPath: p}, nil); err == nil {
			t.Errorf("telemetry path %s accepted", p)
		}
	}
}

func TestSDEmpty(t *testing.T) {
	// Discovery only, before its first listing: an empty list, not null.
	e := newTestEnv(t, "discovery:\n  - {enterprise_id: 8000003, types: [2]}\n", HTTPOptions{})
	code, _, body := e.get("/sd", nil)
	if code != http.StatusOK || body != "[]" {
		t.Errorf("%d %q, want 200 []", code, body)
	}
	e.refresh() // the simulator's tasks are all type 1
	if _, _, body := e.get("/sd", nil); body != "[]" {
		t.Errorf("%q", body)
	}
}
