// Package service holds what the exporter runs on between start and stop:
// the configuration in force and the API clients built from it (one owner:
// a reload replaces both together, or neither), the background loops fed
// from them (discovery, the call-record poller), and the HTTP handlers
// that read them (/metrics, /probe, /sd, reload, health). main.go only
// wires flags, logger and these.
package service

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/callrecords"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/discovery"
	"github.com/dyvms-community/dyvms_exporter/pacer"
	"github.com/dyvms-community/dyvms_exporter/queues"
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
	// Now is the clock of the background pollers' windows and schedules
	// (call records, inbound calls, queues); nil is time.Now. Tests on a
	// simulator's fake clock set it and call the Poll methods.
	Now func() time.Time
}

// Service is the running exporter.
type Service struct {
	o          Options
	logger     log.Logger
	reloadOK   prometheus.Gauge // the last reload's outcome
	reloadTime prometheus.Gauge // when the last successful one was
	// scrapesRejected counts the scrapes --web.max-requests turned away.
	scrapesRejected *prometheus.CounterVec
	errLog          *errorLog
	unreadable      *collector.UnreadableLog
	disc            *discovery.Manager
	calls           *callrecords.Manager
	inbound         *callrecords.Manager // inbound_calls of enterprises
	queues          *queues.Manager
	limiters        *pacer.Limiters // per credential, for the life of the Service

	// The configuration in force and the clients built from it: replaced
	// together by a reload only once all were made (apply), so that no
	// reader ever sees a configuration without its clients.
	mu    sync.Mutex
	built *config.Config // the configuration in force, api's
	// current is built, readable without mu: the pollers ask which
	// account owns an enterprise and which tasks are configured from
	// inside apply's Update calls, while apply holds mu.
	current     atomic.Pointer[config.Config]
	api         *router
	accounts    map[string]*account        // by name, the default account included
	acctMetrics map[string]*accountMetrics // by name, for the accounts configured
	// build makes an account's client (a seam: tests make it fail).
	build func(cfg *config.Config, name string, st accountSettings, creds apiclient.CredentialsProvider, key string) (*pacer.Pacer, error)
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
	s.calls = callrecords.New(callrecords.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "callrecords"), Tasks: s.knownTasks, Account: s.accountOf, Now: o.Now})
	s.queues = queues.New(queues.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "queues"), Now: o.Now})
	s.inbound = callrecords.NewInbound(callrecords.Options{Registerer: o.Registerer, Logger: log.With(o.Logger, "component", "inbound"), Queues: s.queues.Queues, Account: s.accountOf, Now: o.Now})
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
// building its clients, the configuration in force stays, and the error
// says why.
func (s *Service) Reload() error {
	if err := s.load(); err != nil {
		level.Error(s.logger).Log("msg", "configuration reload failed; keeping the previous configuration", "err", err)
		return err
	}
	return nil
}

// load reads the configuration file and puts it in force with its
// clients: the one moment the configuration changes. The reload gauges say
// success only once both are in force.
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
		"tasks", len(c.Tasks), "credentials", creds, "accounts", len(c.Accounts))
	for _, a := range c.Accounts {
		level.Info(s.logger).Log("msg", "account configured", "account", a.Name, "enterprises", len(a.Enterprises), "endpoint", a.Endpoint, "credentials", accountIdentity(a.Credentials))
	}
	for _, w := range c.Warnings {
		level.Warn(s.logger).Log("msg", "configuration warning", "warning", w.Error())
	}
}

// apply puts cfg in force with its clients, building what the
// configuration changed: each account's client is kept while its settings
// stay the same (accounts.go), so a reload that edits one account or only
// the task list keeps every other account's in-flight coalescing groups,
// min_interval cache and rate limiter, and costs no fresh API call per
// task (nor lets an HA pair's second scrape miss the first's answer). If
// the new configuration cannot be built, nothing changes. A client
// replaced is retired: scrapes that took it finish with it, and its
// connections are closed as they fall idle instead of lingering.
func (s *Service) apply(cfg *config.Config) error {
	// Held to the end: reloads (SIGHUP, /-/reload) may run at once, and
	// each must hand its managers its own configuration in the order the
	// configurations came into force. The managers call back into the
	// service (which account owns an enterprise, which tasks are
	// configured) through Config, which reads current, not under mu.
	s.mu.Lock()
	defer s.mu.Unlock()
	accts, err := s.buildAccounts(cfg, s.accounts)
	if err != nil {
		s.dropMetrics(s.accounts) // those of an account that failed to build
		return fmt.Errorf("building the API client for %s: %w", s.o.ConfigFile, err)
	}
	r := newRouter(cfg, accts)
	old := s.accounts
	s.built, s.api, s.accounts = cfg, r, accts
	s.current.Store(cfg)
	s.dropMetrics(accts)
	s.disc.Update(r, cfg.Discovery)
	s.calls.Update(r, cfg.CallRecords)
	s.queues.Update(r, queueEntries(cfg))
	s.inbound.UpdateInbound(r, inboundEntries(cfg))
	s.excludeElsewhere(cfg.Metrics)
	kept := map[*pacer.Pacer]bool{}
	for _, a := range accts {
		kept[a.api] = true
	}
	for _, a := range old {
		if !kept[a.api] {
			a.api.Retire()
		}
	}
	return nil
}

// inForce returns the API client and the configuration it was built from,
// as one consistent pair.
func (s *Service) inForce() (*router, *config.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.api, s.built
}

// Config returns the configuration in force. The value is shared: do not
// modify it.
func (s *Service) Config() *config.Config {
	return s.current.Load()
}

// Scrape is the collector.Source of the /metrics handler: the configured
// tasks and the discovered ones.
func (s *Service) Scrape() collector.Scrape {
	api, cfg := s.inForce()
	return collector.Scrape{API: api, Tasks: s.tasks(cfg), Concurrency: cfg.API.Concurrency, Lanes: api.lanes(), Metrics: selection(cfg.Metrics),
		Enterprises: onlineAgentEnterprises(cfg), Agents: api}
}

// OnError is the collector's ErrorReporter: see errorLog.
func (s *Service) OnError(t task.Task, err error) { s.errLog.report(t, err) }

// OnSuccess tells the error log a task is healthy again.
func (s *Service) OnSuccess(t task.Task) { s.errLog.recovered(t) }

// OnUnreadable logs an answer's unreadable fields once per task and field.
func (s *Service) OnUnreadable(t task.Task, f []apiclient.UnreadableField) {
	s.unreadable.Report(t, f)
}
