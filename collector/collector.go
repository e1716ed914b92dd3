// Package collector turns CloudMonitorTask answers into Prometheus metrics
// and writes the exposition: the catalogue of task and agent families, the
// mapping of each answer's fields onto them, the per-scrape fan-out within
// the scrape's deadline, and the text (and gzip) writer of /metrics and
// /probe. The exporter's own metrics are not here: apimetrics,
// callrecords, discovery and service own theirs.
//
// An Exporter is built for one scrape: it carries the scrape's context (whose
// deadline comes from Prometheus' scrape timeout) and the list of tasks to
// read. Collect fetches the tasks concurrently, bounded, and writes constant
// metrics; it never parses JSON and never keeps values between scrapes, so a
// task that fails now shows only its failure, never a stale number.
package collector

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// DefaultConcurrency bounds how many tasks one scrape reads at once when the
// caller does not say: enough to hide API latency for tens of tasks without
// bursting a quota that every RAM user of the account shares.
const DefaultConcurrency = 8

// MonitorAPI is the one API call the collector needs; *apiclient.Client
// satisfies it, and tests can put anything in between.
type MonitorAPI interface {
	CloudMonitorTask(ctx context.Context, enterpriseID, taskID int64) (*apiclient.CloudMonitorTaskResponse, error)
}

// Task is task.Task, named here too because it is in every signature of
// the package.
type Task = task.Task

// ErrorReporter is told about each failed task; the exporter uses it to log a
// configuration error once rather than on every scrape.
type ErrorReporter func(task Task, err error)

// Exporter collects the metrics of a set of tasks for one scrape.
type Exporter struct {
	ctx         context.Context
	api         MonitorAPI
	tasks       []Task
	concurrency int
	lanes       *Lanes
	logger      log.Logger
	report      ErrorReporter
	onSuccess   func(Task)
	unreadable  UnreadableReporter
	sel         *selection
}

var _ prometheus.Collector = (*Exporter)(nil)

// Options tune an Exporter; the zero value is usable.
type Options struct {
	Concurrency int           // tasks fetched at once; 0 means DefaultConcurrency
	Logger      log.Logger    // nil discards
	OnError     ErrorReporter // nil logs every failure at warn level
	OnSuccess   func(Task)    // optional; told about each task read successfully
	// OnUnreadable is told about the fields whose values could not be read
	// (see UnreadableLog); nil logs them at debug level on every scrape.
	OnUnreadable UnreadableReporter
	Metrics      Selection // which families to build; the zero value builds all
	// Lanes, when set, replace Concurrency: see Lanes.
	Lanes *Lanes
}

// Lanes split a scrape's fan-out: each task belongs to the lane Of names,
// and each lane reads at most Concurrency[lane] tasks at once (at least
// one) with workers of its own. Tasks whose calls are slow in one lane (an
// Alibaba Cloud account being throttled) then never hold a worker another
// lane's tasks wait for.
type Lanes struct {
	Of          func(Task) string
	Concurrency map[string]int
}

// New returns an Exporter for one scrape. Repeated tasks are read once: the
// same task reached through two routes (a static entry and discovery, say)
// must not produce duplicate series and fail the whole scrape.
func New(ctx context.Context, api MonitorAPI, tasks []Task, o Options) *Exporter {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	e := &Exporter{ctx: ctx, api: api, tasks: uniqueTasks(tasks), concurrency: o.Concurrency, lanes: o.Lanes, logger: o.Logger, report: o.OnError, onSuccess: o.OnSuccess, sel: everything, unreadable: o.OnUnreadable}
	if o.Metrics.AgentStatus != 0 || o.Metrics.NoAgents || len(o.Metrics.Exclude) > 0 {
		e.sel = o.Metrics.compile()
	}
	if e.report == nil {
		e.report = func(t Task, err error) {
			level.Warn(e.logger).Log("msg", "task scrape failed", "enterprise_id", t.EnterpriseID, "task_id", t.TaskID, "err", err)
		}
	}
	return e
}

func uniqueTasks(in []Task) []Task {
	seen := make(map[Task]struct{}, len(in))
	out := make([]Task, 0, len(in))
	for _, t := range in {
		if _, dup := seen[t]; dup {
			continue
		}
		seen[t] = struct{}{}
		out = append(out, t)
	}
	return out
}

// Describe sends every descriptor the exporter can produce.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for i := range families {
		if !e.sel.skip[i] {
			ch <- e.sel.desc(i)
		}
	}
}

// Collect reads every task and sends its metrics as const metrics.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	for _, r := range e.run() {
		r.collect(ch, e.sel)
	}
}

// run reads every task concurrently, at most e.concurrency at once, and
// returns when all reads have finished or the scrape context has expired,
// whichever is first; a task that did not answer in time has ok == false.
// Results come back in the order of e.tasks.
func (e *Exporter) run() []*taskResult {
	results := e.newResults()
	e.fetch(results, nil)
	return results
}

func (e *Exporter) newResults() []*taskResult {
	results := make([]*taskResult, len(e.tasks))
	for i, t := range e.tasks {
		results[i] = newResult(t)
	}
	return results
}

// fetch fills results; done, if set, is told about each result as soon as
// it is final (in any order), so that what it does with the result
// overlaps the reads still in flight.
func (e *Exporter) fetch(results []*taskResult, done func(i int)) {
	if len(results) == 1 {
		// /probe's case: no goroutine and semaphore to wake.
		if err := e.ctx.Err(); err != nil {
			e.report(results[0].task, err)
		} else {
			e.scrapeTask(results[0])
		}
		if done != nil {
			done(0)
		}
		return
	}
	// e.concurrency workers take the tasks in configuration order, so
	// that they also finish roughly in that order and the gzip answer
	// rarely holds a task's text waiting for an earlier one. With lanes,
	// each lane has workers of its own taking its tasks in that order.
	var wg sync.WaitGroup
	for _, l := range e.laneOrder(results) {
		e.work(&wg, results, l.indices, l.concurrency, done)
	}
	wg.Wait()
}

type lane struct {
	indices     []int
	concurrency int
}

// laneOrder groups the results' indices by lane, in configuration order.
func (e *Exporter) laneOrder(results []*taskResult) []lane {
	all := make([]int, len(results))
	for i := range all {
		all[i] = i
	}
	if e.lanes == nil || e.lanes.Of == nil {
		return []lane{{all, e.concurrency}}
	}
	byName := map[string]int{}
	var out []lane
	for i, r := range results {
		name := e.lanes.Of(r.task)
		k, ok := byName[name]
		if !ok {
			k = len(out)
			byName[name] = k
			out = append(out, lane{concurrency: max(1, e.lanes.Concurrency[name])})
		}
		out[k].indices = append(out[k].indices, i)
	}
	return out
}

// work starts min(concurrency, len(indices)) workers over indices.
func (e *Exporter) work(wg *sync.WaitGroup, results []*taskResult, indices []int, concurrency int, done func(i int)) {
	var next atomic.Int64
	for range min(concurrency, len(indices)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(indices) {
					return
				}
				i := indices[k]
				if err := e.ctx.Err(); err != nil {
					e.report(results[i].task, err)
				} else {
					e.scrapeTask(results[i])
				}
				if done != nil {
					done(i)
				}
			}
		}()
	}
}

// scrapeTask fetches one task and maps its answer. The answer is mapped
// completely before the result counts as good, so a failure half-way
// through (or a panic in the mapping) never leaves half a task exposed.
func (e *Exporter) scrapeTask(r *taskResult) {
	start := time.Now()
	t := r.task
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("internal error while reading task: %v", p)
				level.Error(e.logger).Log("msg", "panic while collecting task", "enterprise_id", t.EnterpriseID, "task_id", t.TaskID, "panic", p, "stack", string(debug.Stack()))
			}
		}()
		var resp *apiclient.CloudMonitorTaskResponse
		resp, err = e.api.CloudMonitorTask(e.ctx, t.EnterpriseID, t.TaskID)
		if err != nil {
			return
		}
		if resp == nil || resp.Data == nil {
			err = fmt.Errorf("CloudMonitorTask answer has no Data object")
			return
		}
		r.fill(resp.Data, e.sel)
		// Inside the recover: a reporter's panic fails this task, not the scrape.
		e.reportUnreadable(t, resp.Data.Unreadable)
	}()
	r.duration = time.Since(start).Seconds()
	if err != nil {
		r.samples, r.start = nil, nil
		e.report(t, err)
		return
	}
	r.ok = true
	if e.onSuccess != nil {
		e.onSuccess(t)
	}
}

func (e *Exporter) reportUnreadable(t Task, fields []apiclient.UnreadableField) {
	if len(fields) == 0 {
		return
	}
	if e.unreadable != nil {
		e.unreadable(t, fields)
		return
	}
	for _, f := range fields {
		logUnreadable(level.Debug(e.logger), t, f)
	}
}
