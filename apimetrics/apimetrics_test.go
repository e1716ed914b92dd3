package apimetrics

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

func TestBoundsCodes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, nil)
	m.Attempt("CloudMonitorTask", "OK", 0)
	m.Attempt("CloudMonitorTask", "Throttling.User", 0)
	m.Attempt("CloudMonitorTask", "<html>oops</html>", 0)
	m.Attempt("CloudMonitorTask", strings.Repeat("A", 200), 0)
	want := `
# HELP dyvms_api_requests_total HTTP requests sent to the Voice Messaging API, by operation and outcome: the API's Code (OK, Throttling.User, ...) or a transport class (timeout, network, bad_response, ...).
# TYPE dyvms_api_requests_total counter
dyvms_api_requests_total{code="OK",operation="CloudListOnlineAgent"} 0
dyvms_api_requests_total{code="OK",operation="CloudListQueue"} 0
dyvms_api_requests_total{code="OK",operation="CloudMonitorTask"} 1
dyvms_api_requests_total{code="OK",operation="CloudQueryIbCdr"} 0
dyvms_api_requests_total{code="OK",operation="CloudQueryPredictiveCallCdr"} 0
dyvms_api_requests_total{code="OK",operation="CloudQueryTask"} 0
dyvms_api_requests_total{code="Throttling.User",operation="CloudMonitorTask"} 1
dyvms_api_requests_total{code="other",operation="CloudMonitorTask"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "dyvms_api_requests_total"); err != nil {
		t.Error(err)
	}
}

// Every operation of apiclient.Operations has every series at 0 from the
// start and is counted under its own name by every metric; an operation
// outside the list is "other" everywhere, never a series of its own.
func TestOneListOfOperations(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, nil)
	ops := apiclient.Operations()
	if len(ops) != 6 {
		t.Fatalf("apiclient.Operations() = %v, want the six operations", ops)
	}
	perOp := map[string]int{
		"dyvms_api_requests_total": 1, "dyvms_api_request_duration_seconds": 1, "dyvms_api_calls_total": 1,
		"dyvms_api_throttled_total": 1, "dyvms_api_rate_limiter_wait_seconds": 1,
		"dyvms_api_coalesced_calls_total": 1, "dyvms_api_cache_hits_total": 1,
	}
	count := func() map[string]map[string]int {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]int{}
		for _, mf := range mfs {
			out[mf.GetName()] = map[string]int{}
			for _, s := range mf.GetMetric() {
				for _, l := range s.GetLabel() {
					if l.GetName() == "operation" {
						out[mf.GetName()][l.GetValue()]++
					}
				}
			}
		}
		return out
	}
	got := count()
	for name, n := range perOp {
		for _, op := range ops {
			if got[name][op] != n {
				t.Errorf("%s{operation=%q}: %d series at start, want %d", name, op, got[name][op], n)
			}
		}
	}
	for _, op := range append(ops, "Bogus") {
		m.Attempt(op, "OK", time.Millisecond)
		m.Call(op, "OK")
		m.Retry(op, "Throttling.User")
		m.Throttled(op)
		m.LimiterWait(op, 0)
		m.Coalesced(op)
		m.CacheHit(op)
	}
	got = count()
	for name := range perOp {
		for _, op := range ops {
			if got[name][op] == 0 {
				t.Errorf("%s: nothing counted for %s", name, op)
			}
		}
		if got[name]["Bogus"] != 0 || got[name]["other"] == 0 {
			t.Errorf("%s: an operation outside the list is not counted as other: %v", name, got[name])
		}
	}
	for _, op := range ops {
		if v := testutil.ToFloat64(m.calls.WithLabelValues(op, "OK")); v != 1 {
			t.Errorf("dyvms_api_calls_total{operation=%q,code=OK} = %v, want 1", op, v)
		}
		if v := testutil.ToFloat64(m.retries.WithLabelValues(op, "Throttling.User")); v != 1 {
			t.Errorf("dyvms_api_retries_total{operation=%q} = %v, want 1", op, v)
		}
	}
}

func TestRateGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, nil)
	if n := testutil.CollectAndCount(m.rate); n != 0 {
		t.Errorf("rate gauge before a source: %d series, want none", n)
	}
	r := 2.5
	m.SetRateSource(func() float64 { return r })
	r = 7
	if v := testutil.ToFloat64(m.rate); v != 7 {
		t.Errorf("rate gauge = %v, want the source's value when scraped (7)", v)
	}
}

// A gateway answering a new code each time adds no series: the known codes
// and classes keep their values, the rest share one (per family), and each
// raw code is logged once (issue 19, defect 11: every distinct code was a
// series for the life of the process).
func TestUnknownCodesAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	m := New(reg, log.NewLogfmtLogger(&logs))
	for i := range 1000 {
		code := fmt.Sprintf("Gateway.Err%d", i)
		m.Attempt(apiclient.OpCloudMonitorTask, code, 0)
		m.Call(apiclient.OpCloudMonitorTask, code)
		m.Retry(apiclient.OpCloudMonitorTask, code)
	}
	m.Attempt(apiclient.OpCloudMonitorTask, "Forbidden.Odd", 0)
	m.Attempt(apiclient.OpCloudMonitorTask, "Throttling.User", 0)
	for _, name := range []string{"dyvms_api_requests_total", "dyvms_api_calls_total", "dyvms_api_retries_total"} {
		n, err := testutil.GatherAndCount(reg, name)
		if err != nil {
			t.Fatal(err)
		}
		// Each operation's OK series exists from the start; beyond those,
		// a handful: other, Forbidden.Odd, Throttling.User.
		if n > len(apiclient.Operations())+3 {
			t.Errorf("%s: %d series after 1000 distinct codes, want a handful", name, n)
		}
	}
	if v := testutil.ToFloat64(m.requests.WithLabelValues(apiclient.OpCloudMonitorTask, "other")); v != 1000 {
		t.Errorf(`requests{code="other"} = %v, want 1000`, v)
	}
	if v := testutil.ToFloat64(m.requests.WithLabelValues(apiclient.OpCloudMonitorTask, "Forbidden.other")); v != 1 {
		t.Errorf(`requests{code="Forbidden.other"} = %v, want 1 (rules matching Forbidden.* still see it)`, v)
	}
	if v := testutil.ToFloat64(m.requests.WithLabelValues(apiclient.OpCloudMonitorTask, "Throttling.User")); v != 1 {
		t.Errorf(`requests{code="Throttling.User"} = %v, want 1`, v)
	}
	out := logs.String()
	for _, code := range []string{"Gateway.Err0", "Gateway.Err999", "Forbidden.Odd"} {
		if n := strings.Count(out, "code="+code+" "); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%.500s", code, n, out)
		}
	}
	if strings.Contains(out, "code=Throttling.User") {
		t.Error("a known code was logged as unknown")
	}
	if n := m.unknown.Len(); n > 256 {
		t.Errorf("the memory of logged codes holds %d, bound 256", n)
	}
}

// A request's duration is recorded in seconds, once per attempt, under its
// operation.
func TestAttemptDuration(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg, nil)
	m.Attempt(apiclient.OpCloudQueryTask, "OK", 250*time.Millisecond)
	m.Attempt(apiclient.OpCloudQueryTask, "Throttling.User", 750*time.Millisecond)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "dyvms_api_request_duration_seconds" {
			continue
		}
		for _, s := range mf.GetMetric() {
			if s.GetLabel()[0].GetValue() != apiclient.OpCloudQueryTask {
				continue
			}
			h := s.GetHistogram()
			if h.GetSampleCount() != 2 || h.GetSampleSum() != 1.0 {
				t.Fatalf("duration: %d samples summing to %v s, want 2 and 1 s", h.GetSampleCount(), h.GetSampleSum())
			}
			return
		}
	}
	t.Fatal("no duration series of CloudQueryTask")
}
