package grafana

import "strconv"

// The call-centre board reads the enterprise-wide series of docs/call-centre.md:
// online agents by state (an enterprise's online_agents), inbound calls per
// queue (inbound_calls) and the queue list (queues). Each is off unless the
// enterprise's entry turns it on, so every panel says which key feeds it
// instead of "No data".

// ServiceLevelTarget is the share of offered calls to answer within the
// queue's threshold that the board draws as the target (the usual 80/20 of
// contact centres; DyvmsQueueServiceLevelLow's default). The mixin's
// _config.serviceLevelTarget replaces it: dashboards.libsonnet rewrites the
// threshold steps whose value it is, so no other step of the board may
// have this value with the colour green.
const ServiceLevelTarget = 0.8

// queueAbandonRatioHigh is DyvmsQueueAbandonedHigh's default threshold,
// drawn as a dashed line on the abandon-ratio panels, and
// inboundLagSeconds DyvmsInboundCallRecordsLagging's, on the poller's lag.
// The mixin moves them as it moves ServiceLevelTarget (its
// queueAbandonRatioHigh, callRecordsLagSeconds): no other step of the board
// may turn red at these values.
const (
	queueAbandonRatioHigh = 0.1
	inboundLagSeconds     = 1800
)

// callCentreOperations are the API operations of the call-centre view; the
// board's job and instance come from their request counters, which every
// configuration of an enterprise entry makes (whichever parts it turns on).
const callCentreOperations = `CloudListOnlineAgent|CloudQueryIbCdr|CloudListQueue`

// Matchers of the board: queue metrics also filter on the queue variable.
const queueMatchers = enterpriseMatchers + `, queue=~"$queue"`

// queueSel selects a per-queue metric or rule.
func queueSel(name string, extra ...string) string { return sel(name, queueMatchers, extra) }

// The texts shown instead of "No data", naming the configuration key a
// panel needs (the keys of an enterprises: entry, docs/call-centre.md).
const (
	noOnlineAgents = "no online agents read (online_agents: true not set for this enterprise)"
	noInbound      = "no inbound calls (inbound_calls not configured for this enterprise)"
	noAgentSeries  = "no per-agent series (metrics.enterprise_agents: true, and online_agents for the enterprise)"
	// The service level needs both, and a threshold that is a bucket edge.
	noServiceLevel = "no service level: needs inbound_calls and queues for the enterprise (and a queue threshold that is a bucket edge)"
	// The wait panels are also empty, with inbound_calls on, while no call
	// of their kind ended in the interval (no caller abandons while agents
	// are free).
	noAnswered  = "no answered call in the interval (or inbound_calls not configured for this enterprise)"
	noAbandoned = "no caller abandoned in the interval (or inbound_calls not configured for this enterprise)"
)

// perQueue is one series per queue: the highest over the exporters and jobs
// that read it (two exporters polling one enterprise count the same calls;
// /metrics and /exporter-metrics serve the same counters), never their sum.
func perQueue(expr string) string { return `max by (enterprise_id, queue) (` + expr + `)` }

// perEnterprise is perQueue for the enterprise-wide series.
func perEnterprise(expr string) string { return `max by (enterprise_id) (` + expr + `)` }

// queueNamed adds a label queue_display to a per-queue expression (one
// series per enterprise_id and queue): "name · number" where the queue list
// (dyvms_queue_info) names the queue, else the number, so the legends read
// as the queue variable does. The name is the list's now, else its last in
// the 15 minutes before: the 15-minute counts outlast an exporter restart
// by that long, and a queue's line should not change its name meanwhile.
// topk keeps one name per queue should two exporters briefly disagree.
func queueNamed(expr string) string {
	byName := `max by (enterprise_id, queue, queue_name) (`
	info := `topk by (enterprise_id, queue) (1, ` + byName + queueSel("dyvms_queue_info") + `)` +
		` or on (enterprise_id, queue) ` + byName + `last_over_time(` + queueSel("dyvms_queue_info") + `[15m])))`
	return `label_join((` + expr + `) * on (enterprise_id, queue) group_left (queue_name) ` + info + `, "queue_display", " · ", "queue_name", "queue")` +
		` or on (enterprise_id, queue) label_join(` + expr + `, "queue_display", "", "queue")`
}

// queueLegend names a per-queue series; two enterprises may number their
// queues alike.
const queueLegend = "{{enterprise_id}}/{{queue_display}}"

// queueVariable lists the queues by name (text "name · number", as the task
// variable shows tasks), their numbers as the values, from dyvms_queue_info
// (queues:), and by number alone from the inbound counters of queues the
// list does not have (inbound_calls without queues:, or a queue created
// since the last refresh). Series are sorted by label name, so queue comes
// before queue_display.
func queueVariable() Variable {
	m := enterpriseMatchers
	named := `label_join(max by (enterprise_id, queue, queue_name) (dyvms_queue_info{` + m + `}), "queue_display", " · ", "queue_name", "queue")`
	byNumber := `label_join(max by (enterprise_id, queue) (dyvms_inbound_calls_total{` + m + `, queue!="none"}), "queue_display", "", "queue")`
	display := named + ` or on (enterprise_id, queue) ` + byNumber
	query := `query_result(` + display + `)`
	return Variable{
		Name: "queue", Label: "Queue", Type: "query", Datasource: &promDS,
		Description: "Inbound queue (skill group), by its name from CloudListQueue and its number. All also covers calls that reached no queue (queue=\"none\") where a panel shows them.",
		Query:       map[string]any{"query": query, "varQuery": display, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 3},
		Definition:  query, Refresh: 2, Sort: 5,
		Regex: `/queue="(?<value>[^"]+)".*queue_display="(?<text>[^"]*)"/`,
		Multi: true, IncludeAll: true, AllValue: ".+",
		Current: map[string]any{"selected": true, "text": []string{"All"}, "value": []string{"$__all"}},
		Options: []any{},
	}
}

// callCentreVariables: datasource and cluster as on the other boards; job and
// instance from the call-centre operations' requests; enterprises from the
// series of whichever part each entry turns on (the online-agent read's
// success, written when the read fails too; the inbound poller's lag; the
// queue list), so an enterprise with only one of them is listed.
func callCentreVariables() map[string]any {
	base := variables(false)["list"].([]Variable)
	byName := map[string]Variable{}
	for _, v := range base {
		byName[v.Name] = v
	}
	requests := func(matchers string) string {
		return `dyvms_api_requests_total{` + matchers + `operation=~"` + callCentreOperations + `"}`
	}
	// qryType 1 is Grafana's label_values form, 3 its query_result form.
	setQuery := func(v *Variable, query string, qryType int) {
		v.Query = map[string]any{"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": qryType}
		v.Definition = query
	}
	cluster, job, instance, ent := byName["cluster"], byName["job"], byName["instance"], byName["enterprise_id"]
	setQuery(&cluster, `label_values(`+requests("")+`, cluster)`, 1)
	setQuery(&job, `label_values(`+requests(`cluster=~"$cluster", `)+`, job)`, 1)
	job.Description = "Prometheus job(s) scraping dyvms_exporter's /metrics (or /exporter-metrics), where the call-centre series are."
	setQuery(&instance, `label_values(`+requests(`cluster=~"$cluster", job=~"$job", `)+`, instance)`, 1)
	m := exporterMatchers
	setQuery(&ent, `query_result(max by (enterprise_id) (dyvms_enterprise_agents_scrape_success{`+m+`})`+
		` or max by (enterprise_id) (dyvms_inbound_call_records_lag_seconds{`+m+`})`+
		` or max by (enterprise_id) (dyvms_queue_service_level_seconds{`+m+`}))`, 3)
	ent.Regex = `/enterprise_id="([^"]+)"/`
	ent.Description = "Call-centre (enterprise) id: the enterprises with an enterprises: entry (online agents, inbound calls or queues)."
	return map[string]any{"list": []Variable{byName["datasource"], cluster, job, instance, ent, queueVariable()}}
}

// boardLink is a link of the board's top bar to another board, keeping the
// time range and the variables (enterprise_id has the same name everywhere).
func boardLink(title, uid, tooltip string) map[string]any {
	return map[string]any{
		"title": title, "type": "link", "url": "/d/" + uid,
		"asDropdown": false, "includeVars": true, "keepTime": true, "icon": "dashboard",
		"targetBlank": false, "tooltip": tooltip, "tags": []string{},
	}
}

// agentStateColours: the states of dyvms_enterprise_agents in the colours a
// supervisor expects (free green, busy on a call red/orange, paused grey).
func agentStateColours() opt {
	colours := []struct{ state, colour string }{
		{"idle", "green"}, {"calling", "blue"}, {"ringing", "yellow"}, {"talking", "red"},
		{"wrap-up", "orange"}, {"paused", "purple"}, {"invalid", "dark-red"}, {"unknown", "text"},
	}
	var os []Override
	for _, c := range colours {
		os = append(os, Override{
			Matcher:    map[string]any{"id": "byRegexp", "options": ".* " + c.state + "$"},
			Properties: []map[string]any{{"id": "color", "value": map[string]any{"mode": "fixed", "fixedColor": c.colour}}},
		})
	}
	return withOverrides(os...)
}

// wholeCalls shows counts of calls without decimals: increase() over a
// window extrapolates to fractions of a call, which read as noise.
var wholeCalls = func(p *Panel) { p.FieldConfig.Defaults["decimals"] = 0 }

// serviceLevelThresholds: red below the target, green from it (see
// ServiceLevelTarget for why green at the target is reserved).
func serviceLevelThresholds(style string) opt {
	return withThresholds(thresholds("red", ServiceLevelTarget, "green"), style)
}

func callCentreDashboard() Dashboard {
	pct := strconv.Itoa(int(ServiceLevelTarget*100)) + " %"
	online := entSel("dyvms:enterprise_agents_online:sum")
	occupancy := entSel("dyvms:enterprise_agent_occupancy:ratio")
	states := entSel("dyvms_enterprise_agents")
	rule := func(name string) string { return perQueue(queueSel(name)) }
	offeredToday, answeredToday, abandonedToday := rule("dyvms:queue_inbound_offered:today"), rule("dyvms:queue_inbound_answered:today"), rule("dyvms:queue_inbound_abandoned:today")
	withinToday := rule("dyvms:queue_inbound_answered_within_threshold:today")
	abandonHigh := withThresholds(thresholds("green", queueAbandonRatioHigh, "red"), "dashed")
	slNote := " The wait includes the time in the IVR (a Cloud inbound record has no queue-join time), abandoned calls count against the service level however short their wait, and a queue whose threshold is not a bucket edge of the answer-wait histogram has no service level rather than a guess. The dashed line is the target (" + pct + " unless the mixin's serviceLevelTarget says otherwise; DyvmsQueueServiceLevelLow)."

	now := []Panel{
		row("Now"),
		stat("Agents online", "Agents logged in across the selected enterprises right now, every state (dyvms:enterprise_agents_online:sum, from CloudListOnlineAgent). An agent in several tasks and queues counts once.", "none",
			[]q{{`sum(` + perEnterprise(online) + `)`, ""}}, withNoValue(noOnlineAgents)),
		stat("Agents idle", "Online agents free to take a call right now (dyvms_enterprise_agents{state=\"idle\"}).", "none",
			[]q{{`sum(` + perEnterprise(entSel("dyvms_enterprise_agents", `state="idle"`)) + `)`, ""}},
			withThresholds(thresholds("red", 1, "green"), ""), withNoValue(noOnlineAgents)),
		stat("Agent occupancy", "Per enterprise: agents on a call or in wrap-up (calling, ringing, talking, wrap-up) / agents available for calls (those and idle); paused, invalid and unknown agents are in neither (dyvms:enterprise_agent_occupancy:ratio).", "percentunit",
			[]q{{perEnterprise(occupancy), "{{enterprise_id}}"}},
			withMinMax(0, 1), withThresholds(thresholds("green", 0.9, "orange"), ""), withNoValue(noOnlineAgents)),
		stat("Offered today", "Calls offered to the selected queues since the call centre's midnight (dyvms:queue_inbound_offered:today): every call that reached the queue except those it did not take (not queued, queue full).", "none",
			[]q{{`sum(` + offeredToday + `)`, ""}}, wholeCalls, withNoValue(noInbound)),
		stat("Service level today", "Calls answered within their queue's threshold / calls offered, the selected queues together, since the call centre's midnight (from the :today rules; only queues with a service level count, in the numerator and the denominator). Red below the target ("+pct+").", "percentunit",
			[]q{{`sum(` + withinToday + `) / (sum(` + offeredToday + ` and on (enterprise_id, queue) ` + withinToday + `) > 0)`, ""}},
			withMinMax(0, 1), serviceLevelThresholds(""), withNoValue(noServiceLevel)),
		stat("Abandoned today", "Calls whose caller hung up waiting in the queue / calls offered, the selected queues together, since the call centre's midnight (from the :today rules). Red from DyvmsQueueAbandonedHigh's threshold ("+strconv.Itoa(int(queueAbandonRatioHigh*100))+" % unless the mixin's queueAbandonRatioHigh says otherwise).", "percentunit",
			[]q{{`sum(` + abandonedToday + `) / (sum(` + offeredToday + `) > 0)`, ""}},
			withMinMax(0, 1), withThresholds(thresholds("green", queueAbandonRatioHigh, "red"), ""), withNoValue(noInbound)),
	}

	agents := []Panel{
		row("Agents"),
		timeseries("Agents by state", "Online agents of each selected enterprise by state, stacked: the enterprise's whole agent pool, outbound tasks and inbound queues together (dyvms_enterprise_agents from CloudListOnlineAgent, read on every scrape). The state is the device's during a call (calling, ringing, talking, invalid), else the login's (idle, paused, wrap-up); unknown is what neither says. A failed read leaves a gap, never zeros.", "none",
			[]q{{`max by (enterprise_id, state) (` + states + `)`, "{{enterprise_id}} {{state}}"}},
			stacked(), stepped(), agentStateColours(), withNoValue(noOnlineAgents)),
		timeseries("Agent occupancy", "(calling + ringing + talking + wrap-up) / (idle + those), per enterprise (dyvms:enterprise_agent_occupancy:ratio). Paused, invalid and unknown agents are not available and are left out of both, unlike the task boards' occupancy (dyvms:task_agent_occupancy:ratio: talking + wrap-up over every online agent of the task, paused ones included). The dashed line is 90 %.", "percentunit",
			[]q{{perEnterprise(occupancy), "{{enterprise_id}}"}},
			withMinMax(0, 1), withThresholds(thresholds("green", 0.9, "red"), "dashed"), withWidth(6, 8), withNoValue(noOnlineAgents)),
		timeseries("Agents online", "Agents logged in (every state, dyvms:enterprise_agents_online:sum) and idle, per enterprise.", "none",
			[]q{
				{perEnterprise(online), "{{enterprise_id}} online"},
				{perEnterprise(entSel("dyvms_enterprise_agents", `state="idle"`)), "{{enterprise_id}} idle"},
			}, stepped(), withWidth(6, 8), withNoValue(noOnlineAgents)),
		agentTable(),
	}

	noDecimals := []map[string]any{{"id": "decimals", "value": 0}}
	queueTable := table("Queues", "One row per queue: its name and service-level threshold (CloudListQueue), and the calls offered, answered and abandoned since the call centre's midnight and over the last 15 minutes, with the service level and the abandon ratio. Rows come from the queue list and the inbound counters, so a queue without calls shows its threshold and one missing from the list (queues: off) its counts."+slNote,
		[]string{"enterprise_id", "queue", "queue_name"},
		[]string{"job", "instance"},
		[]column{
			{title: "name", expr: `max by (enterprise_id, queue, queue_name) (` + queueSel("dyvms_queue_info") + `)`, hide: true},
			{title: "Threshold", expr: perQueue(queueSel("dyvms_queue_service_level_seconds")), unit: "s"},
			{title: "Offered today", expr: offeredToday, unit: "none", opts: noDecimals},
			{title: "Answered today", expr: answeredToday, unit: "none", opts: noDecimals},
			{title: "Abandoned today", expr: abandonedToday, unit: "none", opts: noDecimals},
			{title: "Service level today", expr: rule("dyvms:queue_service_level:ratio_today"), unit: "percentunit",
				opts: cellColor(thresholds("red", ServiceLevelTarget, "green"))},
			{title: "Abandon ratio today", expr: rule("dyvms:queue_inbound_abandon:ratio_today"), unit: "percentunit",
				opts: cellColor(thresholds("transparent", queueAbandonRatioHigh, "red"))},
			{title: "Offered (15 min)", expr: rule("dyvms:queue_inbound_offered:increase15m"), unit: "none", opts: noDecimals},
			{title: "Service level (15 min)", expr: rule("dyvms:queue_service_level:ratio15m"), unit: "percentunit",
				opts: cellColor(thresholds("red", ServiceLevelTarget, "green"))},
		}, withWidth(24, 8), withNoValue(noInbound))

	counts := func(suffix string) []q {
		return []q{
			{queueNamed(rule("dyvms:queue_inbound_offered:" + suffix)), queueLegend + " offered"},
			{queueNamed(rule("dyvms:queue_inbound_answered:" + suffix)), queueLegend + " answered"},
			{queueNamed(rule("dyvms:queue_inbound_abandoned:" + suffix)), queueLegend + " abandoned"},
		}
	}
	queues := []Panel{
		row("Queues"),
		queueTable,
		timeseries("Calls per queue (15 min)", "Calls offered to each queue, answered by an agent and abandoned in the queue over the 15 minutes before each point (dyvms:queue_inbound_*:increase15m; calls that ended in the window). Offered excludes calls the queue did not take (not queued, queue full); overflows by timeout or for want of an agent are neither answered nor abandoned.", "none",
			counts("increase15m"), wholeCalls, withNoValue(noInbound)),
		timeseries("Calls per queue today", "The same counts since the call centre's midnight (dyvms:queue_inbound_*:today); they fall to 0 at midnight in the board's time zone.", "none",
			counts("today"), stepped(), wholeCalls, withNoValue(noInbound)),
		timeseries("Service level (15 min)", "Per queue: calls answered within the queue's threshold / calls offered, over the 15 minutes before each point (dyvms:queue_service_level:ratio15m). No point while nothing was offered."+slNote, "percentunit",
			[]q{{queueNamed(rule("dyvms:queue_service_level:ratio15m")), queueLegend}},
			withMinMax(0, 1), serviceLevelThresholds("dashed"), withNoValue(noServiceLevel)),
		timeseries("Service level today", "The same since the call centre's midnight (dyvms:queue_service_level:ratio_today): the figure a day is judged by; early in the day it rests on few calls."+slNote, "percentunit",
			[]q{{queueNamed(rule("dyvms:queue_service_level:ratio_today")), queueLegend}},
			withMinMax(0, 1), serviceLevelThresholds("dashed"), withNoValue(noServiceLevel)),
		timeseries("Abandon ratio", "Per queue: calls whose caller hung up waiting in the queue / calls offered, over the last 15 minutes (dyvms:queue_inbound_abandon:ratio15m) and since the call centre's midnight (dyvms:queue_inbound_abandon:ratio_today). Every abandon counts, however short the wait. The dashed line is DyvmsQueueAbandonedHigh's threshold ("+strconv.Itoa(int(queueAbandonRatioHigh*100))+" % unless the mixin's queueAbandonRatioHigh says otherwise).", "percentunit",
			[]q{
				{queueNamed(rule("dyvms:queue_inbound_abandon:ratio15m")), queueLegend + " 15 min"},
				{queueNamed(rule("dyvms:queue_inbound_abandon:ratio_today")), queueLegend + " today"},
			}, withMinMax(0, nil), abandonHigh, withNoValue(noInbound)),
		timeseries("Inbound calls by outcome", "Inbound calls per minute by outcome, the selected queues together, from the inbound call records (dyvms_inbound_calls_total; the outcome table: docs/call-centre.md). With All selected this includes the calls that reached no queue (queue \"none\": IVR only, not queued).", "cpm",
			[]q{{`sum by (outcome) (` + perQueueOutcome(rateOf(queueSel("dyvms_inbound_calls_total"))) + `) * 60`, "{{outcome}}"}},
			stacked(), withNoValue(noInbound)),
	}

	answerWait, answerCount := queueSel("dyvms_inbound_answer_wait_seconds_bucket"), queueSel("dyvms_inbound_answer_wait_seconds_count")
	abandonWait, abandonCount := queueSel("dyvms_inbound_abandon_wait_seconds_bucket"), queueSel("dyvms_inbound_abandon_wait_seconds_count")
	queueQuantile := func(phi, bucket, count string) string {
		return queueNamed(`histogram_quantile(` + phi + `, sum by (enterprise_id, queue, le) (` + rateOf(bucket) + `))` +
			` and on (enterprise_id, queue) (sum by (enterprise_id, queue) (` + rateOf(count) + `) > 0)`)
	}
	ivr := " The wait runs from the call's start (StartTime), so it includes the time in the IVR: a Cloud inbound record has no queue-join time."
	waits := []Panel{
		row("Waits"),
		// One exporter's buckets: two exporters (or jobs) reading one
		// enterprise count the same calls, so the highest per queue and
		// bucket, summed.
		heatmap("Answer wait (heatmap)", "Answered calls per interval by the caller's wait until an agent answered (BridgeTime - StartTime; dyvms_inbound_answer_wait_seconds buckets, 1 s to 10 min), the selected queues together."+ivr, 8, 8,
			`sum by (le) (max by (enterprise_id, queue, le) (increase(`+answerWait+`[$__rate_interval])))`, withNoValue(noInbound)),
		timeseries("Answer wait", "Per queue, the caller's wait until an agent answered, of the calls answered in the interval: median and 90th percentile (dyvms_inbound_answer_wait_seconds)."+ivr+" Interpolated within buckets (1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300, 600 s).", "s",
			[]q{
				{queueQuantile("0.5", answerWait, answerCount), queueLegend + " p50"},
				{queueQuantile("0.9", answerWait, answerCount), queueLegend + " p90"},
			}, withWidth(8, 8), withMinMax(0, nil), withNoValue(noAnswered)),
		timeseries("Abandon wait", "Per queue, how long callers who hung up in the queue had waited (EndTime - StartTime; dyvms_inbound_abandon_wait_seconds), median and 90th percentile of the calls abandoned in the interval."+ivr, "s",
			[]q{
				{queueQuantile("0.5", abandonWait, abandonCount), queueLegend + " p50"},
				{queueQuantile("0.9", abandonWait, abandonCount), queueLegend + " p90"},
			}, withWidth(8, 8), withMinMax(0, nil), withNoValue(noAbandoned)),
	}

	health := []Panel{
		row("Inbound poller and API"),
		timeseries("Inbound poller lag", "How far behind the calls the inbound counters are, per exporter and enterprise (dyvms_inbound_call_records_lag_seconds: now - watermark; normally between settle and settle + interval). A growing lag means polls fail: see the failures panel and the exporter's log. The dashed line is DyvmsInboundCallRecordsLagging's threshold (30 minutes unless the mixin's callRecordsLagSeconds says otherwise).", "s",
			[]q{{`max by (job, instance, enterprise_id) (` + entSel("dyvms_inbound_call_records_lag_seconds") + `)`, "{{instance}} {{enterprise_id}}"}},
			withThresholds(thresholds("green", inboundLagSeconds, "red"), "dashed"), withWidth(8, 8), withNoValue(noInbound)),
		timeseries("Inbound calls counted", "Inbound call records counted per minute, per exporter and enterprise, every queue and outcome (dyvms_inbound_calls_total): what the poller reads once each, duplicates and refused records left out (the selected queues; All for every one). Flat at 0 while calls arrive means the poller is not reading.", "cpm",
			[]q{{`sum by (job, instance, enterprise_id) (` + rateOf(queueSel("dyvms_inbound_calls_total")) + `) * 60`, "{{instance}} {{enterprise_id}}"}},
			withWidth(8, 8), withNoValue(noInbound)),
		timeseries("Call-centre API failures", "Calls of the call-centre operations (CloudListOnlineAgent on each scrape, CloudQueryIbCdr by the inbound poller, CloudListQueue by the queue refresh) that failed after retries, per minute, by exporter, operation and code (dyvms_api_calls_total). A failed online-agent read leaves the agent panels without a point; a failed queue listing keeps the previous list.", "cpm",
			[]q{{`sum by (instance, operation, code) (` + rateOf(expSel("dyvms_api_calls_total", `operation=~"`+callCentreOperations+`"`, `code!="OK"`)) + `) * 60`, "{{instance}} {{operation}} {{code}}"}},
			withWidth(8, 8), withNoValue("no failed call-centre API call")),
	}

	d := newDashboard("dyvms-callcentre.json", "dyvms-callcentre", "dyvms / Call centre",
		"The whole call centre of each enterprise with an enterprises: entry: online agents by state across tasks and queues, inbound calls per queue (offered, answered, abandoned), service level against the target, answer and abandon waits, and the inbound poller's health. No live queue backlog: the API has none (docs/call-centre.md).",
		[]string{"inbound"}, false, now, agents, queues, waits, health)
	d.Templating = callCentreVariables()
	d.Links = append(d.Links,
		boardLink("Outbound tasks", "dyvms-overview", "The dialling tasks of the same enterprises (dyvms / Overview)"),
		boardLink("Task detail", "dyvms-task", "One dialling task (dyvms / Task detail)"))
	return d
}

// agentTable lists the online agents one by one: their state and how long
// they have been in it, from the per-agent series (off unless
// metrics.enterprise_agents: true). "== 1" keeps the current state with
// either encoding of metrics.agent_status (a state set, or current).
func agentTable() Panel {
	colour := map[string]any{}
	for i, c := range []struct{ state, colour string }{
		{"idle", "green"}, {"calling", "blue"}, {"ringing", "yellow"}, {"talking", "red"},
		{"wrap-up", "orange"}, {"paused", "purple"}, {"invalid", "dark-red"}, {"unknown", "text"},
	} {
		colour[c.state] = map[string]any{"color": c.colour, "index": i}
	}
	return table("Agents (one row each)", "Every online agent of the selected enterprises with a per-agent series: its state (as in Agents by state) and the time in that state (dyvms_enterprise_agent_state_duration_seconds: the vendor's time in the device state during a call, in the login state otherwise; empty when the state came from the State text). Needs metrics.enterprise_agents: true (off by default: one series per agent and state, see the series budget) and online_agents for the enterprise.",
		[]string{"enterprise_id", "cno", "state"},
		[]string{"job", "instance"},
		[]column{
			{title: "state", expr: `max by (enterprise_id, cno, state) (` + entSel("dyvms_enterprise_agent_state") + ` == 1)`, hide: true},
			{title: "Time in state", expr: `max by (enterprise_id, cno) (` + entSel("dyvms_enterprise_agent_state_duration_seconds") + `)`, unit: "s"},
		},
		withOverrides(Override{
			Matcher: map[string]any{"id": "byName", "options": "state"},
			Properties: []map[string]any{
				{"id": "mappings", "value": []map[string]any{{"type": "value", "options": colour}}},
				{"id": "custom.cellOptions", "value": map[string]any{"type": "color-text"}},
			},
		}),
		withWidth(24, 8), withNoValue(noAgentSeries))
}

// perQueueOutcome is perQueue keeping the outcome.
func perQueueOutcome(expr string) string {
	return `max by (enterprise_id, queue, outcome) (` + expr + `)`
}
