// Command dyvms-bench measures how long the exporter takes to answer a
// /metrics scrape, and whether it leaks over time, against the in-repo
// simulator. Everything runs on loopback, in this process by default:
//
//   - the simulator, with --tasks generated tasks of --agents agents each
//     (speed 1, a fresh random key pair), a latency fault of --latency
//     (± --jitter) on every CloudMonitorTask and, with --faults P, a
//     fraction P of answers replaced by throttling, 503s and malformed JSON
//     (P/3 each);
//   - the exporter, built with service.New from a generated configuration
//     (endpoint = the simulator, api.concurrency --concurrency,
//     api.requests_per_second and api.burst --rate, max_retries default) and
//     served by an http.Server, exactly as main.go serves it.
//
// The first CloudMonitorTask of each task makes the simulator simulate the
// task's history; a warm-up pass calls every task once, directly and
// without faults, before anything is timed.
//
// Bench mode (default) makes --scrapes scrapes of /metrics one after the
// other, with X-Prometheus-Scrape-Timeout-Seconds --scrape-timeout, and
// reports each one's wall time, successful tasks, samples, bytes, peak heap,
// CPU and GC cycles; then min/median/max against the theoretical bound
//
//	max(latency × ceil(tasks / concurrency), tasks / rate)
//
// Soak mode (--duration > 0) scrapes every --interval for --duration,
// samples goroutines and the heap in use after a forced GC every
// --sample-every (between scrapes, never during one), prints a line per
// sample and a summary, and exits 1 when, against the first sample taken
// after --baseline, goroutines grew by more than --max-goroutine-growth
// (and by more than --goroutine-slack goroutines) or the heap by more than
// --max-heap-growth.
//
//	go run ./cmd/dyvms-bench --tasks 1000 --agents 50 --latency 50ms --concurrency 32 --rate 1000 --scrapes 5
//	go run ./cmd/dyvms-bench --tasks 1000 --agents 50 --latency 50ms --concurrency 32 --rate 1000 --faults 0.1 --duration 30m --interval 15s
//
// With --simulator-process the simulator runs in a child process (this
// binary again), so that heap, goroutine and CPU figures are the
// exporter's alone; both processes still share the machine's cores.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	tasks, agents      int
	latency, jitter    time.Duration
	concurrency        int
	rate               float64
	burst              int
	scrapes            int
	faults             float64
	duration, interval time.Duration
	sampleEvery        time.Duration
	baseline           time.Duration
	goroutineGrowth    float64
	goroutineSlack     int
	heapGrowth         float64
	scrapeTimeout      time.Duration
	gzip               bool
	json               bool
	seed               int64
	maxStartedAgo      time.Duration
	simProcess         bool
	idleConns          int
	cpuProfile         string
	heapProfile        string
	heapSampleEvery    time.Duration
	logExporter        bool
	gzipLevel          int
	metrics            string

	// internal: serve only the simulator (the child of --simulator-process).
	serveSimulator bool
}

// parse reads the flags; kingpin writes usage errors to stderr.
func parse(args []string, stdout, stderr io.Writer) (options, error) {
	var o options
	app := kingpin.New("dyvms-bench", "Measure dyvms_exporter's /metrics scrape time, memory and goroutines against the in-repo simulator, on loopback.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.HelpFlag.Short('h')
	app.Flag("tasks", "Number of simulated tasks (N), all configured in the exporter.").Default("1000").IntVar(&o.tasks)
	app.Flag("agents", "Agents per task (A).").Default("50").IntVar(&o.agents)
	app.Flag("latency", "Latency the simulator adds to every CloudMonitorTask (L); 0 adds none.").Default("50ms").DurationVar(&o.latency)
	app.Flag("jitter", "Uniform jitter around --latency (± J).").Default("0s").DurationVar(&o.jitter)
	app.Flag("concurrency", "The exporter's api.concurrency (C).").Default("8").IntVar(&o.concurrency)
	app.Flag("rate", "The exporter's api.requests_per_second (R); api.burst is the same unless --burst.").Default("20").Float64Var(&o.rate)
	app.Flag("burst", "The exporter's api.burst; 0 means equal to --rate (at least 1).").Default("0").IntVar(&o.burst)
	app.Flag("scrapes", "Bench mode: scrapes to time (K), one after the other.").Default("3").IntVar(&o.scrapes)
	app.Flag("faults", "Fraction P of CloudMonitorTask answers replaced by a fault: throttle, unavailable and malformed, P/3 each.").Default("0").Float64Var(&o.faults)
	app.Flag("duration", "Soak mode: scrape every --interval for this long (0: bench mode).").Default("0s").DurationVar(&o.duration)
	app.Flag("interval", "Soak mode: time between the starts of two scrapes.").Default("15s").DurationVar(&o.interval)
	app.Flag("sample-every", "Soak mode: goroutines and heap after GC are sampled this often, between scrapes.").Default("1m").DurationVar(&o.sampleEvery)
	app.Flag("baseline", "Soak mode: growth is measured from the first sample taken at least this long after the start.").Default("5m").DurationVar(&o.baseline)
	app.Flag("max-goroutine-growth", "Soak mode: fail if goroutines grow by more than this fraction of the baseline...").Default("0.2").Float64Var(&o.goroutineGrowth)
	app.Flag("goroutine-slack", "...and by more than this many goroutines (idle keep-alive connections come and go).").Default("10").IntVar(&o.goroutineSlack)
	app.Flag("max-heap-growth", "Soak mode: fail if the heap in use after GC grows by more than this fraction of the baseline.").Default("0.5").Float64Var(&o.heapGrowth)
	app.Flag("scrape-timeout", "X-Prometheus-Scrape-Timeout-Seconds sent with every scrape.").Default("120s").DurationVar(&o.scrapeTimeout)
	app.Flag("gzip", "Ask for a gzipped answer, as Prometheus does (--no-gzip for plain text).").Default("true").BoolVar(&o.gzip)
	app.Flag("json", "Print the report as JSON instead of tables.").BoolVar(&o.json)
	app.Flag("seed", "Simulator seed (model and fault draws).").Default("1").Int64Var(&o.seed)
	app.Flag("max-started-ago", "Simulated history per task before start-up (generate.max_started_ago).").Default("10m").DurationVar(&o.maxStartedAgo)
	app.Flag("simulator-process", "Run the simulator in a child process, so heap, goroutines and CPU are the exporter's alone.").BoolVar(&o.simProcess)
	app.Flag("idle-conns", "Give the exporter an HTTP client keeping this many idle connections per host (0: the exporter's own default client, 16).").Default("0").IntVar(&o.idleConns)
	app.Flag("cpuprofile", "Bench mode: write a CPU profile of the timed scrapes to this file (go tool pprof).").StringVar(&o.cpuProfile)
	app.Flag("heapprofile", "Write a heap profile to this file after the last scrape (bench) or at the end of the soak (soak: and FILE.baseline at the baseline sample, for go tool pprof -base).").StringVar(&o.heapProfile)
	app.Flag("heap-sample-every", "How often the heap is sampled during a scrape for its peak.").Default("5ms").DurationVar(&o.heapSampleEvery)
	app.Flag("what-if-gzip-level", "Experiment: compress /metrics answers in front of the exporter at this compress/flate level (1 fastest ... 6 default ... 9 smallest) instead of letting the exporter gzip them (at BestSpeed since 6c1b1cb); 0 leaves the exporter alone.").Default("0").IntVar(&o.gzipLevel)
	app.Flag("metrics", "The exporter's metrics: section as a YAML flow mapping, e.g. '{agent_status: current}' or '{agents: false}' (empty: the defaults).").StringVar(&o.metrics)
	app.Flag("log", "Log the exporter's warnings and errors to stderr.").BoolVar(&o.logExporter)
	app.Flag("internal.serve-simulator", "Internal: serve only the simulator (child of --simulator-process).").Hidden().BoolVar(&o.serveSimulator)
	if _, err := app.Parse(args); err != nil {
		return o, err
	}
	if o.burst == 0 {
		o.burst = max(int(o.rate), 1)
	}
	return o, o.validate()
}

func (o options) validate() error {
	switch {
	case o.tasks < 1:
		return fmt.Errorf("--tasks must be at least 1")
	case o.agents < 1:
		return fmt.Errorf("--agents must be at least 1")
	case o.latency < 0 || o.jitter < 0:
		return fmt.Errorf("--latency and --jitter must not be negative")
	case o.concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1")
	case !(o.rate > 0):
		return fmt.Errorf("--rate must be positive")
	case o.scrapes < 1:
		return fmt.Errorf("--scrapes must be at least 1")
	case o.faults < 0 || o.faults > 1:
		return fmt.Errorf("--faults must be between 0 and 1")
	case o.duration < 0:
		return fmt.Errorf("--duration must not be negative")
	case o.duration > 0 && (o.interval <= 0 || o.sampleEvery <= 0):
		return fmt.Errorf("--interval and --sample-every must be positive")
	case o.scrapeTimeout <= 0:
		return fmt.Errorf("--scrape-timeout must be positive")
	case o.gzipLevel < 0 || o.gzipLevel > 9:
		return fmt.Errorf("--what-if-gzip-level must be between 0 (off) and 9")
	case o.heapSampleEvery <= 0:
		return fmt.Errorf("--heap-sample-every must be positive")
	}
	return nil
}

// run is main without the exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "dyvms-bench:", err)
		return 2
	}
	if o.serveSimulator {
		if err := serveSimulatorChild(ctx, o, os.Stdin, stdout); err != nil {
			fmt.Fprintln(stderr, "dyvms-bench simulator:", err)
			return 1
		}
		return 0
	}
	rep, err := runBench(ctx, o, stdout, stderr)
	if rep == nil {
		fmt.Fprintln(stderr, "dyvms-bench:", err)
		return 1
	}
	// A report with an error (interrupted, or a failed clean-up) is still
	// worth printing.
	code := 0
	if err != nil {
		fmt.Fprintln(stderr, "dyvms-bench:", err)
		code = 1
	}
	if o.json {
		err = writeJSON(stdout, rep)
	} else {
		err = writeText(stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(stderr, "dyvms-bench:", err)
		return 1
	}
	if rep.Soak != nil && !rep.Soak.Pass {
		return 1
	}
	return code
}
