package service

import (
	"slices"

	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
)

// collectorFamilies are the names of metrics.exclude that the collector
// writes (tasks, agents, enterprises); the others are the queue lists' and
// the inbound calls', which apply hands to their managers.
var collectorFamilies = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range append(collector.Catalogue(), collector.EnterpriseCatalogue()...) {
		m[f.Name] = true
	}
	return m
}()

// selection is the metrics: section as the collector takes it.
func selection(m config.Metrics) collector.Selection {
	s := collector.Selection{NoAgents: !m.Agents, EnterpriseAgents: m.EnterpriseAgents}
	for _, name := range m.Exclude {
		if collectorFamilies[name] {
			s.Exclude = append(s.Exclude, name)
		}
	}
	if m.AgentStatus == config.AgentStatusCurrent {
		s.AgentStatus = collector.AgentStatusCurrent
	}
	return s
}

// excludeElsewhere gives the names of metrics.exclude that the collector
// does not write to the managers that do: each takes the names of its own
// families and ignores the rest. Called by apply, so a reload changes them
// from the next scrape on, as it does the collector's.
func (s *Service) excludeElsewhere(m config.Metrics) {
	var rest []string
	for _, name := range m.Exclude {
		if !collectorFamilies[name] {
			rest = append(rest, name)
		}
	}
	rest = slices.Clip(rest)
	s.queues.Exclude(rest)
	s.inbound.Exclude(rest)
}
