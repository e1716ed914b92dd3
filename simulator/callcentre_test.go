package simulator

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// callCentreConfig: two predictive tasks whose agents also serve two busy
// inbound queues.
func callCentreConfig() Config {
	return Config{
		Seed:        5,
		Credentials: []Credential{testCred},
		Enterprises: []Enterprise{{ID: 7000002, Channels: 30, Tasks: []Task{
			{ID: 19, Name: "回访任务", Agents: intp(8), Numbers: intp(1_000_000), StartedAgo: Duration(10 * time.Minute),
				DialRatio: 1.2, AnswerProbability: floatp(0.4), TalkMean: Duration(40 * time.Second)},
			{ID: 20, Name: "营销", Agents: intp(6), Numbers: intp(1_000_000), StartedAgo: Duration(5 * time.Minute), DialRatio: 1.2},
		}, Inbound: &Inbound{TalkMean: Duration(90 * time.Second), Queues: []InboundQueue{
			{Qno: "1000", Name: "售后", CallsPerHour: 400, ServiceLevel: Duration(15 * time.Second), Patience: Duration(40 * time.Second)},
			{Qno: "1001", Name: "投诉", CallsPerHour: 150, Timeout: Duration(30 * time.Second), Patience: Duration(5 * time.Minute)},
		}}}},
	}
}

func ccAsk(s *Simulator, clock *FakeClock, action string, params map[string]string) *httptest.ResponseRecorder {
	return serve(s, testSigner{id: testCred.AccessKeyID, secret: testCred.AccessKeySecret}.request(params, reqOpts{action: action, date: clock.Now()}))
}

// strictDecode decodes an answer with no unknown field.
func strictDecode(t testing.TB, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if rec.Code != 200 {
		t.Fatalf("HTTP %d %s", rec.Code, rec.Body)
	}
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode: %v\n%s", err, rec.Body)
	}
}

type wireOnlineAgent struct {
	Cno, Name, BindTel, LoginTime, State           string
	LoginStatus, LoginStatusDuration, DeviceStatus int64
	DeviceStatusDuration                           int64
}

func onlineAgents(t testing.TB, s *Simulator, clock *FakeClock) []wireOnlineAgent {
	t.Helper()
	var r struct {
		RequestId, Code, Message string
		Data                     *struct{ AgentStatuses []wireOnlineAgent }
	}
	strictDecode(t, ccAsk(s, clock, actionListAgents, map[string]string{"EnterpriseId": "7000002"}), &r)
	if r.Code != "OK" || r.Data == nil {
		t.Fatalf("answer %+v", r)
	}
	return r.Data.AgentStatuses
}

type wireIbCdr struct {
	UniqueId, CallType, Hotline, Qno, StartTime, AnswerTime, BridgeTime, EndTime string
	BridgeDuration, TotalDuration, Status, StatusCode, EndReason, Cno            string
	AgentName, CalleeNumber, IvrName, CustomerNumber, CustomerAreaCode           string
	CustomerProvince, CustomerCity, NumberTrunk, NumberTrunkAreaCode             string
	LeaveQueueCode                                                               int64
	UserField                                                                    map[string]string
	RecordFile                                                                   []struct {
		File         string
		Monitor_type int64
		Type         string
	}
}

func unixOf(t testing.TB, v string) int64 {
	t.Helper()
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%q is not a string of Unix seconds", v)
	}
	return n
}

func ibPage(t testing.TB, s *Simulator, clock *FakeClock, params map[string]string) []wireIbCdr {
	t.Helper()
	var r struct {
		RequestId, Code, Message string
		Data                     *struct{ List []wireIbCdr }
	}
	strictDecode(t, ccAsk(s, clock, actionIbCdr, params), &r)
	if r.Code != "OK" || r.Data == nil {
		t.Fatalf("answer %+v", r)
	}
	return r.Data.List
}

// ibAll reads [from, to] by end time, page by page.
func ibAll(t testing.TB, s *Simulator, clock *FakeClock, from, to int64, limit int) ([]wireIbCdr, int) {
	t.Helper()
	var all []wireIbCdr
	for page := 0; ; page++ {
		list := ibPage(t, s, clock, map[string]string{"EnterpriseId": "7000002", "TimeRangeType": "2",
			"StartTime": fmt.Sprint(from), "EndTime": fmt.Sprint(to), "Start": fmt.Sprint(page * limit), "Limit": fmt.Sprint(limit)})
		all = append(all, list...)
		if len(list) < limit {
			return all, page + 1
		}
	}
}

var wantOnline = map[string]struct {
	login, device int64
	state         string
}{
	"stateIdle": {1, 0, "空闲"}, "statePause": {2, 0, "置忙"}, "stateWrapup": {3, 0, "整理"},
	"stateCalling": {1, 3, "响铃"}, "stateInuse": {1, 4, "通话"},
}

// TestOnlineAgentsAgreeWithMonitorTask: at every instant, the agents
// CloudListOnlineAgent lists are exactly those CloudMonitorTask shows with
// a state in their task, in the same state; and an agent answering an
// inbound call is busy in his task meanwhile (one pool of agents).
func TestOnlineAgentsAgreeWithMonitorTask(t *testing.T) {
	s, clock := newTestSim(t, callCentreConfig())
	start := clock.Now().Unix()
	type seen struct {
		at    int64
		state string
	}
	byCno := map[string][]seen{}
	inuseNoTaskCall := 0
	for step := range 150 {
		clock.Advance(7 * time.Second)
		online := onlineAgents(t, s, clock)
		got := map[string]wireOnlineAgent{}
		for _, a := range online {
			if _, dup := got[a.Cno]; dup {
				t.Fatalf("step %d: Cno %s listed twice", step, a.Cno)
			}
			got[a.Cno] = a
		}
		want := 0
		for _, task := range []int64{19, 20} {
			m, _ := monitor(t, s, clock, 7000002, task)
			for _, a := range m.Data.AgentStatisticList {
				byCno[a.Cno] = append(byCno[a.Cno], seen{clock.Now().Unix(), a.AgentStatus})
				o, listed := got[a.Cno]
				if a.AgentStatus == "" {
					if listed {
						t.Fatalf("step %d: agent %s offline in task %d but listed online: %+v", step, a.Cno, task, o)
					}
					continue
				}
				want++
				w := wantOnline[a.AgentStatus]
				if !listed || o.LoginStatus != w.login || o.DeviceStatus != w.device || o.State != w.state {
					t.Fatalf("step %d: agent %s is %s in task %d, online list says %+v", step, a.Cno, a.AgentStatus, task, o)
				}
			}
			// Agents talking beyond the task's own bridged calls are on
			// inbound calls.
			if extra := m.Data.AgentInfo.BridgeCount - m.Data.ChannelInfo.BridgedCount; extra > 0 {
				inuseNoTaskCall += int(extra)
			}
		}
		if len(online) != want {
			t.Fatalf("step %d: %d agents online, the tasks show %d", step, len(online), want)
		}
	}
	end := clock.Now().Unix()
	recs, _ := ibAll(t, s, clock, start, end, 1000)
	answered, checked := 0, 0
	for _, r := range recs {
		if r.StatusCode != "1" {
			continue
		}
		answered++
		bridge, finish := unixOf(t, r.BridgeTime), unixOf(t, r.EndTime)
		for _, x := range byCno[r.Cno] {
			if x.at > bridge && x.at < finish {
				checked++
				if x.state != "stateInuse" {
					t.Fatalf("agent %s talks on inbound call %s (%d..%d) but his task shows %q at %d", r.Cno, r.UniqueId, bridge, finish, x.state, x.at)
				}
			}
		}
	}
	if answered < 20 || checked < 20 {
		t.Fatalf("%d inbound calls answered, %d instants checked: the pool was not shared enough to test", answered, checked)
	}
	if inuseNoTaskCall == 0 {
		t.Fatal("no agent was ever busy in a task with an inbound call")
	}
	t.Logf("%d inbound records, %d answered, %d instants of an inbound call checked", len(recs), answered, checked)
}

// TestInboundRecords: outcomes and fields follow the vendor's rules, each
// call once, an ended call only; when every agent pauses, callers abandon
// or overflow; with no agent online they are not queued.
func TestInboundRecords(t *testing.T) {
	s, clock := newTestSim(t, callCentreConfig())
	start := clock.Now().Unix()
	clock.Advance(20 * time.Minute)
	for _, task := range []int64{19, 20} {
		if err := s.Scenario(Scenario{Enterprise: 7000002, Task: task, Name: ScenarioAgentsPause}); err != nil {
			t.Fatal(err)
		}
	}
	paused := clock.Now().Unix()
	clock.Advance(15 * time.Minute)
	for _, task := range []int64{19, 20} {
		if err := s.Scenario(Scenario{Enterprise: 7000002, Task: task, Name: ScenarioAgentsOffline}); err != nil {
			t.Fatal(err)
		}
	}
	offline := clock.Now().Unix()
	clock.Advance(10 * time.Minute)
	now := clock.Now().Unix()

	recs, pages := ibAll(t, s, clock, start, now, 100)
	if pages < 2 {
		t.Fatalf("%d records in %d pages", len(recs), pages)
	}
	type tally map[string]int
	phase := func(end int64) int {
		switch {
		case end <= paused:
			return 0
		case end <= offline+300: // callers waiting when agents left still time out
			return 1
		}
		return 2
	}
	counts := [3]tally{{}, {}, {}}
	ids := map[string]bool{}
	for _, r := range recs {
		if ids[r.UniqueId] {
			t.Fatalf("record %s twice", r.UniqueId)
		}
		ids[r.UniqueId] = true
		st, end := unixOf(t, r.StartTime), unixOf(t, r.EndTime)
		bridge := unixOf(t, r.BridgeTime)
		if end > now || end < start || st > end || r.CallType != "呼入" || r.CustomerNumber == "" {
			t.Fatalf("record %+v", r)
		}
		switch r.StatusCode {
		case "1":
			if bridge <= st || bridge >= end || r.LeaveQueueCode != 1 || r.Cno == "" || r.Qno == "-1" || r.Qno == "" {
				t.Fatalf("answered %+v", r)
			}
		case "15", "16":
			if bridge != 0 || r.Cno != "" || (r.StatusCode == "15") != (r.LeaveQueueCode == 2) || (r.StatusCode == "16") != (r.LeaveQueueCode == 3) {
				t.Fatalf("left the queue %+v", r)
			}
		case "3", "18", "19":
			if bridge != 0 || r.LeaveQueueCode != -1 || (r.Qno != "-1" && r.Qno != "") {
				t.Fatalf("not queued %+v", r)
			}
		default:
			t.Fatalf("status %s: %+v", r.StatusCode, r)
		}
		counts[phase(end)][r.StatusCode]++
	}
	t.Logf("by phase: %v", counts)
	if counts[0]["1"] < 50 || counts[1]["1"] > counts[0]["1"]/5 || counts[1]["15"]+counts[1]["16"] < 30 {
		t.Errorf("agents pausing did not turn answered calls into abandoned ones: %v", counts)
	}
	if counts[2]["18"] < 20 || counts[2]["1"] != 0 || counts[2]["15"]+counts[2]["16"] != 0 {
		t.Errorf("with no agent online calls should not be queued: %v", counts)
	}

	// Paging: a page at most Limit, no total count anywhere.
	if body := ccAsk(s, clock, actionIbCdr, map[string]string{"EnterpriseId": "7000002", "TimeRangeType": "2",
		"StartTime": fmt.Sprint(start), "EndTime": fmt.Sprint(now), "Limit": "1000"}).Body.String(); strings.Contains(body, `"Total":`) {
		t.Errorf("the answer has a total count")
	}
	// The vendor's rules: no window across a month, Limit up to 1000.
	loc, _ := time.LoadLocation("Asia/Shanghai")
	endOfMonth := time.Date(2025, 3, 31, 23, 59, 59, 0, loc).Unix()
	for name, params := range map[string]map[string]string{
		"across a month": {"EnterpriseId": "7000002", "StartTime": fmt.Sprint(endOfMonth), "EndTime": fmt.Sprint(endOfMonth + 1)},
		"limit 1001":     {"EnterpriseId": "7000002", "Limit": "1001"},
		"end before":     {"EnterpriseId": "7000002", "StartTime": fmt.Sprint(now), "EndTime": fmt.Sprint(now - 1)},
	} {
		rec := ccAsk(s, clock, actionIbCdr, params)
		if rec.Code == 200 && !strings.Contains(rec.Body.String(), `"Code":"`) || strings.Contains(rec.Body.String(), `"Code":"OK"`) {
			t.Errorf("%s: HTTP %d %s, want a refusal", name, rec.Code, rec.Body)
		}
	}
	// An answered call's record shows up only once the call has ended.
	s2, clock2 := newTestSim(t, callCentreConfig())
	clock2.Advance(10 * time.Minute)
	t2 := clock2.Now().Unix()
	for _, r := range ibPage(t, s2, clock2, map[string]string{"EnterpriseId": "7000002", "TimeRangeType": "1",
		"StartTime": fmt.Sprint(t2 - 600), "EndTime": fmt.Sprint(t2 + 3600), "Limit": "1000"}) {
		if unixOf(t, r.EndTime) > t2 {
			t.Fatalf("record of a call not yet ended: %+v", r)
		}
	}
}

// TestInboundIsDeterministic: the state at a second does not depend on
// how often or through which operation it was asked for.
func TestInboundIsDeterministic(t *testing.T) {
	a, ca := newTestSim(t, callCentreConfig())
	b, cb := newTestSim(t, callCentreConfig())
	for range 40 {
		ca.Advance(30 * time.Second)
		onlineAgents(t, a, ca)
		monitor(t, a, ca, 7000002, 20)
	}
	cb.Advance(20 * time.Minute)
	from, to := ca.Now().Add(-20*time.Minute).Unix(), ca.Now().Unix()
	ra, _ := ibAll(t, a, ca, from, to, 1000)
	rb, _ := ibAll(t, b, cb, from, to, 1000)
	if fmt.Sprint(ra) != fmt.Sprint(rb) || len(ra) == 0 {
		t.Fatalf("%d records asked step by step, %d at once: they differ", len(ra), len(rb))
	}
	if x, y := fmt.Sprint(onlineAgents(t, a, ca)), fmt.Sprint(onlineAgents(t, b, cb)); x != y {
		t.Fatalf("online agents differ:\n%s\n%s", x, y)
	}
}

func TestListQueue(t *testing.T) {
	s, clock := newTestSim(t, callCentreConfig())
	type wireQueue struct {
		Id, EnterpriseId, ServiceLevel, QueueTimeout, MaxLen, MemberTimeout, WrapupTime, Weight, Retry int64
		Qno, Description, Strategy, MusicClass, CreateTime                                             string
		SayAgentno                                                                                     bool
	}
	page := func(offset, limit string) (int64, []wireQueue) {
		var r struct {
			RequestId, Code, Message string
			Data                     *struct {
				Total int64
				List  []wireQueue
			}
		}
		strictDecode(t, ccAsk(s, clock, actionListQueue, map[string]string{"EnterpriseId": "7000002", "Offset": offset, "Limit": limit}), &r)
		return r.Data.Total, r.Data.List
	}
	total, list := page("0", "1")
	if total != 2 || len(list) != 1 || list[0].Qno != "1000" || list[0].Description != "售后" || list[0].ServiceLevel != 15 {
		t.Fatalf("first page: %d %+v", total, list)
	}
	if _, list := page("1", "500"); len(list) != 1 || list[0].Qno != "1001" || list[0].ServiceLevel != 20 || list[0].QueueTimeout != 30 {
		t.Fatalf("second page: %+v", list)
	}
	if rec := ccAsk(s, clock, actionListQueue, map[string]string{"EnterpriseId": "7000002", "Limit": "501"}); strings.Contains(rec.Body.String(), `"Code":"OK"`) {
		t.Fatalf("Limit 501 accepted: %s", rec.Body)
	}
}

// TestCallCentreFaults: the existing fault kinds apply to the new actions.
func TestCallCentreFaults(t *testing.T) {
	cfg := callCentreConfig()
	cfg.Faults = Faults{Rules: []FaultRule{
		{Kind: FaultThrottle, Action: actionListAgents, Probability: 1},
		{Kind: FaultStrings, Action: actionListQueue, Probability: 1},
		{Kind: FaultDuplicateCno, Action: actionListAgents, Probability: 1, Enterprise: 7000099},
	}}
	s, clock := newTestSim(t, cfg)
	clock.Advance(time.Minute)
	if rec := ccAsk(s, clock, actionListAgents, map[string]string{"EnterpriseId": "7000002"}); rec.Code == 200 || decodeError(t, rec).Code != "Throttling.User" {
		t.Fatalf("throttle: HTTP %d %s", rec.Code, rec.Body)
	}
	if body := ccAsk(s, clock, actionListQueue, map[string]string{"EnterpriseId": "7000002"}).Body.String(); !strings.Contains(body, `"ServiceLevel":"15"`) {
		t.Fatalf("strings fault: %s", body)
	}
	if rec := ccAsk(s, clock, actionIbCdr, map[string]string{"EnterpriseId": "7000002"}); rec.Code != 200 {
		t.Fatalf("an action without a fault failed: %d %s", rec.Code, rec.Body)
	}
}

func TestInboundConfig(t *testing.T) {
	base := "credentials: [{access_key_id: a, access_key_secret: b}]\nenterprises:\n  - id: 1\n    channels: 5\n    tasks: [{id: 2}]\n    inbound:\n"
	cfg, err := ParseConfig([]byte(base + "      queues:\n        - {qno: \"1000\", name: 售后, calls_per_hour: 240, service_level: 20s}\n        - {qno: \"1001\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, NewFakeClock(t0)); err != nil {
		t.Fatal(err)
	}
	in := cfg.Enterprises[0].Inbound
	if q := in.Queues[1]; q.Name != "队列1001" || q.ServiceLevel != Duration(20*time.Second) || q.Timeout != Duration(120*time.Second) ||
		in.TalkMean != Duration(3*time.Minute) || *in.IVROnly != 0.05 {
		t.Fatalf("defaults: %+v %+v", in, q)
	}
	for name, body := range map[string]string{
		"repeated qno":   "      queues: [{qno: \"1\"}, {qno: \"1\"}]\n",
		"no qno":         "      queues: [{name: x}]\n",
		"qno -1":         "      queues: [{qno: \"-1\"}]\n",
		"timeout":        "      queues: [{qno: \"1\", timeout: 1h}]\n",
		"rate":           "      queues: [{qno: \"1\", calls_per_hour: -1}]\n",
		"max_len":        "      queues: [{qno: \"1\", max_len: 1000}]\n",
		"ivr_only":       "      ivr_only: 2\n",
		"unknown key":    "      queue: []\n",
		"unknown in row": "      queues: [{qno: \"1\", colour: red}]\n",
	} {
		if _, err := ParseConfig([]byte(base + body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// At another speed an inbound window is read on the requester's clock, as
// a predictive one is: polling consecutive windows of the clock sees every
// record once, each with its EndTime inside the window that found it (the
// exporter's poller does not count a record ending after its window).
func TestInboundRecordWindowsFollowTheClockAtAnySpeed(t *testing.T) {
	for _, speed := range []float64{0.25, 4} {
		t.Run(fmt.Sprint(speed), func(t *testing.T) {
			cfg := callCentreConfig()
			cfg.Speed = speed
			begin := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
			clock := NewFakeClock(begin)
			s, err := New(cfg, clock)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			lo := clock.Now()
			for range 40 {
				clock.Advance(30 * time.Second)
				hi := clock.Now().Add(-2 * time.Second)
				recs, _ := ibAll(t, s, clock, lo.Unix(), hi.Unix(), 1000)
				for _, r := range recs {
					seen[r.UniqueId]++
					start, end := unixOf(t, r.StartTime), unixOf(t, r.EndTime)
					if end < lo.Unix() || end > hi.Unix() || unixOf(t, r.TotalDuration) != end-start {
						t.Fatalf("record %s ends at %d, window [%d, %d]; %s s long from %d", r.UniqueId, end, lo.Unix(), hi.Unix(), r.TotalDuration, start)
					}
				}
				lo = hi.Add(time.Second)
			}
			all, _ := ibAll(t, s, clock, begin.Unix(), clock.Now().Add(-2*time.Second).Unix(), 1000)
			if len(all) == 0 || len(seen) != len(all) {
				t.Fatalf("windows saw %d distinct records, the whole span has %d", len(seen), len(all))
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("record %s seen %d times", id, n)
				}
			}
		})
	}
}
