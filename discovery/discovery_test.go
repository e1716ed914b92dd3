package discovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	itest "github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// fakeLister answers from a table keyed by enterprise, type and status
// (-1: no status filter) and records every query.
type fakeLister struct {
	mu      sync.Mutex
	answers map[[3]int64][]int64
	err     error
	calls   []apiclient.TaskQuery
	times   []time.Time
	block   chan struct{} // if set, each call waits for it
}

func newFake() *fakeLister { return &fakeLister{answers: map[[3]int64][]int64{}} }

func (f *fakeLister) set(ent, typ, status int64, ids ...int64) {
	f.mu.Lock()
	f.answers[[3]int64{ent, typ, status}] = ids
	f.mu.Unlock()
}

func (f *fakeLister) fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeLister) CloudQueryTask(ctx context.Context, q apiclient.TaskQuery) ([]apiclient.TaskSummary, error) {
	f.mu.Lock()
	f.calls = append(f.calls, q)
	f.times = append(f.times, time.Now())
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	st := int64(-1)
	if q.Status != nil {
		st = *q.Status
	}
	var out []apiclient.TaskSummary
	for _, id := range f.answers[[3]int64{q.EnterpriseID, q.Type, st}] {
		out = append(out, apiclient.TaskSummary{ID: apiclient.Int64{Value: id, Valid: true}})
	}
	return out, nil
}

func (f *fakeLister) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, q := range f.calls {
		s := "any"
		if q.Status != nil {
			s = fmt.Sprint(*q.Status)
		}
		out = append(out, fmt.Sprintf("%d/type=%d/status=%s", q.EnterpriseID, q.Type, s))
	}
	return out
}

func (f *fakeLister) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func tasks(ent int64, ids ...int64) []task.Task {
	var out []task.Task
	for _, id := range ids {
		out = append(out, task.Task{EnterpriseID: ent, TaskID: id})
	}
	return out
}

func dentry(ent int64, types, statuses []int) config.Discovery {
	return config.Discovery{EnterpriseID: ent, Types: types, Statuses: statuses, RefreshInterval: 5 * time.Minute}
}

func newManager(t *testing.T) (*Manager, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return New(Options{Registerer: reg}), reg
}

func TestStatusFilter(t *testing.T) {
	f := newFake()
	f.set(1, 1, 1, 10, 11)
	f.set(1, 1, 2, 11, 12) // 11 in both: listed once
	f.set(1, 2, 1, 20)
	f.set(1, 1, 3, 99) // a status not asked for
	f.set(2, 1, -1, 5, 3, 4)
	m, _ := newManager(t)
	m.Update(f, []config.Discovery{dentry(1, []int{1, 2}, []int{1, 2}), dentry(2, []int{1}, nil)})
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantQ := []string{
		"1/type=1/status=1", "1/type=1/status=2", "1/type=2/status=1", "1/type=2/status=2",
		"2/type=1/status=any", // no statuses: one unfiltered call per type
	}
	if got := f.queries(); !slices.Equal(got, wantQ) {
		t.Errorf("queries:\n got %q\nwant %q", got, wantQ)
	}
	want := append(tasks(1, 10, 11, 12, 20), tasks(2, 3, 4, 5)...)
	if got := m.Tasks(); !slices.Equal(got, want) {
		t.Errorf("tasks: got %v, want %v", got, want)
	}
	if !m.Has(task.Task{EnterpriseID: 1, TaskID: 20}) || m.Has(task.Task{EnterpriseID: 1, TaskID: 99}) ||
		m.Has(task.Task{EnterpriseID: 3, TaskID: 5}) {
		t.Error("Has disagrees with Tasks")
	}
}

func TestFailureKeepsPreviousList(t *testing.T) {
	f := newFake()
	f.set(1, 1, -1, 1, 2, 3)
	clock := time.Unix(1_700_000_000, 0)
	reg := prometheus.NewRegistry()
	m := New(Options{Registerer: reg, Now: func() time.Time { return clock }})
	m.Update(f, []config.Discovery{dentry(1, []int{1}, nil)})
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	f.fail(errors.New("Throttling.User"))
	err := m.Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), "enterprise 1") || !strings.Contains(err.Error(), "Throttling.User") {
		t.Fatalf("Refresh error: %v", err)
	}
	if got := m.Tasks(); !slices.Equal(got, tasks(1, 1, 2, 3)) {
		t.Errorf("after a failure: %v, want the previous list", got)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP dyvms_discovery_errors_total Task listings of the enterprise that failed; the previous list stays in use.
# TYPE dyvms_discovery_errors_total counter
dyvms_discovery_errors_total{enterprise_id="1"} 1
# HELP dyvms_discovery_last_success_timestamp_seconds Time of the last successful task listing of the enterprise, in seconds since the Unix epoch; 0 before the first.
# TYPE dyvms_discovery_last_success_timestamp_seconds gauge
dyvms_discovery_last_success_timestamp_seconds{enterprise_id="1"} 1.7e+09
# HELP dyvms_discovery_tasks Tasks found by the last successful CloudQueryTask listing of the enterprise (kept while later listings fail).
# TYPE dyvms_discovery_tasks gauge
dyvms_discovery_tasks{enterprise_id="1"} 3
`), "dyvms_discovery_errors_total", "dyvms_discovery_last_success_timestamp_seconds", "dyvms_discovery_tasks"); err != nil {
		t.Error(err)
	}
	// A failure is retried sooner than the refresh interval.
	m.mu.Lock()
	next := m.entries[1].next
	m.mu.Unlock()
	if want := clock.Add(RetryAfterFailure); !next.Equal(want) {
		t.Errorf("next attempt at %v, want %v", next, want)
	}
}

func TestFirstFailureHasSeries(t *testing.T) {
	f := newFake()
	f.fail(errors.New("InvalidAccessKeyId.NotFound"))
	m, reg := newManager(t)
	m.Update(f, []config.Discovery{dentry(1, []int{1}, nil)})
	if err := m.Refresh(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if len(m.Tasks()) != 0 {
		t.Errorf("tasks %v", m.Tasks())
	}
	if n := testutil.ToFloat64(m.errs.WithLabelValues("1")); n != 1 {
		t.Errorf("errors_total %v", n)
	}
	if n, _ := testutil.GatherAndCount(reg, "dyvms_discovery_tasks", "dyvms_discovery_last_success_timestamp_seconds"); n != 2 {
		t.Errorf("series before the first success: %d, want 2 (at 0, for alerts)", n)
	}
}

func TestRefreshPicksUpChange(t *testing.T) {
	f := newFake()
	f.set(1, 1, -1, 1, 2)
	m, _ := newManager(t)
	m.Update(f, []config.Discovery{dentry(1, []int{1}, nil)})
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.set(1, 1, -1, 2, 3, 4) // 1 deleted, 3 and 4 created
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := m.Tasks(); !slices.Equal(got, tasks(1, 2, 3, 4)) {
		t.Errorf("tasks %v", got)
	}
	if n := testutil.ToFloat64(m.tasks.WithLabelValues("1")); n != 3 {
		t.Errorf("dyvms_discovery_tasks %v", n)
	}
}

func TestReload(t *testing.T) {
	f := newFake()
	f.set(1, 1, -1, 1, 2)
	f.set(2, 1, -1, 7)
	f.set(3, 1, -1, 9)
	m, reg := newManager(t)
	m.Update(f, []config.Discovery{dentry(1, []int{1}, nil), dentry(2, []int{1}, nil)})
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := f.callCount()

	// Reload: 2 removed, 3 added, 1 unchanged (a new client, as the
	// service builds one per configuration).
	f2 := newFake()
	f2.set(3, 1, -1, 9)
	m.Update(f2, []config.Discovery{dentry(1, []int{1}, nil), dentry(3, []int{1}, nil)})
	if got := m.Tasks(); !slices.Equal(got, tasks(1, 1, 2)) {
		t.Errorf("right after the reload: %v, want enterprise 1 kept and 2 gone", got)
	}
	if f.callCount() != calls || f2.callCount() != 0 {
		t.Error("Update must not list by itself")
	}
	if got := m.due(); !slices.Equal(got, []int64{3}) {
		t.Errorf("due after reload: %v, want only the new entry", got)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP dyvms_discovery_tasks Tasks found by the last successful CloudQueryTask listing of the enterprise (kept while later listings fail).
# TYPE dyvms_discovery_tasks gauge
dyvms_discovery_tasks{enterprise_id="1"} 2
dyvms_discovery_tasks{enterprise_id="3"} 0
`), "dyvms_discovery_tasks"); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"dyvms_discovery_errors_total", "dyvms_discovery_last_success_timestamp_seconds", "dyvms_discovery_refresh_duration_seconds"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != 2 {
			t.Errorf("%s: %d series, want 2 (enterprise 2 deleted)", name, n)
		}
	}

	// Changing the filter lists again; the old list stays until then.
	m.Update(f2, []config.Discovery{dentry(1, []int{1}, []int{1}), dentry(3, []int{1}, nil)})
	if got := m.due(); !slices.Equal(got, []int64{1, 3}) && !slices.Equal(got, []int64{3, 1}) {
		t.Errorf("due after filter change: %v", got)
	}
	if got := m.Tasks(); !slices.Equal(got, tasks(1, 1, 2)) {
		t.Errorf("old list dropped before the new filter's listing: %v", got)
	}
	f2.set(1, 1, 1, 2)
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := m.Tasks(); !slices.Equal(got, append(tasks(1, 2), tasks(3, 9)...)) {
		t.Errorf("after the new filter's listing: %v", got)
	}

	// Reordering types is no change.
	m.Update(f2, []config.Discovery{dentry(1, []int{1}, []int{1}), dentry(3, []int{1}, nil)})
	if got := m.due(); len(got) != 0 {
		t.Errorf("due after an identical reload: %v", got)
	}

	m.Update(f2, nil)
	if len(m.Tasks()) != 0 || len(m.Enterprises()) != 0 {
		t.Errorf("after removing every entry: %v %v", m.Tasks(), m.Enterprises())
	}
	if n, _ := testutil.GatherAndCount(reg); n != 0 {
		t.Errorf("%d series left", n)
	}
}

// A listing that was running while the entry changed answers the old
// question; its result must not replace the new filter's.
func TestStaleListingDiscarded(t *testing.T) {
	f := newFake()
	f.set(1, 1, -1, 1, 2, 3)
	m, _ := newManager(t)
	m.Update(f, []config.Discovery{dentry(1, []int{1}, nil)})
	f.block = make(chan struct{})
	done := make(chan error)
	go func() { done <- m.Refresh(context.Background()) }()
	itest.WaitFor(t, func() bool { return f.callCount() == 1 })
	m.Update(f, []config.Discovery{dentry(1, []int{2}, nil)})
	close(f.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := m.Tasks(); len(got) != 0 {
		t.Errorf("stale listing recorded: %v", got)
	}
	if got := m.due(); !slices.Equal(got, []int64{1}) {
		t.Errorf("changed entry not due: %v", got)
	}
}

// Run lists in the background on each entry's interval, never before it,
// and picks up entries added while it runs.
func TestRun(t *testing.T) {
	f := newFake()
	f.set(1, 1, -1, 1)
	f.set(2, 1, -1, 2)
	m, _ := newManager(t)
	e1 := dentry(1, []int{1}, nil)
	e1.RefreshInterval = 50 * time.Millisecond
	m.Update(f, []config.Discovery{e1})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { m.Run(ctx); close(stopped) }()
	defer func() {
		cancel()
		<-stopped
	}()
	itest.WaitFor(t, func() bool { return slices.Equal(m.Tasks(), tasks(1, 1)) })
	itest.WaitFor(t, func() bool { return f.callCount() >= 3 })
	f.mu.Lock()
	for i := 1; i < 3; i++ {
		// 10 ms of slack: the schedule starts just before the call is timed.
		if gap := f.times[i].Sub(f.times[i-1]); gap < e1.RefreshInterval-10*time.Millisecond {
			t.Errorf("listings %d and %d %v apart at a %v interval", i-1, i, gap, e1.RefreshInterval)
		}
	}
	f.mu.Unlock()

	e2 := dentry(2, []int{1}, nil) // 5 minutes: listed once at once, then not again
	m.Update(f, []config.Discovery{e1, e2})
	itest.WaitFor(t, func() bool { return m.Has(task.Task{EnterpriseID: 2, TaskID: 2}) })

	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	n := 0
	for _, q := range f.queries() {
		if strings.HasPrefix(q, "2/") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("enterprise 2 listed %d times, want 1", n)
	}
}
