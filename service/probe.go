package service

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/collector"
	"github.com/dyvms-community/dyvms_exporter/task"
)

// probeHandler serves GET /probe?enterprise_id=E&task_id=T: one task's
// metrics and its dyvms_task_scrape_success and _duration_seconds, without
// the process-wide metrics (those belong to /metrics, scraped once, not
// once per task). With /sd it lets several Prometheus servers split the
// tasks among themselves.
//
// Trust boundary: the enterprise must be named by the configuration in
// force (a static task's enterprise or a discovery entry), otherwise the
// answer is 403 and no API call is made; the exporter's credentials must
// not let whoever reaches the port read other enterprises of the account.
// Within an allowed enterprise any task id is accepted, configured,
// discovered or not: the enterprise is the unit the operator granted, a
// task of it is no more secret than its siblings, and a task created since
// the last discovery listing can be probed at once.
func (s *Service) probeHandler(o HTTPOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := probeTask(r.URL.RawQuery)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		api, cfg := s.inForce()
		if !enterpriseAllowed(cfg, t.EnterpriseID) {
			http.Error(w, fmt.Sprintf("enterprise_id %d is not in this exporter's configuration (neither a task's enterprise nor a discovery entry); "+
				"/probe only reads enterprises the configuration names", t.EnterpriseID), http.StatusForbidden)
			return
		}
		ho := collector.HandlerOptions{TimeoutOffset: o.TimeoutOffset, MaxTimeout: o.MaxScrapeTimeout, Logger: s.logger, OnError: s.OnError, OnSuccess: s.OnSuccess, OnUnreadable: s.OnUnreadable}
		if !s.known(cfg, t) {
			// errorLog remembers each failing task until it recovers; a
			// task id only a caller made up would stay there for good, so
			// its failures are logged at debug level instead.
			ho.OnError = func(t task.Task, err error) {
				level.Debug(s.logger).Log("msg", "probe of an unlisted task failed", "enterprise_id", t.EnterpriseID, "task_id", t.TaskID, "err", err)
			}
			ho.OnSuccess = nil
		}
		// The /metrics handler with one task and no process-wide
		// gatherer: the same deadline (from Prometheus' scrape timeout
		// header) and the same exposition, for a single task.
		src := func() collector.Scrape {
			return collector.Scrape{API: api, Tasks: []task.Task{t}, Concurrency: 1, Metrics: selection(cfg.Metrics)}
		}
		collector.Handler(src, prometheus.Gatherers(nil), ho).ServeHTTP(w, r)
	})
}

// probeTask reads enterprise_id and task_id from a raw query string.
func probeTask(rawQuery string) (task.Task, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return task.Task{}, fmt.Errorf("cannot parse the query string: %v", err)
	}
	ent, err := positiveParam(q, "enterprise_id")
	if err != nil {
		return task.Task{}, err
	}
	id, err := positiveParam(q, "task_id")
	if err != nil {
		return task.Task{}, err
	}
	return task.Task{EnterpriseID: ent, TaskID: id}, nil
}

// positiveParam accepts exactly one canonical decimal: "+7" or "007" would
// be a second spelling of a task whose labels are written "7".
func positiveParam(q url.Values, name string) (int64, error) {
	vs := q[name]
	switch len(vs) {
	case 0:
		return 0, fmt.Errorf("missing parameter %s: use /probe?enterprise_id=<id>&task_id=<id>", name)
	case 1:
	default:
		return 0, fmt.Errorf("parameter %s is given %d times; give it once", name, len(vs))
	}
	v, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || v <= 0 || strconv.FormatInt(v, 10) != vs[0] {
		return 0, fmt.Errorf("parameter %s must be a positive integer (decimal, no sign or leading zeros), got %q", name, vs[0])
	}
	return v, nil
}
