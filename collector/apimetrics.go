package collector

import (
	"regexp"
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
	return m
}

// codeLabel keeps label values bounded and printable: vendor codes look like
// "Throttling.User"; anything else (a garbled proxy answer, say) is "other".
var codeLabel = regexp.MustCompile(`^[A-Za-z0-9_.]{1,64}$`)

// Observe is the apiclient.Options.Observe hook.
func (m *APIMetrics) Observe(operation, code string, _ time.Duration) {
	if !codeLabel.MatchString(code) {
		code = "other"
	}
	m.requests.WithLabelValues(operation, code).Inc()
}
