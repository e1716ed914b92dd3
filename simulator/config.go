package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	_ "time/tzdata" // Asia/Shanghai must resolve in minimal containers too

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "90s" in both YAML and the admin
// JSON, so the two configuration surfaces read the same.
type Duration time.Duration

// MarshalText writes the duration in time.Duration's notation.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "1m30s"; a bare number is rejected because its unit
// would be a guess.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (write it with a unit, e.g. 90s)", b)
	}
	*d = Duration(v)
	return nil
}

// Config is the whole simulator setup. The zero values of optional fields
// mean "use the default"; New fills them in and rejects the impossible.
type Config struct {
	// Listen is the address cmd/dyvms-simulator uses when --listen is not given.
	Listen string `yaml:"listen"`
	// Seed makes the model and the fault draws reproducible.
	Seed int64 `yaml:"seed"`
	// Speed runs simulated time this many times faster than the clock (demos).
	Speed float64 `yaml:"speed"`
	// Timezone is the call centre's local time: day boundaries and the
	// zone-less times in answers. Default Asia/Shanghai.
	Timezone string `yaml:"timezone"`
	// MaxNonces bounds the replay cache; past it the oldest nonces are
	// forgotten early (counted in Stats.NonceEvictions). Default 1,000,000.
	MaxNonces int `yaml:"max_nonces"`
	// Credentials are the default account's key pairs: it owns every
	// enterprise no entry of Accounts lists (all of them without Accounts).
	Credentials []Credential `yaml:"credentials"`
	// Accounts are further Alibaba Cloud accounts (accounts.go).
	Accounts    []Account    `yaml:"accounts"`
	Enterprises []Enterprise `yaml:"enterprises"`
	// Generate appends many enterprises and tasks without listing them.
	Generate  *Generate  `yaml:"generate"`
	Fixtures  []Fixture  `yaml:"fixtures"`
	Faults    Faults     `yaml:"faults"`
	Scenarios []Scenario `yaml:"scenarios"`
}

// Credential is one key pair the gateway accepts.
type Credential struct {
	AccessKeyID     string `yaml:"access_key_id"`
	AccessKeySecret string `yaml:"access_key_secret"`
	// SecurityToken makes this an STS key: requests must then carry and sign
	// x-acs-security-token with exactly this value.
	SecurityToken string `yaml:"security_token"`
	// ExpiresAt (RFC 3339), STS only: afterwards InvalidSecurityToken.Expired.
	ExpiresAt string `yaml:"expires_at"`
	// Disabled answers InvalidAccessKeyId.Inactive, like a key switched off in RAM.
	Disabled bool `yaml:"disabled"`
	// Enterprises, when set, is the only call centres this key may read;
	// others answer Forbidden.RAM (a RAM policy that is too narrow).
	Enterprises []int64 `yaml:"enterprises"`
}

// String keeps the secret and token out of logs and error messages.
func (c Credential) String() string {
	kind := "AccessKey"
	if c.SecurityToken != "" {
		kind = "STS"
	}
	return fmt.Sprintf("%s %s (secret redacted)", kind, c.AccessKeyID)
}

// GoString keeps %#v from printing the secret either.
func (c Credential) GoString() string { return "simulator.Credential{" + c.String() + "}" }

// Enterprise is one call centre (EnterpriseId).
type Enterprise struct {
	ID int64 `yaml:"id"`
	// Channels is EnterpriseChannelCount: the predictive channels of the call centre.
	Channels int `yaml:"channels"`
	// CallLimit is EnterpriseCallLimit, per agent and day; nil or -1: none.
	CallLimit *int   `yaml:"call_limit"`
	Tasks     []Task `yaml:"tasks"`
	// Inbound is the enterprise's inbound traffic, served by its tasks'
	// agents (callcentre.go); nil: none.
	Inbound *Inbound `yaml:"inbound"`
}

// Task is one outbound task and the agents assigned to it.
type Task struct {
	ID   int64  `yaml:"id"`
	Name string `yaml:"name"`
	// Type is 1 predictive (customers go to agents) or 2 automatic (to the IVR).
	Type int `yaml:"type"`
	// Status is the task's status at start-up: 0 initial, 1 running (default),
	// 2 paused, 3 finished by hand.
	Status *int `yaml:"status"`
	// StartedAgo simulates that much running history before start-up, so a
	// paused or finished task has real numbers and a running one is warm.
	StartedAgo Duration `yaml:"started_ago"`
	// Numbers is the size of the number list; the task finishes when all are called.
	Numbers *int `yaml:"numbers"`
	Agents  *int `yaml:"agents"`
	// RemovedAgents are agents that worked on the task and were removed
	// during its history (RemovedAgentStatisticList).
	RemovedAgents int `yaml:"removed_agents"`
	// DialRatio is customers dialled per available agent.
	DialRatio float64 `yaml:"dial_ratio"`
	// AnswerProbability is the chance a dialled customer answers.
	AnswerProbability *float64  `yaml:"answer_probability"`
	TalkMean          Duration  `yaml:"talk_mean"`
	WrapupMean        *Duration `yaml:"wrapup_mean"`
	// PauseEvery and PauseMean shape agents' own breaks (statePause).
	PauseEvery Duration `yaml:"pause_every"`
	PauseMean  Duration `yaml:"pause_mean"`
	// CallLimit is the task's CallLimit per agent and day; nil or -1: none.
	CallLimit *int `yaml:"call_limit"`
	// Concurrency caps the task's channels; default the enterprise's channels.
	Concurrency int `yaml:"concurrency"`
	// AgentFastAnswer is the least chance of an agent picking up within
	// 2 s of ringing (each agent draws theirs between it and 1; default
	// 0.5). AgentMiss is the greatest chance of an agent not picking up at
	// all (each draws between 0 and it; default 0.06). Customers bridged
	// after more than 2 s, or never, are abandoned calls in the call records.
	AgentFastAnswer *float64 `yaml:"agent_fast_answer"`
	AgentMiss       *float64 `yaml:"agent_miss"`
	// MaxCallRecords bounds the call records kept (CloudQueryPredictiveCallCdr):
	// past it the oldest are forgotten. Default 20,000, 0 keeps none;
	// generated tasks keep none unless generate.max_call_records says so.
	MaxCallRecords *int `yaml:"max_call_records"`
}

// Generate describes many similar enterprises and tasks; their parameters
// vary deterministically with the seed.
type Generate struct {
	Enterprises        int   `yaml:"enterprises"`
	TasksPerEnterprise int   `yaml:"tasks_per_enterprise"`
	AgentsPerTask      int   `yaml:"agents_per_task"`
	FirstEnterpriseID  int64 `yaml:"first_enterprise_id"` // default 8000001
	FirstTaskID        int64 `yaml:"first_task_id"`       // default 1
	Channels           int   `yaml:"channels"`            // per enterprise; default 2 × agents_per_task
	Numbers            int   `yaml:"numbers"`             // per task; default 2000
	// MaxStartedAgo bounds the simulated history per task (default 10m); it
	// is what the first CloudMonitorTask of each task pays for.
	MaxStartedAgo Duration `yaml:"max_started_ago"`
	// MaxCallRecords per generated task (default 0: none, so that large
	// generated call centres for benchmarks do not hold records nobody reads).
	MaxCallRecords int `yaml:"max_call_records"`
}

// Fixture pins an answer to a raw body, served verbatim once the request
// passed the gateway checks (golden tests with the vendor's example).
type Fixture struct {
	// Action is CloudMonitorTask (default) or CloudQueryTask.
	Action     string `yaml:"action"`
	Enterprise int64  `yaml:"enterprise"`
	Task       int64  `yaml:"task"` // CloudMonitorTask only
	// File (relative to the config file when loaded with LoadConfig) or Body.
	File string `yaml:"file"`
	Body string `yaml:"body"`
}

// Defaults used when a field is left out.
const (
	DefaultListen   = "127.0.0.1:9915"
	DefaultTimezone = "Asia/Shanghai"

	defaultMaxNonces   = 1_000_000
	maxStartedAgo      = 48 * time.Hour
	maxOversize        = 1 << 30
	defaultOversize    = 20 << 20
	defaultThrottleFor = time.Second
	// defaultMaxCallRecords is two days of a task making 10,000 calls a
	// day, about 1.3 MB.
	defaultMaxCallRecords = 20_000
)

// ParseConfig reads a YAML configuration strictly (unknown keys are errors:
// a typo must not silently become a default) and validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, errors.New("simulator config: empty document")
		}
		return Config{}, fmt.Errorf("simulator config: %w", err)
	}
	if err := c.normalize(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads a YAML file; fixture files are resolved relative to it.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("simulator config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	for i := range c.Fixtures {
		if f := c.Fixtures[i].File; f != "" && !filepath.IsAbs(f) {
			c.Fixtures[i].File = filepath.Join(dir, f)
		}
	}
	return c, nil
}

func intp(v int) *int                { return &v }
func floatp(v float64) *float64      { return &v }
func durp(v time.Duration) *Duration { d := Duration(v); return &d }

// normalize fills defaults, expands Generate and validates. It is
// idempotent, so New can call it on configs that ParseConfig already saw.
func (c *Config) normalize() error {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Speed == 0 {
		c.Speed = 1
	}
	if c.Speed < 0 || c.Speed > 10000 {
		return fmt.Errorf("simulator config: speed must be in (0, 10000], got %v", c.Speed)
	}
	if c.Timezone == "" {
		c.Timezone = DefaultTimezone
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("simulator config: timezone %q: %v", c.Timezone, err)
	}
	if c.MaxNonces == 0 {
		c.MaxNonces = defaultMaxNonces
	}
	if c.MaxNonces < 1 {
		return fmt.Errorf("simulator config: max_nonces must be positive, got %d", c.MaxNonces)
	}
	if err := c.validateCredentials(); err != nil {
		return err
	}
	if err := c.validateAccounts(); err != nil {
		return err
	}
	if c.Generate != nil {
		if err := c.expandGenerate(); err != nil {
			return err
		}
	}
	if len(c.Enterprises) == 0 {
		return errors.New("simulator config: no enterprises (list some or use generate)")
	}
	seenEnt := map[int64]int{}
	for i := range c.Enterprises {
		e := &c.Enterprises[i]
		where := fmt.Sprintf("simulator config: enterprises[%d] (id %d)", i, e.ID)
		if e.ID <= 0 {
			return fmt.Errorf("%s: id must be a positive integer", where)
		}
		if j, dup := seenEnt[e.ID]; dup {
			return fmt.Errorf("%s: id repeats enterprises[%d]", where, j)
		}
		seenEnt[e.ID] = i
		if e.Channels <= 0 {
			return fmt.Errorf("%s: channels must be at least 1, got %d", where, e.Channels)
		}
		if e.CallLimit == nil {
			e.CallLimit = intp(-1)
		}
		if *e.CallLimit < -1 {
			return fmt.Errorf("%s: call_limit must be -1 (none) or >= 0, got %d", where, *e.CallLimit)
		}
		if e.Inbound != nil {
			if err := e.Inbound.normalize(); err != nil {
				return fmt.Errorf("%s: %v", where, err)
			}
		}
		seenTask := map[int64]int{}
		for j := range e.Tasks {
			t := &e.Tasks[j]
			twhere := fmt.Sprintf("%s: tasks[%d] (id %d)", where, j, t.ID)
			if k, dup := seenTask[t.ID]; dup {
				return fmt.Errorf("%s: id repeats tasks[%d]", twhere, k)
			}
			seenTask[t.ID] = j
			if err := t.normalize(e); err != nil {
				return fmt.Errorf("%s: %v", twhere, err)
			}
		}
	}
	for i := range c.Fixtures {
		if err := c.Fixtures[i].validate(); err != nil {
			return fmt.Errorf("simulator config: fixtures[%d]: %v", i, err)
		}
		for j := range i {
			a, b := c.Fixtures[i], c.Fixtures[j]
			if a.Action == b.Action && a.Enterprise == b.Enterprise && a.Task == b.Task {
				return fmt.Errorf("simulator config: fixtures[%d] repeats fixtures[%d]", i, j)
			}
		}
	}
	if err := c.Faults.validate(); err != nil {
		return fmt.Errorf("simulator config: faults: %v", err)
	}
	for i, sc := range c.Scenarios {
		if err := sc.validate(c); err != nil {
			return fmt.Errorf("simulator config: scenarios[%d]: %v", i, err)
		}
	}
	return nil
}

func (c *Config) validateCredentials() error {
	if len(c.Credentials) == 0 && len(c.Accounts) == 0 {
		return errors.New("simulator config: no credentials: the gateway would reject every request")
	}
	seen := map[string]int{}
	for i, cr := range c.Credentials {
		where := fmt.Sprintf("simulator config: credentials[%d]", i)
		if cr.AccessKeyID == "" {
			return fmt.Errorf("%s: access_key_id is empty", where)
		}
		if j, dup := seen[cr.AccessKeyID]; dup {
			return fmt.Errorf("%s: access_key_id %s repeats credentials[%d]", where, cr.AccessKeyID, j)
		}
		seen[cr.AccessKeyID] = i
		if cr.AccessKeySecret == "" {
			return fmt.Errorf("%s (%s): access_key_secret is empty", where, cr.AccessKeyID)
		}
		if cr.ExpiresAt != "" {
			if cr.SecurityToken == "" {
				return fmt.Errorf("%s (%s): expires_at needs a security_token", where, cr.AccessKeyID)
			}
			if _, err := time.Parse(time.RFC3339, cr.ExpiresAt); err != nil {
				return fmt.Errorf("%s (%s): expires_at is not RFC 3339: %q", where, cr.AccessKeyID, cr.ExpiresAt)
			}
		}
	}
	return nil
}

func (t *Task) normalize(e *Enterprise) error {
	if t.ID <= 0 {
		return errors.New("id must be a positive integer")
	}
	if t.Name == "" {
		t.Name = fmt.Sprintf("task-%d", t.ID)
	}
	if t.Type == 0 {
		t.Type = 1
	}
	if t.Type != 1 && t.Type != 2 {
		return fmt.Errorf("type must be 1 (predictive) or 2 (automatic), got %d", t.Type)
	}
	if t.Status == nil {
		t.Status = intp(statusRunning)
	}
	if *t.Status < 0 || *t.Status > 3 {
		return fmt.Errorf("status must be 0 (initial), 1 (running), 2 (paused) or 3 (finished), got %d", *t.Status)
	}
	if t.StartedAgo < 0 || time.Duration(t.StartedAgo) > maxStartedAgo {
		return fmt.Errorf("started_ago must be between 0 and %v, got %v", maxStartedAgo, time.Duration(t.StartedAgo))
	}
	if *t.Status == statusInitial && t.StartedAgo != 0 {
		return errors.New("started_ago needs a task that has started (status 1, 2 or 3)")
	}
	if t.Numbers == nil {
		t.Numbers = intp(1000)
	}
	if *t.Numbers < 0 {
		return fmt.Errorf("numbers must be >= 0, got %d", *t.Numbers)
	}
	if t.Agents == nil {
		t.Agents = intp(10)
		if t.Type == 2 {
			t.Agents = intp(0)
		}
	}
	if *t.Agents < 0 || *t.Agents > 10000 {
		return fmt.Errorf("agents must be between 0 and 10000, got %d", *t.Agents)
	}
	if t.RemovedAgents < 0 || t.RemovedAgents > 10000 {
		return fmt.Errorf("removed_agents must be between 0 and 10000, got %d", t.RemovedAgents)
	}
	if t.DialRatio == 0 {
		t.DialRatio = 1.5
	}
	if t.DialRatio < 0 || t.DialRatio > 20 {
		return fmt.Errorf("dial_ratio must be in (0, 20], got %v", t.DialRatio)
	}
	if t.AnswerProbability == nil {
		t.AnswerProbability = floatp(0.35)
	}
	if p := *t.AnswerProbability; p < 0 || p > 1 {
		return fmt.Errorf("answer_probability must be in [0, 1], got %v", p)
	}
	if t.TalkMean == 0 {
		t.TalkMean = Duration(90 * time.Second)
	}
	if time.Duration(t.TalkMean) < time.Second {
		return fmt.Errorf("talk_mean must be at least 1s, got %v", time.Duration(t.TalkMean))
	}
	if t.WrapupMean == nil {
		t.WrapupMean = durp(15 * time.Second)
	}
	if *t.WrapupMean < 0 {
		return fmt.Errorf("wrapup_mean must be >= 0, got %v", time.Duration(*t.WrapupMean))
	}
	if t.PauseEvery == 0 {
		t.PauseEvery = Duration(20 * time.Minute)
	}
	if time.Duration(t.PauseEvery) < time.Minute {
		return fmt.Errorf("pause_every must be at least 1m, got %v", time.Duration(t.PauseEvery))
	}
	if t.PauseMean == 0 {
		t.PauseMean = Duration(3 * time.Minute)
	}
	if time.Duration(t.PauseMean) < time.Second {
		return fmt.Errorf("pause_mean must be at least 1s, got %v", time.Duration(t.PauseMean))
	}
	if t.CallLimit == nil {
		t.CallLimit = intp(-1)
	}
	if *t.CallLimit < -1 {
		return fmt.Errorf("call_limit must be -1 (none) or >= 0, got %d", *t.CallLimit)
	}
	if t.Concurrency == 0 {
		t.Concurrency = e.Channels
	}
	if t.Concurrency < 0 {
		return fmt.Errorf("concurrency must be >= 1, got %d", t.Concurrency)
	}
	if t.AgentFastAnswer == nil {
		t.AgentFastAnswer = floatp(0.5)
	}
	if p := *t.AgentFastAnswer; p < 0 || p > 1 {
		return fmt.Errorf("agent_fast_answer must be in [0, 1], got %v", p)
	}
	if t.AgentMiss == nil {
		t.AgentMiss = floatp(0.06)
	}
	if p := *t.AgentMiss; p < 0 || p > 1 {
		return fmt.Errorf("agent_miss must be in [0, 1], got %v", p)
	}
	if t.MaxCallRecords == nil {
		t.MaxCallRecords = intp(defaultMaxCallRecords)
	}
	if *t.MaxCallRecords < 0 {
		return fmt.Errorf("max_call_records must be >= 0, got %d", *t.MaxCallRecords)
	}
	return nil
}

// validate does not require the fixture's task to be simulated: pinning an
// answer for a task that exists nowhere else is the point of a golden test.
func (f *Fixture) validate() error {
	if f.Action == "" {
		f.Action = actionMonitor
	}
	switch f.Action {
	case actionMonitor:
		if f.Task <= 0 {
			return errors.New("a CloudMonitorTask fixture needs task")
		}
	case actionQuery, actionCdr:
		if f.Task != 0 {
			return fmt.Errorf("a %s fixture is per enterprise: leave task out", f.Action)
		}
	default:
		return fmt.Errorf("action must be %s, %s or %s, got %q", actionMonitor, actionQuery, actionCdr, f.Action)
	}
	if f.Enterprise <= 0 {
		return errors.New("enterprise must be a positive integer")
	}
	if (f.File == "") == (f.Body == "") {
		return errors.New("give exactly one of file and body")
	}
	return nil
}

func (g *Generate) normalize() error {
	if g.Enterprises < 1 || g.Enterprises > 1000 {
		return fmt.Errorf("enterprises must be between 1 and 1000, got %d", g.Enterprises)
	}
	if g.TasksPerEnterprise < 1 || g.TasksPerEnterprise > 10000 {
		return fmt.Errorf("tasks_per_enterprise must be between 1 and 10000, got %d", g.TasksPerEnterprise)
	}
	if g.AgentsPerTask == 0 {
		g.AgentsPerTask = 20
	}
	if g.AgentsPerTask < 0 || g.AgentsPerTask > 10000 {
		return fmt.Errorf("agents_per_task must be between 1 and 10000, got %d", g.AgentsPerTask)
	}
	if g.FirstEnterpriseID == 0 {
		g.FirstEnterpriseID = 8000001
	}
	if g.FirstTaskID == 0 {
		g.FirstTaskID = 1
	}
	if g.FirstEnterpriseID < 0 || g.FirstTaskID < 0 {
		return errors.New("first_enterprise_id and first_task_id must be positive")
	}
	if g.Channels == 0 {
		g.Channels = 2 * g.AgentsPerTask
	}
	if g.Channels < 1 {
		return fmt.Errorf("channels must be at least 1, got %d", g.Channels)
	}
	if g.Numbers == 0 {
		g.Numbers = 2000
	}
	if g.Numbers < 0 {
		return fmt.Errorf("numbers must be >= 0, got %d", g.Numbers)
	}
	if g.MaxStartedAgo == 0 {
		g.MaxStartedAgo = Duration(10 * time.Minute)
	}
	if g.MaxStartedAgo < 0 || time.Duration(g.MaxStartedAgo) > maxStartedAgo {
		return fmt.Errorf("max_started_ago must be between 0 and %v", maxStartedAgo)
	}
	if g.MaxCallRecords < 0 {
		return fmt.Errorf("max_call_records must be >= 0, got %d", g.MaxCallRecords)
	}
	return nil
}

// expandGenerate appends the generated enterprises and clears Generate so
// that normalize stays idempotent.
func (c *Config) expandGenerate() error {
	g := c.Generate
	if err := g.normalize(); err != nil {
		return fmt.Errorf("simulator config: generate: %v", err)
	}
	rng := rand.New(rand.NewPCG(uint64(c.Seed), 0x67656e6572617465)) // "generate"
	names := []string{"回访", "满意度调查", "催缴提醒", "续费营销", "预约确认", "活动邀约", "账单通知", "售后关怀"}
	for e := range g.Enterprises {
		ent := Enterprise{ID: g.FirstEnterpriseID + int64(e), Channels: g.Channels}
		for k := range g.TasksPerEnterprise {
			id := g.FirstTaskID + int64(k)
			status := statusRunning
			switch r := rng.IntN(10); {
			case r == 0:
				status = statusInitial
			case r == 1:
				status = statusPaused
			case r == 2:
				status = statusFinished
			}
			var ago Duration
			if status != statusInitial && g.MaxStartedAgo > 0 {
				ago = Duration(time.Duration(rng.Int64N(int64(g.MaxStartedAgo)/int64(time.Second)+1)) * time.Second)
			}
			ent.Tasks = append(ent.Tasks, Task{
				ID:                id,
				Name:              fmt.Sprintf("%s-%d", names[rng.IntN(len(names))], id),
				Type:              1,
				Status:            intp(status),
				StartedAgo:        ago,
				Numbers:           intp(g.Numbers),
				Agents:            intp(g.AgentsPerTask),
				RemovedAgents:     rng.IntN(3),
				DialRatio:         1.2 + float64(rng.IntN(14))/10,
				AnswerProbability: floatp(0.25 + float64(rng.IntN(35))/100),
				TalkMean:          Duration(time.Duration(60+rng.IntN(120)) * time.Second),
				WrapupMean:        durp(time.Duration(5+rng.IntN(25)) * time.Second),
				MaxCallRecords:    intp(g.MaxCallRecords),
			})
		}
		c.Enterprises = append(c.Enterprises, ent)
	}
	c.Generate = nil
	return nil
}
