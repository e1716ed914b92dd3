// Package pacer stands between apiclient and its callers (the collector,
// discovery and the call-record poller), and decides when a request may go
// to the Voice Messaging API: how fast, how often again after a failure,
// and whether it has to go at all. The quota it protects belongs to the
// whole Alibaba Cloud account, is shared by every RAM user, every exporter
// and every Prometheus that scrapes them, and is not published; so the
// pacer errs on the side of asking less.
//
// A Pacer does four things, in this order, for every call:
//
//  1. Reuse. With Config.MinInterval > 0, a successful answer younger than
//     MinInterval is returned again instead of asking (api.min_interval; two
//     Prometheus servers of an HA pair then cost one call per task).
//     Failures are never reused: the next scrape must see a recovery at once.
//  2. Coalescing. Concurrent calls for the same operation and arguments
//     share one in-flight call, and every caller gets its answer if it
//     comes within that caller's own deadline. The shared call is detached
//     from its callers' cancellation and runs until the latest deadline of
//     those still waiting: a caller with more time who joins extends it
//     (even an HTTP request already on the wire), one who gives up stops
//     waiting without failing the others and shortens it to the longest
//     remaining, and when the last has gone the call is cancelled (nobody
//     would read its answer). A call that has ended, or has given up for
//     lack of time (no token or no retry before its deadline), is never
//     joined: the newcomer starts its own, so a caller with a short
//     deadline cannot leave a longer one an outcome it had no part in.
//  3. Rate limiting. Every HTTP attempt, retries included, takes a token
//     from one token bucket per credential (api.requests_per_second,
//     api.burst), shared by every Pacer built for that credential in the
//     process (see Limiters, which survive configuration reloads). When the
//     next token comes too late for the call's deadline, the pacer fails
//     at once with a *RateLimitError (code "rate_limited") instead of
//     waiting for a request that could not finish in time anyway.
//  4. Retries. Only errors apiclient.IsRetryable calls retryable, never a
//     configuration error, up to Config.MaxRetries times, after an
//     exponential backoff with full jitter (BaseBackoff doubling up to
//     MaxBackoff) that is at least the server's TimeLeft hint
//     (apiclient.Error.RetryAfter). A retry that would start after the
//     deadline is not made; the last error is returned instead.
//
// "The deadline" of a call is the latest of its callers' (see 2). No
// request is started later than MinAttemptTime before it: an attempt with
// less time than that cannot get an answer from the real API (100-400 ms
// from outside mainland China), so it would only spend quota.
//
// Adaptive pacing (Limiter with LimiterConfig.Adaptive): a throttled answer
// halves the bucket's rate, at most once per ThrottleHoldoff, down to a
// floor of a tenth of the configured rate (but not below 0.5 requests per
// second unless the configured rate is lower), and empties the bucket so
// that no burst follows. The rate then recovers linearly by a tenth of the
// configured rate per second without throttling: from the floor to the
// configured rate in about nine seconds, i.e. within a scrape interval or
// so. dyvms_api_rate_limit_requests_per_second shows the rate in force.
//
// Answers are shared between the callers of a coalesced call and, with
// MinInterval, between scrapes: treat a returned *CloudMonitorTaskResponse
// as read-only. CloudQueryTask returns each caller its own slice.
//
// Call records (cdr.go) go through the same rate limiting and retries, a
// page at a time, and are neither reused nor coalesced: one poller per
// enterprise asks for them, in windows that move.
package pacer
