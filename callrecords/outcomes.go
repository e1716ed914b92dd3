package callrecords

import "github.com/dyvms-community/dyvms_exporter/apiclient"

// AbandonAfter is the regulators' limit (Ofcom; the US TSR likewise): a
// live person who answers and is not connected to an agent within 2 s is
// an abandoned call. The records give times to the second, so "within 2 s"
// is BridgeTime − RealAnswerTime ≤ 2 in whole seconds: a 1-second clock
// cannot tell 1.5 s from 2.4 s.
const AbandonAfter = 2

// call is what the outcome rules read of a record: moments as Unix
// seconds (0: never) and codes (-1: absent).
type call struct {
	start, answer, realAnswer, bridge, end int64
	status, isReal                         int64
	talk, total                            int64 // seconds, -1: unknown
}

func readCall(r *apiclient.CallRecord) call {
	at := func(f apiclient.Int64) int64 {
		v, _ := apiclient.At(f)
		return max(v, 0)
	}
	code := func(f apiclient.Int64) int64 {
		if !f.Valid {
			return -1
		}
		return f.Value
	}
	c := call{
		start: at(r.StartTime), answer: at(r.AnswerTime), realAnswer: at(r.RealAnswerTime),
		bridge: at(r.BridgeTime), end: at(r.EndTime),
		status: code(r.StatusCode), isReal: code(r.IsRealAnswer), talk: -1, total: -1,
	}
	switch {
	case r.BridgeDuration.Valid && r.BridgeDuration.Value >= 0 && c.bridge > 0:
		c.talk = r.BridgeDuration.Value
	case c.bridge > 0 && c.end >= c.bridge:
		c.talk = c.end - c.bridge
	}
	switch {
	case r.TotalDuration.Valid && r.TotalDuration.Value >= 0:
		c.total = r.TotalDuration.Value
	case c.start > 0 && c.end >= c.start:
		c.total = c.end - c.start
	}
	return c
}

func (c call) answered() bool {
	return c.answer > 0 || c.realAnswer > 0 || c.status == 41 || c.status == 43 || c.isReal == 1
}

// live: IsRealAnswer says so, or is empty and a RealAnswerTime is there.
func (c call) live() bool {
	return c.isReal == 1 || c.isReal == -1 && c.realAnswer > 0
}

func (c call) connected() bool { return c.bridge > 0 || c.status == 43 }

// wait is the customer's wait from the live answer to the agent, when both
// moments are known.
func (c call) wait() (int64, bool) {
	from := c.realAnswer
	if from == 0 {
		from = c.answer
	}
	if !c.live() || c.bridge == 0 || from == 0 {
		return 0, false
	}
	return max(c.bridge-from, 0), true
}

func (c call) abandoned() bool {
	if !c.live() {
		return false
	}
	if !c.connected() {
		return true
	}
	w, ok := c.wait()
	return ok && w > AbandonAfter
}

// outcome is one counter of calls. This table is the definition: the
// table of call outcomes in docs/call-outcomes.md repeats name and rule word for word (a
// test compares them), so a wrong reading of a vendor field is corrected
// here and there, nowhere else.
type outcome struct {
	name, rule string
	counts     func(call) bool
}

var outcomes = []outcome{
	{"dyvms_calls_dialled_total", "every record: a call the dialler made", func(call) bool { return true }},
	{"dyvms_calls_not_answered_total", "not answered: no AnswerTime, no RealAnswerTime, StatusCode not 41 or 43, IsRealAnswer not 1",
		func(c call) bool { return !c.answered() }},
	{"dyvms_calls_live_answered_total", "answered by a live person: IsRealAnswer 1, or IsRealAnswer empty and RealAnswerTime set",
		func(c call) bool { return c.answered() && c.live() }},
	{"dyvms_calls_machine_answered_total", "answered, but not known to be by a live person (a machine, or unknown): IsRealAnswer 0, or empty without RealAnswerTime",
		func(c call) bool { return c.answered() && !c.live() }},
	{"dyvms_calls_connected_total", "connected to an agent: BridgeTime set, or StatusCode 43",
		func(c call) bool { return c.connected() }},
	{"dyvms_calls_abandoned_total", "live answer not connected to an agent, or connected more than 2 s after it: BridgeTime − RealAnswerTime > 2 (whole seconds; AnswerTime when RealAnswerTime is empty)",
		func(c call) bool { return c.answered() && c.abandoned() }},
}
