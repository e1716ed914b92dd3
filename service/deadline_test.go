package service

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// deadlineTransport records the deadline of every API request (the
// pacer's call deadline: the request's context has none, see
// pacer.CallDeadline), then sends it on to the simulator.
type deadlineTransport struct {
	mu        sync.Mutex
	deadlines []time.Time
}

func (d *deadlineTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	dl, ok := pacer.CallDeadline(r.Context())
	d.mu.Lock()
	if ok {
		d.deadlines = append(d.deadlines, dl)
	} else {
		d.deadlines = append(d.deadlines, time.Time{})
	}
	d.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (d *deadlineTransport) take() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.deadlines
	d.deadlines = nil
	return out
}

// TestScrapeDeadlineThroughHandlers: /metrics and /probe give their API
// requests the budget of the scrape-timeout header (less the offset, at
// most --scrape.max-timeout; an unusable header gets the default), counted
// from the request's arrival. A handler that ignored the header, or a
// route that skipped the cap, fails here; the bracket is exact under load.
func TestScrapeDeadlineThroughHandlers(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	tr := &deadlineTransport{}
	reg := prometheus.NewRegistry()
	svc, err := New(Options{ConfigFile: e.cfgPath, Registerer: reg, Gatherer: reg, HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 40 * time.Second
	e.handler, err = svc.Handler(HTTPOptions{TimeoutOffset: 500 * time.Millisecond, MaxScrapeTimeout: limit}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/metrics", "/probe?enterprise_id=8000001&task_id=1"} {
		for _, c := range []struct {
			header string
			budget time.Duration
		}{
			{"", collector.DefaultScrapeTimeout},
			{"Inf", collector.DefaultScrapeTimeout},
			{"1e10", collector.DefaultScrapeTimeout},
			{"0", collector.DefaultScrapeTimeout},
			{"7", 6500 * time.Millisecond},
			{"0.5", 250 * time.Millisecond},
			{"600", limit},
		} {
			h := http.Header{}
			if c.header != "" {
				h.Set("X-Prometheus-Scrape-Timeout-Seconds", c.header)
			}
			before := time.Now()
			code, _, body := e.get(path, h)
			after := time.Now()
			if code != http.StatusOK || !strings.Contains(body, `dyvms_task_scrape_success{enterprise_id="8000001",task_id="1"} 1`) {
				t.Errorf("%s, header %q: %d\n%s", path, c.header, code, body)
			}
			dls := tr.take()
			if len(dls) == 0 {
				t.Fatalf("%s, header %q: no API request", path, c.header)
			}
			for _, dl := range dls {
				if dl.Before(before.Add(c.budget)) || dl.After(after.Add(c.budget)) {
					t.Errorf("%s, header %q: an API request's deadline is %v after the scrape began, want %v", path, c.header, dl.Sub(before), c.budget)
				}
			}
		}
	}
}
