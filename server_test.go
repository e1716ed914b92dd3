package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

// childEnv makes the test binary run the exporter itself (TestMain), so a
// test can give it limits of its own without a build.
const childEnv = "DYVMS_TEST_CHILD_EXPORTER"

// childMain runs the exporter with the descriptor limit and idle timeout
// that the parent test passed in the environment.
func childMain() int {
	if v := os.Getenv("DYVMS_TEST_NOFILE"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		lim.Cur = n
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
	}
	if v := os.Getenv("DYVMS_TEST_DEFAULT_ADDRESS"); v != "" {
		defaultAddress = v
	}
	if v := os.Getenv("DYVMS_TEST_IDLE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		idleTimeout = d
	}
	return run(os.Args[1:])
}

// Connections that made one request and then stay idle are closed by the
// server, so that however many of them a client opens the exporter gets
// its descriptors back and answers again. The child may hold 64
// descriptors; 100 idle connections would keep it from accepting anything
// if they were never closed.
func TestIdleConnectionsAreClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the exporter in a child process")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	// The endpoint is never called: nothing here scrapes /metrics.
	if err := os.WriteFile(cfg, []byte("endpoint: http://127.0.0.1:1\ncredentials: {access_key_id: LTAIidle, access_key_secret: idle-secret}\ntasks: [{enterprise_id: 1, task_id: 2}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, os.Args[0], []string{childEnv + "=1", "DYVMS_TEST_NOFILE=64", "DYVMS_TEST_IDLE_TIMEOUT=1s"}, "--config.file="+cfg)
	addr := p.url[len("http://"):]

	const idle = 100
	var wg sync.WaitGroup
	errs := make(chan error, idle)
	for i := range idle {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := oneRequestThenIdle(addr); err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
			}
		}()
	}
	// Meanwhile, and after, a fresh client must be answered.
	healthy := func() error {
		c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(p.url + "/-/healthy")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := healthy(); err != nil {
		t.Errorf("/-/healthy while %d idle connections are open: %v", idle, err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := healthy(); err != nil {
		t.Errorf("/-/healthy after the idle connections: %v", err)
	}
}

// oneRequestThenIdle sends GET /-/healthy, reads the answer and then waits,
// sending nothing, for the server to close the connection (within a bound
// far above the child's idle timeout).
func oneRequestThenIdle(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(40 * time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "GET /-/healthy HTTP/1.1\r\nHost: exporter\r\n\r\n"); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("no answer to the first request: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("first request answered %d", resp.StatusCode)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return fmt.Errorf("idle connection not closed by the server: %v", err)
	}
	return nil
}

// --simulator without --web.listen-address listens on loopback only, on
// the default port.
func TestSimulatorListensOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the exporter in a child process")
	}
	logs := &testutil.SyncBuffer{}
	cmd := exec.Command(os.Args[0], "--simulator")
	// The default address with port 0 (a port no one else has): what the
	// test checks is the host the exporter puts in front of it.
	cmd.Env = append(os.Environ(), childEnv+"=1", "DYVMS_TEST_DEFAULT_ADDRESS=:0", "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("exporter log:\n%s", logs.String())
		}
	}()
	addr := listenAddress(t, logs)
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("--simulator without --web.listen-address listens on %q, want 127.0.0.1 and a port (%v)", addr, err)
	}
	if code, _ := get(t, "http://127.0.0.1:"+port+"/-/healthy"); code != 200 {
		t.Errorf("/-/healthy on loopback answered %d", code)
	}
}
