package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// Namespace is the one prefix of every metric this exporter writes.
const Namespace = "dyvms"

// labelKind says which labels a family carries beyond enterprise_id and task_id.
type labelKind uint8

const (
	kindTask       labelKind = iota // enterprise_id, task_id
	kindTaskInfo                    // + task_name, status_description
	kindTaskState                   // + status
	kindAgent                       // + cno, removed
	kindAgentInfo                   // + cno, removed, agent_name
	kindAgentState                  // + cno, removed, status
	kindTaskField                   // + field
)

var kindLabels = [...][]string{
	kindTask:       {"enterprise_id", "task_id"},
	kindTaskInfo:   {"enterprise_id", "task_id", "task_name", "status_description"},
	kindTaskState:  {"enterprise_id", "task_id", "status"},
	kindAgent:      {"enterprise_id", "task_id", "cno", "removed"},
	kindAgentInfo:  {"enterprise_id", "task_id", "cno", "removed", "agent_name"},
	kindAgentState: {"enterprise_id", "task_id", "cno", "removed", "status"},
	kindTaskField:  {"enterprise_id", "task_id", "field"},
}

// family is one metric family. The table below is the single description
// of every task and agent metric: the Collector and the streaming text
// writer both read it, so they cannot drift apart.
type family struct {
	name   string
	help   string
	kind   labelKind
	states []string // state-set values, for kind*State; field names, for kindTaskField
	desc   *prometheus.Desc
	// stateText[i] is `,status="states[i]"` (`,field="…"`), rendered once.
	stateText []string

	task  func(*apiclient.MonitorData) apiclient.Float64  // kindTask value, absent when !Valid
	agent func(*apiclient.AgentStatistic) (float64, bool) // kindAgent value
}

// Family indexes used by the mapping code for the families it fills by hand.
const (
	famScrapeSuccess = iota
	famScrapeDuration
	famDuplicateAgents
	famTaskInfo
	famTaskStatus
	famTaskStart
	famTaskEnd
	famAgentInfo
	famAgentStatus
	famUnreadable
	famFirstTaskGauge // the task gauges follow, then the agent gauges
)

var taskStates = []string{"initial", "running", "paused", "finished", "unknown"}

const taskStateUnknown = 4

// agentStates are the state-set values of dyvms_agent_status; agentState
// maps the vendor's AgentStatus strings onto them. "unknown" is ours: a
// state the vendor adds later must stay visible without breaking the
// "exactly one is 1" rule.
var agentStates = []string{"idle", "pause", "inuse", "calling", "wrapup", "none", "unknown"}

func agentState(wire apiclient.Text) uint8 {
	switch wire {
	case "stateIdle":
		return 0
	case "statePause":
		return 1
	case "stateInuse":
		return 2
	case "stateCalling":
		return 3
	case "stateWrapup":
		return 4
	case "":
		return 5
	}
	return agentStateUnknown
}

const agentStateUnknown = 6

// unreadableFields are the values of dyvms_task_unreadable_fields' field
// label: the decoder's fixed set of wire paths, so a field is an index
// (sample.state) like a state, and the label's values are bounded.
var unreadableFields = apiclient.MonitorDataFields()

var unreadableIndex = func() map[string]int {
	m := make(map[string]int, len(unreadableFields))
	for i, f := range unreadableFields {
		m[f] = i
	}
	return m
}()

func agentValue(f func(*apiclient.AgentStatistic) apiclient.Float64) func(*apiclient.AgentStatistic) (float64, bool) {
	return func(a *apiclient.AgentStatistic) (float64, bool) { v := f(a); return v.Value, v.Valid }
}

// limit drops -1, the vendor's "no limit configured": exporting it would
// make every "answered / limit" ratio meaningless.
func limit(f func(*apiclient.AgentStatistic) apiclient.Float64) func(*apiclient.AgentStatistic) (float64, bool) {
	return func(a *apiclient.AgentStatistic) (float64, bool) {
		v := f(a)
		return v.Value, v.Valid && v.Value >= 0
	}
}

func stat(when string, pick func(*apiclient.MonitorData) *apiclient.TaskStatistic, prefix string) []family {
	return []family{
		{name: "task_" + prefix + "agents", help: "Agents that took part in the task " + when + " (AgentCount).",
			task: func(d *apiclient.MonitorData) apiclient.Float64 { return pick(d).AgentCount }},
		{name: "task_" + prefix + "called", help: "Customer numbers dialled " + when + ".",
			task: func(d *apiclient.MonitorData) apiclient.Float64 { return pick(d).CalledCount }},
		{name: "task_" + prefix + "answered", help: "Dialled customers who answered the call " + when + ".",
			task: func(d *apiclient.MonitorData) apiclient.Float64 { return pick(d).AnswerCount }},
		{name: "task_" + prefix + "uncalled", help: "Customer numbers of the list not dialled yet (" + when + " view).",
			task: func(d *apiclient.MonitorData) apiclient.Float64 { return pick(d).UncalledCount }},
		{name: "task_" + prefix + "agent_calls", help: "Answered calls put through to an agent " + when + " (CallAgentCount).",
			task: func(d *apiclient.MonitorData) apiclient.Float64 { return pick(d).CallAgentCount }},
	}
}

func channel(name, help string, f func(*apiclient.ChannelInfo) apiclient.Float64) family {
	return family{name: name, help: help, task: func(d *apiclient.MonitorData) apiclient.Float64 { return f(&d.ChannelInfo) }}
}

func agents(name, help string, f func(*apiclient.AgentInfo) apiclient.Float64) family {
	return family{name: name, help: help, task: func(d *apiclient.MonitorData) apiclient.Float64 { return f(&d.AgentInfo) }}
}

type agentStat = apiclient.AgentStatistic

// families is indexed by the fam* constants first; order elsewhere is free.
var families = func() []family {
	fs := []family{
		famScrapeSuccess:   {name: "task_scrape_success", help: "1 if CloudMonitorTask answered for this task in this scrape, 0 if it failed (then no other metric of the task is exported)."},
		famScrapeDuration:  {name: "task_scrape_duration_seconds", help: "Time spent reading this task from the API in this scrape, including retries."},
		famDuplicateAgents: {name: "task_duplicate_agent_rows", help: "Agent rows dropped from this answer because their cno was already listed in the same list (first row wins)."},
		famTaskInfo:        {name: "task_info", help: "Text properties of the dialling task; always 1.", kind: kindTaskInfo},
		famTaskStatus:      {name: "task_status", help: "Task status as a state set: exactly one of initial, running, paused, finished, unknown is 1.", kind: kindTaskState, states: taskStates},
		famTaskStart:       {name: "task_start_timestamp_seconds", help: "When the task started dialling (Unix time); absent if it never started."},
		famTaskEnd:         {name: "task_end_timestamp_seconds", help: "When the task ended (Unix time); absent if it has not ended."},
		famAgentInfo:       {name: "agent_info", help: "Name of the agent (seat); always 1.", kind: kindAgentInfo},
		famAgentStatus: {name: "agent_status", kind: kindAgentState, states: agentStates,
			help: "Agent state in this task as a state set: idle, pause (busy/not ready), inuse (talking), calling (being rung), wrapup (after-call work), none (no state in this task), unknown (a value this exporter does not know)."},
		famUnreadable: {name: "task_unreadable_fields", kind: kindTaskField, states: unreadableFields,
			help: "Values of this field (wire path below Data; all rows of an agent list count together) in this answer that could not be read, such as true or \"abc\" for a number; they are not exported, the rest of the task is. Absent when every value was read."},
	}
	fs = append(fs, stat("since the task was created", func(d *apiclient.MonitorData) *apiclient.TaskStatistic { return &d.Statistic }, "")...)
	fs = append(fs, stat("today (since local midnight)", func(d *apiclient.MonitorData) *apiclient.TaskStatistic { return &d.TodayStatistic }, "today_")...)
	fs = append(fs,
		channel("task_channels", "Calls (channels) of this task in progress right now.", func(c *apiclient.ChannelInfo) apiclient.Float64 { return c.ChannelCount }),
		channel("task_channels_bridged", "Calls of this task connected to an agent right now.", func(c *apiclient.ChannelInfo) apiclient.Float64 { return c.BridgedCount }),
		channel("task_channels_answered", "Calls of this task answered by the customer right now.", func(c *apiclient.ChannelInfo) apiclient.Float64 { return c.AnswerCount }),
		channel("task_channels_waiting_agent", "Answered customers waiting to be put through to an agent right now.", func(c *apiclient.ChannelInfo) apiclient.Float64 { return c.WaitAgentCount }),
		channel("task_channels_waiting_answer", "Calls ringing at the customer, not answered yet, right now.", func(c *apiclient.ChannelInfo) apiclient.Float64 { return c.WaitAnswerCount }),
		channel("task_channels_ivr", "Answered calls overflowed to the IVR because no agent was free, right now.", func(c *apiclient.ChannelInfo) apiclient.Float64 { return c.IvrCount }),
		channel("enterprise_channels", "Predictive-dialling channels (concurrent calls) the enterprise is provisioned with, as reported with this task.", func(c *apiclient.ChannelInfo) apiclient.Float64 { return c.EnterpriseChannelCount }),
		agents("task_agents_assigned", "Agents assigned to the task.", func(a *apiclient.AgentInfo) apiclient.Float64 { return a.TotalCount }),
		agents("task_agents_online", "Agents of the task logged in right now.", func(a *apiclient.AgentInfo) apiclient.Float64 { return a.OnlineCount }),
		agents("task_agents_available", "Agents of the task free to take a call right now.", func(a *apiclient.AgentInfo) apiclient.Float64 { return a.AvailableCount }),
		agents("task_agents_ringing", "Agents of the task being rung right now.", func(a *apiclient.AgentInfo) apiclient.Float64 { return a.RingingCount }),
		agents("task_agents_bridged", "Agents of the task talking to a customer right now.", func(a *apiclient.AgentInfo) apiclient.Float64 { return a.BridgeCount }),
		agents("task_agents_wrapup", "Agents of the task in after-call work right now.", func(a *apiclient.AgentInfo) apiclient.Float64 { return a.WrapupCount }),
	)
	for _, a := range []family{
		{name: "agent_called", help: "Calls offered to (rung at) this agent in this task.", agent: agentValue(func(a *agentStat) apiclient.Float64 { return a.CalledCount })},
		{name: "agent_bridged", help: "Calls this agent answered (connected) in this task.", agent: agentValue(func(a *agentStat) apiclient.Float64 { return a.BridgeCount })},
		{name: "agent_not_bridged", help: "Calls offered to this agent that it did not answer, in this task.", agent: agentValue(func(a *agentStat) apiclient.Float64 { return a.NoBridgeCount })},
		{name: "agent_today_answered", help: "Calls this agent answered today in this task.", agent: agentValue(func(a *agentStat) apiclient.Float64 { return a.TodayAnsweredCount })},
		{name: "agent_enterprise_today_answered", help: "Calls this agent answered today across all tasks of the enterprise.", agent: agentValue(func(a *agentStat) apiclient.Float64 { return a.EnterpriseTodayAnsweredCount })},
		{name: "agent_call_limit", help: "Most calls this agent may answer per day in this task; absent when no limit is configured.", agent: limit(func(a *agentStat) apiclient.Float64 { return a.CallLimit })},
		{name: "agent_enterprise_call_limit", help: "Most calls this agent may answer per day across the enterprise; absent when no limit is configured.", agent: limit(func(a *agentStat) apiclient.Float64 { return a.EnterpriseCallLimit })},
		{name: "agent_average_bridge_duration_seconds", help: "Average talk time of this agent's connected calls (AvgBridgeTime).", agent: agentValue(func(a *agentStat) apiclient.Float64 { return a.AvgBridgeTime })},
		{name: "agent_average_idle_duration_seconds", help: "Average idle time of this agent between calls: idle time / calls (AgentAvgIdleTime).", agent: agentValue(func(a *agentStat) apiclient.Float64 { return a.AgentAvgIdleTime })},
		{name: "agent_bridge_in_2s_ratio", help: "BridgeIn2sRate as the API returns it; the vendor defines it as calls the agent answered within 2 s of being rung / calls the agent answered (not always within 0..1 in vendor data).", agent: agentValue(func(a *agentStat) apiclient.Float64 { return a.BridgeIn2sRate })},
	} {
		a.kind = kindAgent
		fs = append(fs, a)
	}
	for i := range fs {
		fs[i].name = Namespace + "_" + fs[i].name
		fs[i].desc = prometheus.NewDesc(fs[i].name, fs[i].help, kindLabels[fs[i].kind], nil)
		if len(fs[i].states) > 256 {
			panic(fs[i].name + ": more values than sample.state can index")
		}
		label := kindLabels[fs[i].kind][len(kindLabels[fs[i].kind])-1] // status or field
		for _, st := range fs[i].states {
			fs[i].stateText = append(fs[i].stateText, string(appendLabel(nil, ',', label, st)))
		}
	}
	return fs
}()
