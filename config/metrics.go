package config

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:generate go run ./internal/genfamilies families.go

// namespace is the prefix of every metric the exporter writes.
const namespace = "dyvms"

// family is one entry of the collector's catalogue of task and agent
// families (families.go, generated from it).
type family struct {
	name string
	// agent families have one series (or several) per agent row.
	agent bool
	// required families cannot be excluded: dyvms_task_scrape_success is
	// the only series of a task whose read failed.
	required bool
}

// The encodings metrics.agent_status accepts.
const (
	AgentStatusStateSet = "state_set"
	AgentStatusCurrent  = "current"
)

// Metrics is the metrics: section: what each task costs in Prometheus.
// Its names are the collector's family catalogue (families.go, generated
// from collector.Catalogue), validated here so that a typo is a load error with its line rather than
// a series that silently stays.
type Metrics struct {
	// AgentStatus is state_set (every state of every agent row, one of
	// them 1) or current (one series per agent row, its current state).
	AgentStatus string `yaml:"agent_status"`
	// Agents false drops every per-agent family (dyvms_agent_*).
	Agents bool `yaml:"agents"`
	// Exclude names task or agent families never built, rendered or sent.
	Exclude []string `yaml:"exclude,omitempty"`
}

// DefaultMetrics keeps the exposition exactly as it was before the section
// existed: every family, agent states as state sets.
var DefaultMetrics = Metrics{AgentStatus: AgentStatusStateSet, Agents: true}

// UnmarshalYAML: see Config.UnmarshalYAML.
func (m *Metrics) UnmarshalYAML(unmarshal func(any) error) error {
	*m = DefaultMetrics
	type plain Metrics
	return unmarshal((*plain)(m))
}

func (p *parser) validateMetrics(m *Metrics) {
	const path = "metrics"
	if p.isPoisoned(path) {
		return
	}
	switch m.AgentStatus {
	case AgentStatusStateSet, AgentStatusCurrent:
	default:
		if !p.isPoisoned(path + ".agent_status") {
			p.addAt(path+".agent_status", "must be %s or %s, got %q", AgentStatusStateSet, AgentStatusCurrent, m.AgentStatus)
		}
	}
	if p.isPoisoned(path + ".exclude") {
		return
	}
	catalogue := map[string]family{}
	var names []string
	for _, f := range families {
		catalogue[f.name] = f
		names = append(names, f.name)
	}
	first := map[string]int{}
	for i, item := range p.ix.items(path + ".exclude") {
		at := fmt.Sprintf("%s.exclude[%d]", path, i)
		if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
			p.addAt(at, "must be a family name such as dyvms_agent_info, got %s", describeTag(item.ShortTag()))
			continue
		}
		name := item.Value
		f, ok := catalogue[name]
		switch {
		case !ok:
			msg := fmt.Sprintf("unknown family %q", name)
			if c := closest(name, names); c != "" {
				msg += fmt.Sprintf("; did you mean %s?", c)
			}
			if strings.HasPrefix(name, namespace+"_api_") || strings.HasPrefix(name, namespace+"_discovery_") || strings.HasPrefix(name, namespace+"_exporter_") {
				msg += " (the exporter's own metrics cannot be excluded: they are not per task)"
			}
			p.addAt(at, "%s", msg)
			continue
		case f.required:
			p.addAt(at, "%s cannot be excluded: it is the only series of a task whose read failed", name)
			continue
		}
		if line, dup := first[name]; dup {
			p.addAt(at, "%s is listed twice, first at line %d", name, line)
			continue
		}
		first[name] = p.ix.line(at)
		if f.agent && !m.Agents {
			p.warnAt(at, "%s is an agent family: metrics.agents: false drops it already", name)
			continue
		}
		if users := shippedUsers[name]; len(users) > 0 {
			p.warnAt(at, "%s is excluded but used by %s: those will have no data", name, strings.Join(users, ", "))
		}
	}
	if !m.Agents {
		var used []string
		for _, f := range families {
			if f.agent {
				used = append(used, shippedUsers[f.name]...)
			}
		}
		if len(used) > 0 {
			p.warnAt(path+".agents", "per-agent series are off, so these will have no data: %s", strings.Join(dedupe(used), ", "))
		}
	}
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// closest is the name in names nearest to s by edit distance, if it is
// near enough to be a typo of it (at most a third of its length away); a
// name written without the dyvms_ prefix is compared with it too.
func closest(s string, names []string) string {
	best, bestD := "", len(s)/3+1
	for _, n := range names {
		d := editDistance(s, n)
		if !strings.HasPrefix(s, namespace+"_") {
			d = min(d, editDistance(namespace+"_"+s, n))
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// warnAt records a warning at the line of path: the file loads, and the
// warning is printed by --config.check and logged at every load.
func (p *parser) warnAt(path, format string, args ...any) {
	p.warns = append(p.warns, Problem{File: p.file, Line: p.ix.line(path), Field: displayPath(path), Msg: fmt.Sprintf(format, args...)})
}

// editDistance is Levenshtein's distance between a and b, in bytes (family
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
