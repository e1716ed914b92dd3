// Package callrecords polls the call detail records of predictive dialling
// (CloudQueryPredictiveCallCdr) in the background and counts each call's
// outcome per task: the abandoned-call rate regulators measure (live
// answers not connected to an agent within 2 s), the customers' wait for an
// agent, talk and call times. CloudMonitorTask only allows a proxy of it.
//
// Polling runs beside discovery, never on a scrape, through the same pacer
// (rate limit, retries, slowdown when throttled) as the scrapes.
//
// # Windows, watermark, de-duplication
//
// Each poll of an enterprise asks for the records whose call ended in
// [watermark − lateness, now − settle] (TimeRangeType 2), every task of
// the enterprise at once, split at the API's months (Asia/Shanghai), page
// by page, counting each page as it comes. The watermark moves to the
// window's end only when the window was read completely; a poll that
// fails part-way leaves its cursor, and the next resumes the window there.
// A window refused by the API, or too big to page, is asked again shorter.
//
// De-duplication memory (memory.go) follows the record, not the window:
// a record is remembered at its own EndTime under each of its ids, at most
// max_tracked records, and one promise holds whatever the server sends:
// every counted record that ended after the memory's horizon is
// remembered. A record older than that is reported (too_old), never
// counted twice.
//
// A clock found behind the watermark (stepped back) is counted and
// logged, and the windows read while it was ahead are read again. The
// series of a task idle for RetireAfter, neither configured nor
// discovered, are retired; at most MaxTasks tasks per enterprise have
// series.
//
// # Restart and HA
//
// Nothing is stored: after a start (or the entry's first appearance) the
// counters are 0 and count the calls that ended after
// dyvms_call_records_counting_since_timestamp_seconds, the start less
// settle. Two exporters polling the same enterprise count the same calls,
// each on its own: combine them with max, never sum.
//
// # Two kinds of records
//
// The same Manager polls inbound call records (CloudQueryIbCdr, NewInbound),
// counted per queue (inbound.go): only what a record is and the series it
// counts into differ (kind.go); the windows, memory, paging, resume and
// health are this file's, memory.go's and metrics.go's for both.
//
// docs/call-records-poller.md states the promises and their tests.
package callrecords

import (
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

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/internal/schedule"
	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// Reader reads one page of call records. The service passes its pacer,
// whose pages share the account's rate limit with the scrapes; tests pass
// an apiclient.Client or a fake. The poller pages itself, one page at a
// time, so that it counts page by page and can resume a window where a
// failed poll stopped.
type Reader interface {
	CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error)
}

// MaxPollTime bounds one poll, so that a hung connection cannot stall the
// other enterprises, which are polled one after another.
const MaxPollTime = 5 * time.Minute

// RetryAfterFailure bounds the wait after a failed poll.
const RetryAfterFailure = 30 * time.Second

// MaxCatchUp bounds how far past the watermark one window reaches. After an
// outage the backlog is read an hour at a time, one window after another.
const MaxCatchUp = time.Hour

// MaxPagesPerPart bounds the pages of one month part of a window: past it
// the window is too big to page (or the server never sends a short page),
// and the next poll asks for half of it.
const MaxPagesPerPart = 1000

// RetireAfter is how long a task's call-outcome series stay after its
// last record when the task is neither configured nor discovered: longer
// than the regulators' 24 hours, so that a day's increase() still sees a
// finished campaign whole.
const RetireAfter = 48 * time.Hour

// MaxTasks bounds the tasks with call-outcome series per enterprise (about
// 47 series each). A record of a further task is not counted
// (dyvms_call_records_invalid_total{reason="too_many_tasks"}).
const MaxTasks = 1000

// Options are the Manager's dependencies; the zero value is usable.
type Options struct {
	// Registerer receives the call-outcome and poller metrics; nil: not registered.
	Registerer prometheus.Registerer
	Logger     log.Logger // nil discards
	// Now is the clock of the windows; nil is time.Now. The Run loop still
	// waits with real timers: tests call Poll.
	Now func() time.Time
	// Tasks names the tasks the exporter knows of an enterprise (configured
	// and discovered); their series are created at 0 before their first
	// recorded call, so that increase() counts that call, and are never
	// retired. nil: none known.
	Tasks func(enterpriseID int64) []int64
	// Queues names the queues the exporter knows of an enterprise (from
	// CloudListQueue), for the inbound poller what Tasks is for the
	// predictive one. nil: none known.
	Queues func(enterpriseID int64) []string
	// Account names the Alibaba Cloud account an enterprise is read with,
	// for the account label of the error counter; nil: "default".
	Account func(enterpriseID int64) string
}

// Manager polls every configured enterprise. Update tells it the entries
// (at start and on each reload), Run polls them in the background. It is
// safe for concurrent use.
type Manager struct {
	logger log.Logger
	now    func() time.Time
	kind   kind
	known  func(int64) []string // series never retired nor refused
	acct   func(int64) string
	wake   chan struct{}
	m      *metrics

	mu      sync.Mutex
	reader  any // the kind's reader: Reader or InboundReader
	entries map[int64]*entry
	// pageLimit is the records per page asked for: MaxCdrPageSize; tests
	// set less, so that a few calls make several pages.
	pageLimit int
}

// entry is one enterprise's poller state: all of it lives in memory.
type entry struct {
	cfg config.CallRecords
	// watermark: every record that ended at or before it (and after
	// mem.forgotten) has been read, as far as the API had it when read.
	// Unix seconds.
	watermark int64
	// since: the counters count the calls that ended at or after it: the
	// start less settle, raised when max_tracked made the memory forget
	// records of a window, lowered by a clock step back.
	since int64
	mem   *memory
	// cur is the window being read: a poll that fails part-way leaves it,
	// and the next resumes it at the page where this one stopped.
	cur *cursor
	// span, when not 0, bounds the next window (seconds past its start):
	// half of a window the API refused or that was too big to page; it
	// doubles again with each window read.
	span int64
	// taskSeen is when each series key (a task, or a queue of inbound
	// calls) last had a record counted.
	taskSeen map[string]time.Time
	// known are the tasks configured or discovered (the queues listed) at
	// the last poll: never retired, never refused by the kind's bound.
	known map[string]bool
	ok    time.Time // last window read completely
	next  time.Time
	// account is the one the enterprise was read with at the last Update:
	// the account label of its error counter.
	account string
}

// cursor is a window and how far it has been read.
type cursor struct {
	lower, upper int64
	part         int   // month part being read
	start        int64 // offset of its next page
	pages        int   // pages of that part read
	// lastEnd is the latest EndTime read in this window; unordered: a
	// record came after a later one (the server does not page in EndTime
	// order, so a position past the cursor does not mean unread).
	lastEnd   int64
	unordered bool
	buf       []item // the page being counted, reused
}

// New returns a Manager of predictive call records with no entries.
func New(o Options) *Manager {
	known := func(id int64) []string {
		var out []string
		if o.Tasks != nil {
			for _, t := range o.Tasks(id) {
				out = append(out, strconv.FormatInt(t, 10))
			}
		}
		return out
	}
	return newManager(o, newPredictive(), known)
}

// NewInbound returns a Manager of inbound call records (CloudQueryIbCdr)
// with no entries: the same windows, memory, paging and health as the
// predictive one, counting per queue (inbound.go). Give it entries with
// UpdateInbound.
func NewInbound(o Options) *Manager {
	known := func(id int64) []string {
		if o.Queues == nil {
			return nil
		}
		return o.Queues(id)
	}
	return newManager(o, newInbound(), func(id int64) []string {
		// A listed queue is never refused: as many as the bound. Calls
		// that reached no queue always count.
		q := known(id)
		return append(slices.Clip(q[:min(len(q), MaxQueues)]), NoQueue)
	})
}

func newManager(o Options, k kind, known func(int64) []string) *Manager {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Account == nil {
		o.Account = func(int64) string { return "default" }
	}
	m := &Manager{logger: o.Logger, now: o.Now, kind: k, known: known, acct: o.Account, wake: make(chan struct{}, 1), entries: map[int64]*entry{}, pageLimit: apiclient.MaxCdrPageSize}
	m.m = newMetrics(m, k)
	if o.Registerer != nil {
		o.Registerer.MustRegister(m.m)
	}
	return m
}

// Update makes entries the configuration in force and reader the client
// to read with. A new entry starts counting now; an entry kept keeps its
// state and schedule (its new interval applies from the next poll); an
// entry dropped loses its state and series. Windows are split at the
// API's months (Asia/Shanghai), whatever the configured timezone.
func (m *Manager) Update(reader Reader, entries []config.CallRecords) {
	var r any
	if reader != nil {
		r = reader
	}
	m.update(r, entries)
}

// UpdateInbound is Update for a Manager of NewInbound: the entries are
// the enterprises' inbound_calls settings, with their enterprise ids.
func (m *Manager) UpdateInbound(reader InboundReader, entries []config.CallRecords) {
	var r any
	if reader != nil {
		r = reader
	}
	m.update(r, entries)
}

func (m *Manager) update(reader any, entries []config.CallRecords) {
	now := m.now()
	m.mu.Lock()
	m.reader = reader
	keep := map[int64]bool{}
	for _, c := range entries {
		keep[c.EnterpriseID] = true
		acct := m.acct(c.EnterpriseID)
		if e, ok := m.entries[c.EnterpriseID]; ok {
			e.cfg = c
			if e.account != acct {
				// Moved to another account: the old account's errors
				// are no longer this enterprise's.
				m.m.errors.DeletePartialMatch(prometheus.Labels{"enterprise_id": strconv.FormatInt(c.EnterpriseID, 10), "account": e.account})
				e.account = acct
			}
			continue
		}
		start := now.Add(-c.Settle).Unix()
		m.entries[c.EnterpriseID] = &entry{cfg: c, watermark: start, since: start + 1, mem: newMemory(start),
			taskSeen: map[string]time.Time{}, next: now.Add(c.Interval), account: acct}
	}
	for id := range m.entries {
		if !keep[id] {
			delete(m.entries, id)
			m.m.forget(id)
		}
	}
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run polls each entry when it is due until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	schedule.Run(ctx, m.wake, m.due, func(ctx context.Context, id int64) {
		_ = m.poll(ctx, id) // logged and counted inside
	}, m.untilNext)
}

// untilNext is the time until the earliest poll; false without entries.
func (m *Manager) untilNext() (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) == 0 {
		return 0, false
	}
	wait := time.Duration(1<<63 - 1)
	for _, e := range m.entries {
		wait = min(wait, e.next.Sub(m.now()))
	}
	return wait, true
}

// Poll polls every entry now, one after another; the error joins the
// failures. For tests, which must not wait for intervals.
func (m *Manager) Poll(ctx context.Context) error {
	m.mu.Lock()
	ids := make([]int64, 0, len(m.entries))
	for id := range m.entries {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		errs = append(errs, m.poll(ctx, id))
	}
	return errors.Join(errs...)
}

func (m *Manager) due() []int64 {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return schedule.Due(now, m.entries, func(e *entry) time.Time { return e.next })
}

// poll reads one entry's window, or the rest of the window the last poll
// left, page by page, counting each page as it comes. The lock is not
// held while the API is asked; Run and Poll never poll one entry twice at
// once (Poll is for tests, which do not Run).
func (m *Manager) poll(ctx context.Context, id int64) error {
	known := m.known(id) // outside the lock: it may take the configuration's
	now := m.now()
	label := strconv.FormatInt(id, 10)
	m.mu.Lock()
	e, ok := m.entries[id]
	if !ok {
		m.mu.Unlock()
		return nil
	}
	cfg, reader, limit := e.cfg, m.reader, m.pageLimit
	e.next = now.Add(cfg.Interval)
	m.retire(e, label, known, now)
	if e.cur == nil {
		e.cur = m.window(e, label, now)
	}
	cur := e.cur
	m.mu.Unlock()
	if cur == nil {
		return nil // nothing to ask yet
	}

	var err error
	if reader == nil {
		err = errors.New("no API client to read " + m.kind.what() + " with")
	} else {
		pctx, cancel := context.WithTimeout(ctx, min(cfg.Interval, MaxPollTime))
		err = m.read(pctx, id, label, e, cur, reader, limit)
		cancel()
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries[id] != e {
		return nil // removed meanwhile
	}
	if err != nil {
		var refused *apiclient.WindowRefusedError
		var tooBig *tooManyPages
		next := "the next poll resumes the window where this one stopped"
		if errors.As(err, &refused) || errors.As(err, &tooBig) {
			m.giveUpWindow(e, label, cur)
			next = "the next poll asks for a shorter window"
		}
		e.next = now.Add(min(cfg.Interval, RetryAfterFailure))
		acct := m.acct(id)
		m.m.errors.WithLabelValues(label, acct, apiclient.CodeLabel(pacer.ErrorCode(err))).Inc()
		level.Warn(m.logger).Log("msg", "reading "+m.kind.what()+" failed; "+next,
			"enterprise_id", id, "account", acct, "window_start", cur.lower, "window_end", cur.upper, "part", cur.part, "offset", cur.start,
			"watermark", e.watermark, "retry_in", e.next.Sub(now), "err", err)
		return err
	}
	e.cur = nil
	if e.span > 0 {
		if e.span *= 2; e.span >= int64(MaxCatchUp/time.Second) {
			e.span = 0
		}
	}
	e.watermark = cur.upper
	e.ok = m.now()
	e.mem.prune(e.watermark - int64(cfg.Lateness/time.Second))
	return nil
}

// window is the next window of e, or nil when there is nothing to ask
// yet. The caller holds m.mu.
func (m *Manager) window(e *entry, label string, now time.Time) *cursor {
	upper := now.Add(-e.cfg.Settle).Unix()
	if upper < e.watermark {
		m.clockStepped(e, label, e.watermark-upper)
	}
	lower := max(e.watermark-int64(e.cfg.Lateness/time.Second), e.mem.forgotten+1)
	if catchUp := max(e.watermark, lower) + int64(MaxCatchUp/time.Second); upper > catchUp {
		upper, e.next = catchUp, now // behind: the next hour at once
	}
	if e.span > 0 {
		// After a refusal: no overlap (the refused part may lie in it),
		// only new seconds, as many as span.
		lower = max(lower, e.watermark+1)
		if upper > lower+e.span-1 {
			upper, e.next = lower+e.span-1, now
		}
	}
	if upper < lower {
		return nil
	}
	return &cursor{lower: lower, upper: upper}
}

// clockStepped handles a wall clock that went back by step seconds below
// the watermark: a host that started ahead and was set right by NTP. The
// windows read since the clock was ahead were read before their calls
// ended; they are read again from as far back as the memory can tell
// (what it still holds is not counted twice), and the counting start moves
// back with the clock. The caller holds m.mu.
func (m *Manager) clockStepped(e *entry, label string, step int64) {
	m.m.clockSteps.WithLabelValues(label).Inc()
	oldSince, oldWatermark := e.since, e.watermark
	// The watermark is the previous poll's end: the clock went back by
	// step plus the time since that poll, about an interval (the wall
	// clock cannot tell it across a step). Taking an interval more may
	// count up to an interval of calls from before the start: the
	// counting start says so, and none is counted twice.
	step += int64(e.cfg.Interval / time.Second)
	e.mem.rewind(e.since - step - 1)
	e.since = max(e.since-step, e.mem.forgotten+1)
	e.watermark = e.mem.forgotten
	level.Warn(m.logger).Log("msg", "the clock went back behind the call-record watermark; reading again from where the de-duplication memory can tell",
		"enterprise_id", label, "step_back", time.Duration(step)*time.Second, "old_watermark", oldWatermark, "watermark", e.watermark,
		"old_counting_since", oldSince, "counting_since", e.since)
}

// giveUpWindow drops a window the API refused or that is too big to page:
// the next poll asks for half as many new seconds (past the watermark,
// without the lateness overlap, in which the refused part may lie). A
// window of one second that is still refused is skipped, and its calls
// are lost: the log says so, and the lag shows the time it took. The
// caller holds m.mu.
func (m *Manager) giveUpWindow(e *entry, label string, cur *cursor) {
	e.cur = nil
	if cur.upper > cur.lower {
		e.span = max((cur.upper-max(cur.lower, e.watermark+1)+1)/2, 1)
		return
	}
	level.Error(m.logger).Log("msg", "skipping one second of call records the API refuses to return; its calls are not counted",
		"enterprise_id", label, "second", cur.lower)
	e.watermark = max(e.watermark, cur.upper)
}

// tooManyPages: a month part of a window did not end within
// MaxPagesPerPart pages.
type tooManyPages struct {
	op           string
	pages, limit int
}

func (e *tooManyPages) Error() string {
	return fmt.Sprintf("dyvmsapi %s: no short page after %d pages of %d records; asking for a shorter window", e.op, e.pages, e.limit)
}

// read pages through cur from where it stands, counting each page. cur is
// e's and only this poll moves it; m.mu is taken per page to count.
func (m *Manager) read(ctx context.Context, id int64, label string, e *entry, cur *cursor, reader any, pageLimit int) error {
	parts := apiclient.SplitByMonth(time.Unix(cur.lower, 0), time.Unix(cur.upper, 0), nil)
	for ; cur.part < len(parts); cur.part, cur.start, cur.pages = cur.part+1, 0, 0 {
		for {
			if cur.pages == MaxPagesPerPart {
				return &tooManyPages{m.kind.op(), cur.pages, pageLimit}
			}
			list, err := m.kind.page(ctx, reader, apiclient.CdrQuery{EnterpriseID: id,
				StartTime: parts[cur.part][0], EndTime: parts[cur.part][1], TimeRangeType: apiclient.CdrByEndTime,
				Start: cur.start, Limit: pageLimit}, cur.buf)
			cur.buf = list
			if err != nil {
				return err
			}
			m.mu.Lock()
			if m.entries[id] != e {
				m.mu.Unlock()
				return nil
			}
			m.m.pages.WithLabelValues(label).Inc()
			m.count(e, label, list, cur)
			m.mu.Unlock()
			cur.pages++
			cur.start += int64(pageLimit)
			if len(list) < pageLimit {
				break
			}
		}
	}
	return nil
}

// count counts the records of one page not counted before. The caller
// holds m.mu.
func (m *Manager) count(e *entry, label string, recs []item, cur *cursor) {
	now := m.now()
	for i := range recs {
		r := &recs[i]
		m.m.read.WithLabelValues(label).Inc()
		keys, n := e.mem.idKeys(r.ids)
		end, ok := apiclient.At(r.end)
		switch {
		case n == 0:
			m.m.invalid.WithLabelValues(label, "no_id").Inc()
			continue
		case !ok:
			m.m.invalid.WithLabelValues(label, "no_end_time").Inc()
			continue
		case r.invalid != "":
			m.m.invalid.WithLabelValues(label, r.invalid).Inc()
			continue
		case end > cur.upper:
			// Not in the window asked (the server's filter disagrees, or
			// its clock runs ahead): counted when a window holds it.
			m.m.invalid.WithLabelValues(label, "after_window").Inc()
			continue
		}
		if end < cur.lastEnd {
			cur.unordered = true
		}
		cur.lastEnd = max(cur.lastEnd, end)
		if e.mem.has(keys, n) {
			m.m.duplicates.WithLabelValues(label).Inc()
			continue
		}
		key := r.series
		if _, ok := e.taskSeen[key]; !ok && len(e.taskSeen) >= m.kind.maxSeries() && !e.known[key] {
			m.m.invalid.WithLabelValues(label, m.kind.tooMany()).Inc()
			continue
		}
		if !e.mem.admit(keys, n, end, cur) {
			m.m.invalid.WithLabelValues(label, "too_old").Inc()
			continue
		}
		if end <= e.watermark {
			m.m.late.WithLabelValues(label).Inc()
		}
		e.taskSeen[key] = now
		m.m.ensure(label, key)
		m.kind.observe(label, key, r.rec)
	}
	if n := e.mem.evict(e.cfg.MaxTracked, cur); n > 0 {
		e.since = max(e.since, e.mem.forgotten+1)
		m.m.evicted.WithLabelValues(label).Add(float64(n))
		level.Warn(m.logger).Log("msg", m.kind.what()+": de-duplication memory full; records that ended before counting_since are no longer counted",
			"enterprise_id", label, "max_tracked", e.cfg.MaxTracked, "forgotten", n, "counting_since", e.since)
	}
}

// retire removes the series of the tasks that have had no record for
// RetireAfter and are neither configured nor discovered. The caller holds
// m.mu.
func (m *Manager) retire(e *entry, label string, known []string, now time.Time) {
	e.known = make(map[string]bool, len(known))
	for _, t := range known {
		e.known[t] = true
	}
	for task, seen := range e.taskSeen {
		if now.Sub(seen) < RetireAfter || e.known[task] {
			continue
		}
		delete(e.taskSeen, task)
		m.m.retire(label, task)
		m.m.retired.WithLabelValues(label).Inc()
		level.Info(m.logger).Log("msg", m.kind.what()+": series without records retired", "enterprise_id", label, m.kind.seriesLabel(), task, "last_record_counted", seen)
	}
}
