package apiclient

import (
	"strconv"
	"strings"
)

// OtherCode is the label value of every outcome not in the known set.
const OtherCode = "other"

// knownCodes are the API's codes a label may carry as they are: those the
// client acts on (retryableCodes, configCodes) and those the README's
// table of codes explains. A server can answer any Code; a label value
// per distinct one would add a series per request for the life of the
// process when a broken or hostile gateway makes a new one each time.
var knownCodes = func() map[string]bool {
	m := map[string]bool{
		"OK":                                         true,
		"InvalidAccessKeyId.NotFound":                true,
		"InvalidAccessKeyId.Inactive":                true,
		"MissingParameter":                           true,
		"Forbidden.RAM":                              true,
		"InvalidSecurityToken.Expired":               true,
		"InvalidSecurityToken.Malformed":             true,
		"InvalidSecurityToken.MismatchWithAccessKey": true,
		"InvalidParameter.EnterpriseId":              true,
		"InvalidParameter.TaskId":                    true,
		"SignatureNonceUsed":                         true,
		// The pacer's own refusal (pacer.CodeRateLimited).
		"rate_limited": true,
	}
	for c := range retryableCodes {
		m[c] = true
	}
	for c := range configCodes {
		m[c] = true
	}
	for _, c := range []string{classTimeout, classCanceled, classNetwork, classBadResponse, classBodyTooLarge, classCredentials, classInvalidArgument, classOther} {
		m[c] = true
	}
	return m
}()

// knownStatuses are the HTTP statuses of answers without a Code that keep
// their own label value (http_<status>): those a proxy or gateway in front
// of the API plausibly sends.
var knownStatuses = map[int]bool{400: true, 401: true, 403: true, 404: true, 405: true, 408: true, 413: true, 429: true,
	500: true, 501: true, 502: true, 503: true, 504: true}

// CodeLabel bounds an outcome (an ErrorCode) for use as a label value: a
// known code or class stays as it is; an unknown member of a family the
// client knows (Forbidden.*, Throttling.*, InvalidAccessKeyId.*,
// InvalidParameter.*, InvalidSecurityToken.*) becomes "<family>.other", so
// that rules matching the family still see it; an unknown status becomes
// http_other; anything else is OtherCode. The set of values is fixed, so
// the series are bounded whatever the server sends; callers log the raw
// code (once per code: package dedup) where they count it.
func CodeLabel(code string) string {
	if knownCodes[code] {
		return code
	}
	if s, ok := strings.CutPrefix(code, "http_"); ok {
		if n, err := strconv.Atoi(s); err == nil && knownStatuses[n] && strconv.Itoa(n) == s {
			return code
		}
		return "http_other"
	}
	for _, family := range []string{"Throttling.", "Forbidden.", "InvalidAccessKeyId.", "InvalidParameter.", "InvalidSecurityToken."} {
		if strings.HasPrefix(code, family) {
			return family + OtherCode
		}
	}
	return OtherCode
}
