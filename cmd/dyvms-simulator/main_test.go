package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/dyvms-community/dyvms_exporter/simulator"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

func TestCheckListen(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:9915": true, "localhost:0": true, "[::1]:9915": true, "127.1.2.3:80": true,
		":9915": false, "0.0.0.0:9915": false, "192.168.1.10:9915": false, "[::]:9915": false, "nonsense": false,
	} {
		if err := checkListen(addr, false); (err == nil) != ok {
			t.Errorf("checkListen(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
	if err := checkListen("0.0.0.0:9915", true); err != nil {
		t.Errorf("--allow-remote: %v", err)
	}
}

func TestExampleConfig(t *testing.T) {
	cfg, err := loadConfig(options{configFile: "example.yml", speed: 60})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Speed != 60 || len(cfg.Enterprises) != 2 {
		t.Fatalf("%+v", cfg)
	}
	if _, err := simulator.New(cfg, nil); err != nil {
		t.Fatalf("example.yml does not start: %v", err)
	}
}

// Without --config and --listen the built-in demo serves on the default
// address, as the README's `go run ./cmd/dyvms-simulator` expects.
func TestDemoListensOnDefault(t *testing.T) {
	cfg, err := loadConfig(options{demo: simulator.Credential{AccessKeyID: "LTAIdemo", AccessKeySecret: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != simulator.DefaultListen {
		t.Errorf("the demo listens on %q, want %s", cfg.Listen, simulator.DefaultListen)
	}
}

// The command serves the demo, logs its key id but not its secret, and
// stops when its context ends.
func TestRunDemo(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	var logs testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	demo := simulator.Credential{AccessKeyID: "LTAIdemo", AccessKeySecret: "very-secret-value"}
	go func() {
		errc <- run(ctx, slog.New(slog.NewTextHandler(&logs, nil)), options{
			listen: "127.0.0.1:0", admin: true, demo: demo, ready: func(a string) { addrc <- a },
		})
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatal(err)
	}

	c, err := openapi.NewClient(&openapi.Config{AccessKeyId: dara.String(demo.AccessKeyID),
		AccessKeySecret: dara.String(demo.AccessKeySecret), Endpoint: dara.String(addr), Protocol: dara.String("http")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.CallApi(&openapi.Params{Action: dara.String("CloudMonitorTask"), Version: dara.String("2017-05-25"),
		Protocol: dara.String("HTTP"), Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json")},
		&openapi.OpenApiRequest{Query: map[string]*string{"EnterpriseId": dara.String("7000002"), "TaskId": dara.String("19")}},
		&dara.RuntimeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := res["body"].(map[string]any); body["Code"] != "OK" {
		t.Fatalf("%v", res["body"])
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); !strings.Contains(l, "LTAIdemo") || strings.Contains(l, demo.AccessKeySecret) {
		t.Fatalf("logs must name the key and not its secret:\n%s", l)
	}
}

// With --sts.listen the command serves STS over https and writes the
// certificate to trust: the vendor's credential library assumes a role of
// another account with it.
func TestRunSTS(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	dir := t.TempDir()
	cfgFile, caFile := filepath.Join(dir, "sim.yml"), filepath.Join(dir, "sts-ca.pem")
	if err := os.WriteFile(cfgFile, []byte(`credentials: [{access_key_id: LTAIa, access_key_secret: secret-a}]
accounts:
  - {name: b, uid: "12", enterprises: [2], roles: [{name: reader, external_id: x, trust: [default]}]}
enterprises: [{id: 1, channels: 1}, {id: 2, channels: 1}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stsc, errc := make(chan string, 1), make(chan error, 1)
	go func() {
		errc <- run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), options{
			listen: "127.0.0.1:0", configFile: cfgFile, stsListen: "127.0.0.1:0", stsCAFile: caFile,
			stsReady: func(a string) { stsc <- a },
		})
	}()
	var sts string
	select {
	case sts = <-stsc:
	case err := <-errc:
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the CA file holds no certificate")
	}
	tr := http.DefaultTransport.(*http.Transport)
	old := tr.TLSClientConfig
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	defer func() { tr.TLSClientConfig = old }()
	p, err := providers.NewRAMRoleARNCredentialsProviderBuilder().WithAccessKeyId("LTAIa").WithAccessKeySecret("secret-a").
		WithRoleArn("acs:ram::12:role/reader").WithExternalId("x").WithStsEndpoint(sts).Build()
	if err != nil {
		t.Fatal(err)
	}
	if c, err := p.GetCredentials(); err != nil || !strings.HasPrefix(c.AccessKeyId, "STS.") {
		t.Fatalf("AssumeRole: %v %v", c, err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), options{listen: "127.0.0.1:0", configFile: cfgFile, stsListen: "10.0.0.1:9916"}); err == nil {
		t.Error("STS on a non-loopback address was accepted")
	}
}
