package collector

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Scrape budget defaults; see ScrapeTimeout.
const (
	// DefaultScrapeTimeout applies when a request carries no usable
	// X-Prometheus-Scrape-Timeout-Seconds header (a person with curl, say).
	DefaultScrapeTimeout = 10 * time.Second
	// DefaultMaxScrapeTimeout is --scrape.max-timeout's default: the
	// longest a scrape may keep its goroutines, connections and API calls
	// alive whatever the header says. Two minutes is above any scrape
	// timeout Prometheus is usually given (it cannot exceed the scrape
	// interval), and at 20 requests per second it reads 2,400 tasks.
	DefaultMaxScrapeTimeout = 2 * time.Minute
)

// Scrape is what one scrape needs: the tasks to read and the client to read
// them with. A Source hands out the current one, so a reload takes effect at
// the next scrape and a running scrape finishes with what it started with.
type Scrape struct {
	API         MonitorAPI
	Tasks       []Task
	Concurrency int
	Metrics     Selection // which families; the zero value builds all
	// Lanes, when set, give each lane (account) its own concurrency.
	Lanes *Lanes
	// Enterprises are read with Agents for dyvms_enterprise_agents
	// (enterprise.go), alongside the tasks; Metrics says which of their
	// families are written.
	Enterprises []int64
	Agents      OnlineAgentsAPI
}

// Source returns the Scrape to run now.
type Source func() Scrape

// HandlerOptions tune Handler.
type HandlerOptions struct {
	// TimeoutOffset is kept back from Prometheus' scrape timeout so the
	// answer is written before Prometheus gives up on it.
	TimeoutOffset time.Duration
	// MaxTimeout caps the budget (--scrape.max-timeout); zero or less
	// means DefaultMaxScrapeTimeout.
	MaxTimeout   time.Duration
	Logger       log.Logger
	OnError      ErrorReporter
	OnSuccess    func(Task)
	OnUnreadable UnreadableReporter
}

// Handler serves one scrape: whatever the long-lived gatherer holds (API
// counters, build info, Go runtime; gathered once the tasks were read, so
// that they include this scrape's requests), then every task's metrics written
// straight to the response (see Exporter.WriteText). A failed task never
// fails the HTTP answer. The answer is the text format, gzipped when the
// client accepts it, as Prometheus does.
func Handler(src Source, global prometheus.Gatherer, o HandlerOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ScrapeTimeout(r, o.TimeoutOffset, o.MaxTimeout))
		defer cancel()
		s := src()
		e := New(ctx, s.API, s.Tasks, Options{Concurrency: s.Concurrency, Lanes: s.Lanes, Logger: o.Logger, OnError: o.OnError, OnSuccess: o.OnSuccess, OnUnreadable: o.OnUnreadable, Metrics: s.Metrics})

		// The process-wide metrics are gathered after the tasks were
		// read, though written first: the dyvms_api_* counters of an
		// answer then include the requests of this very scrape, rather
		// than lag one scrape behind.
		// The enterprises' online agents are read while the tasks are.
		var entFams []*dto.MetricFamily
		entDone := make(chan struct{})
		go func() {
			defer close(entDone)
			entFams = gatherEnterpriseAgents(ctx, s.Agents, s.Enterprises, s.Metrics, o.Logger)
		}()
		gather := func() []*dto.MetricFamily {
			mfs, err := global.Gather()
			if err != nil {
				// A broken process metric must not hide the call centre: log and go on.
				level.Error(o.Logger).Log("msg", "error gathering process metrics", "err", err)
			}
			<-entDone
			return append(mfs, entFams...)
		}
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		if gzipAccepted(r) {
			// Rendered and compressed while the tasks are fetched; what
			// is left now is to send the compressed bytes.
			parts, n := e.compressedAnswer(gather, o.Logger)
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(n))
			for _, p := range parts {
				if _, err := w.Write(p); err != nil {
					level.Debug(o.Logger).Log("msg", "error writing metrics", "err", err)
					return
				}
			}
			return
		}
		// Plain text: written after the last task answered, from the
		// compact samples, since holding every task's rendered text
		// (80 MiB for 1,000 tasks of 50 agents) would cost more than the
		// formatting it saves.
		results := e.run()
		enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range gather() {
			if err := enc.Encode(mf); err != nil {
				level.Debug(o.Logger).Log("msg", "error writing metrics", "err", err)
				return
			}
		}
		if err := writeText(w, results, e.sel); err != nil {
			level.Debug(o.Logger).Log("msg", "error writing metrics", "err", err)
		}
	})
}

// gzipAccepted tells whether the client gives gzip a weight above zero in
// Accept-Encoding (RFC 9110, 12.5.3): named (gzip, or x-gzip, its old
// name), or else through "*"; "gzip;q=0" is a refusal. A weight that is not
// a number from 0 to 1 with at most three decimals makes its element count
// for nothing: plain text is always a safe answer. Hand-written because
// github.com/munnerz/goautoneg, already a dependency, parses media ranges
// (type/subtype) and skips a bare coding such as gzip.
func gzipAccepted(r *http.Request) bool {
	named, star := -1.0, -1.0
	for _, values := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(values, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "x-gzip" && coding != "*" {
				continue
			}
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				k, v, ok := strings.Cut(param, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					q = qValue(strings.TrimSpace(v))
				}
			}
			if coding == "*" {
				star = max(star, q)
			} else {
				named = max(named, q)
			}
		}
	}
	if named >= 0 {
		return named > 0
	}
	return star > 0
}

// qValue reads a weight ("0", "0.5", "1.000"); anything else is 0.
func qValue(v string) float64 {
	whole, frac, _ := strings.Cut(v, ".")
	if (whole != "0" && whole != "1") || len(frac) > 3 || strings.Trim(frac, "0123456789") != "" {
		return 0
	}
	q, err := strconv.ParseFloat(v, 64)
	if err != nil || q > 1 {
		return 0
	}
	return q
}

// ScrapeTimeout is the budget of one scrape: Prometheus' scrape timeout
// (X-Prometheus-Scrape-Timeout-Seconds) less offset, at most limit (zero
// or less: DefaultMaxScrapeTimeout).
//
// A header that is absent or not a finite positive number of seconds that
// a time.Duration can hold ("abc", "0", "-1", "NaN", "Inf", "1e10",
// "1e300") gets DefaultScrapeTimeout, capped likewise: an unusable value
// must never remove the deadline (before this rule, "Inf" converted to a
// negative duration and wrapped to about 292 years).
//
// The offset takes at most half of the timeout: a timeout of 2×offset or
// less gets half of itself (500 ms with the default 500 ms offset gives
// 250 ms, not zero), so the budget never reaches zero, grows with the
// timeout, and has no jump at 2×offset.
func ScrapeTimeout(r *http.Request, offset, limit time.Duration) time.Duration {
	if limit <= 0 {
		limit = DefaultMaxScrapeTimeout
	}
	secs, err := strconv.ParseFloat(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64)
	// !(secs > 0) also refuses NaN; the upper bound keeps the conversion
	// below from overflowing.
	if err != nil || !(secs > 0) || secs >= math.MaxInt64/float64(time.Second) {
		return min(DefaultScrapeTimeout, limit)
	}
	timeout := time.Duration(math.Round(secs * float64(time.Second)))
	if timeout <= 0 { // under a nanosecond
		return min(DefaultScrapeTimeout, limit)
	}
	half := timeout - timeout/2 // rounded up: at least 1 ns
	return min(max(timeout-max(offset, 0), half), limit)
}
