package simulator

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// The exporter's own client against the simulator: accepted with an
// AccessKey and with STS, and its decoding agrees with the test's strict
// reading of the same answer. (The simulator itself never imports apiclient.)

func ourClient(t *testing.T, srvURL string, clock *FakeClock, cred Credential) *apiclient.Client {
	t.Helper()
	c, err := apiclient.New(apiclient.Options{
		Endpoint: srvURL,
		Credentials: apiclient.StaticCredentials{AccessKeyID: cred.AccessKeyID,
			AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken},
		Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestApiclientAccepted(t *testing.T) {
	cfg := testConfig()
	s, clock := newTestSim(t, cfg)
	srv := httptest.NewServer(s)
	defer srv.Close()
	clock.Advance(time.Hour)
	want, _ := monitor(t, s, clock, 7000002, 19)

	for _, cred := range cfg.Credentials {
		t.Run(cred.AccessKeyID, func(t *testing.T) {
			s.ResetStats()
			c := ourClient(t, srv.URL, clock, cred)
			got, err := c.CloudMonitorTask(context.Background(), 7000002, 19)
			if err != nil {
				t.Fatal(err)
			}
			d := got.Data
			st := d.Statistic
			if st.CalledCount.Value != float64(want.Data.Statistic.CalledCount) || d.TodayStatistic.CtiLinkTaskProperty.Status.Value != 1 ||
				st.CtiLinkTaskProperty.Status.Value != 1 || len(d.AgentStatisticList) != 50 || len(d.RemovedAgentStatisticList) != 2 {
				t.Fatalf("apiclient read %+v", st)
			}
			if start := st.CtiLinkTaskProperty.StartTime; !start.Valid || !start.Time.Equal(t0.Add(-30*time.Minute)) ||
				st.CtiLinkTaskProperty.OverTime.Valid {
				t.Fatalf("StartTime %+v OverTime %+v", start, st.CtiLinkTaskProperty.OverTime)
			}
			for i, a := range d.AgentStatisticList {
				w := want.Data.AgentStatisticList[i]
				avg, _ := strconv.ParseFloat(w.AvgBridgeTime, 64)
				if string(a.Cno) != w.Cno || string(a.AgentStatus) != w.AgentStatus || a.BridgeCount.Value != float64(w.BridgeCount) ||
					a.AvgBridgeTime.Value != avg || a.BridgeIn2sRate.Value != w.BridgeIn2sRate || a.CallLimit.Value != -1 {
					t.Fatalf("agent %d: apiclient %+v, wire %+v", i, a, w)
				}
			}

			tasks, err := c.CloudQueryTask(context.Background(), apiclient.TaskQuery{EnterpriseID: 7000002, Type: 1, PageSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(tasks) != 2 || tasks[0].ID.Value != 19 || tasks[1].ID.Value != 20 || tasks[0].EnterpriseID.Value != 7000002 ||
				!tasks[0].CreateTime.Valid {
				t.Fatalf("CloudQueryTask: %+v", tasks)
			}
			if st := s.Stats(); st.Tasks["7000002/19"] != 1 || st.Enterprises["7000002"] != 3 || st.Codes["OK"] != 4 {
				t.Fatalf("stats: %+v (want 1 monitor call, 3 pages of 1)", st)
			}
		})
	}
}

func TestApiclientSeesFaults(t *testing.T) {
	s, clock := faultSim(t, FaultRule{Kind: FaultThrottle, Task: 19, TimeLeft: Duration(2500 * time.Millisecond)},
		FaultRule{Kind: FaultStrings, Task: 20})
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := ourClient(t, srv.URL, clock, testCred)

	_, err := c.CloudMonitorTask(context.Background(), 7000002, 19)
	var e *apiclient.Error
	if !errors.As(err, &e) || e.Code != "Throttling.User" || e.RetryAfter != 2500*time.Millisecond || !apiclient.IsRetryable(err) {
		t.Fatalf("throttled call: %v", err)
	}

	got, err := c.CloudMonitorTask(context.Background(), 7000002, 20)
	if err != nil {
		t.Fatalf("numbers as strings: %v", err)
	}
	if got.Data.ChannelInfo.EnterpriseChannelCount.Value != 40 || got.Data.Statistic.CtiLinkTaskProperty.ID.Value != 20 ||
		len(got.Data.AgentStatisticList) != 5 || !got.Data.AgentStatisticList[0].CallLimit.Valid {
		t.Fatalf("numbers as strings decoded as %+v", got.Data.Statistic)
	}
}

// apiclient reads the simulator's call records as the strict wire reading
// does: the same records, every time field the same second, across the
// pages of a window that crosses the call centre's month.
func TestApiclientReadsCallRecords(t *testing.T) {
	// 00:20 on 1 April in Shanghai, with three hours of history: the last
	// hour's window crosses from March into April.
	clock := NewFakeClock(time.Date(2025, 3, 31, 16, 20, 0, 0, time.UTC))
	s, err := New(cdrConfig(), clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := ourClient(t, srv.URL, clock, testCred)
	from, to := clock.Now().Add(-time.Hour), clock.Now().Add(-time.Second)
	loc := mustLoc(t, "Asia/Shanghai")
	var want []wireCdr
	for _, part := range apiclient.SplitByMonth(from, to, loc) {
		recs, _ := cdrAll(t, s, clock, 7000002, part[0], part[1], 2, 1000)
		want = append(want, recs...)
	}
	for _, faults := range [][]FaultRule{nil, {{Kind: FaultStrings, Action: actionCdr}}} {
		if err := s.SetFaults(Faults{Rules: faults}); err != nil {
			t.Fatal(err)
		}
		res, err := c.CloudQueryPredictiveCallCdr(context.Background(), apiclient.CdrQuery{EnterpriseID: 7000002,
			StartTime: from, EndTime: to, TimeRangeType: apiclient.CdrByEndTime, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) != len(want) || len(want) < 200 || res.Pages < 4 {
			t.Fatalf("apiclient read %d records in %d pages, the wire %d", len(res.Records), res.Pages, len(want))
		}
		for i, r := range res.Records {
			w := want[i]
			start, answer, offer, bridge, end := w.times(t)
			got := []int64{r.StartTime.Value, r.RealAnswerTime.Value, r.DetailRingingTime.Value, r.BridgeTime.Value, r.EndTime.Value}
			if r.Key() != w.UniqueId || fmt.Sprint(got) != fmt.Sprint([]int64{start, answer, offer, bridge, end}) ||
				r.TaskID.Value != 19 || fmt.Sprint(r.StatusCode.Value) != w.StatusCode || fmt.Sprint(r.WaitDuration.Value) != w.WaitDuration {
				t.Fatalf("record %d: apiclient %+v, wire %+v", i, r, w)
			}
		}
	}
}
