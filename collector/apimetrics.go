package collector

import (
	"regexp"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// APIMetrics counts API requests by operation and outcome. It lives for the
// process, unlike the per-scrape Exporter, because counters must keep
// counting across scrapes and reloads.
type APIMetrics struct {
	requests *prometheus.CounterVec
}

// NewAPIMetrics registers the API request metrics with reg.
func NewAPIMetrics(reg prometheus.Registerer) *APIMetrics {
	m := &APIMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "api", Name: "requests_total",
			Help: "HTTP requests sent to the Voice Messaging API, by operation and outcome: the API's Code (OK, Throttling.User, ...) or a transport class (timeout, network, bad_response, ...).",
		}, []string{"operation", "code"}),
	}
	reg.MustRegister(m.requests)
	// Start at 0 so rate() and increase() see the very first requests.
	for _, op := range apiOperations {
		m.requests.WithLabelValues(op, "OK")
	}
	return m
}

// PacerMetrics is what package pacer reports (it implements
// pacer.Metrics): retries, throttling, limiter waits, coalesced calls,
// reused answers, the rate in force, plus the duration of every HTTP
// attempt. Like APIMetrics it lives for the process and is registered once.
// It is separate from APIMetrics only so that it could be added without
// changing who constructs APIMetrics; the two may merge.
type PacerMetrics struct {
	duration    *prometheus.HistogramVec
	calls       *prometheus.CounterVec
	retries     *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	limiterWait *prometheus.HistogramVec
	coalesced   *prometheus.CounterVec
	cacheHits   *prometheus.CounterVec
	rate        *rateGauge
}

// apiOperations are the operation label's only values; series with them
// are created at start so that rate() and absent() work from the first
// scrape on.
var apiOperations = []string{"CloudMonitorTask", "CloudQueryTask"}

// NewPacerMetrics registers the pacer's metrics with reg.
func NewPacerMetrics(reg prometheus.Registerer) *PacerMetrics {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: Namespace, Subsystem: "api", Name: name, Help: help}
	}
	m := &PacerMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "api", Name: "request_duration_seconds",
			Help: "Duration of each HTTP request to the Voice Messaging API (one per attempt, retries included), by operation.",
			// 100-400 ms is normal from outside mainland China; the top
			// buckets catch a transport timing out (5 s connect, 30 s headers).
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		calls: prometheus.NewCounterVec(opts("calls_total",
			"API calls as the collector and discovery see them, by operation and final outcome after retries: OK, the API's Code, a transport class, or rate_limited when the exporter's own rate limiter had no token before the deadline (nothing sent). Coalesced calls and reused answers are not counted here."),
			[]string{"operation", "code"}),
		retries: prometheus.NewCounterVec(opts("retries_total",
			"Retries sent to the Voice Messaging API (at most api.max_retries per call), by operation and the code of the failure that caused them."),
			[]string{"operation", "code"}),
		throttled: prometheus.NewCounterVec(opts("throttled_total",
			"Answers of the Voice Messaging API asking to slow down (Throttling*, isv.BUSINESS_LIMIT_CONTROL, HTTP 429), by operation; they halve the exporter's request rate for a while."),
			[]string{"operation"}),
		limiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "api", Name: "rate_limiter_wait_seconds",
			Help:    "Time each request waited for a token of the exporter's rate limiter (api.requests_per_second, api.burst), by operation.",
			Buckets: []float64{0, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		coalesced: prometheus.NewCounterVec(opts("coalesced_calls_total",
			"Calls served by an identical call already in flight (two scrapes at once, say) instead of a request of their own, by operation."),
			[]string{"operation"}),
		cacheHits: prometheus.NewCounterVec(opts("cache_hits_total",
			"Calls served an earlier successful answer because it was younger than api.min_interval (0s: never), by operation. Failures are never reused."),
			[]string{"operation"}),
		rate: &rateGauge{desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "api", "rate_limit_requests_per_second"),
			"Request rate the exporter's rate limiter allows now: api.requests_per_second, or less for a while after the API throttled.", nil, nil)},
	}
	reg.MustRegister(m.duration, m.calls, m.retries, m.throttled, m.limiterWait, m.coalesced, m.cacheHits, m.rate)
	for _, op := range apiOperations {
		m.duration.WithLabelValues(op)
		m.calls.WithLabelValues(op, "OK")
		m.throttled.WithLabelValues(op)
		m.limiterWait.WithLabelValues(op)
		m.coalesced.WithLabelValues(op)
		m.cacheHits.WithLabelValues(op)
	}
	return m
}

// codeLabel keeps label values bounded and printable: vendor codes look like
// "Throttling.User"; anything else (a garbled proxy answer, say) is "other".
var codeLabel = regexp.MustCompile(`^[A-Za-z0-9_.]{1,64}$`)

func boundCode(code string) string {
	if !codeLabel.MatchString(code) {
		return "other"
	}
	return code
}

// operationLabel keeps a caller's typo from becoming a new series.
func operationLabel(op string) string {
	for _, o := range apiOperations {
		if op == o {
			return op
		}
	}
	return "other"
}

// Observe is the apiclient.Options.Observe hook.
func (m *APIMetrics) Observe(operation, code string, _ time.Duration) {
	m.requests.WithLabelValues(operation, boundCode(code)).Inc()
}

// ObserveDuration records one HTTP attempt's duration; call it from the
// apiclient.Options.Observe hook next to APIMetrics.Observe.
func (m *PacerMetrics) ObserveDuration(operation string, d time.Duration) {
	m.duration.WithLabelValues(operationLabel(operation)).Observe(d.Seconds())
}

// Call counts one executed call by its final outcome (pacer.Metrics).
func (m *PacerMetrics) Call(operation, code string) {
	m.calls.WithLabelValues(operationLabel(operation), boundCode(code)).Inc()
}

// Retry counts one retry sent after a failure with code (pacer.Metrics).
func (m *PacerMetrics) Retry(operation, code string) {
	m.retries.WithLabelValues(operationLabel(operation), boundCode(code)).Inc()
}

// Throttled counts one throttled answer (pacer.Metrics).
func (m *PacerMetrics) Throttled(operation string) {
	m.throttled.WithLabelValues(operationLabel(operation)).Inc()
}

// LimiterWait records one request's wait for a token (pacer.Metrics).
func (m *PacerMetrics) LimiterWait(operation string, d time.Duration) {
	m.limiterWait.WithLabelValues(operationLabel(operation)).Observe(d.Seconds())
}

// Coalesced counts one caller served by a call in flight (pacer.Metrics).
func (m *PacerMetrics) Coalesced(operation string) {
	m.coalesced.WithLabelValues(operationLabel(operation)).Inc()
}

// CacheHit counts one caller served a reused answer (pacer.Metrics).
func (m *PacerMetrics) CacheHit(operation string) {
	m.cacheHits.WithLabelValues(operationLabel(operation)).Inc()
}

// SetRateSource makes f the source of the rate gauge (pacer.Metrics).
func (m *PacerMetrics) SetRateSource(f func() float64) { m.rate.src.Store(&f) }

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
