package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func admin(t *testing.T, s *Simulator, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec.Code, rec.Body.String()
}

func TestAdminFaults(t *testing.T) {
	s, clock := faultSim(t, FaultRule{Kind: FaultThrottle, Task: 20})
	code, body := admin(t, s, "GET", "/admin/faults", "")
	var f Faults
	if err := json.Unmarshal([]byte(body), &f); err != nil || code != 200 || len(f.Rules) != 1 ||
		f.Rules[0].Probability != 1 || f.Rules[0].Code != "Throttling.User" || f.Rules[0].TimeLeft != Duration(1e9) {
		t.Fatalf("GET: %d %s", code, body)
	}
	if !strings.Contains(body, `"time_left": "1s"`) {
		t.Fatalf("durations not written as text: %s", body)
	}

	if code, body := admin(t, s, "PUT", "/admin/faults", `{"rules":[{"kind":"unavailable","enterprise":7000002,"task":19}]}`); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if rec := ask(s, clock, 7000002, 19); rec.Code != 503 {
		t.Fatalf("task 19 after PUT: HTTP %d, want 503", rec.Code)
	}
	if rec := ask(s, clock, 7000002, 20); rec.Code != 200 {
		t.Fatalf("task 20 after PUT: HTTP %d, want the old throttle gone", rec.Code)
	}
	for _, bad := range []string{
		`{"rules":[{"kind":"explode"}]}`,
		`{"rules":[{"kind":"throttle","probability":2}]}`,
		`{"rules":[{"kind":"latency"}]}`,
		`{"rules":[{"kind":"throttle","bogus":1}]}`,
		`{"rules":[{"kind":"latency","latency":5}]}`,
		`not json`,
	} {
		if code, body := admin(t, s, "PUT", "/admin/faults", bad); code != 400 || !strings.Contains(body, `"error"`) {
			t.Fatalf("PUT %s: %d %s", bad, code, body)
		}
	}
	if rec := ask(s, clock, 7000002, 19); rec.Code != 503 {
		t.Fatal("a rejected PUT changed the faults")
	}
	if code, _ := admin(t, s, "PUT", "/admin/faults", `{"rules":[{"kind":"latency","latency":"250ms","jitter":"50ms"}]}`); code != 200 {
		t.Fatal("latency as text rejected")
	}
}

func TestAdminScenario(t *testing.T) {
	s, clock := newTestSim(t, testConfig())
	if code, body := admin(t, s, "POST", "/admin/scenario", `{"enterprise":7000002,"task":19,"name":"agents_pause"}`); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if m, _ := monitor(t, s, clock, 7000002, 19); m.Data.AgentInfo.AvailableCount != 0 {
		t.Fatalf("AvailableCount %d after agents_pause", m.Data.AgentInfo.AvailableCount)
	}
	for _, bad := range []string{
		`{"enterprise":7000002,"task":999,"name":"agents_pause"}`,
		`{"enterprise":7000002,"task":19,"name":"dance"}`,
		`{"enterprise":7000002,"task":20,"name":"task_pause","extra":1}`,
	} {
		if code, body := admin(t, s, "POST", "/admin/scenario", bad); code != 400 {
			t.Fatalf("%s: %d %s", bad, code, body)
		}
	}
}

func TestAdminStats(t *testing.T) {
	s, clock := newTestSim(t, testConfig())
	ask(s, clock, 7000002, 19)
	ask(s, clock, 7000002, 19)
	ask(s, clock, 7000002, 20)
	serve(s, testSigner{id: "testid", secret: "testsecret"}.request(map[string]string{"EnterpriseId": "7000002", "Type": "1"}, reqOpts{action: actionQuery, date: clock.Now()}))
	serve(s, testSigner{id: "nobody", secret: "x"}.request(monitorParams(7000002, 19), reqOpts{date: clock.Now()}))
	code, body := admin(t, s, "GET", "/admin/stats", "")
	var st Stats
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 {
		t.Fatalf("%d %v %s", code, err, body)
	}
	if st.Requests != 5 || st.Actions[actionMonitor] != 4 || st.Actions[actionQuery] != 1 ||
		st.Tasks["7000002/19"] != 3 || st.Tasks["7000002/20"] != 1 || st.Enterprises["7000002"] != 1 ||
		st.Codes["OK"] != 4 || st.Codes["InvalidAccessKeyId.NotFound"] != 1 || st.Statuses["404"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if code, _ := admin(t, s, "DELETE", "/admin/stats", ""); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	if st := s.Stats(); st.Requests != 0 || len(st.Tasks) != 0 {
		t.Fatalf("after DELETE: %+v", st)
	}
	if code, _ := admin(t, s, "POST", "/admin/stats", ""); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /admin/stats: %d", code)
	}
}
