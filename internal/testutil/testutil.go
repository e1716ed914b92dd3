// Package testutil is the tests' one harness: it builds the exporter
// binary (BuildExporter, once per test process), polls for a condition
// (Eventually, the only polling loop), finds the command-line tools some
// tests run (Tool, ToolFromEnv: a skip on a developer machine, a failure
// in CI), and holds a goroutine-safe log buffer for child processes.
// Tests only; nothing in the exporter imports it.
package testutil

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// SyncBuffer is a bytes.Buffer safe for a child process's stdout/stderr
// copier and the test reading it at the same time.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreeAddr returns a loopback host:port that was free a moment ago, for a
// child process that must be told its listen address and cannot report
// the one it took (Prometheus, Alertmanager). Another process may take
// the port first: for the exporter, listen on port 0 and read the address
// from its "Listening on" line instead. Tests stay on loopback: nothing
// else is ever a target.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// InCI reports whether the tests run in CI (CI set, and not to false or 0),
// where a missing tool is a failure rather than a reason to skip.
func InCI() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

// Tool returns the path of the command name on PATH. Without it the test
// skips on a developer machine and fails in CI; hint says how to get it.
func Tool(t testing.TB, name, hint string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missingTool(t, fmt.Sprintf("%s is not on PATH (%s)", name, hint))
	return ""
}

// ToolFromEnv returns the executable the environment variable env names
// (.ci/run sets it to a binary it built into its cache), or else fallback
// if that is an executable file. Without either the test skips on a
// developer machine and fails in CI.
func ToolFromEnv(t testing.TB, env, fallback, hint string) string {
	t.Helper()
	p, from := os.Getenv(env), "$"+env
	if p == "" {
		p, from = fallback, "the default path"
	}
	if p != "" {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	missingTool(t, fmt.Sprintf("no executable at %s %q (%s)", from, p, hint))
	return ""
}

func missingTool(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s; CI=%s must have it", msg, os.Getenv("CI"))
	}
	t.Skipf("%s; skipping (with CI=true this fails)", msg)
}

// CachedToolPath is where .ci/run keeps a tool it builds:
// ${XDG_CACHE_HOME:-$HOME/.cache}/dyvms-exporter-ci/<tool>-<version>/<bin>.
// Tests fall back to it when the environment variable is not set, so that
// a developer who ran .ci/run once gets the same tools.
func CachedToolPath(tool, version, bin string) string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = home + "/.cache"
	}
	return base + "/dyvms-exporter-ci/" + tool + "-" + version + "/" + bin
}
