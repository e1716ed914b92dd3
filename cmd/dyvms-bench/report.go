package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func writeJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func secs(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

func loads(l []float64) string {
	if len(l) < 3 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2])
}

func codes(m map[string]uint64) string {
	if len(m) == 0 {
		return "-"
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", k, m[k])
	}
	return b.String()
}

func writeText(w io.Writer, rep *Report) error {
	c, m := rep.Config, rep.Machine
	where := "simulator in-process"
	if c.SimulatorProcess {
		where = "simulator in a child process"
	}
	enc := "gzip"
	if !c.Gzip {
		enc = "plain text"
	}
	idle := ""
	if c.IdleConns > 0 {
		idle = fmt.Sprintf(", exporter idle conns/host %d", c.IdleConns)
	}
	if c.WhatIfGzipLevel > 0 {
		enc = fmt.Sprintf("gzip level %d in front of the exporter (what-if)", c.WhatIfGzipLevel)
	}
	if c.Metrics != "" {
		idle += ", metrics: " + c.Metrics
	}
	fmt.Fprintf(w, "dyvms-bench %s: %d tasks × %d agents, latency %s ± %s, concurrency %d, rate %g/s, burst %d, faults %g, %s, %s%s\n",
		rep.Mode, c.Tasks, c.Agents, c.Latency, c.Jitter, c.Concurrency, c.Rate, c.Burst, c.Faults, enc, where, idle)
	fmt.Fprintf(w, "machine: %d CPUs, GOMAXPROCS %d, %s %s; load average %s at start, %s at end\n",
		m.NumCPU, m.GOMAXPROCS, m.GoVersion, m.OS, loads(m.LoadStart), loads(m.LoadEnd))
	fmt.Fprintf(w, "warm-up: every task once, directly and untimed, in %s\n", secs(rep.WarmupSeconds))
	fmt.Fprintf(w, "bound: max(%s × ceil(%d/%d) = %s, %d / %g/s = %s) = %s\n",
		c.Latency, c.Tasks, c.Concurrency, secs(rep.LatencyBoundSeconds), c.Tasks, c.Rate, secs(rep.RateBoundSeconds), secs(rep.BoundSeconds))
	if rep.Soak != nil {
		writeSoak(w, rep.Soak, c)
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scrape\twall\tfirst task line\twriting\ttask mean\ttask max\tAPI attempts\tattempt mean\tlimiter wait Σ\tok/tasks\tsim errors\t")
	for i, s := range rep.Scrapes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d/%d\t%s\t\n",
			i+1, secs(s.Seconds), secs(s.FirstTaskLineSeconds), secs(s.Seconds-s.FirstTaskLineSeconds),
			secs(s.TaskSecondsMean), secs(s.TaskSecondsMax), s.APIAttempts, secs(s.APIAttemptSecondsAvg),
			secs(s.LimiterWaitSeconds), s.SuccessfulTasks, c.Tasks, codes(s.SimulatorErrors))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scrape\tsamples\ttext MiB\twire MiB\tpeak heap MiB\tCPU s\tsim CPU s\tGCs\tGC CPU s\tsim reqs\t")
	for i, s := range rep.Scrapes {
		simCPU := "-"
		if c.SimulatorProcess {
			simCPU = fmt.Sprintf("%.2f", s.SimulatorCPUSeconds)
		}
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t%s\t%d\t%.2f\t%d\t\n",
			i+1, s.Samples, float64(s.TextBytes)/mib, float64(s.WireBytes)/mib,
			float64(s.PeakHeapBytes)/mib, s.CPUSeconds, simCPU, s.GCCycles, s.GCCPUSeconds, s.SimulatorRequests)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i, s := range rep.Scrapes {
		if s.Error != "" {
			fmt.Fprintf(w, "scrape %d failed: %s\n", i+1, s.Error)
		}
	}
	fmt.Fprintf(w, "\nwall: min %s, median %s, max %s; median / bound = %.2f\n",
		secs(rep.MinSeconds), secs(rep.MedianSeconds), secs(rep.MaxSeconds), rep.Ratio)
	if rep.EffectiveBoundSeconds != rep.BoundSeconds && rep.EffectiveBoundSeconds > 0 {
		fmt.Fprintf(w, "counting the burst: bound max(%s, max(0, %d - %d) / %g/s) = %s, median / that = %.2f\n",
			secs(rep.LatencyBoundSeconds), c.Tasks, c.Burst, c.Rate, secs(rep.EffectiveBoundSeconds), rep.EffectiveRatio)
	}
	fmt.Fprintf(w, "successful tasks: %d of %d in the worst scrape\n", rep.SuccessfulTasks, c.Tasks)
	fmt.Fprintf(w, "peak heap (live objects, sampled): %.1f MiB; live heap after GC at the end: %.1f MiB\n",
		float64(rep.PeakHeapBytes)/mib, float64(rep.HeapAfterGCBytes)/mib)
	_, err := fmt.Fprintf(w, "goroutines: %d before the scrapes, %d after\n", rep.GoroutinesBefore, rep.GoroutinesAfter)
	return err
}

func writeSoak(w io.Writer, s *SoakReport, c Config) {
	fmt.Fprintf(w, "\nsoak: %d scrapes every %s for %s (%d failed, %d longer than the interval); scrape min %s, median %s, max %s\n",
		s.Scrapes, c.Interval, c.Duration, s.ScrapeErrors, s.OverrunScrapes, secs(s.MinScrapeSeconds), secs(s.MedianScrape), secs(s.MaxScrapeSeconds))
	if s.TaskReads > 0 {
		fmt.Fprintf(w, "task reads failed: %d of %d (%.2f%%)\n", s.FailedTasks, s.TaskReads, 100*float64(s.FailedTasks)/float64(s.TaskReads))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\telapsed\tgoroutines\tlive heap MiB\theap inuse MiB\t")
	row := func(name string, x SoakSample) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t\n", name, secs(x.ElapsedSeconds), x.Goroutines,
			float64(x.HeapLiveBytes)/mib, float64(x.HeapInuseBytes)/mib)
	}
	row("first (before scraping)", s.First)
	row("baseline", s.Baseline)
	row("last", s.Last)
	e := s.Extremes
	fmt.Fprintf(tw, "min from baseline\t\t%d\t%.1f\t%.1f\t\n", e.GoroutinesMin, float64(e.HeapLiveMin)/mib, float64(e.HeapInuseMin)/mib)
	fmt.Fprintf(tw, "max from baseline\t\t%d\t%.1f\t%.1f\t\n", e.GoroutinesMax, float64(e.HeapLiveMax)/mib, float64(e.HeapInuseMax)/mib)
	fmt.Fprintf(tw, "growth, last vs baseline\t\t%+.1f%%\t%+.1f%%\t\t\n", 100*s.GoroutineGrowth, 100*s.HeapGrowth)
	_ = tw.Flush()
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	verdict := "PASS"
	if !s.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: limits goroutines %+.0f%% (and more than %d), live heap after GC %+.0f%%, from the first sample at or after %s\n",
		verdict, 100*s.MaxGoroutineGrowth, s.GoroutineSlack, 100*s.MaxHeapGrowth, secs(s.BaselineSeconds))
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  %s\n", f)
	}
}
