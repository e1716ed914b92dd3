package collector

import (
	"context"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// The enterprise view (issue 20): every online agent of a call centre by
// state, from one CloudListOnlineAgent call per enterprise and scrape. It
// is live state, so it is read on the scrape like the tasks and, like
// them, a failure shows as scrape_success 0 with no stale or zero states.

// OnlineAgentsAPI is the call the enterprise view needs; the service's
// router sends it through the owning account's pacer.
type OnlineAgentsAPI interface {
	CloudListOnlineAgent(ctx context.Context, enterpriseID int64) (*apiclient.OnlineAgents, error)
}

// EnterpriseAgentStates are the values of dyvms_enterprise_agents' state
// label, every one written on each successful read (0 when no agent is in
// it). "unknown" is ours: a code the vendor adds later stays counted.
var EnterpriseAgentStates = []string{"idle", "paused", "wrap-up", "calling", "ringing", "talking", "invalid", "unknown"}

const (
	entIdle = iota
	entPaused
	entWrapup
	entCalling
	entRinging
	entTalking
	entInvalid
	entUnknown
)

// stateByText is the vendor's combined State, the fallback when the codes
// are missing or say nothing definite.
var stateByText = map[apiclient.Text]int{"空闲": entIdle, "置忙": entPaused, "整理": entWrapup,
	"呼叫中": entCalling, "响铃": entRinging, "通话": entTalking, "失效": entInvalid}

// EnterpriseAgentState derives an agent's state: the device first (a call
// in progress is what the agent is doing, whatever his login state), then
// the login state for an idle device, then the vendor's State text. A
// locked device (1) or an offline login (0) in a list of online agents is
// not definite by itself and goes to the State text too.
func EnterpriseAgentState(a *apiclient.OnlineAgent) string {
	return EnterpriseAgentStates[enterpriseAgentState(a)]
}

func enterpriseAgentState(a *apiclient.OnlineAgent) int {
	dev, login := a.DeviceStatus, a.LoginStatus
	if dev.Valid {
		switch dev.Value {
		case -1:
			return entInvalid
		case 2:
			return entCalling
		case 3:
			return entRinging
		case 4:
			return entTalking
		case 0:
			if login.Valid {
				switch login.Value {
				case 1:
					return entIdle
				case 2:
					return entPaused
				case 3:
					return entWrapup
				}
			}
		}
	}
	if s, ok := stateByText[a.State]; ok {
		return s
	}
	return entUnknown
}

var (
	enterpriseAgentsDesc = prometheus.NewDesc(Namespace+"_enterprise_agents",
		"Online agents of the enterprise (call centre) by state, from CloudListOnlineAgent: a state set, every state present, 0 when no agent is in it.",
		[]string{"enterprise_id", "state"}, nil)
	enterpriseSuccessDesc = prometheus.NewDesc(Namespace+"_enterprise_agents_scrape_success",
		"1 if the enterprise's online agents were read in this scrape, 0 if not (then dyvms_enterprise_agents is absent for it).",
		[]string{"enterprise_id"}, nil)
)

// EnterpriseAgentFamilies are the families the enterprise view writes.
func EnterpriseAgentFamilies() []string {
	return []string{Namespace + "_enterprise_agents", Namespace + "_enterprise_agents_scrape_success"}
}

// enterpriseAgents reads the enterprises of one scrape.
type enterpriseAgents struct {
	ctx    context.Context
	api    OnlineAgentsAPI
	ids    []int64
	logger log.Logger
}

func (e *enterpriseAgents) Describe(ch chan<- *prometheus.Desc) {
	ch <- enterpriseAgentsDesc
	ch <- enterpriseSuccessDesc
}

// Collect reads every enterprise at once (they are few, and each is one
// request through its account's pacer).
func (e *enterpriseAgents) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, id := range e.ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ent := strconv.FormatInt(id, 10)
			counts, err := e.read(id)
			if err != nil {
				level.Warn(e.logger).Log("msg", "reading the online agents failed", "enterprise_id", ent, "err", err)
				ch <- prometheus.MustNewConstMetric(enterpriseSuccessDesc, prometheus.GaugeValue, 0, ent)
				return
			}
			ch <- prometheus.MustNewConstMetric(enterpriseSuccessDesc, prometheus.GaugeValue, 1, ent)
			for i, n := range counts {
				ch <- prometheus.MustNewConstMetric(enterpriseAgentsDesc, prometheus.GaugeValue, float64(n), ent, EnterpriseAgentStates[i])
			}
		}()
	}
	wg.Wait()
}

type panicError struct{ v any }

func (p panicError) Error() string {
	return "panic while reading the online agents (a bug; logged with its stack)"
}

func (e *enterpriseAgents) read(id int64) (counts [entUnknown + 1]int, err error) {
	defer func() {
		if r := recover(); r != nil {
			level.Error(e.logger).Log("msg", "panic reading the online agents", "enterprise_id", id, "panic", r, "stack", string(debug.Stack()))
			err = panicError{r}
		}
	}()
	got, err := e.api.CloudListOnlineAgent(e.ctx, id)
	if err != nil {
		return counts, err
	}
	for i := range got.AgentStatuses {
		counts[enterpriseAgentState(&got.AgentStatuses[i])]++
	}
	return counts, nil
}

// gatherEnterpriseAgents reads the enterprises' online agents for one
// scrape and returns their families (nil when there are none to read).
func gatherEnterpriseAgents(ctx context.Context, api OnlineAgentsAPI, ids []int64, logger log.Logger) []*dto.MetricFamily {
	if len(ids) == 0 || api == nil {
		return nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&enterpriseAgents{ctx: ctx, api: api, ids: ids, logger: logger})
	mfs, err := reg.Gather()
	if err != nil {
		level.Error(logger).Log("msg", "error gathering the enterprise agents", "err", err)
	}
	return mfs
}
