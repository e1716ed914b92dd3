package simulator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	apiVersion    = "2017-05-25"
	actionMonitor = "CloudMonitorTask"
	actionQuery   = "CloudQueryTask"
	hostID        = "dyvmsapi.aliyuncs.com"
	maxBody       = 1 << 20
)

// Simulator is the gateway double with its call-centre model.
type Simulator struct {
	seed       uint64
	clock      Clock
	loc        *time.Location
	speed      float64
	clockEpoch time.Time
	simEpoch   int64

	keys        keyring
	accounts    map[string]*accountState // by name, DefaultAccount included
	byUID       map[string]*accountState
	owner       map[int64]string // enterprise -> account; absent: DefaultAccount
	enterprises map[int64]*enterprise
	fixtures    map[fixtureKey][]byte
	nonces      *nonceCache

	faultsMu sync.RWMutex
	faults   Faults

	seq   atomic.Uint64
	stats statsCollector
	// sleep waits for injected latency; tests replace it to observe delays
	// without spending them.
	sleep func(ctx context.Context, d time.Duration)
	bufs  sync.Pool
}

type fixtureKey struct {
	action     string
	enterprise int64
	task       int64
}

// New builds a simulator. A nil clock means real time. Simulated time
// starts at the clock's current time; configured history (started_ago)
// lies before it.
func New(cfg Config, clock Clock) (*Simulator, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = realClock{}
	}
	loc, _ := time.LoadLocation(cfg.Timezone) // checked by normalize
	s := &Simulator{
		seed:        uint64(cfg.Seed),
		clock:       clock,
		loc:         loc,
		speed:       cfg.Speed,
		clockEpoch:  clock.Now(),
		keys:        keyring{keys: make(map[string]*credential, len(cfg.Credentials))},
		accounts:    map[string]*accountState{DefaultAccount: {name: DefaultAccount}},
		byUID:       map[string]*accountState{},
		owner:       map[int64]string{},
		enterprises: make(map[int64]*enterprise, len(cfg.Enterprises)),
		fixtures:    make(map[fixtureKey][]byte, len(cfg.Fixtures)),
		nonces:      newNonceCache(cfg.MaxNonces),
		faults:      cfg.Faults.clone(),
		sleep:       sleepContext,
	}
	s.simEpoch = s.clockEpoch.Unix()
	s.stats.reset()
	addKey := func(c Credential, account string) {
		cr := &credential{id: c.AccessKeyID, secret: c.AccessKeySecret, token: c.SecurityToken, disabled: c.Disabled, account: account}
		if c.ExpiresAt != "" {
			cr.expires, _ = time.Parse(time.RFC3339, c.ExpiresAt)
		}
		if len(c.Enterprises) > 0 {
			cr.enterprises = make(map[int64]bool, len(c.Enterprises))
			for _, id := range c.Enterprises {
				cr.enterprises[id] = true
			}
		}
		s.keys.keys[c.AccessKeyID] = cr
	}
	for _, c := range cfg.Credentials {
		addKey(c, DefaultAccount)
	}
	for _, a := range cfg.Accounts {
		st := &accountState{name: a.Name, uid: a.UID, roles: make(map[string]*Role, len(a.Roles))}
		for i := range a.Roles {
			r := a.Roles[i]
			st.roles[strings.ToLower(r.Name)] = &r
		}
		s.accounts[a.Name], s.byUID[a.UID] = st, st
		for _, e := range a.Enterprises {
			s.owner[e] = a.Name
		}
		for _, c := range a.Credentials {
			addKey(c, a.Name)
		}
	}
	for _, ec := range cfg.Enterprises {
		e := &enterprise{id: ec.ID, channels: ec.Channels, callLimit: *ec.CallLimit, byID: make(map[int64]*task, len(ec.Tasks)), now: s.simEpoch}
		if ec.Inbound != nil {
			e.in = newInbound(*ec.Inbound, cfg.Seed, ec.ID, s.simEpoch)
		}
		cno := 1000
		for _, tc := range ec.Tasks {
			k := newTask(tc, e, cfg.Seed, s.simEpoch, loc, &cno)
			e.tasks = append(e.tasks, k)
			e.byID[tc.ID] = k
		}
		s.enterprises[ec.ID] = e
	}
	for _, f := range cfg.Fixtures {
		body := []byte(f.Body)
		if f.File != "" {
			var err error
			if body, err = os.ReadFile(f.File); err != nil {
				return nil, fmt.Errorf("simulator: fixture for %s enterprise %d task %d: %w", f.Action, f.Enterprise, f.Task, err)
			}
		}
		s.fixtures[fixtureKey{f.Action, f.Enterprise, f.Task}] = body
	}
	for _, sc := range cfg.Scenarios {
		if err := s.Scenario(sc); err != nil {
			return nil, fmt.Errorf("simulator: scenario %s: %w", sc.Name, err)
		}
	}
	return s, nil
}

func sleepContext(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// simNow maps the clock to simulated seconds; a clock set backwards (skew
// tests) leaves the model where it is.
func (s *Simulator) simNow(now time.Time) int64 {
	return s.simEpoch + int64(now.Sub(s.clockEpoch).Seconds()*s.speed)
}

// SetFaults replaces the fault rules at run time.
func (s *Simulator) SetFaults(f Faults) error {
	f = f.clone()
	if err := f.validate(); err != nil {
		return err
	}
	s.faultsMu.Lock()
	s.faults = f
	s.faultsMu.Unlock()
	return nil
}

// Faults returns the fault rules in force, defaults filled in.
func (s *Simulator) Faults() Faults {
	s.faultsMu.RLock()
	defer s.faultsMu.RUnlock()
	return s.faults.clone()
}

// Scenario switches a scenario in one task now, or, for the agent
// scenarios with task 0, in every task of the enterprise at the same
// second (the whole floor: the agents the inbound queues share).
func (s *Simulator) Scenario(sc Scenario) error {
	e := s.enterprises[sc.Enterprise]
	if e == nil {
		return fmt.Errorf("no enterprise %d", sc.Enterprise)
	}
	if err := sc.checkWholeFloor(); err != nil {
		return err
	}
	if sc.Task == 0 {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.advance(s.simNow(s.clock.Now()))
		for _, k := range e.tasks {
			if err := k.apply(sc.Name, e.now); err != nil {
				return err
			}
		}
		return nil
	}
	k := e.byID[sc.Task]
	if k == nil {
		return fmt.Errorf("no task %d in enterprise %d", sc.Task, sc.Enterprise)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.advance(s.simNow(s.clock.Now()))
	return k.apply(sc.Name, k.now)
}

// reply is one answer before it is written.
type reply struct {
	status  int
	err     *apiError // answered with the vendor's error body
	body    []byte    // the normal answer
	pooled  *[]byte   // body's buffer, returned to the pool after writing
	plan    faultPlan
	retryMs int64 // x-ratelimit-user-api TimeLeft
}

// ServeHTTP is the gateway: POST / with the parameters in the query
// string, signed with ACS3-HMAC-SHA256.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	seq := s.seq.Add(1)
	reqID := requestID(s.seed, seq)
	action := r.Header.Get(hdrAction)
	rep := s.handle(r, now, seq, reqID, action)
	if rep.plan.latency > 0 {
		s.sleep(r.Context(), rep.plan.latency)
	}
	code := "OK"
	if rep.err != nil {
		code = rep.err.code
	}
	s.stats.finish(rep.status, code, rep.plan.kinds)
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("x-acs-request-id", reqID)
	if rep.err != nil {
		if rep.retryMs > 0 {
			h.Set("x-ratelimit-user-api", fmt.Sprintf("Limit:10,Remain:0,TimeLeft:%d,Reset:%d", rep.retryMs, now.UnixMilli()+rep.retryMs))
		}
		b := errorBody(reqID, rep.err)
		if rep.status == http.StatusOK { // business error: the success shape without Data
			w := jw{}
			w.open('{')
			w.str("RequestId", reqID)
			w.str("Message", rep.err.message)
			w.str("Code", rep.err.code)
			w.close('}')
			b = w.b
		}
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(rep.status)
		w.Write(b)
		return
	}
	writeBody(w, rep)
	if rep.pooled != nil {
		*rep.pooled = rep.body[:0]
		s.bufs.Put(rep.pooled)
	}
}

func errorBody(reqID string, e *apiError) []byte {
	w := jw{b: make([]byte, 0, 256+len(e.message))}
	w.open('{')
	w.str("RequestId", reqID)
	w.str("HostId", hostID)
	w.str("Code", e.code)
	w.str("Message", e.message)
	w.str("Recommend", "https://api.aliyun.com/troubleshoot?q="+e.code+"&product=Dyvmsapi&requestId="+reqID)
	w.close('}')
	return w.b
}

// writeBody delivers a normal answer, damaged as the plan says.
func writeBody(w http.ResponseWriter, rep reply) {
	h := w.Header()
	body := rep.body
	switch f := rep.plan.body; {
	case f == nil:
	case f.Kind == FaultMalformed:
		if i := bytes.IndexByte(body, ':'); i >= 0 {
			body = slices.Clone(body)
			body[i] = '='
		}
	case f.Kind == FaultTruncated:
		// Promise the whole body, send half: the client sees the connection
		// drop mid-body (unexpected EOF), as with a reset upstream.
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rep.status)
		w.Write(body[:len(body)/2])
		return
	case f.Kind == FaultOversize:
		// A valid document with a large padding member, streamed so that a
		// 20 MiB answer costs no 20 MiB buffer here.
		const prefix, suffix = `,"Padding":"`, `"}`
		pad := max(0, f.Size-int64(len(body))-int64(len(prefix)+len(suffix))+1)
		h.Set("Content-Length", strconv.FormatInt(int64(len(body))-1+int64(len(prefix))+pad+int64(len(suffix)), 10))
		w.WriteHeader(rep.status)
		w.Write(body[:len(body)-1])
		io.WriteString(w, prefix)
		chunk := []byte(strings.Repeat("x", 64<<10))
		for pad > 0 {
			n := min(pad, int64(len(chunk)))
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			pad -= n
		}
		io.WriteString(w, suffix)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rep.status)
	w.Write(body)
}

func (s *Simulator) handle(r *http.Request, now time.Time, seq uint64, reqID, action string) reply {
	fail := func(e *apiError) reply { return reply{status: e.status, err: e} }
	s.stats.begin(action)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fail(&apiError{400, "InvalidParameter", "The request body could not be read."})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return fail(&apiError{404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method (this gateway serves POST /)."})
	}
	switch {
	case action == "":
		return fail(missingParameter(hdrAction))
	case !isAction(action):
		return fail(&apiError{404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."})
	}
	switch v := r.Header.Get(hdrVersion); {
	case v == "":
		return fail(missingParameter(hdrVersion))
	case v != apiVersion:
		return fail(&apiError{400, "InvalidVersion", "Specified parameter Version is not valid (dyvmsapi is " + apiVersion + ")."})
	}
	q, canonicalQuery, qerr := parseQuery(r.URL.RawQuery)
	if qerr != nil {
		return fail(qerr)
	}
	entRaw, taskRaw := q["EnterpriseId"], q["TaskId"]
	if action == actionMonitor {
		s.stats.task(entRaw + "/" + taskRaw)
	} else {
		s.stats.enterprise(entRaw)
	}
	if r.Header.Get("Authorization") != "" {
		for _, h := range []string{hdrDate, hdrNonce, hdrContentHash} {
			if r.Header.Get(h) == "" {
				return fail(missingParameter(h))
			}
		}
	}
	cred, aerr := s.verify(r, canonicalQuery, body, now)
	if aerr != nil {
		return fail(aerr)
	}
	if len(body) > 0 {
		return fail(&apiError{400, "InvalidParameter", "This simulator takes the parameters in the query string and an empty body."})
	}

	ent, _ := strconv.ParseInt(entRaw, 10, 64)
	taskID, _ := strconv.ParseInt(taskRaw, 10, 64)
	s.faultsMu.RLock()
	plan := s.faults.plan(s.seed, seq, action, ent, taskID)
	s.faultsMu.RUnlock()
	if f := plan.fail; f != nil {
		rep := reply{status: f.Status, err: &apiError{f.Status, f.Code, f.Message}, plan: plan}
		if f.Kind == FaultThrottle {
			rep.retryMs = time.Duration(f.TimeLeft).Milliseconds()
		}
		return rep
	}
	rep := s.operate(action, q, cred, reqID, now, plan)
	rep.plan = plan
	return rep
}

func (s *Simulator) operate(action string, q query, cred *credential, reqID string, now time.Time, plan faultPlan) reply {
	fail := func(e *apiError) reply { return reply{status: e.status, err: e} }
	entID, perr := intParam(q, "EnterpriseId", true, 1, 1<<62, 0)
	if perr != nil {
		return fail(perr)
	}
	var taskID int64
	if action == actionMonitor {
		if taskID, perr = intParam(q, "TaskId", true, 1, 1<<62, 0); perr != nil {
			return fail(perr)
		}
	}
	if cred.enterprises != nil && !cred.enterprises[entID] || s.ownerOf(entID) != cred.account {
		return fail(&apiError{403, "Forbidden.RAM", "User not authorized to operate on the specified resource."})
	}
	if body, ok := s.fixtures[fixtureKey{action, entID, taskID}]; ok {
		return reply{status: http.StatusOK, body: body}
	}
	e := s.enterprises[entID]
	if e == nil {
		return reply{status: http.StatusOK, err: businessError(fmt.Sprintf("EnterpriseId %d does not exist or is not enabled.", entID))}
	}
	pooled := s.buffer()
	w := jw{b: *pooled, strings: plan.strings}
	if action == actionMonitor {
		k := e.byID[taskID]
		if k == nil {
			s.bufs.Put(pooled)
			return reply{status: http.StatusOK, err: businessError(fmt.Sprintf("TaskId %d does not exist in EnterpriseId %d.", taskID, entID))}
		}
		k.mu.Lock()
		k.advance(s.simNow(now))
		k.appendMonitor(&w, reqID, plan.dupCno)
		k.mu.Unlock()
	} else if action == actionCdr {
		if rep, ok := s.queryCdr(&w, e, q, reqID, now, plan); !ok {
			s.bufs.Put(pooled)
			return rep
		}
	} else if action == actionListAgents {
		s.listAgents(&w, e, reqID, now, plan)
	} else if action == actionListQueue {
		if rep, ok := s.listQueues(&w, e, q, reqID); !ok {
			s.bufs.Put(pooled)
			return rep
		}
	} else if action == actionIbCdr {
		if rep, ok := s.queryIbCdr(&w, e, q, reqID, now, plan); !ok {
			s.bufs.Put(pooled)
			return rep
		}
	} else if rep, ok := s.queryTasks(&w, e, q, reqID, now); !ok {
		s.bufs.Put(pooled)
		return rep
	}
	return reply{status: http.StatusOK, body: w.b, pooled: pooled}
}

// ownerOf is the account an enterprise belongs to.
func (s *Simulator) ownerOf(ent int64) string {
	if o, ok := s.owner[ent]; ok {
		return o
	}
	return DefaultAccount
}

// businessError is how this simulator reports an unknown enterprise or
// task: HTTP 200 with a non-OK Code, as VMS does for business failures.
func businessError(msg string) *apiError {
	return &apiError{http.StatusOK, "isv.INVALID_PARAMETERS", msg}
}

func (s *Simulator) buffer() *[]byte {
	if p, ok := s.bufs.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 32<<10)
	return &b
}

// intParam reads an integer parameter within [lo, hi]; def when absent and
// optional.
func intParam(q query, name string, required bool, lo, hi, def int64) (int64, *apiError) {
	raw, ok := q[name]
	if !ok || raw == "" {
		if required {
			return 0, missingParameter(name)
		}
		return def, nil
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, invalidParameter(name)
	}
	return v, nil
}

// queryTasks answers CloudQueryTask: the enterprise's tasks of the given
// Type, filtered, ordered by Id, one page of Limit from Start.
func (s *Simulator) queryTasks(w *jw, e *enterprise, q query, reqID string, now time.Time) (reply, bool) {
	fail := func(e *apiError) (reply, bool) { return reply{status: e.status, err: e}, false }
	typ, perr := intParam(q, "Type", true, 1, 2, 0)
	if perr != nil {
		return fail(perr)
	}
	status, perr := intParam(q, "Status", false, 0, 3, -1)
	if perr != nil {
		return fail(perr)
	}
	start, perr := intParam(q, "Start", false, 0, 1<<31, 0)
	if perr != nil {
		return fail(perr)
	}
	limit, perr := intParam(q, "Limit", false, 1, 100, 10)
	if perr != nil {
		return fail(perr)
	}
	timeType, perr := intParam(q, "TimeType", false, 1, 3, 0)
	if perr != nil {
		return fail(perr)
	}
	var from, to int64
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"StartTime", &from}, {"EndTime", &to}} {
		if raw := q[p.name]; raw != "" {
			t, err := time.ParseInLocation(timeLayout, raw, s.loc)
			if err != nil {
				return fail(invalidParameter(p.name))
			}
			*p.dst = t.Unix()
		}
	}
	if (from != 0 || to != 0) && timeType == 0 {
		timeType = 3
	}
	name := q["Name"]
	tasks := slices.Clone(e.tasks)
	slices.SortFunc(tasks, func(a, b *task) int { return compareInt(a.cfg.ID, b.cfg.ID) })
	target := s.simNow(now)
	w.open('{')
	w.str("RequestId", reqID)
	w.str("Message", "OK")
	w.key("Data")
	w.open('{')
	w.key("TaskProperties")
	w.open('[')
	skipped, listed := int64(0), int64(0)
	for _, k := range tasks {
		if listed == limit {
			break
		}
		if int64(k.cfg.Type) != typ || name != "" && !strings.Contains(k.cfg.Name, name) {
			continue
		}
		k.mu.Lock()
		k.advance(target)
		match := status < 0 || int64(k.status) == status
		if match && timeType != 0 {
			t := [...]int64{0, k.startAt, k.overAt, k.createAt}[timeType]
			match = t != 0 && (from == 0 || t >= from) && (to == 0 || t <= to)
		}
		if match {
			if skipped < start {
				skipped++
			} else {
				k.appendTaskProperty(w)
				listed++
			}
		}
		k.mu.Unlock()
	}
	w.close(']')
	w.close('}')
	w.str("Code", "OK")
	w.close('}')
	return reply{}, true
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// requestID makes a vendor-looking request id that is reproducible from
// the seed and the request's sequence number.
func requestID(seed, seq uint64) string {
	a := splitmix64(seed ^ seq*0x9e3779b97f4a7c15)
	b := splitmix64(a)
	const hex = "0123456789ABCDEF"
	var out [36]byte
	i := 0
	for n := range 32 {
		if n == 8 || n == 12 || n == 16 || n == 20 {
			out[i] = '-'
			i++
		}
		v := a
		if n >= 16 {
			v = b
		}
		out[i] = hex[(v>>(4*(n%16)))&0xf]
		i++
	}
	return string(out[:])
}
