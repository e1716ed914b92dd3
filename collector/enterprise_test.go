package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

func TestEnterpriseAgentState(t *testing.T) {
	i := func(v int64) apiclient.Int64 { return apiclient.Int64{Value: v, Valid: true} }
	none := apiclient.Int64{}
	for _, c := range []struct {
		login, device apiclient.Int64
		text          apiclient.Text
		want          string
	}{
		{i(1), i(0), "空闲", "idle"},
		{i(2), i(0), "置忙", "paused"},
		{i(3), i(0), "整理", "wrap-up"},
		{i(1), i(2), "呼叫中", "calling"},
		{i(1), i(3), "响铃", "ringing"},
		{i(1), i(4), "通话", "talking"},
		{i(2), i(4), "置忙", "talking"}, // a call in progress wins over the login state
		{i(1), i(-1), "", "invalid"},
		{none, none, "置忙", "paused"},  // no codes: the text
		{i(1), i(1), "响铃", "ringing"}, // locked: the text decides
		{i(1), i(1), "", "unknown"},
		{i(0), i(0), "", "unknown"},    // offline in a list of online agents
		{i(7), i(9), "新状态", "unknown"}, // codes and text the vendor may add
	} {
		a := apiclient.OnlineAgent{LoginStatus: c.login, DeviceStatus: c.device, State: c.text}
		if got := EnterpriseAgentState(&a); got != c.want {
			t.Errorf("login %+v device %+v %q: %s, want %s", c.login, c.device, c.text, got, c.want)
		}
	}
}

type agentsAPI map[int64]any // *apiclient.OnlineAgents, error, or "panic"

func (a agentsAPI) CloudListOnlineAgent(ctx context.Context, ent int64) (*apiclient.OnlineAgents, error) {
	switch v := a[ent].(type) {
	case *apiclient.OnlineAgents:
		return v, nil
	case error:
		return nil, v
	}
	panic("boom")
}

// On /metrics: every state of a read enterprise, 0 included; a failed or
// panicking one only its scrape_success 0; the tasks unaffected.
func TestEnterpriseAgentsOnMetrics(t *testing.T) {
	i := func(v int64) apiclient.Int64 { return apiclient.Int64{Value: v, Valid: true} }
	agents := agentsAPI{
		1: &apiclient.OnlineAgents{AgentStatuses: []apiclient.OnlineAgent{
			{Cno: "1", LoginStatus: i(1), DeviceStatus: i(0)}, {Cno: "2", LoginStatus: i(1), DeviceStatus: i(0)},
			{Cno: "3", LoginStatus: i(2), DeviceStatus: i(0)}, {Cno: "4", LoginStatus: i(1), DeviceStatus: i(4)},
		}},
		2: errors.New("Throttling.User"),
		3: "panic",
	}
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 1, TaskID: 1}: smallAnswer()}}
	h := Handler(func() Scrape {
		return Scrape{API: api, Tasks: []Task{{EnterpriseID: 1, TaskID: 1}}, Enterprises: []int64{1, 2, 3}, Agents: agents}
	}, prometheus.NewRegistry(), HandlerOptions{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, gz := range []bool{false, true} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if !gz {
			req.Header.Set("Accept-Encoding", "identity")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		var got []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "dyvms_enterprise_agents") {
				got = append(got, l)
			}
		}
		want := []string{
			`dyvms_enterprise_agents{enterprise_id="1",state="calling"} 0`,
			`dyvms_enterprise_agents{enterprise_id="1",state="idle"} 2`,
			`dyvms_enterprise_agents{enterprise_id="1",state="invalid"} 0`,
			`dyvms_enterprise_agents{enterprise_id="1",state="paused"} 1`,
			`dyvms_enterprise_agents{enterprise_id="1",state="ringing"} 0`,
			`dyvms_enterprise_agents{enterprise_id="1",state="talking"} 1`,
			`dyvms_enterprise_agents{enterprise_id="1",state="unknown"} 0`,
			`dyvms_enterprise_agents{enterprise_id="1",state="wrap-up"} 0`,
			`dyvms_enterprise_agents_scrape_success{enterprise_id="1"} 1`,
			`dyvms_enterprise_agents_scrape_success{enterprise_id="2"} 0`,
			`dyvms_enterprise_agents_scrape_success{enterprise_id="3"} 0`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("gzip %v: got\n%s\nwant\n%s", gz, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !strings.Contains(body, `dyvms_task_scrape_success{enterprise_id="1",task_id="1"} 1`) {
			t.Errorf("the task was not read alongside")
		}
	}
}

// scrapeEnterprises serves one plain-text scrape of the enterprises under
// sel (no task) and returns its dyvms_enterprise_* lines, comments left out.
func scrapeEnterprises(t *testing.T, agents OnlineAgentsAPI, ids []int64, sel Selection) []string {
	t.Helper()
	h := Handler(func() Scrape {
		return Scrape{API: &fakeAPI{}, Enterprises: ids, Agents: agents, Metrics: sel}
	}, prometheus.NewRegistry(), HandlerOptions{})
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "identity")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var got []string
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(l, "dyvms_enterprise_") {
			got = append(got, l)
		}
	}
	return got
}

func withPrefix(lines []string, prefix string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// perAgentAnswer has an agent of each kind of row the per-agent series
// treat apart: a device state, a login state, the State text, a negative
// and a missing duration, no Cno, and a Cno that is no label.
func perAgentAnswer() *apiclient.OnlineAgents {
	i := func(v int64) apiclient.Int64 { return apiclient.Int64{Value: v, Valid: true} }
	return &apiclient.OnlineAgents{AgentStatuses: []apiclient.OnlineAgent{
		{Cno: "1001", LoginStatus: i(1), LoginStatusDuration: i(600), DeviceStatus: i(4), DeviceStatusDuration: i(42)}, // talking: the device's 42 s
		{Cno: "1002", LoginStatus: i(2), LoginStatusDuration: i(75), DeviceStatus: i(0), DeviceStatusDuration: i(900)}, // paused: the login's 75 s
		{Cno: "1003", State: "整理"}, // wrap-up from the text: no duration
		{Cno: "1004", LoginStatus: i(1), LoginStatusDuration: i(-3), DeviceStatus: i(0)}, // negative: no duration
		{Cno: "1005", DeviceStatus: i(3)},                                                // ringing, duration missing
		{LoginStatus: i(1), DeviceStatus: i(0)},                                          // no Cno: counted, no series
		{Cno: "10\"06}\n", LoginStatus: i(1), DeviceStatus: i(0)},                        // not a label
	}}
}

func TestEnterpriseAgentSeries(t *testing.T) {
	api := agentsAPI{7: perAgentAnswer()}
	// Off by default: the counts only, no per-agent series.
	if got := scrapeEnterprises(t, api, []int64{7}, Selection{}); len(withPrefix(got, "dyvms_enterprise_agent_state")) > 0 || len(withPrefix(got, "dyvms_enterprise_agents_without_series")) > 0 || len(withPrefix(got, "dyvms_enterprise_agents{")) != 8 {
		t.Errorf("enterprise_agents off: %s", strings.Join(got, "\n"))
	}

	got := scrapeEnterprises(t, api, []int64{7}, Selection{EnterpriseAgents: true})
	states := withPrefix(got, "dyvms_enterprise_agent_state{")
	if len(states) != 5*8 {
		t.Errorf("%d state series, want 8 for each of the 5 labelled agents:\n%s", len(states), strings.Join(states, "\n"))
	}
	ones := map[string]bool{}
	for _, l := range states {
		if strings.HasSuffix(l, " 1") {
			ones[l] = true
		} else if !strings.HasSuffix(l, " 0") {
			t.Errorf("%s: a state set holds 0 or 1", l)
		}
	}
	for _, want := range []string{
		`dyvms_enterprise_agent_state{cno="1001",enterprise_id="7",state="talking"} 1`,
		`dyvms_enterprise_agent_state{cno="1002",enterprise_id="7",state="paused"} 1`,
		`dyvms_enterprise_agent_state{cno="1003",enterprise_id="7",state="wrap-up"} 1`,
		`dyvms_enterprise_agent_state{cno="1004",enterprise_id="7",state="idle"} 1`,
		`dyvms_enterprise_agent_state{cno="1005",enterprise_id="7",state="ringing"} 1`,
	} {
		if !ones[want] {
			t.Errorf("missing %s", want)
		}
	}
	if len(ones) != 5 {
		t.Errorf("%d states at 1, want one per agent", len(ones))
	}
	wantDur := []string{
		`dyvms_enterprise_agent_state_duration_seconds{cno="1001",enterprise_id="7"} 42`,
		`dyvms_enterprise_agent_state_duration_seconds{cno="1002",enterprise_id="7"} 75`,
	}
	if d := withPrefix(got, "dyvms_enterprise_agent_state_duration_seconds"); strings.Join(d, "\n") != strings.Join(wantDur, "\n") {
		t.Errorf("durations:\n%s\nwant\n%s", strings.Join(d, "\n"), strings.Join(wantDur, "\n"))
	}
	wantWithout := []string{
		`dyvms_enterprise_agents_without_series{enterprise_id="7",reason="bad_cno"} 1`,
		`dyvms_enterprise_agents_without_series{enterprise_id="7",reason="no_cno"} 1`,
		`dyvms_enterprise_agents_without_series{enterprise_id="7",reason="too_many"} 0`,
	}
	if w := withPrefix(got, "dyvms_enterprise_agents_without_series"); strings.Join(w, "\n") != strings.Join(wantWithout, "\n") {
		t.Errorf("without series:\n%s\nwant\n%s", strings.Join(w, "\n"), strings.Join(wantWithout, "\n"))
	}
	// The counts still count every row, the unlabelled ones included.
	if !slices.Contains(got, `dyvms_enterprise_agents{enterprise_id="7",state="idle"} 3`) {
		t.Errorf("the counts lost the rows without series:\n%s", strings.Join(withPrefix(got, "dyvms_enterprise_agents{"), "\n"))
	}

	// current: one series an agent, its state, 1.
	cur := scrapeEnterprises(t, api, []int64{7}, Selection{EnterpriseAgents: true, AgentStatus: AgentStatusCurrent})
	curStates := withPrefix(cur, "dyvms_enterprise_agent_state{")
	if len(curStates) != 5 {
		t.Errorf("current: %d state series, want 5", len(curStates))
	}
	for _, l := range curStates {
		if !ones[l] {
			t.Errorf("current: %s is not the agent's state", l)
		}
	}
	if len(withPrefix(cur, "dyvms_enterprise_agent_state_duration_seconds")) != 2 {
		t.Errorf("current: the durations do not depend on the encoding")
	}

	// A failed read: its success 0, and no per-agent series.
	failed := scrapeEnterprises(t, agentsAPI{7: errors.New("Throttling.User")}, []int64{7}, Selection{EnterpriseAgents: true})
	if strings.Join(failed, "\n") != `dyvms_enterprise_agents_scrape_success{enterprise_id="7"} 0` {
		t.Errorf("a failed read writes:\n%s", strings.Join(failed, "\n"))
	}
}

// An enterprise with more online agents than MaxEnterpriseAgentSeries: the
// lowest cnos keep their series whatever the answer's order, the others are
// counted, and the counts still see every agent.
func TestEnterpriseAgentSeriesBounded(t *testing.T) {
	const n = MaxEnterpriseAgentSeries + 500
	i := func(v int64) apiclient.Int64 { return apiclient.Int64{Value: v, Valid: true} }
	rows := make([]apiclient.OnlineAgent, n)
	for k := range rows {
		// Listed from the highest cno down, and crossing a digit count
		// (999 → 1000) that text order would get wrong.
		rows[k] = apiclient.OnlineAgent{Cno: apiclient.Text(strconv.Itoa(n + 500 - k)), LoginStatus: i(1), DeviceStatus: i(0), LoginStatusDuration: i(1)}
	}
	got := scrapeEnterprises(t, agentsAPI{7: &apiclient.OnlineAgents{AgentStatuses: rows}}, []int64{7}, Selection{EnterpriseAgents: true, AgentStatus: AgentStatusCurrent})
	states := withPrefix(got, "dyvms_enterprise_agent_state{")
	if len(states) != MaxEnterpriseAgentSeries {
		t.Fatalf("%d agents with a state series, want the bound %d", len(states), MaxEnterpriseAgentSeries)
	}
	if d := withPrefix(got, "dyvms_enterprise_agent_state_duration_seconds"); len(d) != MaxEnterpriseAgentSeries {
		t.Errorf("%d duration series, want %d", len(d), MaxEnterpriseAgentSeries)
	}
	lowest, highest := 501, 500+MaxEnterpriseAgentSeries
	for _, cno := range []int{lowest, 999, 1000, highest} {
		if !slices.Contains(states, fmt.Sprintf(`dyvms_enterprise_agent_state{cno="%d",enterprise_id="7",state="idle"} 1`, cno)) {
			t.Errorf("cno %d (among the %d lowest) has no series", cno, MaxEnterpriseAgentSeries)
		}
	}
	if slices.Contains(states, fmt.Sprintf(`dyvms_enterprise_agent_state{cno="%d",enterprise_id="7",state="idle"} 1`, highest+1)) {
		t.Errorf("cno %d, past the bound, has a series", highest+1)
	}
	if !slices.Contains(got, `dyvms_enterprise_agents_without_series{enterprise_id="7",reason="too_many"} 500`) {
		t.Errorf("the agents past the bound are not counted:\n%s", strings.Join(withPrefix(got, "dyvms_enterprise_agents_without_series"), "\n"))
	}
	if !slices.Contains(got, fmt.Sprintf(`dyvms_enterprise_agents{enterprise_id="7",state="idle"} %d`, n)) {
		t.Errorf("dyvms_enterprise_agents does not count every agent")
	}
}

// Each enterprise family can be excluded alone, except the success, which
// the check refuses and the collector writes anyway.
func TestEnterpriseFamiliesExcluded(t *testing.T) {
	api := agentsAPI{7: perAgentAnswer()}
	all := scrapeEnterprises(t, api, []int64{7}, Selection{EnterpriseAgents: true})
	for _, f := range EnterpriseCatalogue() {
		sel := Selection{EnterpriseAgents: true, Exclude: []string{f.Name}}
		err := sel.Check()
		if f.Required != (err != nil) {
			t.Errorf("excluding %s: check %v", f.Name, err)
		}
		got := scrapeEnterprises(t, api, []int64{7}, sel)
		for _, l := range all {
			name := l[:strings.IndexAny(l, "{ ")]
			if kept := slices.Contains(got, l); kept == (name == f.Name && !f.Required) {
				t.Errorf("excluding %s: %s kept %v", f.Name, l, kept)
			}
		}
		if len(withPrefix(all, f.Name+"{")) == 0 {
			t.Errorf("%s is not written without the exclusion", f.Name)
		}
	}
}
