//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
)

// emptyOK lists the dashboard queries that are legitimately empty in a
// healthy steady state, with the reason. Keep it short. The test asserts
// that they ARE empty: an entry that no longer holds (or an unhealthy run)
// is reported rather than silently tolerated.
var emptyOK = map[string]string{
	"dyvms-exporter.json/API requests rejected for credentials/A": "selects credential and permission errors only: the exporter's key is right",
	"dyvms-callcentre.json/Call-centre API failures/A":            "selects failed call-centre requests only: the call centre's simulator answers every one",
	"dyvms-callcentre.json/Abandon wait/A":                        "no caller abandons while the call centre has idle agents (they do once its floor pauses: withDataWhileFloorPaused)",
	"dyvms-callcentre.json/Abandon wait/B":                        "no caller abandons while the call centre has idle agents (they do once its floor pauses: withDataWhileFloorPaused)",
}

// withDataWhileFloorPaused lists the emptyOK queries that must have data
// once the call centre's floor is paused (callcentre_test.go): its callers
// then abandon, which no caller does while agents are idle.
var withDataWhileFloorPaused = []string{"dyvms-callcentre.json/Abandon wait/A", "dyvms-callcentre.json/Abandon wait/B"}

// checkQueriesHaveData asserts that the dashboard queries named by keys
// have data now (within a few seconds).
func checkQueriesHaveData(t *testing.T, prom promAPI, queries []dashQuery, keys []string) {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		if _, ok := emptyOK[k]; !ok {
			t.Errorf("%q is not in emptyOK: it must have data in steady state already", k)
		}
		want[k] = true
	}
	found := 0
	for _, q := range queries {
		if want[q.key] {
			found++
		}
	}
	if found != len(want) {
		t.Fatalf("%d of %d queries that must have data are dashboard queries: %v", found, len(want), keys)
	}
	testutil.Eventually(t, 20*time.Second, 500*time.Millisecond, "the dashboard queries empty in steady state have data now", func() (bool, string) {
		var empty []string
		for _, q := range queries {
			if !want[q.key] {
				continue
			}
			res, err := prom.query(q.expr)
			if err != nil {
				t.Fatalf("%s: %v\n%s", q.key, err, q.expr)
			}
			if len(res) == 0 {
				empty = append(empty, q.key)
			}
		}
		return len(empty) == 0, fmt.Sprintf("empty: %v", empty)
	})
}

// templateValues are what the test substitutes for the dashboards'
// variables and Grafana's built-ins: the real job, every instance, enterprise
// and task (the variables' All value), and typical intervals for 1 s scrapes.
var templateValues = map[string]string{
	"datasource":      "prometheus",
	"cluster":         ".*",
	"job":             jobName,
	"instance":        ".+",
	"enterprise_id":   ".+",
	"task_id":         ".+",
	"queue":           ".+",
	"__rate_interval": "1m",
	"__interval":      "15s",
	"__range":         "5m",
}

type dashQuery struct {
	key  string // file/panel title/refId, or file/variable name for template variables
	expr string // substituted, ready for Prometheus
}

type dashboardJSON struct {
	Panels     []panelJSON `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panelJSON struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panelJSON `json:"panels"`
}

func flatten(ps []panelJSON) []panelJSON {
	var out []panelJSON
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

// dashboardQueries returns every panel target and every query variable of
// grafana/dashboards/*.json, template variables substituted. A variable's
// Its label_values(selector, label) or query_result(expr) becomes what
// Grafana asks Prometheus to fill the variable (promqlcheck.VariablePromQL).
func dashboardQueries(t *testing.T, root string) []dashQuery {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "grafana", "dashboards", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards in grafana/dashboards (%v)", err)
	}
	var out []dashQuery
	sub := func(key, expr string) {
		s, missing := promqlcheck.SubstituteWith(expr, templateValues)
		if len(missing) > 0 {
			t.Errorf("%s: the test has no value for the variables %v", key, missing)
		}
		out = append(out, dashQuery{key: key, expr: s})
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboardJSON
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		file := filepath.Base(p)
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q := promqlcheck.VariableQuery(v.Query)
			promql, _, ok := promqlcheck.VariablePromQL(q)
			if !ok {
				t.Errorf("%s: variable %s: query %q is neither label_values(selector, label) nor query_result(expr)", file, v.Name, q)
				continue
			}
			sub(file+"/$"+v.Name, promql)
		}
		for _, pn := range flatten(d.Panels) {
			for _, tg := range pn.Targets {
				sub(file+"/"+pn.Title+"/"+tg.RefID, tg.Expr)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// ruleExprs returns every expression of the repository's rule files, keyed
// by file and rule name.
func ruleExprs(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	eachRule(t, root, func(file string, r promqlcheck.Rule) { out[file+"/"+r.Name()] = r.Expr })
	return out
}

// eachRule calls f for every rule of the repository's rule files, in order.
func eachRule(t *testing.T, root string, f func(file string, r promqlcheck.Rule)) {
	t.Helper()
	for _, file := range []string{"dyvms.rules.yml", "dyvms.alerts.yml"} {
		rf, err := promqlcheck.ReadRuleFile(filepath.Join(root, "rules", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				f(file, r)
			}
		}
	}
}

// checkNamesAgainstScrape asserts that every metric a rule or a dashboard
// reads is in the exporter's real exposition (scraped), recorded by a rule or
// written by Prometheus, and that the hand-written list the unit tests of
// rules/ and grafana/ use for the process's own metrics is in the scrape.
func checkNamesAgainstScrape(t *testing.T, root string, scraped map[string]bool, queries []dashQuery) {
	t.Helper()
	for _, n := range promqlcheck.ExporterOwnMetrics {
		if !scraped[n] {
			t.Errorf("promqlcheck.ExporterOwnMetrics lists %s, which the exporter does not export", n)
		}
	}
	// The call-centre families are in the scrape too: the run reads an
	// enterprise's agents, inbound calls and queues (callcentre_test.go).
	for _, n := range promqlcheck.CallCentreMetrics {
		if !scraped[n] {
			t.Errorf("promqlcheck.CallCentreMetrics lists %s, which the exporter does not export with an enterprises entry", n)
		}
	}
	known, err := promqlcheck.Known(root, scraped)
	if err != nil {
		t.Fatal(err)
	}
	check := func(where, expr string) {
		e, err := promqlcheck.Parse(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		for _, p := range promqlcheck.UnknownNames(e, known) {
			t.Errorf("%s: %s (checked against a live scrape)", where, p)
		}
	}
	exprs := ruleExprs(t, root)
	for _, k := range promqlcheck.Sorted(keys(exprs)) {
		check("rules/"+k, exprs[k])
	}
	for _, q := range queries {
		check("grafana/dashboards/"+q.key, q.expr)
	}
}

func keys(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// checkDashboardQueries polls Prometheus until every dashboard query has
// data (those of emptyOK excepted) and asserts that the emptyOK ones are
// empty.
func checkDashboardQueries(t *testing.T, prom promAPI, queries []dashQuery) {
	t.Helper()
	for k := range emptyOK {
		found := false
		for _, q := range queries {
			found = found || q.key == k
		}
		if !found {
			t.Errorf("emptyOK lists %q, which is no dashboard query: remove it", k)
		}
	}
	results := map[string]int{}
	testutil.Eventually(t, 30*time.Second, 500*time.Millisecond, "every dashboard query has data", func() (bool, string) {
		var empty []string
		for _, q := range queries {
			if _, ok := emptyOK[q.key]; ok {
				continue
			}
			res, err := prom.query(q.expr)
			if err != nil {
				t.Fatalf("%s: %v\n%s", q.key, err, q.expr)
			}
			results[q.key] = len(res)
			if len(res) == 0 {
				empty = append(empty, q.key+": "+q.expr)
			}
		}
		return len(empty) == 0, "empty: \n\t" + strings.Join(empty, "\n\t")
	})
	for _, q := range queries {
		reason, ok := emptyOK[q.key]
		if !ok {
			continue
		}
		res, err := prom.query(q.expr)
		if err != nil {
			t.Fatalf("%s: %v", q.key, err)
		}
		if len(res) != 0 {
			t.Errorf("%s returned %d series, but emptyOK says it is empty in a healthy run (%s): the run is unhealthy or the entry is stale\n%s", q.key, len(res), reason, q.expr)
		}
	}
	t.Logf("%d dashboard queries: %d with data, %d empty as allowed", len(queries), len(results), len(emptyOK))
}
