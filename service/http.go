package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/dyvms-community/dyvms_exporter/collector"
)

// HTTPOptions are the knobs of the HTTP side.
type HTTPOptions struct {
	TelemetryPath string        // default /metrics
	TimeoutOffset time.Duration // kept back from Prometheus' scrape timeout
	// MaxScrapeTimeout caps every scrape's budget, /metrics and /probe
	// (--scrape.max-timeout); zero means collector.DefaultMaxScrapeTimeout.
	MaxScrapeTimeout time.Duration
	// ExternalAddress (host:port) is the target /sd hands out; empty uses
	// the Host of the /sd request. Set it when Prometheus must scrape the
	// exporter at another address than the one it asked /sd at.
	ExternalAddress string
	// Pprof serves the Go runtime's profiles under /debug/pprof/ and links
	// them from the landing page. Off by default: a CPU profile costs CPU
	// for as long as it runs, and the heap and goroutine dumps show the
	// code's internals to whoever can reach the port.
	Pprof bool
	// MaxRequests bounds the scrapes (/metrics and /probe) served at
	// once (--web.max-requests); one more is answered 503 at once and
	// counted in dyvms_exporter_scrapes_rejected_total. Each scrape fans
	// out to the API, so a flood of them would otherwise pile up
	// goroutines, connections and waits for the rate limiter. Zero or
	// less: no limit.
	MaxRequests int
}

// DefaultMaxRequests is --web.max-requests' default, node_exporter's:
// far above what Prometheus servers scraping on their own schedule make
// (a /probe per task of a few hundred, each a fraction of a second, a few
// at a time), far below what would exhaust the process.
const DefaultMaxRequests = 40

// ExporterMetricsPath serves the process-wide metrics alone.
const ExporterMetricsPath = "/exporter-metrics"

// Handler returns every route of the exporter. The reload route funnels
// into reloads, the same channel SIGHUP feeds, so two reloads never overlap.
func (s *Service) Handler(o HTTPOptions, reloads chan<- chan error) (http.Handler, error) {
	if o.TelemetryPath == "" {
		o.TelemetryPath = "/metrics"
	}
	if o.TelemetryPath == ProbePath || o.TelemetryPath == "/sd" || o.TelemetryPath == ExporterMetricsPath {
		return nil, fmt.Errorf("telemetry path %s is taken by the per-task probe, service discovery or exporter-metrics routes", o.TelemetryPath)
	}
	if err := checkExternalAddress(o.ExternalAddress); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	limit := s.scrapeLimit(o.MaxRequests)
	mux.Handle(o.TelemetryPath, limit(o.TelemetryPath, collector.Handler(s.Scrape, s.o.Gatherer, collector.HandlerOptions{
		TimeoutOffset: o.TimeoutOffset, MaxTimeout: o.MaxScrapeTimeout, Logger: s.logger, OnError: s.OnError, OnSuccess: s.OnSuccess, OnUnreadable: s.OnUnreadable,
	})))
	mux.Handle(ProbePath, limit(ProbePath, s.probeHandler(o)))
	// The exporter's own metrics without reading any task: what a sharded
	// /probe setup scrapes for dyvms_api_*, dyvms_discovery_* and the reload
	// gauges, at no API cost.
	mux.Handle(ExporterMetricsPath, promhttp.HandlerFor(s.o.Gatherer, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.Handle("/sd", s.sdHandler(o))
	// Health and readiness never call the API: a probe must not spend the
	// account's quota, and the exporter is healthy even when the API is not.
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy.") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if s.Config() == nil {
			http.Error(w, "No configuration loaded.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready.")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "Use POST to reload the configuration.", http.StatusMethodNotAllowed)
			return
		}
		// The whole request first: a client that sent the headers and then
		// stalls (or leaves) has not asked for anything yet, so hundreds of
		// half-sent POSTs cost no reload. The server's ReadTimeout ends a
		// body that never comes; the route takes no body, so a few bytes
		// are plenty.
		if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxReloadBody)); err != nil {
			http.Error(w, "Reload not done: the request body was not received whole ("+err.Error()+").", http.StatusBadRequest)
			return
		}
		done := make(chan error, 1)
		select {
		case reloads <- done:
		case <-r.Context().Done():
			return
		}
		if err := <-done; err != nil {
			http.Error(w, "Reload failed; the previous configuration stays in force:\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Configuration reloaded.")
	})
	if o.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index) // heap, goroutine, allocs, ... by name
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if o.TelemetryPath != "/" {
		profiling := "false"
		if o.Pprof {
			profiling = "true"
		}
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "dyvms_exporter",
			Description: "Prometheus exporter for Alibaba Cloud Voice Messaging Service call-centre tasks (CloudMonitorTask)",
			Version:     version.Info(),
			Profiling:   profiling,
			Links: []web.LandingLinks{
				{Address: o.TelemetryPath, Text: "Metrics", Description: "Every configured and discovered task, read now"},
				{Address: ExporterMetricsPath, Text: "Exporter metrics", Description: "The exporter's own metrics only (API, discovery, reloads, Go runtime); reads no task"},
				{Address: "/sd", Text: "Service discovery", Description: "One target per task for Prometheus http_sd_configs, scraped through /probe?enterprise_id=&task_id="},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// RunReloads serves reload requests, from SIGHUP (hup) or the HTTP route
// (reloads), one at a time until ctx ends. Requests that are waiting when a
// reload starts share it: each of them asked before the file was read, so
// one reading answers them all, and a burst of requests costs one reload
// (plus one for those that came while it ran) instead of one each.
func (s *Service) RunReloads(ctx context.Context, hup <-chan struct{}, reloads <-chan chan error) {
	for {
		var waiters []chan error
		var signalled bool
		select {
		case <-ctx.Done():
			return
		case <-hup:
			signalled = true
		case done := <-reloads:
			waiters = append(waiters, done)
		}
	pending:
		for {
			select {
			case <-hup:
				signalled = true
			case done := <-reloads:
				waiters = append(waiters, done)
			default:
				break pending
			}
		}
		level.Info(s.logger).Log("msg", "reloading configuration", "sighup", signalled, "http_requests", len(waiters))
		err := s.Reload()
		for _, done := range waiters {
			done <- err
		}
	}
}

// scrapeLimit returns a wrapper that lets at most max requests through
// the handlers it wraps at once (all of them together: they share the
// API) and answers any more 503 at once, without waiting, counted by path.
// max <= 0: no limit.
func (s *Service) scrapeLimit(max int) func(path string, h http.Handler) http.Handler {
	if max <= 0 {
		return func(_ string, h http.Handler) http.Handler { return h }
	}
	slots := make(chan struct{}, max)
	return func(path string, h http.Handler) http.Handler {
		rejected := s.scrapesRejected.WithLabelValues(path)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case slots <- struct{}{}:
			default:
				rejected.Inc()
				w.Header().Set("Retry-After", "1")
				http.Error(w, fmt.Sprintf("Too many scrapes at once: %d are being served (--web.max-requests). Try again shortly.", max), http.StatusServiceUnavailable)
				return
			}
			defer func() { <-slots }()
			h.ServeHTTP(w, r)
		})
	}
}

// maxReloadBody bounds what POST /-/reload reads (it needs no body).
const maxReloadBody = 4 << 10

// RegisterBuildInfo is a convenience for main and tests alike.
func RegisterBuildInfo(reg prometheus.Registerer) {
	reg.MustRegister(buildInfo())
}
