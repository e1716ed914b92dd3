package service

import (
	"net/http"
	"strings"
	"testing"
)

// The landing page links only what answers: no profiling links unless
// pprof is served, and then they answer.
func TestLandingPageLinksAnswer(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		e := newTestEnv(t, defaultExporterConfig, HTTPOptions{Pprof: pprof})
		code, _, landing := e.get("/", nil)
		if code != http.StatusOK {
			t.Fatalf("pprof %v: landing page answered %d", pprof, code)
		}
		links := 0
		for _, part := range strings.Split(landing, `href="`)[1:] {
			href, _, _ := strings.Cut(part, `"`)
			if !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "/debug/pprof/profile") {
				continue // external, or a 30 s CPU profile
			}
			links++
			if c, _, _ := e.get(href, nil); c != http.StatusOK {
				t.Errorf("pprof %v: the landing page links %s, which answers %d", pprof, href, c)
			}
		}
		if links < 5 {
			t.Errorf("pprof %v: only %d local links on the landing page", pprof, links)
		}
		if got := strings.Contains(landing, "/debug/pprof/"); got != pprof {
			t.Errorf("pprof %v: landing page links /debug/pprof/: %v", pprof, got)
		}
		if c, _, _ := e.get("/debug/pprof/heap", nil); (c == http.StatusOK) != pprof {
			t.Errorf("pprof %v: /debug/pprof/heap answered %d", pprof, c)
		}
	}
}
