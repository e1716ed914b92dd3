package collector

import (
	"fmt"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// AgentStatusEncoding is how dyvms_agent_status says an agent row's state.
type AgentStatusEncoding uint8

const (
	// AgentStatusStateSet writes every state of every agent row, exactly
	// one of them 1: what Prometheus' state-set convention asks for, and
	// 7 series an agent row, 6 of them always 0.
	AgentStatusStateSet AgentStatusEncoding = iota
	// AgentStatusCurrent writes one series an agent row, for its current
	// state, always 1. A state change ends that series and starts another
	// (docs/series-budget.md).
	AgentStatusCurrent
)

// Selection is which task and agent series a scrape builds. Its zero value
// builds every family as the exporter always has, byte for byte.
type Selection struct {
	AgentStatus AgentStatusEncoding
	// NoAgents drops every per-agent family (dyvms_agent_*): a task then
	// costs its task-level series only.
	NoAgents bool
	// Exclude names families (as in Catalogue or EnterpriseCatalogue)
	// that are never built, rendered or sent. A name in neither is an
	// error of New's caller, reported by Check; the collector ignores it.
	Exclude []string
	// EnterpriseAgents writes the per-agent series of the enterprises'
	// online agents (dyvms_enterprise_agent_state and its duration, in
	// AgentStatus's encoding), bounded by MaxEnterpriseAgentSeries.
	EnterpriseAgents bool
}

// FamilyInfo is one entry of the catalogue of task and agent families.
type FamilyInfo struct {
	Name string
	// Agent families have one series (or several) per agent row.
	Agent bool
	// Required families cannot be excluded.
	Required bool
}

// Catalogue lists every task and agent family by name: what
// metrics.exclude may name. The exporter's process-wide metrics
// (dyvms_api_*, dyvms_discovery_*, dyvms_exporter_*) are not in it: they
// cost a few dozen series per exporter, not per task.
func Catalogue() []FamilyInfo {
	out := make([]FamilyInfo, 0, len(families))
	for _, f := range familyOrder {
		out = append(out, FamilyInfo{Name: families[f].name, Agent: isAgentKind(families[f].kind), Required: f == famScrapeSuccess})
	}
	return out
}

// Check tells whether every excluded name is in the catalogue and may be
// excluded; config validation reports the same with file and line.
func (s Selection) Check() error {
	for _, name := range s.Exclude {
		if f, ok := enterpriseFamilyByName[name]; ok {
			if f == entFamSuccess {
				return fmt.Errorf("%s cannot be excluded: it is how a failed enterprise read shows", name)
			}
			continue
		}
		f, ok := familyByName[name]
		switch {
		case !ok:
			return fmt.Errorf("%q is not a family this collector writes (Catalogue, EnterpriseCatalogue)", name)
		case f == famScrapeSuccess:
			return fmt.Errorf("%s cannot be excluded: it is how a failed task shows", name)
		}
	}
	if s.AgentStatus > AgentStatusCurrent {
		return fmt.Errorf("unknown agent status encoding %d", s.AgentStatus)
	}
	return nil
}

func isAgentKind(k labelKind) bool {
	return k == kindAgent || k == kindAgentInfo || k == kindAgentState
}

var familyByName = func() map[string]int {
	m := make(map[string]int, len(families))
	for i := range families {
		m[families[i].name] = i
	}
	return m
}()

// selection is a Selection compiled for the hot path: one lookup per
// sample instead of a name comparison.
type selection struct {
	skip    []bool // by family index
	agents  bool   // any agent family is built
	current bool   // AgentStatusCurrent
}

// everything is the default selection, shared by every scrape that uses it.
var everything = Selection{}.compile()

func (s Selection) compile() *selection {
	c := &selection{skip: make([]bool, len(families)), current: s.AgentStatus == AgentStatusCurrent}
	for _, name := range s.Exclude {
		if f, ok := familyByName[name]; ok && f != famScrapeSuccess {
			c.skip[f] = true
		}
	}
	for f := range families {
		if s.NoAgents && isAgentKind(families[f].kind) {
			c.skip[f] = true
		}
		if isAgentKind(families[f].kind) && !c.skip[f] {
			c.agents = true
		}
	}
	return c
}

// The agent_status family in the current-state encoding: the same name
// and labels, a HELP that says what the value means there.
var (
	currentStatusHelp = "Agent state in this task, one series per agent row for its current state only, always 1 (metrics.agent_status: current): idle, pause (busy/not ready), inuse (talking), calling (being rung), wrapup (after-call work), none (no state in this task), unknown (a value this exporter does not know). A state change ends one series and starts another."
	currentStatusDesc = prometheus.NewDesc(Namespace+"_agent_status", currentStatusHelp, kindLabels[kindAgentState], nil)
)

// help and desc of family f under this selection.
func (s *selection) help(f int) string {
	if f == famAgentStatus && s.current {
		return currentStatusHelp
	}
	return families[f].help
}

func (s *selection) desc(f int) *prometheus.Desc {
	if f == famAgentStatus && s.current {
		return currentStatusDesc
	}
	return families[f].desc
}

// FamilyNames is the catalogue's names, sorted.
func FamilyNames() []string {
	names := make([]string, 0, len(families))
	for i := range families {
		names = append(names, families[i].name)
	}
	sort.Strings(names)
	return names
}
