package service

import (
	"sync"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apimetrics"
)

// accountMetrics are one account's dyvms_api_* metrics (requests,
// durations, calls, retries, throttling, limiter waits, coalescing, reuse
// and the rate gauge), registered with the constant label account=<name>
// ("default" for the top-level credentials). They live as long as the
// account is configured, across rebuilds of its client, so that its
// counters never restart; a removed account's series are unregistered.
type accountMetrics struct {
	*apimetrics.Metrics
	reg *trackingRegisterer
}

func newAccountMetrics(reg prometheus.Registerer, name string, logger log.Logger) *accountMetrics {
	tr := &trackingRegisterer{reg: prometheus.WrapRegistererWith(prometheus.Labels{"account": name}, reg)}
	return &accountMetrics{Metrics: apimetrics.New(tr, log.With(logger, "account", name)), reg: tr}
}

// trackingRegisterer remembers what it registered, to unregister it all.
type trackingRegisterer struct {
	reg prometheus.Registerer
	mu  sync.Mutex
	cs  []prometheus.Collector
}

func (t *trackingRegisterer) Register(c prometheus.Collector) error {
	if err := t.reg.Register(c); err != nil {
		return err
	}
	t.mu.Lock()
	t.cs = append(t.cs, c)
	t.mu.Unlock()
	return nil
}

func (t *trackingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

func (t *trackingRegisterer) Unregister(c prometheus.Collector) bool { return t.reg.Unregister(c) }

func (t *trackingRegisterer) unregisterAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.cs {
		t.reg.Unregister(c)
	}
	t.cs = nil
}

// metricsFor returns the account's metrics, creating them on first use.
// Called with s.mu held.
func (s *Service) metricsFor(name string) *accountMetrics {
	if m, ok := s.acctMetrics[name]; ok {
		return m
	}
	m := newAccountMetrics(s.registerer(), name, s.logger)
	s.acctMetrics[name] = m
	return m
}

// dropMetrics removes the series of accounts no longer configured.
// Called with s.mu held.
func (s *Service) dropMetrics(keep map[string]*account) {
	for name, m := range s.acctMetrics {
		if _, ok := keep[name]; !ok {
			m.reg.unregisterAll()
			delete(s.acctMetrics, name)
		}
	}
}

// registerer is where the process-wide metrics go; a Service built
// without one (some tests) registers into a registry of its own.
func (s *Service) registerer() prometheus.Registerer {
	if s.o.Registerer == nil {
		s.o.Registerer = prometheus.NewRegistry()
	}
	return s.o.Registerer
}
