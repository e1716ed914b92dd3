package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ScrapeResult is one timed scrape of /metrics.
type ScrapeResult struct {
	Seconds         float64 `json:"seconds"`
	Status          int     `json:"status"`
	Error           string  `json:"error,omitempty"`
	SuccessfulTasks int     `json:"successful_tasks"`
	FailedTasks     int     `json:"failed_tasks"`
	Samples         int     `json:"samples"`
	TextBytes       int64   `json:"text_bytes"` // the exposition, uncompressed
	WireBytes       int64   `json:"wire_bytes"` // as sent (gzipped unless --no-gzip)
	PeakHeapBytes   uint64  `json:"peak_heap_bytes"`
	// CPUSeconds is this process's user+system CPU during the scrape (the
	// exporter, the scraping client and, unless --simulator-process, the
	// simulator); SimulatorCPUSeconds the child's, with --simulator-process.
	CPUSeconds          float64 `json:"cpu_seconds"`
	SimulatorCPUSeconds float64 `json:"simulator_cpu_seconds,omitempty"`
	GCCycles            uint64  `json:"gc_cycles"`
	// GCCPUSeconds is the runtime's estimate of CPU spent in GC.
	GCCPUSeconds float64 `json:"gc_cpu_seconds"`
	// SimulatorRequests is CloudMonitorTask attempts the simulator saw
	// (retries included); SimulatorErrors its non-OK answers by code.
	SimulatorRequests uint64            `json:"simulator_requests"`
	SimulatorErrors   map[string]uint64 `json:"simulator_errors,omitempty"`

	// Where the time went. FirstTaskLineSeconds is when the first task or
	// agent sample arrived: the text format groups samples by family, so
	// the exporter writes none before every task has answered; the rest
	// of Seconds is writing (and compressing, and reading) the answer.
	FirstTaskLineSeconds float64 `json:"first_task_line_seconds"`
	// TaskSeconds* are the exporter's own dyvms_task_scrape_duration_seconds:
	// from a task's turn (a concurrency slot) to its mapped answer.
	TaskSecondsMean float64 `json:"task_seconds_mean"`
	TaskSecondsMax  float64 `json:"task_seconds_max"`
	// From the exporter's registry, for this scrape: HTTP attempts to the
	// API, their mean duration (dyvms_api_request_duration_seconds), and
	// the time they waited for the rate limiter in total
	// (dyvms_api_rate_limiter_wait_seconds).
	APIAttempts          uint64  `json:"api_attempts"`
	APIAttemptSecondsAvg float64 `json:"api_attempt_seconds_mean"`
	LimiterWaitSeconds   float64 `json:"limiter_wait_seconds"`
}

var (
	successPrefix  = []byte("dyvms_task_scrape_success{")
	durationPrefix = []byte("dyvms_task_scrape_duration_seconds{")
	taskPrefix     = []byte("dyvms_task_")
	agentPrefix    = []byte("dyvms_agent_")
	heapMetric     = "/memory/classes/heap/objects:bytes"
)

// heapPeak samples the live heap every d until stop, for the peak.
type heapPeak struct {
	stop chan struct{}
	done chan uint64
}

func startHeapPeak(d time.Duration) *heapPeak {
	h := &heapPeak{stop: make(chan struct{}), done: make(chan uint64, 1)}
	go func() {
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(d)
		defer t.Stop()
		var peak uint64
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-h.stop:
				h.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) end() uint64 { close(h.stop); return <-h.done }

// runtimeGC reads GC cycles and GC CPU seconds.
func runtimeGC() (uint64, float64) {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	var cycles uint64
	var cpu float64
	if s[0].Value.Kind() == metrics.KindUint64 {
		cycles = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindFloat64 {
		cpu = s[1].Value.Float64()
	}
	return cycles, cpu
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// scraper scrapes the exporter as Prometheus would.
type scraper struct {
	url      string
	timeout  time.Duration
	gzip     bool
	heapTick time.Duration
	client   *http.Client
	sim      *simHandle
	reg      prometheus.Gatherer // the exporter's registry
	buf      *bufio.Reader
	mu       sync.Mutex
	start    time.Time // of the scrape in progress
}

func newScraper(url string, o options, sim *simHandle, reg prometheus.Gatherer) *scraper {
	return &scraper{
		url: url, timeout: o.scrapeTimeout, gzip: o.gzip, heapTick: o.heapSampleEvery, sim: sim, reg: reg,
		// The client decompresses itself, to count the bytes on the wire.
		client: &http.Client{Timeout: o.scrapeTimeout + time.Minute, Transport: &http.Transport{DisableCompression: true}},
		buf:    bufio.NewReaderSize(nil, 256<<10),
	}
}

// scrape makes one timed scrape, with the simulator's counters, CPU and
// heap around it.
func (s *scraper) scrape(ctx context.Context) ScrapeResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r ScrapeResult
	before, statErr := s.sim.stats()
	gc0, gcCPU0 := runtimeGC()
	cpu0 := processCPU()
	simCPU0 := childCPU(s.sim.pid)
	api0 := s.apiStats()
	hp := startHeapPeak(s.heapTick)
	s.start = time.Now()
	err := s.fetch(ctx, &r)
	r.Seconds = time.Since(s.start).Seconds()
	r.PeakHeapBytes = hp.end()
	r.CPUSeconds = processCPU() - cpu0
	if s.sim.pid != 0 {
		r.SimulatorCPUSeconds = childCPU(s.sim.pid) - simCPU0
	}
	gc1, gcCPU1 := runtimeGC()
	r.GCCycles, r.GCCPUSeconds = gc1-gc0, gcCPU1-gcCPU0
	if err != nil {
		r.Error = err.Error()
	}
	api1 := s.apiStats()
	r.APIAttempts = api1.attempts - api0.attempts
	if r.APIAttempts > 0 {
		r.APIAttemptSecondsAvg = (api1.attemptSecs - api0.attemptSecs) / float64(r.APIAttempts)
	}
	r.LimiterWaitSeconds = api1.waitSecs - api0.waitSecs
	if after, err := s.sim.stats(); err == nil && statErr == nil {
		r.SimulatorRequests = after.Actions["CloudMonitorTask"] - before.Actions["CloudMonitorTask"]
		for code, n := range after.Codes {
			if d := n - before.Codes[code]; code != "OK" && d > 0 {
				if r.SimulatorErrors == nil {
					r.SimulatorErrors = map[string]uint64{}
				}
				r.SimulatorErrors[code] = d
			}
		}
	}
	return r
}

func (s *scraper) fetch(ctx context.Context, r *ScrapeResult) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(s.timeout.Seconds(), 'f', -1, 64))
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	if s.gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	wire := &countingReader{r: resp.Body}
	var body io.Reader = wire
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(wire)
		if err != nil {
			return err
		}
		defer gz.Close()
		body = gz
	}
	err = s.count(body, r)
	r.WireBytes = wire.n
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("HTTP %s", resp.Status)
	}
	return err
}

// count reads the exposition line by line: samples, and the tasks whose
// dyvms_task_scrape_success is 1 or 0.
func (s *scraper) count(body io.Reader, r *ScrapeResult) error {
	br := s.buf
	br.Reset(body)
	defer br.Reset(nil)
	start := true // at the start of a line
	var durSum float64
	var durN int
	defer func() {
		if durN > 0 {
			r.TaskSecondsMean = durSum / float64(durN)
		}
	}()
	for {
		line, err := br.ReadSlice('\n')
		r.TextBytes += int64(len(line))
		if len(line) > 0 && start && line[0] != '#' && line[0] != '\n' {
			r.Samples++
			if r.FirstTaskLineSeconds == 0 && (bytes.HasPrefix(line, taskPrefix) || bytes.HasPrefix(line, agentPrefix)) {
				r.FirstTaskLineSeconds = time.Since(s.start).Seconds()
			}
			if bytes.HasPrefix(line, durationPrefix) {
				t := bytes.TrimSpace(line)
				if v, err := strconv.ParseFloat(string(t[bytes.LastIndexByte(t, ' ')+1:]), 64); err == nil {
					durSum += v
					durN++
					r.TaskSecondsMax = max(r.TaskSecondsMax, v)
				}
			}
			if bytes.HasPrefix(line, successPrefix) {
				t := bytes.TrimSpace(line)
				switch string(t[bytes.LastIndexByte(t, ' ')+1:]) {
				case "1":
					r.SuccessfulTasks++
				default:
					r.FailedTasks++
				}
			}
		}
		start = err == nil // bufio.ErrBufferFull: the same line goes on
		switch err {
		case nil, bufio.ErrBufferFull:
		case io.EOF:
			return nil
		default:
			return err
		}
	}
}

type apiStats struct {
	attempts    uint64
	attemptSecs float64
	waitSecs    float64
}

// apiStats sums the exporter's API histograms over operations.
func (s *scraper) apiStats() apiStats {
	var a apiStats
	if s.reg == nil {
		return a
	}
	mfs, err := s.reg.Gather()
	if err != nil {
		return a
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "dyvms_api_request_duration_seconds":
			for _, m := range mf.GetMetric() {
				a.attempts += m.GetHistogram().GetSampleCount()
				a.attemptSecs += m.GetHistogram().GetSampleSum()
			}
		case "dyvms_api_rate_limiter_wait_seconds":
			for _, m := range mf.GetMetric() {
				a.waitSecs += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return a
}
