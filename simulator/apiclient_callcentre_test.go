package simulator

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// The exporter's client reads the three call-centre operations from the
// simulator as the test's strict reading does: the same agents in the same
// states, the queues with their thresholds, every inbound record once.
func TestApiclientReadsTheCallCentre(t *testing.T) {
	s, clock := newTestSim(t, callCentreConfig())
	srv := httptest.NewServer(s)
	defer srv.Close()
	start := clock.Now()
	clock.Advance(30 * time.Minute)
	c := ourClient(t, srv.URL, clock, testCred)
	ctx := context.Background()

	want := onlineAgents(t, s, clock)
	got, err := c.CloudListOnlineAgent(ctx, 7000002)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.AgentStatuses) != len(want) || len(want) == 0 || got.Duplicates != 0 || got.Unreadable != nil {
		t.Fatalf("apiclient read %d agents, the wire has %d", len(got.AgentStatuses), len(want))
	}
	for i, a := range got.AgentStatuses {
		w := want[i]
		if string(a.Cno) != w.Cno || a.LoginStatus.Value != w.LoginStatus || a.DeviceStatus.Value != w.DeviceStatus || string(a.State) != w.State ||
			!a.LoginTime.Valid {
			t.Fatalf("agent %d: apiclient %+v, wire %+v", i, a, w)
		}
	}

	queues, err := c.CloudListQueue(ctx, 7000002, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(queues.Queues) != 2 || queues.Pages != 3 || queues.Queues[0].ServiceLevel.Value != 15 || string(queues.Queues[1].Description) != "投诉" {
		t.Fatalf("queues %+v", queues)
	}

	res, err := c.CloudQueryIbCdr(ctx, apiclient.CdrQuery{EnterpriseID: 7000002, StartTime: start, EndTime: clock.Now(),
		TimeRangeType: apiclient.CdrByEndTime, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := ibAll(t, s, clock, start.Unix(), clock.Now().Unix(), 1000)
	if len(res.Records) != len(wire) || len(wire) < 100 || res.Pages < 3 {
		t.Fatalf("apiclient read %d records in %d pages, the wire has %d", len(res.Records), res.Pages, len(wire))
	}
	for i, r := range res.Records {
		w := wire[i]
		if r.Key() != w.UniqueId || r.StatusCode.Value != unixOf(t, w.StatusCode) || r.LeaveQueueCode.Value != w.LeaveQueueCode ||
			r.EndTime.Value != unixOf(t, w.EndTime) || string(r.Qno) != w.Qno {
			t.Fatalf("record %d: apiclient %+v, wire %+v", i, r, w)
		}
		if b, ok := apiclient.At(r.BridgeTime); ok != (w.BridgeTime != "") || ok && b != unixOf(t, w.BridgeTime) {
			t.Fatalf("record %d BridgeTime: apiclient %+v, wire %q", i, r.BridgeTime, w.BridgeTime)
		}
	}
}
