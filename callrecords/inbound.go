package callrecords

import "github.com/dyvms-community/dyvms_exporter/apiclient"

// Inbound call records (CloudQueryIbCdr), issue 20: what a record counts
// as. This is the rule the inbound poller is to count by; the poller
// itself (the predictive one's windows, memory and health, shared rather
// than copied) is not written yet.

// inboundOutcome is one value of the outcome label of
// dyvms_inbound_calls_total. This table is the definition: the table of
// inbound outcomes in docs/call-centre.md repeats value and rule word for
// word (a test compares them).
type inboundOutcome struct {
	name, rule string
	codes      func(int64) bool
}

func code(c int64) func(int64) bool { return func(s int64) bool { return s == c } }

var inboundOutcomes = []inboundOutcome{
	{"answered", "StatusCode 1: answered by an agent", code(1)},
	{"agent_no_answer", "StatusCode 2: an agent was called and did not answer", code(2)},
	{"ivr_only", "StatusCode 3: answered by the system (IVR) only", code(3)},
	{"system_not_answered", "StatusCode 4 to 13: the system did not answer (IVR error, out of service, arrears, blacklist, unregistered, colour ring, over the limit, the caller hung up first, other error)",
		func(s int64) bool { return s >= 4 && s <= 13 }},
	{"not_queued", "StatusCode 14: did not enter a queue", code(14)},
	{"abandoned_in_queue", "StatusCode 15: the caller hung up while waiting in the queue", code(15)},
	{"queue_timeout", "StatusCode 16: left the queue at its timeout (overflow)", code(16)},
	{"queue_no_agent", "StatusCode 17: left the queue because no agent was available (overflow)", code(17)},
	{"no_agent_not_queued", "StatusCode 18: no agent, so not queued", code(18)},
	{"queue_full", "StatusCode 19: the queue was full, so not queued", code(19)},
	{"unknown", "any other StatusCode, or none", func(int64) bool { return true }},
}

// InboundOutcomes are the values of the outcome label, in the table's order.
func InboundOutcomes() []string {
	out := make([]string, len(inboundOutcomes))
	for i, o := range inboundOutcomes {
		out[i] = o.name
	}
	return out
}

// InboundOutcome is the outcome a record counts as: the first row of the
// table whose rule its StatusCode meets.
func InboundOutcome(r *apiclient.InboundRecord) string {
	s := int64(-1)
	if r.StatusCode.Valid {
		s = r.StatusCode.Value
	}
	for _, o := range inboundOutcomes {
		if o.codes(s) {
			return o.name
		}
	}
	return "unknown"
}

// NoQueue is the queue label of a call that never reached a queue (Qno
// empty or -1).
const NoQueue = "none"

// InboundQueue is the queue label of a record: its Qno, or NoQueue.
func InboundQueue(r *apiclient.InboundRecord) string {
	if q, ok := r.Queued(); ok {
		return q
	}
	return NoQueue
}

// InboundWaitBuckets are the wait histograms' buckets, in seconds: 5, 10,
// 15, 20, 30 and 60 are among them, so that the usual service-level
// thresholds are bucket edges and "answered within the threshold" is read
// exactly.
var InboundWaitBuckets = []float64{1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300, 600}

// AnswerWait is how long an answered call waited for its agent:
// BridgeTime − StartTime. A Cloud inbound record has no queue-join time,
// so this includes the time in the IVR (inferred from the fields).
func AnswerWait(r *apiclient.InboundRecord) (int64, bool) {
	start, ok1 := apiclient.At(r.StartTime)
	bridge, ok2 := apiclient.At(r.BridgeTime)
	if InboundOutcome(r) != "answered" || !ok1 || !ok2 || bridge < start {
		return 0, false
	}
	return bridge - start, true
}

// AbandonWait is how long a caller who hung up in the queue waited:
// EndTime − StartTime, the IVR included as for AnswerWait.
func AbandonWait(r *apiclient.InboundRecord) (int64, bool) {
	start, ok1 := apiclient.At(r.StartTime)
	end, ok2 := apiclient.At(r.EndTime)
	if InboundOutcome(r) != "abandoned_in_queue" || !ok1 || !ok2 || end < start {
		return 0, false
	}
	return end - start, true
}
