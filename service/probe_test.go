package service

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestProbeHappyPath(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	e.refresh() // 8000002's tasks: one listing
	e.sim.ResetStats()

	code, hdr, body := e.get("/probe?enterprise_id=8000001&task_id=2", nil)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, body)
	}
	for name, f := range fams {
		for _, global := range []string{"dyvms_api_", "dyvms_exporter_", "dyvms_discovery_", "go_", "process_"} {
			if strings.HasPrefix(name, global) {
				t.Errorf("process-wide family %s in a probe", name)
			}
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if task, ok := labels["task_id"]; labels["enterprise_id"] != "8000001" || ok && task != "2" {
				t.Errorf("%s%v: another task's series", name, labels)
			}
		}
	}
	if f := fams["dyvms_task_scrape_success"]; f == nil || f.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Errorf("dyvms_task_scrape_success: %v\n%s", f, body)
	}
	if fams["dyvms_task_scrape_duration_seconds"] == nil {
		t.Error("no dyvms_task_scrape_duration_seconds")
	}
	if len(fams) < 5 {
		t.Errorf("only %d families: the task's metrics are missing\n%s", len(fams), body)
	}
	if st := e.sim.Stats(); st.Requests != 1 || st.Tasks["8000001/2"] != 1 {
		t.Errorf("API calls: %+v, want one CloudMonitorTask for 8000001/2", st)
	}

	// A discovered task, and a task of an allowed enterprise that is
	// neither configured nor discovered (8000001/4): both allowed.
	for _, q := range []string{"enterprise_id=8000002&task_id=3", "enterprise_id=8000001&task_id=4"} {
		code, _, body := e.get("/probe?"+q, nil)
		if code != http.StatusOK || !strings.Contains(body, `dyvms_task_scrape_success{enterprise_id="`) ||
			len(lines(body, "dyvms_task_scrape_success{")) != 1 || !strings.Contains(lines(body, "dyvms_task_scrape_success{")[0], "} 1") {
			t.Errorf("%s: %d\n%s", q, code, body)
		}
	}
	// The process-wide metrics are not in probes but still in /metrics.
	_, _, metrics := e.get("/metrics", nil)
	if !strings.Contains(metrics, "dyvms_discovery_tasks{enterprise_id=\"8000002\"} 4") {
		t.Errorf("/metrics lacks the discovery gauge:\n%s", metrics)
	}
}

func TestProbeUnknownEnterpriseRefused(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	e.sim.ResetStats()
	for _, q := range []string{
		"enterprise_id=8000003&task_id=1", // exists in the account, not configured
		"enterprise_id=1&task_id=1",
	} {
		code, _, body := e.get("/probe?"+q, nil)
		if code != http.StatusForbidden || !strings.Contains(body, "not in this exporter's configuration") {
			t.Errorf("%s: %d %q, want 403 with an explanation", q, code, body)
		}
	}
	if n := e.apiCalls(); n != 0 {
		t.Errorf("%d API calls for refused probes, want 0", n)
	}

	// A reload that drops the enterprise closes the door at once.
	e.writeConfig("tasks:\n  - {enterprise_id: 8000002, task_id: 1}\n")
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	if code, _, body := e.get("/probe?enterprise_id=8000001&task_id=1", nil); code != http.StatusForbidden {
		t.Errorf("after the reload: %d %s", code, body)
	}
	if n := e.apiCalls(); n != 0 {
		t.Errorf("%d API calls, want 0", n)
	}
}

func TestProbeBadParameters(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	e.sim.ResetStats()
	for _, tc := range []struct{ query, want string }{
		{"", "missing parameter enterprise_id"},
		{"task_id=1", "missing parameter enterprise_id"},
		{"enterprise_id=8000001", "missing parameter task_id"},
		{"enterprise_id=8000001&task_id=", `task_id must be a positive integer`},
		{"enterprise_id=abc&task_id=1", `enterprise_id must be a positive integer (decimal, no sign or leading zeros), got "abc"`},
		{"enterprise_id=8000001&task_id=1.5", `got "1.5"`},
		{"enterprise_id=0&task_id=1", `enterprise_id must be a positive integer`},
		{"enterprise_id=8000001&task_id=-3", `got "-3"`},
		{"enterprise_id=%2B8000001&task_id=1", `got "+8000001"`},
		{"enterprise_id=08000001&task_id=1", `got "08000001"`},
		{"enterprise_id=8000001&task_id=99999999999999999999", "task_id must be a positive integer"},
		{"enterprise_id=8000001&enterprise_id=8000001&task_id=1", "enterprise_id is given 2 times; give it once"},
		{"enterprise_id=8000001&task_id=1&task_id=2", "task_id is given 2 times"},
		{"enterprise_id=8000001&task_id=%zz", "cannot parse the query string"},
		// Bad parameters are judged before the trust boundary.
		{"enterprise_id=8000003&task_id=x", "task_id must be a positive integer"},
	} {
		code, hdr, body := e.get("/probe?"+tc.query, nil)
		if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Errorf("?%s: %d %q, want 400 containing %q", tc.query, code, body, tc.want)
		}
		if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("?%s: Content-Type %q", tc.query, ct)
		}
	}
	if n := e.apiCalls(); n != 0 {
		t.Errorf("%d API calls for bad requests, want 0", n)
	}
}

// hangingTransport never answers until the request is cancelled.
type hangingTransport struct{}

func (hangingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// The probe honours Prometheus' scrape timeout header as /metrics does:
// an API that does not answer costs the timeout minus the offset, not the
// default 10 s, and the task reports failure.
func TestProbeDeadline(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{TimeoutOffset: 100 * time.Millisecond})
	// Same service, but its API client cannot reach anything.
	reg := prometheus.NewRegistry()
	svc, err := New(Options{ConfigFile: e.cfgPath, Registerer: reg, Gatherer: reg, HTTPClient: &http.Client{Transport: hangingTransport{}}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.Handler(HTTPOptions{TimeoutOffset: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	start := time.Now()
	code, _, body := e.get("/probe?enterprise_id=8000001&task_id=1", http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"0.6"}})
	el := time.Since(start)
	if code != http.StatusOK || !strings.Contains(body, `dyvms_task_scrape_success{enterprise_id="8000001",task_id="1"} 0`) {
		t.Errorf("%d\n%s", code, body)
	}
	if el < 400*time.Millisecond || el > 3*time.Second {
		t.Errorf("probe took %v, want about 0.5 s (0.6 s timeout - 0.1 s offset)", el)
	}
}
