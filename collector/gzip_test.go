package collector

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// TestGzipNegotiation: gzip only when the client gives it a weight above
// zero, explicitly or through "*" (RFC 9110, 12.5.3); "gzip;q=0" means
// "never gzip", whatever comes after the semicolon.
func TestGzipNegotiation(t *testing.T) {
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{{EnterpriseID: 1, TaskID: 1}: smallAnswer()}}
	src := func() Scrape { return Scrape{API: api, Tasks: []Task{{EnterpriseID: 1, TaskID: 1}}} }
	h := Handler(src, prometheus.NewRegistry(), HandlerOptions{})
	for header, want := range map[string]bool{
		"":                          false,
		"gzip":                      true,
		"GZip":                      true,
		"x-gzip":                    true,
		"gzip;q=0":                  false,
		"gzip; q=0":                 false,
		"gzip;Q=0.000":              false,
		"gzip;q=0.001":              true,
		"gzip;q=1.000":              true,
		"deflate, gzip;q=0":         false,
		"gzip;q=0, *":               false, // the explicit weight wins over *
		"*":                         true,
		"*;q=0":                     false,
		"identity, *;q=0":           false,
		"deflate, *;q=0.5":          true,
		"deflate;q=0.5, GZIP;q=1":   true,
		"br, zstd":                  false,
		"gzip;q=2":                  false, // not a weight: ignored
		"gzip;q=abc":                false,
		"gzip;level=1;q=0":          false,
		"gzip;q=0.5;foo=bar":        true,
		" , ,gzip ":                 true,
		"gzipx":                     false,
		"identity;q=0, gzip;q=0.1 ": true,
	} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if header != "" {
			req.Header.Set("Accept-Encoding", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != want || rec.Code != http.StatusOK {
			t.Errorf("Accept-Encoding %q: gzip %v (status %d), want %v", header, got, rec.Code, want)
		}
	}
}
