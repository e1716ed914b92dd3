package discovery

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/simulator"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// The real client against the simulator: paging and filters as the wire
// carries them, not as a fake imagines them.

func simulated(t *testing.T, yaml string) (*simulator.Simulator, *apiclient.Client) {
	t.Helper()
	cfg, err := simulator.ParseConfig([]byte("credentials: [{access_key_id: disc-key, access_key_secret: disc-secret}]\n" + yaml))
	if err != nil {
		t.Fatal(err)
	}
	// A clock that stands still keeps task statuses where the config put
	// them for the whole test.
	clock := simulator.NewFakeClock(time.Now())
	sim, err := simulator.New(cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := apiclient.New(apiclient.Options{
		Endpoint:    srv.URL,
		Credentials: apiclient.StaticCredentials{AccessKeyID: "disc-key", AccessKeySecret: "disc-secret"},
		Now:         clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

func TestPagingThroughSimulator(t *testing.T) {
	sim, c := simulated(t, `
generate: {enterprises: 2, tasks_per_enterprise: 250, agents_per_task: 1, first_enterprise_id: 9000001, first_task_id: 1001}
`)
	m, _ := newManager(t)
	m.Update(c, []config.Discovery{dentry(9000001, []int{1}, nil)})
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := m.Tasks()
	var want []task.Task
	for id := int64(1001); id <= 1250; id++ {
		want = append(want, task.Task{EnterpriseID: 9000001, TaskID: id})
	}
	if !slices.Equal(got, want) {
		t.Fatalf("found %d tasks, want the 250 of enterprise 9000001 (first %v)", len(got), got[:min(3, len(got))])
	}
	st := sim.Stats()
	// Pages of 100: 100 + 100 + 50, the short page ends the listing.
	if st.Actions["CloudQueryTask"] != 3 || st.Enterprises["9000001"] != 3 || st.Requests != 3 || st.Actions["CloudMonitorTask"] != 0 {
		t.Errorf("simulator saw %+v, want 3 CloudQueryTask pages for enterprise 9000001 and nothing else", st)
	}
}

func TestStatusFilterThroughSimulator(t *testing.T) {
	// Enterprise 7100001: predictive tasks in each status, two automatic.
	sim, c := simulated(t, `
enterprises:
  - id: 7100001
    channels: 10
    tasks:
      - {id: 1, status: 0}
      - {id: 2, status: 1}
      - {id: 3, status: 2, started_ago: 1m}
      - {id: 4, status: 3, started_ago: 1m}
      - {id: 5, status: 1}
      - {id: 6, type: 2, status: 1}
      - {id: 7, type: 2, status: 2, started_ago: 1m}
  - id: 7100002
    channels: 10
    tasks:
      - {id: 8, status: 1}
`)
	for _, tc := range []struct {
		types, statuses []int
		want            []int64
		calls           uint64
	}{
		{[]int{1}, nil, []int64{1, 2, 3, 4, 5}, 1},
		{[]int{1}, []int{1}, []int64{2, 5}, 1},
		{[]int{1, 2}, []int{1, 2}, []int64{2, 3, 5, 6, 7}, 4},
		{[]int{2}, []int{0, 3}, nil, 2},
	} {
		t.Run(fmt.Sprintf("types=%v statuses=%v", tc.types, tc.statuses), func(t *testing.T) {
			sim.ResetStats()
			m, _ := newManager(t)
			m.Update(c, []config.Discovery{dentry(7100001, tc.types, tc.statuses)})
			if err := m.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := m.Tasks(); !slices.Equal(got, tasks(7100001, tc.want...)) {
				t.Errorf("got %v, want %v", got, tasks(7100001, tc.want...))
			}
			if n := sim.Stats().Actions["CloudQueryTask"]; n != tc.calls {
				t.Errorf("%d CloudQueryTask calls, want %d (one per type and status)", n, tc.calls)
			}
		})
	}
}
