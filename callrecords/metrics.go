package callrecords

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Buckets of the customer's wait for an agent: around the 2 s rule.
var waitBuckets = []float64{0.5, 1, 2, 3, 5, 10, 30, 60}

// Buckets of talk and call times: the same, then minutes, because a 90 s
// mean talk time would leave most calls in +Inf of the wait buckets.
var durationBuckets = []float64{0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300, 600, 1800}

// metrics are the Manager's families. It is one prometheus.Collector so
// that a scrape first creates the series the Manager knows (tasks, queues)
// at 0 (see Options.Tasks) and reads the watermarks under the Manager's
// lock. The health families are the same for every kind of record, under
// the kind's prefix; the counted series are the kind's (kind.go).
type metrics struct {
	mgr    *Manager
	series kind

	mu      sync.Mutex
	ensured map[[2]string]bool // (enterprise, series key) whose series exist

	// skip, by the kind's family names, is what Manager.Exclude left
	// out: still counted (a reload that brings a family back brings it
	// with its counts), never collected.
	skip atomic.Pointer[map[string]bool]

	read, pages, duplicates, late, evicted *prometheus.CounterVec
	clockSteps, retired                    *prometheus.CounterVec
	errors, invalid                        *prometheus.CounterVec

	lastOK, watermark, since, lag, tracked *prometheus.Desc
}

var taskLabels = []string{"enterprise_id", "task_id"}

func newMetrics(mgr *Manager, k kind) *metrics {
	ent := []string{"enterprise_id"}
	p := k.prefix()
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: p + name, Help: help}, labels)
	}
	m := &metrics{mgr: mgr, series: k, ensured: map[[2]string]bool{}}
	m.read = counter("read_total", "Call records read (duplicates included).", ent...)
	m.pages = counter("pages_total", "Pages of call records read ("+k.op()+" calls that answered).", ent...)
	m.duplicates = counter("duplicates_total", "Call records read again (the windows overlap by the lateness; the list can shift between pages) and not counted again.", ent...)
	m.late = counter("late_total", "Call records that showed up after an earlier poll had read their part of the window completely (counted, and counted here).", ent...)
	m.evicted = counter("forgotten_total", "Call ids forgotten before their time because max_tracked was reached; polls then no longer reach back past them.", ent...)
	m.clockSteps = counter("clock_steps_back_total", "Times the wall clock was found behind the watermark (stepped back, e.g. by NTP): the windows since are read again from as far back as de-duplication can tell.", ent...)
	name, help := k.retiredFamily()
	m.retired = counter(name, help, ent...)
	m.errors = counter("errors_total", "Polls of call records that failed, by the account the enterprise is read with (default: the top-level credentials) and error code.", "enterprise_id", "account", "code")
	m.invalid = counter("invalid_total", k.invalidHelp(), "enterprise_id", "reason")
	m.lastOK = prometheus.NewDesc(p+"last_success_timestamp_seconds", "Time of the last poll that read its window completely; 0 before the first.", []string{"enterprise_id"}, nil)
	m.watermark = prometheus.NewDesc(p+"watermark_timestamp_seconds", "Every call that ended at or before this time has been read (as the API had it then).", []string{"enterprise_id"}, nil)
	m.since = prometheus.NewDesc(p+"counting_since_timestamp_seconds", "The counters count the calls that ended at or after this time: the start less settle (raised when max_tracked was reached).", []string{"enterprise_id"}, nil)
	m.lag = prometheus.NewDesc(p+"lag_seconds", "Now minus the watermark: how far behind the calls the counters are; negative when the clock went back behind the watermark (until the next poll reads again).", []string{"enterprise_id"}, nil)
	m.tracked = prometheus.NewDesc(p+"tracked", "Call ids kept for de-duplication (at most max_tracked).", []string{"enterprise_id"}, nil)
	return m
}

// health are the poller's own counters, never excluded.
func (m *metrics) health() []*prometheus.CounterVec {
	return []*prometheus.CounterVec{m.read, m.pages, m.duplicates, m.late, m.evicted, m.clockSteps, m.retired, m.errors, m.invalid}
}

// vecs are every vector: the health counters and the kind's series.
func (m *metrics) vecs() []prometheus.Collector {
	var out []prometheus.Collector
	for _, c := range m.health() {
		out = append(out, c)
	}
	return append(out, m.series.collectors()...)
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.vecs() {
		c.Describe(ch)
	}
	for _, d := range []*prometheus.Desc{m.lastOK, m.watermark, m.since, m.lag, m.tracked} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	mgr := m.mgr
	mgr.mu.Lock()
	ids := make([]int64, 0, len(mgr.entries))
	for id := range mgr.entries {
		ids = append(ids, id)
	}
	mgr.mu.Unlock()
	// Outside the lock: known may take the configuration's and discovery's.
	known := make(map[int64][]string, len(ids))
	for _, id := range ids {
		known[id] = mgr.known(id)
	}
	mgr.mu.Lock()
	now := mgr.now()
	for id, e := range mgr.entries { // an entry removed meanwhile is not revived
		l := strconv.FormatInt(id, 10)
		for _, t := range known[id] {
			m.ensure(l, t)
			if _, ok := e.taskSeen[t]; !ok {
				e.taskSeen[t] = now // retired RetireAfter after it is no longer known
			}
		}
		ok := 0.0
		if !e.ok.IsZero() {
			ok = float64(e.ok.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(m.lastOK, prometheus.GaugeValue, ok, l)
		ch <- prometheus.MustNewConstMetric(m.watermark, prometheus.GaugeValue, float64(e.watermark), l)
		ch <- prometheus.MustNewConstMetric(m.since, prometheus.GaugeValue, float64(e.since), l)
		ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, float64(now.UnixNano())/1e9-float64(e.watermark), l)
		ch <- prometheus.MustNewConstMetric(m.tracked, prometheus.GaugeValue, float64(e.mem.n), l)
		for _, c := range []*prometheus.CounterVec{m.read, m.pages, m.duplicates, m.late, m.evicted, m.clockSteps, m.retired} {
			c.WithLabelValues(l) // 0 from the start, for increase() and alerts
		}
	}
	mgr.mu.Unlock()
	for _, c := range m.health() {
		c.Collect(ch)
	}
	var skip map[string]bool
	if p := m.skip.Load(); p != nil {
		skip = *p
	}
	names := m.series.families()
	for i, c := range m.series.collectors() {
		if !skip[names[i]] {
			c.Collect(ch)
		}
	}
}

// Exclude leaves the named families of the records' kind (InboundFamilies
// for a Manager of NewInbound) out of every scrape from now on; names of
// other families are ignored. nil brings every family back.
func (mgr *Manager) Exclude(names []string) {
	skip := map[string]bool{}
	for _, n := range mgr.kind.families() {
		if slices.Contains(names, n) {
			skip[n] = true
		}
	}
	mgr.m.skip.Store(&skip)
}

// ensure creates the series of a key (task, queue) at 0, once: a scrape
// asks for every known one, and the lookups of a thousand tasks' series
// would add up.
func (m *metrics) ensure(ent, key string) {
	m.mu.Lock() // held while creating, so that forget cannot interleave
	defer m.mu.Unlock()
	if m.ensured[[2]string{ent, key}] {
		return
	}
	m.ensured[[2]string{ent, key}] = true
	m.series.create(ent, key)
}

// observe counts one call of a task: the predictive kind's, for tests.
func (m *metrics) observe(ent, task string, c call) {
	m.ensure(ent, task)
	m.series.(*predictive).observeCall(ent, task, c)
}

// retire drops the series of one key.
func (m *metrics) retire(ent, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.ensured, [2]string{ent, key})
	l := prometheus.Labels{"enterprise_id": ent, m.series.seriesLabel(): key}
	for _, c := range m.series.collectors() {
		switch v := c.(type) {
		case *prometheus.CounterVec:
			v.DeletePartialMatch(l)
		case *prometheus.HistogramVec:
			v.DeletePartialMatch(l)
		}
	}
}

// forget drops every series of an enterprise no longer configured.
func (m *metrics) forget(id int64) {
	ent := strconv.FormatInt(id, 10)
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.ensured {
		if k[0] == ent {
			delete(m.ensured, k)
		}
	}
	l := prometheus.Labels{"enterprise_id": ent}
	for _, c := range m.vecs() {
		switch v := c.(type) {
		case *prometheus.CounterVec:
			v.DeletePartialMatch(l)
		case *prometheus.HistogramVec:
			v.DeletePartialMatch(l)
		}
	}
}
