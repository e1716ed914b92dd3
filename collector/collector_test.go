package collector

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// fakeAPI answers from a table; a missing task is an error, a nil answer in
// the table makes the call panic (a bug somewhere below the collector).
type fakeAPI struct {
	answers  map[Task]*apiclient.CloudMonitorTaskResponse
	errs     map[Task]error
	block    map[Task]bool
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	calls    atomic.Int32
}

func (f *fakeAPI) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	f.calls.Add(1)
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	k := Task{EnterpriseID: e, TaskID: t}
	if f.block[k] {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err := f.errs[k]; err != nil {
		return nil, err
	}
	resp, ok := f.answers[k]
	if !ok {
		return nil, errors.New("no such task")
	}
	if resp == nil {
		panic("simulated bug")
	}
	// Give other goroutines a chance to overlap, so the concurrency bound is exercised.
	time.Sleep(time.Millisecond)
	return resp, nil
}

func i64(v int64) apiclient.Int64 { return apiclient.Int64{Value: v, Valid: true} }

func f64(v float64) apiclient.Float64 { return apiclient.Float64{Value: v, Valid: true} }

func smallAnswer() *apiclient.CloudMonitorTaskResponse {
	agent := func(cno, name, status string, limit float64) apiclient.AgentStatistic {
		return apiclient.AgentStatistic{Cno: apiclient.Text(cno), Name: apiclient.Text(name), AgentStatus: apiclient.Text(status),
			CalledCount: f64(5), BridgeCount: f64(4), NoBridgeCount: f64(1), TodayAnsweredCount: f64(2),
			EnterpriseTodayAnsweredCount: f64(3), CallLimit: f64(limit), EnterpriseCallLimit: f64(-1),
			AvgBridgeTime: f64(30.5), AgentAvgIdleTime: f64(12), BridgeIn2sRate: f64(0.5)}
	}
	return &apiclient.CloudMonitorTaskResponse{Code: "OK", Data: &apiclient.MonitorData{
		Statistic: apiclient.TaskStatistic{
			CtiLinkTaskProperty: apiclient.TaskProperty{ID: i64(19), Name: "t", Status: i64(1), StatusDescription: "running"},
			AgentCount:          f64(2), CalledCount: f64(10), AnswerCount: f64(6), UncalledCount: f64(90), CallAgentCount: f64(5),
		},
		TodayStatistic: apiclient.TaskStatistic{AgentCount: f64(2), CalledCount: f64(3)}, // the rest absent
		ChannelInfo:    apiclient.ChannelInfo{ChannelCount: f64(3), EnterpriseChannelCount: f64(30), BridgedCount: f64(1), AnswerCount: f64(2), WaitAgentCount: f64(1), WaitAnswerCount: f64(1), IvrCount: f64(0)},
		AgentInfo:      apiclient.AgentInfo{TotalCount: f64(3), OnlineCount: f64(2), AvailableCount: f64(1), RingingCount: f64(0), BridgeCount: f64(1), WrapupCount: f64(0)},
		AgentStatisticList: []apiclient.AgentStatistic{
			agent("1001", "Ann", "stateInuse", 100),
			agent("1002", "Bob", "stateOnMars", -1),
			agent("1001", "Ann again", "stateIdle", 100), // repeated cno: dropped, counted
		},
		RemovedAgentStatisticList: []apiclient.AgentStatistic{agent("1001", "Ann (removed)", "", -1)},
	}}
}

// series returns "name{labels} value" lines for every sample of the given task.
func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return mfs
}

func seriesOfTask(mfs []*dto.MetricFamily, ent, task string) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var e, tk string
			var rest []string
			for _, l := range m.Label {
				switch l.GetName() {
				case "enterprise_id":
					e = l.GetValue()
				case "task_id":
					tk = l.GetValue()
				default:
					rest = append(rest, l.GetName()+"="+l.GetValue())
				}
			}
			if e == ent && tk == task {
				out[mf.GetName()+"{"+strings.Join(rest, ",")+"}"] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestFailureIsolation(t *testing.T) {
	api := &fakeAPI{
		answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 1, TaskID: 1}: smallAnswer(), {EnterpriseID: 1, TaskID: 3}: nil, {EnterpriseID: 1, TaskID: 4}: {Code: "OK"}},
		errs:    map[Task]error{{EnterpriseID: 1, TaskID: 2}: &apiclient.Error{Code: "Throttling.User", Message: "slow down"}},
	}
	var reported []string
	var mu sync.Mutex
	e := New(context.Background(), api, []Task{{EnterpriseID: 1, TaskID: 1}, {EnterpriseID: 1, TaskID: 2}, {EnterpriseID: 1, TaskID: 3}, {EnterpriseID: 1, TaskID: 4}}, Options{OnError: func(t Task, err error) {
		mu.Lock()
		reported = append(reported, t.String())
		mu.Unlock()
	}})
	mfs := gather(t, e)

	good := seriesOfTask(mfs, "1", "1")
	if good["dyvms_task_scrape_success{}"] != 1 {
		t.Errorf("healthy task: scrape_success = %v, want 1", good["dyvms_task_scrape_success{}"])
	}
	if len(good) < 40 {
		t.Errorf("healthy task exported only %d series", len(good))
	}
	for _, task := range []string{"2", "3", "4"} { // throttled, panicking, no Data
		got := seriesOfTask(mfs, "1", task)
		if len(got) != 2 || got["dyvms_task_scrape_success{}"] != 0 {
			t.Errorf("failed task %s: want only scrape_success 0 and duration, got %v", task, got)
		}
		if _, ok := got["dyvms_task_scrape_duration_seconds{}"]; !ok {
			t.Errorf("failed task %s has no duration", task)
		}
	}
	if len(reported) != 3 {
		t.Errorf("errors reported for %v, want the 3 failed tasks", reported)
	}
}

func TestAgentMapping(t *testing.T) {
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 7, TaskID: 19}: smallAnswer()}}
	got := seriesOfTask(gather(t, New(context.Background(), api, []Task{{EnterpriseID: 7, TaskID: 19}}, Options{})), "7", "19")
	want := map[string]float64{
		"dyvms_agent_info{agent_name=Ann,cno=1001,removed=false}":             1,
		"dyvms_agent_info{agent_name=Ann (removed),cno=1001,removed=true}":    1,
		"dyvms_agent_status{cno=1001,removed=false,status=inuse}":             1,
		"dyvms_agent_status{cno=1001,removed=false,status=idle}":              0,
		"dyvms_agent_status{cno=1002,removed=false,status=unknown}":           1,
		"dyvms_agent_status{cno=1001,removed=true,status=none}":               1,
		"dyvms_agent_call_limit{cno=1001,removed=false}":                      100,
		"dyvms_agent_average_bridge_duration_seconds{cno=1002,removed=false}": 30.5,
		"dyvms_task_duplicate_agent_rows{}":                                   1,
		"dyvms_task_status{status=running}":                                   1,
		"dyvms_task_status{status=unknown}":                                   0,
		"dyvms_task_today_called{}":                                           3,
		"dyvms_enterprise_channels{}":                                         30,
	}
	checkSeries(t, got, want, []string{
		"dyvms_agent_call_limit{cno=1002,removed=false}",            // -1: no limit
		"dyvms_agent_enterprise_call_limit{cno=1001,removed=false}", // -1
		"dyvms_agent_info{agent_name=Ann again,cno=1001,removed=false}",
		"dyvms_task_today_answered{}", // absent in the answer: no made-up zero
		"dyvms_task_start_timestamp_seconds{}",
	})
	// Every state set has exactly one 1 per agent.
	ones := map[string]int{}
	for k, v := range got {
		if strings.HasPrefix(k, "dyvms_agent_status{") {
			agent := k[:strings.Index(k, ",status=")]
			ones[agent] += int(v)
		}
	}
	if len(ones) != 3 {
		t.Errorf("state sets for %d agents, want 3: %v", len(ones), ones)
	}
	for a, n := range ones {
		if n != 1 {
			t.Errorf("%s: %d states are 1", a, n)
		}
	}
}

func TestRepeatedTaskReadOnce(t *testing.T) {
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 7, TaskID: 19}: smallAnswer()}}
	gather(t, New(context.Background(), api, []Task{{EnterpriseID: 7, TaskID: 19}, {EnterpriseID: 7, TaskID: 19}}, Options{}))
	if n := api.calls.Load(); n != 1 {
		t.Errorf("API called %d times for a task listed twice, want 1", n)
	}
}

func TestConcurrencyBound(t *testing.T) {
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{}}
	var tasks []Task
	for i := int64(1); i <= 40; i++ {
		tasks = append(tasks, Task{EnterpriseID: 1, TaskID: i})
		api.answers[Task{EnterpriseID: 1, TaskID: i}] = smallAnswer()
	}
	gather(t, New(context.Background(), api, tasks, Options{Concurrency: 3}))
	if m := api.maxSeen.Load(); m > 3 || m < 1 {
		t.Errorf("max concurrent calls = %d, want 1..3", m)
	}
	if n := api.calls.Load(); n != 40 {
		t.Errorf("calls = %d, want 40", n)
	}
}

func TestDeadlineFailsOnlySlowTasks(t *testing.T) {
	api := &fakeAPI{
		answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 1, TaskID: 1}: smallAnswer()},
		block:   map[Task]bool{{EnterpriseID: 1, TaskID: 2}: true},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	mfs := gather(t, New(ctx, api, []Task{{EnterpriseID: 1, TaskID: 1}, {EnterpriseID: 1, TaskID: 2}}, Options{}))
	if v := seriesOfTask(mfs, "1", "1")["dyvms_task_scrape_success{}"]; v != 1 {
		t.Errorf("fast task success = %v", v)
	}
	slow := seriesOfTask(mfs, "1", "2")
	if len(slow) != 2 || slow["dyvms_task_scrape_success{}"] != 0 {
		t.Errorf("task past the deadline: %v", slow)
	}
}
