// Package service holds what the exporter runs on between start and stop:
// the configuration in force, the API client built from it, and the HTTP
// handlers that read both. main.go only wires flags, logger and these.
package service

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
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
	errLog     *errorLog
	unreadable *collector.UnreadableLog
	disc       *discovery.Manager
	calls      *callrecords.Manager
	limiters   *pacer.Limiters // per credential, for the life of the Service

	mu          sync.Mutex
	built       *config.Config // the config api was built from
	api         *router
	accounts    map[string]*account        // by name, the default account included
	acctMetrics map[string]*accountMetrics // by name, for the accounts configured
}

// New loads the configuration file once; an error here is fatal for the
// caller, unlike a failed reload later.
func New(o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	s := &Service{
		o:        o,
		logger:   o.Logger,
		safe:     config.NewSafeConfig(o.Registerer),
		disc:     discovery.New(discovery.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "discovery")}),
		limiters: pacer.NewLimiters(),
		// One set of dyvms_api_* metrics per account, labelled with it.
		acctMetrics: map[string]*accountMetrics{},
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(newEnterpriseInfo(s.Config))
	}
	s.errLog = newErrorLog(o.Logger, func(t task.Task) bool {
		c := s.Config()
		return c != nil && c.Credentials == nil && c.AccountOf(t.EnterpriseID) == config.DefaultAccountName
	})
	s.unreadable = collector.NewUnreadableLog(o.Logger, 0)
	s.calls = callrecords.New(callrecords.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "callrecords"), Tasks: s.knownTasks, Account: s.accountOf})
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
		"tasks", len(c.Tasks), "credentials", creds, "accounts", len(c.Accounts))
	for _, a := range c.Accounts {
		level.Info(s.logger).Log("msg", "account configured", "account", a.Name, "enterprises", len(a.Enterprises), "endpoint", a.Endpoint, "credentials", accountIdentity(a.Credentials))
	}
	for _, w := range c.Warnings {
		level.Warn(s.logger).Log("msg", "configuration warning", "warning", w.Error())
	}
}

// current returns the API client for the configuration in force, building
// what the configuration changed: each account's client is kept while its
// settings stay the same (accounts.go), so a reload that edits one account
// or only the task list keeps every other account's in-flight coalescing
// groups, min_interval cache and rate limiter, and costs no fresh API call
// per task (nor lets an HA pair's second scrape miss the first's answer).
// If the new configuration cannot be built, the previous clients stay in
// use with their own configuration.
func (s *Service) current() (collector.MonitorAPI, error) {
	cfg := s.safe.Get()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cfg == s.built && s.api != nil {
		return s.api, nil
	}
	accts, err := s.buildAccounts(cfg, s.accounts)
	if err != nil {
		s.dropMetrics(s.accounts) // those of an account that failed to build
		return s.apiOrNil(), fmt.Errorf("building the API client for %s: %w", s.o.ConfigFile, err)
	}
	r := newRouter(cfg, accts)
	s.built, s.api, s.accounts = cfg, r, accts
	s.dropMetrics(accts)
	s.disc.Update(r, cfg.Discovery)
	s.calls.Update(r, cfg.CallRecords)
	return r, nil
}

// apiOrNil keeps a nil *router from becoming a non-nil interface.
func (s *Service) apiOrNil() collector.MonitorAPI {
	if s.api == nil {
		return nil
	}
	return s.api
}

// inForce returns the API client and the configuration it was built from,
// as one consistent pair.
func (s *Service) inForce() (*router, *config.Config) {
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
	return collector.Scrape{API: api, Tasks: s.tasks(cfg), Concurrency: cfg.API.Concurrency, Lanes: api.lanes(), Metrics: selection(cfg.Metrics)}
}

// OnError is the collector's ErrorReporter: see errorLog.
func (s *Service) OnError(t task.Task, err error) { s.errLog.report(t, err) }

// OnSuccess tells the error log a task is healthy again.
func (s *Service) OnSuccess(t task.Task) { s.errLog.recovered(t) }

// OnUnreadable logs an answer's unreadable fields once per task and field.
func (s *Service) OnUnreadable(t task.Task, f []apiclient.UnreadableField) {
	s.unreadable.Report(t, f)
}
