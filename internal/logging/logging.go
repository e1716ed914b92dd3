// Package logging builds the exporter's loggers: go-kit/log, the project's
// logging API, and a log/slog logger for the libraries that take one (the
// web toolkit), whose lines carry the same keys as the exporter's own.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// New returns the exporter's logger and a slog logger bridged to it,
// writing to w in format ("logfmt" or "json") at lvl ("debug", "info",
// "warn" or "error") and above. Every line of either carries ts, caller,
// level and msg, once each, in the same order; a slog line's own time is
// dropped for ts (one clock for every line), and its caller is the slog
// call's, not the bridge's.
func New(w io.Writer, format, lvl string) (log.Logger, *slog.Logger) {
	var l log.Logger
	if format == "json" {
		l = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		l = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	l = uniqueKeys(l)
	allowed := level.ParseDefault(lvl, level.InfoValue())
	l = level.NewFilter(l, level.Allow(allowed))
	withTS := log.With(l, "ts", log.DefaultTimestampUTC)
	logger := log.With(withTS, "caller", log.DefaultCaller)
	return logger, slog.New(&bridge{logger: withTS, min: slogLevel(allowed)})
}

// slogLevel is the slog level of a go-kit level value.
func slogLevel(v level.Value) slog.Level {
	switch v {
	case level.DebugValue():
		return slog.LevelDebug
	case level.WarnValue():
		return slog.LevelWarn
	case level.ErrorValue():
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// reserved are the keys the bridge writes itself, and time, which it
// drops: a library's attribute of one of these names is renamed rather
// than repeated.
var reserved = map[string]bool{"ts": true, "caller": true, "level": true, "msg": true, "time": true}

// bridge is a slog.Handler writing through a go-kit logger that already
// adds ts (not caller: the go-kit caller would be this file).
type bridge struct {
	logger log.Logger
	min    slog.Level
	attrs  []any  // from WithAttrs, already prefixed by their groups
	group  string // "a.b." for WithGroup("a").WithGroup("b")
}

func (b *bridge) Enabled(_ context.Context, l slog.Level) bool { return l >= b.min }

func (b *bridge) Handle(_ context.Context, r slog.Record) error {
	kv := make([]any, 0, 4+len(b.attrs)+2*r.NumAttrs())
	kv = append(kv, "caller", caller(r.PC), "msg", r.Message)
	kv = append(kv, b.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		kv = appendAttr(kv, b.group, a)
		return true
	})
	return levelLogger(b.logger, r.Level).Log(dedupe(kv)...)
}

func (b *bridge) WithAttrs(as []slog.Attr) slog.Handler {
	c := *b
	c.attrs = append([]any(nil), b.attrs...)
	for _, a := range as {
		c.attrs = appendAttr(c.attrs, b.group, a)
	}
	return &c
}

func (b *bridge) WithGroup(name string) slog.Handler {
	if name == "" {
		return b
	}
	c := *b
	c.group = b.group + name + "."
	return &c
}

// appendAttr flattens a (groups become "group.key") into kv, following
// slog's rules: an empty attribute is dropped, an empty group's key inlines
// its attributes.
func appendAttr(kv []any, prefix string, a slog.Attr) []any {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return kv
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			kv = appendAttr(kv, p, g)
		}
		return kv
	}
	key := prefix + a.Key
	if reserved[key] {
		key = "attr_" + key
	}
	return append(kv, key, a.Value.Any())
}

// dedupe keeps one value per key, the last one given, at the place of the
// first: a library that adds the same attribute twice (With and the call)
// still makes a line with each key once.
func dedupe(kv []any) []any {
	at := make(map[any]int, len(kv)/2)
	out := kv[:0]
	for i := 0; i+1 < len(kv); i += 2 {
		if j, ok := at[kv[i]]; ok {
			out[j+1] = kv[i+1]
			continue
		}
		at[kv[i]] = len(out)
		out = append(out, kv[i], kv[i+1])
	}
	return out
}

func levelLogger(l log.Logger, lv slog.Level) log.Logger {
	switch {
	case lv < slog.LevelInfo:
		return level.Debug(l)
	case lv < slog.LevelWarn:
		return level.Info(l)
	case lv < slog.LevelError:
		return level.Warn(l)
	default:
		return level.Error(l)
	}
}

// caller is "file.go:line" of the slog call, as go-kit's DefaultCaller
// writes it for the exporter's own lines.
func caller(pc uintptr) string {
	if pc == 0 {
		return "unknown"
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	return filepath.Base(f.File) + ":" + strconv.Itoa(f.Line)
}

// uniqueKeys makes sure no line carries a key twice, whoever adds it (a
// With context and the call both naming "component", a call passing "ts"):
// the first keeps its name, a later one gets "_2", "_3", ... Pipelines that
// reject duplicate keys, or keep only one, then lose nothing; go-kit's
// JSON logger alone would keep one of the values silently.
func uniqueKeys(next log.Logger) log.Logger {
	return log.LoggerFunc(func(kv ...any) error {
		seen := make(map[any]int, len(kv)/2)
		copied := false
		for i := 0; i+1 < len(kv); i += 2 {
			k := kv[i]
			n := seen[k]
			seen[k] = n + 1
			if n == 0 {
				continue
			}
			if !copied { // kv may share its array with a With context
				kv, copied = append([]any(nil), kv...), true
			}
			renamed := fmt.Sprint(k) + "_" + strconv.Itoa(n+1)
			for seen[renamed] > 0 {
				n++
				renamed = fmt.Sprint(k) + "_" + strconv.Itoa(n+1)
			}
			seen[renamed] = 1
			kv[i] = renamed
		}
		return next.Log(kv...)
	})
}
