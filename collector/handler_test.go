package collector

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// TestHandlerGzip: gzip when asked (twice, so a recycled compressor is
// used), plain text otherwise, and both parse to the same families.
func TestHandlerGzip(t *testing.T) {
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 1, TaskID: 1}: smallAnswer(), {EnterpriseID: 1, TaskID: 2}: smallAnswer()}}
	src := func() Scrape {
		return Scrape{API: api, Tasks: []Task{{EnterpriseID: 1, TaskID: 1}, {EnterpriseID: 1, TaskID: 2}}}
	}
	h := Handler(src, prometheus.NewRegistry(), HandlerOptions{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	// A transport that does not decompress on its own.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}

	fetch := func(encoding string) (string, string) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Get("Content-Encoding"), string(b)
	}
	count := func(text string) int {
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
		if err != nil {
			t.Fatalf("answer does not parse: %v", err)
		}
		n := 0
		for _, mf := range mfs {
			n += len(mf.Metric)
		}
		return n
	}
	enc1, z1 := fetch("gzip, deflate")
	enc2, z2 := fetch("deflate;q=0.5, GZIP;q=1")
	enc3, plain := fetch("")
	if enc1 != "gzip" || enc2 != "gzip" || enc3 != "" {
		t.Fatalf("Content-Encoding = %q, %q, %q; want gzip, gzip, none", enc1, enc2, enc3)
	}
	n1, n2, n3 := count(z1), count(z2), count(plain)
	if n1 != n2 || n1 != n3 || n1 < 80 {
		t.Errorf("samples: gzip %d, gzip again %d, plain %d", n1, n2, n3)
	}
}

// TestScrapeTimeout: the budget's boundaries. Around the offset (500 ms
// here) the budget is half the timeout up to 2×offset and timeout-offset
// above, never zero; every header that is not a finite positive number of
// seconds gets the default; nothing exceeds the cap.
func TestScrapeTimeout(t *testing.T) {
	const offset, limit = 500 * time.Millisecond, 2 * time.Minute
	for _, c := range []struct {
		header string
		want   time.Duration
	}{
		{"", DefaultScrapeTimeout},
		{"abc", DefaultScrapeTimeout},
		{"10s", DefaultScrapeTimeout},
		{"-1", DefaultScrapeTimeout},
		{"0", DefaultScrapeTimeout},
		{"-0", DefaultScrapeTimeout},
		{"NaN", DefaultScrapeTimeout},
		{"Inf", DefaultScrapeTimeout},
		{"+Inf", DefaultScrapeTimeout},
		{"-Inf", DefaultScrapeTimeout},
		{"1e10", DefaultScrapeTimeout}, // beyond what a time.Duration holds
		{"1e300", DefaultScrapeTimeout},
		{"1e-300", DefaultScrapeTimeout}, // under a nanosecond
		{"10", 9500 * time.Millisecond},
		{"2.5", 2 * time.Second},
		{"1.001", 501 * time.Millisecond}, // just above 2×offset: timeout-offset
		{"1", 500 * time.Millisecond},     // 2×offset: both rules agree
		{"0.999", 499500 * time.Microsecond},
		{"0.501", 250500 * time.Microsecond}, // just above the offset: half, not 1 ms
		{"0.5", 250 * time.Millisecond},      // equal to the offset: half, not zero
		{"0.4", 200 * time.Millisecond},      // shorter than the offset: half
		{"0.000000001", time.Nanosecond},     // the least budget there is, not zero
		{"119", 118500 * time.Millisecond},
		{"120.5", limit}, // 120 s after the offset: exactly the cap
		{"300", limit},
		{"1e9", limit}, // finite and representable: capped, not defaulted
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		if c.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", c.header)
		}
		if got := ScrapeTimeout(r, offset, limit); got != c.want {
			t.Errorf("header %q: budget %v, want %v", c.header, got, c.want)
		}
	}
	// The cap also bounds the default, and a zero cap means the default cap.
	r := httptest.NewRequest("GET", "/metrics", nil)
	if got := ScrapeTimeout(r, offset, 3*time.Second); got != 3*time.Second {
		t.Errorf("no header, cap 3s: %v", got)
	}
	r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "1e6")
	if got := ScrapeTimeout(r, offset, 0); got != DefaultMaxScrapeTimeout {
		t.Errorf("cap 0: %v, want %v", got, DefaultMaxScrapeTimeout)
	}
	// A negative offset does not lengthen the timeout.
	r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "4")
	if got := ScrapeTimeout(r, -time.Second, limit); got != 4*time.Second {
		t.Errorf("offset -1s: %v, want 4s", got)
	}
}

// deadlineAPI records the deadline of every call it gets and answers it.
type deadlineAPI struct {
	mu        sync.Mutex
	deadlines []time.Time
}

func (d *deadlineAPI) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		return nil, errors.New("call without a deadline")
	}
	d.mu.Lock()
	d.deadlines = append(d.deadlines, dl)
	d.mu.Unlock()
	return smallAnswer(), nil
}

// TestHandlerDeadline: the deadline the API call gets is the budget that
// ScrapeTimeout computes from the request's header, counted from when the
// request came in, through the handler (not only the parsing function).
// The bracket [before+budget, after+budget] is exact, whatever the load.
func TestHandlerDeadline(t *testing.T) {
	const offset, limit = 500 * time.Millisecond, 30 * time.Second
	for _, c := range []struct {
		header string
		budget time.Duration
	}{
		{"", DefaultScrapeTimeout},
		{"Inf", DefaultScrapeTimeout},
		{"1e300", DefaultScrapeTimeout},
		{"NaN", DefaultScrapeTimeout},
		{"-1", DefaultScrapeTimeout},
		{"7", 6500 * time.Millisecond},
		{"0.5", 250 * time.Millisecond},
		{"3600", limit},
	} {
		api := &deadlineAPI{}
		src := func() Scrape { return Scrape{API: api, Tasks: []Task{{EnterpriseID: 1, TaskID: 1}}} }
		h := Handler(src, prometheus.NewRegistry(), HandlerOptions{TimeoutOffset: offset, MaxTimeout: limit})
		r := httptest.NewRequest("GET", "/metrics", nil)
		if c.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", c.header)
		}
		rec := httptest.NewRecorder()
		before := time.Now()
		h.ServeHTTP(rec, r)
		after := time.Now()
		if len(api.deadlines) != 1 {
			t.Fatalf("header %q: %d calls", c.header, len(api.deadlines))
		}
		if dl := api.deadlines[0]; dl.Before(before.Add(c.budget)) || dl.After(after.Add(c.budget)) {
			t.Errorf("header %q: the call's deadline is %v after the request, want %v", c.header, dl.Sub(before), c.budget)
		}
		if !strings.Contains(rec.Body.String(), `dyvms_task_scrape_success{enterprise_id="1",task_id="1"} 1`) {
			t.Errorf("header %q: the task failed:\n%s", c.header, rec.Body.String())
		}
	}
}

// countingAPI counts its calls in a counter of the process-wide registry,
// as apimetrics counts the requests of a scrape.
type countingAPI struct {
	MonitorAPI
	calls prometheus.Counter
}

func (c countingAPI) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	c.calls.Inc()
	return c.MonitorAPI.CloudMonitorTask(ctx, e, t)
}

// TestSelfMetricsIncludeThisScrape: the process-wide metrics of an answer
// are gathered after its tasks were read, so a counter of API requests
// includes this scrape's own (one per task), on every path of the
// handler: plain text, gzip of several tasks (assembled during the
// fetch), gzip of one task. They used to be gathered first, one scrape
// behind: a person testing with curl saw the counter lag.
func TestSelfMetricsIncludeThisScrape(t *testing.T) {
	for _, c := range []struct {
		name     string
		tasks    []Task
		encoding string
	}{
		{"plain", []Task{{EnterpriseID: 1, TaskID: 1}, {EnterpriseID: 1, TaskID: 2}}, ""},
		{"gzip, several tasks", []Task{{EnterpriseID: 1, TaskID: 1}, {EnterpriseID: 1, TaskID: 2}}, "gzip"},
		{"gzip, one task", []Task{{EnterpriseID: 1, TaskID: 1}}, "gzip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			calls := prometheus.NewCounter(prometheus.CounterOpts{Name: "dyvms_api_requests_total", Help: "Requests."})
			reg.MustRegister(calls)
			api := countingAPI{MonitorAPI: &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{
				{EnterpriseID: 1, TaskID: 1}: smallAnswer(), {EnterpriseID: 1, TaskID: 2}: smallAnswer()}}, calls: calls}
			h := Handler(func() Scrape { return Scrape{API: api, Tasks: c.tasks} }, reg, HandlerOptions{})
			for scrape := 1; scrape <= 2; scrape++ {
				r := httptest.NewRequest("GET", "/metrics", nil)
				if c.encoding != "" {
					r.Header.Set("Accept-Encoding", c.encoding)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				var body io.Reader = rec.Body
				if rec.Header().Get("Content-Encoding") == "gzip" {
					zr, err := gzip.NewReader(rec.Body)
					if err != nil {
						t.Fatal(err)
					}
					body = zr
				}
				p := expfmt.NewTextParser(model.UTF8Validation)
				mfs, err := p.TextToMetricFamilies(body)
				if err != nil {
					t.Fatal(err)
				}
				mf := mfs["dyvms_api_requests_total"]
				if mf == nil {
					t.Fatal("no dyvms_api_requests_total in the answer")
				}
				if got, want := mf.GetMetric()[0].GetCounter().GetValue(), float64(scrape*len(c.tasks)); got != want {
					t.Errorf("scrape %d: dyvms_api_requests_total %v, want %v (this scrape's requests included)", scrape, got, want)
				}
			}
		})
	}
}
