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
	safe       *config.SafeConfig
	apiMetrics *apimetrics.Metrics
	errLog     *errorLog
	unreadable *collector.UnreadableLog
	disc       *discovery.Manager
	calls      *callrecords.Manager
	limiters   *pacer.Limiters // per credential, for the life of the Service

	mu    sync.Mutex
	built *config.Config // the config api was built from
	api   *pacer.Pacer
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
		safe:       config.NewSafeConfig(o.Registerer),
		apiMetrics: apimetrics.New(o.Registerer),
		disc:       discovery.New(discovery.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "discovery")}),
		limiters:   pacer.NewLimiters(),
	}
	s.errLog = newErrorLog(o.Logger, func() bool { c := s.Config(); return c != nil && c.Credentials == nil })
	s.unreadable = collector.NewUnreadableLog(o.Logger, 0)
	s.calls = callrecords.New(callrecords.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "callrecords"), Tasks: s.knownTasks})
	if err := s.safe.Reload(o.ConfigFile); err != nil {
		return nil, err
	}
	if _, err := s.current(); err != nil {
		return nil, err
	}
	s.logLoaded()
	return s, nil
}

// Reload re-reads the configuration file; on any error the configuration
// in force stays, and the error says why.
func (s *Service) Reload() error {
	if err := s.safe.Reload(s.o.ConfigFile); err != nil {
		level.Error(s.logger).Log("msg", "configuration reload failed; keeping the previous configuration", "err", err)
		return err
	}
	if _, err := s.current(); err != nil {
		level.Error(s.logger).Log("msg", "configuration reload failed; keeping the previous configuration", "err", err)
		return err
	}
	s.logLoaded()
	return nil
}

func (s *Service) logLoaded() {
	c := s.safe.Get()
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

// current returns the API client for the configuration in force, building
// it when the configuration changed. If the new one cannot be built, the
// previous client stays in use with its own configuration.
func (s *Service) current() (*pacer.Pacer, error) {
	cfg := s.safe.Get()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cfg == s.built && s.api != nil {
		return s.api, nil
	}
	if s.api != nil && sameAPISettings(cfg, s.built) {
		// The client and its pacer stay: their in-flight coalescing groups,
		// min_interval cache and rate limiter are still right, and a reload
		// that only edits the task list must not cost a fresh API call per
		// task (nor let an HA pair's second scrape miss the first's answer).
		s.built = cfg
		s.disc.Update(s.api, cfg.Discovery)
		return s.api, nil
	}
	api, err := s.build(cfg)
	if err != nil {
		return s.api, fmt.Errorf("building the API client for %s: %w", s.o.ConfigFile, err)
	}
	s.built, s.api = cfg, api
	s.disc.Update(api, cfg.Discovery)
	s.calls.Update(api, cfg.CallRecords, cfg.Location)
	return api, nil
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
	_, _ = s.current() // an error leaves the previous, working client
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.api, s.built
}

// Config returns the configuration in force.
func (s *Service) Config() *config.Config { return s.safe.Get() }

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
