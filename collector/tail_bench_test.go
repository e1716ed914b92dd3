package collector_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/collector"
)

// latencyAPI answers after 50 ms, like a far-away API, and notes when the
// last answer of the scrape came.
type latencyAPI struct {
	decodingAPI
	last *atomic.Int64
}

func (l latencyAPI) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	time.Sleep(50 * time.Millisecond)
	r, err := l.decodingAPI.CloudMonitorTask(ctx, e, t)
	l.last.Store(time.Now().UnixNano())
	return r, err
}

// BenchmarkScrapeTail: 1,000 tasks of 50 agents, 50 ms per answer, 64 at
// once. tail-ms is what the scrape still takes after the last task
// answered (rendering, compressing, writing to a discarding socket): the
// serial tail of docs/benchmarks.md.
func BenchmarkScrapeTail(b *testing.B) {
	var last atomic.Int64
	api := latencyAPI{decodingAPI{answerWithAgents(b, 50)}, &last}
	tasks := make([]collector.Task, 1000)
	for i := range tasks {
		tasks[i] = collector.Task{EnterpriseID: 7000000 + int64(i%10), TaskID: int64(i)}
	}
	h := collector.Handler(func() collector.Scrape { return collector.Scrape{API: api, Tasks: tasks, Concurrency: 64} }, prometheus.NewRegistry(), collector.HandlerOptions{})
	for _, enc := range []string{"gzip", "plain"} {
		b.Run(enc, func(b *testing.B) {
			var tail time.Duration
			for b.Loop() {
				req := httptest.NewRequest("GET", "/metrics", nil)
				if enc == "gzip" {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
				tail += time.Since(time.Unix(0, last.Load()))
			}
			b.ReportMetric(float64(tail)/float64(time.Millisecond)/float64(b.N), "tail-ms")
		})
	}
}
