// Package testutil holds the few helpers that several packages' tests
// need: a goroutine-safe log buffer for child processes and a free
// loopback address. Tests only; nothing in the exporter imports it.
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
// child process that must be told its listen address. Tests stay on
// loopback: nothing else is ever a target.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// RequireTool returns the path of a command a test needs; without it the
// test skips on a developer machine and fails when CI is set (CI installs
// it). hint says how to install it.
func RequireTool(t testing.TB, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not on PATH (%s)", name, hint)
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatalf("%s; CI=%s must have it", msg, ci)
	}
	t.Skipf("%s; skipping (with CI=true this fails)", msg)
	return ""
}
