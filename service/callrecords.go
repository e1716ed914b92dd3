package service

import (
	"context"
	"fmt"

	"github.com/dyvms-community/dyvms_exporter/callrecords"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
)

// RunCallRecords polls the call records of the configuration's
// call_records entries in the background, each on its interval, until ctx
// ends; main runs it next to RunDiscovery. Reloads reach it by themselves.
func (s *Service) RunCallRecords(ctx context.Context) { s.calls.Run(ctx) }

// PollCallRecords polls every entry now: for tests.
func (s *Service) PollCallRecords(ctx context.Context) error { return s.calls.Poll(ctx) }

// callRecordReader is the client as the poller needs it (the pacer, so
// that its pages share the scrapes' rate limit); see taskLister.
func callRecordReader(cfg *config.Config, api collector.MonitorAPI) (callrecords.Reader, error) {
	r, ok := api.(callrecords.Reader)
	if !ok && len(cfg.CallRecords) > 0 {
		return nil, fmt.Errorf("the API client (%T) cannot read call records; call_records entries cannot be served", api)
	}
	return r, nil
}

// knownTasks are an enterprise's tasks the exporter serves, static and
// discovered: the poller shows their call-outcome series at 0 before
// their first call.
func (s *Service) knownTasks(enterpriseID int64) []int64 {
	cfg := s.safe.Get()
	var out []int64
	for _, t := range s.tasks(cfg) {
		if t.EnterpriseID == enterpriseID {
			out = append(out, t.TaskID)
		}
	}
	return out
}
