package service

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The poller runs beside the scrapes, through the same pacer: a scrape
// never asks for call records, the poller's requests show in the API
// metrics, and the call outcomes of the configured enterprise appear in
// /metrics (at 0 for the tasks known before their first call).
func TestCallRecordsBesideTheScrapes(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	n := func(v int) *int { return &v }
	sim, err := simulator.New(simulator.Config{
		Seed: 5, Speed: 100, // a second of the test is 100 s of calls
		Credentials: []simulator.Credential{{AccessKeyID: simKeyID, AccessKeySecret: simSecret}},
		Enterprises: []simulator.Enterprise{{ID: 7000002, Channels: 20, Tasks: []simulator.Task{
			{ID: 19, Agents: n(8), Numbers: n(1_000_000), DialRatio: 2},
			{ID: 20, Agents: n(3), Numbers: n(1_000_000)},
		}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newSimEnv(t, sim, `tasks:
  - {enterprise_id: 7000002, task_id: 19}
call_records:
  - {enterprise_id: 7000002, interval: 10s, lateness: 1m, settle: 1s}
`, nil)
	svc := e.svc

	_, _, body := e.get("/metrics", nil)
	if l := lines(body, `dyvms_calls_abandoned_total{enterprise_id="7000002",task_id="19"} 0`); len(l) != 1 {
		t.Fatalf("the listed task has no call-outcome series at 0 before the first poll:\n%s", strings.Join(lines(body, "dyvms_call"), "\n"))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := svc.PollCallRecords(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, _, body = e.get("/metrics", nil)
		if len(lines(body, `dyvms_calls_dialled_total{enterprise_id="7000002",task_id="20"}`)) == 1 &&
			len(lines(body, `dyvms_calls_dialled_total{enterprise_id="7000002",task_id="19"} 0`)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no calls counted in 20 s:\n%s", strings.Join(lines(body, "dyvms_call"), "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Records of a task not listed (20) are counted under its own task_id.
	if l := lines(body, `dyvms_api_requests_total{account="default",code="OK",operation="CloudQueryPredictiveCallCdr"}`); len(l) != 1 {
		t.Errorf("the poller's requests are not in the API metrics: %v", lines(body, "dyvms_api_requests_total"))
	}
	// Every API metric names the poller's operation as it is: none counts
	// it as "other" (one list of operations, apiclient.Operations).
	for _, name := range []string{"dyvms_api_request_duration_seconds_count", "dyvms_api_calls_total", "dyvms_api_rate_limiter_wait_seconds_count"} {
		if l := lines(body, name+`{`); !slices.ContainsFunc(l, func(s string) bool {
			return strings.Contains(s, `operation="CloudQueryPredictiveCallCdr"`) && !strings.HasSuffix(s, " 0")
		}) {
			t.Errorf("%s does not count the poller's calls under CloudQueryPredictiveCallCdr:\n%s", name, strings.Join(l, "\n"))
		}
	}
	if l := lines(body, "dyvms_api_"); slices.ContainsFunc(l, func(s string) bool { return strings.Contains(s, `operation="other"`) }) {
		t.Errorf("a call counted under operation=\"other\":\n%s", strings.Join(l, "\n"))
	}
	sim.ResetStats()
	for range 3 {
		e.get("/metrics", nil)
	}
	if st := sim.Stats(); st.Actions["CloudQueryPredictiveCallCdr"] != 0 || st.Actions["CloudMonitorTask"] != 3 {
		t.Fatalf("three scrapes made %v: a scrape must never read call records", st.Actions)
	}
}
