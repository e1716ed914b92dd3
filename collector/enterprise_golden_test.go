package collector_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/collector"
)

// goldenAgents is a CloudListOnlineAgent answer as the client decodes it,
// with a row of each kind the enterprise families treat apart.
type goldenAgents struct{}

func (goldenAgents) CloudListOnlineAgent(context.Context, int64) (*apiclient.OnlineAgents, error) {
	body := `{"Code":"OK","Data":{"AgentStatuses":[
		{"Cno":"1001","LoginStatus":1,"LoginStatusDuration":"600","DeviceStatus":4,"DeviceStatusDuration":"42","State":"通话"},
		{"Cno":"1002","LoginStatus":2,"LoginStatusDuration":75,"DeviceStatus":0,"DeviceStatusDuration":900,"State":"置忙"},
		{"Cno":"1003","LoginStatus":3,"LoginStatusDuration":12,"DeviceStatus":0,"DeviceStatusDuration":12,"State":"整理"},
		{"Cno":"1004","LoginStatus":1,"DeviceStatus":1,"DeviceStatusDuration":5,"State":"响铃"},
		{"Cno":"1005","LoginStatus":1,"LoginStatusDuration":-1,"DeviceStatus":0,"State":"空闲"},
		{"Cno":"1006","LoginStatus":1,"DeviceStatus":-1,"DeviceStatusDuration":3600,"State":"失效"},
		{"Cno":"1007","LoginStatus":9,"DeviceStatus":9,"State":"新"},
		{"Cno":"1002","LoginStatus":1,"DeviceStatus":0,"State":"空闲"},
		{"LoginStatus":1,"DeviceStatus":2,"DeviceStatusDuration":8,"State":"呼叫中"},
		{"Cno":"agent 8","LoginStatus":1,"DeviceStatus":0,"State":"空闲"}]}}`
	r, err := apiclient.DecodeCloudListOnlineAgent([]byte(body))
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// TestEnterpriseGoldenExposition: the enterprise families of one scrape,
// HELP and TYPE included, in both encodings, byte for byte against
// testdata/enterprise_agents*.prom (-update rewrites them).
func TestEnterpriseGoldenExposition(t *testing.T) {
	for file, sel := range map[string]collector.Selection{
		"enterprise_agents.prom":         {EnterpriseAgents: true},
		"enterprise_agents_current.prom": {EnterpriseAgents: true, AgentStatus: collector.AgentStatusCurrent},
	} {
		h := collector.Handler(func() collector.Scrape {
			return collector.Scrape{API: decodingAPI{}, Enterprises: []int64{7000002}, Agents: goldenAgents{}, Metrics: sel}
		}, prometheus.NewRegistry(), collector.HandlerOptions{})
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept-Encoding", "identity")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var b strings.Builder
		for l := range strings.SplitSeq(rec.Body.String(), "\n") {
			if strings.HasPrefix(l, "dyvms_enterprise_") || strings.HasPrefix(l, "# HELP dyvms_enterprise_") || strings.HasPrefix(l, "# TYPE dyvms_enterprise_") {
				b.WriteString(l + "\n")
			}
		}
		got := b.String()
		path := filepath.Join("testdata", file)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./collector -run TestEnterpriseGoldenExposition -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs (go test ./collector -run TestEnterpriseGoldenExposition -update after checking the change):\ngot:\n%s", path, got)
		}
	}
}

// BenchmarkEnterpriseAgentsAtBound: one scrape of an enterprise at the
// bound of per-agent series (2,000 agents, state sets: 18,012 series),
// rendered as text, against the counts only.
func BenchmarkEnterpriseAgentsAtBound(b *testing.B) {
	for _, bc := range []struct {
		name string
		sel  collector.Selection
	}{
		{"counts_only", collector.Selection{}},
		{"state_set", collector.Selection{EnterpriseAgents: true}},
		{"current", collector.Selection{EnterpriseAgents: true, AgentStatus: collector.AgentStatusCurrent}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := collector.Handler(func() collector.Scrape {
				return collector.Scrape{API: decodingAPI{}, Enterprises: []int64{7000002}, Agents: onlineAgents(collector.MaxEnterpriseAgentSeries), Metrics: bc.sel}
			}, prometheus.NewRegistry(), collector.HandlerOptions{})
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/metrics", nil)
				req.Header.Set("Accept-Encoding", "identity")
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
