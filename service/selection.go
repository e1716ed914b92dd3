package service

import (
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
)

// selection is the metrics: section as the collector takes it.
func selection(m config.Metrics) collector.Selection {
	s := collector.Selection{NoAgents: !m.Agents, Exclude: m.Exclude}
	if m.AgentStatus == config.AgentStatusCurrent {
		s.AgentStatus = collector.AgentStatusCurrent
	}
	return s
}
