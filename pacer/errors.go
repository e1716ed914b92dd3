package pacer

import (
	"errors"
	"strings"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// CodeRateLimited is what ErrorCode says for a *RateLimitError: a request
// the exporter did not send because its own limiter had no token in time.
const CodeRateLimited = "rate_limited"

// ErrRateLimited matches every *RateLimitError with errors.Is.
var ErrRateLimited = errors.New("rate limited by the exporter")

// RateLimitError is the pacer refusing to send a request: the rate limiter
// would grant the next token only after the caller's deadline (less
// MinAttemptTime). Nothing was sent. It is neither retryable within the
// same call nor a configuration error as such, but if it shows up on every
// scrape, api.requests_per_second is too low for the number of tasks and
// the scrape timeout (or the server is throttling and adaptive pacing has
// lowered the rate).
type RateLimitError struct {
	Operation string
	// Wait is how long the next token was away; Left how long the caller
	// had before its deadline.
	Wait, Left time.Duration
}

func (e *RateLimitError) Error() string {
	return "dyvmsapi " + e.Operation + ": not sent: the exporter's rate limiter allows the next request in " +
		e.Wait.Round(time.Millisecond).String() + ", but only " + e.Left.Round(time.Millisecond).String() +
		" are left before the deadline (api.requests_per_second and api.burst, lowered for a while after throttling)"
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// ErrorCode is apiclient.ErrorCode plus CodeRateLimited for the pacer's own
// refusals; the result is as bounded as apiclient's and fit for a label.
func ErrorCode(err error) string {
	if errors.Is(err, ErrRateLimited) {
		return CodeRateLimited
	}
	return apiclient.ErrorCode(err)
}

// IsThrottling reports whether err is the server asking us to slow down:
// a Throttling* code, VMS's own flow-control code, or HTTP 429 without a
// code.
func IsThrottling(err error) bool {
	if err == nil {
		return false
	}
	code := apiclient.ErrorCode(err)
	return code == "Throttling" || strings.HasPrefix(code, "Throttling.") ||
		code == "isv.BUSINESS_LIMIT_CONTROL" || code == "http_429"
}

// retryAfter is the server's minimum wait hint carried by err, if any.
func retryAfter(err error) time.Duration {
	var ae *apiclient.Error
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}
