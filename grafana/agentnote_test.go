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
	sources := sourceReader(t)
	checked := 0
	eachQueryPanel(func(file string, p Panel, read map[string]bool) {
		reads := slices.ContainsFunc(promqlcheck.Sorted(read), func(n string) bool { return strings.HasPrefix(n, "dyvms_agent_") })
		noValue, _ := p.FieldConfig.Defaults["noValue"].(string)
		says := strings.HasSuffix(p.Description, agentNote) && strings.Contains(noValue, agentNoValue)
		if reads != says {
			t.Errorf("%s: panel %q reads per-agent series: %v, says it may be empty without them: %v", file, p.Title, reads, says)
		}
		if reads {
			checked++
		}
	}, sources)
	if checked < 5 {
		t.Errorf("only %d per-agent panels found", checked)
	}
}

// sourceReader returns what a query reads at the source: the metric names
// of its selectors, each recording rule of rules/ replaced by what it
// reads in turn, so a panel of dyvms:agent_non_answer:ratio reads
// dyvms_agent_called.
func sourceReader(t *testing.T) func(expr string) map[string]bool {
	t.Helper()
	rf, err := promqlcheck.ReadRuleFile(filepath.Join(repoRoot, promqlcheck.RecordingRulesFile))
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = r.Expr
			}
		}
	}
	var read func(expr string, depth int, into map[string]bool)
	read = func(expr string, depth int, into map[string]bool) {
		names, err := promqlcheck.MetricsRead(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		for _, n := range names {
			if e, ok := recorded[n]; ok && depth < 5 {
				read(e, depth+1, into)
			} else {
				into[n] = true
			}
		}
	}
	return func(expr string) map[string]bool {
		into := map[string]bool{}
		read(expr, 0, into)
		return into
	}
}

// eachQueryPanel calls f with every panel of every board that has
// queries, and what they read at the source.
func eachQueryPanel(f func(file string, p Panel, read map[string]bool), sources func(string) map[string]bool) {
	var walk func(file string, ps []Panel)
	walk = func(file string, ps []Panel) {
		for _, p := range ps {
			walk(file, p.Panels)
			if len(p.Targets) == 0 {
				continue
			}
			read := map[string]bool{}
			for _, tg := range p.Targets {
				for n := range sources(tg.Expr) {
					read[n] = true
				}
			}
			f(file, p, read)
		}
	}
	for _, d := range Dashboards() {
		walk(d.File, d.Panels)
	}
}
