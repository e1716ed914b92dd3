package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// TestAccessKeyIDFile: with the id only in a file, the exporter signs with
// the id it reads there, names the key by the file in its load log, and
// keys the rate limiter by the file, so the bucket survives a rotation.
func TestAccessKeyIDFile(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	dir := t.TempDir()
	idFile := filepath.Join(dir, "access_key_id")
	writeTestFile(t, idFile, simKeyID+"\n")
	writeTestFile(t, filepath.Join(dir, "access_key_secret"), simSecret)
	cfg := filepath.Join(dir, "config.yml")
	writeTestFile(t, cfg, "endpoint: "+e.simURL+"\ncredentials:\n  access_key_id_file: access_key_id\n  access_key_secret_file: access_key_secret\n"+
		"tasks: [{enterprise_id: 8000001, task_id: 1}]\n")
	logs := &logLines{}
	reg := prometheus.NewRegistry()
	svc, err := New(Options{ConfigFile: cfg, Logger: logs, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if e.handler, err = svc.Handler(HTTPOptions{}, make(chan chan error)); err != nil {
		t.Fatal(err)
	}
	if _, _, body := e.get("/metrics", nil); !strings.Contains(body, `dyvms_task_scrape_success{enterprise_id="8000001",task_id="1"} 1`) {
		t.Fatalf("the task was not read with the id from the file:\n%s", body)
	}
	if line := logs.find("configuration loaded"); !strings.Contains(line, "access key access_key_id_file "+idFile) {
		t.Errorf("the load log does not name the id file: %q", line)
	}
	p := svc.accounts["default"].api
	c := svc.Config()
	lim := svc.limiters.Get("access_key_id_file "+idFile, pacer.LimiterConfig{RequestsPerSecond: c.API.RequestsPerSecond, Burst: c.API.Burst, Adaptive: true})
	if p.Limiter() != lim {
		t.Error("the rate limiter is not keyed by the id file")
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
