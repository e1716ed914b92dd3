package config

import (
	"fmt"
	"time"
)

// Enterprise is a view of a whole call centre (issue 20): its online
// agents, its inbound calls and its queues, each part off unless given.
// The enterprise's account (accounts, or the default credentials) signs
// every call, through that account's pacer.
type Enterprise struct {
	EnterpriseID int64 `yaml:"enterprise_id"`
	// OnlineAgents reads CloudListOnlineAgent on every scrape of /metrics:
	// one request per scrape, whatever the number of agents.
	OnlineAgents bool `yaml:"online_agents,omitempty"`
	// InboundCalls polls CloudQueryIbCdr in the background like
	// call_records; nil: off. The key written with no value means the
	// defaults.
	InboundCalls *InboundCalls `yaml:"inbound_calls,omitempty"`
	// Queues refreshes CloudListQueue in the background; nil: off.
	Queues *Queues `yaml:"queues,omitempty"`
}

// InboundCalls is the inbound-record poller of one enterprise: the same
// settings, defaults and bounds as a call_records entry (see CallRecords).
type InboundCalls struct {
	Interval   time.Duration `yaml:"interval"`
	Lateness   time.Duration `yaml:"lateness"`
	Settle     time.Duration `yaml:"settle"`
	MaxTracked int           `yaml:"max_tracked"`
}

// DefaultInboundCalls are call_records' defaults, for the same reasons.
var DefaultInboundCalls = InboundCalls{Interval: DefaultCallRecords.Interval, Lateness: DefaultCallRecords.Lateness,
	Settle: DefaultCallRecords.Settle, MaxTracked: DefaultCallRecords.MaxTracked}

// UnmarshalYAML: see Config.UnmarshalYAML.
func (c *InboundCalls) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultInboundCalls
	type plain InboundCalls
	return unmarshal((*plain)(c))
}

// Queues is the background refresh of an enterprise's queue list.
type Queues struct {
	// RefreshInterval: queues are configuration, which changes by hand
	// and rarely; each refresh costs ceil(queues / 500) requests.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// DefaultQueues refreshes every 10 minutes: a renamed queue or a new
// service-level threshold shows within that, at 6 requests an hour.
var DefaultQueues = Queues{RefreshInterval: 10 * time.Minute}

const (
	// MinQueuesRefresh keeps the refresh from spending the quota on
	// answers that do not change.
	MinQueuesRefresh = time.Minute
	// MaxQueuesRefresh: a day-old queue list would keep a deleted queue's
	// threshold in the service-level rules for a day.
	MaxQueuesRefresh = 24 * time.Hour
)

// UnmarshalYAML: see Config.UnmarshalYAML.
func (q *Queues) UnmarshalYAML(unmarshal func(any) error) error {
	*q = DefaultQueues
	type plain Queues
	return unmarshal((*plain)(q))
}

// validateEnterprises checks each entry where it is written. A part whose
// key is written with no value (inbound_calls: or queues:) is on with its
// defaults: the key was given, and a null that turned it off would make
// the entry silently do less than it says.
func (p *parser) validateEnterprises(c *Config) {
	first := map[int64]int{}
	for i, item := range p.ix.items("enterprises") {
		path := fmt.Sprintf("enterprises[%d]", i)
		if p.isPoisoned(path) {
			continue
		}
		var e Enterprise
		_ = item.Decode(&e) // already reported by the strict decode
		p.onePerEnterprise(path, e.EnterpriseID, first, "an enterprises entry", "")
		given := func(key string) bool { return p.ix.node(path+"."+key) != nil }
		if e.InboundCalls == nil && given("inbound_calls") {
			d := DefaultInboundCalls
			e.InboundCalls = &d
		}
		if e.Queues == nil && given("queues") {
			d := DefaultQueues
			e.Queues = &d
		}
		if i < len(c.Enterprises) {
			c.Enterprises[i].InboundCalls, c.Enterprises[i].Queues = e.InboundCalls, e.Queues
		}
		if !e.OnlineAgents && e.InboundCalls == nil && e.Queues == nil && !given("online_agents") {
			p.addAt(path, "enables nothing: give online_agents: true, inbound_calls or queues")
		}
		if in := e.InboundCalls; in != nil {
			ip := path + ".inbound_calls"
			p.durationIn(ip+".interval", in.Interval, MinCallRecordsInterval, MaxCallRecordsInterval, "polling spends the account's quota")
			p.durationIn(ip+".lateness", in.Lateness, 0, MaxCallRecordsLateness, "every poll reads it again")
			p.durationIn(ip+".settle", in.Settle, time.Second, MaxCallRecordsSettle, "the counters lag the calls by it")
			if !p.isPoisoned(ip+".max_tracked") && (in.MaxTracked < 1000 || in.MaxTracked > MaxCallRecordsTracked) {
				p.addAt(ip+".max_tracked", "must be between 1000 and %d, got %d", MaxCallRecordsTracked, in.MaxTracked)
			}
		}
		if q := e.Queues; q != nil {
			p.durationIn(path+".queues.refresh_interval", q.RefreshInterval, MinQueuesRefresh, MaxQueuesRefresh, "queues are configuration that rarely changes")
		}
	}
}
