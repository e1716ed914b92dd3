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

// The call centre as a whole: every online agent (CloudListOnlineAgent),
// the queues (CloudListQueue) and inbound calls (CloudQueryIbCdr), from the
// same model as the outbound tasks. There is one pool of agents: the
// agents of the enterprise's tasks. An inbound call in a queue takes an
// agent who is idle in his task (the longest idle first, after the task's
// own customers of that second), rings and talks with him, and gives him
// back to the task after wrap-up; meanwhile CloudMonitorTask shows him busy
// in his task and CloudListOnlineAgent shows the same state, because both
// read the one agent. A caller waits in the queue until an agent is free,
// his patience runs out (abandoned in the queue) or the queue's timeout
// (overflow); with no agent online at all he is not queued.
//
// Determinism. The inbound model draws from its own random source, and the
// enterprise advances its tasks and its queues together (enterprise.advance,
// under the enterprise's one lock), so the state at a second does not
// depend on which operation asked for it or how often.

const (
	actionListAgents = "CloudListOnlineAgent"
	actionListQueue  = "CloudListQueue"
	actionIbCdr      = "CloudQueryIbCdr"

	maxQueueLimit = 500
	// maxInboundRecords bounds an enterprise's inbound records; the oldest
	// are forgotten first.
	maxInboundRecords = 200000
	// maxWaiting bounds the callers waiting in one queue whatever the
	// configuration, as a real queue's capacity does.
	maxWaiting = 999
)

// Inbound is an enterprise's inbound traffic in the simulator config.
type Inbound struct {
	Queues []InboundQueue `yaml:"queues"`
	// TalkMean is the mean inbound talk time (default 3m).
	TalkMean Duration `yaml:"talk_mean"`
	// IVRMean is the mean time in the IVR before the queue (default 8s).
	IVRMean Duration `yaml:"ivr_mean"`
	// IVROnly is the share of callers served by the IVR alone (default 0.05).
	IVROnly *float64 `yaml:"ivr_only"`
}

// InboundQueue is one queue and the hotline that feeds it.
type InboundQueue struct {
	Qno     string `yaml:"qno"`
	Name    string `yaml:"name"`
	Hotline string `yaml:"hotline"`
	// CallsPerHour is the mean arrival rate (Poisson).
	CallsPerHour float64 `yaml:"calls_per_hour"`
	// ServiceLevel is the queue's service-level threshold (default 20s).
	ServiceLevel Duration `yaml:"service_level"`
	// Timeout is how long a caller waits before overflowing (default 120s).
	Timeout Duration `yaml:"timeout"`
	// Patience is the mean time a caller waits before hanging up (default 60s).
	Patience Duration `yaml:"patience"`
	// MaxLen is the most callers waiting; 0 no limit (up to 999).
	MaxLen int `yaml:"max_len"`
}

func (in *Inbound) normalize() error {
	if in.TalkMean == 0 {
		in.TalkMean = Duration(3 * time.Minute)
	}
	if in.IVRMean == 0 {
		in.IVRMean = Duration(8 * time.Second)
	}
	if in.IVROnly == nil {
		v := 0.05
		in.IVROnly = &v
	}
	if *in.IVROnly < 0 || *in.IVROnly > 1 {
		return fmt.Errorf("inbound: ivr_only must be in [0, 1], got %v", *in.IVROnly)
	}
	if in.TalkMean < 0 || in.IVRMean < 0 {
		return fmt.Errorf("inbound: talk_mean and ivr_mean must not be negative")
	}
	seen := map[string]int{}
	for i := range in.Queues {
		q := &in.Queues[i]
		where := fmt.Sprintf("inbound: queues[%d] (qno %q)", i, q.Qno)
		if q.Qno == "" || q.Qno == "-1" {
			return fmt.Errorf("%s: qno must be given (and not -1, which means no queue)", where)
		}
		if j, dup := seen[q.Qno]; dup {
			return fmt.Errorf("%s: qno repeats queues[%d]", where, j)
		}
		seen[q.Qno] = i
		if q.Name == "" {
			q.Name = "队列" + q.Qno
		}
		if q.Hotline == "" {
			q.Hotline = "400800" + q.Qno
		}
		if q.CallsPerHour < 0 || q.CallsPerHour > 36000 {
			return fmt.Errorf("%s: calls_per_hour must be in [0, 36000], got %v", where, q.CallsPerHour)
		}
		if q.ServiceLevel == 0 {
			q.ServiceLevel = Duration(20 * time.Second)
		}
		if q.Timeout == 0 {
			q.Timeout = Duration(120 * time.Second)
		}
		if q.Patience == 0 {
			q.Patience = Duration(60 * time.Second)
		}
		if q.ServiceLevel < Duration(time.Second) || q.Timeout < Duration(5*time.Second) || q.Timeout > Duration(600*time.Second) || q.Patience < Duration(time.Second) {
			return fmt.Errorf("%s: service_level and patience must be at least 1s, timeout in [5s, 600s]", where)
		}
		if q.MaxLen < 0 || q.MaxLen > maxWaiting {
			return fmt.Errorf("%s: max_len must be in [0, %d], got %d", where, maxWaiting, q.MaxLen)
		}
	}
	return nil
}

// Inbound outcomes, as CloudQueryIbCdr's StatusCode numbers them.
const (
	ibAnswered     = 1
	ibIVROnly      = 3
	ibAbandoned    = 15
	ibTimeout      = 16
	ibNoAgent      = 18
	ibQueueFull    = 19
	leaveNone      = -1
	leaveBridged   = 1
	leaveAbandoned = 2
	leaveTimeout   = 3
)

var ibStatusText = map[int]string{ibAnswered: "座席接听", ibIVROnly: "系统接听", ibAbandoned: "队列中放弃",
	ibTimeout: "队列中超时溢出", ibNoAgent: "无座席未进入队列", ibQueueFull: "队列满未进入队列"}

// ibCdr is one inbound call's record. Times are simulated Unix seconds (0:
// never); an answered call's record is written when it is put through,
// with its end ahead, and is visible only once that end has passed.
type ibCdr struct {
	seq                      int64
	queue                    int // index into inbound.queues
	start, join, bridge, end int64
	status, leave            int
	k                        *task // the answering agent's task (nil: none)
	agent                    int32
}

type ibCaller struct {
	seq                  int64
	queue                int
	start, join          int64
	abandonAt, timeoutAt int64
	ivrOnly              bool
}

type ibQueue struct {
	cfg         InboundQueue
	nextArrival int64
	waiting     []ibCaller // in the queue, by join time
}

// inbound is an enterprise's inbound traffic.
type inbound struct {
	cfg      Inbound
	rng      *rand.Rand
	queues   []ibQueue
	entering []ibCaller // in the IVR, not yet in the queue
	seq      int64
	recs     []ibCdr // oldest first by the time written
	dropped  int64
}

func newInbound(cfg Inbound, seed int64, ent int64, start int64) *inbound {
	in := &inbound{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(seed)^0x1b0c, splitmix64(uint64(ent))^0x1b))}
	for _, qc := range cfg.Queues {
		q := ibQueue{cfg: qc, nextArrival: math.MaxInt64}
		if qc.CallsPerHour > 0 {
			q.nextArrival = start + in.gap(qc.CallsPerHour)
		}
		in.queues = append(in.queues, q)
	}
	return in
}

func (in *inbound) gap(perHour float64) int64 {
	return 1 + int64(in.rng.ExpFloat64()*3600/perHour)
}

func (in *inbound) exp(mean Duration) int64 {
	return int64(math.Round(in.rng.ExpFloat64() * time.Duration(mean).Seconds()))
}

// nextEvent is the next second at which the queues change by themselves;
// while callers wait, every second (an agent of a task may free up).
func (in *inbound) nextEvent(now int64) int64 {
	next := int64(math.MaxInt64)
	for i := range in.queues {
		q := &in.queues[i]
		next = min(next, q.nextArrival)
		if len(q.waiting) > 0 {
			next = now + 1
		}
	}
	for _, c := range in.entering {
		next = min(next, c.join)
	}
	return max(next, now+1)
}

// advance moves the enterprise, its tasks and its queues, to second
// target. The caller holds e.mu.
func (e *enterprise) advance(target int64) {
	if e.in != nil {
		for e.now < target {
			next := e.in.nextEvent(e.now)
			if next > target {
				break
			}
			for _, k := range e.tasks {
				k.run(next)
			}
			e.in.step(e, next)
			e.now = next
		}
	}
	for _, k := range e.tasks {
		k.run(target)
	}
	e.now = max(e.now, target)
}

// step applies second t after every task was run to t.
func (in *inbound) step(e *enterprise, t int64) {
	for qi := range in.queues {
		q := &in.queues[qi]
		for q.nextArrival <= t {
			in.seq++
			c := ibCaller{seq: in.seq, queue: qi, start: q.nextArrival}
			c.join = c.start + 1 + in.exp(in.cfg.IVRMean)
			c.ivrOnly = in.rng.Float64() < *in.cfg.IVROnly
			in.entering = append(in.entering, c)
			q.nextArrival += in.gap(q.cfg.CallsPerHour)
		}
	}
	for i := 0; i < len(in.entering); {
		c := in.entering[i]
		if c.join > t {
			i++
			continue
		}
		in.entering = slices.Delete(in.entering, i, i+1)
		q := &in.queues[c.queue]
		switch {
		case c.ivrOnly:
			in.write(ibCdr{seq: c.seq, queue: -1, start: c.start, end: c.join, status: ibIVROnly, leave: leaveNone, agent: -1})
		case !e.anyOnline():
			in.write(ibCdr{seq: c.seq, queue: -1, start: c.start, end: c.join, status: ibNoAgent, leave: leaveNone, agent: -1})
		case q.cfg.MaxLen > 0 && len(q.waiting) >= q.cfg.MaxLen, len(q.waiting) >= maxWaiting:
			in.write(ibCdr{seq: c.seq, queue: -1, start: c.start, end: c.join, status: ibQueueFull, leave: leaveNone, agent: -1})
		default:
			c.abandonAt = c.join + 1 + in.exp(q.cfg.Patience)
			c.timeoutAt = c.join + int64(time.Duration(q.cfg.Timeout)/time.Second)
			q.waiting = append(q.waiting, c)
		}
	}
	for qi := range in.queues {
		q := &in.queues[qi]
		q.waiting = slices.DeleteFunc(q.waiting, func(c ibCaller) bool {
			switch {
			case c.timeoutAt <= t && c.timeoutAt <= c.abandonAt:
				in.write(ibCdr{seq: c.seq, queue: qi, start: c.start, join: c.join, end: c.timeoutAt, status: ibTimeout, leave: leaveTimeout, agent: -1})
			case c.abandonAt <= t:
				in.write(ibCdr{seq: c.seq, queue: qi, start: c.start, join: c.join, end: c.abandonAt, status: ibAbandoned, leave: leaveAbandoned, agent: -1})
			default:
				return false
			}
			return true
		})
	}
	in.route(e, t)
}

// route puts the callers who waited longest through to the agents idle
// longest, across the enterprise's tasks.
func (in *inbound) route(e *enterprise, t int64) {
	for {
		qi := -1
		for i := range in.queues {
			if w := in.queues[i].waiting; len(w) > 0 && (qi < 0 || w[0].join < in.queues[qi].waiting[0].join) {
				qi = i
			}
		}
		if qi < 0 {
			return
		}
		var (
			best *task
			ai   = -1
		)
		for _, k := range e.tasks {
			for i := range k.agents {
				a := &k.agents[i]
				if !a.removed && a.state == agIdle && (ai < 0 || a.since < best.agents[ai].since) {
					best, ai = k, i
				}
			}
		}
		if ai < 0 {
			return
		}
		q := &in.queues[qi]
		c := q.waiting[0]
		q.waiting = q.waiting[1:]
		a := &best.agents[ai]
		ring := 1 + in.rng.Int64N(6)
		talk := max(5, int64(math.Round((in.rng.ExpFloat64()+in.rng.ExpFloat64())*time.Duration(in.cfg.TalkMean).Seconds()/2)))
		a.idleSecs += t - a.since
		a.state, a.since, a.until, a.inbound, a.inEnd = agCalling, t, t+ring, true, t+ring+talk
		in.write(ibCdr{seq: c.seq, queue: qi, start: c.start, join: c.join, bridge: t + ring, end: t + ring + talk,
			status: ibAnswered, leave: leaveBridged, k: best, agent: int32(ai)})
	}
}

func (in *inbound) write(r ibCdr) {
	if len(in.recs) >= maxInboundRecords {
		cut := maxInboundRecords / 4
		in.recs = append(in.recs[:0], in.recs[cut:]...)
		in.dropped += int64(cut)
	}
	in.recs = append(in.recs, r)
}

// isAction tells whether the gateway serves action (STS aside).
func isAction(action string) bool {
	switch action {
	case actionMonitor, actionQuery, actionCdr, actionListAgents, actionListQueue, actionIbCdr:
		return true
	}
	return false
}

// anyOnline tells whether some agent of the enterprise is online.
func (e *enterprise) anyOnline() bool {
	for _, k := range e.tasks {
		for i := range k.agents {
			if a := &k.agents[i]; !a.removed && a.state != agOff {
				return true
			}
		}
	}
	return false
}

// stepInbound moves agent i's inbound call on at t: from ringing to
// talking, or, at its end, to wrap-up and back to the task.
func (k *task) stepInbound(i int, t int64) {
	a := &k.agents[i]
	if a.state == agCalling {
		a.state, a.since, a.until = agInuse, t, a.inEnd
		return
	}
	a.inbound = false
	if w := k.wrapupSecs(); w > 0 {
		a.state, a.since, a.until = agWrapup, t, t+w
	} else {
		k.settle(i, t)
	}
}

// Online agents: the login and device codes of CloudListOnlineAgent, and
// the combined state in the vendor's words.
func onlineState(s agentState) (login, device int64, text string) {
	switch s {
	case agIdle:
		return 1, 0, "空闲"
	case agPause:
		return 2, 0, "置忙"
	case agWrapup:
		return 3, 0, "整理"
	case agCalling:
		return 1, 3, "响铃"
	case agInuse:
		return 1, 4, "通话"
	}
	return 0, -1, "失效"
}

// listAgents answers CloudListOnlineAgent: every agent online in one of
// the enterprise's tasks (the ones CloudMonitorTask shows with a
// non-empty AgentStatus), in task and agent order. The duplicate_cno
// fault lists the first agent twice.
func (s *Simulator) listAgents(w *jw, e *enterprise, reqID string, now time.Time, plan faultPlan) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(s.simNow(now))
	w.open('{')
	w.str("RequestId", reqID)
	w.str("Message", "OK")
	w.key("Data")
	w.open('{')
	w.key("AgentStatuses")
	w.open('[')
	first := true
	for _, k := range e.tasks {
		for i := range k.agents {
			a := &k.agents[i]
			if a.removed || a.state == agOff {
				continue
			}
			n := 1
			if first && plan.dupCno {
				n = 2
			}
			first = false
			for range n {
				k.appendOnlineAgent(w, a)
			}
		}
	}
	w.close(']')
	w.close('}')
	w.str("Code", "OK")
	w.close('}')
}

func (k *task) appendOnlineAgent(w *jw, a *agent) {
	login, device, text := onlineState(a.state)
	cno, _ := strconv.ParseUint(a.cno, 10, 64)
	h := splitmix64(uint64(k.ent.id)<<32 ^ cno)
	w.open('{')
	w.str("Cno", a.cno)
	w.str("Name", a.name)
	w.str("BindTel", "1380000"+strconv.FormatUint(1000+h%9000, 10)) // the agent's phone: personal
	w.int("LoginStatus", login)
	w.int("LoginStatusDuration", k.now-a.since)
	w.int("DeviceStatus", device)
	w.int("DeviceStatusDuration", k.now-a.since)
	w.intString("LoginTime", max(k.startAt, k.createAt))
	w.str("State", text)
	w.close('}')
}

// listQueues answers CloudListQueue: the queues' configuration, Offset
// and Limit (at most 500), with Total.
func (s *Simulator) listQueues(w *jw, e *enterprise, q query, reqID string) (reply, bool) {
	fail := func(e *apiError) (reply, bool) { return reply{status: e.status, err: e}, false }
	offset, perr := intParam(q, "Offset", false, 0, 1<<31, 0)
	if perr != nil {
		return fail(perr)
	}
	limit, perr := intParam(q, "Limit", false, 1, maxQueueLimit, maxQueueLimit)
	if perr != nil {
		return fail(perr)
	}
	var queues []InboundQueue
	if e.in != nil {
		queues = e.in.cfg.Queues
	}
	page := queues[min(int(offset), len(queues)):]
	page = page[:min(int(limit), len(page))]
	w.open('{')
	w.str("RequestId", reqID)
	w.str("Message", "OK")
	w.key("Data")
	w.open('{')
	w.int("Total", int64(len(queues)))
	w.key("List")
	w.open('[')
	for i, qc := range page {
		w.open('{')
		w.int("Id", 48000+offset+int64(i))
		w.str("Qno", qc.Qno)
		w.str("Description", qc.Name)
		w.int("EnterpriseId", e.id)
		w.int("ServiceLevel", int64(time.Duration(qc.ServiceLevel)/time.Second))
		w.int("QueueTimeout", int64(time.Duration(qc.Timeout)/time.Second))
		w.int("MaxLen", int64(qc.MaxLen))
		w.int("MemberTimeout", 25)
		w.int("WrapupTime", 10)
		w.int("Weight", 1)
		w.int("Retry", 1)
		w.str("Strategy", "rrmemory")
		w.str("MusicClass", "default")
		w.key("SayAgentno")
		w.b = append(w.b, "false"...)
		w.comma = true
		w.str("CreateTime", "2025-09-06 15:50:18")
		w.close('}')
	}
	w.close(']')
	w.close('}')
	w.str("Code", "OK")
	w.close('}')
	return reply{status: http.StatusOK}, true
}

// queryIbCdr answers CloudQueryIbCdr as queryCdr answers predictive
// records: records whose start (TimeRangeType 1, the default) or end (2)
// lies in [StartTime, EndTime], a window inside one calendar month, in
// time order, Limit (at most 1000) from Start, no total count. A record is
// there once its call has ended.
func (s *Simulator) queryIbCdr(w *jw, e *enterprise, q query, reqID string, now time.Time, plan faultPlan) (reply, bool) {
	fail := func(e *apiError) (reply, bool) { return reply{status: e.status, err: e}, false }
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
	local := now.In(s.loc)
	monthStart := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, s.loc)
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
	a, b := time.Unix(from, 0).In(s.loc), time.Unix(to, 0).In(s.loc)
	if a.Year() != b.Year() || a.Month() != b.Month() {
		return fail(businessError("StartTime and EndTime must be in the same month."))
	}
	target := s.simNow(now)

	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(target)
	var found []*ibCdr
	if e.in != nil {
		for i := range e.in.recs {
			r := &e.in.recs[i]
			key := r.start
			if rangeType == 2 {
				key = r.end
			}
			// On the requester's clock, as the times written are.
			if key = s.clockSecond(key); r.end > target || key < from || key > to {
				continue
			}
			found = append(found, r)
		}
	}
	keyOf := func(r *ibCdr) int64 {
		if rangeType == 2 {
			return r.end
		}
		return r.start
	}
	slices.SortFunc(found, func(x, y *ibCdr) int {
		if c := compareInt(keyOf(x), keyOf(y)); c != 0 {
			return c
		}
		return compareInt(x.seq, y.seq)
	})
	first := start
	if plan.dupRecord && limit > 1 {
		first -= start / limit
	}
	page := found[min(int(first), len(found)):]
	page = page[:min(int(limit), len(page))]

	w.open('{')
	w.str("RequestId", reqID)
	w.str("Message", "OK")
	w.key("Data")
	w.open('{')
	w.key("List")
	w.open('[')
	for _, r := range page {
		e.appendIbCdr(w, r, r.end-s.clockSecond(r.end))
	}
	w.close(']')
	w.close('}')
	w.str("Code", "OK")
	w.close('}')
	return reply{status: http.StatusOK}, true
}

// appendIbCdr writes one inbound record the way the vendor's SDK types
// it: times strings of Unix seconds ("" for a moment that never came),
// LeaveQueueCode a number. The personal fields hold made-up values, so the
// exporter's tests can prove it never shows them. shift is subtracted from
// every time written, as for predictive records (see clockSecond): at a
// speed other than 1 a record's EndTime is then in the window of the
// requester's clock that found it. The caller holds e.mu.
func (e *enterprise) appendIbCdr(w *jw, r *ibCdr, shift int64) {
	h := splitmix64(uint64(e.id)<<40 ^ 0x1b<<32 ^ uint64(r.seq))
	digits := func(n int, x uint64) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + x%10)
			x /= 10
		}
		return string(b)
	}
	ts := func(key string, v int64) {
		if v == 0 {
			w.str(key, "")
		} else {
			w.intString(key, v-shift)
		}
	}
	qno, hotline := "-1", "4008000000"
	if r.queue >= 0 {
		qno, hotline = e.in.queues[r.queue].cfg.Qno, e.in.queues[r.queue].cfg.Hotline
	} else if len(e.in.queues) > 0 {
		hotline = e.in.queues[0].cfg.Hotline
	}
	if r.status == ibIVROnly && r.seq%2 == 0 {
		qno = "" // the vendor leaves it empty as often as it writes -1
	}
	w.open('{')
	w.str("UniqueId", fmt.Sprintf("uniq_ib%d-%d.%d", e.id, r.start, r.seq))
	w.str("CallType", "呼入")
	w.str("Hotline", hotline)
	w.str("Qno", qno)
	ts("StartTime", r.start)
	ts("AnswerTime", r.start) // the IVR answers at once
	ts("BridgeTime", r.bridge)
	ts("EndTime", r.end)
	if r.bridge != 0 {
		w.intString("BridgeDuration", r.end-r.bridge)
	} else {
		w.intString("BridgeDuration", 0)
	}
	w.intString("TotalDuration", r.end-r.start)
	w.str("Status", ibStatusText[r.status])
	w.intString("StatusCode", int64(r.status))
	w.int("LeaveQueueCode", int64(r.leave))
	if r.status == ibAnswered {
		w.str("EndReason", "1000")
	} else {
		w.str("EndReason", "")
	}
	if r.k != nil {
		a := &r.k.agents[r.agent]
		w.str("Cno", a.cno)
		w.str("AgentName", a.name)
		w.str("CalleeNumber", "1390000"+digits(4, h>>8))
	} else {
		w.str("Cno", "")
		w.str("AgentName", "")
		w.str("CalleeNumber", "")
	}
	w.str("IvrName", "默认自定义")
	// Personal data and numbering.
	w.str("CustomerNumber", "13"+digits(9, h))
	w.str("CustomerAreaCode", "0571")
	w.str("CustomerProvince", "浙江")
	w.str("CustomerCity", "杭州")
	w.str("NumberTrunk", "0571"+digits(8, h>>12))
	w.str("NumberTrunkAreaCode", "0571")
	w.key("UserField")
	w.open('{')
	w.str("customer_no", "C"+digits(8, h>>5))
	w.close('}')
	w.key("RecordFile")
	w.open('[')
	if r.bridge != 0 {
		w.open('{')
		w.str("File", "rec-ib-"+strconv.FormatInt(r.seq, 10)+"-13"+digits(9, h)+".wav")
		w.int("Monitor_type", 1)
		w.str("Type", "record")
		w.close('}')
	}
	w.close(']')
	w.close('}')
}
