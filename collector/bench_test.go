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
	"syscall"
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

// modes are the metrics: settings the benchmarks compare.
var modes = []struct {
	name string
	sel  collector.Selection
}{
	{"state_set", collector.Selection{}},
	{"current", collector.Selection{AgentStatus: collector.AgentStatusCurrent}},
	{"no_agents", collector.Selection{NoAgents: true}},
}

// BenchmarkDecodeCollect50Agents: one task of 50 agents, from JSON bytes to
// its text exposition, in each mode. Target: ≤ 200 µs/op (state_set).
func BenchmarkDecodeCollect50Agents(b *testing.B) {
	api := decodingAPI{answerWithAgents(b, 50)}
	tasks := []collector.Task{{EnterpriseID: 7000002, TaskID: 19}}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := collector.New(context.Background(), api, tasks, collector.Options{Metrics: m.sel}).WriteText(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
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
	w io.Writer // optional: where the bytes go
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(int)     {}
func (d *discardWriter) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	if d.w != nil {
		d.w.Write(p)
	}
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
// 50 agents (≈ 1 million samples in state_set mode) through Handler, gzipped
// as Prometheus asks for it (and once in plain text), in each mode. Reports
// the series, text and gzip MiB, process CPU seconds and peak heap per
// scrape; peak-heap target ≤ 150 MiB.
func BenchmarkScrape1000Tasks50Agents(b *testing.B) {
	api := decodingAPI{answerWithAgents(b, 50)}
	tasks := make([]collector.Task, 1000)
	for i := range tasks {
		tasks[i] = collector.Task{EnterpriseID: 7000000 + int64(i%10), TaskID: int64(i)}
	}
	type variant struct {
		name string
		sel  collector.Selection
		gzip bool
	}
	var variants []variant
	for _, m := range modes {
		variants = append(variants, variant{m.name + "/gzip", m.sel, true})
	}
	variants = append(variants, variant{"state_set/plain", collector.Selection{}, false})
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			src := func() collector.Scrape {
				return collector.Scrape{API: api, Tasks: tasks, Concurrency: 8, Metrics: v.sel}
			}
			h := collector.Handler(src, prometheus.NewRegistry(), collector.HandlerOptions{})
			serve := func(gz bool, w http.ResponseWriter) {
				req := httptest.NewRequest("GET", "/metrics", nil)
				if gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				h.ServeHTTP(w, req)
			}
			// Untimed: the series and the text size of this mode.
			b.StopTimer()
			var text countingWriter
			serve(false, &discardWriter{h: http.Header{}, w: &text})
			b.StartTimer()
			b.ReportAllocs()
			var peak uint64
			var wire int64
			var cpu time.Duration
			for b.Loop() {
				runtime.GC()
				w := &discardWriter{h: http.Header{}}
				before := processCPU()
				p := peakHeap(func() { serve(v.gzip, w) })
				cpu += processCPU() - before
				peak = max(peak, p)
				wire = w.n
			}
			b.ReportMetric(float64(text.series), "series")
			b.ReportMetric(float64(text.n)/(1<<20), "text-MiB")
			if v.gzip {
				b.ReportMetric(float64(wire)/(1<<20), "gzip-MiB")
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// countingWriter counts bytes and sample lines (the series of the answer).
type countingWriter struct {
	n, series int64
	bol       bool
	started   bool
}

func (c *countingWriter) Write(p []byte) (int, error) {
	for _, ch := range p {
		if !c.started || c.bol {
			if ch != '#' {
				c.series++
			}
		}
		c.started = true
		c.bol = ch == '\n'
	}
	c.n += int64(len(p))
	return len(p), nil
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
