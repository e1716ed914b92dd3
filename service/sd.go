package service

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-kit/log/level"

	"github.com/dyvms-community/dyvms_exporter/task"
)

// ProbePath is where /sd sends Prometheus to scrape one task.
const ProbePath = "/probe"

// TargetGroup is one element of Prometheus' HTTP service discovery answer.
type TargetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// sdHandler serves GET /sd in Prometheus' HTTP SD format: one target group
// per task, static and discovered, each scraped through /probe. One group
// per task, rather than one /metrics target for all, is what lets N
// Prometheus servers split the tasks with hashmod relabelling on
// __param_enterprise_id and __param_task_id.
//
// The plain enterprise_id and task_id labels make the targets' up and
// scrape_* series distinct (they share job and instance); the probe job
// should set honor_labels: true so the same labels in the exposition do
// not turn into exported_enterprise_id and exported_task_id.
//
// The target is the exporter itself: HTTPOptions.ExternalAddress when set
// (behind a proxy or NAT, where the Host Prometheus used for /sd is not
// the one it should scrape), else the Host the request for /sd came to,
// which is by construction an address the asking Prometheus can reach, or
// for a request without Host (HTTP/1.0) the address its connection came in
// on.
func (s *Service) sdHandler(o HTTPOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := o.ExternalAddress
		if addr == "" {
			addr = r.Host
		}
		if addr == "" {
			// HTTP/1.0 allows a request without Host. The address the
			// connection came in on was reached by the asker; it is
			// concrete even when the server listens on every address.
			if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && la != nil {
				addr = la.String()
			}
		}
		if addr == "" {
			http.Error(w, "cannot tell which address to give as the target: the request has no Host header; send one, or start the exporter with --web.external-address=host:port", http.StatusBadRequest)
			return
		}
		_, cfg := s.inForce()
		tasks := s.tasks(cfg)
		slices.SortFunc(tasks, func(a, b task.Task) int {
			return cmp.Or(cmp.Compare(a.EnterpriseID, b.EnterpriseID), cmp.Compare(a.TaskID, b.TaskID))
		})
		groups := make([]TargetGroup, 0, len(tasks)) // [] rather than null when empty: Prometheus wants a list
		for _, t := range tasks {
			ent, task := strconv.FormatInt(t.EnterpriseID, 10), strconv.FormatInt(t.TaskID, 10)
			groups = append(groups, TargetGroup{
				Targets: []string{addr},
				Labels: map[string]string{
					"__metrics_path__":      ProbePath,
					"__param_enterprise_id": ent,
					"__param_task_id":       task,
					"enterprise_id":         ent,
					"task_id":               task,
				},
			})
		}
		body, err := json.Marshal(groups)
		if err != nil {
			level.Error(s.logger).Log("msg", "cannot encode the service discovery answer", "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

// checkExternalAddress rejects what Prometheus would not take as a target:
// the scheme and path belong to the scrape job, not to the address.
func checkExternalAddress(addr string) error {
	if addr == "" {
		return nil
	}
	if strings.Contains(addr, "/") || strings.TrimSpace(addr) != addr || strings.ContainsAny(addr, "?#@") {
		return fmt.Errorf("external address %q: give host:port only, without scheme, path or spaces (the scrape job sets the scheme)", addr)
	}
	return nil
}
