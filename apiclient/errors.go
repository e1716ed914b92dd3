package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is an answer of the API that failed: a Code other than "OK" (even
// with HTTP 200, which the vendor uses for business errors), or an HTTP
// error status without a readable Code. Callers decide on Code, not on
// HTTPStatus: the vendor's pages disagree on the statuses.
type Error struct {
	Operation  string
	HTTPStatus int
	Code       string // empty when the body carried none (a proxy's error page)
	Message    string
	RequestID  string
	HostID     string
	Recommend  string
	// RetryAfter is the server's hint from the TimeLeft of its
	// x-ratelimit-user-api / x-ratelimit-user headers (milliseconds there,
	// as in the official SDK), or a standard Retry-After; zero when absent.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dyvmsapi ")
	b.WriteString(e.Operation)
	b.WriteString(": ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	var details []string
	if e.Code != "" && e.HTTPStatus != 0 {
		details = append(details, "HTTP "+strconv.Itoa(e.HTTPStatus))
	}
	if e.RequestID != "" {
		details = append(details, "RequestId "+e.RequestID)
	}
	if e.RetryAfter > 0 {
		details = append(details, "retry after "+e.RetryAfter.String())
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, ", ") + ")")
	}
	if hint := configHint(e.Code); hint != "" {
		b.WriteString("; configuration problem: ")
		b.WriteString(hint)
	}
	return b.String()
}

// Classes that ErrorCode reports for failures without an API Code. They
// are few and fixed so that they can serve as a metric label.
const (
	classTimeout         = "timeout"
	classCanceled        = "canceled"
	classNetwork         = "network"
	classBadResponse     = "bad_response"
	classBodyTooLarge    = "body_too_large"
	classCredentials     = "credentials"
	classInvalidArgument = "invalid_argument"
	classOther           = "other"
)

// requestError is a failure that produced no API Code: the request could
// not be built or sent, or the answer could not be read.
type requestError struct {
	Operation string
	class     string
	msg       string
	retryable bool
	config    bool
	err       error // for errors.Is(context.DeadlineExceeded) and friends
}

func (e *requestError) Error() string {
	s := "dyvmsapi " + e.Operation + ": " + e.msg
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *requestError) Unwrap() error { return e.err }

var retryableCodes = map[string]bool{
	"Throttling":                 true,
	"Throttling.User":            true,
	"Throttling.Api":             true,
	"ServiceUnavailable":         true,
	"InternalError":              true,
	"SignatureNonceUsed":         true, // every attempt carries a fresh nonce
	"isv.BUSINESS_LIMIT_CONTROL": true,
	"isp.SYSTEM_ERROR":           true,
}

// IsRetryable reports whether the same call may succeed if repeated soon:
// throttling, transient server faults, and network failures or timeouts of
// a single attempt. The expiry or cancellation of the caller's context is
// not retryable: there is no time left to retry in.
func IsRetryable(err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		if ae.Code == "" {
			return ae.HTTPStatus >= 500 || ae.HTTPStatus == http.StatusTooManyRequests
		}
		return retryableCodes[ae.Code] || strings.HasPrefix(ae.Code, "Throttling.")
	}
	var re *requestError
	if errors.As(err, &re) {
		return re.retryable
	}
	return false
}

const (
	hintKeyID      = "the access key id is unknown or disabled"
	hintSecret     = "the access key secret does not match the access key id"
	hintPermission = "the RAM policy of the access key does not allow this call"
	hintParameter  = "a parameter was rejected; check enterprise and task ids"
	hintToken      = "the STS security token is invalid or expired"
)

var configCodes = map[string]string{
	"InvalidAccessKeyId":       hintKeyID,
	"SignatureDoesNotMatch":    hintSecret,
	"IncompleteSignature":      "the request signature was rejected; check the access key",
	"InvalidParameter":         hintParameter,
	"InvalidTimeStamp.Expired": "the local clock is more than 15 minutes off; run NTP",
	"Forbidden":                hintPermission,
	"NoPermission":             hintPermission,
	"isp.RAM_PERMISSION_DENY":  hintPermission,
	"isv.INVALID_PARAMETERS":   hintParameter,
	"isv.PRODUCT_UNSUBSCRIBE":  "the account has not activated Voice Messaging Service",
	"InvalidAction.NotFound":   "the endpoint does not offer this API; check the endpoint",
	"InvalidSecurityToken":     hintToken,
}

// configPrefixes are code families whose members all mean "fix the
// configuration": InvalidAccessKeyId.NotFound, Forbidden.RAM,
// MissingParameter, MissingTaskId, ...
var configPrefixes = []struct{ prefix, hint string }{
	{"InvalidAccessKeyId.", hintKeyID},
	{"Forbidden.", hintPermission},
	{"InvalidParameter.", hintParameter},
	{"InvalidSecurityToken.", hintToken},
	{"Missing", "a required parameter is missing; check enterprise and task ids"},
}

func configHint(code string) string {
	if code == "" {
		return ""
	}
	if h, ok := configCodes[code]; ok {
		return h
	}
	for _, p := range configPrefixes {
		if strings.HasPrefix(code, p.prefix) {
			return p.hint
		}
	}
	return ""
}

// IsConfigError reports whether retrying cannot help until someone fixes
// the configuration: credentials, permissions, parameters, clock.
func IsConfigError(err error) bool {
	var ae *Error
	if errors.As(err, &ae) {
		return configHint(ae.Code) != ""
	}
	var re *requestError
	if errors.As(err, &re) {
		return re.config
	}
	return false
}

// maxCodeLen bounds an API Code used as a label value; real codes are
// well under it.
const maxCodeLen = 64

// ErrorCode returns a short, bounded string for err, fit for a metric
// label: "OK" for nil, the API Code when there is one, otherwise one of
// timeout, canceled, network, bad_response, body_too_large, http_<status>,
// credentials, invalid_argument, other.
func ErrorCode(err error) string {
	if err == nil {
		return "OK"
	}
	var ae *Error
	if errors.As(err, &ae) {
		if ae.Code != "" {
			return sanitizeCode(ae.Code)
		}
		if ae.HTTPStatus >= 100 && ae.HTTPStatus <= 999 {
			return "http_" + strconv.Itoa(ae.HTTPStatus)
		}
		return classBadResponse
	}
	var re *requestError
	if errors.As(err, &re) {
		return re.class
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return classTimeout
	case errors.Is(err, context.Canceled):
		return classCanceled
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return classTimeout
		}
		return classNetwork
	}
	return classOther
}

// sanitizeCode keeps a server-chosen Code from smuggling odd bytes or
// length into a label.
func sanitizeCode(code string) string {
	if len(code) > maxCodeLen {
		code = code[:maxCodeLen]
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, code)
}

// maxRetryAfter caps a server's hint so that a bogus TimeLeft cannot park
// a caller for days.
const maxRetryAfter = time.Hour

// retryAfter reads the throttling hint the official SDK reads: the larger
// TimeLeft (milliseconds) of x-ratelimit-user-api and x-ratelimit-user,
// e.g. "Limit:1,Remain:0,TimeLeft:2000,Reset:1234". A standard Retry-After
// in seconds (what a proxy in front may send) is the fallback.
func retryAfter(h http.Header) time.Duration {
	best := int64(-1)
	for _, name := range []string{"x-ratelimit-user-api", "x-ratelimit-user"} {
		if ms, ok := timeLeft(h.Get(name)); ok && ms > best {
			best = ms
		}
	}
	if best < 0 {
		if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("Retry-After")), 10, 64); err == nil && s >= 0 {
			best = min(s, int64(maxRetryAfter/time.Second)) * 1000
		}
	}
	if best <= 0 {
		return 0
	}
	return min(time.Duration(min(best, int64(maxRetryAfter/time.Millisecond)))*time.Millisecond, maxRetryAfter)
}

func timeLeft(v string) (int64, bool) {
	for pair := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(pair, ":")
		if !ok || strings.TrimSpace(k) != "TimeLeft" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}
