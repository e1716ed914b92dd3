package simulator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Call records (CloudQueryPredictiveCallCdr). Every call of a predictive
// task writes one record when it ends, from the same call the task's
// counters moved with (model.go's endCall); there is no second model. The
// API is named for predictive calls, so automatic tasks write none.
//
// Time axis. Records carry simulated times. A query's StartTime and
// EndTime are read on the clock the request came by and mapped to
// simulated seconds the way every answer maps the clock (simNow): at speed
// 1 both axes are the same second; at other speeds a poller that asks for
// [t1, t2] on its own clock still sees each record exactly once, in the
// window in which its simulated end falls, although the times written in
// the record are simulated ones.

const (
	actionCdr = "CloudQueryPredictiveCallCdr"

	maxCdrLimit            = 1000
	defaultLateRecordDelay = 10 * time.Minute
)

// cdr is one ended call, compactly: its times as Unix simulated seconds
// (0: never).
type cdr struct {
	seq                       int64 // per task, from 1
	start, end                int64
	answer, offer, bridge, iv int64
	agent                     int32 // index into task.agents; -1 none
}

// cdrLog keeps a task's records, oldest end first, at most max of them.
type cdrLog struct {
	recs    []cdr
	next    int64 // the last seq given
	dropped int64 // forgotten because of max
}

// record writes the record of call c, which ends at t. The caller holds
// k.mu (advance does).
func (k *task) record(c *call, t int64) {
	if k.cfg.Type != 1 || *k.cfg.MaxCallRecords == 0 {
		return
	}
	l := &k.cdrs
	l.next++
	// c.agent is the agent who talked to the customer: a missed offer
	// leaves it -1 (and offeredAt set).
	r := cdr{seq: l.next, start: c.dialAt, end: t, answer: c.answerAt, offer: c.offeredAt, bridge: c.bridgeAt, iv: c.ivrAt, agent: c.agent}
	if n := *k.cfg.MaxCallRecords; len(l.recs) >= n {
		// Drop the oldest half-way chunk at once, so that the copy is
		// amortised over many calls.
		cut := max(1, n/4)
		l.recs = append(l.recs[:0], l.recs[cut:]...)
		l.dropped += int64(cut)
	}
	l.recs = append(l.recs, r)
}

// cdrRef is a record found by a query, with its task.
type cdrRef struct {
	k   *task
	r   cdr
	key int64 // the time the window filtered on
}

// queryCdr answers CloudQueryPredictiveCallCdr: the enterprise's records
// (or one task's) whose start (TimeRangeType 1, the default) or end time (2)
// lies in [StartTime, EndTime], both inclusive, in time order, one page of
// Limit from Start. A window across a calendar month (of Asia/Shanghai, the API's) is refused as the
// vendor's documentation says it is.
func (s *Simulator) queryCdr(w *jw, e *enterprise, q query, reqID string, now time.Time, plan faultPlan) (reply, bool) {
	fail := func(e *apiError) (reply, bool) { return reply{status: e.status, err: e}, false }
	taskID, perr := intParam(q, "TaskId", false, 1, 1<<62, 0)
	if perr != nil {
		return fail(perr)
	}
	rangeType, perr := intParam(q, "TimeRangeType", false, 1, 2, 1)
	if perr != nil {
		return fail(perr)
	}
	start, perr := intParam(q, "Start", false, 0, 1<<31, 0)
	if perr != nil {
		return fail(perr)
	}
	limit, perr := intParam(q, "Limit", false, 1, maxCdrLimit, 10)
	if perr != nil {
		return fail(perr)
	}
	local := now.In(apiZone)
	monthStart := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, apiZone)
	from, perr := intParam(q, "StartTime", false, 0, 1<<40, monthStart.Unix())
	if perr != nil {
		return fail(perr)
	}
	to, perr := intParam(q, "EndTime", false, 0, 1<<40, monthStart.AddDate(0, 1, 0).Unix()-1)
	if perr != nil {
		return fail(perr)
	}
	if to < from {
		return fail(businessError("EndTime is before StartTime."))
	}
	a, b := time.Unix(from, 0).In(apiZone), time.Unix(to, 0).In(apiZone)
	if a.Year() != b.Year() || a.Month() != b.Month() {
		return fail(businessError("StartTime and EndTime must be in the same month."))
	}
	tasks := e.tasks
	if taskID != 0 {
		k := e.byID[taskID]
		if k == nil {
			return fail(businessError(fmt.Sprintf("TaskId %d does not exist in EnterpriseId %d.", taskID, e.id)))
		}
		tasks = []*task{k}
	}

	target := s.simNow(now)
	s.faultsMu.RLock()
	late := s.faults.lateRules(e.id)
	s.faultsMu.RUnlock()
	var found, before []cdrRef
	for _, k := range tasks {
		k.mu.Lock()
		k.advance(target)
		for _, r := range k.cdrs.recs {
			t := r.start
			if rangeType == 2 {
				t = r.end
			}
			t = s.clockSecond(t)
			if d := lateRecordDelay(late, s.seed, e.id, k.cfg.ID, r.seq); d > 0 && r.end+d > target {
				continue
			}
			switch {
			case t >= from && t <= to:
				found = append(found, cdrRef{k: k, r: r, key: t})
			case t < from && t >= from-3600 && plan.replay > 0:
				before = append(before, cdrRef{k: k, r: r, key: t})
			}
		}
		k.mu.Unlock()
	}
	byKey := func(x, y cdrRef) int {
		if c := compareInt(x.key, y.key); c != 0 {
			return c
		}
		if c := compareInt(x.k.cfg.ID, y.k.cfg.ID); c != 0 {
			return c
		}
		return compareInt(x.r.seq, y.r.seq)
	}
	slices.SortFunc(found, byKey)
	if plan.reorder {
		rng := rand.New(rand.NewPCG(plan.draw, 0x72656f72646572))
		rng.Shuffle(len(found), func(i, j int) { found[i], found[j] = found[j], found[i] })
	}
	first := start
	if plan.dupRecord && limit > 1 {
		// As if a record had been added at the head of the list before
		// each page: page p starts p records early, with the previous
		// page's last record.
		first -= start / limit
	}
	n := limit
	if plan.pageSize {
		if plan.draw&1 == 0 {
			n = limit / 2 // the list seems to end early
		} else {
			n = limit + limit/2 // the next page's first records too
		}
	}
	page := found[min(int(first), len(found)):]
	page = page[:min(int(n), len(page))]
	if plan.replay > 0 {
		// The latest records before the window, again.
		slices.SortFunc(before, byKey)
		page = append(slices.Clip(page), before[max(0, len(before)-plan.replay):]...)
	}

	w.open('{')
	w.str("RequestId", reqID)
	w.str("Message", "OK")
	w.key("Data")
	w.open('{')
	w.key("List")
	w.open('[')
	for i, f := range page {
		var form uint64
		if plan.idForms {
			form = splitmix64(plan.draw^uint64(i)) | 1
		}
		f.k.mu.Lock() // agents' names
		f.k.appendCdr(w, e.id, &f.r, f.r.end-s.clockSecond(f.r.end), form)
		f.k.mu.Unlock()
	}
	w.close(']')
	w.close('}')
	w.str("Code", "OK")
	w.close('}')
	return reply{status: http.StatusOK}, true
}

// clockSecond is the second of the clock in which simulated second t
// came. Records are written on the clock's axis, shifted so that their end
// is that second, with their durations in simulated seconds: a poller's
// windows on its own clock then agree with the records' EndTime at any
// speed, and each record falls in exactly one of a run of windows that
// follow each other.
func (s *Simulator) clockSecond(t int64) int64 {
	if s.speed == 1 {
		return t
	}
	return s.simEpoch + int64(math.Floor(float64(t-s.simEpoch)/s.speed))
}

// apiZone is the API's own zone, whose calendar months a call-record
// window may not cross, whatever zone the simulated call centre writes
// its wall-clock times in (Config.Timezone).
var apiZone = time.FixedZone("CST", 8*3600) // Asia/Shanghai, without daylight saving since 1991

// lateRule is a late_record rule that can match the enterprise asked about.
type lateRule struct {
	index       uint64 // in Faults.Rules, for its draws
	task        int64
	probability float64
	delay       int64 // simulated seconds
}

func (f *Faults) lateRules(ent int64) []lateRule {
	var out []lateRule
	for i, r := range f.Rules {
		if r.Kind == FaultLateRecord && (r.Action == "" || r.Action == actionCdr) && (r.Enterprise == 0 || r.Enterprise == ent) {
			out = append(out, lateRule{uint64(i), r.Task, r.Probability, int64(time.Duration(r.Delay) / time.Second)})
		}
	}
	return out
}

// lateRecordDelay is how many simulated seconds after its end the record
// seq of task becomes visible (0: at once). Each rule draws per record from
// a hash, so a record is late or not whatever was asked before.
func lateRecordDelay(rules []lateRule, seed uint64, ent, task, seq int64) int64 {
	var d int64
	for _, r := range rules {
		if r.task != 0 && r.task != task {
			continue
		}
		if unit(seed^0x6c617465, uint64(ent)<<32^uint64(task), uint64(seq)<<8^r.index) < r.probability {
			d = max(d, r.delay)
		}
	}
	return d
}

// Status codes of a record, as the request's Status filter numbers them.
const (
	cdrNotAnswered    = 40
	cdrAnswered       = 41
	cdrBothAnswered   = 43
	cdrStatusNoAnswer = "客户未接听"
	cdrStatusAnswered = "客户接听"
	cdrStatusBoth     = "双方接听"
)

// appendCdr writes one record the way the vendor's SDK types it: every
// scalar a string, except TaskId here and there, and never-reached times
// spelled both "0" and "" (DetailRingingTime, BridgeTime). The personal
// fields are filled with made-up but realistic values, so that the
// exporter's tests can prove it never shows them. The caller holds k.mu.
//
// shift is subtracted from every time written (see clockSecond). form,
// when not 0, changes how the ids are written (the id_forms fault): its
// bits draw UniqueId and CallId empty or an object, and Id a number.
func (k *task) appendCdr(w *jw, ent int64, r *cdr, shift int64, form uint64) {
	h := splitmix64(uint64(ent)<<40 ^ uint64(k.cfg.ID)<<20 ^ uint64(r.seq))
	digits := func(n int, x uint64) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + x%10)
			x /= 10
		}
		return string(b)
	}
	ts := func(key string, v int64) {
		if v != 0 {
			v -= shift
		}
		w.intString(key, v)
	}
	status, text := cdrNotAnswered, cdrStatusNoAnswer
	switch {
	case r.bridge != 0:
		status, text = cdrBothAnswered, cdrStatusBoth
	case r.answer != 0:
		status, text = cdrAnswered, cdrStatusAnswered
	}
	w.open('{')
	id := func(key, v string, draw uint64) {
		switch {
		case form == 0 || draw%6 >= 3:
			w.str(key, v)
		case draw%6 == 2:
			w.key(key)
			w.open('{')
			w.str("v", v)
			w.close('}')
		default:
			w.str(key, "")
		}
	}
	if form>>1&1 == 1 {
		w.int("Id", int64(k.cfg.ID)<<24+r.seq)
	} else {
		w.intString("Id", int64(k.cfg.ID)<<24+r.seq)
	}
	id("UniqueId", fmt.Sprintf("uniq_%d-%d.%d", k.cfg.ID, r.start, r.seq), form>>8)
	id("CallId", fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), h>>48&0xfff, h>>36&0xfff, splitmix64(h)&0xffffffffffff), form>>16)
	if r.seq%2 == 0 {
		w.int("TaskId", k.cfg.ID)
	} else {
		w.intString("TaskId", k.cfg.ID)
	}
	w.str("TaskName", k.cfg.Name)
	w.intString("TaskFileId", 1)
	ts("StartTime", r.start)
	if r.end > r.start+1 {
		ts("CalleeRingingTime", r.start+1)
	} else {
		ts("CalleeRingingTime", 0)
	}
	ts("AnswerTime", r.answer)
	ts("RealAnswerTime", r.answer)
	ts("DetailRingingTime", r.offer)
	if r.bridge != 0 {
		ts("BridgeTime", r.bridge)
	} else {
		w.str("BridgeTime", "")
	}
	ts("EndTime", r.end)
	wait := int64(0)
	switch {
	case r.bridge != 0:
		wait = r.bridge - r.answer
	case r.iv != 0:
		wait = r.iv - r.answer
	}
	w.intString("WaitDuration", wait)
	if r.bridge != 0 {
		w.intString("BridgeDuration", r.end-r.bridge)
	} else {
		w.intString("BridgeDuration", 0)
	}
	w.intString("TotalDuration", r.end-r.start)
	w.str("Status", text)
	w.intString("StatusCode", int64(status))
	if r.answer != 0 {
		w.str("IsRealAnswer", "1")
	} else {
		w.str("IsRealAnswer", "")
	}
	sip := "480"
	if r.answer != 0 {
		sip = "200"
	}
	w.str("SipCause", sip)
	w.str("SipCauseStr", map[string]string{"200": "OK", "480": "Temporarily Unavailable"}[sip])
	if r.answer != 0 {
		w.str("EndReason", "1000")
	} else {
		w.str("EndReason", "")
	}
	if r.agent >= 0 {
		a := &k.agents[r.agent]
		w.str("Cno", a.cno)
		w.str("AgentName", a.name)
		w.str("CalleeNumber", "1390000"+digits(4, h>>8)) // the agent's phone
	} else {
		w.str("Cno", "")
		w.str("AgentName", "")
		w.str("CalleeNumber", "")
	}
	w.str("Gno", "1")
	w.str("Qno", "0001")
	if r.iv != 0 {
		w.str("IvrName", "溢出语音")
	} else {
		w.str("IvrName", "")
	}
	w.intString("VadIn", int64(h%100))
	w.intString("VadOut", int64(h>>7%100))
	w.intString("DownGrade", 0)
	w.intString("DownGradeCounts", 0)
	// Personal data and numbering.
	w.str("CustomerNumber", "13"+digits(9, h))
	w.str("CustomerProvince", "浙江省")
	w.str("CustomerCity", "杭州市")
	w.str("Clid", "0571"+digits(8, h>>16))
	w.str("DisplayNumber", "0571"+digits(8, h>>16))
	w.str("CalleeClid", "0571"+digits(8, h>>24))
	w.str("CalleeDisplayNumber", "0571"+digits(8, h>>24))
	w.str("XNumber", "170"+digits(8, h>>4))
	w.str("NumberTrunk", "0571"+digits(8, h>>12))
	w.str("TrunkGroupKey", "trunk-"+digits(4, h>>20))
	w.str("CallType", "webcall")
	w.str("RequestUniqueId", "req-"+digits(10, h>>3))
	w.key("UserField")
	w.open('{')
	w.str("customer_no", "C"+digits(8, h>>5))
	w.close('}')
	w.key("RecordFile")
	w.open('[')
	if r.bridge != 0 {
		w.open('{')
		w.str("FileName", "rec-"+strconv.FormatInt(r.seq, 10)+"-13"+digits(9, h)+".mp3")
		w.str("Url", "https://record.example.invalid/"+digits(12, h>>9)+".mp3")
		w.close('}')
	}
	w.close(']')
	w.close('}')
}
