package collector_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/collector"
)

// BenchmarkScrape100Tasks20Agents: a small /metrics answer (100 tasks of
// 20 agents, 37,000 series), gzipped, with its peak heap: what a
// per-family compressor would cost a small scrape (docs/benchmarks.md).
func BenchmarkScrape100Tasks20Agents(b *testing.B) {
	api := decodingAPI{answerWithAgents(b, 20)}
	tasks := make([]collector.Task, 100)
	for i := range tasks {
		tasks[i] = collector.Task{EnterpriseID: 7000000 + int64(i%10), TaskID: int64(i)}
	}
	h := collector.Handler(func() collector.Scrape { return collector.Scrape{API: api, Tasks: tasks, Concurrency: 8} }, prometheus.NewRegistry(), collector.HandlerOptions{})
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		runtime.GC()
		p := peakHeap(func() {
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
