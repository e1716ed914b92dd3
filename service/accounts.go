package service

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/credentials"
	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// account is one Alibaba Cloud account's client: the settings it was built
// from, its credentials and the pacer (token bucket, adaptive rate,
// coalescing, min_interval cache) every call for its enterprises goes
// through. The quota is the account's, so is the pacer.
type account struct {
	name        string
	settings    accountSettings
	creds       apiclient.CredentialsProvider
	api         *pacer.Pacer
	concurrency int
}

// accountSettings is everything an account's client is built from. Two
// loads with equal settings share the client, so that a reload that edits
// one account leaves every other one its bucket, its cache and its calls
// in flight.
type accountSettings struct {
	Endpoint string
	Timezone string
	API      config.APIConfig // Concurrency zeroed: a scrape's fan-out, not the client's
	Keys     *config.Credentials
	Role     *config.AccountCredentials // role fields only
	// Source is the default account's credentials, which assume a role
	// given without keys: changing them changes this account's identity.
	Source *config.Credentials
}

func defaultSettings(cfg *config.Config) accountSettings {
	api := cfg.API
	api.Concurrency = 0
	return accountSettings{Endpoint: cfg.Endpoint, Timezone: cfg.Timezone, API: api, Keys: cfg.Credentials}
}

func accountSettingsOf(cfg *config.Config, a *config.Account) accountSettings {
	api := *a.API
	api.Concurrency = 0
	st := accountSettings{Endpoint: a.Endpoint, Timezone: cfg.Timezone, API: api}
	cr := a.Credentials
	if cr.HasKeys() {
		k := cr.Credentials
		st.Keys = &k
	}
	if cr.RoleARN != "" {
		role := *cr
		role.Credentials = config.Credentials{}
		st.Role = &role
		if !cr.HasKeys() {
			st.Source = cfg.Credentials
		}
	}
	return st
}

func (a accountSettings) equal(b accountSettings) bool { return reflect.DeepEqual(a, b) }

// buildAccounts returns the accounts cfg asks for, reusing from prev every
// one whose settings did not change. Nothing of prev is modified.
func (s *Service) buildAccounts(cfg *config.Config, prev map[string]*account) (map[string]*account, error) {
	out := make(map[string]*account, 1+len(cfg.Accounts))
	def, err := s.account(cfg, config.DefaultAccountName, defaultSettings(cfg), cfg.API.Concurrency, prev, nil)
	if err != nil {
		return nil, err
	}
	out[def.name] = def
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		acct, err := s.account(cfg, a.Name, accountSettingsOf(cfg, a), a.API.Concurrency, prev, def.creds)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", a.Name, err)
		}
		out[a.Name] = acct
	}
	return out, nil
}

// account reuses prev's account of that name when its settings are the
// same, or builds it.
func (s *Service) account(cfg *config.Config, name string, st accountSettings, concurrency int, prev map[string]*account, defaultCreds apiclient.CredentialsProvider) (*account, error) {
	if p, ok := prev[name]; ok && p.settings.equal(st) {
		if p.concurrency == concurrency {
			return p, nil
		}
		c := *p
		c.concurrency = concurrency
		return &c, nil
	}
	creds, err := s.accountCredentials(name, st, defaultCreds)
	if err != nil {
		return nil, err
	}
	key := pacer.DefaultChainKey
	switch {
	case name != config.DefaultAccountName:
		// One bucket per account: the quota is the account's, whichever
		// key or role reads it.
		key = "account " + name
	case st.Keys != nil:
		key = st.Keys.KeyName()
	}
	api, err := s.build(cfg, name, st, creds, key)
	if err != nil {
		return nil, err
	}
	return &account{name: name, settings: st, creds: creds, api: api, concurrency: concurrency}, nil
}

// accountCredentials is the provider of an account's identity: its keys,
// or its role assumed with its keys or else with the default account's
// identity.
func (s *Service) accountCredentials(name string, st accountSettings, defaultCreds apiclient.CredentialsProvider) (apiclient.CredentialsProvider, error) {
	var keys apiclient.CredentialsProvider
	if st.Keys != nil || st.Role == nil {
		var err error
		keys, err = credentials.FromConfig(st.Keys)
		if err != nil {
			return nil, err
		}
	}
	if st.Role == nil {
		return keys, nil
	}
	if keys == nil {
		keys = defaultCreds
	}
	r := st.Role
	logger := s.logger
	return credentials.NewRole(credentials.RoleConfig{
		Account: name, RoleARN: r.RoleARN, ExternalID: r.ExternalID, RoleSessionName: r.RoleSessionName,
		STSEndpoint: r.STSEndpoint, Region: r.Region, Source: keys,
		OnRenewalFailure: func(err error) {
			level.Warn(logger).Log("msg", "renewing the role's temporary credentials failed; the current ones are still valid and in use", "account", name, "role_arn", r.RoleARN, "code", apiclient.ErrorCode(err), "err", err)
		},
	})
}

// accountIdentity says how an account is read, for the load log: its key
// (as KeyName names it) or its role, never a secret or the external id.
func accountIdentity(cr *config.AccountCredentials) string {
	switch {
	case cr.RoleARN != "" && cr.HasKeys():
		return "role " + cr.RoleARN + " assumed with access key " + cr.KeyName()
	case cr.RoleARN != "":
		return "role " + cr.RoleARN + " assumed with the default account's identity"
	}
	return "access key " + cr.KeyName()
}

// accountOf names the account an enterprise is read with, by the
// configuration in force.
func (s *Service) accountOf(ent int64) string {
	if c := s.Config(); c != nil {
		return c.AccountOf(ent)
	}
	return config.DefaultAccountName
}

// router sends every call for an enterprise to its owner's pacer, and
// only there: tasks, discovery, call records, /probe and /sd all read
// through it.
type router struct {
	owner    map[int64]string
	accounts map[string]*account
}

func newRouter(cfg *config.Config, accts map[string]*account) *router {
	return &router{owner: cfg.Owners(), accounts: accts}
}

// of is the account that owns ent.
func (r *router) of(ent int64) *account {
	if n, ok := r.owner[ent]; ok {
		return r.accounts[n]
	}
	return r.accounts[config.DefaultAccountName]
}

func (r *router) accountName(t collector.Task) string { return r.of(t.EnterpriseID).name }

// CloudMonitorTask implements collector.MonitorAPI.
func (r *router) CloudMonitorTask(ctx context.Context, ent, task int64) (*apiclient.CloudMonitorTaskResponse, error) {
	return r.of(ent).api.CloudMonitorTask(ctx, ent, task)
}

// CloudQueryTask implements discovery.TaskLister.
func (r *router) CloudQueryTask(ctx context.Context, q apiclient.TaskQuery) ([]apiclient.TaskSummary, error) {
	return r.of(q.EnterpriseID).api.CloudQueryTask(ctx, q)
}

// CloudQueryPredictiveCallCdrPage implements callrecords.Reader (which
// pages itself, so that it counts page by page and resumes a window).
func (r *router) CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	return r.of(q.EnterpriseID).api.CloudQueryPredictiveCallCdrPage(ctx, q)
}

// CloudListOnlineAgent implements collector.OnlineAgentsAPI through the
// owning account's pacer.
func (r *router) CloudListOnlineAgent(ctx context.Context, ent int64) (*apiclient.OnlineAgents, error) {
	return r.of(ent).api.CloudListOnlineAgent(ctx, ent)
}

// CloudListQueue implements queues.Lister.
func (r *router) CloudListQueue(ctx context.Context, ent int64, pageSize int) (*apiclient.QueueList, error) {
	return r.of(ent).api.CloudListQueue(ctx, ent, pageSize)
}

// CloudQueryIbCdrPage reads one page of inbound records (for the inbound
// poller, which is not written yet).
func (r *router) CloudQueryIbCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.InboundRecord, error) {
	return r.of(q.EnterpriseID).api.CloudQueryIbCdrPage(ctx, q)
}

// lanes give each account's tasks a scrape fan-out of its own
// concurrency, so that a throttled account never holds a worker another
// account's tasks wait for.
func (r *router) lanes() *collector.Lanes {
	if len(r.accounts) == 1 {
		return nil
	}
	c := make(map[string]int, len(r.accounts))
	for n, a := range r.accounts {
		c[n] = a.concurrency
	}
	return &collector.Lanes{Of: r.accountName, Concurrency: c}
}

// enterpriseInfo is dyvms_enterprise_info{enterprise_id, account}: the
// account of every enterprise the configuration in force names, to join
// the task series (which do not carry the account) to it. It reads the
// configuration at each scrape, so a removed account's series go with it.
type enterpriseInfo struct {
	desc *prometheus.Desc
	cfg  func() *config.Config
}

func newEnterpriseInfo(cfg func() *config.Config) *enterpriseInfo {
	return &enterpriseInfo{
		desc: prometheus.NewDesc("dyvms_enterprise_info",
			"The Alibaba Cloud account an enterprise is read with: the name of its accounts: entry, or default for the top-level credentials; always 1.",
			[]string{"enterprise_id", "account"}, nil),
		cfg: cfg,
	}
}

func (e *enterpriseInfo) Describe(ch chan<- *prometheus.Desc) { ch <- e.desc }

func (e *enterpriseInfo) Collect(ch chan<- prometheus.Metric) {
	cfg := e.cfg()
	if cfg == nil {
		return
	}
	owners := cfg.Owners()
	ents := map[int64]bool{}
	for _, t := range cfg.Tasks {
		ents[t.EnterpriseID] = true
	}
	for _, d := range cfg.Discovery {
		ents[d.EnterpriseID] = true
	}
	for _, c := range cfg.CallRecords {
		ents[c.EnterpriseID] = true
	}
	for _, e := range cfg.Enterprises {
		ents[e.EnterpriseID] = true
	}
	for ent := range owners {
		ents[ent] = true
	}
	ids := make([]int64, 0, len(ents))
	for ent := range ents {
		ids = append(ids, ent)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, ent := range ids {
		name, ok := owners[ent]
		if !ok {
			name = config.DefaultAccountName
		}
		ch <- prometheus.MustNewConstMetric(e.desc, prometheus.GaugeValue, 1, fmt.Sprint(ent), name)
	}
}
