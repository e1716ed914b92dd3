package simulator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Task statuses as the vendor numbers them.
const (
	statusInitial  = 0
	statusRunning  = 1
	statusPaused   = 2
	statusFinished = 3
)

const (
	descInitial   = "未开始"
	descRunning   = "运行中"
	descPaused    = "暂停"
	descExhausted = "号码呼完"
	descManualEnd = "手动结束"
)

// Timing constants of the call flow, in simulated seconds.
const (
	overflowAfter = 2  // a customer who finds no free agent this long after answering goes to the IVR
	agentTimeout  = 15 // an agent who does not pick up by then misses the call (NoBridgeCount)
	noAnswerAfter = 30 // a customer who does not pick up by then is given up
)

type agentState uint8

const (
	agOff     agentState = iota // "": not used by this task right now
	agIdle                      // stateIdle: free, the dialler counts on this agent
	agPause                     // statePause: on a break or paused by a scenario
	agCalling                   // stateCalling: being rung for a customer who answered
	agInuse                     // stateInuse: talking
	agWrapup                    // stateWrapup: after-call work
)

var agentStateNames = [...]string{"", "stateIdle", "statePause", "stateCalling", "stateInuse", "stateWrapup"}

type callState uint8

const (
	callWaitAnswer callState = iota // the customer's phone rings
	callWaitAgent                   // the customer answered; waiting for an agent or ringing one
	callBridged                     // customer and agent talk
	callIVR                         // overflowed to (or, for automatic tasks, served by) the IVR
)

type call struct {
	state     callState
	answers   bool  // the customer (waitAnswer) or the rung agent (waitAgent) will pick up
	agent     int32 // index into task.agents, -1 for none
	until     int64 // simulated second of the next transition
	since     int64 // start of the current state
	offeredAt int64 // when the agent started ringing

	// For the call's record (cdr.go): when it was dialled, answered,
	// bridged and overflowed to the IVR (0: never).
	dialAt, answerAt, bridgeAt, ivrAt int64
}

type agent struct {
	cno, name string
	state     agentState
	held      bool  // paused by the agents_pause scenario, not by a timer
	removed   bool  // in RemovedAgentStatisticList
	until     int64 // idle: break starts; pause: break ends; wrapup: ends
	since     int64 // start of the current state
	removeAt  int64 // removed at the first rest after this second (0: never)
	// inbound: busy with an inbound call (callcentre.go), not one of the
	// task's: ringing (agCalling) until until, then talking (agInuse)
	// until inEnd.
	inbound bool
	inEnd   int64

	// Profile drawn once, so agents differ the way people do.
	fastAnswer float64 // chance of picking up within 2 s
	miss       float64 // chance of not picking up at all
	elsewhere  float64 // chance an answer here comes with one in another task of the enterprise

	called, bridged, noBridge, in2s int64
	talkSecs, talkCalls, idleSecs   int64
	today, entToday                 int64
}

// task is one simulated task. Everything in it moves only inside advance,
// in whole simulated seconds, from the task's own random source: the state
// at a given second therefore does not depend on when or how often it was
// asked for.
type task struct {
	// mu is the enterprise's lock (enterprise.mu): the enterprise's tasks
	// and its inbound queues share one pool of agents and move together
	// (callcentre.go), so holding one task's lock holds them all.
	mu  *sync.Mutex
	cfg Task
	ent *enterprise
	rng *rand.Rand
	loc *time.Location

	status             int
	desc               string
	manual             bool // the last status change was by hand (StatusTriggerType)
	createAt           int64
	startAt, overAt    int64 // 0: never
	pauseAt            int64
	pendingAt          int64 // the configured status takes effect then (0: nothing pending)
	pendingStatus      int
	now                int64 // last simulated second processed
	nextMidnight       int64
	offline, pausedAll bool // scenarios
	agents             []agent
	calls              []call
	called, answered   int64
	callAgent          int64
	todayCalled        int64
	todayAnswered      int64
	todayCallAgent     int64
	todayIVR           int64  // customers who answered today and went to the IVR (cdr.go checks records against it)
	cdrs               cdrLog // the records of the calls that ended (cdr.go)
}

type enterprise struct {
	mu        sync.Mutex // every task's and the inbound model's state
	now       int64      // the second the enterprise was advanced to (with inbound)
	in        *inbound   // nil: no inbound traffic
	id        int64
	channels  int
	callLimit int
	tasks     []*task // in configuration order
	byID      map[int64]*task
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗")
	given    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"}
)

// newTask builds a task whose history starts startedAgo before simEpoch.
// cno is the enterprise's next free agent number.
func newTask(cfg Task, ent *enterprise, seed int64, simEpoch int64, loc *time.Location, cno *int) *task {
	k := &task{
		mu:  &ent.mu,
		cfg: cfg,
		ent: ent,
		loc: loc,
		rng: rand.New(rand.NewPCG(uint64(seed), splitmix64(uint64(ent.id))^uint64(cfg.ID))),
	}
	origin := simEpoch - int64(time.Duration(cfg.StartedAgo)/time.Second)
	k.now = origin
	k.createAt = origin - 600 - k.rng.Int64N(7200)
	k.nextMidnight = nextMidnight(origin, loc)
	n := *cfg.Agents + cfg.RemovedAgents
	k.agents = make([]agent, n)
	for i := range k.agents {
		a := &k.agents[i]
		*cno++
		a.cno = fmt.Sprint(*cno)
		a.name = string(surnames[k.rng.IntN(len(surnames))]) + given[k.rng.IntN(len(given))]
		fast := *cfg.AgentFastAnswer
		a.fastAnswer = fast + (1-fast)*k.rng.Float64()
		a.miss = *cfg.AgentMiss * k.rng.Float64()
		if k.rng.IntN(10) < 3 {
			a.elsewhere = 0.3 + 0.5*k.rng.Float64()
		}
		a.since = origin
		if i >= *cfg.Agents {
			// Removed somewhere in the history (at once if there is none).
			a.removeAt = origin + int64(float64(simEpoch-origin)*(0.2+0.6*k.rng.Float64()))
			if a.removeAt <= origin {
				a.removed = true
			}
		}
	}
	k.status, k.desc = statusInitial, descInitial
	if *cfg.Status != statusInitial {
		k.setStatus(statusRunning, origin, false)
		if *cfg.Status != statusRunning {
			k.pendingAt, k.pendingStatus = simEpoch, *cfg.Status
			if simEpoch == origin {
				k.pendingAt = 0
				k.setStatus(*cfg.Status, origin, true)
			}
		}
		k.react(origin)
	}
	return k
}

func nextMidnight(t int64, loc *time.Location) int64 {
	d := time.Unix(t, 0).In(loc)
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc).Unix()
}

// advance simulates the task's enterprise up to simulated second target:
// every task and the inbound queues, which share the agents (callcentre.go).
// The caller holds k.mu.
func (k *task) advance(target int64) { k.ent.advance(target) }

// run simulates this task alone up to simulated second target. Seconds in which nothing
// can happen are skipped: after a second is processed the dialler and the
// routing have used every agent and channel they could, so only a timer,
// midnight or a pending change can alter the state.
func (k *task) run(target int64) {
	for k.now < target {
		next := k.nextEvent()
		if next > target {
			k.now = target
			return
		}
		k.now = next
		k.step(next)
	}
}

func (k *task) nextEvent() int64 {
	next := k.nextMidnight
	if k.pendingAt != 0 {
		next = min(next, k.pendingAt)
	}
	for i := range k.calls {
		next = min(next, k.calls[i].until)
	}
	for i := range k.agents {
		a := &k.agents[i]
		switch {
		case a.removed:
		case a.inbound:
			next = min(next, a.until)
		case a.state == agIdle || a.state == agWrapup || a.state == agPause && !a.held:
			next = min(next, a.until)
			fallthrough
		default:
			if a.removeAt > k.now {
				next = min(next, a.removeAt)
			}
		}
	}
	return max(next, k.now+1)
}

func (k *task) step(t int64) {
	if t >= k.nextMidnight {
		k.resetToday(t)
	}
	if k.pendingAt != 0 && t >= k.pendingAt {
		k.pendingAt = 0
		k.setStatus(k.pendingStatus, t, true)
	}
	k.stepCalls(t)
	for i := range k.agents {
		a := &k.agents[i]
		switch {
		case a.removed:
		case a.inbound && a.until <= t:
			k.stepInbound(i, t)
		case a.inbound:
		case a.state == agIdle && a.until <= t:
			a.idleSecs += t - a.since
			a.state, a.since, a.until = agPause, t, t+1+k.expSecs(time.Duration(k.cfg.PauseMean))
		case a.state == agWrapup && a.until <= t, a.state == agPause && !a.held && a.until <= t:
			k.settle(i, t)
		case a.removeAt != 0 && a.removeAt <= t && (a.state == agIdle || a.state == agPause || a.state == agOff):
			k.settle(i, t)
		}
	}
	k.react(t)
}

// react lets the routing and the dialler use whatever became free at t,
// and finishes an exhausted task. It runs after every change, timed or
// external, which is what lets advance skip the seconds in between.
func (k *task) react(t int64) {
	k.route(t)
	k.dial(t)
	if k.status == statusRunning && k.called >= int64(*k.cfg.Numbers) && len(k.calls) == 0 {
		k.setStatus(statusFinished, t, false)
	}
}

func (k *task) stepCalls(t int64) {
	for i := 0; i < len(k.calls); {
		c := &k.calls[i]
		if c.until > t {
			i++
			continue
		}
		switch c.state {
		case callWaitAnswer:
			if !c.answers {
				k.endCall(i, t)
				continue
			}
			c.answerAt = t
			k.answered++
			k.todayAnswered++
			if k.cfg.Type == 2 {
				c.state, c.since, c.until = callIVR, t, t+max(5, k.erlang(time.Duration(k.cfg.TalkMean)))
			} else {
				c.state, c.since, c.until = callWaitAgent, t, t+overflowAfter
			}
		case callWaitAgent:
			if c.agent < 0 {
				k.toIVR(c, t)
				break
			}
			a := &k.agents[c.agent]
			if !c.answers {
				a.noBridge++
				k.settle(int(c.agent), t)
				c.agent = -1
				k.toIVR(c, t)
				break
			}
			a.bridged++
			a.today++
			a.entToday++
			if a.elsewhere > 0 && k.rng.Float64() < a.elsewhere {
				a.entToday++
			}
			if t-c.offeredAt <= 2 {
				a.in2s++
			}
			a.state, a.since = agInuse, t
			c.bridgeAt = t
			c.state, c.since, c.until = callBridged, t, t+max(2, k.erlang(time.Duration(k.cfg.TalkMean)))
		case callBridged:
			a := &k.agents[c.agent]
			a.talkSecs += t - c.since
			a.talkCalls++
			if w := k.wrapupSecs(); w > 0 {
				a.state, a.since, a.until = agWrapup, t, t+w
			} else {
				k.settle(int(c.agent), t)
			}
			k.endCall(i, t)
			continue
		case callIVR:
			k.endCall(i, t)
			continue
		}
		i++
	}
}

func (k *task) toIVR(c *call, t int64) {
	c.state, c.since, c.until = callIVR, t, t+10+k.rng.Int64N(50)
	c.ivrAt = t
	k.todayIVR++
}

// endCall ends call i at t: its record is written, and it leaves the list.
func (k *task) endCall(i int, t int64) {
	k.record(&k.calls[i], t)
	k.dropCall(i)
}

func (k *task) dropCall(i int) {
	last := len(k.calls) - 1
	k.calls[i] = k.calls[last]
	k.calls = k.calls[:last]
}

// route gives customers who answered to free agents: the customer waiting
// longest first, to the agent idle longest.
func (k *task) route(t int64) {
	for {
		ci := -1
		for i := range k.calls {
			c := &k.calls[i]
			if c.state == callWaitAgent && c.agent < 0 && (ci < 0 || c.since < k.calls[ci].since) {
				ci = i
			}
		}
		if ci < 0 {
			return
		}
		ai := -1
		for i := range k.agents {
			a := &k.agents[i]
			if !a.removed && a.state == agIdle && (ai < 0 || a.since < k.agents[ai].since) {
				ai = i
			}
		}
		if ai < 0 {
			return
		}
		a, c := &k.agents[ai], &k.calls[ci]
		a.idleSecs += t - a.since
		a.state, a.since = agCalling, t
		a.called++
		k.callAgent++
		k.todayCallAgent++
		c.agent, c.offeredAt = int32(ai), t
		switch {
		case k.rng.Float64() < a.miss:
			c.answers, c.until = false, t+agentTimeout
		case k.rng.Float64() < a.fastAnswer:
			c.answers, c.until = true, t+1+k.rng.Int64N(2)
		default:
			c.answers, c.until = true, t+3+k.rng.Int64N(6)
		}
	}
}

// dial is the predictive dialler: it keeps DialRatio customers in progress
// per free agent, within the task's and the enterprise's channels. An
// automatic task fills its channels, its customers going to the IVR.
func (k *task) dial(t int64) {
	remaining := int64(*k.cfg.Numbers) - k.called
	if k.status != statusRunning || remaining <= 0 {
		return
	}
	capacity := min(k.cfg.Concurrency, k.ent.channels) - len(k.calls)
	want := capacity
	if k.cfg.Type == 1 {
		avail, outstanding := 0, 0
		for i := range k.agents {
			if !k.agents[i].removed && k.agents[i].state == agIdle {
				avail++
			}
		}
		for i := range k.calls {
			if s := k.calls[i].state; s == callWaitAnswer || s == callWaitAgent && k.calls[i].agent < 0 {
				outstanding++
			}
		}
		want = int(math.Ceil(k.cfg.DialRatio*float64(avail))) - outstanding
	}
	n := min(int64(min(want, capacity)), remaining)
	for range n {
		c := call{state: callWaitAnswer, agent: -1, since: t, dialAt: t}
		switch {
		case k.rng.Float64() < *k.cfg.AnswerProbability:
			c.answers, c.until = true, t+3+k.rng.Int64N(13)
		case k.rng.IntN(10) < 3: // busy or not reachable
			c.until = t + 1 + k.rng.Int64N(3)
		default:
			c.until = t + noAnswerAfter
		}
		k.calls = append(k.calls, c)
		k.called++
		k.todayCalled++
	}
}

// settle puts agent i, whose call or break just ended (or whose task just
// changed), into the resting state the task's situation calls for.
func (k *task) settle(i int, t int64) {
	a := &k.agents[i]
	want := agIdle
	switch {
	case a.removeAt != 0 && a.removeAt <= t:
		want = agOff
	case k.status != statusRunning || k.offline || !k.eligible(a):
		want = agOff
	case k.pausedAll:
		want = agPause
	}
	if a.state == want && (want != agPause || a.held) {
		return
	}
	if a.state == agIdle {
		a.idleSecs += t - a.since
	}
	a.state, a.since, a.held = want, t, false
	switch want {
	case agIdle:
		a.until = t + 1 + k.expSecs(time.Duration(k.cfg.PauseEvery))
	case agPause:
		a.held = true
	case agOff:
		a.removed = a.removeAt != 0 && a.removeAt <= t
	}
}

// settleResting re-settles every agent not busy with a call, after a change
// of the task's status, a scenario or midnight.
func (k *task) settleResting(t int64) {
	for i := range k.agents {
		a := &k.agents[i]
		if !a.removed && (a.state == agIdle || a.state == agPause || a.state == agOff) {
			k.settle(i, t)
		}
	}
}

// eligible applies CallLimit and EnterpriseCallLimit: an agent who reached
// either today gets no more calls from this task until midnight.
func (k *task) eligible(a *agent) bool {
	if l := *k.cfg.CallLimit; l >= 0 && a.today >= int64(l) {
		return false
	}
	if l := k.ent.callLimit; l >= 0 && a.entToday >= int64(l) {
		return false
	}
	return true
}

func (k *task) resetToday(t int64) {
	k.nextMidnight = nextMidnight(t, k.loc)
	k.todayCalled, k.todayAnswered, k.todayCallAgent, k.todayIVR = 0, 0, 0, 0
	for i := range k.agents {
		k.agents[i].today, k.agents[i].entToday = 0, 0
	}
	k.settleResting(t)
}

func (k *task) setStatus(s int, t int64, manual bool) {
	k.status, k.manual = s, manual
	switch s {
	case statusRunning:
		k.desc = descRunning
		if k.startAt == 0 {
			k.startAt = t
		}
	case statusPaused:
		k.desc, k.pauseAt = descPaused, t
	case statusFinished:
		k.desc, k.overAt = descExhausted, t
		if manual {
			k.desc = descManualEnd
		}
	}
	k.settleResting(t)
}

// expSecs draws an exponential duration in whole seconds.
func (k *task) expSecs(mean time.Duration) int64 {
	return int64(math.Round(k.rng.ExpFloat64() * mean.Seconds()))
}

// erlang draws a talk time: Erlang-2 is less skewed towards very short
// calls than an exponential, closer to real talk-time histograms.
func (k *task) erlang(mean time.Duration) int64 {
	return int64(math.Round((k.rng.ExpFloat64() + k.rng.ExpFloat64()) * mean.Seconds() / 2))
}

func (k *task) wrapupSecs() int64 {
	if *k.cfg.WrapupMean == 0 {
		return 0
	}
	return max(1, k.expSecs(time.Duration(*k.cfg.WrapupMean)))
}

// Scenario names, for POST /admin/scenario and the config's scenarios list.
const (
	ScenarioAgentsPause   = "agents_pause"   // every agent pauses (busy ones after their call)
	ScenarioAgentsResume  = "agents_resume"  // undoes agents_pause
	ScenarioAgentsOffline = "agents_offline" // no agent online in the task
	ScenarioAgentsOnline  = "agents_online"  // undoes agents_offline
	ScenarioTaskPause     = "task_pause"     // status 2: the dialler stops, calls drain
	ScenarioTaskRun       = "task_run"       // status 1 from 0 or 2
	ScenarioTaskFinish    = "task_finish"    // status 3 by hand ("手动结束")
)

// Scenario switches something in one task at the moment it is applied.
// The agent scenarios (agents_pause, agents_resume, agents_offline,
// agents_online) with Task 0 switch every task of the enterprise at once:
// its whole floor, which also serves its inbound queues, so that callers
// then wait, abandon and overflow (the queues' service level falls).
type Scenario struct {
	Enterprise int64  `yaml:"enterprise" json:"enterprise"`
	Task       int64  `yaml:"task" json:"task"`
	Name       string `yaml:"name" json:"name"`
}

// checkWholeFloor refuses task 0 (every task of the enterprise) for the
// scenarios other than the agents' ones: a whole floor pauses, a whole
// enterprise's tasks are not finished at once.
func (sc Scenario) checkWholeFloor() error {
	switch {
	case sc.Task != 0:
	case sc.Name == ScenarioAgentsPause, sc.Name == ScenarioAgentsResume, sc.Name == ScenarioAgentsOffline, sc.Name == ScenarioAgentsOnline:
	default:
		return fmt.Errorf("scenario %s needs a task (only the agent scenarios apply to a whole enterprise)", sc.Name)
	}
	return nil
}

func (sc Scenario) validate(c *Config) error {
	switch sc.Name {
	case ScenarioAgentsPause, ScenarioAgentsResume, ScenarioAgentsOffline, ScenarioAgentsOnline,
		ScenarioTaskPause, ScenarioTaskRun, ScenarioTaskFinish:
	default:
		return fmt.Errorf("unknown scenario %q", sc.Name)
	}
	for _, e := range c.Enterprises {
		if e.ID != sc.Enterprise {
			continue
		}
		if sc.Task == 0 {
			return sc.checkWholeFloor()
		}
		for _, t := range e.Tasks {
			if t.ID == sc.Task {
				return nil
			}
		}
	}
	return fmt.Errorf("scenario %s: no task %d in enterprise %d", sc.Name, sc.Task, sc.Enterprise)
}

// apply switches the scenario at simulated second t; the task must have
// been advanced to t.
func (k *task) apply(name string, t int64) error {
	if err := k.switchScenario(name, t); err != nil {
		return err
	}
	k.react(t)
	return nil
}

func (k *task) switchScenario(name string, t int64) error {
	switch name {
	case ScenarioAgentsPause:
		k.pausedAll = true
		for i := range k.agents {
			if a := &k.agents[i]; !a.removed && (a.state == agIdle || a.state == agPause) {
				k.settle(i, t)
			}
		}
		return nil
	case ScenarioAgentsResume:
		k.pausedAll = false
		for i := range k.agents {
			if a := &k.agents[i]; !a.removed && a.state == agPause && a.held {
				k.settle(i, t)
			}
		}
		return nil
	case ScenarioAgentsOffline:
		k.offline = true
	case ScenarioAgentsOnline:
		k.offline = false
	case ScenarioTaskPause:
		if k.status != statusRunning {
			return fmt.Errorf("task %d is not running (status %d)", k.cfg.ID, k.status)
		}
		k.setStatus(statusPaused, t, true)
		return nil
	case ScenarioTaskRun:
		if k.status == statusFinished {
			return fmt.Errorf("task %d is finished and cannot run again", k.cfg.ID)
		}
		k.pendingAt = 0
		k.setStatus(statusRunning, t, true)
		return nil
	case ScenarioTaskFinish:
		if k.status == statusFinished {
			return fmt.Errorf("task %d is already finished", k.cfg.ID)
		}
		k.pendingAt = 0
		k.setStatus(statusFinished, t, true)
		return nil
	default:
		return fmt.Errorf("unknown scenario %q", name)
	}
	k.settleResting(t)
	return nil
}
