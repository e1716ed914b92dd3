package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/go-logfmt/logfmt"
	"github.com/prometheus/exporter-toolkit/web"
)

// syncBuffer is written by the server's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// field is one key and value of a log line, in order.
type field struct{ key, value string }

func parseLogfmt(t *testing.T, line string) []field {
	t.Helper()
	d := logfmt.NewDecoder(strings.NewReader(line))
	var fs []field
	for d.ScanRecord() {
		for d.ScanKeyval() {
			fs = append(fs, field{string(d.Key()), string(d.Value())})
		}
	}
	if err := d.Err(); err != nil {
		t.Fatalf("not logfmt: %v: %s", err, line)
	}
	return fs
}

// parseJSON reads one object's keys in order, duplicates included (a map
// would hide them).
func parseJSON(t *testing.T, line string) []field {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(line))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	var fs []field
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		s := string(v)
		_ = json.Unmarshal(v, &s)
		fs = append(fs, field{k.(string), s})
	}
	return fs
}

var reCaller = regexp.MustCompile(`^[a-z_]+\.go:\d+$`)

// checkLine: the keys of every line are ts, caller, level and msg, in that
// order and each once, then the line's own keys, none repeated; never time.
func checkLine(t *testing.T, line string, fs []field) map[string]string {
	t.Helper()
	seen := map[string]string{}
	for _, f := range fs {
		if _, dup := seen[f.key]; dup {
			t.Errorf("key %q twice in %s", f.key, line)
		}
		seen[f.key] = f.value
	}
	if _, ok := seen["time"]; ok {
		t.Errorf("time as well as ts in %s", line)
	}
	for _, k := range []string{"ts", "caller", "level", "msg"} {
		if _, ok := seen[k]; !ok {
			t.Errorf("no %s in %s", k, line)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, seen["ts"]); err != nil {
		t.Errorf("ts %q: %v", seen["ts"], err)
	}
	if !reCaller.MatchString(seen["caller"]) {
		t.Errorf("caller %q is not file.go:line: %s", seen["caller"], line)
	}
	return seen
}

// The web toolkit's own start-up lines, through the real server start-up,
// carry the same keys as the exporter's own, in both formats.
func TestToolkitLinesLikeOurs(t *testing.T) {
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf syncBuffer
			logger, slogger := New(&buf, format, "info")
			level.Info(logger).Log("msg", "starting dyvms_exporter", "version", "test")

			srv := &http.Server{Handler: http.NotFoundHandler()}
			addrs := []string{"127.0.0.1:0"}
			systemd := false
			cfgFile := ""
			flags := &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: &cfgFile}
			done := make(chan error, 1)
			go func() { done <- web.ListenAndServe(srv, flags, slogger) }()
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(buf.String(), "TLS is disabled.") {
				if time.Now().After(deadline) {
					t.Fatalf("no start-up lines:\n%s", buf.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			_ = srv.Close()
			if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Fatal(err)
			}

			msgs := map[string]map[string]string{}
			order := map[string]string{} // msg -> its first four keys
			sc := bufio.NewScanner(strings.NewReader(buf.String()))
			for sc.Scan() {
				line := sc.Text()
				parse := parseLogfmt
				if format == "json" {
					parse = parseJSON
				}
				fs := parse(t, line)
				seen := checkLine(t, line, fs)
				msgs[seen["msg"]] = seen
				var keys []string
				for _, f := range fs[:min(4, len(fs))] {
					keys = append(keys, f.key)
				}
				order[seen["msg"]] = strings.Join(keys, " ")
			}
			// In logfmt the order shows too: the toolkit's lines start
			// like the exporter's own.
			if own := order["starting dyvms_exporter"]; format == "logfmt" && order["Listening on"] != own {
				t.Errorf("the Listening on line starts %q, ours %q", order["Listening on"], own)
			}
			l, ok := msgs["Listening on"]
			if !ok {
				t.Fatalf("no Listening on line:\n%s", buf.String())
			}
			if l["level"] != "info" || !strings.HasPrefix(l["address"], "127.0.0.1:") || !strings.HasPrefix(l["caller"], "tls_config.go:") {
				t.Errorf("Listening on line: %v", l)
			}
			if c := msgs["starting dyvms_exporter"]["caller"]; !strings.HasPrefix(c, "logging_test.go:") {
				t.Errorf("our own line's caller %q, want this file", c)
			}
		})
	}
}

// What a library passes through slog cannot repeat a key or bring its own
// time: attributes named like the bridge's keys are renamed, repeated ones
// kept once (the last value), groups flattened, and the level filter holds.
func TestBridgeKeys(t *testing.T) {
	var buf syncBuffer
	_, s := New(&buf, "logfmt", "info")
	s.Debug("not shown")
	s.With("address", "a", "component", "web").WithGroup("tls").Warn("hello", "time", "x", "msg", "y", "address", "b", slog.Group("cert", "cn", "z"))
	s.With("address", "a").Error("again", "address", "b")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines:\n%s", buf.String())
	}
	fs := parseLogfmt(t, lines[0])
	seen := checkLine(t, lines[0], fs)
	for k, v := range map[string]string{"level": "warn", "msg": "hello", "address": "a", "component": "web", "tls.time": "x", "tls.msg": "y", "tls.address": "b", "tls.cert.cn": "z"} {
		if seen[k] != v {
			t.Errorf("%s=%q, want %q: %s", k, seen[k], v, lines[0])
		}
	}
	seen = checkLine(t, lines[1], parseLogfmt(t, lines[1]))
	if seen["address"] != "b" || seen["level"] != "error" {
		t.Errorf("repeated attribute: %s", lines[1])
	}
	_, s = New(&buf, "logfmt", "info")
	s.Info("top", "time", "x", "level", "debug")
	last := strings.TrimSpace(buf.String()[strings.LastIndex(strings.TrimSpace(buf.String()), "\n")+1:])
	seen = checkLine(t, last, parseLogfmt(t, last))
	if seen["attr_time"] != "x" || seen["attr_level"] != "debug" || seen["level"] != "info" {
		t.Errorf("reserved keys not renamed: %s", last)
	}
}

// Our own lines cannot repeat a key either, in either format: a later
// repetition is renamed, nothing is lost.
func TestOwnLinesUniqueKeys(t *testing.T) {
	for _, format := range []string{"logfmt", "json"} {
		var buf syncBuffer
		logger, _ := New(&buf, format, "info")
		logger = log.With(logger, "component", "a")
		level.Warn(logger).Log("msg", "one", "component", "b", "msg", "two", "ts", "x", "component_2", "c")
		line := strings.TrimSpace(buf.String())
		parse := parseLogfmt
		if format == "json" {
			parse = parseJSON
		}
		seen := checkLine(t, line, parse(t, line))
		for k, v := range map[string]string{"msg": "one", "msg_2": "two", "component": "a", "component_2": "b", "component_2_2": "c", "ts_2": "x", "level": "warn"} {
			if seen[k] != v {
				t.Errorf("%s: %s=%q, want %q: %s", format, k, seen[k], v, line)
			}
		}
	}
}
