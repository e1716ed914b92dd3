// Package apiclient owns the conversation with the Voice Messaging API
// (dyvmsapi 2017-05-25): signing requests (ACS3-HMAC-SHA256), the calls
// of the operations the exporter makes (Operations), the response types
// and their tolerant decoding, and the typed errors that tell a caller
// whether to retry, fix the configuration, or give up (IsRetryable,
// IsConfigError, ErrorCode, CodeLabel). It knows no metric names and
// makes no decision about pacing: one request per call, never a retry;
// the pacer decides the rest.
package apiclient
