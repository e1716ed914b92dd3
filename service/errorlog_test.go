package service

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// logLines keeps every log line as text.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Log(kv ...any) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprint(kv...))
	return nil
}

func (l *logLines) find(substr string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			return s
		}
	}
	return ""
}

// Without a credentials block and with nothing for the vendor's chain to
// find, the failing task's log line says that no credentials are
// configured and how to give some, not that the failure is transient.
func TestNoCredentialsHint(t *testing.T) {
	home := t.TempDir() // no ~/.aliyun, no ~/.alibabacloud
	t.Setenv("HOME", home)
	for _, v := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
		"ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_ECS_METADATA"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	cfg := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(cfg, []byte("endpoint: "+e.simURL+"\ntasks: [{enterprise_id: 8000001, task_id: 1}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logLines{}
	reg := prometheus.NewRegistry()
	svc, err := New(Options{ConfigFile: cfg, Logger: logs, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.Handler(HTTPOptions{}, make(chan chan error))
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	if _, _, body := e.get("/metrics", nil); !strings.Contains(body, "dyvms_task_scrape_success{enterprise_id=\"8000001\",task_id=\"1\"} 0") {
		t.Fatalf("the task did not fail:\n%s", body)
	}
	line := logs.find("task scrape failed")
	if line == "" {
		t.Fatalf("no failure logged: %v", logs.lines)
	}
	if !strings.Contains(line, "no credentials are configured") || !strings.Contains(line, "ALIBABA_CLOUD_ACCESS_KEY_ID") || strings.Contains(line, "transient") {
		t.Errorf("the failure is logged without the missing-credentials hint:\n%s", line)
	}
}
