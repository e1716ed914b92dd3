package service

import (
	"context"
	"fmt"
	"net/http"
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
	// ExternalAddress (host:port) is the target /sd hands out; empty uses
	// the Host of the /sd request. Set it when Prometheus must scrape the
	// exporter at another address than the one it asked /sd at.
	ExternalAddress string
}

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
	mux.Handle(o.TelemetryPath, collector.Handler(s.Scrape, s.o.Gatherer, collector.HandlerOptions{
		TimeoutOffset: o.TimeoutOffset, Logger: s.logger, OnError: s.OnError, OnSuccess: s.OnSuccess, OnUnreadable: s.OnUnreadable,
	}))
	mux.Handle(ProbePath, s.probeHandler(o))
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
	if o.TelemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "dyvms_exporter",
			Description: "Prometheus exporter for Alibaba Cloud Voice Messaging Service call-centre tasks (CloudMonitorTask)",
			Version:     version.Info(),
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
// (reloads), one at a time until ctx ends.
func (s *Service) RunReloads(ctx context.Context, hup <-chan struct{}, reloads <-chan chan error) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			level.Info(s.logger).Log("msg", "reloading configuration on SIGHUP")
			_ = s.Reload()
		case done := <-reloads:
			level.Info(s.logger).Log("msg", "reloading configuration on HTTP request")
			done <- s.Reload()
		}
	}
}

// RegisterBuildInfo is a convenience for main and tests alike.
func RegisterBuildInfo(reg prometheus.Registerer) {
	reg.MustRegister(buildInfo())
}
