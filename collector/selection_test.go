package collector

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// textFamilies runs WriteText under sel and parses the answer strictly.
func textFamilies(t *testing.T, api MonitorAPI, tasks []Task, sel Selection) map[string]*dto.MetricFamily {
	t.Helper()
	var buf bytes.Buffer
	if err := New(context.Background(), api, tasks, Options{Metrics: sel}).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatalf("answer does not parse: %v", err)
	}
	return mfs
}

func TestSelectionModes(t *testing.T) {
	api := &fakeAPI{
		answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 1, TaskID: 1}: smallAnswer()},
		errs:    map[Task]error{{EnterpriseID: 1, TaskID: 2}: errors.New("boom")},
	}
	tasks := []Task{{EnterpriseID: 1, TaskID: 1}, {EnterpriseID: 1, TaskID: 2}}
	all := textFamilies(t, api, tasks, Selection{})
	// 3 agent rows (2 listed, 1 removed; the repeated cno is dropped).
	if n := len(all["dyvms_agent_status"].Metric); n != 3*len(agentStates) {
		t.Fatalf("state_set: %d agent_status series, want %d", n, 3*len(agentStates))
	}

	t.Run("current", func(t *testing.T) {
		got := textFamilies(t, api, tasks, Selection{AgentStatus: AgentStatusCurrent})
		want := map[string]bool{`1001 false inuse`: true, `1002 false unknown`: true, `1001 true none`: true}
		st := got["dyvms_agent_status"]
		if len(st.Metric) != len(want) {
			t.Fatalf("%d agent_status series, want one per agent row (%d)", len(st.Metric), len(want))
		}
		for _, m := range st.Metric {
			l := map[string]string{}
			for _, p := range m.Label {
				l[p.GetName()] = p.GetValue()
			}
			if !want[l["cno"]+" "+l["removed"]+" "+l["status"]] || m.GetGauge().GetValue() != 1 {
				t.Errorf("unexpected series %v = %v", l, m.GetGauge().GetValue())
			}
		}
		if !strings.Contains(st.GetHelp(), "current state only") {
			t.Errorf("HELP does not say the encoding: %q", st.GetHelp())
		}
		// Nothing else changes.
		for name, mf := range all {
			if name != "dyvms_agent_status" && name != "dyvms_task_scrape_duration_seconds" && len(got[name].GetMetric()) != len(mf.Metric) {
				t.Errorf("%s: %d series in current mode, %d in state_set", name, len(got[name].GetMetric()), len(mf.Metric))
			}
		}
	})

	t.Run("no agents", func(t *testing.T) {
		got := textFamilies(t, api, tasks, Selection{NoAgents: true})
		for name, mf := range all {
			agent := strings.HasPrefix(name, "dyvms_agent_")
			switch {
			case agent && got[name] != nil:
				t.Errorf("%s still exported", name)
			case !agent && len(got[name].GetMetric()) != len(mf.Metric):
				t.Errorf("%s: %d series without agents, %d with", name, len(got[name].GetMetric()), len(mf.Metric))
			}
		}
		if v := got["dyvms_task_duplicate_agent_rows"].Metric[0].GetGauge().GetValue(); v != 1 {
			t.Errorf("duplicate agent rows = %v without agent series, want 1 (still counted)", v)
		}
	})

	t.Run("exclude", func(t *testing.T) {
		ex := []string{"dyvms_agent_info", "dyvms_task_info", "dyvms_task_scrape_duration_seconds", "dyvms_task_status"}
		got := textFamilies(t, api, tasks, Selection{Exclude: ex})
		for _, name := range ex {
			if got[name] != nil {
				t.Errorf("%s excluded but exported", name)
			}
		}
		if len(got) != len(all)-len(ex) {
			t.Errorf("%d families, want %d", len(got), len(all)-len(ex))
		}
		if n := len(got["dyvms_task_scrape_success"].GetMetric()); n != 2 {
			t.Errorf("%d scrape_success series, want 2", n)
		}
	})

	// dyvms_task_scrape_success is never dropped, even when a Selection
	// that skipped Check names it: it is the only series of a failed task.
	t.Run("exclude scrape_success", func(t *testing.T) {
		got := textFamilies(t, api, tasks, Selection{Exclude: []string{"dyvms_task_scrape_success", "dyvms_task_info"}})
		if n := len(got["dyvms_task_scrape_success"].GetMetric()); n != 2 {
			t.Errorf("%d scrape_success series with it in Exclude, want 2 (never dropped)", n)
		}
		if got["dyvms_task_info"] != nil {
			t.Error("dyvms_task_info excluded but exported")
		}
	})
}

func TestSelectionCheck(t *testing.T) {
	if err := (Selection{Exclude: []string{"dyvms_agent_info"}}).Check(); err != nil {
		t.Error(err)
	}
	for _, bad := range []Selection{
		{Exclude: []string{"dyvms_agent_nfo"}},
		{Exclude: []string{"dyvms_task_scrape_success"}},
		{AgentStatus: 7},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("%+v passes the check", bad)
		}
	}
	// The catalogue is every family, once, with the required one marked.
	seen := map[string]bool{}
	for _, f := range Catalogue() {
		if seen[f.Name] || !strings.HasPrefix(f.Name, "dyvms_") || f.Required != (f.Name == "dyvms_task_scrape_success") || f.Agent != strings.HasPrefix(f.Name, "dyvms_agent_") {
			t.Errorf("catalogue entry %+v", f)
		}
		seen[f.Name] = true
	}
	if len(seen) != len(families) {
		t.Errorf("catalogue has %d names, %d families", len(seen), len(families))
	}
}
