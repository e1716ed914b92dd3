package collector

import (
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/dedup"
)

// UnreadableReporter is told, after a task was read, which fields of its
// answer held values that could not be read (and were left out).
type UnreadableReporter func(task Task, fields []apiclient.UnreadableField)

// DefaultUnreadableLogSize bounds how many (task, field) pairs an
// UnreadableLog remembers: about 80 bytes each, so 4,096 cost ~0.3 MiB. Each
// pair is one of the decoder's fixed field paths (apiclient.MonitorDataFields)
// for a task, so only a very large or probe-heavy setup ever fills it.
const DefaultUnreadableLogSize = 4096

// UnreadableLog logs an unreadable field once per task and field, not on
// every scrape: a gateway that sends "n/a" in one field would otherwise
// write the same line every 15 s, while dyvms_task_unreadable_fields already
// shows it on every scrape. The set of pairs already logged is bounded:
// when it is full it is emptied, so after that many other pairs a pair may
// be logged once more; memory never grows past the bound.
type UnreadableLog struct {
	logger log.Logger
	seen   *dedup.Memory[unreadableKey, struct{}]
}

type unreadableKey struct {
	task  Task
	field string // the decoder's own constant path: not a copy per entry
}

// NewUnreadableLog returns an UnreadableLog that remembers at most max
// pairs (DefaultUnreadableLogSize when max <= 0).
func NewUnreadableLog(l log.Logger, max int) *UnreadableLog {
	if max <= 0 {
		max = DefaultUnreadableLogSize
	}
	if l == nil {
		l = log.NewNopLogger()
	}
	return &UnreadableLog{logger: l, seen: dedup.New[unreadableKey, struct{}](max)}
}

// Report is an UnreadableReporter.
func (u *UnreadableLog) Report(t Task, fields []apiclient.UnreadableField) {
	for _, f := range fields {
		lvl := level.Debug(u.logger)
		if u.seen.Note(unreadableKey{t, f.Field}, struct{}{}) {
			lvl = level.Warn(u.logger)
		}
		logUnreadable(lvl, t, f, "hint", "logged once per task and field; dyvms_task_unreadable_fields counts it on every scrape")
	}
}

func logUnreadable(l log.Logger, t Task, f apiclient.UnreadableField, extra ...any) {
	l.Log(append([]any{"msg", "value of the API answer could not be read; the task is exported without it",
		"enterprise_id", t.EnterpriseID, "task_id", t.TaskID, "field", f.Field, "got", f.Got, "count", f.Count}, extra...)...)
}

// remembered is how many pairs the log holds now (for tests).
func (u *UnreadableLog) remembered() int { return u.seen.Len() }
