package collector

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// DefaultScrapeTimeout applies when a request carries no
// X-Prometheus-Scrape-Timeout-Seconds header (a person with curl, say).
const DefaultScrapeTimeout = 10 * time.Second

// Scrape is what one scrape needs: the tasks to read and the client to read
// them with. A Source hands out the current one, so a reload takes effect at
// the next scrape and a running scrape finishes with what it started with.
type Scrape struct {
	API         MonitorAPI
	Tasks       []Task
	Concurrency int
	Metrics     Selection // which families; the zero value builds all
}

// Source returns the Scrape to run now.
type Source func() Scrape

// HandlerOptions tune Handler.
type HandlerOptions struct {
	// TimeoutOffset is kept back from Prometheus' scrape timeout so the
	// answer is written before Prometheus gives up on it.
	TimeoutOffset time.Duration
	Logger        log.Logger
	OnError       ErrorReporter
	OnSuccess     func(Task)
}

// Handler serves one scrape: whatever the long-lived gatherer holds (API
// counters, build info, Go runtime), then every task's metrics written
// straight to the response (see Exporter.WriteText). A failed task never
// fails the HTTP answer. The answer is the text format, gzipped when the
// client accepts it, as Prometheus does.
func Handler(src Source, global prometheus.Gatherer, o HandlerOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ScrapeTimeout(r, o.TimeoutOffset))
		defer cancel()
		s := src()
		e := New(ctx, s.API, s.Tasks, Options{Concurrency: s.Concurrency, Logger: o.Logger, OnError: o.OnError, OnSuccess: o.OnSuccess, Metrics: s.Metrics})

		mfs, err := global.Gather()
		if err != nil {
			// A broken process metric must not hide the call centre: log and go on.
			level.Error(o.Logger).Log("msg", "error gathering process metrics", "err", err)
		}
		w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		if gzipAccepted(r) {
			// Rendered and compressed while the tasks are fetched; what
			// is left now is to send the compressed bytes.
			parts, n := e.compressedAnswer(mfs, o.Logger)
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
		enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				level.Debug(o.Logger).Log("msg", "error writing metrics", "err", err)
				return
			}
		}
		if err := e.WriteText(w); err != nil {
			level.Debug(o.Logger).Log("msg", "error writing metrics", "err", err)
		}
	})
}

func gzipAccepted(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(enc, "gzip") {
			return true
		}
	}
	return false
}

// ScrapeTimeout is Prometheus' scrape timeout minus offset, or
// DefaultScrapeTimeout when the header is missing or unusable.
func ScrapeTimeout(r *http.Request, offset time.Duration) time.Duration {
	v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	if v == "" {
		return DefaultScrapeTimeout
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 {
		return DefaultScrapeTimeout
	}
	d := time.Duration(secs*float64(time.Second)) - offset
	if d <= 0 {
		// A timeout smaller than the offset still deserves an attempt.
		d = time.Duration(secs * float64(time.Second) / 2)
	}
	return d
}
