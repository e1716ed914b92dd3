package pacer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/simulator"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// Coalescing and deadlines: every caller gets the shared answer if it
// comes within its own deadline. These tests run on the real clock (the
// deadlines that matter are those of HTTP requests and contexts), with
// short deadlines only where a caller is meant to give up and generous
// ones (tens of seconds) where it is meant to get the answer; the slow
// API is held by a channel, not by a sleep, wherever the order matters.

// probe serves one scrape of task (firstEnterprise, 1) through the real
// handler with the given scrape-timeout header and returns the body.
func probe(h http.Handler, timeoutHeader string) string {
	r := httptest.NewRequest("GET", "/probe", nil)
	r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeoutHeader)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Body.String()
}

func probeHandler(api collector.MonitorAPI) http.Handler {
	src := func() collector.Scrape {
		return collector.Scrape{API: api, Tasks: []task.Task{{EnterpriseID: firstEnterprise, TaskID: 1}}, Concurrency: 1}
	}
	return collector.Handler(src, prometheus.Gatherers(nil), collector.HandlerOptions{TimeoutOffset: 500 * time.Millisecond})
}

const (
	probeOK     = `dyvms_task_scrape_success{enterprise_id="8000001",task_id="1"} 1`
	probeFailed = `dyvms_task_scrape_success{enterprise_id="8000001",task_id="1"} 0`
)

// TestJoinerOutlivesStarterDeadline is the scenario, through the
// handler, the pacer, the real client and the simulator over HTTP: a probe
// with a 3 s scrape timeout (the issue had 1 s; 2.5 s of budget leave the
// second probe time to join on a loaded machine) starts the read of a
// slow task, a probe with 30 s joins it, the first gives up at its
// deadline, and the second still gets the answer of the same request
// (which was on the wire all along) when the task finally answers. It used
// to fail: the shared call carried the first probe's deadline, so the
// second got scrape_success 0 as soon as the first gave up.
func TestJoinerOutlivesStarterDeadline(t *testing.T) {
	gate := make(chan struct{})
	srv := newSimServer(t, 1, simulator.Faults{}, gate)
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // before the server's Close, which waits for held requests
	m := newRecMetrics()
	p := New(srv.client(t, nil), NewLimiter(roomy), Config{}, m)
	h := probeHandler(p)

	short := make(chan string, 1)
	go func() { short <- probe(h, "3") }()
	testutil.WaitFor(t, func() bool { srv.mu.Lock(); defer srv.mu.Unlock(); return len(srv.arrivals) == 1 })
	long := make(chan string, 1)
	go func() { long <- probe(h, "30") }()
	testutil.WaitFor(t, func() bool { return m.coalesced.Load() == 1 })

	if body := <-short; !strings.Contains(body, probeFailed) {
		t.Fatalf("the 3 s probe did not give up at its deadline:\n%s", body)
	}
	select {
	case body := <-long:
		t.Fatalf("the 30 s probe returned when the 3 s probe gave up:\n%s", body)
	default:
	}
	release()
	if body := <-long; !strings.Contains(body, probeOK) {
		t.Fatalf("the 30 s probe did not get the answer:\n%s", body)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if n := len(srv.arrivals); n != 1 {
		t.Fatalf("%d API requests, want the one both probes shared", n)
	}
}

// slowAPI answers every call after latency, or fails when the call's
// context ends first.
type slowAPI struct {
	latency time.Duration
	calls   atomic.Int32
}

func (s *slowAPI) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	s.calls.Add(1)
	timer := time.NewTimer(s.latency)
	defer timer.Stop()
	select {
	case <-timer.C:
		return &apiclient.CloudMonitorTaskResponse{Code: "OK", RequestID: "r", Data: &apiclient.MonitorData{}}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *slowAPI) CloudQueryTask(context.Context, apiclient.TaskQuery) ([]apiclient.TaskSummary, error) {
	return nil, errors.New("not used")
}

// TestShortProbesDoNotStarveALongOne: two loops of 0.3 s probes keep a
// read of a task that takes 1 s always in flight; a probe with a 30 s
// timeout arriving among them must get the answer every time. It used to
// fail nearly always (4 times out of 5 in the issue): it joined a read
// started by a short probe and died with it.
func TestShortProbesDoNotStarveALongOne(t *testing.T) {
	api := &slowAPI{latency: time.Second}
	m := newRecMetrics()
	h := probeHandler(New(api, NewLimiter(roomy), Config{}, m))

	stop := make(chan struct{})
	var loops sync.WaitGroup
	var shortOK atomic.Int32
	for range 2 {
		loops.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if strings.Contains(probe(h, "0.3"), probeOK) {
					shortOK.Add(1)
				}
			}
		})
	}
	defer func() { close(stop); loops.Wait() }()
	testutil.WaitFor(t, func() bool { return api.calls.Load() >= 2 }) // the short probes are reading

	for i := range 3 {
		before := m.coalesced.Load()
		if body := probe(h, "30"); !strings.Contains(body, probeOK) {
			t.Fatalf("long probe %d among short ones failed:\n%s", i+1, body)
		}
		t.Logf("long probe %d: coalesced calls so far %d (+%d)", i+1, m.coalesced.Load(), m.coalesced.Load()-before)
	}
	// A short probe that joins a long one's read shortly before the answer
	// gets it too: within its own deadline, as it should.
	t.Logf("short probes that got an answer: %d", shortOK.Load())
}

// TestSharedDeadlineFollowsWaiters: the shared call's deadline is the
// latest of its waiters', extended when a longer one joins, shortened
// when the longest leaves, and the call is cancelled when the last one
// leaves, never before.
func TestSharedDeadlineFollowsWaiters(t *testing.T) {
	api := &fakeAPI{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	var callCtx atomic.Pointer[context.Context]
	p, _, m := newTestPacer(apiFunc(func(ctx context.Context) {
		callCtx.Store(&ctx)
		api.CloudMonitorTask(ctx, 1, 1)
	}), roomy, Config{})
	p.now, p.sleep = time.Now, sleepContext
	defer close(api.gate)

	base := time.Now().Add(time.Hour)
	call := func(dl time.Time) (context.CancelFunc, chan error) {
		ctx, cancel := context.WithDeadline(context.Background(), dl)
		done := make(chan error, 1)
		go func() { _, err := p.CloudMonitorTask(ctx, 1, 1); done <- err }()
		return cancel, done
	}
	deadline := func() time.Time {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.flights) != 1 {
			t.Fatalf("%d calls in flight, want 1", len(p.flights))
		}
		for _, f := range p.flights {
			dl, ok := f.ctx.deadline()
			if !ok {
				t.Fatal("shared call without a deadline")
			}
			return dl
		}
		return time.Time{}
	}
	waitDeadline := func(want time.Time, what string) {
		t.Helper()
		for start := time.Now(); !deadline().Equal(want); time.Sleep(time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s: the shared call's deadline is %v from the first caller's, want %v", what, deadline().Sub(base), want.Sub(base))
			}
		}
		if err := (*callCtx.Load()).Err(); err != nil {
			t.Fatalf("%s: shared call ended: %v", what, err)
		}
	}

	cancelA, doneA := call(base)
	<-api.started
	waitDeadline(base, "first caller")
	cancelB, doneB := call(base.Add(2 * time.Hour))
	testutil.WaitFor(t, func() bool { return m.coalesced.Load() == 1 })
	waitDeadline(base.Add(2*time.Hour), "a longer caller joined")
	cancelC, doneC := call(base.Add(time.Hour))
	testutil.WaitFor(t, func() bool { return m.coalesced.Load() == 2 })
	waitDeadline(base.Add(2*time.Hour), "a shorter caller joined")

	cancelB()
	if err := <-doneB; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	waitDeadline(base.Add(time.Hour), "the longest caller left")
	cancelC()
	<-doneC
	waitDeadline(base, "the next longest left")
	cancelA()
	<-doneA
	testutil.WaitFor(t, func() bool { return (*callCtx.Load()).Err() != nil })
	if err := (*callCtx.Load()).Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("after the last caller left, the shared call's context says %v, want canceled", err)
	}
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

// TestSettledCallIsNotJoined: a shared call whose outcome is decided
// (frozen) or whose context has ended cannot take a new waiter, so that
// caller starts a call of its own; and a decision to give up for lack of
// time does not stand when a waiter with more time has joined meanwhile.
func TestSettledCallIsNotJoined(t *testing.T) {
	now := time.Now()
	first := &waiter{dl: now.Add(time.Hour), hasDL: true}
	longer := &waiter{dl: now.Add(2 * time.Hour), hasDL: true}

	f := newFlight(context.Background(), first)
	defer f.ctx.end(context.Canceled)
	dl, ok := f.ctx.deadline()
	if !f.join(longer) {
		t.Fatal("an open call refused a waiter")
	}
	if f.ctx.settle(dl, ok) {
		t.Fatal("a give-up decided against the first deadline stood after a longer waiter joined")
	}
	dl, ok = f.ctx.deadline()
	if !ok || !dl.Equal(longer.dl) || !f.ctx.settle(dl, ok) {
		t.Fatalf("deadline %v %v after the join; settle against it must stand", dl, ok)
	}
	if f.join(&waiter{dl: now.Add(3 * time.Hour), hasDL: true}) {
		t.Fatal("a settled call took a new waiter")
	}
	if got, _ := f.ctx.deadline(); !got.Equal(longer.dl) || len(f.waiters) != 2 {
		t.Fatalf("a refused join changed the call: deadline %v, %d waiters", got, len(f.waiters))
	}

	g := newFlight(context.Background(), &waiter{})
	g.ctx.end(context.DeadlineExceeded)
	if g.join(&waiter{}) {
		t.Fatal("an ended call took a new waiter")
	}
	// A waiter without a deadline makes the shared call have none.
	h := newFlight(context.Background(), first)
	defer h.ctx.end(context.Canceled)
	if !h.join(&waiter{}) {
		t.Fatal("join refused")
	}
	if _, ok := h.ctx.deadline(); ok {
		t.Fatal("a waiter without a deadline joined, but the call still has one")
	}
}

// TestSharedCallExpiresAtLatestDeadline: the shared call's context ends
// with DeadlineExceeded as its cause when its deadline passes, and the timer of a
// deadline since extended does not end it (called directly, not waited
// for, so that no timing is involved).
func TestSharedCallExpiresAtLatestDeadline(t *testing.T) {
	now := time.Now()
	f := newFlight(context.Background(), &waiter{dl: now.Add(time.Hour), hasDL: true})
	defer f.ctx.end(context.Canceled)
	f.ctx.mu.Lock()
	stale := f.ctx.gen
	f.ctx.mu.Unlock()
	if !f.join(&waiter{dl: now.Add(2 * time.Hour), hasDL: true}) {
		t.Fatal("join refused")
	}
	f.ctx.expire(stale) // the first deadline's timer, had it fired
	if err := f.ctx.ctx.Err(); err != nil {
		t.Fatalf("the call ended at the first waiter's deadline: %v", err)
	}
	g := newFlight(context.Background(), &waiter{dl: now.Add(-time.Second), hasDL: true})
	defer g.ctx.end(context.Canceled)
	select {
	case <-g.ctx.ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a call whose deadline has passed did not end in 10 s")
	}
	if err := context.Cause(g.ctx.ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expired call: %v", err)
	}
}

func (s *slowAPI) CloudQueryPredictiveCallCdrPage(context.Context, apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	return nil, errors.New("not used")
}

func (s *slowAPI) Retire() {}
