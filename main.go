// Command dyvms_exporter exports the live state of Alibaba Cloud Voice
// Messaging Service call-centre tasks (CloudMonitorTask) to Prometheus.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/internal/demo"
	"github.com/dyvms-community/dyvms_exporter/internal/logging"
	"github.com/dyvms-community/dyvms_exporter/service"
)

// defaultAddress: the 9100-9999 exporter range of Prometheus' default port
// allocations is full; 10681 is clear of Kubernetes' 10248-10260 and of
// the well-known services (see docs/configuration.md, "Default port"). A
// variable only so that a test can run the exporter on a free port.
var defaultAddress = ":10681"

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	app := kingpin.New("dyvms_exporter", "Prometheus exporter for Alibaba Cloud Voice Messaging Service call-centre tasks.")
	var (
		configFile    = app.Flag("config.file", "Exporter configuration file.").Default("config.yml").String()
		configCheck   = app.Flag("config.check", "Validate the configuration file and exit (0 valid, 1 invalid) without calling the API.").Bool()
		telemetryPath = app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		timeoutOffset = app.Flag("scrape.timeout-offset", "Time kept back from Prometheus' scrape timeout so the answer arrives in time.").Default("500ms").Duration()
		maxTimeout    = app.Flag("scrape.max-timeout", "Longest a scrape may take, whatever X-Prometheus-Scrape-Timeout-Seconds says (an unusable header gets 10s, also capped).").Default(collector.DefaultMaxScrapeTimeout.String()).Duration()
		useSimulator  = app.Flag("simulator", "Ignore --config.file and read a built-in simulated call centre (no Alibaba Cloud account needed).").Bool()
		externalAddr  = app.Flag("web.external-address", "host:port that /sd gives as every task's target (default: the Host the /sd request came to). Set it behind a proxy, load balancer or NAT.").String()
		simSpeed      = app.Flag("simulator.speed", "With --simulator: how many times faster than real time the simulated call centre runs.").Default("1").Float64()
		maxRequests   = app.Flag("web.max-requests", "Most scrapes (/metrics, /probe) served at once; more are answered 503 at once and counted in dyvms_exporter_scrapes_rejected_total. 0: no limit.").Default(strconv.Itoa(service.DefaultMaxRequests)).Int()
		pprofOn       = app.Flag("web.enable-pprof", "Serve the Go runtime's profiles under /debug/pprof/ (off: they cost CPU while they run and show the process's internals).").Bool()
		logLevel      = app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error")
		logFormat     = app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json")
		toolkitFlags  = kingpinflag.AddFlags(app, defaultAddress)
	)
	var listenSet bool
	app.GetFlag("web.listen-address").IsSetByUser(&listenSet)
	app.Version(version.Print("dyvms_exporter"))
	app.HelpFlag.Short('h')
	app.UsageWriter(os.Stdout) // --help and --version, as node_exporter: `--help | less` works
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logger, slogger := logging.New(os.Stderr, *logFormat, *logLevel)
	if *maxTimeout <= 0 {
		fmt.Fprintln(os.Stderr, "--scrape.max-timeout must be positive")
		return 2
	}

	if *configCheck {
		cfg, err := config.Load(*configFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, w := range cfg.Warnings {
			fmt.Fprintln(os.Stderr, "warning: "+w.Error())
		}
		fmt.Fprintf(os.Stdout, "%s: configuration is valid\n", *configFile)
		return 0
	}

	if *useSimulator {
		if !listenSet {
			// The demo is for whoever sits at this machine (the quick start
			// says to open 127.0.0.1), and its simulator's admin API has
			// no authentication: nothing to offer the network unasked.
			*toolkitFlags.WebListenAddresses = []string{loopback(defaultAddress)}
		}
		d, err := demo.Start(*simSpeed)
		if err != nil {
			level.Error(logger).Log("msg", "cannot start the simulator", "err", err)
			return 1
		}
		defer d.Close()
		*configFile = d.ConfigFile
		level.Info(logger).Log("msg", "reading the built-in simulator, not Alibaba Cloud", "endpoint", d.Endpoint, "admin", d.AdminURL, "config_file", d.ConfigFile)
	}

	level.Info(logger).Log("msg", "starting dyvms_exporter", "version", version.Info(), "build_context", version.BuildContext())
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	service.RegisterBuildInfo(reg)
	svc, err := service.New(service.Options{ConfigFile: *configFile, Logger: logger, Registerer: reg, Gatherer: reg})
	if err != nil {
		level.Error(logger).Log("msg", "cannot load the configuration", "err", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	hupEvents := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case hupEvents <- struct{}{}:
			default: // a reload is already pending
			}
		}
	}()
	reloads := make(chan chan error)
	go svc.RunReloads(ctx, hupEvents, reloads)
	go svc.RunDiscovery(ctx)
	go svc.RunCallRecords(ctx)
	go svc.RunQueues(ctx)

	handler, err := svc.Handler(service.HTTPOptions{TelemetryPath: *telemetryPath, TimeoutOffset: *timeoutOffset, MaxScrapeTimeout: *maxTimeout, ExternalAddress: *externalAddr, Pprof: *pprofOn, MaxRequests: *maxRequests}, reloads)
	if err != nil {
		level.Error(logger).Log("msg", "cannot build the HTTP handlers", "err", err)
		return 1
	}
	srv := newServer(handler, *maxTimeout)
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- web.ListenAndServe(srv, toolkitFlags, slogger)
	}()
	select {
	case err := <-serveErr:
		level.Error(logger).Log("msg", "HTTP server stopped", "err", err)
		return 1
	case <-ctx.Done():
		level.Info(logger).Log("msg", "shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		return 0
	}
}

// loopback is addr (host:port) with the host replaced by 127.0.0.1.
func loopback(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		port = strings.TrimPrefix(addr, ":")
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// idleTimeout closes a keep-alive connection that has sent no request for
// this long. It is longer than the usual scrape intervals (15 s to 1 min),
// so Prometheus keeps reusing its connection, and short enough that idle
// connections, however many are opened, cannot keep the process out of
// file descriptors for long. A variable only for the test that lowers it.
var idleTimeout = 2 * time.Minute

// newServer sets every limit a long-lived server on a shared network needs:
// without them, connections that stay idle, or that send their request a
// byte at a time, each hold a file descriptor until the client lets go.
// maxBudget is the longest a scrape may take (--scrape.max-timeout): the
// write timeout must not cut such a scrape short.
func newServer(h http.Handler, maxBudget time.Duration) *http.Server {
	return &http.Server{
		Handler: h,
		// A request's headers (slowloris) and then its body (only
		// POST /-/reload has one, and it is empty) must arrive in time.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Counted from the end of the request: the scrape itself plus
		// writing its answer to a slow reader.
		WriteTimeout:   maxBudget + time.Minute,
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: 64 << 10, // Prometheus sends a few hundred bytes
	}
}
