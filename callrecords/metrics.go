package callrecords

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Buckets of the customer's wait for an agent: around the 2 s rule.
var waitBuckets = []float64{0.5, 1, 2, 3, 5, 10, 30, 60}

// Buckets of talk and call times: the same, then minutes, because a 90 s
// mean talk time would leave most calls in +Inf of the wait buckets.
var durationBuckets = []float64{0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300, 600, 1800}

// metrics are the Manager's families. It is one prometheus.Collector so
// that a scrape first creates the series of the tasks it knows at 0 (see
// Options.Tasks) and reads the watermarks under the Manager's lock.
type metrics struct {
	mgr *Manager

	mu      sync.Mutex
	ensured map[[2]string]bool // (enterprise, task) whose series exist

	outcomes             []*prometheus.CounterVec // as the outcomes table
	wait, talk, duration *prometheus.HistogramVec

	read, pages, duplicates, late, evicted *prometheus.CounterVec
	clockSteps, retired                    *prometheus.CounterVec
	errors, invalid                        *prometheus.CounterVec

	lastOK, watermark, since, lag, tracked *prometheus.Desc
}

var taskLabels = []string{"enterprise_id", "task_id"}

func newMetrics(mgr *Manager) *metrics {
	ent := []string{"enterprise_id"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &metrics{mgr: mgr, ensured: map[[2]string]bool{}}
	for _, o := range outcomes {
		m.outcomes = append(m.outcomes, counter(o.name, "Calls counted from their call records: "+o.rule+".", taskLabels...))
	}
	m.wait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dyvms_call_answer_to_agent_wait_seconds",
		Help: "The customer's wait from the live answer to the agent (BridgeTime - RealAnswerTime, whole seconds), of live answers connected to an agent.", Buckets: waitBuckets}, taskLabels)
	m.talk = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dyvms_call_talk_duration_seconds",
		Help: "Talk time with the agent (BridgeDuration), of calls connected to an agent.", Buckets: durationBuckets}, taskLabels)
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dyvms_call_duration_seconds",
		Help: "Total call time (TotalDuration), of every call dialled.", Buckets: durationBuckets}, taskLabels)
	m.read = counter("dyvms_call_records_read_total", "Call records read (duplicates included).", ent...)
	m.pages = counter("dyvms_call_records_pages_total", "Pages of call records read (CloudQueryPredictiveCallCdr calls that answered).", ent...)
	m.duplicates = counter("dyvms_call_records_duplicates_total", "Call records read again (the windows overlap by the lateness; the list can shift between pages) and not counted again.", ent...)
	m.late = counter("dyvms_call_records_late_total", "Call records that showed up after an earlier poll had read their part of the window completely (counted, and counted here).", ent...)
	m.evicted = counter("dyvms_call_records_forgotten_total", "Call ids forgotten before their time because max_tracked was reached; polls then no longer reach back past them.", ent...)
	m.clockSteps = counter("dyvms_call_records_clock_steps_back_total", "Times the wall clock was found behind the watermark (stepped back, e.g. by NTP): the windows since are read again from as far back as de-duplication can tell.", ent...)
	m.retired = counter("dyvms_call_records_tasks_retired_total", "Tasks whose call-outcome series were removed: no record for 48 h, neither configured nor discovered.", ent...)
	m.errors = counter("dyvms_call_records_errors_total", "Polls of call records that failed, by the account the enterprise is read with (default: the top-level credentials) and error code.", "enterprise_id", "account", "code")
	m.invalid = counter("dyvms_call_records_invalid_total", "Call records not counted, by reason: a field they need is missing (no_id, no_end_time, no_task_id); too_old, ended before the de-duplication memory can tell whether they were counted; too_many_tasks, a task past the bound of tasks per enterprise; after_window, ended after the window asked (counted when a window holds them).", "enterprise_id", "reason")
	m.lastOK = prometheus.NewDesc("dyvms_call_records_last_success_timestamp_seconds", "Time of the last poll that read its window completely; 0 before the first.", []string{"enterprise_id"}, nil)
	m.watermark = prometheus.NewDesc("dyvms_call_records_watermark_timestamp_seconds", "Every call that ended at or before this time has been read (as the API had it then).", []string{"enterprise_id"}, nil)
	m.since = prometheus.NewDesc("dyvms_call_records_counting_since_timestamp_seconds", "The counters count the calls that ended at or after this time: the start less settle (raised when max_tracked was reached).", []string{"enterprise_id"}, nil)
	m.lag = prometheus.NewDesc("dyvms_call_records_lag_seconds", "Now minus the watermark: how far behind the calls the counters are; negative when the clock went back behind the watermark (until the next poll reads again).", []string{"enterprise_id"}, nil)
	m.tracked = prometheus.NewDesc("dyvms_call_records_tracked", "Call ids kept for de-duplication (at most max_tracked).", []string{"enterprise_id"}, nil)
	return m
}

func (m *metrics) vecs() []prometheus.Collector {
	out := []prometheus.Collector{m.wait, m.talk, m.duration, m.read, m.pages, m.duplicates, m.late, m.evicted, m.clockSteps, m.retired, m.errors, m.invalid}
	for _, c := range m.outcomes {
		out = append(out, c)
	}
	return out
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
	// Outside the lock: Tasks may take the configuration's and discovery's.
	known := make(map[int64][]int64, len(ids))
	for _, id := range ids {
		known[id] = mgr.tasks(id)
	}
	mgr.mu.Lock()
	now := mgr.now()
	for id, e := range mgr.entries { // an entry removed meanwhile is not revived
		l := strconv.FormatInt(id, 10)
		for _, t := range known[id] {
			m.ensure(l, strconv.FormatInt(t, 10))
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
	for _, c := range m.vecs() {
		c.Collect(ch)
	}
}

// ensure creates a task's series at 0, once: a scrape asks for every
// known task, and the lookups of a thousand tasks' series would add up.
func (m *metrics) ensure(ent, task string) {
	m.mu.Lock() // held while creating, so that forget cannot interleave
	defer m.mu.Unlock()
	if m.ensured[[2]string{ent, task}] {
		return
	}
	m.ensured[[2]string{ent, task}] = true
	for _, c := range m.outcomes {
		c.WithLabelValues(ent, task)
	}
	m.wait.WithLabelValues(ent, task)
	m.talk.WithLabelValues(ent, task)
	m.duration.WithLabelValues(ent, task)
}

// observe counts one call of a task.
func (m *metrics) observe(ent, task string, c call) {
	m.ensure(ent, task)
	for i, o := range outcomes {
		if o.counts(c) {
			m.outcomes[i].WithLabelValues(ent, task).Inc()
		}
	}
	if w, ok := c.wait(); ok && c.answered() {
		m.wait.WithLabelValues(ent, task).Observe(float64(w))
	}
	if c.talk >= 0 && c.connected() {
		m.talk.WithLabelValues(ent, task).Observe(float64(c.talk))
	}
	if c.total >= 0 {
		m.duration.WithLabelValues(ent, task).Observe(float64(c.total))
	}
}

// retire drops the series of one task.
func (m *metrics) retire(ent, task string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.ensured, [2]string{ent, task})
	l := prometheus.Labels{"enterprise_id": ent, "task_id": task}
	for _, c := range m.outcomes {
		c.Delete(l)
	}
	for _, h := range []*prometheus.HistogramVec{m.wait, m.talk, m.duration} {
		h.Delete(l)
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
