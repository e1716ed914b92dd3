package service

import (
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/pacer"
)

// errorLog logs a task's failure when it starts or changes, not on every
// scrape: a wrong key would otherwise write the same line every 15 s for
// every task until someone fixes it, and bury everything else. The metrics
// (dyvms_task_scrape_success, dyvms_api_requests_total) still count every
// failure.
type errorLog struct {
	logger log.Logger
	mu     sync.Mutex
	last   map[collector.Task]string // ErrorCode of the failure being reported
}

func newErrorLog(l log.Logger) *errorLog {
	return &errorLog{logger: l, last: map[collector.Task]string{}}
}

func (e *errorLog) report(t collector.Task, err error) {
	code := pacer.ErrorCode(err)
	e.mu.Lock()
	same := e.last[t] == code
	e.last[t] = code
	e.mu.Unlock()
	if same {
		level.Debug(e.logger).Log("msg", "task scrape still failing", "task", collector.FormatTask(t), "code", code, "err", err)
		return
	}
	lvl := level.Warn(e.logger)
	hint := "transient; retried at the next scrape"
	if apiclient.IsConfigError(err) {
		lvl = level.Error(e.logger)
		hint = "configuration problem: fix credentials, permissions or task ids; logged once until it changes"
	}
	lvl.Log("msg", "task scrape failed", "task", collector.FormatTask(t), "code", code, "hint", hint, "err", err)
}

func (e *errorLog) recovered(t collector.Task) {
	e.mu.Lock()
	code, was := e.last[t]
	delete(e.last, t)
	e.mu.Unlock()
	if was {
		level.Info(e.logger).Log("msg", "task scrape recovered", "task", collector.FormatTask(t), "previous_code", code)
	}
}
