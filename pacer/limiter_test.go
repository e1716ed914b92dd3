package pacer

import (
	"math"
	"testing"
	"time"
)

// grants counts the tokens granted without waiting when one request is
// tried every step from start to start+span.
func grants(l *Limiter, start time.Time, span, step time.Duration) int {
	n := 0
	for at := start; !at.After(start.Add(span)); at = at.Add(step) {
		r := l.reserve(at)
		if r.DelayFrom(at) == 0 {
			n++
		} else {
			r.CancelAt(at)
		}
	}
	return n
}

func TestLimiterRateAndBurst(t *testing.T) {
	t0 := time.Now()
	l := NewLimiter(LimiterConfig{RequestsPerSecond: 10, Burst: 5})
	if got := l.TokensAt(t0); got != 5 {
		t.Fatalf("a new bucket holds %v tokens, want the burst 5", got)
	}
	for i := range 5 {
		if d := l.reserve(t0).DelayFrom(t0); d != 0 {
			t.Fatalf("request %d of the burst waits %v", i, d)
		}
	}
	if d := l.reserve(t0).DelayFrom(t0); d != 100*time.Millisecond {
		t.Fatalf("the first request past the burst waits %v, want 1/rate = 100ms", d)
	}

	// Over 10 s of requests every millisecond, a fresh bucket grants its
	// burst plus rate × time, whatever the request pattern.
	l = NewLimiter(LimiterConfig{RequestsPerSecond: 10, Burst: 5})
	if n := grants(l, t0, 10*time.Second, time.Millisecond); n != 5+100 {
		t.Fatalf("granted %d in 10 s at 10/s with burst 5, want 105", n)
	}
}

func TestLimiterNormalizes(t *testing.T) {
	for _, c := range []LimiterConfig{{}, {RequestsPerSecond: -3, Burst: -1}, {RequestsPerSecond: math.NaN()}, {RequestsPerSecond: math.Inf(1)}} {
		got := NewLimiter(c).Config()
		if got.RequestsPerSecond != 1 || got.Burst != 1 {
			t.Errorf("%+v normalised to %+v, want 1/s burst 1 (never unlimited)", c, got)
		}
	}
}

func TestLimitersKeepStateAcrossReloads(t *testing.T) {
	ls := NewLimiters()
	a := ls.Get("LTAIkey", LimiterConfig{RequestsPerSecond: 1, Burst: 3})
	now := time.Now()
	for range 3 {
		a.reserve(now)
	}
	again := ls.Get("LTAIkey", LimiterConfig{RequestsPerSecond: 2, Burst: 4, Adaptive: true})
	if again != a {
		t.Fatal("the same key got a new limiter")
	}
	if tok := a.TokensAt(now); tok > 0.1 {
		t.Fatalf("a reload refilled the bucket to %v tokens", tok)
	}
	if c := a.Config(); c.RequestsPerSecond != 2 || c.Burst != 4 || !c.Adaptive {
		t.Fatalf("not reconfigured: %+v", c)
	}
	if b := ls.Get(DefaultChainKey, LimiterConfig{RequestsPerSecond: 1, Burst: 3}); b == a || b.TokensAt(now) != 3 {
		t.Fatal("another key shares the bucket")
	}
}

func TestAdaptiveRate(t *testing.T) {
	t0 := time.Now()
	l := NewLimiter(LimiterConfig{RequestsPerSecond: 20, Burst: 20, Adaptive: true})
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

	l.Throttled(t0)
	if r := l.RateAt(t0); r != 10 {
		t.Fatalf("rate after throttling = %v, want half of 20", r)
	}
	if tok := l.TokensAt(t0); tok >= 1 {
		t.Fatalf("%v tokens left after throttling: a burst would follow", tok)
	}
	// Within the holdoff, more throttled answers are the same signal.
	l.Throttled(sec(0.5))
	if r := l.RateAt(sec(0.5)); r != 11 {
		t.Fatalf("rate 0.5 s later = %v, want 10 recovered by 10%% of 20 per second = 11", r)
	}
	// Past it, the rate halves again, once per holdoff. Recovery (+2/s)
	// between halvings makes it settle at the floor of 20/10.
	for i := 1; i <= 20; i++ {
		l.Throttled(sec(float64(i)))
	}
	r20 := l.RateAt(sec(20))
	if r20 < 2 || r20 > 2.001 {
		t.Fatalf("rate after a throttling storm = %v, want the floor 2", r20)
	}
	// Recovery: +2/s, capped at the configured rate.
	if r := l.RateAt(sec(22)); math.Abs(r-(r20+4)) > 1e-9 {
		t.Fatalf("rate 2 s after the last throttling = %v, want %v", r, r20+4)
	}
	if r := l.RateAt(sec(20 + 9)); r != 20 {
		t.Fatalf("rate 9 s after the last throttling = %v, want back to 20", r)
	}
	if r := l.RateAt(sec(60)); r != 20 {
		t.Fatalf("rate much later = %v, want 20 and no more", r)
	}
	// The bucket itself follows: from 2/s recovering by 2/s², 5 s of
	// requests get about 2×5 + 25 = 35 tokens, not the 100 of 20/s.
	for i := 100; i <= 120; i++ {
		l.Throttled(sec(float64(i)))
	}
	if n := grants(l, sec(120), 5*time.Second, 10*time.Millisecond); n < 30 || n > 40 {
		t.Fatalf("granted %d in 5 s while recovering from 2/s, want about 35", n)
	}

	// Without adaptive pacing, throttling changes nothing.
	s := NewLimiter(LimiterConfig{RequestsPerSecond: 20, Burst: 20})
	s.Throttled(t0)
	if r, tok := s.RateAt(t0), s.TokensAt(t0); r != 20 || tok != 20 {
		t.Fatalf("non-adaptive limiter after throttling: rate %v, tokens %v", r, tok)
	}
}

func TestAdaptiveFloor(t *testing.T) {
	for _, tc := range []struct{ rate, floor float64 }{{100, 10}, {20, 2}, {3, 0.5}, {0.3, 0.3}} {
		l := NewLimiter(LimiterConfig{RequestsPerSecond: tc.rate, Burst: 1, Adaptive: true})
		t0 := time.Now()
		for i := range 20 {
			l.Throttled(t0.Add(time.Duration(i) * ThrottleHoldoff))
		}
		if r := l.RateAt(t0.Add(19 * ThrottleHoldoff)); math.Abs(r-tc.floor) > tc.floor/1000 {
			t.Errorf("configured %v: floor %v, want %v", tc.rate, r, tc.floor)
		}
	}
}

func TestReconfigureKeepsSlowdown(t *testing.T) {
	t0 := time.Now()
	l := NewLimiter(LimiterConfig{RequestsPerSecond: 20, Burst: 20, Adaptive: true})
	l.Throttled(t0)
	l.Reconfigure(t0, LimiterConfig{RequestsPerSecond: 30, Burst: 30, Adaptive: true})
	if r := l.RateAt(t0); r != 10 {
		t.Fatalf("raising the configured rate must not end the slowdown at once: %v, want 10", r)
	}
	if r := l.RateAt(t0.Add(time.Second)); r != 13 {
		t.Fatalf("recovery after raising the rate: %v, want 10 + 10%% of 30", r)
	}
	l.Reconfigure(t0, LimiterConfig{RequestsPerSecond: 4, Burst: 4, Adaptive: true})
	if r := l.RateAt(t0); r != 4 {
		t.Fatalf("after lowering the configured rate below the adaptive one: %v, want 4", r)
	}
	l.Throttled(t0.Add(time.Second))
	l.Reconfigure(t0, LimiterConfig{RequestsPerSecond: 20, Burst: 20})
	if r := l.RateAt(t0.Add(time.Second)); r != 20 {
		t.Fatalf("turning adaptive pacing off: %v, want the configured 20", r)
	}
}
