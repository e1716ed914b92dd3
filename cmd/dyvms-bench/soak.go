package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"
)

// SoakSample is the process between two scrapes, after a forced GC.
type SoakSample struct {
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// Scrapes, FailedTasks, ScrapeErrors and MaxScrapeSeconds cover the
	// scrapes since the previous sample.
	Scrapes          int     `json:"scrapes"`
	FailedTasks      int     `json:"failed_tasks"`
	ScrapeErrors     int     `json:"scrape_errors"`
	MaxScrapeSeconds float64 `json:"max_scrape_seconds"`
	Goroutines       int     `json:"goroutines"`
	// HeapLiveBytes is MemStats.HeapAlloc after GC (reachable objects);
	// HeapInuseBytes MemStats.HeapInuse (spans holding any object).
	HeapLiveBytes  uint64 `json:"heap_live_bytes"`
	HeapInuseBytes uint64 `json:"heap_inuse_bytes"`
}

// SoakReport summarises a soak run. Growth is Last against Baseline, the
// first sample taken after a scrape and at least BaselineSeconds in.
type SoakReport struct {
	Samples          []SoakSample `json:"samples"`
	Scrapes          int          `json:"scrapes"`
	ScrapeErrors     int          `json:"scrape_errors"`
	OverrunScrapes   int          `json:"overrun_scrapes"` // longer than the interval
	FailedTasks      int          `json:"failed_tasks"`    // summed over all scrapes
	TaskReads        int          `json:"task_reads"`      // tasks × scrapes
	MinScrapeSeconds float64      `json:"min_scrape_seconds"`
	MedianScrape     float64      `json:"median_scrape_seconds"`
	MaxScrapeSeconds float64      `json:"max_scrape_seconds"`

	First    SoakSample `json:"first"` // before the first scrape
	Baseline SoakSample `json:"baseline"`
	Last     SoakSample `json:"last"`

	// Extremes are over the samples from the baseline on.
	Extremes struct {
		GoroutinesMin  int    `json:"goroutines_min"`
		GoroutinesMax  int    `json:"goroutines_max"`
		HeapLiveMin    uint64 `json:"heap_live_min_bytes"`
		HeapLiveMax    uint64 `json:"heap_live_max_bytes"`
		HeapInuseMin   uint64 `json:"heap_inuse_min_bytes"`
		HeapInuseMax   uint64 `json:"heap_inuse_max_bytes"`
		AfterBaseline  bool   `json:"after_baseline"`
		SamplesCovered int    `json:"samples_covered"`
	} `json:"extremes"`

	GoroutineGrowth float64 `json:"goroutine_growth"` // (last - baseline) / baseline
	HeapGrowth      float64 `json:"heap_growth"`      // live heap, same

	MaxGoroutineGrowth float64  `json:"max_goroutine_growth"`
	GoroutineSlack     int      `json:"goroutine_slack"`
	MaxHeapGrowth      float64  `json:"max_heap_growth"`
	BaselineSeconds    float64  `json:"baseline_seconds"`
	Pass               bool     `json:"pass"`
	Failures           []string `json:"failures,omitempty"`
	Notes              []string `json:"notes,omitempty"`
}

// takeSample forces a GC and reads goroutines and heap.
func takeSample(start time.Time) SoakSample {
	time.Sleep(100 * time.Millisecond) // let the scrape's goroutines finish exiting
	live, inuse := liveHeapAfterGC()
	return SoakSample{ElapsedSeconds: time.Since(start).Seconds(), Goroutines: runtime.NumGoroutine(),
		HeapLiveBytes: live, HeapInuseBytes: inuse}
}

const mib = 1 << 20

func soakHeader(w io.Writer) {
	fmt.Fprintf(w, "%9s %8s %13s %10s %13s %11s %14s %16s\n",
		"elapsed", "scrapes", "failed tasks", "errors", "max scrape", "goroutines", "live heap MiB", "heap inuse MiB")
}

func soakLine(w io.Writer, s SoakSample) {
	fmt.Fprintf(w, "%9s %8d %13d %10d %12.3fs %11d %14.1f %16.1f\n",
		(time.Duration(s.ElapsedSeconds) * time.Second).String(), s.Scrapes, s.FailedTasks, s.ScrapeErrors,
		s.MaxScrapeSeconds, s.Goroutines, float64(s.HeapLiveBytes)/mib, float64(s.HeapInuseBytes)/mib)
}

// soak scrapes every o.interval for o.duration and samples the process
// every o.sampleEvery, between scrapes.
func soak(ctx context.Context, o options, sc *scraper, rep *Report, progress io.Writer) (*SoakReport, error) {
	sr := &SoakReport{MaxGoroutineGrowth: o.goroutineGrowth, GoroutineSlack: o.goroutineSlack,
		MaxHeapGrowth: o.heapGrowth, BaselineSeconds: o.baseline.Seconds()}
	start := time.Now()
	first := takeSample(start)
	first.ElapsedSeconds = 0
	sr.Samples = append(sr.Samples, first)
	soakHeader(progress)
	soakLine(progress, first)

	deadline := start.Add(o.duration)
	nextScrape, nextSample := start, start.Add(o.sampleEvery)
	var acc SoakSample // scrapes since the last sample
	var secs []float64
	baselineProfile := false
	timer := time.NewTimer(0)
	defer timer.Stop()
	for nextScrape.Before(deadline) && ctx.Err() == nil {
		timer.Reset(time.Until(nextScrape))
		select {
		case <-ctx.Done():
			continue
		case <-timer.C:
		}
		r := sc.scrape(ctx)
		secs = append(secs, r.Seconds)
		sr.Scrapes++
		sr.TaskReads += o.tasks
		sr.FailedTasks += o.tasks - r.SuccessfulTasks
		acc.Scrapes++
		acc.FailedTasks += o.tasks - r.SuccessfulTasks
		acc.MaxScrapeSeconds = max(acc.MaxScrapeSeconds, r.Seconds)
		if r.Error != "" {
			sr.ScrapeErrors++
			acc.ScrapeErrors++
		}
		if r.Seconds > o.interval.Seconds() {
			sr.OverrunScrapes++
		}
		nextScrape = nextScrape.Add(o.interval)
		if now := time.Now(); nextScrape.Before(now) {
			nextScrape = now // overran: start the next one at once, as Prometheus would not, but no pile-up
		}
		if !time.Now().Before(nextSample) || !nextScrape.Before(deadline) {
			s := takeSample(start)
			s.Scrapes, s.FailedTasks, s.ScrapeErrors, s.MaxScrapeSeconds = acc.Scrapes, acc.FailedTasks, acc.ScrapeErrors, acc.MaxScrapeSeconds
			acc = SoakSample{}
			sr.Samples = append(sr.Samples, s)
			soakLine(progress, s)
			if o.heapProfile != "" && !baselineProfile && s.ElapsedSeconds >= o.baseline.Seconds() {
				// For go tool pprof -base FILE.baseline FILE: what grew since.
				baselineProfile = true
				if err := writeHeapProfile(o.heapProfile + ".baseline"); err != nil {
					return nil, err
				}
			}
			for !nextSample.After(time.Now()) {
				nextSample = nextSample.Add(o.sampleEvery)
			}
		}
	}
	if len(secs) > 0 {
		sr.MinScrapeSeconds, sr.MaxScrapeSeconds, sr.MedianScrape = slices.Min(secs), slices.Max(secs), median(secs)
	}
	evaluate(sr, o.baseline)
	return sr, ctx.Err()
}

// evaluate picks the baseline, computes growth and extremes, and decides.
func evaluate(sr *SoakReport, baseline time.Duration) {
	sr.First = sr.Samples[0]
	sr.Last = sr.Samples[len(sr.Samples)-1]
	bi := -1
	for i, s := range sr.Samples[1:] {
		if s.ElapsedSeconds >= baseline.Seconds() {
			bi = i + 1
			break
		}
	}
	from := bi
	if bi < 0 {
		// Too short for the baseline: compare with the first sample after
		// a scrape, and say so.
		sr.Notes = append(sr.Notes, fmt.Sprintf("no sample at or after the %v baseline: growth measured from the first sample after a scrape", baseline))
		from = min(1, len(sr.Samples)-1)
	}
	sr.Baseline = sr.Samples[from]
	sr.Extremes.AfterBaseline = bi >= 0
	sr.Extremes.SamplesCovered = len(sr.Samples) - from
	ex := &sr.Extremes
	for i, s := range sr.Samples[from:] {
		if i == 0 {
			ex.GoroutinesMin, ex.GoroutinesMax = s.Goroutines, s.Goroutines
			ex.HeapLiveMin, ex.HeapLiveMax = s.HeapLiveBytes, s.HeapLiveBytes
			ex.HeapInuseMin, ex.HeapInuseMax = s.HeapInuseBytes, s.HeapInuseBytes
			continue
		}
		ex.GoroutinesMin, ex.GoroutinesMax = min(ex.GoroutinesMin, s.Goroutines), max(ex.GoroutinesMax, s.Goroutines)
		ex.HeapLiveMin, ex.HeapLiveMax = min(ex.HeapLiveMin, s.HeapLiveBytes), max(ex.HeapLiveMax, s.HeapLiveBytes)
		ex.HeapInuseMin, ex.HeapInuseMax = min(ex.HeapInuseMin, s.HeapInuseBytes), max(ex.HeapInuseMax, s.HeapInuseBytes)
	}
	b, l := sr.Baseline, sr.Last
	if b.Goroutines > 0 {
		sr.GoroutineGrowth = float64(l.Goroutines-b.Goroutines) / float64(b.Goroutines)
	}
	if b.HeapLiveBytes > 0 {
		sr.HeapGrowth = (float64(l.HeapLiveBytes) - float64(b.HeapLiveBytes)) / float64(b.HeapLiveBytes)
	}
	sr.Pass = true
	if sr.GoroutineGrowth > sr.MaxGoroutineGrowth && l.Goroutines-b.Goroutines > sr.GoroutineSlack {
		sr.Pass = false
		sr.Failures = append(sr.Failures, fmt.Sprintf("goroutines grew from %d to %d (%+.0f%%, limit %+.0f%% and %d)",
			b.Goroutines, l.Goroutines, 100*sr.GoroutineGrowth, 100*sr.MaxGoroutineGrowth, sr.GoroutineSlack))
	}
	if sr.HeapGrowth > sr.MaxHeapGrowth {
		sr.Pass = false
		sr.Failures = append(sr.Failures, fmt.Sprintf("live heap after GC grew from %.1f to %.1f MiB (%+.0f%%, limit %+.0f%%)",
			float64(b.HeapLiveBytes)/mib, float64(l.HeapLiveBytes)/mib, 100*sr.HeapGrowth, 100*sr.MaxHeapGrowth))
	}
	if sr.Scrapes == 0 {
		sr.Pass = false
		sr.Failures = append(sr.Failures, "no scrape was made")
	}
}
