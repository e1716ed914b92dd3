// Package discovery finds an enterprise's tasks with CloudQueryTask so that
// nobody has to copy task ids into the configuration.
//
// Listing runs in the background, each configuration entry on its own
// refresh interval, and never on a scrape: tasks are created by people, so a
// list a few minutes old is good enough, while listing on every scrape would
// multiply the calls spent on a quota the whole Alibaba Cloud account
// shares. A failed listing keeps the last good list, because a task that
// vanishes from the scrape looks like a task that stopped, and the API being
// down already shows in every task's dyvms_task_scrape_success.
package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/internal/schedule"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// TaskLister is the one call discovery makes. *apiclient.Client satisfies
// it, and so must whatever the service puts in front of it (a pacer
// sharing the account's rate limit), so that listing and scraping draw
// from the same budget; tests pass a fake.
type TaskLister interface {
	CloudQueryTask(ctx context.Context, q apiclient.TaskQuery) ([]apiclient.TaskSummary, error)
}

const (
	// RetryAfterFailure bounds the wait after a failed listing: a long
	// refresh interval should not leave a freshly started exporter without
	// its tasks for that long because of one timeout. It equals the
	// shortest refresh interval the configuration accepts, which is the
	// listing rate already judged acceptable for the quota.
	RetryAfterFailure = config.MinRefreshInterval
	// MaxRefreshTime bounds one listing (every type and status of an
	// entry), so that a hung connection cannot stall the other entries,
	// which are refreshed one after another.
	MaxRefreshTime = time.Minute
)

// Options are the Manager's dependencies; the zero value is usable.
type Options struct {
	// Registerer receives the dyvms_discovery_* metrics; nil: not registered.
	Registerer prometheus.Registerer
	Logger     log.Logger // nil discards
	// Now is the clock for schedules and timestamps; nil is time.Now. The
	// background loop still waits with real timers: deterministic tests
	// call Refresh instead of waiting for it.
	Now func() time.Time
}

// Manager keeps the discovered task list of every configuration entry.
// Update tells it the entries (at start and on each reload), Run refreshes
// them in the background, Tasks reads the union. It is safe for concurrent
// use.
type Manager struct {
	logger log.Logger
	now    func() time.Time
	wake   chan struct{} // Update or a new entry: the Run loop re-plans

	mu      sync.Mutex
	lister  TaskLister
	entries map[int64]*entry

	tasks     *prometheus.GaugeVec
	lastOK    *prometheus.GaugeVec
	errs      *prometheus.CounterVec
	durations *prometheus.GaugeVec
}

// entry is one enterprise's discovery: its configuration and last good list.
type entry struct {
	cfg config.Discovery
	// gen changes when the filter (types, statuses) changes, so that a
	// listing started under the old filter cannot overwrite the new one's.
	gen    uint64
	tasks  []task.Task // last good list, sorted by task id
	listed bool        // tasks holds a listing (possibly empty)
	failed bool        // the last attempt failed
	last   time.Time   // start of the last attempt
	next   time.Time   // when the next attempt is due
}

// New returns a Manager with no entries.
func New(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := promauto.With(o.Registerer)
	ent := []string{"enterprise_id"}
	return &Manager{
		logger:  o.Logger,
		now:     o.Now,
		wake:    make(chan struct{}, 1),
		entries: map[int64]*entry{},
		tasks: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dyvms_discovery_tasks",
			Help: "Tasks found by the last successful CloudQueryTask listing of the enterprise (kept while later listings fail).",
		}, ent),
		lastOK: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dyvms_discovery_last_success_timestamp_seconds",
			Help: "Time of the last successful task listing of the enterprise, in seconds since the Unix epoch; 0 before the first.",
		}, ent),
		errs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "dyvms_discovery_errors_total",
			Help: "Task listings of the enterprise that failed; the previous list stays in use.",
		}, ent),
		durations: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dyvms_discovery_refresh_duration_seconds",
			Help: "Duration of the last task listing of the enterprise, successful or not, every page of every type and status.",
		}, ent),
	}
}

// Update makes entries the configuration in force and lister the client
// to list with. An entry whose enterprise is no longer configured is
// dropped with its tasks and metrics. A new entry, one whose types or
// statuses changed, and one whose last listing failed (the reload may have
// fixed the credentials) are listed at once by Run; an unchanged one keeps
// its list and its schedule. A changed entry keeps its old list until the
// new filter's first listing succeeds, so its tasks' series do not go
// missing in between.
func (m *Manager) Update(lister TaskLister, entries []config.Discovery) {
	now := m.now()
	m.mu.Lock()
	m.lister = lister
	keep := make(map[int64]bool, len(entries))
	for _, d := range entries {
		keep[d.EnterpriseID] = true
		e, ok := m.entries[d.EnterpriseID]
		if !ok {
			e = &entry{cfg: d, next: now}
			m.entries[d.EnterpriseID] = e
			m.initMetrics(d.EnterpriseID)
			continue
		}
		sameFilter := sameSet(e.cfg.Types, d.Types) && sameSet(e.cfg.Statuses, d.Statuses)
		e.cfg = d
		switch {
		case !sameFilter:
			e.gen++
			e.next = now
		case e.failed || !e.listed:
			e.next = now
		default:
			e.next = e.last.Add(d.RefreshInterval)
		}
	}
	for id := range m.entries {
		if !keep[id] {
			delete(m.entries, id)
			m.deleteMetrics(id)
		}
	}
	m.mu.Unlock()
	m.kick()
}

func (m *Manager) kick() {
	select {
	case m.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

func (m *Manager) initMetrics(id int64) {
	l := strconv.FormatInt(id, 10)
	// Created at 0 so that an alert on a failing first listing has a
	// series to fire on.
	m.tasks.WithLabelValues(l)
	m.lastOK.WithLabelValues(l)
	m.errs.WithLabelValues(l)
	m.durations.WithLabelValues(l)
}

func (m *Manager) deleteMetrics(id int64) {
	l := strconv.FormatInt(id, 10)
	m.tasks.DeleteLabelValues(l)
	m.lastOK.DeleteLabelValues(l)
	m.errs.DeleteLabelValues(l)
	m.durations.DeleteLabelValues(l)
}

// Tasks returns the union of every entry's last good list, sorted by
// enterprise and task id. The slice is the caller's.
func (m *Manager) Tasks() []task.Task {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []task.Task
	for _, e := range m.entries {
		out = append(out, e.tasks...)
	}
	sortTasks(out)
	return out
}

// Has tells whether t is in its enterprise's last good list.
func (m *Manager) Has(t task.Task) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[t.EnterpriseID]
	if !ok {
		return false
	}
	_, found := slices.BinarySearchFunc(e.tasks, t.TaskID, func(k task.Task, id int64) int { return cmp.Compare(k.TaskID, id) })
	return found
}

// Enterprises returns the enterprise ids of the entries in force, sorted.
func (m *Manager) Enterprises() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int64, 0, len(m.entries))
	for id := range m.entries {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Refresh lists every entry now, one after another, and returns when all
// are done; the error joins the failures. Tests use it instead of waiting
// for Run; it also resets each entry's schedule.
func (m *Manager) Refresh(ctx context.Context) error {
	var errs []error
	for _, id := range m.Enterprises() {
		if err := m.refresh(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run refreshes each entry when it is due until ctx ends. Entries are
// listed one after another rather than at once: the listings share the
// account's quota with the scrapes, and nothing is gained by bursting.
func (m *Manager) Run(ctx context.Context) {
	schedule.Run(ctx, m.wake, m.due, func(ctx context.Context, id int64) {
		_ = m.refresh(ctx, id) // logged and counted inside
	}, m.untilNext)
}

// due returns the entries whose next attempt is not in the future, oldest
// first.
func (m *Manager) due() []int64 {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return schedule.Due(now, m.entries, func(e *entry) time.Time { return e.next })
}

// untilNext is the time until the earliest next attempt; false when there
// are no entries.
func (m *Manager) untilNext() (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var first time.Time
	for _, e := range m.entries {
		if first.IsZero() || e.next.Before(first) {
			first = e.next
		}
	}
	if first.IsZero() {
		return 0, false
	}
	return first.Sub(m.now()), true
}

// refresh lists one entry and, if it is still configured with the same
// filter when the listing returns, records the result.
func (m *Manager) refresh(ctx context.Context, id int64) error {
	start := m.now()
	m.mu.Lock()
	e, ok := m.entries[id]
	if !ok {
		m.mu.Unlock()
		return nil
	}
	cfg, gen, lister := e.cfg, e.gen, m.lister
	e.last = start
	// Pushed back now so that Run does not pick the entry again while
	// the listing is running.
	e.next = start.Add(cfg.RefreshInterval)
	m.mu.Unlock()

	var (
		tasks []task.Task
		err   error
	)
	if lister == nil {
		err = errors.New("no API client to list tasks with")
	} else {
		lctx, cancel := context.WithTimeout(ctx, min(cfg.RefreshInterval, MaxRefreshTime))
		tasks, err = list(lctx, lister, cfg)
		cancel()
	}
	elapsed := m.now().Sub(start)

	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.entries[id]; !ok || cur != e || e.gen != gen {
		return nil // removed or changed meanwhile: the result answers an old question
	}
	label := strconv.FormatInt(id, 10)
	m.durations.WithLabelValues(label).Set(elapsed.Seconds())
	if err != nil {
		e.failed = true
		e.next = start.Add(min(cfg.RefreshInterval, RetryAfterFailure))
		m.errs.WithLabelValues(label).Inc()
		level.Warn(m.logger).Log("msg", "task discovery failed; keeping the previous list", "enterprise_id", id,
			"kept_tasks", len(e.tasks), "retry_in", e.next.Sub(start), "err", err)
		return fmt.Errorf("enterprise %d: %w", id, err)
	}
	if !e.listed || len(tasks) != len(e.tasks) || e.failed {
		level.Info(m.logger).Log("msg", "tasks discovered", "enterprise_id", id, "tasks", len(tasks), "previous", len(e.tasks))
	}
	e.tasks, e.listed, e.failed = tasks, true, false
	e.next = start.Add(e.cfg.RefreshInterval) // an Update meanwhile may have asked for "now"
	m.tasks.WithLabelValues(label).Set(float64(len(tasks)))
	m.lastOK.WithLabelValues(label).Set(float64(m.now().UnixNano()) / 1e9)
	return nil
}

// list runs one CloudQueryTask listing per type and status (the API takes
// one of each per call; no status means no filter) and merges them. Any
// failure fails the whole listing: a partial list would drop tasks.
//
// The API's filter is trusted; tasks are not re-filtered by the Status and
// Type fields of the answer, whose encoding the vendor does not promise to
// keep equal to the filter's.
func list(ctx context.Context, l TaskLister, d config.Discovery) ([]task.Task, error) {
	var statuses []*int64
	if len(d.Statuses) == 0 {
		statuses = []*int64{nil}
	}
	for _, s := range d.Statuses {
		v := int64(s)
		statuses = append(statuses, &v)
	}
	seen := map[int64]bool{}
	var out []task.Task
	for _, typ := range d.Types {
		for _, st := range statuses {
			got, err := l.CloudQueryTask(ctx, apiclient.TaskQuery{EnterpriseID: d.EnterpriseID, Type: int64(typ), Status: st})
			if err != nil {
				return nil, fmt.Errorf("type %d%s: %w", typ, describeStatus(st), err)
			}
			for _, t := range got {
				if !t.ID.Valid || t.ID.Value <= 0 || seen[t.ID.Value] {
					continue
				}
				seen[t.ID.Value] = true
				// The listing's own enterprise, not the answer's
				// EnterpriseId: the exporter asked about this one.
				out = append(out, task.Task{EnterpriseID: d.EnterpriseID, TaskID: t.ID.Value})
			}
		}
	}
	sortTasks(out)
	return out, nil
}

func describeStatus(s *int64) string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf(", status %d", *s)
}

func sortTasks(ts []task.Task) {
	slices.SortFunc(ts, func(a, b task.Task) int {
		return cmp.Or(cmp.Compare(a.EnterpriseID, b.EnterpriseID), cmp.Compare(a.TaskID, b.TaskID))
	})
}

// sameSet compares two small lists as sets: reordering types in the file
// is not a change worth a listing.
func sameSet(a, b []int) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
