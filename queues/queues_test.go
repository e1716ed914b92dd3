package queues

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

type fakeLister struct {
	lists map[int64]*apiclient.QueueList
	err   error
	calls int
}

func (f *fakeLister) CloudListQueue(ctx context.Context, ent int64, pageSize int) (*apiclient.QueueList, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.lists[ent], nil
}

func TestQueuesRefreshKeepAndDrop(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	now := time.Unix(1_750_000_000, 0)
	m := New(Options{Registerer: reg, Now: func() time.Time { return now }})
	l := &fakeLister{lists: map[int64]*apiclient.QueueList{
		7000002: {Queues: []apiclient.Queue{
			{Qno: "1000", Description: "售后", ServiceLevel: apiclient.Int64{Value: 20, Valid: true}},
			{Qno: "1001", Description: "投诉"}, // no threshold given: no series
		}},
	}}
	m.Update(l, []Entry{{EnterpriseID: 7000002, RefreshInterval: 10 * time.Minute}})
	families := "dyvms_queue_info dyvms_queue_service_level_seconds dyvms_queue_list_errors_total"
	check := func(want string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), strings.Fields(families)...); err != nil {
			t.Error(err)
		}
	}
	head := `
# HELP dyvms_queue_list_errors_total Failed CloudListQueue listings (the previous queue list stays in use).
# TYPE dyvms_queue_list_errors_total counter
`
	// Before the first listing: no queue yet, errors at 0.
	check(head + `dyvms_queue_list_errors_total{enterprise_id="7000002"} 0
`)
	m.Refresh(context.Background())
	listed := `
# HELP dyvms_queue_info A queue of the enterprise (CloudListQueue): its number and name; always 1.
# TYPE dyvms_queue_info gauge
dyvms_queue_info{enterprise_id="7000002",queue="1000",queue_name="售后"} 1
dyvms_queue_info{enterprise_id="7000002",queue="1001",queue_name="投诉"} 1
# HELP dyvms_queue_service_level_seconds The queue's service-level threshold (CloudListQueue ServiceLevel): a call answered within it met the service level. Absent when the API gave none.
# TYPE dyvms_queue_service_level_seconds gauge
dyvms_queue_service_level_seconds{enterprise_id="7000002",queue="1000"} 20
`
	check(listed + head + `dyvms_queue_list_errors_total{enterprise_id="7000002"} 0
`)
	// Due again only after its interval.
	if ids := m.due(); len(ids) != 0 {
		t.Fatalf("due right after a listing: %v", ids)
	}
	now = now.Add(10 * time.Minute)
	if ids := m.due(); len(ids) != 1 {
		t.Fatalf("not due after its interval: %v", ids)
	}
	// A failed listing keeps the list and counts; it is retried sooner.
	l.err = errors.New("Throttling.User")
	m.Refresh(context.Background())
	check(listed + head + `dyvms_queue_list_errors_total{enterprise_id="7000002"} 1
`)
	if w, ok := m.nextWait(); !ok || w != RetryAfterFailure {
		t.Fatalf("retry in %v, want %v", w, RetryAfterFailure)
	}
	// A reload without the entry takes its series away.
	m.Update(l, nil)
	check("")
}

// Exclude leaves a family out of the scrape while the list stays in use
// (Queues still names them for the inbound poller), and nil brings it back.
func TestQueuesExclude(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(Options{Registerer: reg})
	m.Update(&fakeLister{lists: map[int64]*apiclient.QueueList{7: {Queues: []apiclient.Queue{
		{Qno: "1000", Description: "a", ServiceLevel: apiclient.Int64{Value: 20, Valid: true}},
	}}}}, []Entry{{EnterpriseID: 7, RefreshInterval: 10 * time.Minute}})
	m.Refresh(context.Background())
	count := func(name string) int {
		t.Helper()
		n, err := testutil.GatherAndCount(reg, name)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		exclude     []string
		info, level int
	}{
		{nil, 1, 1},
		{[]string{"dyvms_queue_info"}, 0, 1},
		{[]string{"dyvms_queue_service_level_seconds", "dyvms_inbound_calls_total"}, 1, 0},
		{Families(), 0, 0},
		{nil, 1, 1},
	} {
		m.Exclude(tc.exclude)
		if i, l := count("dyvms_queue_info"), count("dyvms_queue_service_level_seconds"); i != tc.info || l != tc.level {
			t.Errorf("exclude %v: %d info, %d level series; want %d, %d", tc.exclude, i, l, tc.info, tc.level)
		}
		if q := m.Queues(7); len(q) != 1 || count("dyvms_queue_list_errors_total") != 1 {
			t.Errorf("exclude %v: queues %v, the list or its errors lost", tc.exclude, q)
		}
	}
}
