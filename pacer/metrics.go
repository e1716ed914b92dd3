package pacer

import "time"

// Metrics receives what the pacer does. apimetrics.Metrics implements
// it, registered once per process next to dyvms_api_requests_total; the
// pacer itself registers nothing, so building a Pacer on every reload is
// free of duplicate-registration trouble. Codes passed in come from
// ErrorCode; implementations still bound them before using them as labels.
type Metrics interface {
	// Call is one executed call (not a cache hit, not a coalesced
	// waiter) and its final outcome after retries.
	Call(operation, code string)
	// Retry is one retry sent, after a failure with code.
	Retry(operation, code string)
	// Throttled is one throttled answer.
	Throttled(operation string)
	// LimiterWait is the time one granted request waited for its token.
	LimiterWait(operation string, d time.Duration)
	// Coalesced is one caller served by another caller's in-flight call.
	Coalesced(operation string)
	// CacheHit is one caller served an answer younger than MinInterval.
	CacheHit(operation string)
	// SetRateSource says where to read the rate in force; the most recent
	// Pacer (that of the configuration in force) wins.
	SetRateSource(func() float64)
}

type nopMetrics struct{}

func (nopMetrics) Call(string, string)               {}
func (nopMetrics) Retry(string, string)              {}
func (nopMetrics) Throttled(string)                  {}
func (nopMetrics) LimiterWait(string, time.Duration) {}
func (nopMetrics) Coalesced(string)                  {}
func (nopMetrics) CacheHit(string)                   {}
func (nopMetrics) SetRateSource(func() float64)      {}
