package pacer

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// fakeClock moves only when the pacer sleeps (or a test advances it): a
// wait of 2 s takes no wall time, and no assertion depends on the speed of
// the machine. It starts a day ahead of the real clock, so that the real
// timers behind contexts with deadlines on the fake clock never fire while
// a test runs; the pacer reads those deadlines, not the timers.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now().Add(24 * time.Hour)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// withClock puts p on the fake clock with a fixed jitter draw.
func withClock(p *Pacer, c *fakeClock, jitter float64) *Pacer {
	p.now, p.sleep, p.jitter = c.Now, c.Sleep, func() float64 { return jitter }
	return p
}

// fakeAPI answers CloudMonitorTask from a script of errors (nil: success)
// and counts calls; once the script is used up every call succeeds.
// gate, when set, holds every call until it is closed.
type fakeAPI struct {
	mu       sync.Mutex
	script   []error
	calls    atomic.Int32
	queries  atomic.Int32
	tasks    []apiclient.TaskSummary
	gate     chan struct{}
	started  chan struct{} // receives one value per call, if set
	ctxErrs  []error       // ctx.Err() of each call when it returned
	panicNow bool
}

func (f *fakeAPI) next() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.script) == 0 {
		return nil
	}
	err := f.script[0]
	f.script = f.script[1:]
	return err
}

func (f *fakeAPI) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	f.calls.Add(1)
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.panicNow {
		panic("boom")
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	f.ctxErrs = append(f.ctxErrs, ctx.Err())
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.next(); err != nil {
		return nil, err
	}
	return &apiclient.CloudMonitorTaskResponse{Code: "OK", RequestID: "r", Data: &apiclient.MonitorData{}}, nil
}

func (f *fakeAPI) CloudQueryTask(ctx context.Context, q apiclient.TaskQuery) ([]apiclient.TaskSummary, error) {
	f.queries.Add(1)
	if err := f.next(); err != nil {
		return nil, err
	}
	return append([]apiclient.TaskSummary(nil), f.tasks...), nil
}

// recMetrics records what the pacer reports.
type recMetrics struct {
	mu        sync.Mutex
	calls     map[string]int // op/code
	retries   map[string]int // op/code
	throttled int
	waits     []time.Duration
	coalesced atomic.Int32
	hits      atomic.Int32
	rate      func() float64
}

func newRecMetrics() *recMetrics {
	return &recMetrics{calls: map[string]int{}, retries: map[string]int{}}
}

func (m *recMetrics) Call(op, code string) {
	m.mu.Lock()
	m.calls[op+"/"+code]++
	m.mu.Unlock()
}

func (m *recMetrics) Retry(op, code string) {
	m.mu.Lock()
	m.retries[op+"/"+code]++
	m.mu.Unlock()
}

func (m *recMetrics) Throttled(string) {
	m.mu.Lock()
	m.throttled++
	m.mu.Unlock()
}

func (m *recMetrics) LimiterWait(_ string, d time.Duration) {
	m.mu.Lock()
	m.waits = append(m.waits, d)
	m.mu.Unlock()
}

func (m *recMetrics) Coalesced(string)               { m.coalesced.Add(1) }
func (m *recMetrics) CacheHit(string)                { m.hits.Add(1) }
func (m *recMetrics) SetRateSource(f func() float64) { m.rate = f }

func apiErr(code string, retryAfter time.Duration) error {
	return &apiclient.Error{Operation: "CloudMonitorTask", HTTPStatus: 400, Code: code, RetryAfter: retryAfter}
}

// deadline returns a context whose deadline is d after the fake clock's now.
func deadline(t *testing.T, c *fakeClock, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), c.Now().Add(d))
	t.Cleanup(cancel)
	return ctx
}

// CloudQueryPredictiveCallCdrPage: cdrAPI (cdr_test.go) adds pages; the
// plain fake has none.
func (f *fakeAPI) CloudQueryPredictiveCallCdrPage(context.Context, apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	return nil, errors.New("fakeAPI: no call records")
}

func (f *fakeAPI) Retire() {}
