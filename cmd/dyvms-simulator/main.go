// Command dyvms-simulator serves the simulated Alibaba Cloud VMS gateway
// (CloudMonitorTask, CloudQueryTask, CloudQueryPredictiveCallCdr, and for an enterprise with an
// inbound section CloudListOnlineAgent, CloudListQueue and CloudQueryIbCdr) for demos and
// end-to-end tests of dyvms_exporter. See package simulator for what it models.
//
//	go run ./cmd/dyvms-simulator --listen 127.0.0.1:9915 --config cmd/dyvms-simulator/example.yml
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/dyvms-community/dyvms_exporter/simulator"
)

func main() {
	app := kingpin.New("dyvms-simulator", "Simulated Alibaba Cloud VMS API (dyvmsapi 2017-05-25) for testing dyvms_exporter.")
	listen := app.Flag("listen", "Address to serve on; loopback only unless --allow-remote. Default: the config's listen, else "+simulator.DefaultListen+".").String()
	configFile := app.Flag("config", "Simulator configuration (YAML). Without it the built-in demo runs with the --demo.* key pair.").ExistingFile()
	allowRemote := app.Flag("allow-remote", "Allow a listen address other than loopback. The admin endpoints have no authentication: think twice.").Bool()
	adminOn := app.Flag("admin", "Serve the admin endpoints (/admin/faults, /admin/scenario, /admin/stats) on the same listener.").Default("true").Bool()
	stsListen := app.Flag("sts.listen", "Also serve STS AssumeRole (for accounts: roles) over https on this address, loopback only; empty: off. The certificate is self-signed, made at start-up.").String()
	stsCA := app.Flag("sts.ca-file", "Write the STS certificate (PEM) here, for the exporter to trust (SSL_CERT_FILE).").String()
	speed := app.Flag("speed", "Override the configuration's speed: simulated seconds per real second.").Float64()
	demoID := app.Flag("demo.access-key-id", "AccessKeyId the demo configuration accepts.").Default("LTAIsimulatordemo").String()
	demoSecret := app.Flag("demo.access-key-secret", "AccessKeySecret the demo configuration accepts.").
		Envar("DYVMS_SIMULATOR_DEMO_SECRET").Default("simulator-demo-secret").String()
	kingpin.MustParse(app.Parse(os.Args[1:]))

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, options{
		listen: *listen, configFile: *configFile, allowRemote: *allowRemote, admin: *adminOn, speed: *speed,
		stsListen: *stsListen, stsCAFile: *stsCA,
		demo: simulator.Credential{AccessKeyID: *demoID, AccessKeySecret: *demoSecret},
	}); err != nil {
		logger.Error("dyvms-simulator stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

type options struct {
	listen, configFile string
	stsListen          string // empty: no STS
	stsCAFile          string // where to write the STS certificate
	allowRemote, admin bool
	speed              float64
	demo               simulator.Credential
	ready              func(addr string) // called once listening (tests)
	stsReady           func(addr string) // called once STS listens (tests)
}

// run serves until ctx ends.
func run(ctx context.Context, logger *slog.Logger, o options) error {
	cfg, err := loadConfig(o)
	if err != nil {
		return err
	}
	addr := o.listen
	if addr == "" {
		addr = cfg.Listen
	}
	if err := checkListen(addr, o.allowRemote); err != nil {
		return err
	}
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", sim)
	if o.admin {
		mux.Handle("/admin/", sim.AdminHandler())
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(cfg.Credentials))
	for _, c := range cfg.Credentials {
		keys = append(keys, c.String()) // id and kind only, never the secret
	}
	tasks := 0
	for _, e := range cfg.Enterprises {
		tasks += len(e.Tasks)
	}
	logger.Info("dyvms-simulator listening", "address", l.Addr().String(), "keys", strings.Join(keys, "; "),
		"enterprises", len(cfg.Enterprises), "tasks", tasks, "speed", cfg.Speed, "timezone", cfg.Timezone,
		"seed", cfg.Seed, "admin", o.admin, "config", o.configFile)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(l) }()
	if o.stsListen != "" {
		sts, err := serveSTS(sim, o, logger, errc)
		if err != nil {
			srv.Close()
			return err
		}
		defer sts.Close()
	}
	if o.ready != nil {
		o.ready(l.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// serveSTS serves the simulator's STS over https with a certificate made
// now for the loopback addresses, written to o.stsCAFile when set.
func serveSTS(sim *simulator.Simulator, o options, logger *slog.Logger, errc chan<- error) (*http.Server, error) {
	if err := checkListen(o.stsListen, false); err != nil {
		return nil, fmt.Errorf("--sts.listen: %w (the certificate is for loopback only)", err)
	}
	cert, pemBytes, err := simulator.LoopbackCertificate()
	if err != nil {
		return nil, err
	}
	if o.stsCAFile != "" {
		if err := os.WriteFile(o.stsCAFile, pemBytes, 0o644); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", o.stsListen)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: sim.STSHandler(), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() {
		if err := srv.ServeTLS(l, "", ""); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	logger.Info("STS listening (https)", "address", l.Addr().String(), "ca_file", o.stsCAFile)
	if o.stsReady != nil {
		o.stsReady(l.Addr().String())
	}
	return srv, nil
}

func loadConfig(o options) (simulator.Config, error) {
	var cfg simulator.Config
	if o.configFile != "" {
		var err error
		if cfg, err = simulator.LoadConfig(o.configFile); err != nil {
			return cfg, err
		}
	} else {
		cfg = simulator.DemoConfig(o.demo)
		cfg.Listen = simulator.DefaultListen // what a config file without listen gets
	}
	if o.speed != 0 {
		cfg.Speed = o.speed
	}
	return cfg, nil
}

// checkListen refuses addresses reachable from elsewhere: the gateway
// accepts test keys and the admin endpoints have no authentication.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %v", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("listen address %q is not loopback; pass --allow-remote to serve it anyway", addr)
}
