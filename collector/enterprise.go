package collector

import (
	"cmp"
	"context"
	"errors"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/labelvalue"
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
	st, _ := enterpriseAgentState(a)
	return EnterpriseAgentStates[st]
}

// Where an agent's state came from, which says which of the vendor's
// durations is the time in it.
const (
	fromText = iota
	fromDevice
	fromLogin
)

func enterpriseAgentState(a *apiclient.OnlineAgent) (state, from int) {
	dev, login := a.DeviceStatus, a.LoginStatus
	if dev.Valid {
		switch dev.Value {
		case -1:
			return entInvalid, fromDevice
		case 2:
			return entCalling, fromDevice
		case 3:
			return entRinging, fromDevice
		case 4:
			return entTalking, fromDevice
		case 0:
			if login.Valid {
				switch login.Value {
				case 1:
					return entIdle, fromLogin
				case 2:
					return entPaused, fromLogin
				case 3:
					return entWrapup, fromLogin
				}
			}
		}
	}
	if s, ok := stateByText[a.State]; ok {
		return s, fromText
	}
	return entUnknown, fromText
}

// stateDuration is the time the agent has been in the state derived from
// from: the device's duration for a device state, the login's for a login
// state. The State text carries no duration of its own, and a missing or
// negative one is no time at all.
func stateDuration(a *apiclient.OnlineAgent, from int) (float64, bool) {
	var d apiclient.Int64
	switch from {
	case fromDevice:
		d = a.DeviceStatusDuration
	case fromLogin:
		d = a.LoginStatusDuration
	default:
		return 0, false
	}
	return float64(d.Value), d.Valid && d.Value >= 0
}

// MaxEnterpriseAgentSeries bounds the agents of one enterprise that get
// per-agent series (metrics.enterprise_agents): 2,000 agents are 18,000
// series as state sets. Past it the agents with the lowest Cno keep theirs
// (the same agents from scrape to scrape while the others stay online) and
// the rest are counted in dyvms_enterprise_agents_without_series
// {reason="too_many"}; dyvms_enterprise_agents still counts every agent.
const MaxEnterpriseAgentSeries = 2000

// Reasons an online agent has no per-agent series, the values of
// dyvms_enterprise_agents_without_series' reason label.
var withoutSeriesReasons = []string{"no_cno", "bad_cno", "too_many"}

const (
	withoutNoCno = iota
	withoutBadCno
	withoutTooMany
)

var (
	enterpriseAgentsDesc = prometheus.NewDesc(Namespace+"_enterprise_agents",
		"Online agents of the enterprise (call centre) by state, from CloudListOnlineAgent: a state set, every state present, 0 when no agent is in it.",
		[]string{"enterprise_id", "state"}, nil)
	enterpriseSuccessDesc = prometheus.NewDesc(Namespace+"_enterprise_agents_scrape_success",
		"1 if the enterprise's online agents were read in this scrape, 0 if not (then dyvms_enterprise_agents is absent for it).",
		[]string{"enterprise_id"}, nil)
	// The per-agent families (metrics.enterprise_agents: true). The state
	// family has two descriptors, as dyvms_agent_status: the same name
	// and labels, a HELP that says what the value means in each encoding.
	enterpriseAgentStateDesc = prometheus.NewDesc(Namespace+"_enterprise_agent_state",
		"State of one online agent of the enterprise (CloudListOnlineAgent), a state set: every state of every agent, exactly one of them 1 (metrics.enterprise_agents: true).",
		[]string{"enterprise_id", "cno", "state"}, nil)
	enterpriseAgentCurrentDesc = prometheus.NewDesc(Namespace+"_enterprise_agent_state",
		"State of one online agent of the enterprise (CloudListOnlineAgent), one series per agent for its current state only, always 1 (metrics.enterprise_agents: true, metrics.agent_status: current). A state change ends one series and starts another.",
		[]string{"enterprise_id", "cno", "state"}, nil)
	enterpriseAgentDurationDesc = prometheus.NewDesc(Namespace+"_enterprise_agent_state_duration_seconds",
		"Time the online agent has been in its current state: DeviceStatusDuration when the state is the device's, LoginStatusDuration when it is the login's; absent when the state came from the State text or the duration is missing (metrics.enterprise_agents: true).",
		[]string{"enterprise_id", "cno"}, nil)
	enterpriseWithoutSeriesDesc = prometheus.NewDesc(Namespace+"_enterprise_agents_without_series",
		"Online agents of the enterprise counted in dyvms_enterprise_agents but given no per-agent series, by reason: no_cno (the row has none), bad_cno (not a short run of letters, digits, '.', '-', '_'), too_many (past the bound of "+strconv.Itoa(MaxEnterpriseAgentSeries)+" agents an enterprise). Written with metrics.enterprise_agents: true.",
		[]string{"enterprise_id", "reason"}, nil)
)

// Indexes of the enterprise families, in EnterpriseCatalogue's order.
const (
	entFamAgents = iota
	entFamSuccess
	entFamAgentState
	entFamDuration
	entFamWithout
	entFamCount
)

var enterpriseFamilyNames = [entFamCount]string{
	entFamAgents:     Namespace + "_enterprise_agents",
	entFamSuccess:    Namespace + "_enterprise_agents_scrape_success",
	entFamAgentState: Namespace + "_enterprise_agent_state",
	entFamDuration:   Namespace + "_enterprise_agent_state_duration_seconds",
	entFamWithout:    Namespace + "_enterprise_agents_without_series",
}

// EnterpriseAgentFamilies are the families the enterprise view writes.
func EnterpriseAgentFamilies() []string {
	return append([]string(nil), enterpriseFamilyNames[:]...)
}

// EnterpriseCatalogue lists the enterprise view's families as Catalogue
// lists the tasks': what metrics.exclude may name of them.
// dyvms_enterprise_agents_scrape_success is required: it is the only
// series of an enterprise whose read failed. None is an agent family in
// Catalogue's sense (metrics.agents does not drop them): the per-agent
// ones are off unless metrics.enterprise_agents is true.
func EnterpriseCatalogue() []FamilyInfo {
	out := make([]FamilyInfo, 0, entFamCount)
	for f, name := range enterpriseFamilyNames {
		out = append(out, FamilyInfo{Name: name, Required: f == entFamSuccess})
	}
	return out
}

var enterpriseFamilyByName = func() map[string]int {
	m := make(map[string]int, entFamCount)
	for f, name := range enterpriseFamilyNames {
		m[name] = f
	}
	return m
}()

// enterpriseSelection is what the enterprise view writes under a
// Selection.
type enterpriseSelection struct {
	skip     [entFamCount]bool
	perAgent bool // any per-agent family is written
	current  bool
}

func (s Selection) enterprise() enterpriseSelection {
	var e enterpriseSelection
	for _, name := range s.Exclude {
		if f, ok := enterpriseFamilyByName[name]; ok && f != entFamSuccess {
			e.skip[f] = true
		}
	}
	if !s.EnterpriseAgents {
		e.skip[entFamAgentState], e.skip[entFamDuration], e.skip[entFamWithout] = true, true, true
	}
	e.perAgent = !e.skip[entFamAgentState] || !e.skip[entFamDuration]
	e.current = s.AgentStatus == AgentStatusCurrent
	return e
}

// enterpriseAgents reads the enterprises of one scrape.
type enterpriseAgents struct {
	ctx    context.Context
	api    OnlineAgentsAPI
	ids    []int64
	sel    enterpriseSelection
	logger log.Logger
}

func (e *enterpriseAgents) Describe(ch chan<- *prometheus.Desc) {
	ch <- enterpriseAgentsDesc
	ch <- enterpriseSuccessDesc
	if e.sel.current {
		ch <- enterpriseAgentCurrentDesc
	} else {
		ch <- enterpriseAgentStateDesc
	}
	ch <- enterpriseAgentDurationDesc
	ch <- enterpriseWithoutSeriesDesc
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
			got, err := e.read(id)
			if err != nil {
				level.Warn(e.logger).Log("msg", "reading the online agents failed", "enterprise_id", ent, "err", err)
				ch <- prometheus.MustNewConstMetric(enterpriseSuccessDesc, prometheus.GaugeValue, 0, ent)
				return
			}
			ch <- prometheus.MustNewConstMetric(enterpriseSuccessDesc, prometheus.GaugeValue, 1, ent)
			e.write(ch, ent, got)
		}()
	}
	wg.Wait()
}

// write sends the series of one enterprise read.
func (e *enterpriseAgents) write(ch chan<- prometheus.Metric, ent string, got *apiclient.OnlineAgents) {
	rows := got.AgentStatuses
	var counts [entUnknown + 1]int
	for i := range rows {
		st, _ := enterpriseAgentState(&rows[i])
		counts[st]++
	}
	if !e.sel.skip[entFamAgents] {
		for i, n := range counts {
			ch <- prometheus.MustNewConstMetric(enterpriseAgentsDesc, prometheus.GaugeValue, float64(n), ent, EnterpriseAgentStates[i])
		}
	}
	if !e.sel.perAgent && e.sel.skip[entFamWithout] {
		return
	}
	var without [withoutTooMany + 1]int
	labelled := make([]*apiclient.OnlineAgent, 0, min(len(rows), MaxEnterpriseAgentSeries))
	for i := range rows {
		switch a := &rows[i]; {
		case a.Cno == "":
			without[withoutNoCno]++
		case !labelvalue.Identifier(string(a.Cno)):
			without[withoutBadCno]++
		default:
			labelled = append(labelled, a)
		}
	}
	if len(labelled) > MaxEnterpriseAgentSeries {
		// The lowest cnos keep their series: the same agents from one
		// scrape to the next, whatever order the vendor lists them in.
		slices.SortFunc(labelled, func(a, b *apiclient.OnlineAgent) int { return cmpCno(a.Cno, b.Cno) })
		without[withoutTooMany] = len(labelled) - MaxEnterpriseAgentSeries
		labelled = labelled[:MaxEnterpriseAgentSeries]
	}
	if !e.sel.skip[entFamWithout] {
		for i, n := range without {
			ch <- prometheus.MustNewConstMetric(enterpriseWithoutSeriesDesc, prometheus.GaugeValue, float64(n), ent, withoutSeriesReasons[i])
		}
	}
	for _, a := range labelled {
		cno := string(a.Cno)
		st, from := enterpriseAgentState(a)
		if !e.sel.skip[entFamAgentState] {
			if e.sel.current {
				ch <- prometheus.MustNewConstMetric(enterpriseAgentCurrentDesc, prometheus.GaugeValue, 1, ent, cno, EnterpriseAgentStates[st])
			} else {
				for k, name := range EnterpriseAgentStates {
					ch <- prometheus.MustNewConstMetric(enterpriseAgentStateDesc, prometheus.GaugeValue, boolFloat(k == st), ent, cno, name)
				}
			}
		}
		if !e.sel.skip[entFamDuration] {
			if d, ok := stateDuration(a, from); ok {
				ch <- prometheus.MustNewConstMetric(enterpriseAgentDurationDesc, prometheus.GaugeValue, d, ent, cno)
			}
		}
	}
}

// cmpCno orders agent numbers numerically when both are digits (so 999
// comes before 1000), else as text.
func cmpCno(a, b apiclient.Text) int {
	if isDigits(a) && isDigits(b) {
		ta, tb := strings.TrimLeft(string(a), "0"), strings.TrimLeft(string(b), "0")
		if c := cmp.Compare(len(ta), len(tb)); c != 0 {
			return c
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
	}
	return strings.Compare(string(a), string(b))
}

func isDigits(t apiclient.Text) bool {
	for _, r := range t {
		if r < '0' || r > '9' {
			return false
		}
	}
	return t != ""
}

type panicError struct{ v any }

func (p panicError) Error() string {
	return "panic while reading the online agents (a bug; logged with its stack)"
}

func (e *enterpriseAgents) read(id int64) (got *apiclient.OnlineAgents, err error) {
	defer func() {
		if r := recover(); r != nil {
			level.Error(e.logger).Log("msg", "panic reading the online agents", "enterprise_id", id, "panic", r, "stack", string(debug.Stack()))
			err = panicError{r}
		}
	}()
	got, err = e.api.CloudListOnlineAgent(e.ctx, id)
	if err == nil && got == nil {
		err = errors.New("CloudListOnlineAgent gave no answer and no error")
	}
	return got, err
}

// gatherEnterpriseAgents reads the enterprises' online agents for one
// scrape and returns their families (nil when there are none to read).
func gatherEnterpriseAgents(ctx context.Context, api OnlineAgentsAPI, ids []int64, sel Selection, logger log.Logger) []*dto.MetricFamily {
	if len(ids) == 0 || api == nil {
		return nil
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&enterpriseAgents{ctx: ctx, api: api, ids: ids, sel: sel.enterprise(), logger: logger})
	mfs, err := reg.Gather()
	if err != nil {
		level.Error(logger).Log("msg", "error gathering the enterprise agents", "err", err)
	}
	return mfs
}
