package service

import (
	"context"
	"slices"

	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// RunDiscovery lists the tasks of the configuration's discovery entries in
// the background, each on its refresh interval, until ctx ends. main runs
// it in its own goroutine next to RunReloads; without it discovered tasks
// never appear (static tasks are unaffected). Reloads reach it by
// themselves: every new configuration updates the entries it lists.
func (s *Service) RunDiscovery(ctx context.Context) { s.disc.Run(ctx) }

// RefreshDiscovery lists every discovery entry now and returns when done:
// for tests, which must not wait for intervals of minutes.
func (s *Service) RefreshDiscovery(ctx context.Context) error { return s.disc.Refresh(ctx) }

// tasks is what a scrape of cfg reads: its static tasks, then the
// discovered ones that are not static too, so that a task reached both ways
// is read once.
func (s *Service) tasks(cfg *config.Config) []task.Task {
	out := make([]task.Task, 0, len(cfg.Tasks))
	seen := make(map[task.Task]bool, len(cfg.Tasks))
	for _, t := range cfg.Tasks {
		k := task.Task{EnterpriseID: t.EnterpriseID, TaskID: t.TaskID}
		seen[k] = true
		out = append(out, k)
	}
	for _, k := range s.disc.Tasks() {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// enterpriseAllowed tells whether cfg names enterprise id, as a static
// task's enterprise or as a discovery entry. It is /probe's trust boundary:
// the exporter's credentials may read any enterprise the RAM policy
// allows, and the configuration, not the caller, decides which of them
// this exporter serves.
func enterpriseAllowed(cfg *config.Config, id int64) bool {
	return slices.ContainsFunc(cfg.Tasks, func(t config.Task) bool { return t.EnterpriseID == id }) ||
		slices.ContainsFunc(cfg.Discovery, func(d config.Discovery) bool { return d.EnterpriseID == id })
}

// known tells whether t is a static or a discovered task of cfg.
func (s *Service) known(cfg *config.Config, t task.Task) bool {
	return slices.Contains(cfg.Tasks, config.Task{EnterpriseID: t.EnterpriseID, TaskID: t.TaskID}) || s.disc.Has(t)
}
