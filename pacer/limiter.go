package pacer

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Adaptive pacing. See the package documentation for the behaviour.
const (
	// ThrottleHoldoff is the shortest time between two halvings. Requests
	// sent within the same second meet the same overload, so their
	// throttled answers are one signal, not many: without the holdoff, a
	// concurrent scrape would fall to the floor on its first round.
	ThrottleHoldoff = time.Second
	// floorFraction and minFloorRate bound the adaptive rate from below: a
	// tenth of the configured rate still lets a scrape make progress, and
	// 0.5/s keeps a small configured rate from being cut to nothing.
	floorFraction = 0.1
	minFloorRate  = 0.5
	// recoverFraction of the configured rate is regained per second
	// without throttling: back to full from the floor in about 9 s, slow
	// enough not to run straight into the quota again, fast enough that
	// the next scrape or the one after runs at full speed.
	recoverFraction = 0.1
)

// DefaultChainKey is the Limiters key for the vendor's default credential
// chain, whose access key id is not known until the first call. Real
// access key ids ("LTAI…", "STS.…") never take this form.
const DefaultChainKey = "default-chain"

// LimiterConfig sizes a Limiter.
type LimiterConfig struct {
	// RequestsPerSecond is api.requests_per_second. Config validation
	// requires it positive; anything else is treated as 1, never as
	// "unlimited".
	RequestsPerSecond float64
	// Burst is api.burst: requests allowed at once after a quiet spell.
	// Values below 1 are raised to 1, or no request could ever pass.
	Burst int
	// Adaptive turns on the halving on throttling and the gradual
	// recovery described in the package documentation.
	Adaptive bool
}

func (c LimiterConfig) normalized() LimiterConfig {
	if !(c.RequestsPerSecond > 0) || math.IsInf(c.RequestsPerSecond, 0) {
		c.RequestsPerSecond = 1
	}
	if c.Burst < 1 {
		c.Burst = 1
	}
	return c
}

// floor is the lowest rate adaptive pacing goes to.
func (c LimiterConfig) floor() float64 {
	return min(c.RequestsPerSecond, max(c.RequestsPerSecond*floorFraction, minFloorRate))
}

// Limiter is the token bucket of one credential, with adaptive pacing on
// top of golang.org/x/time/rate. Its methods take the current time as an
// argument so that tests can drive it with a fake clock. A Limiter is safe
// for concurrent use.
type Limiter struct {
	mu  sync.Mutex
	tb  *rate.Limiter
	cfg LimiterConfig
	// throttledAt is when the rate was last halved; zero once the rate is
	// back at the configured one. throttledRate is the rate set then.
	throttledAt   time.Time
	throttledRate float64
}

// NewLimiter returns a full bucket sized by c.
func NewLimiter(c LimiterConfig) *Limiter {
	c = c.normalized()
	return &Limiter{tb: rate.NewLimiter(rate.Limit(c.RequestsPerSecond), c.Burst), cfg: c}
}

// Config returns the configuration in force (after normalisation).
func (l *Limiter) Config() LimiterConfig {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// Reconfigure applies a reloaded configuration and keeps the bucket's
// tokens and the adaptive state, so that a reload neither grants a fresh
// burst nor forgets that the server was throttling a moment ago.
func (l *Limiter) Reconfigure(now time.Time, c LimiterConfig) {
	c = c.normalized()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = c
	if !c.Adaptive {
		l.throttledAt = time.Time{}
	}
	l.throttledRate = min(l.throttledRate, c.RequestsPerSecond)
	l.tb.SetBurstAt(now, c.Burst)
	l.apply(now)
}

// rateAt is the rate in force at now. Callers hold l.mu.
func (l *Limiter) rateAt(now time.Time) float64 {
	full := l.cfg.RequestsPerSecond
	if l.throttledAt.IsZero() {
		return full
	}
	elapsed := max(now.Sub(l.throttledAt).Seconds(), 0)
	r := l.throttledRate + recoverFraction*full*elapsed
	if r >= full {
		return full
	}
	return r
}

// apply brings the bucket's rate up to date with the recovery. Callers
// hold l.mu.
func (l *Limiter) apply(now time.Time) {
	r := l.rateAt(now)
	if r == l.cfg.RequestsPerSecond {
		l.throttledAt = time.Time{}
	}
	if rate.Limit(r) != l.tb.Limit() {
		l.tb.SetLimitAt(now, rate.Limit(r))
	}
}

// RateAt is the bucket's rate at now, in requests per second: the
// configured one, or less while recovering from throttling.
func (l *Limiter) RateAt(now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rateAt(now)
}

// Rate is RateAt(time.Now()), for the rate gauge.
func (l *Limiter) Rate() float64 { return l.RateAt(time.Now()) }

// TokensAt is how many requests could start at now without waiting.
func (l *Limiter) TokensAt(now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.apply(now)
	return l.tb.TokensAt(now)
}

// reserve takes one token at now; the reservation says how long to wait
// for it and can be cancelled to give the token back.
func (l *Limiter) reserve(now time.Time) *rate.Reservation {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.apply(now)
	return l.tb.ReserveN(now, 1)
}

// charge takes n tokens at now without waiting for them, for requests
// already made (the extra pages of a CloudQueryTask listing): the bucket
// goes into debt and later requests wait for it.
func (l *Limiter) charge(now time.Time, n int) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.apply(now)
	l.tb.ReserveN(now, min(n, l.cfg.Burst))
}

// Throttled tells the limiter the server answered with throttling at now.
// With adaptive pacing the rate halves (at most once per ThrottleHoldoff,
// not below the floor) and the bucket is emptied.
func (l *Limiter) Throttled(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.cfg.Adaptive {
		return
	}
	if !l.throttledAt.IsZero() && now.Sub(l.throttledAt) < ThrottleHoldoff {
		return
	}
	r := max(l.rateAt(now)/2, l.cfg.floor())
	l.throttledAt, l.throttledRate = now, r
	l.tb.SetLimitAt(now, rate.Limit(r))
	if tok := l.tb.TokensAt(now); tok >= 1 {
		l.tb.ReserveN(now, int(tok))
	}
}

// Limiters holds one Limiter per credential for the life of the process,
// so that a configuration reload with the same access key keeps the
// bucket's state (tokens spent, adaptive rate) instead of starting with a
// full burst at full rate. The owner (the service) keeps one Limiters for
// the process and passes Get's result to every Pacer it builds.
//
// Keys are access key ids, or DefaultChainKey for the vendor's credential
// chain, or the name of the file an id is read from
// (config.Credentials.KeyName). Limiters are never dropped: a process sees a handful of keys in
// its life, and dropping one would hand a fresh burst to a key that comes
// back.
type Limiters struct {
	mu sync.Mutex
	m  map[string]*Limiter
}

// NewLimiters returns an empty registry.
func NewLimiters() *Limiters { return &Limiters{m: map[string]*Limiter{}} }

// Get returns the key's Limiter, created with c or reconfigured to c.
func (ls *Limiters) Get(key string, c LimiterConfig) *Limiter {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l, ok := ls.m[key]; ok {
		l.Reconfigure(time.Now(), c)
		return l
	}
	l := NewLimiter(c)
	ls.m[key] = l
	return l
}
