package collector

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

// Handler serves one scrape: the tasks' metrics from a fresh registry plus
// whatever the long-lived gatherer holds (API counters, build info, Go
// runtime). A failed task never fails the HTTP answer.
func Handler(src Source, global prometheus.Gatherer, o HandlerOptions) http.Handler {
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	errLog := promhttpLogger{o.Logger}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ScrapeTimeout(r, o.TimeoutOffset))
		defer cancel()
		s := src()
		reg := prometheus.NewRegistry()
		reg.MustRegister(New(ctx, s.API, s.Tasks, Options{Concurrency: s.Concurrency, Logger: o.Logger, OnError: o.OnError, OnSuccess: o.OnSuccess}))
		promhttp.HandlerFor(prometheus.Gatherers{global, reg}, promhttp.HandlerOpts{
			ErrorLog:      errLog,
			ErrorHandling: promhttp.ContinueOnError,
		}).ServeHTTP(w, r)
	})
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

type promhttpLogger struct{ l log.Logger }

func (p promhttpLogger) Println(v ...interface{}) {
	level.Error(p.l).Log("msg", "error while serving metrics", "err", v)
}
