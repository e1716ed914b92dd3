package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for dyvms-bench when
// --simulator-process starts "itself" as the simulator's child.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "--internal.serve-simulator" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func runJSON(t *testing.T, args ...string) (*Report, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append(args, "--json"), &out, &errOut)
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d, report is not JSON: %v\nstdout: %s\nstderr: %s", code, err, out.String(), errOut.String())
	}
	return &rep, code
}

func TestBenchSmall(t *testing.T) {
	rep, code := runJSON(t, "--tasks", "5", "--agents", "3", "--latency", "1ms", "--concurrency", "2", "--rate", "1000", "--scrapes", "2")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if rep.Mode != "bench" || len(rep.Scrapes) != 2 {
		t.Fatalf("mode %q, %d scrapes; want bench, 2", rep.Mode, len(rep.Scrapes))
	}
	// ceil(5/2) = 3 rounds of 1 ms against 5 tasks / 1000/s.
	if want := max(0.003, 0.005); math.Abs(rep.BoundSeconds-want) > 1e-9 || math.Abs(rep.LatencyBoundSeconds-0.003) > 1e-9 {
		t.Errorf("bound %v (latency bound %v), want %v (0.003)", rep.BoundSeconds, rep.LatencyBoundSeconds, want)
	}
	// The burst of 1000 covers the 5 tasks: only the latency counts.
	if math.Abs(rep.EffectiveBoundSeconds-0.003) > 1e-9 || !(rep.EffectiveRatio > rep.Ratio) {
		t.Errorf("effective bound %v, ratio %v (plain ratio %v)", rep.EffectiveBoundSeconds, rep.EffectiveRatio, rep.Ratio)
	}
	if rep.SuccessfulTasks != 5 {
		t.Errorf("successful tasks %d, want 5", rep.SuccessfulTasks)
	}
	if !(rep.Ratio > 0) || rep.MinSeconds > rep.MedianSeconds || rep.MedianSeconds > rep.MaxSeconds {
		t.Errorf("ratio %v, min %v median %v max %v", rep.Ratio, rep.MinSeconds, rep.MedianSeconds, rep.MaxSeconds)
	}
	for i, s := range rep.Scrapes {
		if s.Status != 200 || s.Error != "" || s.SuccessfulTasks != 5 || s.FailedTasks != 0 {
			t.Errorf("scrape %d: %+v", i+1, s)
		}
		// 3 agents and a removed one or two per task: well over 5 × 3 samples.
		if s.Samples < 5*3*5 || s.TextBytes <= s.WireBytes || s.WireBytes == 0 || s.PeakHeapBytes == 0 {
			t.Errorf("scrape %d: samples %d, text %d, wire %d bytes, peak heap %d", i+1, s.Samples, s.TextBytes, s.WireBytes, s.PeakHeapBytes)
		}
		if s.SimulatorRequests != 5 || s.APIAttempts != 5 || len(s.SimulatorErrors) != 0 {
			t.Errorf("scrape %d: simulator saw %d requests (%v), exporter made %d attempts; want 5, none failed",
				i+1, s.SimulatorRequests, s.SimulatorErrors, s.APIAttempts)
		}
		if s.FirstTaskLineSeconds <= 0 || s.FirstTaskLineSeconds > s.Seconds || s.TaskSecondsMean < 0.001 || s.TaskSecondsMax < s.TaskSecondsMean {
			t.Errorf("scrape %d: first task line %v of %v s, task mean %v max %v", i+1, s.FirstTaskLineSeconds, s.Seconds, s.TaskSecondsMean, s.TaskSecondsMax)
		}
	}
	if rep.GoroutinesBefore == 0 || rep.GoroutinesAfter == 0 || rep.HeapAfterGCBytes == 0 {
		t.Errorf("goroutines %d/%d, heap after GC %d", rep.GoroutinesBefore, rep.GoroutinesAfter, rep.HeapAfterGCBytes)
	}
}

func TestBenchSimulatorProcess(t *testing.T) {
	rep, code := runJSON(t, "--tasks", "5", "--agents", "3", "--latency", "1ms", "--rate", "1000", "--scrapes", "1", "--simulator-process")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !rep.Config.SimulatorProcess || rep.SuccessfulTasks != 5 || len(rep.Scrapes) != 1 || rep.Scrapes[0].SimulatorRequests != 5 {
		t.Errorf("simulator process %v, %d successful tasks, scrapes %+v", rep.Config.SimulatorProcess, rep.SuccessfulTasks, rep.Scrapes)
	}
}

func TestSoakSmall(t *testing.T) {
	start := time.Now()
	rep, code := runJSON(t, "--tasks", "5", "--agents", "3", "--latency", "1ms", "--rate", "1000",
		"--duration", "2s", "--interval", "200ms", "--sample-every", "500ms", "--baseline", "0s")
	if code != 0 {
		t.Fatalf("exit code %d, soak %+v", code, rep.Soak)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("took %v for a 2 s soak", elapsed)
	}
	s := rep.Soak
	if rep.Mode != "soak" || s == nil {
		t.Fatalf("mode %q, soak %v", rep.Mode, s)
	}
	if s.Scrapes < 5 || s.ScrapeErrors != 0 || s.FailedTasks != 0 || s.TaskReads != 5*s.Scrapes {
		t.Errorf("%d scrapes, %d errors, %d of %d task reads failed", s.Scrapes, s.ScrapeErrors, s.FailedTasks, s.TaskReads)
	}
	// The first sample before scraping, one about every 500 ms, one at the end.
	if n := len(s.Samples); n < 4 {
		t.Errorf("%d samples", n)
	}
	if s.First.ElapsedSeconds != 0 || s.Baseline.ElapsedSeconds <= 0 || s.Last.ElapsedSeconds < 1.5 {
		t.Errorf("first at %v s, baseline at %v s, last at %v s", s.First.ElapsedSeconds, s.Baseline.ElapsedSeconds, s.Last.ElapsedSeconds)
	}
	if s.Baseline.Goroutines == 0 || s.Baseline.HeapLiveBytes == 0 || s.Extremes.GoroutinesMax < s.Extremes.GoroutinesMin {
		t.Errorf("baseline %+v, extremes %+v", s.Baseline, s.Extremes)
	}
	if !s.Pass {
		t.Errorf("soak failed: %v", s.Failures)
	}
}

func TestEvaluateGrowth(t *testing.T) {
	samples := []SoakSample{
		{ElapsedSeconds: 0, Goroutines: 5, HeapLiveBytes: 1 << 20},
		{ElapsedSeconds: 60, Goroutines: 50, HeapLiveBytes: 10 << 20},
		{ElapsedSeconds: 300, Goroutines: 60, HeapLiveBytes: 12 << 20}, // baseline
		{ElapsedSeconds: 600, Goroutines: 70, HeapLiveBytes: 13 << 20},
	}
	sr := &SoakReport{Samples: samples, Scrapes: 1, MaxGoroutineGrowth: 0.2, GoroutineSlack: 10, MaxHeapGrowth: 0.5}
	evaluate(sr, 5*time.Minute)
	if !sr.Pass || sr.Baseline.ElapsedSeconds != 300 || sr.Extremes.GoroutinesMax != 70 || sr.Extremes.GoroutinesMin != 60 {
		t.Errorf("pass %v (%v), baseline %+v, extremes %+v", sr.Pass, sr.Failures, sr.Baseline, sr.Extremes)
	}
	// +30 goroutines (+50 %) and +100 % heap: both fail.
	sr = &SoakReport{Samples: append(samples[:3:3], SoakSample{ElapsedSeconds: 900, Goroutines: 90, HeapLiveBytes: 24 << 20}),
		Scrapes: 1, MaxGoroutineGrowth: 0.2, GoroutineSlack: 10, MaxHeapGrowth: 0.5}
	evaluate(sr, 5*time.Minute)
	if sr.Pass || len(sr.Failures) != 2 || !strings.Contains(sr.Failures[0], "goroutines") {
		t.Errorf("pass %v, failures %v", sr.Pass, sr.Failures)
	}
}

func TestEnterprisesFor(t *testing.T) {
	for n, want := range map[int]int{1: 1, 5: 5, 7: 7, 13: 1, 100: 10, 1000: 10, 999: 9, 22: 2} {
		if got := enterprisesFor(n); got != want {
			t.Errorf("enterprisesFor(%d) = %d, want %d", n, got, want)
		}
		if got := len(benchTasks(n)); got != n {
			t.Errorf("benchTasks(%d) has %d tasks", n, got)
		}
	}
}

func TestBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--tasks", "0"}, &out, &errOut); code != 2 {
		t.Errorf("--tasks 0: exit %d, want 2 (%s)", code, errOut.String())
	}
}
