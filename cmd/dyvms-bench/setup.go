package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/credentials"
	"github.com/dyvms-community/dyvms_exporter/service"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// Generated ids: enterprises from firstEnterprise, tasks from 1 in each.
const (
	firstEnterprise = 8000001
	firstTask       = 1
	// Environment of the --simulator-process child: the key pair stays out
	// of the process list.
	envKeyID  = "DYVMS_BENCH_SIM_ACCESS_KEY_ID"
	envSecret = "DYVMS_BENCH_SIM_ACCESS_KEY_SECRET"
)

// enterprisesFor spreads n tasks over the largest number of enterprises
// up to 10 that divides n, so that every enterprise has as many tasks.
func enterprisesFor(n int) int {
	for d := min(n, 10); d > 1; d-- {
		if n%d == 0 {
			return d
		}
	}
	return 1
}

// benchTasks lists the generated tasks in the order the config lists them.
func benchTasks(n int) [][2]int64 {
	ents := enterprisesFor(n)
	per := n / ents
	out := make([][2]int64, 0, n)
	for e := range ents {
		for k := range per {
			out = append(out, [2]int64{firstEnterprise + int64(e), firstTask + int64(k)})
		}
	}
	return out
}

// simConfig is the simulator's configuration: generated tasks, one key
// pair, no faults (they are set after the warm-up).
func simConfig(o options, id, secret string) simulator.Config {
	ents := enterprisesFor(o.tasks)
	return simulator.Config{
		Seed:        o.seed,
		Speed:       1,
		Credentials: []simulator.Credential{{AccessKeyID: id, AccessKeySecret: secret}},
		Generate: &simulator.Generate{
			Enterprises:        ents,
			TasksPerEnterprise: o.tasks / ents,
			AgentsPerTask:      o.agents,
			FirstEnterpriseID:  firstEnterprise,
			FirstTaskID:        firstTask,
			MaxStartedAgo:      simulator.Duration(o.maxStartedAgo),
		},
	}
}

// faultRules are the rules set after the warm-up: latency on every
// CloudMonitorTask, and the --faults mix.
func faultRules(o options) simulator.Faults {
	var f simulator.Faults
	if o.latency > 0 || o.jitter > 0 {
		f.Rules = append(f.Rules, simulator.FaultRule{Kind: simulator.FaultLatency, Action: "CloudMonitorTask",
			Latency: simulator.Duration(o.latency), Jitter: simulator.Duration(o.jitter)})
	}
	if o.faults > 0 {
		for _, k := range []string{simulator.FaultThrottle, simulator.FaultUnavailable, simulator.FaultMalformed} {
			f.Rules = append(f.Rules, simulator.FaultRule{Kind: k, Action: "CloudMonitorTask", Probability: o.faults / 3})
		}
	}
	return f
}

// simHandle is a running simulator, in this process or a child.
type simHandle struct {
	endpoint string // http://127.0.0.1:port
	pid      int    // the child's, 0 in-process
	admin    *http.Client
	close    func() error
}

func listenSimulator(cfg simulator.Config) (string, *http.Server, error) {
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", sim.AdminHandler())
	mux.Handle("/", sim)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv, nil
}

func startSimulator(o options, id, secret string, stderr io.Writer) (*simHandle, error) {
	h := &simHandle{admin: &http.Client{Timeout: 10 * time.Second}}
	if !o.simProcess {
		ep, srv, err := listenSimulator(simConfig(o, id, secret))
		if err != nil {
			return nil, err
		}
		h.endpoint = ep
		h.close = func() error { return shutdown(srv) }
		return h, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "--internal.serve-simulator",
		"--tasks", strconv.Itoa(o.tasks), "--agents", strconv.Itoa(o.agents),
		"--seed", strconv.FormatInt(o.seed, 10), "--max-started-ago", o.maxStartedAgo.String())
	cmd.Env = append(os.Environ(), envKeyID+"="+id, envSecret+"="+secret)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe() // closing it tells the child to stop; so does our death
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("simulator process did not start (%q): %v", line, err)
	}
	h.endpoint = strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	h.pid = cmd.Process.Pid
	h.close = func() error {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			return <-done
		}
	}
	return h, nil
}

// serveSimulatorChild is the --simulator-process child: it serves until
// its stdin closes (the parent closed it or died) or ctx ends.
func serveSimulatorChild(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	id, secret := os.Getenv(envKeyID), os.Getenv(envSecret)
	if id == "" || secret == "" {
		return errors.New("started without a key pair; this mode is for dyvms-bench --simulator-process only")
	}
	ep, srv, err := listenSimulator(simConfig(o, id, secret))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening %s\n", ep)
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, stdin); close(eof) }()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	return shutdown(srv)
}

// shutdown stops srv, closing what is still open after a short grace: a
// connection the exporter's transport dialled but never used stays "new"
// on the server side, and Shutdown would wait for it.
func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		return srv.Close()
	} else {
		return err
	}
}

func (h *simHandle) setFaults(f simulator.Faults) error {
	body, err := json.Marshal(f)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPut, h.endpoint+"/admin/faults", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := h.admin.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("setting the simulator's faults: %s: %s", resp.Status, b)
	}
	return nil
}

func (h *simHandle) stats() (simulator.Stats, error) {
	var s simulator.Stats
	resp, err := h.admin.Get(h.endpoint + "/admin/stats")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("simulator stats: %s", resp.Status)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// warmUp calls CloudMonitorTask once for every task, directly (not through
// the exporter and its rate limiter) and before any fault is set, so that
// the simulator's one-off history simulation is not timed.
func warmUp(ctx context.Context, endpoint, id, secret string, tasks [][2]int64) (time.Duration, error) {
	const workers = 16
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, IdleConnTimeout: 5 * time.Second}}
	defer hc.CloseIdleConnections()
	c, err := apiclient.New(apiclient.Options{Endpoint: endpoint, Credentials: credentials.NewStatic(id, secret, ""), HTTPClient: hc})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(tasks) || ctx.Err() != nil {
					return
				}
				cctx, cancel := context.WithTimeout(ctx, time.Minute)
				_, err := c.CloudMonitorTask(cctx, tasks[i][0], tasks[i][1])
				cancel()
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("task %d/%d: %w", tasks[i][0], tasks[i][1], err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return 0, fmt.Errorf("warm-up: %d of %d tasks failed, first: %w", len(errs), len(tasks), errs[0])
	}
	return time.Since(start), ctx.Err()
}

// exporterHandle is the exporter under test, served on loopback.
type exporterHandle struct {
	url   string // .../metrics
	dir   string
	srv   *http.Server
	hc    *http.Client // the exporter's API client, when --idle-conns
	reg   *prometheus.Registry
	close func() error
}

// exporterConfig is the configuration file the exporter loads.
func exporterConfig(o options, endpoint, id, secretFile string, tasks [][2]int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by dyvms-bench.\nendpoint: %s\ntimezone: Asia/Shanghai\n", endpoint)
	fmt.Fprintf(&b, "credentials:\n  access_key_id: %s\n  access_key_secret_file: %s\n", id, secretFile)
	fmt.Fprintf(&b, "api:\n  requests_per_second: %s\n  burst: %d\n  concurrency: %d\n",
		strconv.FormatFloat(o.rate, 'g', -1, 64), o.burst, o.concurrency)
	if o.metrics != "" {
		fmt.Fprintf(&b, "metrics: %s\n", o.metrics)
	}
	b.WriteString("tasks:\n")
	for _, t := range tasks {
		fmt.Fprintf(&b, "  - {enterprise_id: %d, task_id: %d}\n", t[0], t[1])
	}
	return b.String()
}

func startExporter(o options, endpoint, id, secret string, tasks [][2]int64, stderr io.Writer) (_ *exporterHandle, err error) {
	h := &exporterHandle{}
	h.dir, err = os.MkdirTemp("", "dyvms-bench-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(h.dir)
		}
	}()
	secretFile := filepath.Join(h.dir, "access_key_secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		return nil, err
	}
	cfgFile := filepath.Join(h.dir, "config.yml")
	if err := os.WriteFile(cfgFile, []byte(exporterConfig(o, endpoint, id, secretFile, tasks)), 0o600); err != nil {
		return nil, err
	}
	logger := log.NewNopLogger()
	if o.logExporter {
		logger = level.NewFilter(log.NewLogfmtLogger(log.NewSyncWriter(stderr)), level.AllowWarn())
	}
	// The registry main.go builds.
	reg := prometheus.NewRegistry()
	h.reg = reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	service.RegisterBuildInfo(reg)
	if o.idleConns > 0 {
		h.hc = apiHTTPClient(o.idleConns)
	}
	svc, err := service.New(service.Options{ConfigFile: cfgFile, Logger: logger, Registerer: reg, Gatherer: reg, HTTPClient: h.hc})
	if err != nil {
		return nil, err
	}
	handler, err := svc.Handler(service.HTTPOptions{TimeoutOffset: 500 * time.Millisecond}, make(chan chan error))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if o.gzipLevel > 0 {
		handler = gzipLevelHandler(handler, o.gzipLevel)
	}
	h.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.srv.Serve(ln) }()
	h.url = "http://" + ln.Addr().String() + "/metrics"
	h.close = func() error {
		err := shutdown(h.srv)
		if h.hc != nil {
			h.hc.CloseIdleConnections()
		}
		return errors.Join(err, os.RemoveAll(h.dir))
	}
	return h, nil
}

// apiHTTPClient is apiclient's default client with another idle
// connection limit per host (--idle-conns): the default keeps 16, so a
// concurrency above 16 opens a new connection for most requests.
func apiHTTPClient(idle int) *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          max(32, idle),
			MaxIdleConnsPerHost:   idle,
		},
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// gzipLevelHandler (--what-if-gzip-level) compresses the answer itself at
// level and hides Accept-Encoding from the exporter, which then writes
// plain text into the compressor: what collector.Handler would do with
// gzip.NewWriterLevel(w, level) instead of gzip.NewWriter(w).
func gzipLevelHandler(next http.Handler, level int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(strings.ToLower(r.Header.Get("Accept-Encoding")), "gzip") {
			next.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context())
		r.Header.Del("Accept-Encoding")
		gz, err := gzip.NewWriterLevel(w, level)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		defer gz.Close()
		next.ServeHTTP(gzipResponseWriter{w, gz}, r)
	})
}

type gzipResponseWriter struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (g gzipResponseWriter) Write(p []byte) (int, error) { return g.gz.Write(p) }
