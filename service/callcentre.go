package service

import (
	"context"

	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/queues"
)

// RunQueues refreshes the queue lists of the configuration's enterprises
// entries in the background until ctx ends; main runs it next to
// RunDiscovery. Reloads reach it by themselves.
func (s *Service) RunQueues(ctx context.Context) { s.queues.Run(ctx) }

// RefreshQueues lists every entry's queues now: for tests.
func (s *Service) RefreshQueues(ctx context.Context) { s.queues.Refresh(ctx) }

// onlineAgentEnterprises are the enterprises read with CloudListOnlineAgent
// on every scrape of /metrics.
func onlineAgentEnterprises(cfg *config.Config) []int64 {
	var ids []int64
	for _, e := range cfg.Enterprises {
		if e.OnlineAgents {
			ids = append(ids, e.EnterpriseID)
		}
	}
	return ids
}

func queueEntries(cfg *config.Config) []queues.Entry {
	var out []queues.Entry
	for _, e := range cfg.Enterprises {
		if e.Queues != nil {
			out = append(out, queues.Entry{EnterpriseID: e.EnterpriseID, RefreshInterval: e.Queues.RefreshInterval})
		}
	}
	return out
}
