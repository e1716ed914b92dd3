// Package apimetrics owns the exporter's own metrics of its calls to the
// Voice Messaging API (dyvms_api_*): the HTTP requests as apiclient sends
// them and the calls as the pacer makes them (retries, throttling, limiter
// waits, coalescing, reuse, the rate in force). They live for the process,
// unlike a scrape's collector, because counters must keep counting across
// scrapes and reloads; one Metrics is registered once and every client and
// pacer a reload builds reports to it.
//
// The operation label takes its values from one list, apiclient.Operations:
// each series is created at 0 for each of them at start, so that rate()
// and absent() work from the first scrape on, and an operation not in the
// list is counted as "other" rather than becoming a new series.
package apimetrics

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/dedup"
)

// Namespace and subsystem of every metric of the package.
const (
	namespace = "dyvms"
	subsystem = "api"
)

// Metrics counts API requests and calls. It implements pacer.Metrics, and
// Attempt is the apiclient.Options.Observe hook.
type Metrics struct {
	operations []string
	logger     log.Logger
	unknown    *dedup.Memory[string, struct{}] // codes already logged

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	calls       *prometheus.CounterVec
	retries     *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	limiterWait *prometheus.HistogramVec
	coalesced   *prometheus.CounterVec
	cacheHits   *prometheus.CounterVec
	rate        *rateGauge
}

// New registers the metrics with reg; logger (nil: none) receives the
// first sighting of each code not in the known set.
func New(reg prometheus.Registerer, logger log.Logger) *Metrics {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help}
	}
	m := &Metrics{
		operations: apiclient.Operations(),
		logger:     logger,
		unknown:    dedup.New[string, struct{}](256),
		requests: prometheus.NewCounterVec(opts("requests_total",
			"HTTP requests sent to the Voice Messaging API, by operation and outcome: the API's Code (OK, Throttling.User, ...) or a transport class (timeout, network, bad_response, ...)."),
			[]string{"operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "request_duration_seconds",
			Help: "Duration of each HTTP request to the Voice Messaging API (one per attempt, retries included), by operation.",
			// 100-400 ms is normal from outside mainland China; the top
			// buckets catch a request cut off by a scrape's deadline or a
			// poll's time limit.
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		calls: prometheus.NewCounterVec(opts("calls_total",
			"API calls as the collector, discovery and the call-record poller see them, by operation and final outcome after retries: OK, the API's Code, a transport class, or rate_limited when the exporter's own rate limiter had no token before the deadline (nothing sent). Coalesced calls and reused answers are not counted here."),
			[]string{"operation", "code"}),
		retries: prometheus.NewCounterVec(opts("retries_total",
			"Retries sent to the Voice Messaging API (at most api.max_retries per call), by operation and the code of the failure that caused them."),
			[]string{"operation", "code"}),
		throttled: prometheus.NewCounterVec(opts("throttled_total",
			"Answers of the Voice Messaging API asking to slow down (Throttling*, isv.BUSINESS_LIMIT_CONTROL, HTTP 429), by operation; they halve the exporter's request rate for a while."),
			[]string{"operation"}),
		limiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "rate_limiter_wait_seconds",
			Help:    "Time each request waited for a token of the exporter's rate limiter (api.requests_per_second, api.burst), by operation.",
			Buckets: []float64{0, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		coalesced: prometheus.NewCounterVec(opts("coalesced_calls_total",
			"Calls served by an identical call already in flight (two scrapes at once, say) instead of a request of their own, by operation."),
			[]string{"operation"}),
		cacheHits: prometheus.NewCounterVec(opts("cache_hits_total",
			"Calls served an earlier successful answer because it was younger than api.min_interval (0s: never), by operation. Failures are never reused."),
			[]string{"operation"}),
		rate: &rateGauge{desc: prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, "rate_limit_requests_per_second"),
			"Request rate the exporter's rate limiter allows now: api.requests_per_second, or less for a while after the API throttled.", nil, nil)},
	}
	reg.MustRegister(m.requests, m.duration, m.calls, m.retries, m.throttled, m.limiterWait, m.coalesced, m.cacheHits, m.rate)
	for _, op := range m.operations {
		m.requests.WithLabelValues(op, "OK")
		m.duration.WithLabelValues(op)
		m.calls.WithLabelValues(op, "OK")
		m.throttled.WithLabelValues(op)
		m.limiterWait.WithLabelValues(op)
		m.coalesced.WithLabelValues(op)
		m.cacheHits.WithLabelValues(op)
	}
	return m
}

// code is the label value of an outcome (apiclient.CodeLabel: the known
// codes and classes, everything else one value per family or "other").
// An outcome that loses its own value is logged, with its raw code, the
// first time it is seen: the log says what "other" stands for, once, and
// the memory of codes already logged is bounded.
func (m *Metrics) code(operation, code string) string {
	l := apiclient.CodeLabel(code)
	if l != code && m.unknown.Note(code, struct{}{}) {
		level.Warn(m.logger).Log("msg", "the API answered a code the exporter does not know; it is counted as "+l+" in dyvms_api_* metrics",
			"operation", operation, "code", code, "hint", "logged once per code")
	}
	return l
}

// operation keeps an operation outside the list from becoming a new series.
func (m *Metrics) operation(op string) string {
	if slices.Contains(m.operations, op) {
		return op
	}
	return "other"
}

// Attempt counts one HTTP attempt with the ErrorCode of its outcome ("OK"
// on success) and records its duration: the apiclient.Options.Observe hook.
func (m *Metrics) Attempt(operation, code string, d time.Duration) {
	op := m.operation(operation)
	m.requests.WithLabelValues(op, m.code(op, code)).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}

// Call counts one executed call by its final outcome (pacer.Metrics).
func (m *Metrics) Call(operation, code string) {
	op := m.operation(operation)
	m.calls.WithLabelValues(op, m.code(op, code)).Inc()
}

// Retry counts one retry sent after a failure with code (pacer.Metrics).
func (m *Metrics) Retry(operation, code string) {
	op := m.operation(operation)
	m.retries.WithLabelValues(op, m.code(op, code)).Inc()
}

// Throttled counts one throttled answer (pacer.Metrics).
func (m *Metrics) Throttled(operation string) {
	m.throttled.WithLabelValues(m.operation(operation)).Inc()
}

// LimiterWait records one request's wait for a token (pacer.Metrics).
func (m *Metrics) LimiterWait(operation string, d time.Duration) {
	m.limiterWait.WithLabelValues(m.operation(operation)).Observe(d.Seconds())
}

// Coalesced counts one caller served by a call in flight (pacer.Metrics).
func (m *Metrics) Coalesced(operation string) {
	m.coalesced.WithLabelValues(m.operation(operation)).Inc()
}

// CacheHit counts one caller served a reused answer (pacer.Metrics).
func (m *Metrics) CacheHit(operation string) {
	m.cacheHits.WithLabelValues(m.operation(operation)).Inc()
}

// SetRateSource makes f the source of the rate gauge (pacer.Metrics).
func (m *Metrics) SetRateSource(f func() float64) { m.rate.src.Store(&f) }

// rateGauge reads the rate from the limiter in force when scraped, because
// the adaptive rate recovers continuously, not in steps anyone reports. It
// is absent until a source is set.
type rateGauge struct {
	desc *prometheus.Desc
	src  atomic.Pointer[func() float64]
}

func (g *rateGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *rateGauge) Collect(ch chan<- prometheus.Metric) {
	if f := g.src.Load(); f != nil && *f != nil {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, (*f)())
	}
}
