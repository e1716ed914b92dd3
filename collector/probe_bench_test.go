package collector_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/collector"
)

// BenchmarkProbe50AgentsGzip: one task of 50 agents through Handler,
// gzipped, as /probe answers Prometheus.
func BenchmarkProbe50AgentsGzip(b *testing.B) {
	api := decodingAPI{answerWithAgents(b, 50)}
	tasks := []collector.Task{{EnterpriseID: 7000002, TaskID: 19}}
	h := collector.Handler(func() collector.Scrape { return collector.Scrape{API: api, Tasks: tasks, Concurrency: 1} }, prometheus.NewRegistry(), collector.HandlerOptions{})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/probe", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	}
}
