package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wireCdr reads a record strictly: every scalar as the string the
// vendor's SDK types it as, TaskId as either.
type wireCdr struct {
	Id, UniqueId, CallId                                               string
	TaskId                                                             json.RawMessage
	TaskName, TaskFileId                                               string
	StartTime, CalleeRingingTime, AnswerTime, RealAnswerTime           string
	DetailRingingTime, BridgeTime, EndTime                             string
	WaitDuration, BridgeDuration, TotalDuration                        string
	Status, StatusCode, IsRealAnswer, SipCause, SipCauseStr, EndReason string
	Cno, AgentName, CalleeNumber, Gno, Qno, IvrName                    string
	VadIn, VadOut, DownGrade, DownGradeCounts                          string
	CustomerNumber, CustomerProvince, CustomerCity, Clid               string
	DisplayNumber, CalleeClid, CalleeDisplayNumber, XNumber            string
	NumberTrunk, TrunkGroupKey, CallType, RequestUniqueId              string
	UserField                                                          map[string]string
	RecordFile                                                         []struct{ FileName, Url string }
}

func (r wireCdr) unix(t testing.TB, field, v string) int64 {
	t.Helper()
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("record %s: %s = %q is not Unix seconds", r.UniqueId, field, v)
	}
	return n
}

// times returns start, answer, offer, bridge, end.
func (r wireCdr) times(t testing.TB) (start, answer, offer, bridge, end int64) {
	return r.unix(t, "StartTime", r.StartTime), r.unix(t, "RealAnswerTime", r.RealAnswerTime),
		r.unix(t, "DetailRingingTime", r.DetailRingingTime), r.unix(t, "BridgeTime", r.BridgeTime), r.unix(t, "EndTime", r.EndTime)
}

type wireCdrPage struct {
	RequestId, Code, Message string
	Data                     *struct{ List []wireCdr }
}

func cdrAsk(s *Simulator, clock *FakeClock, params map[string]string) *httptest.ResponseRecorder {
	return serve(s, testSigner{id: testCred.AccessKeyID, secret: testCred.AccessKeySecret}.request(params, reqOpts{action: actionCdr, date: clock.Now()}))
}

// cdrPage asks for one page and decodes it strictly.
func cdrPage(t testing.TB, s *Simulator, clock *FakeClock, params map[string]string) []wireCdr {
	t.Helper()
	rec := cdrAsk(s, clock, params)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s %v: HTTP %d %s", actionCdr, params, rec.Code, rec.Body)
	}
	var p wireCdrPage
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decode: %v\n%.500s", err, rec.Body)
	}
	if p.Code != "OK" || p.Data == nil {
		t.Fatalf("not OK: %.500s", rec.Body)
	}
	return p.Data.List
}

// cdrAll pages through a window with Limit limit until a short page.
func cdrAll(t testing.TB, s *Simulator, clock *FakeClock, ent int64, from, to time.Time, rangeType, limit int) ([]wireCdr, int) {
	t.Helper()
	var all []wireCdr
	for page := 0; ; page++ {
		params := map[string]string{"EnterpriseId": fmt.Sprint(ent), "StartTime": fmt.Sprint(from.Unix()), "EndTime": fmt.Sprint(to.Unix()),
			"TimeRangeType": fmt.Sprint(rangeType), "Start": fmt.Sprint(page * limit), "Limit": fmt.Sprint(limit)}
		list := cdrPage(t, s, clock, params)
		all = append(all, list...)
		if len(list) < limit {
			return all, page + 1
		}
	}
}

// cdrConfig: one predictive task whose history crosses the call centre's
// midnight (t0 is 17:30 in Shanghai; the clock is set to 01:30 the next
// day with three hours of history), and an automatic one.
func cdrConfig() Config {
	return Config{
		Seed:        11,
		Credentials: []Credential{testCred},
		Enterprises: []Enterprise{{ID: 7000002, Channels: 30, Tasks: []Task{
			{ID: 19, Name: "回访任务", Agents: intp(12), Numbers: intp(1_000_000), StartedAgo: Duration(3 * time.Hour),
				DialRatio: 2.5, AnswerProbability: floatp(0.6), TalkMean: Duration(40 * time.Second)},
			{ID: 21, Name: "auto", Type: 2, Numbers: intp(100000), Concurrency: 5, StartedAgo: Duration(time.Hour)},
		}}},
	}
}

var cdrNow = time.Date(2025, 3, 10, 17, 30, 0, 0, time.UTC) // 01:30 on 11 March in Shanghai

func TestCallRecordsAgreeWithTodayStatistic(t *testing.T) {
	clock := NewFakeClock(cdrNow)
	s, err := New(cdrConfig(), clock)
	if err != nil {
		t.Fatal(err)
	}
	loc := mustLoc(t, "Asia/Shanghai")
	midnight := time.Date(2025, 3, 11, 0, 0, 0, 0, loc).Unix()

	m, _ := monitor(t, s, clock, 7000002, 19)
	// By start time from well before midnight: every call that could have
	// been answered or offered today, whenever it was dialled.
	recs, pages := cdrAll(t, s, clock, 7000002, time.Unix(midnight-3*3600, 0), clock.Now(), 1, 1000)
	if pages < 2 {
		t.Fatalf("%d records in %d page(s): the test wants several pages", len(recs), pages)
	}
	k := s.enterprises[7000002].byID[19]
	var (
		dialled, answered, offered, notConnected, late int64
		inProgressOffered                              int64
		seen                                           = map[string]bool{}
	)
	for _, r := range recs {
		if seen[r.UniqueId] {
			t.Fatalf("record %s twice", r.UniqueId)
		}
		seen[r.UniqueId] = true
		if string(r.TaskId) != "19" && string(r.TaskId) != `"19"` {
			t.Fatalf("record of task %s: an automatic task writes no records", r.TaskId)
		}
		start, answer, offer, bridge, end := r.times(t)
		checkRecord(t, r, start, answer, offer, bridge, end)
		if start >= midnight {
			dialled++
		}
		if answer >= midnight {
			answered++
			if bridge == 0 {
				notConnected++
			} else if bridge-answer > 2 {
				late++
			}
		}
		if offer >= midnight {
			offered++
		}
	}
	k.mu.Lock()
	for _, c := range k.calls {
		if c.offeredAt >= midnight {
			inProgressOffered++
		}
	}
	todayIVR := k.todayIVR
	k.mu.Unlock()

	today, ch := m.Data.TodayStatistic, m.Data.ChannelInfo
	// Calls in progress have no record yet; all were dialled today (the
	// longest call is minutes, midnight was 90 minutes ago).
	if dialled+ch.ChannelCount != today.CalledCount {
		t.Errorf("records dialled today %d + in progress %d != TodayStatistic.CalledCount %d", dialled, ch.ChannelCount, today.CalledCount)
	}
	if answered+ch.AnswerCount != today.AnswerCount {
		t.Errorf("records answered today %d + answered in progress %d != TodayStatistic.AnswerCount %d", answered, ch.AnswerCount, today.AnswerCount)
	}
	if offered+inProgressOffered != today.CallAgentCount {
		t.Errorf("records put through today %d + in progress %d != TodayStatistic.CallAgentCount %d", offered, inProgressOffered, today.CallAgentCount)
	}
	// Abandoned and never connected: exactly the customers the model sent
	// to the IVR today (overflow after 2 s of waiting, or a missed agent),
	// less those still listening to it.
	if notConnected+ch.IvrCount != todayIVR {
		t.Errorf("answered, never connected today %d + in the IVR now %d != IVR overflows today %d", notConnected, ch.IvrCount, todayIVR)
	}
	// Connected, but the agent rang more than 2 s: exactly what the agents'
	// BridgeIn2sRate counters (bridged - within 2 s) count, over the
	// task's whole history (every record is still kept), plus the calls
	// being talked now.
	all, _ := cdrAll(t, s, clock, 7000002, time.Unix(midnight-24*3600, 0), clock.Now(), 1, 1000)
	var slowRecords, slowAgents int64
	for _, r := range all {
		if _, _, offer, bridge, _ := r.times(t); bridge != 0 && bridge-offer > 2 {
			slowRecords++
		}
	}
	k.mu.Lock()
	for _, a := range k.agents {
		slowAgents += a.bridged - a.in2s
	}
	for _, c := range k.calls {
		if c.bridgeAt != 0 && c.bridgeAt-c.offeredAt > 2 {
			slowAgents--
		}
	}
	dropped := k.cdrs.dropped
	k.mu.Unlock()
	if dropped != 0 || slowRecords != slowAgents || slowRecords == 0 {
		t.Errorf("records bridged more than 2 s after the agent rang: %d; the agents' counters say %d (%d records dropped)", slowRecords, slowAgents, dropped)
	}
	if answered == 0 || notConnected == 0 || late == 0 || dialled == answered {
		t.Errorf("the run lacks a kind of call: answered %d, not connected %d, connected after 2 s %d, dialled %d", answered, notConnected, late, dialled)
	}
	t.Logf("today: %d dialled, %d answered, %d put through, %d never connected, %d connected after > 2 s, in %d records (%d pages)",
		today.CalledCount, today.AnswerCount, today.CallAgentCount, notConnected, late, len(recs), pages)
}

// checkRecord checks a record against itself: times in order, durations
// the differences of its times, the status code the outcome's.
func checkRecord(t testing.TB, r wireCdr, start, answer, offer, bridge, end int64) {
	t.Helper()
	fail := func(why string) { t.Helper(); t.Fatalf("record %s: %s: %+v", r.UniqueId, why, r) }
	switch {
	case start == 0 || end < start:
		fail("no start, or ends before it starts")
	case answer != 0 && (answer < start || answer > end):
		fail("answered outside the call")
	case offer != 0 && (answer == 0 || offer < answer || offer > end):
		fail("offered to an agent outside the answered part")
	case bridge != 0 && (offer == 0 || bridge < offer || bridge > end):
		fail("bridged without an offer or outside the call")
	case r.TotalDuration != fmt.Sprint(end-start):
		fail("TotalDuration is not EndTime - StartTime")
	case bridge != 0 && r.BridgeDuration != fmt.Sprint(end-bridge):
		fail("BridgeDuration is not EndTime - BridgeTime")
	case bridge != 0 && r.WaitDuration != fmt.Sprint(bridge-answer):
		fail("WaitDuration is not BridgeTime - RealAnswerTime")
	}
	want := map[bool]string{true: "43", false: "41"}[bridge != 0]
	if answer == 0 {
		want = "40"
	}
	if r.StatusCode != want {
		fail("StatusCode " + r.StatusCode + ", want " + want)
	}
	if (answer != 0) != (r.IsRealAnswer == "1") {
		fail("IsRealAnswer disagrees with RealAnswerTime")
	}
}

func TestCallRecordsAfterAgentsPauseAreAbandoned(t *testing.T) {
	clock := NewFakeClock(cdrNow)
	s, err := New(cdrConfig(), clock)
	if err != nil {
		t.Fatal(err)
	}
	monitor(t, s, clock, 7000002, 19)
	paused := s.simNow(clock.Now())
	if err := s.Scenario(Scenario{Enterprise: 7000002, Task: 19, Name: ScenarioAgentsPause}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Minute)
	recs, _ := cdrAll(t, s, clock, 7000002, time.Unix(paused+1, 0), clock.Now(), 2, 1000)
	n := 0
	for _, r := range recs {
		_, answer, _, bridge, _ := r.times(t)
		// Customers who answer after the pause find every agent paused
		// (the busy ones pause when their call ends): they wait for
		// nobody and overflow.
		if answer > paused {
			n++
			if bridge != 0 {
				t.Fatalf("record %s: bridged at %d although every agent paused at %d", r.UniqueId, bridge, paused)
			}
			if r.IvrName == "" || r.WaitDuration != fmt.Sprint(overflowAfter) {
				t.Fatalf("record %s: not an IVR overflow after %d s: %+v", r.UniqueId, overflowAfter, r)
			}
		}
	}
	if n == 0 {
		t.Fatal("no customer answered after the pause")
	}
}

func TestCallRecordsEnforceTheAPIRules(t *testing.T) {
	clock := NewFakeClock(cdrNow)
	s, err := New(cdrConfig(), clock)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	now := clock.Now()
	base := func(kv ...string) map[string]string {
		p := map[string]string{"EnterpriseId": "7000002", "StartTime": fmt.Sprint(now.Add(-time.Hour).Unix()), "EndTime": fmt.Sprint(now.Unix())}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	for _, tc := range []struct {
		name     string
		params   map[string]string
		status   int
		code, in string
	}{
		{"Limit above 1000", base("Limit", "1001"), 400, "InvalidParameter", "Limit"},
		{"Limit 0", base("Limit", "0"), 400, "InvalidParameter", "Limit"},
		{"negative Start", base("Start", "-1"), 400, "InvalidParameter", "Start"},
		{"TimeRangeType 3", base("TimeRangeType", "3"), 400, "InvalidParameter", "TimeRangeType"},
		// 28 February 23:00 to 1 March 01:00, Shanghai.
		{"window across a month", base("StartTime", "1740754800", "EndTime", "1740762000"), 200, "isv.INVALID_PARAMETERS", "same month"},
		{"window ends before it starts", base("StartTime", fmt.Sprint(now.Unix()), "EndTime", fmt.Sprint(now.Unix()-1)), 200, "isv.INVALID_PARAMETERS", "before"},
		{"unknown task", base("TaskId", "99"), 200, "isv.INVALID_PARAMETERS", "TaskId 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := cdrAsk(s, clock, tc.params)
			var e struct{ Code, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.in) {
				t.Fatalf("HTTP %d %s, want %d %s mentioning %q", rec.Code, rec.Body, tc.status, tc.code, tc.in)
			}
		})
	}

	// Paging: any page size reads the same records, each once, in time
	// order; the default page is 10.
	from, to := now.Add(-time.Hour), now
	want, _ := cdrAll(t, s, clock, 7000002, from, to, 2, 1000)
	if len(want) < 50 {
		t.Fatalf("only %d records in the hour", len(want))
	}
	got, pages := cdrAll(t, s, clock, 7000002, from, to, 2, 7)
	if len(got) != len(want) || pages != len(want)/7+1 {
		t.Fatalf("Limit 7: %d records in %d pages, want %d in %d", len(got), pages, len(want), len(want)/7+1)
	}
	var prevEnd int64
	for i := range got {
		if got[i].UniqueId != want[i].UniqueId {
			t.Fatalf("record %d differs between page sizes: %s vs %s", i, got[i].UniqueId, want[i].UniqueId)
		}
		_, _, _, _, end := got[i].times(t)
		if end < prevEnd || end < from.Unix() || end > to.Unix() {
			t.Fatalf("record %d ends at %d: out of order or outside [%d, %d]", i, end, from.Unix(), to.Unix())
		}
		prevEnd = end
	}
	if def := cdrPage(t, s, clock, base("TimeRangeType", "2")); len(def) != 10 || def[0].UniqueId != want[0].UniqueId {
		t.Fatalf("default page: %d records, want the first 10", len(def))
	}
	// One task's records only, and none of the automatic task.
	if auto := cdrPage(t, s, clock, base("TaskId", "21", "Limit", "1000")); len(auto) != 0 {
		t.Fatalf("the automatic task has %d records", len(auto))
	}
}

func TestCallRecordFaults(t *testing.T) {
	clock := NewFakeClock(cdrNow)
	cfg := cdrConfig()
	s, err := New(cfg, clock)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	now := clock.Now()
	from, to := now.Add(-time.Hour), now
	clean, _ := cdrAll(t, s, clock, 7000002, from, to, 2, 1000)

	t.Run("duplicate_record", func(t *testing.T) {
		if err := s.SetFaults(Faults{Rules: []FaultRule{{Kind: FaultDuplicateRecord, Action: actionCdr}}}); err != nil {
			t.Fatal(err)
		}
		got, pages := cdrAll(t, s, clock, 7000002, from, to, 2, 50)
		ids := map[string]int{}
		for _, r := range got {
			ids[r.UniqueId]++
		}
		twice := 0
		for _, n := range ids {
			if n > 1 {
				twice++
			}
		}
		if len(ids) != len(clean) || twice != pages-1 {
			t.Fatalf("%d distinct records (want %d), %d on two pages (want one per page boundary, %d)", len(ids), len(clean), twice, pages-1)
		}
	})
	t.Run("late_record", func(t *testing.T) {
		if err := s.SetFaults(Faults{Rules: []FaultRule{{Kind: FaultLateRecord, Probability: 0.2, Delay: Duration(20 * time.Minute)}}}); err != nil {
			t.Fatal(err)
		}
		got, _ := cdrAll(t, s, clock, 7000002, from, to, 2, 1000)
		missing := 0
		for _, r := range clean {
			if _, _, _, _, end := r.times(t); end > now.Unix()-20*60 {
				missing++ // candidates
			}
		}
		hidden := len(clean) - len(got)
		if hidden <= 0 || hidden >= missing {
			t.Fatalf("late_record hid %d of the %d records of the last 20 minutes", hidden, missing)
		}
		// Once the delay passed, every record of the window is there.
		clock.Advance(21 * time.Minute)
		again, _ := cdrAll(t, s, clock, 7000002, from, to, 2, 1000)
		if len(again) != len(clean) {
			t.Fatalf("after the delay %d records, want %d", len(again), len(clean))
		}
	})
	// The hostile kinds, read loosely (id_forms breaks the strict types).
	loose := func(t *testing.T, start, limit int) []map[string]any {
		t.Helper()
		rec := cdrAsk(s, clock, map[string]string{"EnterpriseId": "7000002", "StartTime": fmt.Sprint(from.Unix()), "EndTime": fmt.Sprint(to.Unix()),
			"TimeRangeType": "2", "Start": fmt.Sprint(start), "Limit": fmt.Sprint(limit)})
		var p struct {
			Data struct{ List []map[string]any }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("HTTP %d: %v", rec.Code, err)
		}
		return p.Data.List
	}
	set := func(t *testing.T, r FaultRule) {
		t.Helper()
		if err := s.SetFaults(Faults{Rules: []FaultRule{r}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("replay", func(t *testing.T) {
		set(t, FaultRule{Kind: FaultReplay, Count: 7})
		page := loose(t, 0, 1000)
		old := 0
		for _, r := range page {
			if end, _ := strconv.ParseInt(r["EndTime"].(string), 10, 64); end < from.Unix() {
				old++
			}
		}
		if len(page) != min(len(clean), 1000)+7 || old != 7 {
			t.Fatalf("%d records (%d before the window), want a page of the window's %d and 7 before it", len(page), old, len(clean))
		}
	})
	t.Run("page_size", func(t *testing.T) {
		set(t, FaultRule{Kind: FaultPageSize})
		sizes := map[int]bool{}
		for range 20 {
			sizes[len(loose(t, 0, 10))] = true
		}
		if !sizes[5] || !sizes[15] || len(sizes) != 2 {
			t.Fatalf("page sizes %v for Limit 10, want 5 and 15", sizes)
		}
	})
	t.Run("reorder", func(t *testing.T) {
		set(t, FaultRule{Kind: FaultReorder})
		a, b := loose(t, 0, 1000), loose(t, 0, 1000)
		same := len(a) == len(b)
		for i := 0; same && i < len(a); i++ {
			same = a[i]["Id"] == b[i]["Id"]
		}
		if len(a) != min(len(clean), 1000) || same {
			t.Fatalf("%d records (want a page of the window's %d), the same order twice: %v", len(a), len(clean), same)
		}
	})
	t.Run("id_forms", func(t *testing.T) {
		set(t, FaultRule{Kind: FaultIDForms})
		forms := map[string]bool{}
		for _, r := range loose(t, 0, 1000) {
			for _, k := range []string{"UniqueId", "CallId", "Id"} {
				switch v := r[k].(type) {
				case string:
					forms[k+" string"] = forms[k+" string"] || v != ""
					forms[k+" empty"] = forms[k+" empty"] || v == ""
				case float64:
					forms[k+" number"] = true
				case map[string]any:
					forms[k+" object"] = true
				}
			}
		}
		for _, f := range []string{"UniqueId string", "UniqueId empty", "UniqueId object", "CallId string", "CallId empty", "CallId object", "Id string", "Id number"} {
			if !forms[f] {
				t.Errorf("no record with %s (forms seen: %v)", f, forms)
			}
		}
		if forms["Id empty"] {
			t.Error("an Id left empty: a call must keep one id")
		}
	})
	t.Run("throttle and malformed", func(t *testing.T) {
		if err := s.SetFaults(Faults{Rules: []FaultRule{{Kind: FaultThrottle, Action: actionCdr}}}); err != nil {
			t.Fatal(err)
		}
		rec := cdrAsk(s, clock, map[string]string{"EnterpriseId": "7000002"})
		if e := decodeError(t, rec); rec.Code != 400 || e.Code != "Throttling.User" || rec.Header().Get("x-ratelimit-user-api") == "" {
			t.Fatalf("throttle: HTTP %d %s", rec.Code, rec.Body)
		}
		if err := s.SetFaults(Faults{Rules: []FaultRule{{Kind: FaultMalformed, Action: actionCdr}}}); err != nil {
			t.Fatal(err)
		}
		rec = cdrAsk(s, clock, map[string]string{"EnterpriseId": "7000002"})
		if rec.Code != 200 || json.Valid(rec.Body.Bytes()) {
			t.Fatalf("malformed: HTTP %d, valid JSON %v", rec.Code, json.Valid(rec.Body.Bytes()))
		}
	})
}

// At another speed the window is read on the requester's clock: polling
// consecutive windows of the clock sees every record once.
func TestCallRecordWindowsFollowTheClockAtAnySpeed(t *testing.T) {
	for _, speed := range []float64{0.25, 4} {
		t.Run(fmt.Sprint(speed), func(t *testing.T) {
			cfg := cdrConfig()
			cfg.Speed = speed
			clock := NewFakeClock(cdrNow)
			s, err := New(cfg, clock)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			lo := clock.Now()
			for range 20 {
				clock.Advance(30 * time.Second)
				hi := clock.Now().Add(-2 * time.Second)
				recs, _ := cdrAll(t, s, clock, 7000002, lo, hi, 2, 1000)
				for _, r := range recs {
					seen[r.UniqueId]++
					// Written on the clock's axis: its end in the window
					// asked, its durations in simulated seconds.
					start, _, _, _, end := r.times(t)
					if end < lo.Unix() || end > hi.Unix() || r.unix(t, "TotalDuration", r.TotalDuration) != end-start {
						t.Fatalf("record %s ends at %d, window [%d, %d]; %s s long from %d", r.UniqueId, end, lo.Unix(), hi.Unix(), r.TotalDuration, start)
					}
				}
				lo = hi.Add(time.Second)
			}
			// Everything that ended in simulated time since the start.
			all, _ := cdrAll(t, s, clock, 7000002, cdrNow, clock.Now().Add(-2*time.Second), 2, 1000)
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
