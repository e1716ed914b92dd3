package service

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// holdTransport holds every API request until released, after telling
// held about it.
type holdTransport struct {
	held    chan struct{}
	release chan struct{}
}

func (h *holdTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.held <- struct{}{}
	<-h.release
	return http.DefaultTransport.RoundTrip(r)
}

// TestMaxRequests: with --web.max-requests=2, two scrapes in progress
// (one /metrics, one /probe) make a third, on either path, answered 503 at
// once, counted by path, without an API call; health and the exporter's
// own metrics are never limited; once a scrape ends, the next is served.
func TestMaxRequests(t *testing.T) {
	e := newTestEnv(t, "tasks:\n  - {enterprise_id: 8000001, task_id: 1}\n", HTTPOptions{})
	tr := &holdTransport{held: make(chan struct{}, 16), release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	svc, err := New(Options{ConfigFile: e.cfgPath, Registerer: reg, Gatherer: reg, HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.Handler(HTTPOptions{MaxRequests: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		return rec
	}
	const probe = "/probe?enterprise_id=8000001&task_id=2" // not the task of /metrics: no coalescing
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for _, target := range []string{"/metrics", probe} {
		wg.Add(1)
		go func() { defer wg.Done(); codes <- serve(target).Code }()
		<-tr.held // the scrape is in progress, its API request held
	}
	for _, target := range []string{"/metrics", probe, "/metrics"} {
		answered := make(chan *httptest.ResponseRecorder, 1)
		go func() { answered <- serve(target) }()
		select {
		case rec := <-answered:
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "--web.max-requests") {
				t.Fatalf("%s beyond the limit: %d %s, want 503 naming --web.max-requests", target, rec.Code, rec.Body)
			}
		case <-time.After(5 * time.Second):
			close(tr.release) // let the waiting scrape end with the test
			t.Fatalf("%s beyond the limit was not refused at once: still waiting after 5 s", target)
		}
	}
	select {
	case <-tr.held:
		t.Fatal("a refused scrape made an API request")
	default:
	}
	for _, target := range []string{"/-/healthy", ExporterMetricsPath} {
		if rec := serve(target); rec.Code != http.StatusOK {
			t.Errorf("%s while the scrapes are at the limit: %d, want 200 (not limited)", target, rec.Code)
		}
	}
	if got := testutil.ToFloat64(svc.scrapesRejected.WithLabelValues("/metrics")); got != 2 {
		t.Errorf("rejected /metrics %v, want 2", got)
	}
	if got := testutil.ToFloat64(svc.scrapesRejected.WithLabelValues(ProbePath)); got != 1 {
		t.Errorf("rejected /probe %v, want 1", got)
	}
	close(tr.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a scrape within the limit answered %d", c)
		}
	}
	if rec := serve("/metrics"); rec.Code != http.StatusOK {
		t.Errorf("after the scrapes ended: %d, want 200", rec.Code)
	}
}

// Zero means no limit: many scrapes at once are all served.
func TestMaxRequestsZeroIsUnlimited(t *testing.T) {
	e := newTestEnv(t, "tasks:\n  - {enterprise_id: 8000001, task_id: 1}\n", HTTPOptions{MaxRequests: 0})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, _ := e.get("/metrics", nil); code != http.StatusOK {
				t.Errorf("scrape answered %d with no limit", code)
			}
		}()
	}
	wg.Wait()
	if n := testutil.CollectAndCount(e.svc.scrapesRejected); n != 0 {
		t.Errorf("%d rejected-scrape series with no limit, want none", n)
	}
}
