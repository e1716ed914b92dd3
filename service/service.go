// Package service holds what the exporter runs on between start and stop:
// the configuration in force, the API client built from it, and the HTTP
// handlers that read both. main.go only wires flags, logger and these.
package service

import (
	"fmt"
	"net/http"
	"reflect"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/apimetrics"
	"github.com/dyvms-community/dyvms_exporter/callrecords"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/discovery"
	"github.com/dyvms-community/dyvms_exporter/pacer"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// Options are the service's dependencies.
type Options struct {
	ConfigFile string
	Logger     log.Logger
	// Registerer receives the process-wide metrics (API counters, reload
	// gauges); scrapes gather them through Gatherer.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// HTTPClient, if set, is used for API calls (tests); nil uses apiclient's default.
	HTTPClient *http.Client
}

// Service is the running exporter.
type Service struct {
	o          Options
	logger     log.Logger
	reloadOK   prometheus.Gauge // the last reload's outcome
	reloadTime prometheus.Gauge // when the last successful one was
	apiMetrics *apimetrics.Metrics
	errLog     *errorLog
	unreadable *collector.UnreadableLog
	disc       *discovery.Manager
	// scrapesRejected counts the scrapes --web.max-requests turned away.
	scrapesRejected *prometheus.CounterVec
	calls           *callrecords.Manager
	limiters        *pacer.Limiters // per credential, for the life of the Service

	// The configuration in force and the client built from it: one pair,
	// replaced together by a reload only once both were made (apply), so
	// that no reader ever sees a configuration without its client.
	mu  sync.Mutex
	cfg *config.Config
	api *pacer.Pacer
	// build makes a client (a seam: tests make it fail).
	build func(*config.Config) (*pacer.Pacer, error)
}

// New loads the configuration file once; an error here is fatal for the
// caller, unlike a failed reload later.
func New(o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	s := &Service{
		o:          o,
		logger:     o.Logger,
		apiMetrics: apimetrics.New(o.Registerer, log.With(o.Logger, "component", "api")),
		disc:       discovery.New(discovery.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "discovery")}),
		limiters:   pacer.NewLimiters(),
	}
	s.errLog = newErrorLog(o.Logger, func() bool { c := s.Config(); return c != nil && c.Credentials == nil })
	s.unreadable = collector.NewUnreadableLog(o.Logger, 0)
	s.calls = callrecords.New(callrecords.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "callrecords"), Tasks: s.knownTasks})
	s.build = s.newClient
	f := promauto.With(o.Registerer)
	s.scrapesRejected = f.NewCounterVec(prometheus.CounterOpts{
		Name: "dyvms_exporter_scrapes_rejected_total",
		Help: "Scrapes answered 503 at once because --web.max-requests were being served already, by path.",
	}, []string{"path"})
	// The gauges let an alert catch a reload that failed silently, the
	// usual way a typo goes unnoticed until the next restart.
	s.reloadOK = f.NewGauge(prometheus.GaugeOpts{
		Name: "dyvms_exporter_config_last_reload_successful",
		Help: "Whether the last configuration reload succeeded (1) or failed and the previous configuration is still in force (0).",
	})
	s.reloadTime = f.NewGauge(prometheus.GaugeOpts{
		Name: "dyvms_exporter_config_last_reload_success_timestamp_seconds",
		Help: "Time of the last successful configuration reload, in seconds since the Unix epoch.",
	})
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the configuration file; on any error, reading it or
// building its client, the configuration in force stays, and the error
// says why.
func (s *Service) Reload() error {
	if err := s.load(); err != nil {
		level.Error(s.logger).Log("msg", "configuration reload failed; keeping the previous configuration", "err", err)
		return err
	}
	return nil
}

// load reads the configuration file and puts it in force with its client:
// the one moment a configuration changes. The reload gauges say success
// only once both are in force.
func (s *Service) load() error {
	cfg, err := config.Load(s.o.ConfigFile)
	if err == nil {
		err = s.apply(cfg)
	}
	if err != nil {
		s.reloadOK.Set(0)
		return err
	}
	s.reloadOK.Set(1)
	s.reloadTime.SetToCurrentTime()
	s.logLoaded(cfg)
	return nil
}

func (s *Service) logLoaded(c *config.Config) {
	creds := "vendor default credential chain"
	if c.Credentials != nil {
		creds = "access key " + c.Credentials.KeyName()
	}
	level.Info(s.logger).Log("msg", "configuration loaded", "file", s.o.ConfigFile, "endpoint", c.Endpoint,
		"tasks", len(c.Tasks), "credentials", creds)
	for _, w := range c.Warnings {
		level.Warn(s.logger).Log("msg", "configuration warning", "warning", w.Error())
	}
}

// apply puts cfg in force with its client: the client in force when cfg
// asks for the same one (sameAPISettings), a new one otherwise. If the new
// one cannot be built, nothing changes.
func (s *Service) apply(cfg *config.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	api := s.api
	if api == nil || !sameAPISettings(cfg, s.cfg) {
		// A new client and pacer; otherwise they stay: their in-flight
		// coalescing groups, min_interval cache and rate limiter are
		// still right, and a reload that only edits the task list must
		// not cost a fresh API call per task (nor let an HA pair's second
		// scrape miss the first's answer).
		var err error
		if api, err = s.build(cfg); err != nil {
			return fmt.Errorf("building the API client for %s: %w", s.o.ConfigFile, err)
		}
	}
	old := s.api
	s.cfg, s.api = cfg, api
	s.disc.Update(api, cfg.Discovery)
	s.calls.Update(api, cfg.CallRecords, cfg.Location)
	if old != nil && old != api {
		// Scrapes that took the old one finish with it; its connections
		// are closed as they fall idle instead of lingering 90 s each.
		old.Retire()
	}
	return nil
}

// sameAPISettings tells whether a and b ask for the same API client and
// pacer, that is, whether they differ at most in what a scrape reads
// (tasks, discovery entries) and how many tasks it reads at once. Every
// other field, including any added later, counts: comparing the rest whole
// errs towards rebuilding.
func sameAPISettings(a, b *config.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(apiSettings(a), apiSettings(b))
}

func apiSettings(c *config.Config) config.Config {
	k := *c
	k.Tasks, k.Discovery = nil, nil
	k.API.Concurrency = 0
	// Location is derived from Timezone, which stays in the comparison; two
	// loads of one zone need not share a pointer.
	k.Location = nil
	return k
}

// inForce returns the API client and the configuration it was built from,
// as one consistent pair.
func (s *Service) inForce() (*pacer.Pacer, *config.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.api, s.cfg
}

// Config returns the configuration in force. The value is shared: do not
// modify it.
func (s *Service) Config() *config.Config {
	_, cfg := s.inForce()
	return cfg
}

// Scrape is the collector.Source of the /metrics handler: the configured
// tasks and the discovered ones.
func (s *Service) Scrape() collector.Scrape {
	api, cfg := s.inForce()
	return collector.Scrape{API: api, Tasks: s.tasks(cfg), Concurrency: cfg.API.Concurrency, Metrics: selection(cfg.Metrics)}
}

// OnError is the collector's ErrorReporter: see errorLog.
func (s *Service) OnError(t task.Task, err error) { s.errLog.report(t, err) }

// OnSuccess tells the error log a task is healthy again.
func (s *Service) OnSuccess(t task.Task) { s.errLog.recovered(t) }

// OnUnreadable logs an answer's unreadable fields once per task and field.
func (s *Service) OnUnreadable(t task.Task, f []apiclient.UnreadableField) {
	s.unreadable.Report(t, f)
}
