package service

import "context"

// RunCallRecords polls the call records of the configuration's
// call_records entries in the background, each on its interval, until ctx
// ends; main runs it next to RunDiscovery. Reloads reach it by themselves.
// The enterprises' inbound_calls entries are polled the same way, by the
// inbound poller.
func (s *Service) RunCallRecords(ctx context.Context) {
	go s.inbound.Run(ctx)
	s.calls.Run(ctx)
}

// PollCallRecords polls every entry now: for tests.
func (s *Service) PollCallRecords(ctx context.Context) error { return s.calls.Poll(ctx) }

// PollInboundCalls polls every inbound_calls entry now: for tests.
func (s *Service) PollInboundCalls(ctx context.Context) error { return s.inbound.Poll(ctx) }

// knownTasks are an enterprise's tasks the exporter serves, static and
// discovered: the poller shows their call-outcome series at 0 before
// their first call.
func (s *Service) knownTasks(enterpriseID int64) []int64 {
	cfg := s.Config()
	var out []int64
	for _, t := range s.tasks(cfg) {
		if t.EnterpriseID == enterpriseID {
			out = append(out, t.TaskID)
		}
	}
	return out
}
