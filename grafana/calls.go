package grafana

// callOutcomes is the "Call outcomes" row of the overview (perTask false:
// the selected tasks together where a total means something) and of the
// task board (perTask true), from the call-record poller (callrecords/;
// only for enterprises with a call_records entry, hence the no-value texts).
func callOutcomes(perTask bool) []Panel {
	legend := "{{task_id}}"
	if !perTask {
		legend = taskLegend
	}
	noRecords := withNoValue("no call records (call_records not configured for this enterprise)")
	limit := withThresholds(thresholds("green", 0.03, "red"), "dashed")
	rateOfOutcome := func(outcome string) string {
		return rateOf(taskSel("dyvms_calls_"+outcome+"_total")) + ` * 60`
	}
	sumOrTask := func(expr string) string {
		if perTask {
			return byTask(expr)
		}
		return `sum(` + expr + `)`
	}
	outcomeLegend := func(s string) string {
		if perTask {
			return "{{task_id}} " + s
		}
		return s
	}
	wait := taskSel("dyvms_call_answer_to_agent_wait_seconds_bucket")
	waitCount := taskSel("dyvms_call_answer_to_agent_wait_seconds_count")
	by := "le"
	if perTask {
		by = "task_id, le"
	}
	quantile := func(phi string) string {
		q := `histogram_quantile(` + phi + `, sum by (` + by + `) (` + rateOf(wait) + `))`
		if perTask {
			return q + ` and on (task_id) (sum by (task_id) (` + rateOf(waitCount) + `) > 0)`
		}
		return q + ` and on () (sum(` + rateOf(waitCount) + `) > 0)`
	}
	panels := []Panel{
		row("Call outcomes"),
		timeseries("Abandoned-call rate (24 h)", "Live-answered calls not connected to an agent within 2 s / live-answered calls over the last 24 hours, per task, from the call records (dyvms:task_calls_abandoned:ratio_24h; the UK Ofcom measure). The dashed line is the 3 % limit; DyvmsCallsAbandonedHigh fires above it with at least 100 live answers. With two exporters per enterprise, each line is one exporter's count: they agree.", "percentunit",
			[]q{{byTask(taskSel("dyvms:task_calls_abandoned:ratio_24h")), legend}}, withMinMax(0, nil), limit, noRecords),
		timeseries("Abandoned-call rate (now)", "The same ratio over the dashboard's rate interval: how the task does right now, while the 24-hour rate still carries the past day. Gaps where no live answer came in.", "percentunit",
			[]q{{sumOrTaskBy(perTask, rateOf(taskSel("dyvms_calls_abandoned_total"))) + ` / (` + sumOrTaskBy(perTask, rateOf(taskSel("dyvms_calls_live_answered_total"))) + ` > 0)`, legendOr(perTask, legend, "selected tasks")}},
			withMinMax(0, nil), limit, noRecords),
		timeseries("Answered, connected within 2 s (24 h)", "Live answers connected to an agent at most 2 s after the answer / live answers, last 24 hours (dyvms:task_calls_answer_to_agent_within_2s:ratio_24h). Whole seconds: the vendor's clock cannot tell 1.5 s from 2.4 s.", "percentunit",
			[]q{{byTask(taskSel("dyvms:task_calls_answer_to_agent_within_2s:ratio_24h")), legend}}, ratioMinMax, noRecords),
		timeseries("Customer's wait for an agent", "Wait from the live answer to the agent (BridgeTime - RealAnswerTime) of the calls connected in the interval: median, 90th and 99th percentile (dyvms_call_answer_to_agent_wait_seconds). The 2 s rule is the dashed line.", "s",
			[]q{
				{quantile("0.5"), outcomeLegend("p50")},
				{quantile("0.9"), outcomeLegend("p90")},
				{quantile("0.99"), outcomeLegend("p99")},
			}, withMinMax(0, nil), withThresholds(thresholds("green", 2, "red"), "dashed"), noRecords),
		timeseries("Calls by outcome", "Calls per minute by outcome, from the call records (the outcome table: README, Call outcomes). Dialled = not answered + live + machine/unknown; abandoned is part of live.", "cpm",
			[]q{
				{sumOrTask(rateOfOutcome("dialled")), outcomeLegend("dialled")},
				{sumOrTask(rateOfOutcome("not_answered")), outcomeLegend("not answered")},
				{sumOrTask(rateOfOutcome("live_answered")), outcomeLegend("live answer")},
				{sumOrTask(rateOfOutcome("machine_answered")), outcomeLegend("machine or unknown answer")},
				{sumOrTask(rateOfOutcome("connected")), outcomeLegend("connected to an agent")},
				{sumOrTask(rateOfOutcome("abandoned")), outcomeLegend("abandoned")},
			}, noRecords),
	}
	if perTask {
		panels = append(panels, heatmap("Wait for an agent (heatmap)", "Connected calls per interval by the customer's wait from the live answer to the agent (dyvms_call_answer_to_agent_wait_seconds buckets: 0.5, 1, 2, 3, 5, 10, 30, 60 s).", 12, 8,
			`sum by (le) (increase(`+wait+`[$__rate_interval]))`, noRecords),
			timeseries("Talk time", "Talk time with the agent of the calls connected in the interval: median and 90th percentile (dyvms_call_talk_duration_seconds), and the total call time's median (dyvms_call_duration_seconds).", "s",
				[]q{
					{`histogram_quantile(0.5, sum by (task_id, le) (` + rateOf(taskSel("dyvms_call_talk_duration_seconds_bucket")) + `)) and on (task_id) (sum by (task_id) (` + rateOf(taskSel("dyvms_call_talk_duration_seconds_count")) + `) > 0)`, "{{task_id}} talk p50"},
					{`histogram_quantile(0.9, sum by (task_id, le) (` + rateOf(taskSel("dyvms_call_talk_duration_seconds_bucket")) + `)) and on (task_id) (sum by (task_id) (` + rateOf(taskSel("dyvms_call_talk_duration_seconds_count")) + `) > 0)`, "{{task_id}} talk p90"},
					{`histogram_quantile(0.5, sum by (task_id, le) (` + rateOf(taskSel("dyvms_call_duration_seconds_bucket")) + `)) and on (task_id) (sum by (task_id) (` + rateOf(taskSel("dyvms_call_duration_seconds_count")) + `) > 0)`, "{{task_id}} call p50"},
				}, noRecords),
			timeseries("Call-record poller", "How far behind the calls the counters are (dyvms_call_records_lag_seconds: now - watermark; normally settle to settle + interval) per enterprise, and records read per minute. A growing lag means polls fail (dyvms_call_records_errors_total, exporter log).", "s",
				[]q{{`max by (job, instance, enterprise_id) (` + entSel("dyvms_call_records_lag_seconds") + `)`, "{{instance}} {{enterprise_id}} lag"}},
				noRecords))
	}
	return panels
}

// sumOrTaskBy sums over the selected tasks, or keeps one series per task.
func sumOrTaskBy(perTask bool, expr string) string {
	if perTask {
		return `sum by (` + taskBy + `) (` + expr + `)`
	}
	return `sum(` + expr + `)`
}

func legendOr(perTask bool, perTaskLegend, total string) string {
	if perTask {
		return perTaskLegend
	}
	return total
}
