package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// flatten renders every sample as one sorted line, ignoring order and the
// scrape duration (which differs between two runs).
func flatten(mfs map[string]*dto.MetricFamily) []string {
	var out []string
	for name, mf := range mfs {
		if name == "dyvms_task_scrape_duration_seconds" {
			out = append(out, fmt.Sprintf("%s count=%d", name, len(mf.Metric)))
			continue
		}
		for _, m := range mf.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			out = append(out, fmt.Sprintf("%s{%s} %v [%s] %s", name, strings.Join(ls, ","), m.GetGauge().GetValue(), mf.GetType(), mf.GetHelp()))
		}
	}
	sort.Strings(out)
	return out
}

// TestWriteTextMatchesCollect: the streaming writer and the Collector must
// produce the same series, HELP and TYPE, including escaping and failures.
func TestWriteTextMatchesCollect(t *testing.T) {
	weird := smallAnswer()
	weird.Data.Statistic.CtiLinkTaskProperty.Name = "quote \" backslash \\ newline \n end"
	weird.Data.AgentStatisticList[0].Name = "bad utf8 \xff\xfe here"
	weird.Data.AgentStatisticList[1].Cno = "co\"no"
	weird.Data.AgentStatisticList[1].AvgBridgeTime = apiclient.Float64{Value: 1e-7, Valid: true}
	weird.Data.AgentStatisticList[1].BridgeIn2sRate = apiclient.Float64{Value: 3.55, Valid: true}
	weird.Data.ChannelInfo.IvrCount = apiclient.Float64{Value: 7.9, Valid: true}
	weird.Data.Unreadable = []apiclient.UnreadableField{{Field: "AgentStatisticList.Name", Count: 2, Got: "object"}, {Field: "ChannelInfo.BridgedCount", Count: 1, Got: "bool"}}
	api := &fakeAPI{
		answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 1, TaskID: 1}: smallAnswer(), {EnterpriseID: 1, TaskID: 2}: weird, {EnterpriseID: 2, TaskID: 1}: nil},
		errs:    map[Task]error{{EnterpriseID: 2, TaskID: 2}: errors.New("boom")},
	}
	tasks := []Task{{EnterpriseID: 1, TaskID: 1}, {EnterpriseID: 1, TaskID: 2}, {EnterpriseID: 2, TaskID: 1}, {EnterpriseID: 2, TaskID: 2}}
	for _, sel := range []Selection{
		{},
		{AgentStatus: AgentStatusCurrent},
		{NoAgents: true},
		{AgentStatus: AgentStatusCurrent, Exclude: []string{"dyvms_task_scrape_duration_seconds", "dyvms_agent_info", "dyvms_task_status"}},
	} {
		compareTextAndCollect(t, api, tasks, sel)
	}
}

func compareTextAndCollect(t *testing.T, api MonitorAPI, tasks []Task, sel Selection) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(context.Background(), api, tasks, Options{Metrics: sel}))
	gathered, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	fromCollect := map[string]*dto.MetricFamily{}
	for _, mf := range gathered {
		fromCollect[mf.GetName()] = mf
	}

	var buf bytes.Buffer
	if err := New(context.Background(), api, tasks, Options{Metrics: sel}).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fromText, err := parser.TextToMetricFamilies(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("WriteText output does not parse: %v\n%s", err, buf.String())
	}
	a, b := flatten(fromCollect), flatten(fromText)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		for i := 0; i < len(a) || i < len(b); i++ {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				t.Errorf("first difference at line %d:\ncollect: %s\ntext:    %s", i, x, y)
				break
			}
		}
		t.Fatalf("%+v: collect gave %d series, text %d", sel, len(a), len(b))
	}
	if len(a) < 40 {
		t.Fatalf("only %d series compared", len(a))
	}
	if n := len(fromText["dyvms_task_unreadable_fields"].GetMetric()); n != 2 {
		t.Errorf("%d dyvms_task_unreadable_fields series compared, want 2", n)
	}
}
