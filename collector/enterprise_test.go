package collector

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
