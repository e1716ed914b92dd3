package pacer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

func newTestPacer(api API, lc LimiterConfig, cfg Config) (*Pacer, *fakeClock, *recMetrics) {
	c := newFakeClock()
	m := newRecMetrics()
	p := withClock(New(api, NewLimiter(lc), cfg, m), c, 1)
	return p, c, m
}

var roomy = LimiterConfig{RequestsPerSecond: 1000, Burst: 1000}

func TestDeadlineFailsFastWithoutCall(t *testing.T) {
	api := &fakeAPI{}
	// One request a minute: the second must wait 60 s for its token.
	p, clock, m := newTestPacer(api, LimiterConfig{RequestsPerSecond: 1.0 / 60, Burst: 1}, Config{MaxRetries: 2})
	if _, err := p.CloudMonitorTask(deadline(t, clock, time.Minute), 1, 1); err != nil {
		t.Fatal(err)
	}
	_, err := p.CloudMonitorTask(deadline(t, clock, 30*time.Second), 1, 2)
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || ErrorCode(err) != CodeRateLimited {
		t.Fatalf("want a RateLimitError with code rate_limited, got %v (%s)", err, ErrorCode(err))
	}
	if rl.Wait != time.Minute || rl.Left != 30*time.Second {
		t.Fatalf("error says wait %v left %v", rl.Wait, rl.Left)
	}
	if !strings.Contains(err.Error(), "api.requests_per_second") {
		t.Fatalf("the message does not say which setting: %v", err)
	}
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("%d calls reached the API, want only the first", n)
	}
	if s := clock.Sleeps(); len(s) != 0 {
		t.Fatalf("waited %v before failing", s)
	}
	if m.calls["CloudMonitorTask/rate_limited"] != 1 {
		t.Fatalf("calls metric %v", m.calls)
	}
	// The refused token went back: a caller with time enough waits for
	// the same slot, not for one a minute later still.
	if _, err := p.CloudMonitorTask(deadline(t, clock, 5*time.Minute), 1, 3); err != nil {
		t.Fatal(err)
	}
	if s := clock.Sleeps(); len(s) != 1 || s[0] != time.Minute {
		t.Fatalf("sleeps %v, want one of 1m", s)
	}
	// A wait that ends less than MinAttemptTime before the deadline is no
	// better than one past it.
	_, err = p.CloudMonitorTask(deadline(t, clock, time.Minute+MinAttemptTime/2), 1, 4)
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("a token %v before the deadline: %v", MinAttemptTime/2, err)
	}
}

func TestNoRequestTooCloseToDeadline(t *testing.T) {
	api := &fakeAPI{}
	p, clock, _ := newTestPacer(api, roomy, Config{})
	_, err := p.CloudMonitorTask(deadline(t, clock, MinAttemptTime/2), 1, 1)
	if !errors.Is(err, context.DeadlineExceeded) || ErrorCode(err) != "timeout" || api.calls.Load() != 0 {
		t.Fatalf("with %v left: %v (%s), %d calls", MinAttemptTime/2, err, ErrorCode(err), api.calls.Load())
	}
}

func TestRetries(t *testing.T) {
	throttled := apiErr("Throttling.User", 700*time.Millisecond)
	for _, tc := range []struct {
		name       string
		script     []error
		maxRetries int
		jitter     float64
		budget     time.Duration
		wantCalls  int32
		wantErr    string // ErrorCode; "OK" for success
		wantSleeps []time.Duration
	}{
		{name: "retryable then ok, TimeLeft above backoff", script: []error{throttled, throttled}, maxRetries: 2, jitter: 1, budget: time.Minute,
			wantCalls: 3, wantErr: "OK", wantSleeps: []time.Duration{700 * time.Millisecond, 700 * time.Millisecond}},
		{name: "backoff doubles with full jitter", script: []error{apiErr("ServiceUnavailable", 0), apiErr("InternalError", 0), apiErr("ServiceUnavailable", 0)}, maxRetries: 3, jitter: 1, budget: time.Minute,
			wantCalls: 4, wantErr: "OK", wantSleeps: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}},
		{name: "jitter draws below the ceiling", script: []error{apiErr("ServiceUnavailable", 0)}, maxRetries: 1, jitter: 0.25, budget: time.Minute,
			wantCalls: 2, wantErr: "OK", wantSleeps: []time.Duration{50 * time.Millisecond}},
		{name: "gives up after max_retries with the last error", script: []error{throttled, throttled, apiErr("ServiceUnavailable", 0)}, maxRetries: 2, jitter: 1, budget: time.Minute,
			wantCalls: 3, wantErr: "ServiceUnavailable", wantSleeps: []time.Duration{700 * time.Millisecond, 700 * time.Millisecond}},
		{name: "max_retries 0", script: []error{throttled}, maxRetries: 0, jitter: 1, budget: time.Minute,
			wantCalls: 1, wantErr: "Throttling.User"},
		{name: "configuration error never retried", script: []error{apiErr("InvalidAccessKeyId.NotFound", 0)}, maxRetries: 5, jitter: 1, budget: time.Minute,
			wantCalls: 1, wantErr: "InvalidAccessKeyId.NotFound"},
		{name: "non-retryable business error", script: []error{apiErr("isv.OUT_OF_SERVICE", 0)}, maxRetries: 5, jitter: 1, budget: time.Minute,
			wantCalls: 1, wantErr: "isv.OUT_OF_SERVICE"},
		{name: "TimeLeft past the deadline: last error at once", script: []error{apiErr("Throttling.User", 10*time.Second)}, maxRetries: 5, jitter: 1, budget: 5 * time.Second,
			wantCalls: 1, wantErr: "Throttling.User"},
		{name: "backoff past the deadline: last error at once", script: []error{apiErr("ServiceUnavailable", 0), apiErr("ServiceUnavailable", 0)}, maxRetries: 5, jitter: 1, budget: 200*time.Millisecond + MinAttemptTime + 50*time.Millisecond,
			wantCalls: 2, wantErr: "ServiceUnavailable", wantSleeps: []time.Duration{200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{script: tc.script}
			p, clock, m := newTestPacer(api, roomy, Config{MaxRetries: tc.maxRetries})
			p.jitter = func() float64 { return tc.jitter }
			start := clock.Now()
			ctx := deadline(t, clock, tc.budget)
			_, err := p.CloudMonitorTask(ctx, 1, 1)
			if got := ErrorCode(err); got != tc.wantErr {
				t.Fatalf("outcome %s (%v), want %s", got, err, tc.wantErr)
			}
			if n := api.calls.Load(); n != tc.wantCalls {
				t.Fatalf("%d calls, want %d", n, tc.wantCalls)
			}
			if s := clock.Sleeps(); len(s) != len(tc.wantSleeps) || (len(s) > 0 && !equalDurations(s, tc.wantSleeps)) {
				t.Fatalf("slept %v, want %v", s, tc.wantSleeps)
			}
			dl, _ := ctx.Deadline()
			if end := clock.Now(); end.After(dl) {
				t.Fatalf("finished %v after start, past the deadline %v", end.Sub(start), tc.budget)
			}
			retries := 0
			for _, n := range m.retries {
				retries += n
			}
			if retries != int(tc.wantCalls)-1 {
				t.Fatalf("retries metric %v, want %d", m.retries, tc.wantCalls-1)
			}
			if m.calls["CloudMonitorTask/"+tc.wantErr] != 1 {
				t.Fatalf("calls metric %v", m.calls)
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBackoffCap(t *testing.T) {
	p, _, _ := newTestPacer(&fakeAPI{}, roomy, Config{})
	for attempt, want := range []time.Duration{200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000, 5000} {
		if got := p.backoff(attempt, errors.New("x")); got != want*time.Millisecond {
			t.Errorf("attempt %d: ceiling %v, want %v", attempt, got, want*time.Millisecond)
		}
	}
	if got := p.backoff(0, apiErr("Throttling", 3*time.Second)); got != 3*time.Second {
		t.Errorf("TimeLeft 3s is a minimum: got %v", got)
	}
}

func TestRetriesTakeTokens(t *testing.T) {
	// Burst 1 at 1/s: the retry after a 200 ms backoff still waits for
	// the token, 800 ms more.
	api := &fakeAPI{script: []error{apiErr("ServiceUnavailable", 0)}}
	p, clock, m := newTestPacer(api, LimiterConfig{RequestsPerSecond: 1, Burst: 1}, Config{MaxRetries: 1})
	if _, err := p.CloudMonitorTask(deadline(t, clock, time.Minute), 1, 1); err != nil {
		t.Fatal(err)
	}
	if s := clock.Sleeps(); !equalDurations(s, []time.Duration{200 * time.Millisecond, 800 * time.Millisecond}) {
		t.Fatalf("sleeps %v, want backoff 200ms then token 800ms", s)
	}
	if len(m.waits) != 2 || m.waits[1] != 800*time.Millisecond {
		t.Fatalf("limiter waits %v", m.waits)
	}
	// A retry whose token comes too late is not made; the caller gets the
	// server's error, which says more than the limiter's refusal.
	api = &fakeAPI{script: []error{apiErr("ServiceUnavailable", 0)}}
	p, clock, _ = newTestPacer(api, LimiterConfig{RequestsPerSecond: 0.1, Burst: 1}, Config{MaxRetries: 1})
	_, err := p.CloudMonitorTask(deadline(t, clock, 5*time.Second), 1, 1)
	if ErrorCode(err) != "ServiceUnavailable" || api.calls.Load() != 1 {
		t.Fatalf("%v after %d calls", err, api.calls.Load())
	}
}

func TestThrottlingSlowsTheLimiter(t *testing.T) {
	api := &fakeAPI{script: []error{apiErr("Throttling.Api", 0)}}
	p, clock, m := newTestPacer(api, LimiterConfig{RequestsPerSecond: 20, Burst: 20, Adaptive: true}, Config{MaxRetries: 1})
	if _, err := p.CloudMonitorTask(deadline(t, clock, time.Minute), 1, 1); err != nil {
		t.Fatal(err)
	}
	if m.throttled != 1 {
		t.Fatalf("throttled metric %d", m.throttled)
	}
	if r := m.rate(); r >= 20 {
		t.Fatalf("rate source says %v after throttling", r)
	}
	if r := p.Limiter().RateAt(clock.Now()); r < 10 || r > 11 {
		t.Fatalf("limiter rate %v right after throttling, want about half of 20", r)
	}
}

func TestCoalescing(t *testing.T) {
	api := &fakeAPI{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	p, _, m := newTestPacer(api, roomy, Config{})
	p.now, p.sleep = time.Now, sleepContext // real time: goroutines wait for real

	const n = 10
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := make(chan *apiclient.CloudMonitorTaskResponse, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			r, err := p.CloudMonitorTask(ctx, 7, 19)
			if err != nil {
				t.Error(err)
			}
			results <- r
		})
	}
	<-api.started
	testutil.WaitFor(t, func() bool { return m.coalesced.Load() == n-1 })
	close(api.gate)
	wg.Wait()
	close(results)
	var first *apiclient.CloudMonitorTaskResponse
	for r := range results {
		if first == nil {
			first = r
		}
		if r != first {
			t.Fatal("callers got different answers")
		}
	}
	if c := api.calls.Load(); c != 1 {
		t.Fatalf("%d concurrent callers made %d calls, want 1", n, c)
	}
	// Different tasks are different calls, and a finished call is not
	// reused without MinInterval.
	p.CloudMonitorTask(ctx, 7, 20)
	p.CloudMonitorTask(ctx, 7, 19)
	if c := api.calls.Load(); c != 3 {
		t.Fatalf("%d calls, want 3", c)
	}
}

func TestCoalescingCancelledFirstCaller(t *testing.T) {
	api := &fakeAPI{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	p, _, m := newTestPacer(api, roomy, Config{})
	p.now, p.sleep = time.Now, sleepContext

	firstCtx, cancelFirst := context.WithTimeout(context.Background(), time.Minute)
	firstErr := make(chan error, 1)
	go func() {
		_, err := p.CloudMonitorTask(firstCtx, 7, 19)
		firstErr <- err
	}()
	<-api.started
	other := make(chan error, 1)
	go func() {
		_, err := p.CloudMonitorTask(context.Background(), 7, 19)
		other <- err
	}()
	testutil.WaitFor(t, func() bool { return m.coalesced.Load() == 1 })

	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) || ErrorCode(err) != "canceled" {
		t.Fatalf("the cancelled caller got %v (%s)", err, ErrorCode(err))
	}
	close(api.gate)
	if err := <-other; err != nil {
		t.Fatalf("the first caller's cancellation failed the other: %v", err)
	}
	if api.calls.Load() != 1 || api.ctxErrs[0] != nil {
		t.Fatalf("calls %d, shared call's context %v", api.calls.Load(), api.ctxErrs)
	}
}

func TestSharedCallCancelledWhenNobodyWaits(t *testing.T) {
	api := &fakeAPI{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	p, _, _ := newTestPacer(api, roomy, Config{})
	p.now, p.sleep = time.Now, sleepContext

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.CloudMonitorTask(ctx, 7, 19)
		done <- err
	}()
	<-api.started
	cancel()
	<-done
	testutil.WaitFor(t, func() bool {
		api.mu.Lock()
		defer api.mu.Unlock()
		return len(api.ctxErrs) == 1
	})
	if !errors.Is(api.ctxErrs[0], context.Canceled) {
		t.Fatalf("the abandoned call went on: its context says %v", api.ctxErrs[0])
	}
	// The next caller starts afresh instead of joining the cancelled call.
	close(api.gate)
	if _, err := p.CloudMonitorTask(context.Background(), 7, 19); err != nil {
		t.Fatal(err)
	}
}

// The shared call's context carries no deadline (the latest waiter's
// deadline moves, a context's may not: the call is cancelled when it
// passes instead) but keeps the caller's values.
func TestSharedCallContextHasNoDeadline(t *testing.T) {
	type key struct{}
	var (
		hasDL bool
		val   any
	)
	p, _, _ := newTestPacer(apiFunc(func(ctx context.Context) { _, hasDL = ctx.Deadline(); val = ctx.Value(key{}) }), roomy, Config{})
	p.now, p.sleep = time.Now, sleepContext
	ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), key{}, "v"), time.Now().Add(time.Hour))
	defer cancel()
	if _, err := p.CloudMonitorTask(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	if hasDL || val != "v" {
		t.Fatalf("shared call context: deadline %v, value %v; want none and the caller's value", hasDL, val)
	}
}

type apiFunc func(ctx context.Context)

func (f apiFunc) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	f(ctx)
	return &apiclient.CloudMonitorTaskResponse{Code: "OK"}, nil
}

func (f apiFunc) CloudQueryTask(ctx context.Context, q apiclient.TaskQuery) ([]apiclient.TaskSummary, error) {
	f(ctx)
	return nil, nil
}

func TestMinIntervalReuse(t *testing.T) {
	api := &fakeAPI{}
	p, clock, m := newTestPacer(api, roomy, Config{MinInterval: 10 * time.Second})
	ctx := deadline(t, clock, time.Hour)
	a, err := p.CloudMonitorTask(ctx, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(9 * time.Second)
	b, _ := p.CloudMonitorTask(ctx, 1, 1)
	if b != a || api.calls.Load() != 1 || m.hits.Load() != 1 {
		t.Fatalf("an answer 9 s old was not reused: calls %d hits %d", api.calls.Load(), m.hits.Load())
	}
	p.CloudMonitorTask(ctx, 1, 2) // another task is another answer
	clock.Advance(time.Second)
	c, _ := p.CloudMonitorTask(ctx, 1, 1)
	if c == a || api.calls.Load() != 3 {
		t.Fatalf("an answer 10 s old was reused (min_interval 10s): calls %d", api.calls.Load())
	}
	// Expired entries (task 1/2's, 11 s old) are swept when a later
	// answer is stored.
	clock.Advance(11 * time.Second)
	p.CloudMonitorTask(ctx, 1, 1)
	p.mu.Lock()
	size := len(p.cache)
	p.mu.Unlock()
	if size != 1 {
		t.Fatalf("cache holds %d answers, want only the fresh one", size)
	}
}

func TestFailuresNotReused(t *testing.T) {
	api := &fakeAPI{script: []error{apiErr("isv.OUT_OF_SERVICE", 0)}}
	p, clock, m := newTestPacer(api, roomy, Config{MinInterval: time.Minute})
	ctx := deadline(t, clock, time.Hour)
	if _, err := p.CloudMonitorTask(ctx, 1, 1); err == nil {
		t.Fatal("want the scripted failure")
	}
	if _, err := p.CloudMonitorTask(ctx, 1, 1); err != nil || api.calls.Load() != 2 || m.hits.Load() != 0 {
		t.Fatalf("after a failure: %v, %d calls, %d hits", err, api.calls.Load(), m.hits.Load())
	}
}

func TestCloudQueryTask(t *testing.T) {
	tasks := make([]apiclient.TaskSummary, 25)
	for i := range tasks {
		tasks[i].ID = apiclient.Int64{Value: int64(i + 1), Valid: true}
	}
	api := &fakeAPI{tasks: tasks}
	p, clock, m := newTestPacer(api, LimiterConfig{RequestsPerSecond: 1, Burst: 10}, Config{MinInterval: time.Minute})
	ctx := deadline(t, clock, time.Hour)
	running := int64(1)
	q := apiclient.TaskQuery{EnterpriseID: 7, Type: 1, Status: &running, PageSize: 10}
	got, err := p.CloudQueryTask(ctx, q)
	if err != nil || len(got) != 25 {
		t.Fatalf("%d tasks, %v", len(got), err)
	}
	// Three pages: one token before, two charged after.
	if tok := p.Limiter().TokensAt(clock.Now()); tok < 6.9 || tok > 7.1 {
		t.Fatalf("%v tokens left, want 10 - 3 pages", tok)
	}
	got[0].Name = "changed by the caller"
	again, _ := p.CloudQueryTask(ctx, q)
	if api.queries.Load() != 1 || m.hits.Load() != 1 || again[0].Name != "" {
		t.Fatalf("reuse: %d calls, %d hits, caller's change visible: %q", api.queries.Load(), m.hits.Load(), again[0].Name)
	}
	paused := int64(2)
	q.Status = &paused
	p.CloudQueryTask(ctx, q)
	q.Status = nil
	p.CloudQueryTask(ctx, q)
	if api.queries.Load() != 3 {
		t.Fatalf("different filters shared an answer: %d calls", api.queries.Load())
	}
}

func TestPanicBecomesError(t *testing.T) {
	api := &fakeAPI{panicNow: true}
	p, clock, _ := newTestPacer(api, roomy, Config{MaxRetries: 3})
	_, err := p.CloudMonitorTask(deadline(t, clock, time.Minute), 1, 1)
	if err == nil || !strings.Contains(err.Error(), "boom") || api.calls.Load() != 1 {
		t.Fatalf("panic: %v after %d calls", err, api.calls.Load())
	}
}

func (f apiFunc) CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	f(ctx)
	return nil, nil
}

func (f apiFunc) Retire() {}

// retireAPI counts Retire calls.
type retireAPI struct {
	fakeAPI
	retired int
}

func (r *retireAPI) Retire() { r.retired++ }

// Retire reaches the client the pacer wraps: a reload that replaces the
// pacer releases the client's connections through it.
func TestRetireReachesTheClient(t *testing.T) {
	api := &retireAPI{}
	p, _, _ := newTestPacer(api, roomy, Config{})
	p.Retire()
	if api.retired != 1 {
		t.Fatalf("the client was retired %d times, want 1", api.retired)
	}
}
