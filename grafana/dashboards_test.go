package grafana

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
)

var update = flag.Bool("update", false, "rewrite dashboards/*.json from the generator")

const (
	repoRoot      = ".."
	dashboardsDir = "dashboards"
	// mixinDashboardsDir holds the mixin's copy of the dashboards.
	mixinDashboardsDir = "../mixin/dashboards"
)

// The uids are part of the dashboards' URLs and of links between them:
// changing one breaks bookmarks, so they are pinned here.
var wantUIDs = map[string]string{
	"dyvms-callcentre.json": "dyvms-callcentre",
	"dyvms-exporter.json":   "dyvms-exporter",
	"dyvms-overview.json":   "dyvms-overview",
	"dyvms-task.json":       "dyvms-task",
}

// The committed JSON is the generator's output, in grafana/dashboards and in
// the mixin's copy (mixin/dashboards, so that the mixin directory works on
// its own when vendored).
func TestDashboardsAreCurrent(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{dashboardsDir, mixinDashboardsDir} {
		if *update {
			for name, b := range files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%v (run: go test ./grafana -run TestDashboardsAreCurrent -update)", err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s is not what the generator writes (run: go test ./grafana -run TestDashboardsAreCurrent -update)", dir, name)
			}
		}
		paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, p := range paths {
			if _, ok := files[filepath.Base(p)]; !ok {
				t.Errorf("%s is no dashboard of the generator: remove it", p)
			}
		}
	}
}

func dashboardFiles(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	if len(out) == 0 {
		t.Fatal("no dashboards")
	}
	return out
}

func TestDashboardUIDsStableAndUnique(t *testing.T) {
	seen := map[string]string{}
	for name, raw := range dashboardFiles(t) {
		var d struct {
			UID string `json:"uid"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, ok := wantUIDs[name]
		switch {
		case !ok:
			t.Errorf("%s: not in wantUIDs; add it there with its uid", name)
		case d.UID != want:
			t.Errorf("%s: uid %q, want %q (uids are part of URLs: do not change them)", name, d.UID, want)
		}
		if other, dup := seen[d.UID]; dup {
			t.Errorf("uid %q used by %s and %s", d.UID, name, other)
		}
		seen[d.UID] = name
	}
	for name := range wantUIDs {
		if _, ok := seen[wantUIDs[name]]; !ok {
			t.Errorf("%s is missing", name)
		}
	}
}

// enterpriseGolden is the collector's golden exposition of the enterprise
// families (online agents by state, the per-agent series), which
// promqlcheck's golden file (one task's answer) does not hold; the
// collector's golden test writes it from a CloudListOnlineAgent answer.
const enterpriseGolden = "collector/testdata/enterprise_agents.prom"

func knownNames(t *testing.T) map[string]bool {
	t.Helper()
	known, err := promqlcheck.KnownNames(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(repoRoot, enterpriseGolden))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, err := promqlcheck.NamesFromExposition(f)
	if err != nil {
		t.Fatalf("%s: %v", enterpriseGolden, err)
	}
	for n := range names {
		known[n] = true
	}
	return known
}

func TestDashboardsLint(t *testing.T) {
	known := knownNames(t)
	for name, raw := range dashboardFiles(t) {
		problems := lintDashboard(raw, known)
		for _, p := range problems {
			t.Errorf("%s: %s", name, p)
		}
	}
}

// What every dashboard must show, by panel title (a regression guard for the
// panels the brief asks for).
func TestDashboardsHaveTheRequiredPanels(t *testing.T) {
	want := map[string][]string{
		"dyvms-callcentre.json": {"Agents by state", "Agent occupancy", "Agents online", "Queues",
			"Calls per queue (15 min)", "Calls per queue today", "Service level (15 min)", "Service level today",
			"Abandon ratio", "Answer wait (heatmap)", "Answer wait", "Abandon wait", "Inbound poller lag"},
		"dyvms-overview.json": {"Tasks", "List progress", "Answer rate today", "Agents online and available",
			"Customers waiting for an agent (5-minute peak)", "IVR overflow", "Agent occupancy",
			"Call outcomes", "Abandoned-call rate (24 h)", "Customer's wait for an agent", "Calls by outcome"},
		"dyvms-task.json": {"Channels", "Agent states (task counts)", "Agents", "Average talk time per agent",
			"Average idle time per agent", "Answered within 2 s", "Daily call limit used",
			"Call outcomes", "Abandoned-call rate (24 h)", "Customer's wait for an agent", "Wait for an agent (heatmap)", "Calls by outcome"},
		"dyvms-exporter.json": {"Task scrape success", "Task scrape duration", "API requests by code", "API throttling",
			"API error ratio", "API request latency", "API retries by code", "Rate limiter wait", "Request rate vs rate limit",
			"Calls served without a request", "Tasks discovered", "Age of the discovered task list", "Discovery failures"},
	}
	files := dashboardFiles(t)
	for file, titles := range want {
		var d dashboardJSON
		if err := json.Unmarshal(files[file], &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		have := map[string]bool{}
		for _, p := range flatten(d.Panels) {
			have[p.Title] = true
		}
		for _, title := range titles {
			if !have[title] {
				t.Errorf("%s: no panel %q", file, title)
			}
		}
	}
}

// --- the linter, in the spirit of grafana/dashboard-linter

type dashboardJSON struct {
	UID        string      `json:"uid"`
	Title      string      `json:"title"`
	Tags       []string    `json:"tags"`
	Timezone   string      `json:"timezone"`
	Panels     []panelJSON `json:"panels"`
	Templating struct {
		List []variableJSON `json:"list"`
	} `json:"templating"`
}

type panelJSON struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  json.RawMessage `json:"datasource"`
	GridPos     struct{ H, W, X, Y int }
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		RefID      string          `json:"refId"`
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
	Panels []panelJSON `json:"panels"`
}

type variableJSON struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource json.RawMessage `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Regex      string          `json:"regex"`
	Hide       int             `json:"hide"`
}

func flatten(ps []panelJSON) []panelJSON {
	var out []panelJSON
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

var (
	uidRE         = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	datasourceVar = map[string]bool{"${datasource}": true, "$datasource": true}
	filterVars    = []string{"cluster", "job", "instance", "enterprise_id", "task_id"}
	// boardFilterVars are the filter variables of the boards that have other
	// ones than filterVars: the call-centre board has queues, not tasks.
	boardFilterVars = map[string][]string{
		"dyvms-callcentre": {"cluster", "job", "instance", "enterprise_id", "queue"},
	}
	// namedVars are the variables whose values are ids shown by name: a
	// query_result whose regex takes the text and the value from each series.
	namedVars = map[string]string{"task_id": "task names", "queue": "queue names"}
	// singleTaskBoards are the boards whose task variable is single-select
	// without All (one task at a time).
	singleTaskBoards = map[string]bool{"dyvms-task": true}
	// taskVarRegexRE is the form of the task variable's regular expression:
	// named groups take the text (the task's name) and the value (its id)
	// from each series of query_result.
	taskVarRegexRE = regexp.MustCompile(`^/.*\(\?<text>.*\(\?<value>.*/$|^/.*\(\?<value>.*\(\?<text>.*/$`)
)

// lintDashboard returns every problem of one dashboard JSON.
func lintDashboard(raw []byte, known map[string]bool) []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }

	var d dashboardJSON
	if err := json.Unmarshal(raw, &d); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	if !uidRE.MatchString(d.UID) {
		add("uid %q is not a short stable slug", d.UID)
	}
	if d.Title == "" || len(d.Tags) == 0 {
		add("title and tags must be set")
	}
	if d.Timezone != Timezone {
		add("timezone %q, want the call centre's %q (grafana.Timezone)", d.Timezone, Timezone)
	}

	// Every "datasource" anywhere must be the datasource variable.
	var generic any
	_ = json.Unmarshal(raw, &generic)
	p = append(p, hardCodedDatasources(generic, "$")...)

	// Template variables.
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	var dsVar *variableJSON
	for i, v := range d.Templating.List {
		if v.Name == "datasource" {
			dsVar = &d.Templating.List[i]
		}
	}
	if dsVar == nil || dsVar.Type != "datasource" || string(dsVar.Query) != `"prometheus"` {
		add(`no template variable "datasource" of type datasource for prometheus`)
	}
	boardVars := filterVars
	if fv, ok := boardFilterVars[d.UID]; ok {
		boardVars = fv
	}
	for _, name := range boardVars {
		var v *variableJSON
		for i := range d.Templating.List {
			if d.Templating.List[i].Name == name {
				v = &d.Templating.List[i]
			}
		}
		if v == nil {
			add("no template variable %q", name)
			continue
		}
		switch {
		case name == "cluster":
			// Hidden, All = .* (series without the label match too): the
			// mixin's showMultiCluster shows it.
			if v.Type != "query" || !v.Multi || !v.IncludeAll || v.AllValue != ".*" || v.Hide != 2 {
				add("variable %q must be a hidden (hide 2) multi-value query variable with All = .*", name)
			}
		case name == "task_id" && singleTaskBoards[d.UID]:
			if v.Type != "query" || v.Multi || v.IncludeAll {
				add("variable %q must be a single-value query variable without All on this board", name)
			}
		default:
			if v.Type != "query" || !v.Multi || !v.IncludeAll || v.AllValue != ".+" {
				add("variable %q must be a multi-value query variable with All = .+", name)
			}
		}
		if !isDatasourceVar(v.Datasource) {
			add("variable %q does not use the datasource variable", name)
		}
		query := promqlcheck.VariableQuery(v.Query)
		_, inner, ok := promqlcheck.VariablePromQL(query)
		if !ok {
			add("variable %q: query %q is neither label_values(selector, label) nor query_result(expr)", name, query)
			continue
		}
		if what, ok := namedVars[name]; ok && (!strings.HasPrefix(query, "query_result(") || !taskVarRegexRE.MatchString(v.Regex)) {
			add("variable %q must show %s: query_result(...) with a regex naming the text and value groups, not %q / %q", name, what, query, v.Regex)
		}
		// A variable's query filters on the variables before it (cascading).
		prev := boardVars[:slicesIndex(boardVars, name)]
		for _, e := range checkExpr(inner, vars, known, func(string) []string { return prev }, false) {
			add("variable %q: %s", name, e)
		}
	}

	// Panels.
	ids := map[int]bool{}
	for _, pn := range flatten(d.Panels) {
		where := fmt.Sprintf("panel %d %q", pn.ID, pn.Title)
		if ids[pn.ID] {
			add("%s: duplicate panel id", where)
		}
		ids[pn.ID] = true
		if pn.Title == "" {
			add("%s: no title", where)
		}
		if pn.GridPos.W <= 0 || pn.GridPos.H <= 0 || pn.GridPos.X < 0 || pn.GridPos.X+pn.GridPos.W > 24 {
			add("%s: gridPos %+v outside the 24-column grid", where, pn.GridPos)
		}
		if pn.Type == "row" {
			continue
		}
		if pn.Description == "" {
			add("%s: no description", where)
		}
		if pn.FieldConfig.Defaults.Unit == "" {
			add("%s: no unit", where)
		}
		if !isDatasourceVar(pn.Datasource) {
			add("%s: does not use the datasource variable", where)
		}
		if len(pn.Targets) == 0 {
			add("%s: no query", where)
		}
		for _, tg := range pn.Targets {
			tw := fmt.Sprintf("%s query %s", where, tg.RefID)
			if !isDatasourceVar(tg.Datasource) {
				add("%s: does not use the datasource variable", tw)
			}
			for _, e := range checkExpr(tg.Expr, vars, known, panelMatchers, true) {
				add("%s: %s", tw, e)
			}
		}
	}
	return p
}

// callCentreScope says whether a metric is one of the call-centre series of
// docs/call-centre.md and whether it is per queue ("queue") or per
// enterprise ("enterprise"). They carry enterprise_id but no task_id
// (promqlcheck.TaskScoped takes every dyvms_enterprise_* for a task metric,
// as dyvms_enterprise_channels is).
func callCentreScope(name string) (string, bool) {
	switch {
	case strings.HasPrefix(name, "dyvms:queue_"), strings.HasPrefix(name, "dyvms_queue_info"),
		strings.HasPrefix(name, "dyvms_queue_service_level_seconds"),
		strings.HasPrefix(name, "dyvms_inbound_calls_total"),
		strings.HasPrefix(name, "dyvms_inbound_answer_wait_seconds"),
		strings.HasPrefix(name, "dyvms_inbound_abandon_wait_seconds"):
		return "queue", true
	case strings.HasPrefix(name, "dyvms_enterprise_agent"), strings.HasPrefix(name, "dyvms:enterprise_agent"),
		strings.HasPrefix(name, "dyvms_inbound_"), strings.HasPrefix(name, "dyvms_queue_"):
		return "enterprise", true
	}
	return "", false
}

func isDatasourceVar(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return datasourceVar[s]
	}
	var o struct{ Type, UID string }
	if json.Unmarshal(raw, &o) != nil {
		return false
	}
	return o.Type == "prometheus" && datasourceVar[o.UID]
}

// hardCodedDatasources walks any JSON value for "datasource" keys that do not
// refer to the datasource variable.
func hardCodedDatasources(v any, path string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "datasource" {
				raw, _ := json.Marshal(x[k])
				if !isDatasourceVar(raw) {
					out = append(out, fmt.Sprintf("%s.datasource is %s, not the ${datasource} variable", path, raw))
				}
				continue
			}
			out = append(out, hardCodedDatasources(x[k], path+"."+k)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, hardCodedDatasources(e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return len(s)
}

// panelMatchers are the variables a panel selector of metric name must
// filter on: job and instance always, enterprise and task where the metric
// carries those labels, and queue on the call-centre series per queue. (A
// board without one of these variables is not asked for it: checkExpr
// skips the variables a board does not have.)
func panelMatchers(name string) []string {
	need := []string{"cluster", "job", "instance"}
	if scope, ok := callCentreScope(name); ok {
		need = append(need, "enterprise_id")
		if scope == "queue" {
			need = append(need, "queue")
		}
		return need
	}
	if promqlcheck.TaskScoped(name) {
		need = append(need, "enterprise_id", "task_id")
	} else if promqlcheck.EnterpriseScoped(name) {
		need = append(need, "enterprise_id")
	}
	return need
}

// checkExpr parses one query after template substitution and checks metric
// names, the matchers on the variables need returns for each selector and,
// for panel queries, $__rate_interval in every rate/irate/increase.
func checkExpr(expr string, vars, known map[string]bool, need func(metric string) []string, panel bool) []string {
	var p []string
	if strings.TrimSpace(expr) == "" {
		return []string{"empty query"}
	}
	sub, unknown := promqlcheck.Substitute(expr, vars)
	for _, u := range unknown {
		p = append(p, fmt.Sprintf("undefined variable $%s", u))
	}
	e, err := promqlcheck.Parse(sub)
	if err != nil {
		return append(p, fmt.Sprintf("does not parse as PromQL (%s): %v", sub, err))
	}
	p = append(p, promqlcheck.UnknownNames(e, known)...)
	for _, vs := range promqlcheck.Selectors(e) {
		name := promqlcheck.MetricName(vs)
		for _, l := range need(name) {
			if !vars[l] {
				continue // a dashboard without that variable cannot filter on it (and is told so above)
			}
			m := promqlcheck.Matcher(vs, l)
			if m == nil || m.Type != labels.MatchRegexp || m.Value != promqlcheck.VarValue(l) {
				p = append(p, fmt.Sprintf("selector %s lacks %s=~\"$%s\"", name, l, l))
			}
		}
	}
	if panel {
		for _, rc := range promqlcheck.RateRanges(e) {
			if rc.Range != promqlcheck.RateInterval {
				p = append(p, fmt.Sprintf("%s() does not use $__rate_interval", rc.Func))
			}
		}
	}
	return p
}

// --- the linter must catch what it is for

const goodDashboard = `{
  "uid": "dyvms-lint", "title": "lint", "tags": ["dyvms"], "timezone": "Asia/Shanghai",
  "templating": {"list": [
    {"name": "datasource", "type": "datasource", "query": "prometheus"},
    {"name": "cluster", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"}, "multi": true, "includeAll": true, "allValue": ".*", "hide": 2,
     "query": {"query": "label_values(dyvms_exporter_build_info, cluster)"}},
    {"name": "job", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"}, "multi": true, "includeAll": true, "allValue": ".+",
     "query": {"query": "label_values(dyvms_exporter_build_info{cluster=~\"$cluster\"}, job)"}},
    {"name": "instance", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"}, "multi": true, "includeAll": true, "allValue": ".+",
     "query": "label_values(dyvms_exporter_build_info{cluster=~\"$cluster\", job=~\"$job\"}, instance)"},
    {"name": "enterprise_id", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"}, "multi": true, "includeAll": true, "allValue": ".+",
     "query": "label_values(dyvms_task_scrape_success{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\"}, enterprise_id)"},
    {"name": "task_id", "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"}, "multi": true, "includeAll": true, "allValue": ".+",
     "query": "query_result(dyvms_task_info{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\"})",
     "regex": "/task_id=\"(?<value>[^\"]+)\".*task_name=\"(?<text>[^\"]*)\"/"}
  ]},
  "panels": [
    {"id": 1, "type": "row", "title": "Row", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}},
    {"id": 2, "type": "timeseries", "title": "Rate", "description": "d", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
     "datasource": {"type": "prometheus", "uid": "${datasource}"},
     "fieldConfig": {"defaults": {"unit": "reqps"}},
     "targets": [{"refId": "A", "datasource": {"type": "prometheus", "uid": "${datasource}"},
       "expr": "sum by (code) (rate(dyvms_api_requests_total{job=~\"$job\", instance=~\"$instance\", cluster=~\"$cluster\"}[$__rate_interval]))"}]},
    {"id": 3, "type": "stat", "title": "Waiting", "description": "d", "gridPos": {"h": 4, "w": 4, "x": 12, "y": 1},
     "datasource": {"type": "prometheus", "uid": "${datasource}"},
     "fieldConfig": {"defaults": {"unit": "none"}},
     "targets": [{"refId": "A", "datasource": {"type": "prometheus", "uid": "${datasource}"},
       "expr": "sum(dyvms_task_channels_waiting_agent{job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\", task_id=~\"$task_id\", cluster=~\"$cluster\"})"}]}
  ]
}`

func TestLinterCatchesMistakes(t *testing.T) {
	known := knownNames(t)
	if p := lintDashboard([]byte(goodDashboard), known); len(p) != 0 {
		t.Fatalf("the good dashboard has problems: %q", p)
	}
	rate := `sum by (code) (rate(dyvms_api_requests_total{job=~\"$job\", instance=~\"$instance\", cluster=~\"$cluster\"}[$__rate_interval]))`
	waiting := `sum(dyvms_task_channels_waiting_agent{job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\", task_id=~\"$task_id\", cluster=~\"$cluster\"})`
	checkLintCatches(t, goodDashboard, known, []lintMistake{
		{"fixed rate range", `[$__rate_interval]`, `[5m]`, "does not use $__rate_interval"},
		{"increase over the range", `(rate(dyvms_api_requests_total{job=~\"$job\", instance=~\"$instance\", cluster=~\"$cluster\"}[$__rate_interval])`, `(increase(dyvms_api_requests_total{job=~\"$job\", instance=~\"$instance\", cluster=~\"$cluster\"}[$__range])`, "increase() does not use $__rate_interval"},
		{"broken PromQL", rate, `sum by (code) (rate(dyvms_api_requests_total{job=~\"$job\"}[$__rate_interval])`, "does not parse"},
		{"unknown metric", `dyvms_task_channels_waiting_agent{`, `dyvms_task_customers_waiting{`, `metric "dyvms_task_customers_waiting"`},
		{"no job matcher", `{job=~\"$job\", instance=~\"$instance\", cluster=~\"$cluster\"}[`, `{instance=~\"$instance\", cluster=~\"$cluster\"}[`, `lacks job=~"$job"`},
		{"hard-coded job", `{job=~\"$job\", instance=~\"$instance\", cluster=~\"$cluster\"}[`, `{job=\"dyvms\", instance=~\"$instance\", cluster=~\"$cluster\"}[`, `lacks job=~"$job"`},
		{"no instance matcher", `{job=~\"$job\", instance=~\"$instance\", cluster=~\"$cluster\"}[`, `{job=~\"$job\", cluster=~\"$cluster\"}[`, `lacks instance=~"$instance"`},
		{"no cluster matcher", `, cluster=~\"$cluster\"}[`, `}[`, `lacks cluster=~"$cluster"`},
		{"no task matcher", `, task_id=~\"$task_id\", cluster`, `, cluster`, `lacks task_id=~"$task_id"`},
		{"undefined variable", waiting, `sum(dyvms_task_channels_waiting_agent{job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise\", task_id=~\"$task_id\", cluster=~\"$cluster\"})`, "undefined variable $enterprise"},
		{"no unit", `"unit": "reqps"`, `"unit": ""`, "no unit"},
		{"no description", `"title": "Rate", "description": "d"`, `"title": "Rate", "description": ""`, "no description"},
		{"no title", `"title": "Rate"`, `"title": ""`, "no title"},
		{"hard-coded panel datasource", `"gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
     "datasource": {"type": "prometheus", "uid": "${datasource}"}`, `"gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
     "datasource": {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}`, `P1809F7CD0C75ACF3`},
		{"hard-coded target datasource", `"targets": [{"refId": "A", "datasource": {"type": "prometheus", "uid": "${datasource}"},
       "expr": "sum by`, `"targets": [{"refId": "A", "datasource": "Prometheus",
       "expr": "sum by`, `"Prometheus"`},
		{"no datasource variable", `{"name": "datasource", "type": "datasource", "query": "prometheus"},`, ``, `no template variable "datasource"`},
		{"task variable without All", `"allValue": ".+",
     "query": "query_result(`, `"allValue": "",
     "query": "query_result(`, `variable "task_id" must be`},
		{"task board with a multi-value task variable", `"uid": "dyvms-lint"`, `"uid": "dyvms-task"`, `variable "task_id" must be a single-value`},
		{"task ids without names", `"regex": "/task_id=\"(?<value>[^\"]+)\".*task_name=\"(?<text>[^\"]*)\"/"`, `"regex": ""`, `must show task names`},
		{"task variable of ids", `query_result(dyvms_task_info{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\"})`, `label_values(dyvms_task_info{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\"}, task_id)`, `must show task names`},
		{"cluster variable shown", `"allValue": ".*", "hide": 2`, `"allValue": ".*", "hide": 0`, `variable "cluster" must be`},
		{"browser time zone", `"timezone": "Asia/Shanghai"`, `"timezone": "browser"`, `timezone "browser"`},
		{"variable not cascading", `label_values(dyvms_exporter_build_info{cluster=~\"$cluster\", job=~\"$job\"}, instance)`, `label_values(dyvms_exporter_build_info{cluster=~\"$cluster\"}, instance)`, `variable "instance": selector dyvms_exporter_build_info lacks job`},
		{"variable on unknown metric", `label_values(dyvms_exporter_build_info{cluster=~\"$cluster\"}, job)`, `label_values(dyvms_exporter_info{cluster=~\"$cluster\"}, job)`, `metric "dyvms_exporter_info"`},
		{"duplicate panel id", `{"id": 3, "type": "stat"`, `{"id": 2, "type": "stat"`, "duplicate panel id"},
		{"bad uid", `"uid": "dyvms-lint"`, `"uid": "Dyvms Lint!"`, "uid"},
		{"off the grid", `"w": 4, "x": 12`, `"w": 14, "x": 12`, "gridPos"},
	})
}

// lintMistake is one mistake put into a board that the lint passes: the
// first from replaced by to must give a problem mentioning want.
type lintMistake struct{ name, from, to, want string }

func checkLintCatches(t *testing.T, board string, known map[string]bool, mistakes []lintMistake) {
	t.Helper()
	for _, c := range mistakes {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(board, c.from) {
				t.Fatalf("the board does not contain %q", c.from)
			}
			problems := lintDashboard([]byte(strings.Replace(board, c.from, c.to, 1)), known)
			for _, p := range problems {
				if strings.Contains(p, c.want) {
					return
				}
			}
			t.Errorf("no problem mentioning %q; got %q", c.want, problems)
		})
	}
}

// The queries must also be accepted by the Prometheus the project tests
// against (Debian's, older than the parser module): write them, variables
// substituted, as recording rules and let promtool check them.
func TestQueriesPassPromtool(t *testing.T) {
	promtool := testutil.Tool(t, "promtool", "Debian: apt-get install -y prometheus")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for name, raw := range dashboardFiles(t) {
		var d dashboardJSON
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		vars := map[string]bool{}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
		}
		for _, p := range flatten(d.Panels) {
			for _, tg := range p.Targets {
				expr, _ := promqlcheck.Substitute(tg.Expr, vars)
				rules = append(rules, rule{Record: fmt.Sprintf("dashboard_query_%d", len(rules)), Expr: expr})
			}
		}
	}
	file := map[string]any{"groups": []map[string]any{{"name": "dashboard-queries", "rules": rules}}}
	b, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "queries.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules on %d dashboard queries: %v\n%s", len(rules), err, out)
	}
	t.Logf("promtool accepted %d dashboard queries", len(rules))
}

// --- provisioning

func TestProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, Type, Access, URL string
			UID                     string `yaml:"uid"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join("provisioning", "datasources", "prometheus.yml"), &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL == "" {
		t.Errorf("datasource provisioning: %+v", ds)
	}

	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Type, Folder string
			Options            struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join("provisioning", "dashboards", "dyvms.yml"), &prov)
	if prov.APIVersion != 1 || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" {
		t.Fatalf("dashboard provisioning: %+v", prov)
	}
	path := prov.Providers[0].Options.Path
	if !strings.HasSuffix(path, "/dashboards") {
		t.Errorf("provider path %q should be grafana/dashboards where grafana/ is mounted", path)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	mount := strings.TrimSuffix(path, "/dashboards")
	for _, s := range []string{mount, mount + "/provisioning", "GF_PATHS_PROVISIONING"} {
		if !strings.Contains(string(readme), s) {
			t.Errorf("grafana/README.md does not mention %q", s)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
