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
// [watermark − lateness, now − settle] (TimeRangeType 2), every task of the
// enterprise at once, and counts the records it has not seen before,
// each under its own task_id. The watermark moves to the window's end only
// when the window was read completely (a failed page leaves it, or moves it
// to the end of the last calendar month read completely). The ids seen are
// kept while a later window can still return them, i.e. for records that
// ended after watermark − lateness: at most max_tracked of them (about 70
// bytes each). Past that bound the oldest ids are forgotten and no later
// window reaches back past them (the lateness shrinks; nothing is counted
// twice).
//
// A record that shows up in a part of a window an earlier poll had already
// read completely came late: it is counted, and counted as late
// (dyvms_call_records_late_total). A record later than the lateness is
// never seen: no window reaches back to it. Late records near the lateness
// warn of that.
//
// # Restart and HA
//
// Nothing is stored: after a start (or the entry's first appearance) the
// counters are 0 and count the calls that ended after
// dyvms_call_records_counting_since_timestamp_seconds, the start less
// settle. Calls that ended before a restart and were not yet read by the
// process that stopped are counted by neither (at most settle plus an
// interval of calls, and late records). Two exporters polling the same
// enterprise count the same calls, each on its own: combine them with max,
// never sum.
package callrecords

import (
	"context"
	"errors"
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

// Reader reads the records of a window. The service passes its pacer,
// whose pages share the account's rate limit with the scrapes; tests pass
// an apiclient.Client or a fake.
type Reader interface {
	CloudQueryPredictiveCallCdr(ctx context.Context, q apiclient.CdrQuery) (*apiclient.CdrResult, error)
}

// MaxPollTime bounds one poll, so that a hung connection cannot stall the
// other enterprises, which are polled one after another.
const MaxPollTime = 5 * time.Minute

// RetryAfterFailure bounds the wait after a failed poll.
const RetryAfterFailure = 30 * time.Second

// MaxCatchUp bounds how far past the watermark one poll reads. After an
// outage the backlog is read an hour at a time, one poll after another,
// each of which can finish within MaxPollTime and move the watermark; one
// window of the whole backlog might never finish, and would then be asked
// again from the start, for ever.
const MaxCatchUp = time.Hour

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
	// recorded call, so that increase() counts that call. nil: none known.
	Tasks func(enterpriseID int64) []int64
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
	tasks  func(int64) []int64
	acct   func(int64) string
	wake   chan struct{}
	m      *metrics

	mu      sync.Mutex
	reader  Reader
	loc     *time.Location
	entries map[int64]*entry
}

// entry is one enterprise's poller state: all of it lives in memory.
type entry struct {
	cfg config.CallRecords
	// watermark: every record that ended at or before it has been read
	// (as far as the API had it when read). Unix seconds.
	watermark int64
	// floor: no record that ended before it is counted: the start of
	// counting, raised when de-duplication memory had to be given up.
	floor int64
	seen  map[string]int64 // id -> end of the call, as the window places it
	ok    time.Time        // last successful poll
	next  time.Time
	// account is the one the enterprise was read with at the last Update:
	// the account label of its error counter.
	account string
}

// New returns a Manager with no entries.
func New(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tasks == nil {
		o.Tasks = func(int64) []int64 { return nil }
	}
	if o.Account == nil {
		o.Account = func(int64) string { return "default" }
	}
	m := &Manager{logger: o.Logger, now: o.Now, tasks: o.Tasks, acct: o.Account, wake: make(chan struct{}, 1), entries: map[int64]*entry{}}
	m.m = newMetrics(m)
	if o.Registerer != nil {
		o.Registerer.MustRegister(m.m)
	}
	return m
}

// Update makes entries the configuration in force, reader the client to
// read with and loc the call centre's zone (whose months a window may not
// cross). A new entry starts counting now; an entry kept keeps its state
// and schedule (its new interval applies from the next poll); an entry
// dropped loses its state and series.
func (m *Manager) Update(reader Reader, entries []config.CallRecords, loc *time.Location) {
	now := m.now()
	m.mu.Lock()
	m.reader, m.loc = reader, loc
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
		m.entries[c.EnterpriseID] = &entry{cfg: c, watermark: start, floor: start + 1, seen: map[string]int64{}, next: now.Add(c.Interval), account: acct}
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

// poll reads one entry's window and counts what it has not seen. The
// entry's lock is not held while the API is asked; Run and Poll never
// poll one entry twice at once (Poll is for tests, which do not Run).
func (m *Manager) poll(ctx context.Context, id int64) error {
	now := m.now()
	m.mu.Lock()
	e, ok := m.entries[id]
	if !ok {
		m.mu.Unlock()
		return nil
	}
	cfg, reader, loc := e.cfg, m.reader, m.loc
	lower := max(e.watermark-int64(cfg.Lateness/time.Second), e.floor)
	upper := now.Add(-cfg.Settle).Unix()
	e.next = now.Add(cfg.Interval)
	if catchUp := e.watermark + int64(MaxCatchUp/time.Second); upper > catchUp {
		upper, e.next = catchUp, now // behind: the next hour at once
	}
	m.mu.Unlock()
	label := strconv.FormatInt(id, 10)
	if upper < lower {
		return nil // started less than settle ago: nothing to ask yet
	}

	var (
		res *apiclient.CdrResult
		err error
	)
	if reader == nil {
		err = errors.New("no API client to read call records with")
	} else {
		pctx, cancel := context.WithTimeout(ctx, min(cfg.Interval, MaxPollTime))
		res, err = reader.CloudQueryPredictiveCallCdr(pctx, apiclient.CdrQuery{EnterpriseID: id,
			StartTime: time.Unix(lower, 0), EndTime: time.Unix(upper, 0), TimeRangeType: apiclient.CdrByEndTime, Location: loc})
		cancel()
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.entries[id]; !ok || cur != e {
		return nil // removed meanwhile
	}
	if res != nil {
		m.m.pages.WithLabelValues(label).Add(float64(res.Pages))
		m.count(e, label, res.Records, lower, upper)
	}
	if err != nil {
		if res != nil && !res.Through.IsZero() {
			e.watermark = max(e.watermark, res.Through.Unix())
		}
		e.next = now.Add(min(cfg.Interval, RetryAfterFailure))
		acct := m.acct(id)
		m.m.errors.WithLabelValues(label, acct, pacer.ErrorCode(err)).Inc()
		level.Warn(m.logger).Log("msg", "reading call records failed; the watermark stays where the records were read completely",
			"enterprise_id", id, "account", acct, "window_start", lower, "window_end", upper, "watermark", e.watermark, "retry_in", e.next.Sub(now), "err", err)
		m.prune(e, label)
		return err
	}
	e.watermark = max(e.watermark, upper)
	e.ok = m.now()
	m.prune(e, label)
	return nil
}

// count counts the records not seen before. A record's end outside the
// window it came in (the server's filter and its times disagree; the
// simulator at another speed does that) is placed at the window's end: kept
// long enough that no later window counts it again, and never taken for
// late. The caller holds m.mu.
func (m *Manager) count(e *entry, label string, recs []apiclient.CallRecord, lower, upper int64) {
	prevWatermark := e.watermark
	for i := range recs {
		r := &recs[i]
		m.m.read.WithLabelValues(label).Inc()
		key := r.Key()
		end, ok := apiclient.At(r.EndTime)
		switch {
		case key == "":
			m.m.invalid.WithLabelValues(label, "no_id").Inc()
			continue
		case !ok:
			m.m.invalid.WithLabelValues(label, "no_end_time").Inc()
			continue
		case !r.TaskID.Valid || r.TaskID.Value <= 0:
			m.m.invalid.WithLabelValues(label, "no_task_id").Inc()
			continue
		}
		if end < lower || end > upper {
			end = upper
		}
		if _, dup := e.seen[key]; dup {
			m.m.duplicates.WithLabelValues(label).Inc()
			continue
		}
		e.seen[key] = end
		if end <= prevWatermark {
			m.m.late.WithLabelValues(label).Inc()
		}
		m.m.observe(label, strconv.FormatInt(r.TaskID.Value, 10), readCall(r))
	}
}

// prune forgets the ids no later window can return, then, past
// max_tracked, the oldest others. The caller holds m.mu.
func (m *Manager) prune(e *entry, label string) {
	lower := max(e.watermark-int64(e.cfg.Lateness/time.Second), e.floor)
	for k, end := range e.seen {
		if end < lower {
			delete(e.seen, k)
		}
	}
	if over := len(e.seen) - e.cfg.MaxTracked; over > 0 {
		ends := make([]int64, 0, len(e.seen))
		for _, end := range e.seen {
			ends = append(ends, end)
		}
		slices.Sort(ends)
		// Forget a quarter more than needed, so that this sort does not
		// run on every poll of a busy enterprise.
		cut := ends[min(len(ends)-1, over-1+e.cfg.MaxTracked/4)]
		n := 0
		for k, end := range e.seen {
			if end <= cut {
				delete(e.seen, k)
				n++
			}
		}
		e.floor = max(e.floor, cut+1)
		m.m.evicted.WithLabelValues(label).Add(float64(n))
		level.Warn(m.logger).Log("msg", "call-record de-duplication memory full; later polls no longer reach back past the forgotten calls",
			"enterprise_id", label, "max_tracked", e.cfg.MaxTracked, "forgotten", n, "counting_since", e.floor)
	}
}
