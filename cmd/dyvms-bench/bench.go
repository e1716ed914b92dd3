package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"
)

// Report is everything one run measured; --json prints it as is.
type Report struct {
	Mode    string  `json:"mode"` // bench or soak
	Config  Config  `json:"config"`
	Machine Machine `json:"machine"`
	// WarmupSeconds is the direct pass over every task before timing.
	WarmupSeconds float64 `json:"warmup_seconds"`
	// Bound is max(LatencyBound, RateBound): latency × ceil(tasks /
	// concurrency) and tasks / rate, in seconds.
	BoundSeconds        float64 `json:"bound_seconds"`
	LatencyBoundSeconds float64 `json:"latency_bound_seconds"`
	RateBoundSeconds    float64 `json:"rate_bound_seconds"`

	// EffectiveBound counts the burst: max(LatencyBound, (tasks - burst) /
	// rate). A full bucket lets the first burst requests go at once, so
	// with burst = rate = 1000 and 1,000 tasks the rate costs nothing.
	EffectiveBoundSeconds float64 `json:"effective_bound_seconds"`
	EffectiveRatio        float64 `json:"effective_ratio"`

	Scrapes       []ScrapeResult `json:"scrapes,omitempty"`
	MinSeconds    float64        `json:"min_seconds"`
	MedianSeconds float64        `json:"median_seconds"`
	MaxSeconds    float64        `json:"max_seconds"`
	// Ratio is MedianSeconds / BoundSeconds.
	Ratio float64 `json:"ratio"`
	// SuccessfulTasks is the fewest successful tasks of any scrape.
	SuccessfulTasks  int    `json:"successful_tasks"`
	PeakHeapBytes    uint64 `json:"peak_heap_bytes"`
	GoroutinesBefore int    `json:"goroutines_before"`
	GoroutinesAfter  int    `json:"goroutines_after"`
	// HeapAfterGCBytes is the live heap after a forced GC once the scrapes
	// are over.
	HeapAfterGCBytes uint64 `json:"heap_after_gc_bytes"`

	Soak *SoakReport `json:"soak,omitempty"`
}

// Config echoes the run's parameters.
type Config struct {
	Tasks            int     `json:"tasks"`
	Agents           int     `json:"agents"`
	Latency          string  `json:"latency"`
	Jitter           string  `json:"jitter"`
	Concurrency      int     `json:"concurrency"`
	Rate             float64 `json:"rate"`
	Burst            int     `json:"burst"`
	Faults           float64 `json:"faults"`
	Scrapes          int     `json:"scrapes,omitempty"`
	Duration         string  `json:"duration,omitempty"`
	Interval         string  `json:"interval,omitempty"`
	Gzip             bool    `json:"gzip"`
	SimulatorProcess bool    `json:"simulator_process"`
	IdleConns        int     `json:"idle_conns,omitempty"`
	WhatIfGzipLevel  int     `json:"what_if_gzip_level,omitempty"`
	Seed             int64   `json:"seed"`
	Metrics          string  `json:"metrics,omitempty"`
}

// Machine is where the run ran.
type Machine struct {
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	GoVersion  string    `json:"go_version"`
	OS         string    `json:"os"`
	LoadStart  []float64 `json:"load_average_start,omitempty"`
	LoadEnd    []float64 `json:"load_average_end,omitempty"`
}

// bounds returns the latency bound, the rate bound and their maximum, in
// seconds.
func bounds(tasks, concurrency int, latency time.Duration, rate float64) (lat, rb, b float64) {
	lat = latency.Seconds() * math.Ceil(float64(tasks)/float64(concurrency))
	rb = float64(tasks) / rate
	return lat, rb, max(lat, rb)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// liveHeapAfterGC collects twice: the first GC only moves sync.Pool
// contents to the victim cache, the second frees them.
func liveHeapAfterGC() (alloc, inuse uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.HeapInuse
}

// runBench sets everything up, warms up and runs bench or soak mode.
func runBench(ctx context.Context, o options, stdout, stderr io.Writer) (rep *Report, err error) {
	rep = &Report{
		Mode: "bench",
		Config: Config{Tasks: o.tasks, Agents: o.agents, Latency: o.latency.String(), Jitter: o.jitter.String(),
			Concurrency: o.concurrency, Rate: o.rate, Burst: o.burst, Faults: o.faults, Gzip: o.gzip,
			SimulatorProcess: o.simProcess, IdleConns: o.idleConns, WhatIfGzipLevel: o.gzipLevel, Seed: o.seed, Metrics: o.metrics},
		Machine: Machine{NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
			OS: runtime.GOOS + "/" + runtime.GOARCH, LoadStart: loadAverage()},
	}
	if o.duration > 0 {
		rep.Mode = "soak"
		rep.Config.Duration, rep.Config.Interval = o.duration.String(), o.interval.String()
	} else {
		rep.Config.Scrapes = o.scrapes
	}
	rep.LatencyBoundSeconds, rep.RateBoundSeconds, rep.BoundSeconds = bounds(o.tasks, o.concurrency, o.latency, o.rate)
	rep.EffectiveBoundSeconds = max(rep.LatencyBoundSeconds, float64(max(o.tasks-o.burst, 0))/o.rate)

	id, secret := "LTAIbench"+randomHex(8), randomHex(16)
	sim, err := startSimulator(o, id, secret, stderr)
	if err != nil {
		return nil, fmt.Errorf("starting the simulator: %w", err)
	}
	defer func() { err = errors.Join(err, sim.close()) }()
	tasks := benchTasks(o.tasks)
	warm, err := warmUp(ctx, sim.endpoint, id, secret, tasks)
	if err != nil {
		return nil, err
	}
	rep.WarmupSeconds = warm.Seconds()
	if err := sim.setFaults(faultRules(o)); err != nil {
		return nil, err
	}
	exp, err := startExporter(o, sim.endpoint, id, secret, tasks, stderr)
	if err != nil {
		return nil, fmt.Errorf("starting the exporter: %w", err)
	}
	defer func() { err = errors.Join(err, exp.close()) }()
	sc := newScraper(exp.url, o, sim, exp.reg)

	if o.duration > 0 {
		progress := stderr // --json keeps stdout for the report
		if !o.json {
			progress = stdout
		}
		rep.Soak, err = soak(ctx, o, sc, rep, progress)
		rep.Machine.LoadEnd = loadAverage()
		if o.heapProfile != "" {
			runtime.GC()
			err = errors.Join(err, writeHeapProfile(o.heapProfile))
		}
		return rep, err
	}

	runtime.GC()
	rep.GoroutinesBefore = runtime.NumGoroutine()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	for range o.scrapes {
		if ctx.Err() != nil {
			break
		}
		rep.Scrapes = append(rep.Scrapes, sc.scrape(ctx))
	}
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	rep.GoroutinesAfter = runtime.NumGoroutine()
	rep.HeapAfterGCBytes, _ = liveHeapAfterGC()
	if o.heapProfile != "" {
		if err := writeHeapProfile(o.heapProfile); err != nil {
			return nil, err
		}
	}
	rep.Machine.LoadEnd = loadAverage()
	summarize(rep)
	return rep, ctx.Err()
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// summarize fills min/median/max, the ratio, the fewest successful tasks
// and the peak heap from rep.Scrapes.
func summarize(rep *Report) {
	if len(rep.Scrapes) == 0 {
		return
	}
	secs := make([]float64, len(rep.Scrapes))
	rep.SuccessfulTasks = math.MaxInt
	for i, s := range rep.Scrapes {
		secs[i] = s.Seconds
		rep.SuccessfulTasks = min(rep.SuccessfulTasks, s.SuccessfulTasks)
		rep.PeakHeapBytes = max(rep.PeakHeapBytes, s.PeakHeapBytes)
	}
	rep.MinSeconds, rep.MaxSeconds = slices.Min(secs), slices.Max(secs)
	rep.MedianSeconds = median(secs)
	if rep.BoundSeconds > 0 {
		rep.Ratio = rep.MedianSeconds / rep.BoundSeconds
	}
	if rep.EffectiveBoundSeconds > 0 {
		rep.EffectiveRatio = rep.MedianSeconds / rep.EffectiveBoundSeconds
	}
}
