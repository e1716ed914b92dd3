package simulator

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The simulator writes JSON by hand rather than through encoding/json and
// shared types: the vendor's quirks (one Status an integer, its twin a
// string; AvgBridgeTime a string of seconds) must be spelled out here, and
// a decoder bug elsewhere must not be mirrored by this encoder.

const timeLayout = "2006-01-02 15:04:05"

// jw appends JSON. comma records whether the next member needs a separator.
type jw struct {
	b       []byte
	comma   bool
	strings bool // the "strings" fault: numbers written as JSON strings
}

func (w *jw) open(c byte) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, c)
	w.comma = false
}

func (w *jw) close(c byte) {
	w.b = append(w.b, c)
	w.comma = true
}

func (w *jw) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma = false
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = appendQuoted(w.b, v)
	w.comma = true
}

func (w *jw) int(k string, v int64) {
	w.key(k)
	if w.strings {
		w.b = append(w.b, '"')
	}
	w.b = strconv.AppendInt(w.b, v, 10)
	if w.strings {
		w.b = append(w.b, '"')
	}
	w.comma = true
}

func (w *jw) float(k string, v float64) {
	w.key(k)
	if w.strings {
		w.b = append(w.b, '"')
	}
	w.b = strconv.AppendFloat(w.b, v, 'f', -1, 64)
	if w.strings {
		w.b = append(w.b, '"')
	}
	w.comma = true
}

// intString writes an integer that the vendor sends as a string.
func (w *jw) intString(k string, v int64) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = strconv.AppendInt(w.b, v, 10)
	w.b = append(w.b, '"')
	w.comma = true
}

func (w *jw) time(k string, unix int64, loc *time.Location) {
	w.key(k)
	w.b = append(w.b, '"')
	if unix != 0 {
		w.b = time.Unix(unix, 0).In(loc).AppendFormat(w.b, timeLayout)
	}
	w.b = append(w.b, '"')
	w.comma = true
}

const hexDigits = "0123456789abcdef"

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			if c >= utf8.RuneSelf { // invalid UTF-8
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendMonitor writes a CloudMonitorTask answer for the task as it is at
// k.now. The caller holds k.mu.
func (k *task) appendMonitor(w *jw, requestID string, dupCno bool) {
	w.open('{')
	w.str("RequestId", requestID)
	w.str("Message", "OK")
	w.key("Data")
	w.open('{')

	w.key("RemovedAgentStatisticList")
	w.open('[')
	for i := range k.agents {
		if k.agents[i].removed {
			k.appendAgent(w, &k.agents[i])
		}
	}
	w.close(']')

	active := 0
	var states [len(agentStateNames)]int64
	for i := range k.agents {
		if a := &k.agents[i]; !a.removed {
			active++
			states[a.state]++
		}
	}
	uncalled := int64(*k.cfg.Numbers) - k.called
	k.appendStatistic(w, "TodayStatistic", true, int64(active), k.todayCalled, k.todayAnswered, uncalled, k.todayCallAgent)
	k.appendStatistic(w, "Statistic", false, int64(active), k.called, k.answered, uncalled, k.callAgent)

	w.key("AgentStatisticList")
	w.open('[')
	first := true
	for i := range k.agents {
		if a := &k.agents[i]; !a.removed {
			k.appendAgent(w, a)
			if first && dupCno {
				k.appendAgent(w, a)
			}
			first = false
		}
	}
	w.close(']')

	var byState [4]int64
	for i := range k.calls {
		byState[k.calls[i].state]++
	}
	answered := byState[callWaitAgent] + byState[callBridged] + byState[callIVR]
	w.key("ChannelInfo")
	w.open('{')
	w.int("BridgedCount", byState[callBridged])
	w.int("EnterpriseChannelCount", int64(k.ent.channels))
	w.int("ChannelCount", int64(len(k.calls)))
	w.int("WaitAgentCount", byState[callWaitAgent])
	w.int("AnswerCount", answered)
	w.int("IvrCount", byState[callIVR])
	w.int("WaitAnswerCount", byState[callWaitAnswer])
	w.close('}')

	w.key("AgentInfo")
	w.open('{')
	w.int("WrapupCount", states[agWrapup])
	w.int("TotalCount", int64(active))
	w.int("RingingCount", states[agCalling])
	w.int("BridgeCount", states[agInuse])
	w.int("OnlineCount", int64(active)-states[agOff])
	w.int("AvailableCount", states[agIdle])
	w.close('}')

	w.close('}')
	w.str("Code", "OK")
	w.close('}')
}

func (k *task) appendStatistic(w *jw, name string, statusAsString bool, agents, called, answered, uncalled, callAgent int64) {
	w.key(name)
	w.open('{')
	w.key("CtiLinkTaskProperty")
	w.open('{')
	if statusAsString {
		w.intString("Status", int64(k.status))
	} else {
		w.int("Status", int64(k.status))
	}
	w.time("OverTime", k.overAt, k.loc)
	w.str("StatusDescription", k.desc)
	w.time("StartTime", k.startAt, k.loc)
	w.int("Id", k.cfg.ID)
	w.str("Name", k.cfg.Name)
	w.close('}')
	w.int("AgentCount", agents)
	w.int("CalledCount", called)
	w.int("AnswerCount", answered)
	w.int("UncalledCount", uncalled)
	w.int("CallAgentCount", callAgent)
	w.close('}')
}

func (k *task) appendAgent(w *jw, a *agent) {
	avgTalk, idle, in2s := int64(0), int64(0), 0.0
	if a.talkCalls > 0 {
		avgTalk = int64(math.Round(float64(a.talkSecs) / float64(a.talkCalls)))
	}
	if a.called > 0 {
		idleSecs := a.idleSecs
		if a.state == agIdle && !a.removed {
			idleSecs += k.now - a.since
		}
		idle = idleSecs / a.called
	}
	if a.bridged > 0 {
		in2s = math.Round(float64(a.in2s)/float64(a.bridged)*1e4) / 1e4
	}
	w.open('{')
	w.int("TodayAnsweredCount", a.today)
	w.str("Cno", a.cno)
	w.int("NoBridgeCount", a.noBridge)
	w.int("EnterpriseCallLimit", int64(k.ent.callLimit))
	w.str("Name", a.name)
	w.key("AvgBridgeTime")
	w.b = append(strconv.AppendInt(append(w.b, '"'), avgTalk, 10), '"')
	w.comma = true
	w.int("EnterpriseTodayAnsweredCount", a.entToday)
	w.str("AgentStatus", agentStateNames[a.state])
	w.int("AgentAvgIdleTime", idle)
	w.int("BridgeCount", a.bridged)
	w.int("CalledCount", a.called)
	w.float("BridgeIn2sRate", in2s)
	w.int("CallLimit", int64(*k.cfg.CallLimit))
	w.close('}')
}

// appendTaskProperty writes one Data.TaskProperties entry of CloudQueryTask.
func (k *task) appendTaskProperty(w *jw) {
	cnos := make([]byte, 0, 8*len(k.agents))
	for i := range k.agents {
		if !k.agents[i].removed {
			if len(cnos) > 0 {
				cnos = append(cnos, ',')
			}
			cnos = append(cnos, k.agents[i].cno...)
		}
	}
	trigger := int64(0)
	if k.manual {
		trigger = 1
	}
	w.open('{')
	w.int("Id", k.cfg.ID)
	w.str("Name", k.cfg.Name)
	w.int("Status", int64(k.status))
	w.str("StatusDescription", k.desc)
	w.int("StatusTriggerType", trigger)
	w.int("Type", int64(k.cfg.Type))
	w.key("EnterpriseId") // a string, unlike the request parameter
	w.b = append(strconv.AppendInt(append(w.b, '"'), k.ent.id, 10), '"')
	w.comma = true
	w.time("CreateTime", k.createAt, k.loc)
	w.time("StartTime", k.startAt, k.loc)
	w.time("OverTime", k.overAt, k.loc)
	w.time("PauseTime", k.pauseAt, k.loc)
	w.str("Cnos", string(cnos))
	w.int("Concurrency", int64(k.cfg.Concurrency))
	w.int("Wrapup", int64(time.Duration(*k.cfg.WrapupMean)/time.Second))
	w.int("AgentTimeout", agentTimeout)
	w.str("Description", "")
	w.close('}')
}
