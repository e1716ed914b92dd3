package callrecords

// Regression tests of issue 19: each failed before its fix.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// listReader serves a fixed list of records, filtered by EndTime and
// paged with Start and Limit as the API does. hook, when set, may fail a
// page before it is served.
type listReader struct {
	mu    sync.Mutex
	recs  []apiclient.CallRecord
	hook  func(q apiclient.CdrQuery) error
	pages int
}

func (l *listReader) CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hook != nil {
		if err := l.hook(q); err != nil {
			return nil, err
		}
	}
	l.pages++
	var in []apiclient.CallRecord
	for _, r := range l.recs {
		if r.EndTime.Value >= q.StartTime.Unix() && r.EndTime.Value <= q.EndTime.Unix() {
			in = append(in, r)
		}
	}
	limit := q.Limit
	if limit == 0 {
		limit = apiclient.MaxCdrPageSize
	}
	in = in[min(int(q.Start), len(in)):]
	return in[:min(limit, len(in))], nil
}

// CloudQueryPredictiveCallCdr is the whole-window read of the poller
// before the fix, so that these tests run against it too.
func (l *listReader) CloudQueryPredictiveCallCdr(ctx context.Context, q apiclient.CdrQuery) (*apiclient.CdrResult, error) {
	return apiclient.QueryCallRecords(ctx, l, q)
}

func rec(id string, task, end int64) apiclient.CallRecord {
	return apiclient.CallRecord{UniqueID: apiclient.Text(id), TaskID: i64(task), StartTime: i64(end - 30), EndTime: i64(end), TotalDuration: i64(30)}
}

// fakePoller is a Manager on a fake clock reading r.
func fakePoller(t *testing.T, clock *simulator.FakeClock, r Reader, e config.CallRecords) (*Manager, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := New(Options{Registerer: reg, Now: clock.Now})
	m.Update(r, []config.CallRecords{e})
	return m, reg
}

func dialled(t *testing.T, reg prometheus.Gatherer, task int64) float64 {
	t.Helper()
	return gather(t, reg)["dyvms_calls_dialled_total"][taskKey(task)]
}

// Defect 1: ids the decoder cannot read as text (an object, a boolean)
// are no ids; the record falls back to CallId, and distinct calls stay
// distinct.
func TestUnreadableUniqueIDFallsBackToCallID(t *testing.T) {
	const end = 1741600100
	body := `{"Code":"OK","RequestId":"R","Data":{"List":[` +
		`{"UniqueId":{"a":1},"CallId":"c1","TaskId":"19","EndTime":"1741600100"},` +
		`{"UniqueId":{"a":2},"CallId":"c2","TaskId":"19","EndTime":"1741600100"},` +
		`{"UniqueId":true,"CallId":"c3","TaskId":"19","EndTime":"1741600100"},` +
		`{"UniqueId":false,"CallId":"c4","TaskId":"19","EndTime":"1741600100"}]}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	defer srv.Close()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	clock := simulator.NewFakeClock(time.Unix(end-60, 0))
	c, err := apiclient.New(apiclient.Options{Endpoint: srv.URL, Now: clock.Now,
		Credentials: apiclient.StaticCredentials{AccessKeyID: "id", AccessKeySecret: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	m, reg := fakePoller(t, clock, c, config.CallRecords{EnterpriseID: ent, Interval: time.Minute, Lateness: time.Hour, Settle: time.Second, MaxTracked: 1000})
	clock.Advance(2 * time.Minute)
	if err := m.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := dialled(t, reg, 19); got != 4 {
		t.Fatalf("dialled %v, want the 4 distinct calls (their CallIds differ)", got)
	}
}

// Defect 2a: a record returned again after the watermark has passed its
// window (a replay; a server whose filter disagrees with EndTime) is not
// counted again.
func TestReplayedRecordsAreNotCountedTwice(t *testing.T) {
	cfg := simConfig()
	cfg.Faults.Rules = []simulator.FaultRule{{Kind: simulator.FaultReplay, Count: 20}}
	w := newWorld(t, cfg)
	e := testEntry
	e.Lateness = 2 * time.Minute
	m, reg := w.poller(t, e, Options{})
	w.run(t, m, 30, time.Minute)
	fams := gather(t, reg)
	if err := w.sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	want := w.truth(t, int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]), int64(fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()]))
	for _, task := range []int64{19, 20} {
		if got, exp := counted(fams, task), counted(want, task); fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Errorf("task %d counted\n %v\nwant\n %v", task, got, exp)
		}
	}
}

// Defect 2b: a call whose UniqueId is there in one answer and empty (or an
// object) in the next, and whose Id is a number in one and a string in the
// other, is one call.
func TestIDsChangingFormAreOneCall(t *testing.T) {
	cfg := simConfig()
	cfg.Faults.Rules = []simulator.FaultRule{{Kind: simulator.FaultIDForms}}
	w := newWorld(t, cfg)
	m, reg := w.poller(t, testEntry, Options{})
	w.run(t, m, 20, time.Minute)
	fams := gather(t, reg)
	if err := w.sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	want := w.truth(t, int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]), int64(fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()]))
	for _, task := range []int64{19, 20} {
		if got, exp := counted(fams, task)["dyvms_calls_dialled_total"], counted(want, task)["dyvms_calls_dialled_total"]; got != exp {
			t.Errorf("task %d: dialled %v, want %v", task, got, exp)
		}
	}
}

// Defect 3: a poll counts page by page, its memory bounded by max_tracked,
// however many pages its window has.
func TestAPollCountsPageByPage(t *testing.T) {
	const start = 1741600000
	clock := simulator.NewFakeClock(time.Unix(start, 0))
	lr := &listReader{}
	for i := range 5000 {
		lr.recs = append(lr.recs, rec(fmt.Sprintf("u%d", i), 19, start+30+int64(i/100)))
	}
	e := config.CallRecords{EnterpriseID: ent, Interval: time.Minute, Lateness: time.Minute, Settle: time.Second, MaxTracked: 1000}
	m, reg := fakePoller(t, clock, lr, e)
	var maxTracked, countedBefore float64
	lr.hook = func(q apiclient.CdrQuery) error {
		lr.mu.Unlock() // gather takes the Manager's lock, never ours
		defer lr.mu.Lock()
		fams := gather(t, reg)
		maxTracked = max(maxTracked, fams["dyvms_call_records_tracked"][entKey()])
		if q.Start == 4000 {
			countedBefore = fams["dyvms_calls_dialled_total"][taskKey(19)]
		}
		return nil
	}
	clock.Advance(2 * time.Minute)
	if err := m.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if countedBefore != 4000 {
		t.Fatalf("%v calls counted when the fifth page was asked: want the 4000 of the first four (count page by page)", countedBefore)
	}
	if maxTracked > 1000 {
		t.Fatalf("%v ids tracked during the poll, max_tracked 1000", maxTracked)
	}
}

// Defect 9: a window that cannot be read within one poll is resumed where
// the poll stopped, and the poller catches up.
func TestABigWindowIsResumed(t *testing.T) {
	const start = 1741600000
	clock := simulator.NewFakeClock(time.Unix(start, 0))
	lr := &listReader{}
	for i := range 5000 {
		lr.recs = append(lr.recs, rec(fmt.Sprintf("u%d", i), 19, start+1+int64(i/100)))
	}
	budget := 0 // pages a poll can read before its time runs out
	lr.hook = func(apiclient.CdrQuery) error {
		if budget == 0 {
			return fmt.Errorf("page: %w", context.DeadlineExceeded)
		}
		budget--
		return nil
	}
	e := config.CallRecords{EnterpriseID: ent, Interval: time.Minute, Lateness: time.Minute, Settle: time.Second, MaxTracked: 100_000}
	m, reg := fakePoller(t, clock, lr, e)
	clock.Advance(2 * time.Minute)
	for range 10 {
		lr.mu.Lock()
		budget = 2
		lr.mu.Unlock()
		_ = m.Poll(context.Background())
		clock.Advance(10 * time.Second)
	}
	if got := dialled(t, reg, 19); got != 5000 {
		t.Fatalf("dialled %v after 10 polls of 2 pages each, want all 5000 (the window has 6 pages)", got)
	}
	if wm := gather(t, reg)["dyvms_call_records_watermark_timestamp_seconds"][entKey()]; wm < start+60 {
		t.Fatalf("watermark %v has not moved past the big window", wm)
	}
}

// Defect 10: a poll that fails part-way while the ids read exceed
// max_tracked loses none of the records it had not read yet.
func TestAPartialPollLosesNothing(t *testing.T) {
	const start = 1741600000
	clock := simulator.NewFakeClock(time.Unix(start, 0))
	lr := &listReader{}
	for i := range 2500 {
		lr.recs = append(lr.recs, rec(fmt.Sprintf("u%d", i), 19, start+30)) // all in one second
	}
	failed := false
	lr.hook = func(q apiclient.CdrQuery) error {
		if q.Start == 2000 && !failed {
			failed = true
			return &apiclient.Error{Operation: "CloudQueryPredictiveCallCdr", Code: "ServiceUnavailable", HTTPStatus: 503}
		}
		return nil
	}
	e := config.CallRecords{EnterpriseID: ent, Interval: time.Minute, Lateness: 10 * time.Minute, Settle: time.Second, MaxTracked: 1000}
	m, reg := fakePoller(t, clock, lr, e)
	for range 5 {
		clock.Advance(time.Minute)
		_ = m.Poll(context.Background())
	}
	if got := dialled(t, reg, 19); got != 2500 {
		t.Fatalf("dialled %v, want 2500: the third page failed once", got)
	}
}

// Defect 5: the month boundary is the API's (Asia/Shanghai) whatever the
// display timezone, and a refused window never stops the poller.
func TestMonthBoundaryIsTheAPIs(t *testing.T) {
	w := newWorld(t, simConfig())
	// Ten minutes before midnight of 31 March in Shanghai.
	w.clock.Set(time.Date(2025, 3, 31, 23, 50, 0, 0, loc))
	m, reg := w.poller(t, testEntry, Options{})
	w.run(t, m, 30, time.Minute)
	fams := gather(t, reg)
	wm := int64(fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()])
	if midnight := time.Date(2025, 4, 1, 0, 0, 0, 0, loc).Unix(); wm < midnight+10*60 {
		t.Fatalf("watermark %v stuck before the month boundary %v; errors %v", time.Unix(wm, 0).In(loc), time.Unix(midnight, 0).In(loc), fams["dyvms_call_records_errors_total"])
	}
	want := w.truth(t, int64(fams["dyvms_call_records_counting_since_timestamp_seconds"][entKey()]), wm)
	if got, exp := counted(fams, 19), counted(want, 19); fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("counted\n %v\nwant\n %v", got, exp)
	}
}

// Defect 5, the second half: a window the API refuses is asked again
// shorter, and one it keeps refusing is skipped, so the poller moves on.
func TestARefusedWindowDoesNotStopThePoller(t *testing.T) {
	const start = 1741600000
	clock := simulator.NewFakeClock(time.Unix(start, 0))
	lr := &listReader{}
	for i := range 100 {
		lr.recs = append(lr.recs, rec(fmt.Sprintf("u%d", i), 19, start+600+int64(i)))
	}
	bad := int64(start + 300) // a second the API refuses in any window
	lr.hook = func(q apiclient.CdrQuery) error {
		if q.StartTime.Unix() <= bad && bad <= q.EndTime.Unix() {
			return &apiclient.WindowRefusedError{Err: &apiclient.Error{Operation: "CloudQueryPredictiveCallCdr", Code: "isv.INVALID_PARAMETERS"}, Start: q.StartTime.Unix(), End: q.EndTime.Unix()}
		}
		return nil
	}
	e := config.CallRecords{EnterpriseID: ent, Interval: time.Minute, Lateness: 0, Settle: time.Second, MaxTracked: 1000}
	m, reg := fakePoller(t, clock, lr, e)
	clock.Advance(20 * time.Minute)
	for range 60 {
		_ = m.Poll(context.Background())
		clock.Advance(10 * time.Second)
	}
	if got := dialled(t, reg, 19); got != 100 {
		t.Fatalf("dialled %v, want the 100 calls after the refused second", got)
	}
}

// Defect 6: a clock that started 8 h ahead and is stepped back is seen
// (a counter, the lag), and the calls since are counted.
func TestAClockStepBackIsSeenAndRecovered(t *testing.T) {
	w := newWorld(t, simConfig())
	var mu sync.Mutex
	skew := 8 * time.Hour
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return w.clock.Now().Add(skew)
	}
	reg := prometheus.NewRegistry()
	m := New(Options{Registerer: reg, Now: now})
	m.Update(w.client, []config.CallRecords{testEntry})
	start := w.clock.Now()
	w.run(t, m, 30, time.Minute)
	mu.Lock()
	skew = 0 // NTP steps the clock back
	mu.Unlock()
	if lag := gather(t, reg)["dyvms_call_records_lag_seconds"][entKey()]; lag >= 0 {
		t.Errorf("lag %v right after the step: the gauge hides that the clock is behind the watermark", lag)
	}
	w.run(t, m, 30, time.Minute)
	fams := gather(t, reg)
	if fams["dyvms_call_records_clock_steps_back_total"][entKey()] != 1 {
		t.Errorf("clock steps back %v, want 1", fams["dyvms_call_records_clock_steps_back_total"])
	}
	want := w.truth(t, start.Add(-testEntry.Settle).Unix()+1, int64(fams["dyvms_call_records_watermark_timestamp_seconds"][entKey()]))
	got, exp := counted(fams, 19)["dyvms_calls_dialled_total"], counted(want, 19)["dyvms_calls_dialled_total"]
	if got != exp || exp == 0 {
		t.Fatalf("dialled %v after the step back, want the %v calls since the start", got, exp)
	}
}

// Defect 4: the series of a task without records for RetireAfter (neither
// configured nor discovered) are retired; tasks per enterprise are bounded.
func TestIdleTasksAreRetiredAndTasksBounded(t *testing.T) {
	const start = 1741600000
	clock := simulator.NewFakeClock(time.Unix(start, 0))
	lr := &listReader{}
	for task := range int64(MaxTasks + 50) {
		lr.recs = append(lr.recs, rec(fmt.Sprintf("u%d", task), 1000+task, start+30))
	}
	e := config.CallRecords{EnterpriseID: ent, Interval: time.Hour, Lateness: 0, Settle: time.Second, MaxTracked: 100_000}
	reg := prometheus.NewRegistry()
	m := New(Options{Registerer: reg, Now: clock.Now, Tasks: func(int64) []int64 { return []int64{1000} }})
	m.Update(lr, []config.CallRecords{e})
	clock.Advance(time.Minute)
	if err := m.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	fams := gather(t, reg)
	if n := len(fams["dyvms_calls_dialled_total"]); n != MaxTasks {
		t.Errorf("%d tasks with series, want the bound %d", n, MaxTasks)
	}
	if v := fams["dyvms_call_records_invalid_total"]["enterprise_id=7000002,reason=too_many_tasks"]; v != 50 {
		t.Errorf("too_many_tasks %v, want the 50 calls of the tasks past the bound", v)
	}
	for range 49 {
		clock.Advance(time.Hour)
		if err := m.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	fams = gather(t, reg)
	if n := len(fams["dyvms_calls_dialled_total"]); n != 1 {
		t.Errorf("%d tasks with series 49 h after their last call, want only the known one", n)
	}
	if v := fams["dyvms_call_records_tasks_retired_total"][entKey()]; v != MaxTasks-1 {
		t.Errorf("retired %v, want %d", v, MaxTasks-1)
	}
}
