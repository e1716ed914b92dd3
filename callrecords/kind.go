package callrecords

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/labelvalue"
)

// A kind is what differs between the record kinds a Manager polls: the
// operation that pages them, how a record names its ids, end and series
// (a task, a queue), and the series it counts into. The windows, the
// de-duplication memory, the paging, the resume and the health series
// (callrecords.go, memory.go, metrics.go) are the same code for both, so
// that the inbound poller keeps every promise of docs/call-records-poller.md.
type kind interface {
	op() string          // the API operation, for errors and help
	what() string        // "call records", for logs
	prefix() string      // of the health families
	seriesLabel() string // the label of the series key: task_id, queue
	maxSeries() int      // series keys per enterprise
	tooMany() string     // the invalid reason past maxSeries
	retiredFamily() (name, help string)
	invalidHelp() string
	// page reads one page with the reader given to Update, into buf
	// (reused from page to page: items are 100 bytes, a page 1,000).
	page(ctx context.Context, reader any, q apiclient.CdrQuery, buf []item) ([]item, error)
	// create makes a key's series at 0; observe counts one record (an
	// item's rec) into them.
	create(ent, key string)
	observe(ent, key string, rec any)
	collectors() []prometheus.Collector
	// families names collectors' families, in their order: what
	// Manager.Exclude may name.
	families() []string
}

// item is a record as the shared core sees it.
type item struct {
	ids [3]apiclient.Text
	end apiclient.Int64
	// series is the key the record counts under; invalid, when not "", is
	// the reason the kind cannot count it (after no_id and no_end_time).
	series, invalid string
	rec             any // a pointer into the page, for observe
}

// InboundReader reads one page of inbound call records; the service
// passes its pacer.
type InboundReader interface {
	CloudQueryIbCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.InboundRecord, error)
}

// MaxQueues bounds the queues with inbound series per enterprise (about
// 45 series each). A record of a further queue is not counted
// (dyvms_inbound_call_records_invalid_total{reason="too_many_queues"}).
const MaxQueues = 200

// predictive is CloudQueryPredictiveCallCdr, counted per task.
type predictive struct {
	outcomes             []*prometheus.CounterVec // as the outcomes table
	wait, talk, duration *prometheus.HistogramVec
}

func newPredictive() *predictive {
	k := &predictive{}
	for _, o := range outcomes {
		k.outcomes = append(k.outcomes, prometheus.NewCounterVec(prometheus.CounterOpts{Name: o.name, Help: "Calls counted from their call records: " + o.rule + "."}, taskLabels))
	}
	k.wait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dyvms_call_answer_to_agent_wait_seconds",
		Help: "The customer's wait from the live answer to the agent (BridgeTime - RealAnswerTime, whole seconds), of live answers connected to an agent.", Buckets: waitBuckets}, taskLabels)
	k.talk = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dyvms_call_talk_duration_seconds",
		Help: "Talk time with the agent (BridgeDuration), of calls connected to an agent.", Buckets: durationBuckets}, taskLabels)
	k.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dyvms_call_duration_seconds",
		Help: "Total call time (TotalDuration), of every call dialled.", Buckets: durationBuckets}, taskLabels)
	return k
}

func (*predictive) op() string          { return apiclient.OpCloudQueryPredictiveCallCdr }
func (*predictive) what() string        { return "call records" }
func (*predictive) prefix() string      { return "dyvms_call_records_" }
func (*predictive) seriesLabel() string { return "task_id" }
func (*predictive) maxSeries() int      { return MaxTasks }
func (*predictive) tooMany() string     { return "too_many_tasks" }
func (*predictive) retiredFamily() (string, string) {
	return "tasks_retired_total", "Tasks whose call-outcome series were removed: no record for 48 h, neither configured nor discovered."
}
func (*predictive) invalidHelp() string {
	return "Call records not counted, by reason: a field they need is missing (no_id, no_end_time, no_task_id); too_old, ended before the de-duplication memory can tell whether they were counted; too_many_tasks, a task past the bound of tasks per enterprise; after_window, ended after the window asked (counted when a window holds them)."
}

func (*predictive) page(ctx context.Context, reader any, q apiclient.CdrQuery, buf []item) ([]item, error) {
	r, ok := reader.(Reader)
	if !ok {
		return nil, fmt.Errorf("callrecords: %T cannot read %s", reader, apiclient.OpCloudQueryPredictiveCallCdr)
	}
	list, err := r.CloudQueryPredictiveCallCdrPage(ctx, q)
	out := slices.Grow(buf[:0], len(list))[:len(list)]
	for i := range list {
		rec := &list[i]
		it := item{ids: [3]apiclient.Text{rec.UniqueID, rec.CallID, rec.ID}, end: rec.EndTime, rec: rec}
		if !rec.TaskID.Valid || rec.TaskID.Value <= 0 {
			it.invalid = "no_task_id"
		} else {
			it.series = strconv.FormatInt(rec.TaskID.Value, 10)
		}
		out[i] = it
	}
	return out, err
}

func (k *predictive) create(ent, task string) {
	for _, c := range k.outcomes {
		c.WithLabelValues(ent, task)
	}
	k.wait.WithLabelValues(ent, task)
	k.talk.WithLabelValues(ent, task)
	k.duration.WithLabelValues(ent, task)
}

func (k *predictive) observe(ent, task string, rec any) {
	k.observeCall(ent, task, readCall(rec.(*apiclient.CallRecord)))
}

func (k *predictive) observeCall(ent, task string, c call) {
	for i, o := range outcomes {
		if o.counts(c) {
			k.outcomes[i].WithLabelValues(ent, task).Inc()
		}
	}
	if w, ok := c.wait(); ok && c.answered() {
		k.wait.WithLabelValues(ent, task).Observe(float64(w))
	}
	if c.talk >= 0 && c.connected() {
		k.talk.WithLabelValues(ent, task).Observe(float64(c.talk))
	}
	if c.total >= 0 {
		k.duration.WithLabelValues(ent, task).Observe(float64(c.total))
	}
}

func (k *predictive) families() []string {
	out := []string{"dyvms_call_answer_to_agent_wait_seconds", "dyvms_call_talk_duration_seconds", "dyvms_call_duration_seconds"}
	for _, o := range outcomes {
		out = append(out, o.name)
	}
	return out
}

func (k *predictive) collectors() []prometheus.Collector {
	out := []prometheus.Collector{k.wait, k.talk, k.duration}
	for _, c := range k.outcomes {
		out = append(out, c)
	}
	return out
}

// inboundKind is CloudQueryIbCdr, counted per queue (inbound.go).
type inboundKind struct {
	calls                   *prometheus.CounterVec
	answerWait, abandonWait *prometheus.HistogramVec
}

var queueLabels = []string{"enterprise_id", "queue"}

// inboundFamilies are the inbound kind's counted families, in the order
// of its collectors.
var inboundFamilies = []string{"dyvms_inbound_calls_total", "dyvms_inbound_answer_wait_seconds", "dyvms_inbound_abandon_wait_seconds"}

// InboundFamilies are the families of inbound calls that metrics.exclude
// may name. The poller's health series (dyvms_inbound_call_records_*) are
// not among them: they are how a stalled poller shows, a dozen series an
// enterprise.
func InboundFamilies() []string { return slices.Clone(inboundFamilies) }

func newInbound() *inboundKind {
	return &inboundKind{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: inboundFamilies[0],
			Help: "Inbound calls counted from their call records (CloudQueryIbCdr), each once, by queue (Qno, none when the call reached no queue) and outcome (from StatusCode, see docs/call-centre.md)."},
			[]string{"enterprise_id", "queue", "outcome"}),
		answerWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: inboundFamilies[1],
			Help: "Wait of answered inbound calls until an agent answered (BridgeTime - StartTime, whole seconds, the IVR included).", Buckets: InboundWaitBuckets}, queueLabels),
		abandonWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: inboundFamilies[2],
			Help: "Wait of inbound callers who hung up in the queue until they did (EndTime - StartTime, whole seconds, the IVR included).", Buckets: InboundWaitBuckets}, queueLabels),
	}
}

func (*inboundKind) op() string          { return apiclient.OpCloudQueryIbCdr }
func (*inboundKind) what() string        { return "inbound call records" }
func (*inboundKind) prefix() string      { return "dyvms_inbound_call_records_" }
func (*inboundKind) seriesLabel() string { return "queue" }
func (*inboundKind) maxSeries() int      { return MaxQueues }
func (*inboundKind) tooMany() string     { return "too_many_queues" }
func (*inboundKind) retiredFamily() (string, string) {
	return "queues_retired_total", "Queues whose inbound series were removed: no record for 48 h and not listed by CloudListQueue."
}
func (*inboundKind) invalidHelp() string {
	return "Inbound call records not counted, by reason: a field they need is missing (no_id, no_end_time); bad_queue, a Qno that is no short queue number; too_old, ended before the de-duplication memory can tell whether they were counted; too_many_queues, a queue past the bound of queues per enterprise; after_window, ended after the window asked (counted when a window holds them)."
}

func (*inboundKind) page(ctx context.Context, reader any, q apiclient.CdrQuery, buf []item) ([]item, error) {
	r, ok := reader.(InboundReader)
	if !ok {
		return nil, fmt.Errorf("callrecords: %T cannot read %s", reader, apiclient.OpCloudQueryIbCdr)
	}
	list, err := r.CloudQueryIbCdrPage(ctx, q)
	out := slices.Grow(buf[:0], len(list))[:len(list)]
	for i := range list {
		rec := &list[i]
		it := item{ids: [3]apiclient.Text{rec.UniqueID}, end: rec.EndTime, rec: rec}
		if qn := InboundQueue(rec); labelvalue.Identifier(qn) {
			it.series = qn
		} else {
			it.invalid = "bad_queue"
		}
		out[i] = it
	}
	return out, err
}

func (k *inboundKind) create(ent, queue string) {
	for _, o := range InboundOutcomes() {
		k.calls.WithLabelValues(ent, queue, o)
	}
	k.answerWait.WithLabelValues(ent, queue)
	k.abandonWait.WithLabelValues(ent, queue)
}

func (k *inboundKind) observe(ent, queue string, rec any) {
	r := rec.(*apiclient.InboundRecord)
	k.calls.WithLabelValues(ent, queue, InboundOutcome(r)).Inc()
	if w, ok := AnswerWait(r); ok {
		k.answerWait.WithLabelValues(ent, queue).Observe(float64(w))
	}
	if w, ok := AbandonWait(r); ok {
		k.abandonWait.WithLabelValues(ent, queue).Observe(float64(w))
	}
}

func (k *inboundKind) collectors() []prometheus.Collector {
	return []prometheus.Collector{k.calls, k.answerWait, k.abandonWait}
}

func (*inboundKind) families() []string { return inboundFamilies }
