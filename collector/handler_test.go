package collector

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{{1, 1}: smallAnswer(), {1, 2}: smallAnswer()}}
	src := func() Scrape { return Scrape{API: api, Tasks: []Task{{1, 1}, {1, 2}}} }
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

func TestScrapeTimeout(t *testing.T) {
	for _, c := range []struct {
		header string
		want   time.Duration
	}{
		{"", DefaultScrapeTimeout},
		{"abc", DefaultScrapeTimeout},
		{"-1", DefaultScrapeTimeout},
		{"10", 9500 * time.Millisecond},
		{"2.5", 2 * time.Second},
		{"0.4", 200 * time.Millisecond}, // shorter than the offset: half of it
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		if c.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", c.header)
		}
		if got := ScrapeTimeout(r, 500*time.Millisecond); got != c.want {
			t.Errorf("header %q: timeout %v, want %v", c.header, got, c.want)
		}
	}
}
