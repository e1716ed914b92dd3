// Package queues keeps each enterprise's queue list (CloudListQueue) for
// the call-centre view: the queues' names and service-level thresholds,
// which the inbound metrics and the service-level rules join to.
//
// The list is configuration, changed by people and rarely, so it is
// refreshed in the background on each entry's refresh_interval and never
// on a scrape. A failed refresh keeps the last good list (a queue that
// vanished from dyvms_queue_info would break every service-level join) and
// is counted. Only what a queue is configured to be is exported: no
// operation gives a queue's live backlog, and none is made up here.
package queues

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/schedule"
)

// Lister is the one call the manager makes; the service's router sends it
// through the owning account's pacer.
type Lister interface {
	CloudListQueue(ctx context.Context, enterpriseID int64, pageSize int) (*apiclient.QueueList, error)
}

const (
	// MaxRefreshTime bounds one listing, so that a hung connection cannot
	// stall the other enterprises, refreshed one after another.
	MaxRefreshTime = time.Minute
	// RetryAfterFailure: a failed listing is tried again this soon rather
	// than after a whole refresh interval.
	RetryAfterFailure = time.Minute
)

// Entry is one enterprise's refresh setting.
type Entry struct {
	EnterpriseID    int64
	RefreshInterval time.Duration
}

// Options are the Manager's dependencies; the zero value is usable.
type Options struct {
	Registerer prometheus.Registerer // nil: not registered
	Logger     log.Logger            // nil discards
	Now        func() time.Time      // nil: time.Now
}

type queue struct {
	qno, name    string
	serviceLevel apiclient.Int64
}

type entry struct {
	interval time.Duration
	next     time.Time
	queues   []queue // the last good list; nil before the first
	listed   bool
}

// Manager keeps the queue lists. It is a prometheus.Collector of the
// queue families.
type Manager struct {
	logger log.Logger
	now    func() time.Time
	wake   chan struct{}

	mu      sync.Mutex
	lister  Lister
	entries map[int64]*entry

	errors *prometheus.CounterVec
	// noInfo, noLevel: the families Exclude left out.
	noInfo, noLevel bool
}

// The queue families metrics.exclude may name. dyvms_queue_list_errors_total
// is not among them: it is how a failing refresh shows.
const (
	infoFamily  = "dyvms_queue_info"
	levelFamily = "dyvms_queue_service_level_seconds"
)

// Families are the families of the queue lists that metrics.exclude may
// name.
func Families() []string { return []string{infoFamily, levelFamily} }

// Exclude leaves the named families (of Families; other names are
// ignored) out of every scrape from now on. The lists are still refreshed:
// the inbound poller creates the listed queues' series from them.
func (m *Manager) Exclude(names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.noInfo, m.noLevel = slices.Contains(names, infoFamily), slices.Contains(names, levelFamily)
}

var (
	infoDesc = prometheus.NewDesc(infoFamily,
		"A queue of the enterprise (CloudListQueue): its number and name; always 1.",
		[]string{"enterprise_id", "queue", "queue_name"}, nil)
	levelDesc = prometheus.NewDesc(levelFamily,
		"The queue's service-level threshold (CloudListQueue ServiceLevel): a call answered within it met the service level. Absent when the API gave none.",
		[]string{"enterprise_id", "queue"}, nil)
)

// New returns a Manager with no entries.
func New(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{
		logger:  o.Logger,
		now:     o.Now,
		wake:    make(chan struct{}, 1),
		entries: map[int64]*entry{},
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dyvms_queue_list_errors_total",
			Help: "Failed CloudListQueue listings (the previous queue list stays in use)."}, []string{"enterprise_id"}),
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(m)
	}
	return m
}

// Update sets the lister and the entries (at start and on each reload):
// an entry kept keeps its list, a removed one goes with its series, a new
// or changed one is due at once.
func (m *Manager) Update(l Lister, entries []Entry) {
	m.mu.Lock()
	m.lister = l
	keep := map[int64]*entry{}
	for _, e := range entries {
		old, ok := m.entries[e.EnterpriseID]
		if ok && old.interval == e.RefreshInterval {
			keep[e.EnterpriseID] = old
			continue
		}
		n := &entry{interval: e.RefreshInterval, next: m.now()}
		if ok {
			n.queues, n.listed = old.queues, old.listed
		}
		keep[e.EnterpriseID] = n
	}
	for id := range m.entries {
		if _, ok := keep[id]; !ok {
			m.errors.DeleteLabelValues(strconv.FormatInt(id, 10))
		}
	}
	m.entries = keep
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run refreshes the due entries one after another until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	schedule.Run(ctx, m.wake, m.due, func(ctx context.Context, id int64) { m.refresh(ctx, id) }, m.nextWait)
}

// Refresh lists every entry now: for tests.
func (m *Manager) Refresh(ctx context.Context) {
	m.mu.Lock()
	ids := make([]int64, 0, len(m.entries))
	for id := range m.entries {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	slices.Sort(ids)
	for _, id := range ids {
		m.refresh(ctx, id)
	}
}

func (m *Manager) due() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return schedule.Due(m.now(), m.entries, func(e *entry) time.Time { return e.next })
}

func (m *Manager) nextWait() (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var next time.Time
	for _, e := range m.entries {
		if next.IsZero() || e.next.Before(next) {
			next = e.next
		}
	}
	return next.Sub(m.now()), !next.IsZero()
}

func (m *Manager) refresh(ctx context.Context, id int64) {
	m.mu.Lock()
	l := m.lister
	e, ok := m.entries[id]
	m.mu.Unlock()
	if !ok || l == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, MaxRefreshTime)
	defer cancel()
	list, err := l.CloudListQueue(ctx, id, 0)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries[id] != e { // replaced by an update meanwhile
		return
	}
	if err != nil {
		m.errors.WithLabelValues(strconv.FormatInt(id, 10)).Inc()
		e.next = m.now().Add(min(RetryAfterFailure, e.interval))
		level.Warn(m.logger).Log("msg", "listing the queues failed; keeping the previous list", "enterprise_id", id, "err", err)
		return
	}
	qs := make([]queue, 0, len(list.Queues))
	for _, q := range list.Queues {
		qs = append(qs, queue{qno: string(q.Qno), name: string(q.Description), serviceLevel: q.ServiceLevel})
	}
	e.queues, e.listed = qs, true
	e.next = m.now().Add(e.interval)
	if list.Dropped > 0 || len(list.Unreadable) > 0 {
		level.Debug(m.logger).Log("msg", "queue rows left out or with unreadable values", "enterprise_id", id, "dropped", list.Dropped, "unreadable", len(list.Unreadable))
	}
}

// Describe implements prometheus.Collector.
func (m *Manager) Describe(ch chan<- *prometheus.Desc) {
	ch <- infoDesc
	ch <- levelDesc
	m.errors.Describe(ch)
}

// Collect writes the last good list of every entry, and the errors of
// every entry (0 before the first).
func (m *Manager) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, e := range m.entries {
		ent := strconv.FormatInt(id, 10)
		m.errors.WithLabelValues(ent)
		for _, q := range e.queues {
			if !m.noInfo {
				ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, ent, q.qno, q.name)
			}
			if q.serviceLevel.Valid && !m.noLevel {
				ch <- prometheus.MustNewConstMetric(levelDesc, prometheus.GaugeValue, float64(q.serviceLevel.Value), ent, q.qno)
			}
		}
	}
	m.errors.Collect(ch)
}

// Queues are the numbers of an enterprise's queues in the last good list
// (nil before the first): the inbound poller shows their series at 0
// before their first call and never refuses them.
func (m *Manager) Queues(enterpriseID int64) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[enterpriseID]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(e.queues))
	for _, q := range e.queues {
		out = append(out, q.qno)
	}
	return out
}
