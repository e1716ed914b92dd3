package pacer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// Retry and deadline defaults.
const (
	// BaseBackoff is the first retry's backoff ceiling: long enough for a
	// per-second quota window to move on, short enough for two retries to
	// fit in a scrape timeout of a few seconds.
	BaseBackoff = 200 * time.Millisecond
	// MaxBackoff caps the doubling: a longer wait rarely fits in a scrape
	// timeout, and the next scrape is only seconds away anyway.
	MaxBackoff = 5 * time.Second
	// MinAttemptTime is the least time before the caller's deadline in
	// which a request is still started (first attempt, retry, or after
	// waiting for a token). The real API answers in 100-400 ms from
	// outside mainland China; a request with less time than 100 ms left
	// almost surely times out and only spends quota.
	MinAttemptTime = 100 * time.Millisecond
)

// API is what the pacer wraps: every operation of the client, the pages of
// call records included; *apiclient.Client satisfies it.
type API interface {
	CloudMonitorTask(ctx context.Context, enterpriseID, taskID int64) (*apiclient.CloudMonitorTaskResponse, error)
	CloudQueryTask(ctx context.Context, q apiclient.TaskQuery) ([]apiclient.TaskSummary, error)
	CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error)
	CloudListOnlineAgent(ctx context.Context, enterpriseID int64) (*apiclient.OnlineAgents, error)
	CloudListQueue(ctx context.Context, enterpriseID int64, pageSize int) (*apiclient.QueueList, error)
	CloudQueryIbCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.InboundRecord, error)
	// Retire: the pacer (and so the client) has been replaced; see
	// apiclient.Client.Retire.
	Retire()
}

var _ API = (*apiclient.Client)(nil)

// Config is the per-configuration part of the pacing (the limiter is
// per credential and outlives configurations).
type Config struct {
	// MaxRetries is api.max_retries: retries after the first attempt, for
	// retryable errors only.
	MaxRetries int
	// MinInterval is api.min_interval: a successful answer younger than
	// this is reused instead of asking again; 0 turns reuse off.
	MinInterval time.Duration
}

// Pacer paces, retries, coalesces and (optionally) reuses API calls; see
// the package documentation. It satisfies collector.MonitorAPI and offers
// CloudQueryTask for discovery. A Pacer is safe for concurrent use; build
// one per loaded configuration, all sharing the credential's Limiter.
type Pacer struct {
	api     API
	lim     *Limiter
	cfg     Config
	metrics Metrics

	// Seams for tests: the clock, sleeping, and the jitter draw in [0, 1).
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64

	mu        sync.Mutex
	flights   map[callKey]*flight
	cache     map[callKey]cached
	lastSweep time.Time
}

// New wraps api. lim is the credential's limiter (from Limiters.Get); m may
// be nil.
func New(api API, lim *Limiter, cfg Config, m Metrics) *Pacer {
	if m == nil {
		m = nopMetrics{}
	}
	cfg.MaxRetries = max(cfg.MaxRetries, 0)
	cfg.MinInterval = max(cfg.MinInterval, 0)
	p := &Pacer{
		api: api, lim: lim, cfg: cfg, metrics: m,
		now:     time.Now,
		sleep:   sleepContext,
		jitter:  rand.Float64,
		flights: map[callKey]*flight{},
		cache:   map[callKey]cached{},
	}
	m.SetRateSource(lim.Rate)
	return p
}

// Retire tells the client the pacer wraps that a reload replaced them both,
// so that it releases its connections instead of keeping them idle.
func (p *Pacer) Retire() { p.api.Retire() }

// Limiter returns the limiter the pacer draws from.
func (p *Pacer) Limiter() *Limiter { return p.lim }

// callKey identifies calls that would get the same answer.
type callKey struct {
	op               string
	enterprise, task int64
	qType, qStatus   int64
	hasStatus        bool
	name             string
	pageSize         int
}

type cached struct {
	val any
	at  time.Time
}

const (
	opMonitor = apiclient.OpCloudMonitorTask
	opQuery   = apiclient.OpCloudQueryTask
)

// CloudMonitorTask returns the task's monitoring view. The answer may be
// shared with other callers: do not modify it.
func (p *Pacer) CloudMonitorTask(ctx context.Context, enterpriseID, taskID int64) (*apiclient.CloudMonitorTaskResponse, error) {
	v, err := p.do(ctx, callKey{op: opMonitor, enterprise: enterpriseID, task: taskID}, func(ctx context.Context) (any, error) {
		return p.api.CloudMonitorTask(ctx, enterpriseID, taskID)
	})
	if err != nil {
		return nil, err
	}
	return v.(*apiclient.CloudMonitorTaskResponse), nil
}

// CloudQueryTask lists tasks. apiclient pages by itself, so the listing
// takes one token before it starts and is charged its further pages
// afterwards (the bucket goes into debt): over time the bucket stays
// honest, although a listing of many pages briefly runs above the rate.
// The returned slice is the caller's own.
func (p *Pacer) CloudQueryTask(ctx context.Context, q apiclient.TaskQuery) ([]apiclient.TaskSummary, error) {
	k := callKey{op: opQuery, enterprise: q.EnterpriseID, qType: q.Type, name: q.Name, pageSize: q.PageSize}
	if q.Status != nil {
		k.qStatus, k.hasStatus = *q.Status, true
	}
	v, err := p.do(ctx, k, func(ctx context.Context) (any, error) {
		tasks, err := p.api.CloudQueryTask(ctx, q)
		if err == nil {
			size := q.PageSize
			if size <= 0 {
				size = apiclient.MaxPageSize
			}
			p.lim.charge(p.now(), len(tasks)/size) // pages beyond the first
		}
		return tasks, err
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]apiclient.TaskSummary)), nil
}

// do serves a call from the cache, from an in-flight call with the same
// key, or by starting one. Every caller gets the shared answer if it comes
// within the caller's own deadline: the shared call runs until the latest
// deadline of those waiting for it (see flightCtx), and a call that can no
// longer serve a newcomer (it has ended, or given up for lack of time) is
// not joined but replaced.
func (p *Pacer) do(ctx context.Context, k callKey, fn func(context.Context) (any, error)) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dyvmsapi %s: not sent: %w", k.op, context.Cause(ctx))
	}
	p.mu.Lock()
	if c, ok := p.cache[k]; ok && p.now().Sub(c.at) < p.cfg.MinInterval {
		p.mu.Unlock()
		p.metrics.CacheHit(k.op)
		return c.val, nil
	}
	w := newWaiter(ctx)
	f, joined := p.flights[k]
	joined = joined && f.join(w)
	if !joined {
		f = newFlight(ctx, w)
		p.flights[k] = f
		go p.run(k, f, fn)
	}
	p.mu.Unlock()
	if joined {
		p.metrics.Coalesced(k.op)
	}

	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-f.done: // finished meanwhile: the answer is better than an error
		return f.val, f.err
	default:
	}
	if f.leave(w, ctx.Err()) && p.flights[k] == f {
		// Nobody will read the answer, and the call is cancelled: let the
		// next caller start afresh rather than join it.
		delete(p.flights, k)
	}
	return nil, fmt.Errorf("dyvmsapi %s: stopped waiting for the answer: %w", k.op, context.Cause(ctx))
}

// run executes a shared call and publishes its outcome.
func (p *Pacer) run(k callKey, f *flight, fn func(context.Context) (any, error)) {
	defer f.ctx.end(context.Canceled)
	v, err := p.call(f.ctx, k.op, fn)
	f.ctx.freeze()
	p.metrics.Call(k.op, ErrorCode(err))
	p.mu.Lock()
	if p.flights[k] == f {
		delete(p.flights, k)
	}
	if err == nil && p.cfg.MinInterval > 0 {
		p.store(k, v)
	}
	f.val, f.err = v, err
	p.mu.Unlock()
	close(f.done)
}

// store caches a successful answer and, once per MinInterval, drops the
// expired ones so that tasks no longer scraped do not pin their answers.
// Callers hold p.mu.
func (p *Pacer) store(k callKey, v any) {
	now := p.now()
	p.cache[k] = cached{val: v, at: now}
	if now.Sub(p.lastSweep) < p.cfg.MinInterval {
		return
	}
	p.lastSweep = now
	for key, c := range p.cache {
		if now.Sub(c.at) >= p.cfg.MinInterval {
			delete(p.cache, key)
		}
	}
}

// call makes the attempts of one call: a token for each, retries for
// retryable errors while they fit before the deadline.
func (p *Pacer) call(ctx *flightCtx, op string, fn func(context.Context) (any, error)) (v any, err error) {
	defer func() {
		// The shared call runs on its own goroutine, out of reach of the
		// collector's recover: a panic below must fail the call, not the
		// process.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("dyvmsapi %s: internal error: %v", op, r)
		}
	}()
	var last error
	for attempt := 0; ; attempt++ {
		if err := p.take(ctx, op); err != nil {
			if last != nil {
				return nil, last // the server's answer says more than our refusal
			}
			return nil, err
		}
		if attempt > 0 {
			p.metrics.Retry(op, ErrorCode(last))
		}
		v, err := fn(ctx.ctx)
		if err == nil {
			return v, nil
		}
		if IsThrottling(err) {
			p.metrics.Throttled(op)
			p.lim.Throttled(p.now())
		}
		last = err
		if attempt >= p.cfg.MaxRetries || apiclient.IsConfigError(err) || !apiclient.IsRetryable(err) || ctx.ctx.Err() != nil {
			return nil, err
		}
		d := p.backoff(attempt, err)
		if !p.fits(ctx, d) {
			return nil, err
		}
		if p.sleep(ctx.ctx, d) != nil {
			return nil, err
		}
	}
}

// backoff is full jitter over an exponential ceiling, but never less than
// the server's TimeLeft hint.
func (p *Pacer) backoff(attempt int, err error) time.Duration {
	ceiling := MaxBackoff
	if attempt < 8 { // BaseBackoff<<5 already exceeds MaxBackoff
		ceiling = min(MaxBackoff, BaseBackoff<<attempt)
	}
	d := time.Duration(p.jitter() * float64(ceiling))
	return max(d, retryAfter(err))
}

// fits reports whether a request started after waiting d still has
// MinAttemptTime before ctx's deadline. A "no" is settled (see
// flightCtx.settle): it stands only if no waiter with more time has
// joined since the deadline was read.
func (p *Pacer) fits(ctx *flightCtx, d time.Duration) bool {
	for {
		dl, ok := ctx.deadline()
		if !ok || !p.now().Add(d+MinAttemptTime).After(dl) {
			return true
		}
		if ctx.settle(dl, ok) {
			return false
		}
	}
}

// take waits for a token, or refuses at once when the wait would end too
// close to (or after) the deadline; a refusal is settled like fits' "no".
func (p *Pacer) take(ctx *flightCtx, op string) error {
	for {
		now := p.now()
		dl, hasDL := ctx.deadline()
		if hasDL && dl.Sub(now) < MinAttemptTime {
			if !ctx.settle(dl, hasDL) {
				continue
			}
			return fmt.Errorf("dyvmsapi %s: not sent: %v left before the deadline, less than the %v a request needs: %w",
				op, max(dl.Sub(now), 0).Round(time.Millisecond), MinAttemptTime, context.DeadlineExceeded)
		}
		r := p.lim.reserve(now)
		d := r.DelayFrom(now)
		if hasDL && now.Add(d+MinAttemptTime).After(dl) {
			r.CancelAt(now)
			if !ctx.settle(dl, hasDL) {
				continue
			}
			return &RateLimitError{Operation: op, Wait: d, Left: dl.Sub(now)}
		}
		if d > 0 {
			if err := p.sleep(ctx.ctx, d); err != nil {
				r.CancelAt(p.now())
				return fmt.Errorf("dyvmsapi %s: not sent: waiting for the rate limiter: %w", op, err)
			}
		}
		p.metrics.LimiterWait(op, d)
		return nil
	}
}

// sleepContext waits d or until ctx ends, whichever is first.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
