package grafana

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
)

// TestPerAgentPanelsSayWhyTheyMayBeEmpty: every panel that reads per-agent
// series (dyvms_agent_*, directly or through a recording rule) tells that
// it is empty with metrics.agents: false, in its description and in place
// of "No data"; no other panel says so.
func TestPerAgentPanelsSayWhyTheyMayBeEmpty(t *testing.T) {
	rf, err := promqlcheck.ReadRuleFile(filepath.Join(repoRoot, promqlcheck.RecordingRulesFile))
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				exprs[r.Record] = r.Expr
			}
		}
	}
	var perAgentName func(name string, depth int) bool
	perAgentName = func(name string, depth int) bool {
		if strings.HasPrefix(name, "dyvms_agent_") {
			return true
		}
		expr, ok := exprs[name]
		if !ok || depth > 5 {
			return false
		}
		return readsPerAgent(t, expr, func(n string) bool { return perAgentName(n, depth+1) })
	}
	checked := 0
	var walk func(ps []Panel, file string)
	walk = func(ps []Panel, file string) {
		for _, p := range ps {
			walk(p.Panels, file)
			if len(p.Targets) == 0 {
				continue
			}
			reads := false
			for _, tg := range p.Targets {
				reads = reads || readsPerAgent(t, tg.Expr, func(n string) bool { return perAgentName(n, 0) })
			}
			noValue, _ := p.FieldConfig.Defaults["noValue"].(string)
			says := strings.HasSuffix(p.Description, agentNote) && strings.Contains(noValue, agentNoValue)
			if reads != says {
				t.Errorf("%s: panel %q reads per-agent series: %v, says it may be empty without them: %v", file, p.Title, reads, says)
			}
			if reads {
				checked++
			}
		}
	}
	for _, d := range Dashboards() {
		walk(d.Panels, d.File)
	}
	if checked < 5 {
		t.Errorf("only %d per-agent panels found", checked)
	}
}

func readsPerAgent(t *testing.T, expr string, perAgent func(string) bool) bool {
	t.Helper()
	names, err := promqlcheck.MetricsRead(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return slices.ContainsFunc(names, perAgent)
}
