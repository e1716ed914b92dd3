package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Datasource is how every panel, target and query variable names its data
// source: the dashboard's datasource variable, never a fixed uid.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

var promDS = Datasource{Type: "prometheus", UID: "${datasource}"}

// GridPos places a panel on the 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Target is one Prometheus query of a panel.
type Target struct {
	RefID        string     `json:"refId"`
	Datasource   Datasource `json:"datasource"`
	EditorMode   string     `json:"editorMode"`
	Expr         string     `json:"expr"`
	Format       string     `json:"format"`
	Instant      bool       `json:"instant"`
	Range        bool       `json:"range"`
	LegendFormat string     `json:"legendFormat,omitempty"`
}

// FieldConfig is a panel's field configuration.
type FieldConfig struct {
	Defaults  map[string]any `json:"defaults"`
	Overrides []Override     `json:"overrides"`
}

// Override changes the configuration of the fields a matcher selects.
type Override struct {
	Matcher    map[string]any   `json:"matcher"`
	Properties []map[string]any `json:"properties"`
}

// Panel is a Grafana panel (or a row).
type Panel struct {
	ID              int              `json:"id"`
	Type            string           `json:"type"`
	Title           string           `json:"title"`
	Description     string           `json:"description,omitempty"`
	Datasource      *Datasource      `json:"datasource,omitempty"`
	GridPos         GridPos          `json:"gridPos"`
	Collapsed       *bool            `json:"collapsed,omitempty"`
	Panels          []Panel          `json:"panels,omitempty"`
	FieldConfig     *FieldConfig     `json:"fieldConfig,omitempty"`
	Options         map[string]any   `json:"options,omitempty"`
	Targets         []Target         `json:"targets,omitempty"`
	Transformations []map[string]any `json:"transformations,omitempty"`
}

// Variable is a template variable.
type Variable struct {
	Name        string         `json:"name"`
	Label       string         `json:"label"`
	Type        string         `json:"type"`
	Description string         `json:"description,omitempty"`
	Datasource  *Datasource    `json:"datasource,omitempty"`
	Query       any            `json:"query"`
	Definition  string         `json:"definition,omitempty"`
	Refresh     int            `json:"refresh"`
	Regex       string         `json:"regex"`
	Sort        int            `json:"sort,omitempty"`
	Multi       bool           `json:"multi"`
	IncludeAll  bool           `json:"includeAll"`
	AllValue    string         `json:"allValue,omitempty"`
	Current     map[string]any `json:"current"`
	Options     []any          `json:"options"`
	Hide        int            `json:"hide"`
}

// Dashboard is one dashboard file.
type Dashboard struct {
	File string `json:"-"`

	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	Description   string         `json:"description"`
	Tags          []string       `json:"tags"`
	Editable      bool           `json:"editable"`
	GraphTooltip  int            `json:"graphTooltip"`
	Refresh       string         `json:"refresh"`
	SchemaVersion int            `json:"schemaVersion"`
	Version       int            `json:"version"`
	Time          map[string]any `json:"time"`
	Timezone      string         `json:"timezone"`
	Annotations   map[string]any `json:"annotations"`
	Links         []any          `json:"links"`
	Templating    map[string]any `json:"templating"`
	Panels        []Panel        `json:"panels"`
}

// Render returns the dashboard's JSON as committed in dashboards/.
func Render(d Dashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Timezone is the boards' time zone: the call centre's, whose midnight
// resets the "today" counters (the exporter's default timezone too). It is
// the one place to change it in the JSON; the mixin's _config.dashboardTimezone
// overrides it.
const Timezone = "Asia/Shanghai"

// Selector label sets. Every query filters on the cluster, job and instance
// variables; task and agent metrics also on enterprise_id and task_id. The
// cluster variable is hidden and "All" (.*, which matches series without the
// label too) unless the mixin's showMultiCluster turns it on.
const (
	clusterMatcher     = `cluster=~"$cluster"`
	exporterMatchers   = clusterMatcher + `, job=~"$job", instance=~"$instance"`
	enterpriseMatchers = exporterMatchers + `, enterprise_id=~"$enterprise_id"`
	taskMatchers       = enterpriseMatchers + `, task_id=~"$task_id"`
	taskBy             = `job, instance, enterprise_id, task_id`
	agentBy            = taskBy + `, cno, removed`
)

// taskSel selects a task or agent metric, expSel an exporter-wide one, entSel an
// enterprise-level recording rule; extra matchers are appended.
func taskSel(name string, extra ...string) string { return sel(name, taskMatchers, extra) }
func expSel(name string, extra ...string) string  { return sel(name, exporterMatchers, extra) }
func entSel(name string, extra ...string) string  { return sel(name, enterpriseMatchers, extra) }

func sel(name, base string, extra []string) string {
	m := base
	for _, e := range extra {
		m += ", " + e
	}
	return name + "{" + m + "}"
}

// taskVariable lists the tasks by name (text "name · id"), their ids as the
// values: Grafana's query_result with a regular expression whose named groups
// pick the text and the value from each series. The series are sorted by
// label name, so task_display comes before task_id. A task without
// dyvms_task_info (its last read failed, or the family is excluded) is still
// listed, by its id, from dyvms_task_scrape_success. With single true (the
// task board) the tasks are ordered by their calls in progress, busiest
// first, and Grafana opens the board on the first: the busiest task.
func taskVariable(single bool) Variable {
	m := enterpriseMatchers
	named := `label_join(max by (enterprise_id, task_id, task_name) (dyvms_task_info{` + m + `}), "task_display", " · ", "task_name", "task_id")`
	byID := `label_join(max by (enterprise_id, task_id) (dyvms_task_scrape_success{` + m + `}), "task_display", "", "task_id")`
	display := named + ` or on (enterprise_id, task_id) ` + byID
	if single {
		display = `sort_desc((` + display + `) * 0 + on (enterprise_id, task_id) group_left ()` +
			` (max by (enterprise_id, task_id) (dyvms_task_channels{` + m + `})` +
			` or on (enterprise_id, task_id) max by (enterprise_id, task_id) (dyvms_task_scrape_success{` + m + `}) * 0))`
	}
	query := `query_result(` + display + `)`
	v := Variable{
		Name: "task_id", Label: "Task", Type: "query", Datasource: &promDS,
		Description: "Dialling task, by its name in the console and its id.",
		Query:       map[string]any{"query": query, "varQuery": display, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 3},
		Definition:  query, Refresh: 2,
		Regex:   `/task_display="(?<text>[^"]*)".*task_id="(?<value>[^"]+)"/`,
		Options: []any{},
	}
	if single {
		v.Description = "Dialling task, by its name in the console and its id; busiest first (most calls in progress), the board opens on it."
		v.Current = map[string]any{}
		return v
	}
	v.Sort, v.Multi, v.IncludeAll, v.AllValue = 5, true, true, ".+"
	v.Current = map[string]any{"selected": true, "text": []string{"All"}, "value": []string{"$__all"}}
	return v
}

// variables are the board's template variables; singleTask makes the task
// variable single-select (the task board).
func variables(singleTask bool) map[string]any {
	qv := func(name, label, query, desc string) Variable {
		return Variable{
			Name: name, Label: label, Type: "query", Description: desc,
			Datasource: &promDS,
			Query:      map[string]any{"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1},
			Definition: query, Refresh: 2, Sort: 3,
			Multi: true, IncludeAll: true, AllValue: ".+",
			Current: map[string]any{"selected": true, "text": []string{"All"}, "value": []string{"$__all"}},
			Options: []any{},
		}
	}
	return map[string]any{"list": []Variable{
		{
			Name: "datasource", Label: "Data source", Type: "datasource", Query: "prometheus",
			Description: "The Prometheus that scrapes dyvms_exporter.",
			Refresh:     1, Current: map[string]any{}, Options: []any{},
		},
		// Hidden unless the mixin's showMultiCluster turns it on; "All" is .*
		// so that series without a cluster label match.
		func() Variable {
			v := qv("cluster", "Cluster", `label_values(dyvms_task_scrape_success, cluster)`, "The cluster label of the series, for one Grafana in front of several clusters' data (hidden unless the mixin's showMultiCluster is on).")
			v.AllValue, v.Hide = ".*", 2
			return v
		}(),
		// Jobs and instances come from the task series, so the /probe job of a
		// sharded setup is listed (it has no build_info); "All" also covers
		// that setup's /exporter-metrics job.
		qv("job", "Job", `label_values(dyvms_task_scrape_success{cluster=~"$cluster"}, job)`, "Prometheus job(s) scraping dyvms_exporter's tasks (/metrics, or /probe when sharded); All also covers an /exporter-metrics job."),
		qv("instance", "Exporter", `label_values(dyvms_task_scrape_success{cluster=~"$cluster", job=~"$job"}, instance)`, "Exporter instance(s)."),
		qv("enterprise_id", "Enterprise (call centre)", `label_values(dyvms_task_scrape_success{`+exporterMatchers+`}, enterprise_id)`, "Call-centre (enterprise) id."),
		taskVariable(singleTask),
	}}
}

func newDashboard(file, uid, title, desc string, tags []string, singleTask bool, rows ...[]Panel) Dashboard {
	return Dashboard{
		File: file, UID: uid, Title: title, Description: desc,
		Tags:          append([]string{"dyvms", "dyvmsapi", "call-centre"}, tags...),
		Editable:      true,
		GraphTooltip:  1,
		Refresh:       "1m",
		SchemaVersion: 39,
		Version:       1,
		Time:          map[string]any{"from": "now-6h", "to": "now"},
		Timezone:      Timezone,
		Annotations:   map[string]any{"list": []any{}},
		Links: []any{map[string]any{
			"title": "dyvms dashboards", "type": "dashboards", "tags": []string{"dyvms"},
			"asDropdown": true, "includeVars": true, "keepTime": true, "icon": "external link",
			"targetBlank": false, "tooltip": "", "url": "",
		}},
		Templating: variables(singleTask),
		Panels:     layout(rows),
	}
}

// layout places rows of panels on the grid: a row header, then the panels
// left to right, wrapping at 24 columns. Panel ids are assigned in order.
func layout(rows [][]Panel) []Panel {
	var out []Panel
	y, id := 0, 1
	for _, row := range rows {
		x, rowH := 0, 0
		for _, p := range row {
			p.ID = id
			id++
			if p.Type == "row" {
				if x > 0 {
					y += rowH
				}
				p.GridPos = GridPos{H: 1, W: 24, X: 0, Y: y}
				y++
				x, rowH = 0, 0
				out = append(out, p)
				continue
			}
			if x+p.GridPos.W > 24 {
				y += rowH
				x, rowH = 0, 0
			}
			p.GridPos.X, p.GridPos.Y = x, y
			x += p.GridPos.W
			rowH = max(rowH, p.GridPos.H)
			out = append(out, p)
		}
		y += rowH
	}
	return out
}

func row(title string) Panel {
	f := false
	return Panel{Type: "row", Title: title, Collapsed: &f}
}

type q struct{ expr, legend string }

func targets(instant bool, format string, qs ...q) []Target {
	var ts []Target
	for i, x := range qs {
		ts = append(ts, Target{
			RefID: string(rune('A' + i)), Datasource: promDS, EditorMode: "code",
			Expr: x.expr, LegendFormat: x.legend, Format: format,
			Instant: instant, Range: !instant,
		})
	}
	return ts
}

func thresholds(steps ...any) map[string]any {
	// steps: color, value, color, value, color...
	s := []map[string]any{{"color": steps[0], "value": nil}}
	for i := 1; i+1 < len(steps); i += 2 {
		s = append(s, map[string]any{"value": steps[i], "color": steps[i+1]})
	}
	return map[string]any{"mode": "absolute", "steps": s}
}

var greenOnly = thresholds("green")

type opt func(*Panel)

func withMinMax(min, max any) opt {
	return func(p *Panel) {
		if min != nil {
			p.FieldConfig.Defaults["min"] = min
		}
		if max != nil {
			p.FieldConfig.Defaults["max"] = max
		}
	}
}

func withThresholds(t map[string]any, style string) opt {
	return func(p *Panel) {
		p.FieldConfig.Defaults["thresholds"] = t
		if c, ok := p.FieldConfig.Defaults["custom"].(map[string]any); ok && style != "" {
			c["thresholdsStyle"] = map[string]any{"mode": style}
		}
		if p.Type != "timeseries" {
			p.FieldConfig.Defaults["color"] = map[string]any{"mode": "thresholds"}
		}
	}
}

func stacked() opt {
	return func(p *Panel) {
		c := p.FieldConfig.Defaults["custom"].(map[string]any)
		c["stacking"] = map[string]any{"mode": "normal", "group": "A"}
		c["fillOpacity"] = 30
	}
}

func stepped() opt {
	return func(p *Panel) {
		p.FieldConfig.Defaults["custom"].(map[string]any)["lineInterpolation"] = "stepAfter"
	}
}

func withMappings(m ...map[string]any) opt {
	return func(p *Panel) { p.FieldConfig.Defaults["mappings"] = m }
}

func withOverrides(o ...Override) opt {
	return func(p *Panel) { p.FieldConfig.Overrides = append(p.FieldConfig.Overrides, o...) }
}

func withWidth(w, h int) opt { return func(p *Panel) { p.GridPos.W, p.GridPos.H = w, h } }

// withNoValue is the text a panel shows instead of "No data" when its
// queries return nothing, for panels whose emptiness is a normal state.
func withNoValue(text string) opt {
	return func(p *Panel) { p.FieldConfig.Defaults["noValue"] = text }
}

// agentNote ends the description of every panel that reads per-agent
// series, and perAgent shows a short form of it in place of "No data":
// with the exporter's metrics.agents: false (or the family in
// metrics.exclude) such a panel is empty by configuration, not broken.
const (
	agentNote    = " Needs the per-agent series (dyvms_agent_*): empty when the exporter runs with metrics.agents: false or excludes the family in metrics.exclude (README, \"Series budget\")."
	agentNoValue = "no per-agent series (metrics.agents: false?)"
)

func perAgent(p Panel) Panel {
	p.Description += agentNote
	return apply(p, []opt{withNoValue(agentNoValue)})
}

func apply(p Panel, opts []opt) Panel {
	for _, o := range opts {
		o(&p)
	}
	return p
}

func basePanel(typ, title, desc, unit string, w, h int) Panel {
	ds := promDS
	return Panel{
		Type: typ, Title: title, Description: desc, Datasource: &ds,
		GridPos: GridPos{W: w, H: h},
		FieldConfig: &FieldConfig{
			Defaults:  map[string]any{"unit": unit, "thresholds": greenOnly, "mappings": []any{}},
			Overrides: []Override{},
		},
	}
}

func timeseries(title, desc, unit string, qs []q, opts ...opt) Panel {
	p := basePanel("timeseries", title, desc, unit, 12, 8)
	p.FieldConfig.Defaults["color"] = map[string]any{"mode": "palette-classic"}
	p.FieldConfig.Defaults["custom"] = map[string]any{
		"drawStyle": "line", "lineWidth": 1, "fillOpacity": 0, "showPoints": "never",
		"spanNulls": false, "axisSoftMin": 0,
	}
	p.Options = map[string]any{
		"legend":  map[string]any{"displayMode": "table", "placement": "bottom", "showLegend": true, "calcs": []string{"lastNotNull", "max"}},
		"tooltip": map[string]any{"mode": "multi", "sort": "desc"},
	}
	p.Targets = targets(false, "time_series", qs...)
	return apply(p, opts)
}

func stat(title, desc, unit string, qs []q, opts ...opt) Panel {
	p := basePanel("stat", title, desc, unit, 4, 4)
	p.Options = map[string]any{
		"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
		"colorMode":     "value", "graphMode": "area", "justifyMode": "auto", "textMode": "auto",
		"orientation": "auto",
	}
	p.Targets = targets(false, "time_series", qs...)
	return apply(p, opts)
}

func gauge(title, desc, unit string, qs []q, opts ...opt) Panel {
	p := basePanel("gauge", title, desc, unit, 4, 4)
	p.Options = map[string]any{
		"reduceOptions":        map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
		"showThresholdMarkers": true, "showThresholdLabels": false,
	}
	p.Targets = targets(false, "time_series", qs...)
	return apply(p, opts)
}

func barGauge(title, desc, unit string, qs []q, opts ...opt) Panel {
	p := basePanel("bargauge", title, desc, unit, 12, 8)
	p.Options = map[string]any{
		"reduceOptions": map[string]any{"calcs": []string{"lastNotNull"}, "fields": "", "values": false},
		"displayMode":   "gradient", "orientation": "horizontal", "showUnfilled": true,
	}
	p.Targets = targets(false, "time_series", qs...)
	return apply(p, opts)
}

// heatmap shows a histogram's buckets over time: the increase of each
// bucket per interval (expr, already summed by le), as Prometheus gives it
// (Grafana does not re-bucket).
func heatmap(title, desc string, w, h int, expr string, opts ...opt) Panel {
	p := basePanel("heatmap", title, desc, "s", w, h)
	p.Options = map[string]any{
		"calculate": false, "cellGap": 1, "yAxis": map[string]any{"unit": "s", "axisPlacement": "left"},
		"color":     map[string]any{"mode": "scheme", "scheme": "Oranges", "exponent": 0.5, "steps": 64},
		"legend":    map[string]any{"show": true},
		"tooltip":   map[string]any{"mode": "single", "yHistogram": true},
		"rowsFrame": map[string]any{"layout": "auto"},
	}
	p.Targets = targets(false, "heatmap", q{expr, "{{le}}"})
	return apply(p, opts)
}

func stateTimeline(title, desc, unit string, qs []q, opts ...opt) Panel {
	p := basePanel("state-timeline", title, desc, unit, 24, 8)
	p.FieldConfig.Defaults["color"] = map[string]any{"mode": "thresholds"}
	p.FieldConfig.Defaults["custom"] = map[string]any{"fillOpacity": 80, "lineWidth": 0}
	p.Options = map[string]any{
		"showValue": "never", "mergeValues": true, "rowHeight": 0.9, "alignValue": "left",
		"legend":  map[string]any{"displayMode": "list", "placement": "bottom", "showLegend": true},
		"tooltip": map[string]any{"mode": "single", "sort": "none"},
	}
	p.Targets = targets(false, "time_series", qs...)
	return apply(p, opts)
}

// column is one value column of a table built from instant queries merged
// on their labels.
type column struct {
	title, expr, unit string
	hide              bool // a query that only brings label columns
	opts              []map[string]any
}

func table(title, desc string, labelOrder []string, hideLabels []string, cols []column, opts ...opt) Panel {
	p := basePanel("table", title, desc, "none", 24, 10)
	p.FieldConfig.Defaults["custom"] = map[string]any{"align": "auto", "cellOptions": map[string]any{"type": "auto"}, "filterable": true}
	p.Options = map[string]any{
		"showHeader": true, "cellHeight": "sm",
		"footer": map[string]any{"show": false, "reducer": []string{"sum"}, "countRows": false, "fields": ""},
	}
	var qs []q
	exclude := map[string]any{"Time": true}
	for _, l := range hideLabels {
		exclude[l] = true
	}
	rename := map[string]any{}
	index := map[string]any{}
	for i, l := range labelOrder {
		index[l] = i
	}
	for i, c := range cols {
		qs = append(qs, q{expr: c.expr})
		field := fmt.Sprintf("Value #%c", 'A'+i)
		if c.hide {
			exclude[field] = true
			continue
		}
		rename[field] = c.title
		index[field] = len(labelOrder) + i
		props := []map[string]any{{"id": "unit", "value": c.unit}}
		props = append(props, c.opts...)
		p.FieldConfig.Overrides = append(p.FieldConfig.Overrides, Override{
			Matcher:    map[string]any{"id": "byName", "options": c.title},
			Properties: props,
		})
	}
	p.Targets = targets(true, "table", qs...)
	p.Transformations = []map[string]any{
		{"id": "merge", "options": map[string]any{}},
		{"id": "organize", "options": map[string]any{"excludeByName": exclude, "renameByName": rename, "indexByName": index}},
	}
	return apply(p, opts)
}

func cellColor(t map[string]any) []map[string]any {
	return []map[string]any{
		{"id": "thresholds", "value": t},
		{"id": "custom.cellOptions", "value": map[string]any{"type": "color-background", "mode": "basic"}},
	}
}

var (
	ratioMinMax = withMinMax(0, 1)
	taskLegend  = "{{enterprise_id}}/{{task_id}}"
)

func byTask(expr string) string { return "max by (" + taskBy + ") (" + expr + ")" }

// Dashboards returns every dashboard, in file name order.
func Dashboards() []Dashboard {
	return []Dashboard{callCentreDashboard(), exporterDashboard(), overviewDashboard(), taskDashboard()}
}

func overviewDashboard() Dashboard {
	abandonThresholds := thresholds("green", 0.02, "orange", 0.03, "red")
	summary := []Panel{
		row("Summary of the selected tasks"),
		stat("Tasks running", "Selected tasks whose status is running (dyvms_task_status{status=\"running\"}).", "none",
			[]q{{`sum(` + taskSel("dyvms_task_status", `status="running"`) + `)`, ""}}),
		stat("Customers waiting for an agent", "Answered customers waiting to be put through to an agent right now, all selected tasks (instantaneous ChannelInfo.WaitAgentCount).", "none",
			[]q{{`sum(` + taskSel("dyvms_task_channels_waiting_agent") + `)`, ""}},
			withThresholds(thresholds("green", 1, "orange", 5, "red"), "")),
		stat("Agents online", "Agents of the selected tasks logged in right now (an agent in several tasks counts once per task).", "none",
			[]q{{`sum(` + taskSel("dyvms_task_agents_online") + `)`, ""}}),
		stat("Agents available", "Agents of the selected tasks free to take a call right now.", "none",
			[]q{{`sum(` + taskSel("dyvms_task_agents_available") + `)`, ""}}),
		stat("Answer rate today", "Customers who answered today / numbers dialled today, all selected tasks together. Resets at the call centre's midnight.", "percentunit",
			[]q{{`sum(` + taskSel("dyvms_task_today_answered") + `) / (sum(` + taskSel("dyvms_task_today_called") + `) > 0)`, ""}}),
		stat("Abandon proxy today", "(answered today - put through to an agent today) / answered today, all selected tasks. A proxy for the regulatory abandon rate (3 % limit in the US TSR and UK Ofcom rules): it cannot see the 2-second connect rule and counts customers still waiting as abandoned. See rules/dyvms.rules.yml.", "percentunit",
			[]q{{`sum(clamp_min(` + taskSel("dyvms_task_today_answered") + ` - ` + taskSel("dyvms_task_today_agent_calls") + `, 0)) / (sum(` + taskSel("dyvms_task_today_answered") + `) > 0)`, ""}},
			withThresholds(abandonThresholds, "")),
	}
	tasks := []Panel{
		row("Tasks"),
		table("Tasks", "One row per task: status, list progress, today's answer rate, agents, customers waiting, IVR overflow, occupancy and the abandon proxy. Instantaneous columns (agents, waiting, IVR, occupancy) are the last scrape; today's columns reset at the call centre's midnight.",
			[]string{"enterprise_id", "task_id", "task_name", "status", "status_description"},
			[]string{"job", "instance"},
			[]column{
				{title: "name", expr: `max by (` + taskBy + `, task_name, status_description) (` + taskSel("dyvms_task_info") + `)`, hide: true},
				{title: "status", expr: `max by (` + taskBy + `, status) (` + taskSel("dyvms_task_status") + ` == 1)`, hide: true},
				{title: "List progress", expr: byTask(taskSel("dyvms:task_list_progress:ratio")), unit: "percentunit",
					opts: []map[string]any{{"id": "custom.cellOptions", "value": map[string]any{"type": "gauge", "mode": "basic"}}, {"id": "min", "value": 0}, {"id": "max", "value": 1}}},
				{title: "Numbers left", expr: byTask(taskSel("dyvms_task_uncalled")), unit: "none"},
				{title: "Answer rate today", expr: byTask(taskSel("dyvms:task_answer_ratio:today")), unit: "percentunit"},
				{title: "Agents online", expr: byTask(taskSel("dyvms_task_agents_online")), unit: "none"},
				{title: "Agents available", expr: byTask(taskSel("dyvms_task_agents_available")), unit: "none"},
				{title: "Customers waiting", expr: byTask(taskSel("dyvms_task_channels_waiting_agent")), unit: "none",
					opts: cellColor(thresholds("transparent", 1, "orange", 5, "red"))},
				{title: "In IVR", expr: byTask(taskSel("dyvms_task_channels_ivr")), unit: "none",
					opts: cellColor(thresholds("transparent", 1, "orange"))},
				{title: "Occupancy", expr: byTask(taskSel("dyvms:task_agent_occupancy:ratio")), unit: "percentunit"},
				{title: "Abandon proxy today", expr: byTask(taskSel("dyvms:task_abandon_proxy_ratio:today")), unit: "percentunit",
					opts: cellColor(thresholds("transparent", 0.03, "red"))},
			},
			withOverrides(Override{
				Matcher: map[string]any{"id": "byName", "options": "task_id"},
				Properties: []map[string]any{{"id": "links", "value": []map[string]any{{
					"title": "Task detail",
					"url":   "/d/dyvms-task?${__url_time_range}&${datasource:queryparam}&${cluster:queryparam}&${job:queryparam}&${instance:queryparam}&var-enterprise_id=${__data.fields.enterprise_id}&var-task_id=${__value.raw}",
				}}}},
			}),
			withWidth(24, 10)),
	}
	trends := []Panel{
		row("Trends"),
		timeseries("List progress", "Numbers dialled / (dialled + left) since the task was created (dyvms:task_list_progress:ratio).", "percentunit",
			[]q{{taskSel("dyvms:task_list_progress:ratio"), taskLegend}}, ratioMinMax),
		timeseries("Answer rate today", "Customers who answered today / numbers dialled today, per task (dyvms:task_answer_ratio:today). Early in the day it rests on few calls.", "percentunit",
			[]q{{taskSel("dyvms:task_answer_ratio:today"), taskLegend}}, ratioMinMax),
		timeseries("Customers waiting for an agent (5-minute peak)", "Highest sampled number of answered customers waiting for an agent over 5 minutes, per task (dyvms:task_channels_waiting_agent:max5m). Only sampled at scrape times.", "none",
			[]q{{taskSel("dyvms:task_channels_waiting_agent:max5m"), taskLegend}}),
		timeseries("IVR overflow", "Share of the task's calls in progress that overflowed to the IVR because no agent was free (dyvms:task_ivr_overflow:ratio); instantaneous, not a count of overflow events.", "percentunit",
			[]q{{taskSel("dyvms:task_ivr_overflow:ratio"), taskLegend}}, ratioMinMax),
		timeseries("Agent occupancy", "(agents talking + in wrap-up) / agents online, per task (dyvms:task_agent_occupancy:ratio). Above 100 % the vendor's agent counts disagree.", "percentunit",
			[]q{{taskSel("dyvms:task_agent_occupancy:ratio"), taskLegend}}, withMinMax(0, nil),
			withThresholds(thresholds("green", 0.9, "red"), "dashed")),
		timeseries("Agents online and available", "Agents logged in and agents free to take a call, per task.", "none",
			[]q{{taskSel("dyvms_task_agents_online"), taskLegend + " online"}, {taskSel("dyvms_task_agents_available"), taskLegend + " available"}}),
		timeseries("Abandon proxy today", "Answered today but not put through to an agent / answered today, per task (dyvms:task_abandon_proxy_ratio:today). The dashed line is the 3 % regulatory limit; this is a proxy, see the rules file.", "percentunit",
			[]q{{taskSel("dyvms:task_abandon_proxy_ratio:today"), taskLegend}}, withMinMax(0, nil),
			withThresholds(thresholds("green", 0.03, "red"), "dashed")),
		timeseries("Enterprise channel utilisation", "Channels in use by the tasks this exporter reads / the enterprise's predictive-dialling channels (dyvms:enterprise_channel_utilisation:ratio). A lower bound: tasks the exporter does not read are not counted.", "percentunit",
			[]q{{entSel("dyvms:enterprise_channel_utilisation:ratio"), "{{enterprise_id}}"}}, withMinMax(0, nil)),
	}
	d := newDashboard("dyvms-overview.json", "dyvms-overview", "dyvms / Overview",
		"All dialling tasks read by dyvms_exporter: status, progress, answer rate, agents, waiting customers, IVR overflow, occupancy.",
		[]string{"overview"}, false, summary, tasks, trends, callOutcomes(false))
	d.Links = append(d.Links, boardLink("Call centre", "dyvms-callcentre", "Agents across the enterprise and inbound queues of the same enterprises (dyvms / Call centre)"))
	return d
}

func taskDashboard() Dashboard {
	agentLegend := "{{task_id}} {{cno}}"
	head := []Panel{
		row("Task"),
		stat("Status", "Current task status per task (dyvms_task_status state set: initial, running, paused, finished, unknown).", "none",
			[]q{{taskSel("dyvms_task_status") + ` == 1`, "{{task_id}}: {{status}}"}},
			func(p *Panel) { p.Options["textMode"] = "name"; p.Options["graphMode"] = "none" }),
		gauge("List progress", "Numbers dialled / (dialled + left) since the task was created.", "percentunit",
			[]q{{taskSel("dyvms:task_list_progress:ratio"), "{{task_id}}"}}, ratioMinMax),
		stat("Numbers left", "Numbers of the list not dialled yet (UncalledCount).", "none",
			[]q{{taskSel("dyvms_task_uncalled"), "{{task_id}}"}}),
		stat("Answer rate today", "Customers who answered today / numbers dialled today.", "percentunit",
			[]q{{taskSel("dyvms:task_answer_ratio:today"), "{{task_id}}"}}),
		stat("Abandon proxy today", "Answered today but not put through to an agent / answered today (a proxy for the 3 % regulatory abandon limit; see the rules file for its limits).", "percentunit",
			[]q{{taskSel("dyvms:task_abandon_proxy_ratio:today"), "{{task_id}}"}},
			withThresholds(thresholds("green", 0.02, "orange", 0.03, "red"), "")),
		stat("Started", "When the task started dialling (absent if it never started).", "dateTimeAsIso",
			[]q{{taskSel("dyvms_task_start_timestamp_seconds") + ` * 1000`, "{{task_id}}"}},
			func(p *Panel) { p.Options["graphMode"] = "none" }),
	}
	channels := []Panel{
		row("Channels and calls"),
		timeseries("Channels", "Calls of the task in progress right now, by state, and the enterprise's predictive-dialling channel capacity. Instantaneous: sampled at each scrape.", "none",
			[]q{
				{taskSel("dyvms_task_channels"), "{{task_id}} in progress"},
				{taskSel("dyvms_task_channels_waiting_answer"), "{{task_id}} ringing at the customer"},
				{taskSel("dyvms_task_channels_answered"), "{{task_id}} answered"},
				{taskSel("dyvms_task_channels_waiting_agent"), "{{task_id}} waiting for an agent"},
				{taskSel("dyvms_task_channels_bridged"), "{{task_id}} talking to an agent"},
				{taskSel("dyvms_task_channels_ivr"), "{{task_id}} in IVR"},
				{`max by (job, instance, enterprise_id) (` + taskSel("dyvms_enterprise_channels") + `)`, "{{enterprise_id}} enterprise capacity"},
			},
			withOverrides(Override{
				Matcher:    map[string]any{"id": "byRegexp", "options": ".*enterprise capacity"},
				Properties: []map[string]any{{"id": "custom.lineStyle", "value": map[string]any{"fill": "dash", "dash": []int{10, 10}}}},
			})),
		timeseries("Calls today", "Numbers dialled, customers who answered and calls put through to agents today (cumulative, reset at the call centre's midnight).", "none",
			[]q{
				{taskSel("dyvms_task_today_called"), "{{task_id}} dialled"},
				{taskSel("dyvms_task_today_answered"), "{{task_id}} answered"},
				{taskSel("dyvms_task_today_agent_calls"), "{{task_id}} put through to agents"},
			}, stepped()),
		// deriv() of the since-creation counts, not rate() of today's: those
		// are gauges (today's reset at midnight), and Prometheus 3 flags
		// rate() of a series not named like a counter with an info
		// annotation, which Grafana shows on the panel. The totals never
		// reset, so the slope needs no reset handling.
		timeseries("Dialling rate", "Numbers dialled and customers answering per minute: the slope of the task's totals since creation.", "cpm",
			[]q{
				{`deriv(` + taskSel("dyvms_task_called") + `[$__rate_interval]) * 60`, "{{task_id}} dialled"},
				{`deriv(` + taskSel("dyvms_task_answered") + `[$__rate_interval]) * 60`, "{{task_id}} answered"},
			}),
		timeseries("IVR overflow", "Share of the task's calls in progress that overflowed to the IVR (instantaneous).", "percentunit",
			[]q{{taskSel("dyvms:task_ivr_overflow:ratio"), "{{task_id}}"}}, ratioMinMax),
	}
	agents := []Panel{
		row("Agents"),
		timeseries("Agent states (task counts)", "Agents of the task by state right now, as the task-level AgentInfo counts them: assigned, online, available, ringing, talking, wrap-up.", "none",
			[]q{
				{taskSel("dyvms_task_agents_assigned"), "{{task_id}} assigned"},
				{taskSel("dyvms_task_agents_online"), "{{task_id}} online"},
				{taskSel("dyvms_task_agents_available"), "{{task_id}} available"},
				{taskSel("dyvms_task_agents_ringing"), "{{task_id}} ringing"},
				{taskSel("dyvms_task_agents_bridged"), "{{task_id}} talking"},
				{taskSel("dyvms_task_agents_wrapup"), "{{task_id}} wrap-up"},
			}),
		perAgent(timeseries("Agents per state (agent rows)", "Agents listed in the task by their own state (dyvms:task_agent_status:count from dyvms_agent_status, the same with either metrics.agent_status encoding): idle, pause, inuse, calling, wrapup, none; a state with no agent is not drawn.", "none",
			[]q{{taskSel("dyvms:task_agent_status:count"), "{{task_id}} {{status}}"}}, stacked())),
		timeseries("Occupancy and availability", "(talking + wrap-up) / online and available / online, per task (instantaneous).", "percentunit",
			[]q{
				{taskSel("dyvms:task_agent_occupancy:ratio"), "{{task_id}} occupancy"},
				{taskSel("dyvms:task_agent_availability:ratio"), "{{task_id}} availability"},
			}, withMinMax(0, nil)),
		// Empty also when no agent of the task has a daily limit, the
		// common case: its no-value text says both.
		apply(perAgent(barGauge("Daily call limit used", "Calls each agent answered today in the task / its task-level daily limit (dyvms:agent_call_limit_usage:ratio). Agents without a limit are not shown.", "percentunit",
			[]q{{taskSel("dyvms:agent_call_limit_usage:ratio", `removed="false"`), agentLegend}}, ratioMinMax,
			withThresholds(thresholds("green", 0.8, "orange", 1, "red"), ""))),
			[]opt{withNoValue("no agent of the task has a daily call limit, or " + agentNoValue)}),
		perAgent(table("Agents", "One row per agent of the task (removed agents too, with removed=true): state, today's answered calls and limits, calls offered and answered since joining the task, average talk and idle time, and the vendor's 2-second answer ratio.",
			[]string{"enterprise_id", "task_id", "cno", "agent_name", "status", "removed"},
			[]string{"job", "instance"},
			[]column{
				{title: "name", expr: `max by (` + agentBy + `, agent_name) (` + taskSel("dyvms_agent_info") + `)`, hide: true},
				{title: "status", expr: `max by (` + agentBy + `, status) (` + taskSel("dyvms_agent_status") + ` == 1)`, hide: true},
				{title: "Answered today", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_today_answered") + `)`, unit: "none"},
				{title: "Daily limit", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_call_limit") + `)`, unit: "none"},
				{title: "Limit used", expr: `max by (` + agentBy + `) (` + taskSel("dyvms:agent_call_limit_usage:ratio") + `)`, unit: "percentunit",
					opts: cellColor(thresholds("transparent", 0.8, "orange", 1, "red"))},
				{title: "Answered today (enterprise)", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_enterprise_today_answered") + `)`, unit: "none"},
				{title: "Daily limit (enterprise)", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_enterprise_call_limit") + `)`, unit: "none"},
				{title: "Offered", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_called") + `)`, unit: "none"},
				{title: "Answered", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_bridged") + `)`, unit: "none"},
				{title: "Not answered", expr: `max by (` + agentBy + `) (` + taskSel("dyvms:agent_non_answer:ratio") + `)`, unit: "percentunit"},
				{title: "Avg talk time", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_average_bridge_duration_seconds") + `)`, unit: "s"},
				{title: "Avg idle time", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_average_idle_duration_seconds") + `)`, unit: "s"},
				{title: "Answered within 2 s", expr: `max by (` + agentBy + `) (` + taskSel("dyvms_agent_bridge_in_2s_ratio") + `)`, unit: "none"},
			}, withWidth(24, 12))),
		perAgent(timeseries("Average talk time per agent", "Average talk time of each agent's connected calls in the task (AvgBridgeTime).", "s",
			[]q{{taskSel("dyvms_agent_average_bridge_duration_seconds", `removed="false"`), agentLegend}})),
		perAgent(timeseries("Average idle time per agent", "Average idle time of each agent between calls: idle time / calls (AgentAvgIdleTime).", "s",
			[]q{{taskSel("dyvms_agent_average_idle_duration_seconds", `removed="false"`), agentLegend}})),
		perAgent(timeseries("Agent non-answer ratio", "Calls offered to each agent that it did not answer / calls offered, since it joined the task (dyvms:agent_non_answer:ratio).", "percentunit",
			[]q{{taskSel("dyvms:agent_non_answer:ratio", `removed="false"`), agentLegend}}, ratioMinMax)),
		perAgent(barGauge("Answered within 2 s", "The vendor's BridgeIn2sRate per agent, as the API returns it: calls answered within 2 s of being rung / calls answered. Shown unscaled because vendor data is not always within 0..1.", "none",
			[]q{{taskSel("dyvms_agent_bridge_in_2s_ratio", `removed="false"`), agentLegend}})),
	}
	return newDashboard("dyvms-task.json", "dyvms-task", "dyvms / Task detail",
		"One dialling task: channels, calls, agent states over time and a table of its agents.",
		[]string{"task"}, true, head, channels, callOutcomes(true), agents)
}

// rateOf is rate(sel[$__rate_interval]).
func rateOf(sel string) string { return `rate(` + sel + `[$__rate_interval])` }

// quantileWhereUsed is histogram_quantile(phi) of a histogram's buckets by
// operation, only for operations with observations in the interval (an
// operation without any would otherwise give NaN).
func quantileWhereUsed(phi, histogram string) string {
	return `histogram_quantile(` + phi + `, sum by (operation, le) (` + rateOf(expSel(histogram+"_bucket")) + `))` +
		` and on (operation) (sum by (operation) (` + rateOf(expSel(histogram+"_count")) + `) > 0)`
}

func exporterDashboard() Dashboard {
	okFailed := []map[string]any{{
		"type": "value",
		"options": map[string]any{
			"0": map[string]any{"text": "failed", "color": "red", "index": 0},
			"1": map[string]any{"text": "ok", "color": "green", "index": 1},
		},
	}}
	status := []Panel{
		row("Exporter"),
		stat("Targets up", "Whether Prometheus could scrape each exporter (up), per job and instance. With the sharded /sd + /probe setup every task is a target of the exporter's instance: then this is the lowest of them, failed as soon as one task's probe fails (DyvmsExporterDown counts them).", "none",
			[]q{{`min by (job, instance) (up{` + exporterMatchers + `})`, "{{job}} {{instance}}"}},
			withMappings(okFailed...), withThresholds(thresholds("red", 1, "green"), "")),
		stat("Tasks read successfully", "Share of the selected tasks whose CloudMonitorTask call succeeded in the last scrape.", "percentunit",
			[]q{{`sum(` + taskSel("dyvms_task_scrape_success") + `) / (count(` + taskSel("dyvms_task_scrape_success") + `) > 0)`, ""}},
			withThresholds(thresholds("red", 0.9, "orange", 1, "green"), "")),
		stat("Config reload", "Whether the last configuration reload of each exporter succeeded.", "none",
			[]q{{expSel("dyvms_exporter_config_last_reload_successful"), "{{instance}}"}},
			withMappings(okFailed...), withThresholds(thresholds("red", 1, "green"), "")),
		stat("Since last successful reload", "Time since each exporter last loaded its configuration successfully.", "s",
			[]q{{`time() - ` + expSel("dyvms_exporter_config_last_reload_success_timestamp_seconds"), "{{instance}}"}}),
		table("Build", "Version of each exporter (dyvms_exporter_build_info).", []string{"instance", "version", "revision", "branch", "goversion"},
			[]string{"job"},
			[]column{{title: "info", expr: `max by (job, instance, version, revision, branch, goversion) (` + expSel("dyvms_exporter_build_info") + `)`, hide: true}},
			withWidth(8, 4)),
	}
	tasks := []Panel{
		row("Tasks"),
		stateTimeline("Task scrape success", "Per task and scrape: ok when CloudMonitorTask answered, failed otherwise (then the task exports no other metric).", "none",
			[]q{{taskSel("dyvms_task_scrape_success"), taskLegend}}, withMappings(okFailed...),
			withThresholds(thresholds("red", 1, "green"), "")),
		timeseries("Task scrape duration", "Time spent reading each task from the API in a scrape, retries included.", "s",
			[]q{{taskSel("dyvms_task_scrape_duration_seconds"), taskLegend}}),
		timeseries("Prometheus scrape duration", "How long Prometheus' scrape of each exporter took; keep it well below the scrape timeout.", "s",
			[]q{{expSel("scrape_duration_seconds"), "{{instance}}"}}),
		timeseries("Duplicate agent rows dropped", "Agent rows the exporter dropped because their cno was already listed in the same answer (first row wins).", "none",
			[]q{{taskSel("dyvms_task_duplicate_agent_rows"), taskLegend}}),
	}
	requests := expSel("dyvms_api_requests_total")
	api := []Panel{
		row("API"),
		timeseries("API requests by code", "HTTP requests sent to the Voice Messaging API per second (every attempt, retries included), by operation and answer code (OK, Throttling.User, ...) or transport class (timeout, network, bad_response).", "reqps",
			[]q{{`sum by (operation, code) (` + rateOf(requests) + `)`, "{{operation}} {{code}}"}}, stacked()),
		timeseries("API calls by final outcome", "Calls of the collector and of discovery per second, by operation and outcome after retries (dyvms_api_calls_total): OK, the API's code, a transport class, or rate_limited when the exporter's own rate limiter had no token before the deadline (nothing was sent). Reused and coalesced calls are not counted.", "ops",
			[]q{{`sum by (operation, code) (` + rateOf(expSel("dyvms_api_calls_total")) + `)`, "{{operation}} {{code}}"}}, stacked()),
		timeseries("API error ratio", "Share of API requests (attempts) not answered OK, per exporter: 0 when every request succeeded, no value only when no request was sent.", "percentunit",
			[]q{{`(sum by (instance) (` + rateOf(expSel("dyvms_api_requests_total", `code!="OK"`)) + `) or sum by (instance) (` + rateOf(requests) + `) * 0)` +
				` / (sum by (instance) (` + rateOf(requests) + `) > 0)`, "{{instance}}"}},
			ratioMinMax, withThresholds(thresholds("green", 0.05, "red"), "dashed")),
		timeseries("API request latency", "Duration of the HTTP requests to the API (each attempt), median, 90th and 99th percentile per operation, over the selected exporters (dyvms_api_request_duration_seconds). 100-400 ms is normal from outside mainland China; a scrape must fit its tasks' requests, retries and waits into the scrape timeout.", "s",
			[]q{
				{quantileWhereUsed("0.5", "dyvms_api_request_duration_seconds"), "{{operation}} p50"},
				{quantileWhereUsed("0.9", "dyvms_api_request_duration_seconds"), "{{operation}} p90"},
				{quantileWhereUsed("0.99", "dyvms_api_request_duration_seconds"), "{{operation}} p99"},
			}),
		timeseries("API throttling", "Answers asking the exporter to slow down (Throttling*, isv.BUSINESS_LIMIT_CONTROL, HTTP 429) per second, per exporter and operation (dyvms_api_throttled_total). Each halves the exporter's request rate for a while; DyvmsApiThrottled fires above 5 % of the requests.", "reqps",
			[]q{{`sum by (instance, operation) (` + rateOf(expSel("dyvms_api_throttled_total")) + `)`, "{{instance}} {{operation}}"}}),
		timeseries("API retries by code", "Retries sent per second, by operation and the code of the failure that caused them (dyvms_api_retries_total; at most api.max_retries per call). The series appear with the first retry.", "reqps",
			[]q{{`sum by (operation, code) (` + rateOf(expSel("dyvms_api_retries_total")) + `)`, "{{operation}} {{code}}"}},
			withNoValue("no retry since the exporter started")),
		timeseries("API requests rejected for credentials", "Requests rejected because of the AccessKey, its permissions or the clock (InvalidAccessKeyId.*, SignatureDoesNotMatch, Forbidden.*, isp.RAM_PERMISSION_DENY, InvalidTimeStamp.Expired), per second.", "reqps",
			[]q{{`sum by (instance, code) (` + rateOf(expSel("dyvms_api_requests_total", `code=~"InvalidAccessKeyId.*|SignatureDoesNotMatch|IncompleteSignature|Forbidden.*|isp.RAM_PERMISSION_DENY|InvalidTimeStamp.Expired"`)) + `)`, "{{instance}} {{code}}"}},
			withNoValue("no request rejected since the exporter started"), withWidth(24, 6)),
	}
	rateGauge := expSel("dyvms_api_rate_limit_requests_per_second")
	pacing := []Panel{
		row("Pacing"),
		timeseries("Request rate vs rate limit", "Per exporter: the request rate its rate limiter allows now (dyvms_api_rate_limit_requests_per_second; halved after a throttled answer, recovering within seconds), the highest it allowed over the preceding hour (the configured api.requests_per_second unless the API throttled all hour; the configured value itself is not exported), and the requests actually sent.", "reqps",
			[]q{
				{`max by (instance) (` + rateGauge + `)`, "{{instance}} allowed now"},
				{`max by (instance) (max_over_time(` + rateGauge + `[1h]))`, "{{instance}} ceiling (highest in 1 h)"},
				{`sum by (instance) (` + rateOf(requests) + `)`, "{{instance}} sent"},
			},
			withOverrides(Override{
				Matcher:    map[string]any{"id": "byRegexp", "options": ".*ceiling.*"},
				Properties: []map[string]any{{"id": "custom.lineStyle", "value": map[string]any{"fill": "dash", "dash": []int{10, 10}}}},
			}), withWidth(8, 8)),
		timeseries("Rate limiter wait", "Time requests waited for a token of the exporter's rate limiter (api.requests_per_second, api.burst) before being sent, median and 99th percentile per operation (dyvms_api_rate_limiter_wait_seconds). Long waits eat into the scrape deadline; a request whose token would come too late is not sent (rate_limited).", "s",
			[]q{
				{quantileWhereUsed("0.5", "dyvms_api_rate_limiter_wait_seconds"), "{{operation}} p50"},
				{quantileWhereUsed("0.99", "dyvms_api_rate_limiter_wait_seconds"), "{{operation}} p99"},
			}, withWidth(8, 8)),
		timeseries("Calls served without a request", "Calls answered without a request of their own, per second and operation: reused answers younger than api.min_interval (dyvms_api_cache_hits_total; 0 with min_interval 0s) and calls that joined an identical call in flight (dyvms_api_coalesced_calls_total), e.g. two Prometheus servers scraping at once.", "ops",
			[]q{
				{`sum by (operation) (` + rateOf(expSel("dyvms_api_cache_hits_total")) + `)`, "{{operation}} reused (min_interval)"},
				{`sum by (operation) (` + rateOf(expSel("dyvms_api_coalesced_calls_total")) + `)`, "{{operation}} coalesced"},
			}, withWidth(8, 8)),
	}
	noDiscovery := withNoValue("no discovery entry")
	discovery := []Panel{
		row("Discovery"),
		timeseries("Tasks discovered", "Tasks found by the last successful CloudQueryTask listing of each enterprise with a discovery entry (dyvms_discovery_tasks; kept while later listings fail). Empty without discovery entries.", "none",
			[]q{{entSel("dyvms_discovery_tasks"), "{{instance}} {{enterprise_id}}"}}, stepped(), noDiscovery),
		timeseries("Age of the discovered task list", "Time since the last successful listing of each enterprise (time() - dyvms_discovery_last_success_timestamp_seconds; nothing before the first). It grows to refresh_interval between listings; DyvmsDiscoveryFailing fires when it passes 15 minutes while listings fail (dashed line).", "s",
			[]q{{`time() - (` + entSel("dyvms_discovery_last_success_timestamp_seconds") + ` > 0)`, "{{instance}} {{enterprise_id}}"}},
			withThresholds(thresholds("green", 900, "red"), "dashed"), withNoValue("no discovery entry, or no successful listing yet")),
		timeseries("Discovery failures", "Failed task listings per minute, per enterprise (dyvms_discovery_errors_total). The previous list stays in use; a failed listing is retried after 30 s.", "cpm",
			[]q{{`sum by (instance, enterprise_id) (` + rateOf(entSel("dyvms_discovery_errors_total")) + `) * 60`, "{{instance}} {{enterprise_id}}"}}, noDiscovery),
		timeseries("Discovery listing duration", "Duration of the last task listing of each enterprise, successful or not: every page of every type and status (dyvms_discovery_refresh_duration_seconds).", "s",
			[]q{{entSel("dyvms_discovery_refresh_duration_seconds"), "{{instance}} {{enterprise_id}}"}}, noDiscovery),
	}
	return newDashboard("dyvms-exporter.json", "dyvms-exporter", "dyvms / Exporter health",
		"Is dyvms_exporter up, can it read every task, how does the Voice Messaging API answer it, how does the exporter pace its requests, and does task discovery work.",
		[]string{"exporter"}, false, status, tasks, api, pacing, discovery)
}

// Files returns the rendered dashboards by file name.
func Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, d := range Dashboards() {
		b, err := Render(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.File, err)
		}
		if !strings.HasSuffix(d.File, ".json") {
			return nil, fmt.Errorf("%s: not a .json file name", d.File)
		}
		out[d.File] = b
	}
	return out, nil
}
