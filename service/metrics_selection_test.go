package service

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetricsSectionHonoured: /metrics and /probe both build only what the
// metrics: section asks for, and a reload changes it for the next scrape.
func TestMetricsSectionHonoured(t *testing.T) {
	e := newTestEnv(t, defaultExporterConfig+"metrics:\n  agent_status: current\n  exclude: [dyvms_agent_info]\n", HTTPOptions{})
	for _, target := range []string{"/metrics", "/probe?enterprise_id=8000001&task_id=2"} {
		code, _, body := e.get(target, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, code, body)
		}
		if n := len(lines(body, "dyvms_agent_info{")); n != 0 {
			t.Errorf("%s: %d dyvms_agent_info series, excluded", target, n)
		}
		status, called := lines(body, "dyvms_agent_status{"), lines(body, "dyvms_agent_called{")
		if len(called) == 0 || len(status) != len(called) {
			t.Errorf("%s: %d agent_status series for %d agent rows; current mode wants one each", target, len(status), len(called))
		}
		for _, l := range status {
			if !strings.HasSuffix(l, "} 1") {
				t.Errorf("%s: %s: current mode writes 1 only", target, l)
			}
		}
	}

	e.writeConfig(defaultExporterConfig + "metrics: {agents: false}\n")
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/metrics", "/probe?enterprise_id=8000001&task_id=2"} {
		_, _, body := e.get(target, nil)
		if n := len(lines(body, "dyvms_agent_")); n != 0 {
			t.Errorf("%s: %d per-agent lines with agents: false", target, n)
		}
		if n := len(lines(body, "dyvms_task_agents_online{")); n == 0 {
			t.Errorf("%s: task-level families gone too", target)
		}
	}
}
