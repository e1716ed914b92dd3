package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// Namespace is the one prefix of every metric this exporter writes.
const Namespace = "dyvms"

var (
	taskLabels  = []string{"enterprise_id", "task_id"}
	agentLabels = []string{"enterprise_id", "task_id", "cno", "removed"}
)

func taskDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "task", name), help, append(append([]string(nil), taskLabels...), extra...), nil)
}

func agentDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "agent", name), help, append(append([]string(nil), agentLabels...), extra...), nil)
}

// Descriptors are built once at start-up; every scrape only fills in values.
var (
	descScrapeSuccess   = taskDesc("scrape_success", "1 if CloudMonitorTask answered for this task in this scrape, 0 if it failed (then no other metric of the task is exported).")
	descScrapeDuration  = taskDesc("scrape_duration_seconds", "Time spent reading this task from the API in this scrape, including retries.")
	descDuplicateAgents = taskDesc("duplicate_agent_rows", "Agent rows dropped from this answer because their cno was already listed in the same list (first row wins).")

	descTaskInfo   = taskDesc("info", "Text properties of the dialling task; always 1.", "task_name", "status_description")
	descTaskStatus = taskDesc("status", "Task status as a state set: exactly one of initial, running, paused, finished, unknown is 1.", "status")
	descTaskStart  = taskDesc("start_timestamp_seconds", "When the task started dialling (Unix time); absent if it never started.")
	descTaskEnd    = taskDesc("end_timestamp_seconds", "When the task ended (Unix time); absent if it has not ended.")

	descEnterpriseChannels = prometheus.NewDesc(prometheus.BuildFQName(Namespace, "enterprise", "channels"),
		"Predictive-dialling channels (concurrent calls) the enterprise is provisioned with, as reported with this task.", taskLabels, nil)

	descAgentInfo   = agentDesc("info", "Name of the agent (seat); always 1.", "agent_name")
	descAgentStatus = agentDesc("status", "Agent state in this task as a state set: idle, pause (busy/not ready), inuse (talking), calling (being rung), wrapup (after-call work), none (no state in this task), unknown (a value this exporter does not know).", "status")
)

// taskStatusNames maps CtiLinkTaskProperty.Status codes to state-set values.
var taskStatusNames = []string{"initial", "running", "paused", "finished"}

const taskStatusUnknown = "unknown"

// taskStates is every value of the dyvms_task_status state set.
var taskStates = append(append([]string(nil), taskStatusNames...), taskStatusUnknown)

// agentStatuses maps the vendor's AgentStatus strings to state-set values.
// "unknown" is ours: a state the vendor adds later must still be visible
// without breaking the "exactly one is 1" rule.
var agentStatuses = []struct{ wire, label string }{
	{"stateIdle", "idle"},
	{"statePause", "pause"},
	{"stateInuse", "inuse"},
	{"stateCalling", "calling"},
	{"stateWrapup", "wrapup"},
	{"", "none"},
}

const agentStatusUnknown = "unknown"

// intGauge maps one optional integer field of MonitorData to a task gauge.
type intGauge struct {
	desc *prometheus.Desc
	get  func(*apiclient.MonitorData) apiclient.Int64
}

func statGauges(prefix, when string, pick func(*apiclient.MonitorData) *apiclient.TaskStatistic) []intGauge {
	return []intGauge{
		{taskDesc(prefix+"agents", "Agents that took part in the task "+when+" (Statistic.AgentCount)."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return pick(d).AgentCount }},
		{taskDesc(prefix+"called", "Customer numbers dialled "+when+"."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return pick(d).CalledCount }},
		{taskDesc(prefix+"answered", "Dialled customers who answered the call "+when+"."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return pick(d).AnswerCount }},
		{taskDesc(prefix+"uncalled", "Customer numbers of the list not dialled yet ("+when+" view)."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return pick(d).UncalledCount }},
		{taskDesc(prefix+"agent_calls", "Answered calls put through to an agent "+when+" (CallAgentCount)."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return pick(d).CallAgentCount }},
	}
}

var taskGauges = append(append(
	statGauges("", "since the task was created",
		func(d *apiclient.MonitorData) *apiclient.TaskStatistic { return &d.Statistic }),
	statGauges("today_", "today (since local midnight)",
		func(d *apiclient.MonitorData) *apiclient.TaskStatistic { return &d.TodayStatistic })...),
	[]intGauge{
		{taskDesc("channels", "Calls (channels) of this task in progress right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.ChannelInfo.ChannelCount }},
		{taskDesc("channels_bridged", "Calls of this task connected to an agent right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.ChannelInfo.BridgedCount }},
		{taskDesc("channels_answered", "Calls of this task answered by the customer right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.ChannelInfo.AnswerCount }},
		{taskDesc("channels_waiting_agent", "Answered customers waiting to be put through to an agent right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.ChannelInfo.WaitAgentCount }},
		{taskDesc("channels_waiting_answer", "Calls ringing at the customer, not answered yet, right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.ChannelInfo.WaitAnswerCount }},
		{taskDesc("channels_ivr", "Answered calls overflowed to the IVR because no agent was free, right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.ChannelInfo.IvrCount }},
		{descEnterpriseChannels,
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.ChannelInfo.EnterpriseChannelCount }},
		{taskDesc("agents_assigned", "Agents assigned to the task."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.AgentInfo.TotalCount }},
		{taskDesc("agents_online", "Agents of the task logged in right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.AgentInfo.OnlineCount }},
		{taskDesc("agents_available", "Agents of the task free to take a call right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.AgentInfo.AvailableCount }},
		{taskDesc("agents_ringing", "Agents of the task being rung right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.AgentInfo.RingingCount }},
		{taskDesc("agents_bridged", "Agents of the task talking to a customer right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.AgentInfo.BridgeCount }},
		{taskDesc("agents_wrapup", "Agents of the task in after-call work right now."),
			func(d *apiclient.MonitorData) apiclient.Int64 { return d.AgentInfo.WrapupCount }},
	}...)

// agentGauge maps one optional field of an agent row to an agent gauge.
type agentGauge struct {
	desc *prometheus.Desc
	get  func(*apiclient.AgentStatistic) (float64, bool)
}

func agentInt(f func(*apiclient.AgentStatistic) apiclient.Int64) func(*apiclient.AgentStatistic) (float64, bool) {
	return func(a *apiclient.AgentStatistic) (float64, bool) { v := f(a); return float64(v.Value), v.Valid }
}

// agentLimit drops -1, the vendor's "no limit configured": exporting it would
// make every "answered / limit" ratio meaningless.
func agentLimit(f func(*apiclient.AgentStatistic) apiclient.Int64) func(*apiclient.AgentStatistic) (float64, bool) {
	return func(a *apiclient.AgentStatistic) (float64, bool) {
		v := f(a)
		return float64(v.Value), v.Valid && v.Value >= 0
	}
}

func agentFloat(f func(*apiclient.AgentStatistic) apiclient.Float64) func(*apiclient.AgentStatistic) (float64, bool) {
	return func(a *apiclient.AgentStatistic) (float64, bool) { v := f(a); return v.Value, v.Valid }
}

var agentGauges = []agentGauge{
	{agentDesc("called", "Calls offered to (rung at) this agent in this task."),
		agentInt(func(a *apiclient.AgentStatistic) apiclient.Int64 { return a.CalledCount })},
	{agentDesc("bridged", "Calls this agent answered (connected) in this task."),
		agentInt(func(a *apiclient.AgentStatistic) apiclient.Int64 { return a.BridgeCount })},
	{agentDesc("not_bridged", "Calls offered to this agent that it did not answer, in this task."),
		agentInt(func(a *apiclient.AgentStatistic) apiclient.Int64 { return a.NoBridgeCount })},
	{agentDesc("today_answered", "Calls this agent answered today in this task."),
		agentInt(func(a *apiclient.AgentStatistic) apiclient.Int64 { return a.TodayAnsweredCount })},
	{agentDesc("enterprise_today_answered", "Calls this agent answered today across all tasks of the enterprise."),
		agentInt(func(a *apiclient.AgentStatistic) apiclient.Int64 { return a.EnterpriseTodayAnsweredCount })},
	{agentDesc("call_limit", "Most calls this agent may answer per day in this task; absent when no limit is configured."),
		agentLimit(func(a *apiclient.AgentStatistic) apiclient.Int64 { return a.CallLimit })},
	{agentDesc("enterprise_call_limit", "Most calls this agent may answer per day across the enterprise; absent when no limit is configured."),
		agentLimit(func(a *apiclient.AgentStatistic) apiclient.Int64 { return a.EnterpriseCallLimit })},
	{agentDesc("average_bridge_duration_seconds", "Average talk time of this agent's connected calls (AvgBridgeTime)."),
		agentFloat(func(a *apiclient.AgentStatistic) apiclient.Float64 { return a.AvgBridgeTime })},
	{agentDesc("average_idle_duration_seconds", "Average idle time of this agent between calls: idle time / calls (AgentAvgIdleTime)."),
		agentFloat(func(a *apiclient.AgentStatistic) apiclient.Float64 { return a.AgentAvgIdleTime })},
	{agentDesc("bridge_in_2s_ratio", "BridgeIn2sRate as the API returns it; the vendor defines it as calls the agent answered within 2 s of being rung / calls the agent answered (not always within 0..1 in vendor data)."),
		agentFloat(func(a *apiclient.AgentStatistic) apiclient.Float64 { return a.BridgeIn2sRate })},
}

func allDescs() []*prometheus.Desc {
	ds := []*prometheus.Desc{descScrapeSuccess, descScrapeDuration, descDuplicateAgents, descTaskInfo, descTaskStatus, descTaskStart, descTaskEnd, descAgentInfo, descAgentStatus}
	for _, g := range taskGauges {
		ds = append(ds, g.desc)
	}
	for _, g := range agentGauges {
		ds = append(ds, g.desc)
	}
	return ds
}

// taskMetrics appends the metrics of one successful answer to out.
func taskMetrics(t Task, d *apiclient.MonitorData, out []prometheus.Metric) []prometheus.Metric {
	ent, task := t.labels()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...))
	}

	prop := d.Statistic.CtiLinkTaskProperty
	today := d.TodayStatistic.CtiLinkTaskProperty
	name, desc := prop.Name, prop.StatusDescription
	if name == "" {
		name = today.Name
	}
	if desc == "" {
		desc = today.StatusDescription
	}
	gauge(descTaskInfo, 1, ent, task, string(name), string(desc))

	status := prop.Status
	if !status.Valid {
		status = today.Status
	}
	current := taskStatusUnknown
	if status.Valid && status.Value >= 0 && status.Value < int64(len(taskStatusNames)) {
		current = taskStatusNames[status.Value]
	}
	for _, s := range taskStates {
		gauge(descTaskStatus, boolFloat(s == current), ent, task, s)
	}
	start, end := prop.StartTime, prop.OverTime
	if !start.Valid {
		start = today.StartTime
	}
	if !end.Valid {
		end = today.OverTime
	}
	if start.Valid {
		gauge(descTaskStart, float64(start.Time.Unix()), ent, task)
	}
	if end.Valid {
		gauge(descTaskEnd, float64(end.Time.Unix()), ent, task)
	}

	for _, g := range taskGauges {
		if v := g.get(d); v.Valid {
			gauge(g.desc, float64(v.Value), ent, task)
		}
	}

	dropped := 0
	for _, list := range []struct {
		rows    []apiclient.AgentStatistic
		removed string
	}{{d.AgentStatisticList, "false"}, {d.RemovedAgentStatisticList, "true"}} {
		seen := make(map[apiclient.Text]struct{}, len(list.rows))
		for i := range list.rows {
			a := &list.rows[i]
			if _, dup := seen[a.Cno]; dup {
				dropped++
				continue
			}
			seen[a.Cno] = struct{}{}
			cno := string(a.Cno)
			gauge(descAgentInfo, 1, ent, task, cno, list.removed, string(a.Name))
			current := agentStatusUnknown
			for _, s := range agentStatuses {
				if string(a.AgentStatus) == s.wire {
					current = s.label
				}
			}
			for _, s := range agentStatuses {
				gauge(descAgentStatus, boolFloat(s.label == current), ent, task, cno, list.removed, s.label)
			}
			gauge(descAgentStatus, boolFloat(current == agentStatusUnknown), ent, task, cno, list.removed, agentStatusUnknown)
			for _, g := range agentGauges {
				if v, ok := g.get(a); ok {
					gauge(g.desc, v, ent, task, cno, list.removed)
				}
			}
		}
	}
	gauge(descDuplicateAgents, float64(dropped), ent, task)
	return out
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
