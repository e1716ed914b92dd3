package simulator

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Fault kinds. Errors replace the answer; the others change how a normal
// answer is delivered.
const (
	FaultThrottle     = "throttle"      // 400 Throttling.User + x-ratelimit-user-api
	FaultUnavailable  = "unavailable"   // 503 ServiceUnavailable
	FaultInternal     = "internal"      // 500 InternalError
	FaultError        = "error"         // any status/code/message, e.g. 200 isv.BUSINESS_LIMIT_CONTROL
	FaultLatency      = "latency"       // sleep latency ± jitter before answering
	FaultMalformed    = "malformed"     // the answer with its first ':' turned into '='
	FaultTruncated    = "truncated"     // full Content-Length, half the body, then the connection drops
	FaultOversize     = "oversize"      // a valid answer padded to size bytes
	FaultStrings      = "strings"       // every number written as a JSON string
	FaultDuplicateCno = "duplicate_cno" // the first agent appears twice in AgentStatisticList
	// Call records (CloudQueryPredictiveCallCdr) only:
	FaultLateRecord      = "late_record"      // a matching record shows up only delay after its call ended
	FaultDuplicateRecord = "duplicate_record" // each page after the first starts with the previous page's last record
	// Hostile call-record servers (the poller's promises are tested
	// against them):
	FaultIDForms  = "id_forms"  // ids change form between answers: UniqueId or CallId empty or an object, Id a number or a string
	FaultReplay   = "replay"    // each page also carries records that ended before the window asked (count of them, default 5)
	FaultPageSize = "page_size" // a page shorter than Limit (the list seems to end early) or longer (records of the next page too)
	FaultReorder  = "reorder"   // the window's list in another order for this request, so that its pages disagree with the others'
)

var faultKinds = []string{FaultThrottle, FaultUnavailable, FaultInternal, FaultError, FaultLatency,
	FaultMalformed, FaultTruncated, FaultOversize, FaultStrings, FaultDuplicateCno, FaultLateRecord, FaultDuplicateRecord,
	FaultIDForms, FaultReplay, FaultPageSize, FaultReorder}

// Faults is the fault-injection setting, in the config and at
// GET/PUT /admin/faults.
type Faults struct {
	Rules []FaultRule `yaml:"rules" json:"rules"`
}

// FaultRule injects one kind of fault into the requests it matches.
// Enterprise, Task and Action narrow the match (0 or "" match everything;
// a rule with a Task never matches CloudQueryTask). Every matching rule
// draws independently with its Probability (0 is normalised to 1: remove a
// rule to switch it off). Latencies add up; the first matching error wins;
// the first matching body fault (malformed, truncated, oversize) wins;
// strings and duplicate_cno combine with the others.
type FaultRule struct {
	Kind        string  `yaml:"kind" json:"kind"`
	Action      string  `yaml:"action,omitempty" json:"action,omitempty"`
	Enterprise  int64   `yaml:"enterprise,omitempty" json:"enterprise,omitempty"`
	Task        int64   `yaml:"task,omitempty" json:"task,omitempty"`
	Probability float64 `yaml:"probability,omitempty" json:"probability,omitempty"`
	// TimeLeft is what throttle advertises in x-ratelimit-user-api (default 1s).
	TimeLeft Duration `yaml:"time_left,omitempty" json:"time_left,omitempty"`
	Latency  Duration `yaml:"latency,omitempty" json:"latency,omitempty"`
	Jitter   Duration `yaml:"jitter,omitempty" json:"jitter,omitempty"`
	// Delay is how long after its call ends a late_record's record shows
	// up, in simulated time (default 10m). Its Probability is drawn per
	// record, not per request.
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	// Count is how many old records a replay adds to a page (default 5).
	Count int `yaml:"count,omitempty" json:"count,omitempty"`
	// Size is the oversize body length in bytes (default 20 MiB).
	Size int64 `yaml:"size,omitempty" json:"size,omitempty"`
	// Status, Code and Message describe an error fault; throttle, unavailable
	// and internal fill them with the vendor's values unless set.
	Status  int    `yaml:"status,omitempty" json:"status,omitempty"`
	Code    string `yaml:"code,omitempty" json:"code,omitempty"`
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
}

func (f *Faults) validate() error {
	for i := range f.Rules {
		if err := f.Rules[i].normalize(); err != nil {
			return fmt.Errorf("rules[%d]: %v", i, err)
		}
	}
	return nil
}

func (r *FaultRule) normalize() error {
	known := false
	for _, k := range faultKinds {
		known = known || r.Kind == k
	}
	if !known {
		return fmt.Errorf("kind %q is not one of %s", r.Kind, strings.Join(faultKinds, ", "))
	}
	if r.Action != "" && !isAction(r.Action) && r.Action != actionAssumeRole {
		return fmt.Errorf("action must be empty, %s, %s, %s, %s, %s, %s or %s (STS), got %q", actionMonitor, actionQuery, actionCdr,
			actionListAgents, actionListQueue, actionIbCdr, actionAssumeRole, r.Action)
	}
	if r.Enterprise < 0 || r.Task < 0 {
		return errors.New("enterprise and task must be positive (or 0 for any)")
	}
	if r.Probability == 0 {
		r.Probability = 1
	}
	if r.Probability < 0 || r.Probability > 1 {
		return fmt.Errorf("probability must be in (0, 1], got %v", r.Probability)
	}
	if r.Latency < 0 || r.Jitter < 0 || r.TimeLeft < 0 || r.Delay < 0 {
		return errors.New("latency, jitter, time_left and delay must not be negative")
	}
	if r.Kind == FaultLatency && r.Latency == 0 && r.Jitter == 0 {
		return errors.New("a latency fault needs latency or jitter")
	}
	switch r.Kind {
	case FaultThrottle:
		setDefaults(r, 400, "Throttling.User", "Request was denied due to user flow control.")
		if r.TimeLeft == 0 {
			r.TimeLeft = Duration(defaultThrottleFor)
		}
	case FaultUnavailable:
		setDefaults(r, 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	case FaultInternal:
		setDefaults(r, 500, "InternalError", "The request processing has failed due to some unknown error, exception or failure.")
	case FaultError:
		if r.Code == "" || r.Status == 0 {
			return errors.New("an error fault needs status and code")
		}
		if r.Message == "" {
			r.Message = "Injected fault."
		}
	case FaultReplay:
		if r.Count == 0 {
			r.Count = 5
		}
		if r.Count < 0 || r.Count > maxCdrLimit {
			return fmt.Errorf("count must be between 1 and %d, got %d", maxCdrLimit, r.Count)
		}
	case FaultLateRecord:
		if r.Delay == 0 {
			r.Delay = Duration(defaultLateRecordDelay)
		}
	case FaultOversize:
		if r.Size == 0 {
			r.Size = defaultOversize
		}
		if r.Size < 0 || r.Size > maxOversize {
			return fmt.Errorf("size must be between 1 and %d bytes, got %d", maxOversize, r.Size)
		}
	}
	if r.Status != 0 && (r.Status < 200 || r.Status > 599) {
		return fmt.Errorf("status must be an HTTP status (200-599), got %d", r.Status)
	}
	return nil
}

func setDefaults(r *FaultRule, status int, code, msg string) {
	if r.Status == 0 {
		r.Status = status
	}
	if r.Code == "" {
		r.Code = code
	}
	if r.Message == "" {
		r.Message = msg
	}
}

func (f Faults) clone() Faults {
	return Faults{Rules: append([]FaultRule(nil), f.Rules...)}
}

// faultPlan is what the drawn rules do to one request.
type faultPlan struct {
	latency   time.Duration
	fail      *FaultRule // error answer instead of the normal one
	body      *FaultRule // malformed, truncated or oversize
	strings   bool
	dupCno    bool
	dupRecord bool
	idForms   bool
	replay    int // old records added to a page
	pageSize  bool
	reorder   bool
	draw      uint64   // this request's draws for the hostile kinds
	kinds     []string // for Stats.Faults
}

// plan draws the rules for request number seq. Draws hash (seed, seq, rule)
// rather than consuming a shared generator, so a request's faults do not
// depend on how many rules other requests evaluated.
func (f *Faults) plan(seed, seq uint64, action string, ent, task int64) faultPlan {
	p := faultPlan{draw: splitmix64(seed ^ seq*0x2545f4914f6cdd1d)}
	for i := range f.Rules {
		r := &f.Rules[i]
		// STS is another endpoint: only rules naming AssumeRole reach it.
		if r.Action != "" && r.Action != action || action == actionAssumeRole && r.Action != action || r.Enterprise != 0 && r.Enterprise != ent ||
			r.Task != 0 && r.Task != task {
			continue
		}
		if unit(seed, seq, uint64(i)*2) >= r.Probability {
			continue
		}
		switch r.Kind {
		case FaultLatency:
			d := time.Duration(r.Latency) + time.Duration((2*unit(seed, seq, uint64(i)*2+1)-1)*float64(r.Jitter))
			p.latency += max(d, 0)
		case FaultThrottle, FaultUnavailable, FaultInternal, FaultError:
			if p.fail != nil {
				continue
			}
			p.fail = r
		case FaultMalformed, FaultTruncated, FaultOversize:
			if p.body != nil {
				continue
			}
			p.body = r
		case FaultStrings:
			p.strings = true
		case FaultDuplicateCno:
			p.dupCno = true
		case FaultDuplicateRecord:
			p.dupRecord = true
		case FaultIDForms:
			p.idForms = true
		case FaultReplay:
			p.replay = max(p.replay, r.Count)
		case FaultPageSize:
			p.pageSize = true
		case FaultReorder:
			p.reorder = true
		case FaultLateRecord:
			continue // drawn per record, by lateRecordDelay
		}
		p.kinds = append(p.kinds, r.Kind)
	}
	return p
}

// splitmix64 is a small, well-mixed hash for deterministic draws.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit maps (seed, a, b) to a uniform float in [0, 1).
func unit(seed, a, b uint64) float64 {
	h := splitmix64(splitmix64(splitmix64(seed)^a) ^ b)
	return float64(h>>11) / (1 << 53)
}
