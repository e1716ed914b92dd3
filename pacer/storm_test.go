package pacer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/apimetrics"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/simulator"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// The pacer between the real collector and the real client, against the
// simulator over HTTP.

const firstEnterprise = 8000001

// simServer serves sim, records when each request arrived and, when gate
// is set, holds every request until it is closed.
type simServer struct {
	sim  *simulator.Simulator
	srv  *httptest.Server
	gate chan struct{}

	mu       sync.Mutex
	arrivals []time.Time
}

func newSimServer(t *testing.T, tasks int, faults simulator.Faults, gate chan struct{}) *simServer {
	t.Helper()
	sim, err := simulator.New(simulator.Config{
		Seed:        7,
		Credentials: []simulator.Credential{{AccessKeyID: "testid", AccessKeySecret: "testsecret"}},
		Generate: &simulator.Generate{Enterprises: 1, TasksPerEnterprise: tasks, AgentsPerTask: 3,
			MaxStartedAgo: simulator.Duration(time.Minute)},
		Faults: faults,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &simServer{sim: sim, gate: gate}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.arrivals = append(s.arrivals, time.Now())
		s.mu.Unlock()
		if s.gate != nil {
			<-s.gate
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *simServer) client(t *testing.T, observe func(op, code string, d time.Duration)) *apiclient.Client {
	t.Helper()
	c, err := apiclient.New(apiclient.Options{
		Endpoint:    s.srv.URL,
		Credentials: apiclient.StaticCredentials{AccessKeyID: "testid", AccessKeySecret: "testsecret"},
		HTTPClient:  s.srv.Client(),
		Observe:     observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func taskList(n int) []task.Task {
	out := make([]task.Task, n)
	for i := range out {
		out[i] = task.Task{EnterpriseID: firstEnterprise, TaskID: int64(i + 1)}
	}
	return out
}

// scrapeView is one scrape's exposition by task: success, and how many
// other series the task has.
type scrapeView struct {
	success map[int64]float64
	data    map[int64]int
}

func scrape(t *testing.T, ctx context.Context, api collector.MonitorAPI, tasks []task.Task, concurrency int, onErr collector.ErrorReporter) scrapeView {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.New(ctx, api, tasks, collector.Options{Concurrency: concurrency, OnError: onErr}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	v := scrapeView{success: map[int64]float64{}, data: map[int64]int{}}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var task int64
			for _, l := range m.Label {
				if l.GetName() == "task_id" {
					task, _ = strconv.ParseInt(l.GetValue(), 10, 64)
				}
			}
			switch mf.GetName() {
			case "dyvms_task_scrape_success":
				v.success[task] = m.GetGauge().GetValue()
			case "dyvms_task_scrape_duration_seconds":
			default:
				if task != 0 {
					v.data[task]++
				}
			}
		}
	}
	return v
}

// sum adds up a family's samples (counter values, histogram counts).
func sum(mfs []*dto.MetricFamily, name string) float64 {
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

// TestThrottlingStorm: half the calls are throttled with a 300 ms TimeLeft.
// A 3 s scrape of 40 tasks ends inside its deadline, with each task either
// read (success 1 and its data) or failed for a reason the storm explains
// (success 0, nothing else); retries and throttling are counted, the rate
// went down, and no request reached the server after the deadline.
func TestThrottlingStorm(t *testing.T) {
	const nTasks = 40
	s := newSimServer(t, nTasks, simulator.Faults{Rules: []simulator.FaultRule{{
		Kind: simulator.FaultThrottle, Action: "CloudMonitorTask", Probability: 0.5,
		TimeLeft: simulator.Duration(300 * time.Millisecond),
	}}}, nil)
	reg := prometheus.NewPedanticRegistry()
	pacerM := apimetrics.New(reg, nil)
	client := s.client(t, pacerM.Attempt)
	p := New(client, NewLimiter(LimiterConfig{RequestsPerSecond: 20, Burst: 20, Adaptive: true}), Config{MaxRetries: 2}, pacerM)

	var mu sync.Mutex
	codes := map[int64]string{}
	// Prometheus gives the scrape 3 s; the exporter works to that minus its
	// 0.5 s offset (collector.ScrapeTimeout), so the answer is written before
	// Prometheus gives up even if a request was cut off at the inner deadline.
	promDeadline := time.Now().Add(3 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), promDeadline.Add(-500*time.Millisecond))
	defer cancel()
	dl, _ := ctx.Deadline()
	v := scrape(t, ctx, p, taskList(nTasks), 8, func(task task.Task, err error) {
		mu.Lock()
		codes[task.TaskID] = ErrorCode(err)
		mu.Unlock()
	})
	if over := time.Since(promDeadline); over > 0 {
		t.Fatalf("the scrape ended %v after Prometheus' deadline", over)
	}

	ok := 0
	for id := int64(1); id <= nTasks; id++ {
		succ, reported := v.success[id]
		switch {
		case !reported:
			t.Errorf("task %d: no dyvms_task_scrape_success", id)
		case succ == 1:
			ok++
			if v.data[id] == 0 {
				t.Errorf("task %d: success 1 but no data", id)
			}
		default:
			if v.data[id] != 0 {
				t.Errorf("task %d: success 0 but %d data series", id, v.data[id])
			}
			switch codes[id] {
			case "Throttling.User", CodeRateLimited, "timeout":
			default:
				t.Errorf("task %d failed with %q, which the storm does not explain", id, codes[id])
			}
		}
	}
	if ok == 0 {
		t.Fatal("no task was read: retries did not get through the storm")
	}
	t.Logf("%d of %d tasks read; failures by code: %v", ok, nTasks, codes)

	s.mu.Lock()
	arrivals := append([]time.Time(nil), s.arrivals...)
	s.mu.Unlock()
	for i, at := range arrivals {
		if at.After(dl) {
			t.Errorf("request %d arrived %v after the deadline", i, at.Sub(dl))
		}
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	st := s.sim.Stats()
	for name, want := range map[string]float64{
		"dyvms_api_requests_total":           float64(st.Requests),
		"dyvms_api_request_duration_seconds": float64(st.Requests),
		"dyvms_api_throttled_total":          float64(st.Codes["Throttling.User"]),
	} {
		if got := sum(mfs, name); got != want {
			t.Errorf("%s = %v, the simulator saw %v", name, got, want)
		}
	}
	if st.Codes["Throttling.User"] == 0 {
		t.Fatal("the simulator throttled nothing")
	}
	if got := sum(mfs, "dyvms_api_retries_total"); got == 0 {
		t.Error("dyvms_api_retries_total is 0 in a throttling storm")
	}
	if got := sum(mfs, "dyvms_api_rate_limit_requests_per_second"); got >= 20 {
		t.Errorf("rate gauge %v right after the storm, want below the configured 20", got)
	}
	if got, want := sum(mfs, "dyvms_api_calls_total"), float64(nTasks); got != want {
		t.Errorf("dyvms_api_calls_total = %v, want one per task (%v)", got, want)
	}
	if got := sum(mfs, "dyvms_api_rate_limiter_wait_seconds"); got != float64(st.Requests) {
		t.Errorf("limiter waits recorded %v, want one per request sent (%d)", got, st.Requests)
	}
}

// TestConcurrentScrapesShareCalls: two scrapes of the same tasks at the
// same time cost one request per task. The server holds every request
// until the second scrape has joined all of the first's calls, so the
// overlap does not depend on timing.
func TestConcurrentScrapesShareCalls(t *testing.T) {
	const nTasks = 10
	gate := make(chan struct{})
	s := newSimServer(t, nTasks, simulator.Faults{}, gate)
	released := false
	release := func() {
		if !released {
			released = true
			close(gate)
		}
	}
	t.Cleanup(release) // before the server closes (cleanups run last first)

	m := newRecMetrics()
	p := New(s.client(t, nil), NewLimiter(LimiterConfig{RequestsPerSecond: 20, Burst: 20, Adaptive: true}), Config{MaxRetries: 2}, m)
	tasks := taskList(nTasks)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	views := make([]scrapeView, 2)
	var wg sync.WaitGroup
	for i := range views {
		wg.Go(func() {
			views[i] = scrape(t, ctx, p, tasks, nTasks, func(task task.Task, err error) {
				t.Errorf("scrape %d, task %d: %v", i, task.TaskID, err)
			})
		})
	}
	testutil.WaitFor(t, func() bool { return m.coalesced.Load() == nTasks })
	release()
	wg.Wait()

	st := s.sim.Stats()
	for _, task := range tasks {
		key := strconv.FormatInt(task.EnterpriseID, 10) + "/" + strconv.FormatInt(task.TaskID, 10)
		if n := st.Tasks[key]; n != 1 {
			t.Errorf("task %s: %d requests for two scrapes, want 1", key, n)
		}
		for i, v := range views {
			if v.success[task.TaskID] != 1 || v.data[task.TaskID] == 0 {
				t.Errorf("scrape %d, task %d: success %v, %d data series", i, task.TaskID, v.success[task.TaskID], v.data[task.TaskID])
			}
		}
	}
	if st.Requests != nTasks {
		t.Errorf("%d requests in all, want %d", st.Requests, nTasks)
	}
}
