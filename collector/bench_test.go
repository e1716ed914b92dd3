package collector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/collector"
)

// answerWithAgents is the vendor's example answer grown to n agents.
func answerWithAgents(tb testing.TB, n int) []byte {
	tb.Helper()
	raw, err := os.ReadFile("../apiclient/testdata/cloudmonitortask_example.json")
	if err != nil {
		tb.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		tb.Fatal(err)
	}
	data := doc["Data"].(map[string]any)
	proto := data["AgentStatisticList"].([]any)[0].(map[string]any)
	agents := make([]any, n)
	for i := range agents {
		a := map[string]any{}
		for k, v := range proto {
			a[k] = v
		}
		a["Cno"] = fmt.Sprint(1000 + i)
		a["Name"] = fmt.Sprintf("坐席%d", i)
		agents[i] = a
	}
	data["AgentStatisticList"] = agents
	out, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// decodingAPI decodes the same body on every call, as the real client does
// with each answer, so a benchmark pays decode + mapping + exposition.
type decodingAPI struct{ body []byte }

func (d decodingAPI) CloudMonitorTask(context.Context, int64, int64) (*apiclient.CloudMonitorTaskResponse, error) {
	return apiclient.DecodeCloudMonitorTask(d.body, nil)
}

// BenchmarkDecodeCollect50Agents: one task of 50 agents, from JSON bytes to
// gathered metric families. Target: ≤ 200 µs/op.
func BenchmarkDecodeCollect50Agents(b *testing.B) {
	api := decodingAPI{answerWithAgents(b, 50)}
	tasks := []collector.Task{{EnterpriseID: 7000002, TaskID: 19}}
	b.ReportAllocs()
	for b.Loop() {
		if err := collector.New(context.Background(), api, tasks, collector.Options{}).WriteText(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeCollect50AgentsRegistry is the same through the
// prometheus.Collector interface and a registry (the /probe path).
func BenchmarkDecodeCollect50AgentsRegistry(b *testing.B) {
	api := decodingAPI{answerWithAgents(b, 50)}
	tasks := []collector.Task{{EnterpriseID: 7000002, TaskID: 19}}
	b.ReportAllocs()
	for b.Loop() {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collector.New(context.Background(), api, tasks, collector.Options{}))
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// discardWriter is an http.ResponseWriter that streams to nowhere, as a
// socket would, instead of buffering the whole answer like a recorder.
type discardWriter struct {
	h http.Header
	n int64
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(int)     {}
func (d *discardWriter) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	return len(p), nil
}

// peakHeap samples live heap bytes while f runs and returns the peak.
func peakHeap(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return peak.Load()
}

// BenchmarkScrape1000Tasks50Agents: a full /metrics answer for 1,000 tasks of
// 50 agents (≈ 1 million samples), through promhttp's text encoder.
// Reports peak-heap-MiB; target ≤ 150 MiB.
func BenchmarkScrape1000Tasks50Agents(b *testing.B) {
	api := decodingAPI{answerWithAgents(b, 50)}
	tasks := make([]collector.Task, 1000)
	for i := range tasks {
		tasks[i] = collector.Task{EnterpriseID: 7000000 + int64(i%10), TaskID: int64(i)}
	}
	src := func() collector.Scrape { return collector.Scrape{API: api, Tasks: tasks, Concurrency: 8} }
	h := collector.Handler(src, prometheus.NewRegistry(), collector.HandlerOptions{})
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		runtime.GC()
		p := peakHeap(func() {
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
			if w.n < 50<<20 {
				b.Fatalf("only %d bytes written", w.n)
			}
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
