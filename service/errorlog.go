package service

import (
	"context"
	"errors"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/dedup"
	"github.com/dyvms-community/dyvms_exporter/pacer"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// errorLog logs a task's failure when it starts or changes, not on every
// scrape: a wrong key would otherwise write the same line every 15 s for
// every task until someone fixes it, and bury everything else. The metrics
// (dyvms_task_scrape_success, dyvms_api_requests_total) still count every
// failure.
type errorLog struct {
	logger log.Logger
	// defaultChain tells whether the configuration in force leaves the
	// task's credentials to the vendor's default chain (its enterprise is
	// the default account's, which has no credentials block).
	defaultChain func(task.Task) bool
	// last is the ErrorCode of each task's failure being reported.
	last *dedup.Memory[task.Task, string]
}

func newErrorLog(l log.Logger, defaultChain func(task.Task) bool) *errorLog {
	return &errorLog{logger: l, defaultChain: defaultChain, last: dedup.New[task.Task, string](0)}
}

// Hints for a task whose credentials could not be had at all.
const (
	hintNoCredentials = "no credentials are configured: the configuration file has no credentials block and the vendor's default credential chain found none. " +
		"Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, add a credentials block (access_key_id, access_key_secret_file) to the configuration file, " +
		"or give the host or pod a RAM role (docs/configuration.md, Credentials); retried at every scrape"
	hintCredentialsFile = "the credentials of the configuration file cannot be read: fix the file named in err; retried at every scrape"
)

func (e *errorLog) report(t task.Task, err error) {
	code := pacer.ErrorCode(err)
	if !e.last.Note(t, code) {
		level.Debug(e.logger).Log("msg", "task scrape still failing", "enterprise_id", t.EnterpriseID, "task_id", t.TaskID, "code", code, "err", err)
		return
	}
	lvl := level.Warn(e.logger)
	hint := "transient; retried at the next scrape"
	switch {
	case apiclient.IsConfigError(err):
		lvl = level.Error(e.logger)
		hint = "configuration problem: fix credentials, permissions or task ids; logged once until it changes"
	case code == "credentials" && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		lvl = level.Error(e.logger)
		hint = hintCredentialsFile
		if e.defaultChain(t) {
			hint = hintNoCredentials
		}
	}
	lvl.Log("msg", "task scrape failed", "enterprise_id", t.EnterpriseID, "task_id", t.TaskID, "code", code, "hint", hint, "err", err)
}

func (e *errorLog) recovered(t task.Task) {
	if code, was := e.last.Forget(t); was {
		level.Info(e.logger).Log("msg", "task scrape recovered", "enterprise_id", t.EnterpriseID, "task_id", t.TaskID, "previous_code", code)
	}
}
