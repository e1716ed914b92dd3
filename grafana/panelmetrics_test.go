package grafana

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
)

// panelQuery is one query of a panel as a person sees it: the dashboard,
// the panel (type and title) and what labels the query's values on screen
// (its legend without the {{label}} placeholders, or its table column; ""
// for a panel's only query, and "(labels A)" for a table query, refId A,
// that only brings label columns).
type panelQuery struct {
	key     string
	metrics string // what its selectors read (see selectorMeaning), sorted, space-separated
}

// placeholder is a legend's {{label}}: it names series, not the meaning.
var placeholder = regexp.MustCompile(`\{\{[a-zA-Z_]+\}\}`)

// panelQueries lists every query of a dashboard JSON with its key.
func panelQueries(raw []byte) ([]panelQuery, error) {
	var d struct {
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	type panel struct {
		Type    string            `json:"type"`
		Title   string            `json:"title"`
		Panels  []json.RawMessage `json:"panels"`
		Targets []struct {
			RefID        string `json:"refId"`
			Expr         string `json:"expr"`
			LegendFormat string `json:"legendFormat"`
		} `json:"targets"`
		Transformations []struct {
			ID      string `json:"id"`
			Options struct {
				ExcludeByName map[string]bool   `json:"excludeByName"`
				RenameByName  map[string]string `json:"renameByName"`
			} `json:"options"`
		} `json:"transformations"`
	}
	var out []panelQuery
	var walk func([]json.RawMessage) error
	walk = func(ps []json.RawMessage) error {
		for _, r := range ps {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				return err
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
			rename, exclude := map[string]string{}, map[string]bool{}
			for _, tr := range p.Transformations {
				if tr.ID == "organize" {
					rename, exclude = tr.Options.RenameByName, tr.Options.ExcludeByName
				}
			}
			for _, tg := range p.Targets {
				label := strings.Trim(placeholder.ReplaceAllString(tg.LegendFormat, ""), " /:")
				if p.Type == "table" {
					field := "Value #" + tg.RefID
					if col, ok := rename[field]; ok {
						label = col
					} else if exclude[field] || len(p.Targets) == 1 {
						label = "(labels " + tg.RefID + ")"
					}
				}
				sub, _ := promqlcheck.Substitute(tg.Expr, vars)
				e, err := promqlcheck.Parse(sub)
				if err != nil {
					return fmt.Errorf("%s %q query %s: %v", p.Type, p.Title, tg.RefID, err)
				}
				names := map[string]bool{}
				for _, vs := range promqlcheck.Selectors(e) {
					names[selectorMeaning(vs, vars)] = true
				}
				out = append(out, panelQuery{
					key:     p.Type + " " + p.Title + " | " + label,
					metrics: strings.Join(promqlcheck.Sorted(names), " "),
				})
			}
		}
		return nil
	}
	return out, walk(d.Panels)
}

// selectorMeaning is a selector without the dashboard's variables: the
// metric name and the matchers that choose what it shows, such as
// status="running" or code!="OK".
func selectorMeaning(vs *parser.VectorSelector, vars map[string]bool) string {
	var ms []string
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel || (vars[m.Name] && m.Value == promqlcheck.VarValue(m.Name)) {
			continue
		}
		ms = append(ms, m.String())
	}
	name := promqlcheck.MetricName(vs)
	if len(ms) == 0 {
		return name
	}
	sort.Strings(ms)
	return name + "{" + strings.Join(ms, ",") + "}"
}

// checkPanelMetrics compares a dashboard's queries with the pins.
func checkPanelMetrics(raw []byte, pins map[string]string) []string {
	qs, err := panelQueries(raw)
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	seen := map[string]bool{}
	for _, q := range qs {
		if seen[q.key] {
			p = append(p, fmt.Sprintf("%s: two queries with the same label; give each its own legend or column", q.key))
		}
		seen[q.key] = true
		want, ok := pins[q.key]
		switch {
		case !ok:
			p = append(p, fmt.Sprintf("%s reads %s but is not pinned in panelMetrics", q.key, q.metrics))
		case want != q.metrics:
			p = append(p, fmt.Sprintf("%s reads %s, but it shows %s", q.key, q.metrics, want))
		}
	}
	for k := range pins {
		if !seen[k] {
			p = append(p, fmt.Sprintf("%s is pinned but no such panel query exists", k))
		}
	}
	sort.Strings(p)
	return p
}

// TestPanelsReadTheirMetrics: every panel, legend and table column of every
// dashboard reads the metrics its title says, and no other. The lint and the
// end-to-end run only check that a query's names exist and return data, so a
// column pointed at another existing metric passed both.
func TestPanelsReadTheirMetrics(t *testing.T) {
	files := dashboardFiles(t)
	for file, pins := range panelMetrics {
		raw, ok := files[file]
		if !ok {
			t.Errorf("%s: no such dashboard", file)
			continue
		}
		for _, p := range checkPanelMetrics(raw, pins) {
			t.Errorf("%s: %s", file, p)
		}
	}
	for file := range files {
		if _, ok := panelMetrics[file]; !ok {
			t.Errorf("%s: its panels are not pinned in panelMetrics", file)
		}
	}
}

// TestPanelPinsCatchARebinding: a query pointed at another existing metric
// passes the lint (that is the gap) and fails the pins.
func TestPanelPinsCatchARebinding(t *testing.T) {
	known := knownNames(t)
	files := dashboardFiles(t)
	for _, m := range []struct{ file, from, to string }{
		{"dyvms-task.json", "dyvms_task_channels_answered{", "dyvms_task_channels_bridged{"}, // a legend of Channels
		{"dyvms-task.json", "dyvms_agent_bridged{", "dyvms_agent_not_bridged{"},              // the Agents table's Answered column
		{"dyvms-overview.json", "dyvms_task_agents_available{", "dyvms_task_agents_online{"}, // a stat, a column and a legend
		{"dyvms-exporter.json", "dyvms_api_cache_hits_total{", "dyvms_api_coalesced_calls_total{"},
	} {
		raw := string(files[m.file])
		if strings.Count(raw, m.from) == 0 {
			t.Fatalf("%s has no %s", m.file, m.from)
		}
		mutated := []byte(strings.Replace(raw, m.from, m.to, 1))
		if p := lintDashboard(mutated, known); len(p) != 0 {
			t.Errorf("%s → %s: the lint catches it after all (%q); this test no longer shows the gap", m.from, m.to, p)
		}
		p := checkPanelMetrics(mutated, panelMetrics[m.file])
		if len(p) != 1 || !strings.Contains(p[0], "reads "+strings.TrimSuffix(m.to, "{")) {
			t.Errorf("%s → %s in %s: pins report %q, want the one rebound query", m.from, m.to, m.file, p)
		}
	}
}

// panelMetrics pins what every panel query of every dashboard shows, by
// dashboard file and "type title | legend or column" (see panelQuery), to
// the metrics it must read. Reviewed by hand against the titles, legends and
// descriptions: a new panel or query must be added here, which is the point.
var panelMetrics = map[string]map[string]string{
	"dyvms-callcentre.json": {
		// Per-queue series carry the queue's name from dyvms_queue_info
		// (queueNamed), hence that name next to the rule in the legends.
		"stat Agents online | ":                           "dyvms:enterprise_agents_online:sum",
		"stat Agents idle | ":                             "dyvms_enterprise_agents{state=\"idle\"}",
		"stat Agent occupancy | ":                         "dyvms:enterprise_agent_occupancy:ratio",
		"stat Offered today | ":                           "dyvms:queue_inbound_offered:today",
		"stat Service level today | ":                     "dyvms:queue_inbound_answered_within_threshold:today dyvms:queue_inbound_offered:today",
		"stat Abandoned today | ":                         "dyvms:queue_inbound_abandoned:today dyvms:queue_inbound_offered:today",
		"timeseries Agents by state | ":                   "dyvms_enterprise_agents",
		"timeseries Agent occupancy | ":                   "dyvms:enterprise_agent_occupancy:ratio",
		"timeseries Agents online | online":               "dyvms:enterprise_agents_online:sum",
		"timeseries Agents online | idle":                 "dyvms_enterprise_agents{state=\"idle\"}",
		"table Agents (one row each) | (labels A)":        "dyvms_enterprise_agent_state",
		"table Agents (one row each) | Time in state":     "dyvms_enterprise_agent_state_duration_seconds",
		"table Queues | (labels A)":                       "dyvms_queue_info",
		"table Queues | Threshold":                        "dyvms_queue_service_level_seconds",
		"table Queues | Offered today":                    "dyvms:queue_inbound_offered:today",
		"table Queues | Answered today":                   "dyvms:queue_inbound_answered:today",
		"table Queues | Abandoned today":                  "dyvms:queue_inbound_abandoned:today",
		"table Queues | Service level today":              "dyvms:queue_service_level:ratio_today",
		"table Queues | Abandon ratio today":              "dyvms:queue_inbound_abandon:ratio_today",
		"table Queues | Offered (15 min)":                 "dyvms:queue_inbound_offered:increase15m",
		"table Queues | Service level (15 min)":           "dyvms:queue_service_level:ratio15m",
		"timeseries Calls per queue (15 min) | offered":   "dyvms:queue_inbound_offered:increase15m dyvms_queue_info",
		"timeseries Calls per queue (15 min) | answered":  "dyvms:queue_inbound_answered:increase15m dyvms_queue_info",
		"timeseries Calls per queue (15 min) | abandoned": "dyvms:queue_inbound_abandoned:increase15m dyvms_queue_info",
		"timeseries Calls per queue today | offered":      "dyvms:queue_inbound_offered:today dyvms_queue_info",
		"timeseries Calls per queue today | answered":     "dyvms:queue_inbound_answered:today dyvms_queue_info",
		"timeseries Calls per queue today | abandoned":    "dyvms:queue_inbound_abandoned:today dyvms_queue_info",
		"timeseries Service level (15 min) | ":            "dyvms:queue_service_level:ratio15m dyvms_queue_info",
		"timeseries Service level today | ":               "dyvms:queue_service_level:ratio_today dyvms_queue_info",
		"timeseries Abandon ratio | 15 min":               "dyvms:queue_inbound_abandon:ratio15m dyvms_queue_info",
		"timeseries Abandon ratio | today":                "dyvms:queue_inbound_abandon:ratio_today dyvms_queue_info",
		"timeseries Inbound calls by outcome | ":          "dyvms_inbound_calls_total",
		"heatmap Answer wait (heatmap) | ":                "dyvms_inbound_answer_wait_seconds_bucket",
		"timeseries Answer wait | p50":                    "dyvms_inbound_answer_wait_seconds_bucket dyvms_inbound_answer_wait_seconds_count dyvms_queue_info",
		"timeseries Answer wait | p90":                    "dyvms_inbound_answer_wait_seconds_bucket dyvms_inbound_answer_wait_seconds_count dyvms_queue_info",
		"timeseries Abandon wait | p50":                   "dyvms_inbound_abandon_wait_seconds_bucket dyvms_inbound_abandon_wait_seconds_count dyvms_queue_info",
		"timeseries Abandon wait | p90":                   "dyvms_inbound_abandon_wait_seconds_bucket dyvms_inbound_abandon_wait_seconds_count dyvms_queue_info",
		"timeseries Inbound poller lag | ":                "dyvms_inbound_call_records_lag_seconds",
		"timeseries Inbound calls counted | ":             "dyvms_inbound_calls_total",
		"timeseries Call-centre API failures | ":          "dyvms_api_calls_total{code!=\"OK\",operation=~\"CloudListOnlineAgent|CloudQueryIbCdr|CloudListQueue\"}",
	},
	"dyvms-exporter.json": {
		"stat Targets up | ":                                                "up",
		"stat Tasks read successfully | ":                                   "dyvms_task_scrape_success",
		"stat Config reload | ":                                             "dyvms_exporter_config_last_reload_successful",
		"stat Since last successful reload | ":                              "dyvms_exporter_config_last_reload_success_timestamp_seconds",
		"table Build | (labels A)":                                          "dyvms_exporter_build_info",
		"state-timeline Task scrape success | ":                             "dyvms_task_scrape_success",
		"timeseries Task scrape duration | ":                                "dyvms_task_scrape_duration_seconds",
		"timeseries Prometheus scrape duration | ":                          "scrape_duration_seconds",
		"timeseries Duplicate agent rows dropped | ":                        "dyvms_task_duplicate_agent_rows",
		"timeseries API requests by code | ":                                "dyvms_api_requests_total",
		"timeseries API calls by final outcome | ":                          "dyvms_api_calls_total",
		"timeseries API error ratio | ":                                     "dyvms_api_requests_total dyvms_api_requests_total{code!=\"OK\"}",
		"timeseries API request latency | p50":                              "dyvms_api_request_duration_seconds_bucket dyvms_api_request_duration_seconds_count",
		"timeseries API request latency | p90":                              "dyvms_api_request_duration_seconds_bucket dyvms_api_request_duration_seconds_count",
		"timeseries API request latency | p99":                              "dyvms_api_request_duration_seconds_bucket dyvms_api_request_duration_seconds_count",
		"timeseries API throttling | ":                                      "dyvms_api_throttled_total",
		"timeseries API retries by code | ":                                 "dyvms_api_retries_total",
		"timeseries API requests rejected for credentials | ":               "dyvms_api_requests_total{code=~\"InvalidAccessKeyId.*|SignatureDoesNotMatch|IncompleteSignature|Forbidden.*|isp.RAM_PERMISSION_DENY|InvalidTimeStamp.Expired\"}",
		"timeseries Request rate vs rate limit | allowed now":               "dyvms_api_rate_limit_requests_per_second",
		"timeseries Request rate vs rate limit | ceiling (highest in 1 h)":  "dyvms_api_rate_limit_requests_per_second",
		"timeseries Request rate vs rate limit | sent":                      "dyvms_api_requests_total",
		"timeseries Rate limiter wait | p50":                                "dyvms_api_rate_limiter_wait_seconds_bucket dyvms_api_rate_limiter_wait_seconds_count",
		"timeseries Rate limiter wait | p99":                                "dyvms_api_rate_limiter_wait_seconds_bucket dyvms_api_rate_limiter_wait_seconds_count",
		"timeseries Calls served without a request | reused (min_interval)": "dyvms_api_cache_hits_total",
		"timeseries Calls served without a request | coalesced":             "dyvms_api_coalesced_calls_total",
		"timeseries Tasks discovered | ":                                    "dyvms_discovery_tasks",
		"timeseries Age of the discovered task list | ":                     "dyvms_discovery_last_success_timestamp_seconds",
		"timeseries Discovery failures | ":                                  "dyvms_discovery_errors_total",
		"timeseries Discovery listing duration | ":                          "dyvms_discovery_refresh_duration_seconds",
	},
	"dyvms-overview.json": {
		// The call-outcome row (call_records).
		"timeseries Abandoned-call rate (24 h) | ":                     "dyvms:task_calls_abandoned:ratio_24h",
		"timeseries Abandoned-call rate (now) | selected tasks":        "dyvms_calls_abandoned_total dyvms_calls_live_answered_total",
		"timeseries Answered, connected within 2 s (24 h) | ":          "dyvms:task_calls_answer_to_agent_within_2s:ratio_24h",
		"timeseries Calls by outcome | abandoned":                      "dyvms_calls_abandoned_total",
		"timeseries Calls by outcome | connected to an agent":          "dyvms_calls_connected_total",
		"timeseries Calls by outcome | dialled":                        "dyvms_calls_dialled_total",
		"timeseries Calls by outcome | live answer":                    "dyvms_calls_live_answered_total",
		"timeseries Calls by outcome | machine or unknown answer":      "dyvms_calls_machine_answered_total",
		"timeseries Calls by outcome | not answered":                   "dyvms_calls_not_answered_total",
		"timeseries Customer's wait for an agent | p50":                "dyvms_call_answer_to_agent_wait_seconds_bucket dyvms_call_answer_to_agent_wait_seconds_count",
		"timeseries Customer's wait for an agent | p90":                "dyvms_call_answer_to_agent_wait_seconds_bucket dyvms_call_answer_to_agent_wait_seconds_count",
		"timeseries Customer's wait for an agent | p99":                "dyvms_call_answer_to_agent_wait_seconds_bucket dyvms_call_answer_to_agent_wait_seconds_count",
		"stat Tasks running | ":                                        "dyvms_task_status{status=\"running\"}",
		"stat Customers waiting for an agent | ":                       "dyvms_task_channels_waiting_agent",
		"stat Agents online | ":                                        "dyvms_task_agents_online",
		"stat Agents available | ":                                     "dyvms_task_agents_available",
		"stat Answer rate today | ":                                    "dyvms_task_today_answered dyvms_task_today_called",
		"stat Abandon proxy today | ":                                  "dyvms_task_today_agent_calls dyvms_task_today_answered",
		"table Tasks | (labels A)":                                     "dyvms_task_info",
		"table Tasks | (labels B)":                                     "dyvms_task_status",
		"table Tasks | List progress":                                  "dyvms:task_list_progress:ratio",
		"table Tasks | Numbers left":                                   "dyvms_task_uncalled",
		"table Tasks | Answer rate today":                              "dyvms:task_answer_ratio:today",
		"table Tasks | Agents online":                                  "dyvms_task_agents_online",
		"table Tasks | Agents available":                               "dyvms_task_agents_available",
		"table Tasks | Customers waiting":                              "dyvms_task_channels_waiting_agent",
		"table Tasks | In IVR":                                         "dyvms_task_channels_ivr",
		"table Tasks | Occupancy":                                      "dyvms:task_agent_occupancy:ratio",
		"table Tasks | Abandon proxy today":                            "dyvms:task_abandon_proxy_ratio:today",
		"timeseries List progress | ":                                  "dyvms:task_list_progress:ratio",
		"timeseries Answer rate today | ":                              "dyvms:task_answer_ratio:today",
		"timeseries Customers waiting for an agent (5-minute peak) | ": "dyvms:task_channels_waiting_agent:max5m",
		"timeseries IVR overflow | ":                                   "dyvms:task_ivr_overflow:ratio",
		"timeseries Agent occupancy | ":                                "dyvms:task_agent_occupancy:ratio",
		"timeseries Agents online and available | online":              "dyvms_task_agents_online",
		"timeseries Agents online and available | available":           "dyvms_task_agents_available",
		"timeseries Abandon proxy today | ":                            "dyvms:task_abandon_proxy_ratio:today",
		"timeseries Enterprise channel utilisation | ":                 "dyvms:enterprise_channel_utilisation:ratio",
	},
	"dyvms-task.json": {
		// The call-outcome row (call_records).
		"heatmap Wait for an agent (heatmap) | ":                  "dyvms_call_answer_to_agent_wait_seconds_bucket",
		"timeseries Abandoned-call rate (24 h) | ":                "dyvms:task_calls_abandoned:ratio_24h",
		"timeseries Abandoned-call rate (now) | ":                 "dyvms_calls_abandoned_total dyvms_calls_live_answered_total",
		"timeseries Answered, connected within 2 s (24 h) | ":     "dyvms:task_calls_answer_to_agent_within_2s:ratio_24h",
		"timeseries Call-record poller | lag":                     "dyvms_call_records_lag_seconds",
		"timeseries Calls by outcome | abandoned":                 "dyvms_calls_abandoned_total",
		"timeseries Calls by outcome | connected to an agent":     "dyvms_calls_connected_total",
		"timeseries Calls by outcome | dialled":                   "dyvms_calls_dialled_total",
		"timeseries Calls by outcome | live answer":               "dyvms_calls_live_answered_total",
		"timeseries Calls by outcome | machine or unknown answer": "dyvms_calls_machine_answered_total",
		"timeseries Calls by outcome | not answered":              "dyvms_calls_not_answered_total",
		"timeseries Customer's wait for an agent | p50":           "dyvms_call_answer_to_agent_wait_seconds_bucket dyvms_call_answer_to_agent_wait_seconds_count",
		"timeseries Customer's wait for an agent | p90":           "dyvms_call_answer_to_agent_wait_seconds_bucket dyvms_call_answer_to_agent_wait_seconds_count",
		"timeseries Customer's wait for an agent | p99":           "dyvms_call_answer_to_agent_wait_seconds_bucket dyvms_call_answer_to_agent_wait_seconds_count",
		"timeseries Talk time | call p50":                         "dyvms_call_duration_seconds_bucket dyvms_call_duration_seconds_count",
		"timeseries Talk time | talk p50":                         "dyvms_call_talk_duration_seconds_bucket dyvms_call_talk_duration_seconds_count",
		"timeseries Talk time | talk p90":                         "dyvms_call_talk_duration_seconds_bucket dyvms_call_talk_duration_seconds_count",
		"stat Status | ":                                          "dyvms_task_status",
		"gauge List progress | ":                                  "dyvms:task_list_progress:ratio",
		"stat Numbers left | ":                                    "dyvms_task_uncalled",
		"stat Answer rate today | ":                               "dyvms:task_answer_ratio:today",
		"stat Abandon proxy today | ":                             "dyvms:task_abandon_proxy_ratio:today",
		"stat Started | ":                                         "dyvms_task_start_timestamp_seconds",
		"timeseries Channels | in progress":                       "dyvms_task_channels",
		"timeseries Channels | ringing at the customer":           "dyvms_task_channels_waiting_answer",
		"timeseries Channels | answered":                          "dyvms_task_channels_answered",
		"timeseries Channels | waiting for an agent":              "dyvms_task_channels_waiting_agent",
		"timeseries Channels | talking to an agent":               "dyvms_task_channels_bridged",
		"timeseries Channels | in IVR":                            "dyvms_task_channels_ivr",
		"timeseries Channels | enterprise capacity":               "dyvms_enterprise_channels",
		"timeseries Calls today | dialled":                        "dyvms_task_today_called",
		"timeseries Calls today | answered":                       "dyvms_task_today_answered",
		"timeseries Calls today | put through to agents":          "dyvms_task_today_agent_calls",
		"timeseries Dialling rate | dialled":                      "dyvms_task_called",
		"timeseries Dialling rate | answered":                     "dyvms_task_answered",
		"timeseries IVR overflow | ":                              "dyvms:task_ivr_overflow:ratio",
		"timeseries Agent states (task counts) | assigned":        "dyvms_task_agents_assigned",
		"timeseries Agent states (task counts) | online":          "dyvms_task_agents_online",
		"timeseries Agent states (task counts) | available":       "dyvms_task_agents_available",
		"timeseries Agent states (task counts) | ringing":         "dyvms_task_agents_ringing",
		"timeseries Agent states (task counts) | talking":         "dyvms_task_agents_bridged",
		"timeseries Agent states (task counts) | wrap-up":         "dyvms_task_agents_wrapup",
		"timeseries Agents per state (agent rows) | ":             "dyvms:task_agent_status:count",
		"timeseries Occupancy and availability | occupancy":       "dyvms:task_agent_occupancy:ratio",
		"timeseries Occupancy and availability | availability":    "dyvms:task_agent_availability:ratio",
		"bargauge Daily call limit used | ":                       "dyvms:agent_call_limit_usage:ratio{removed=\"false\"}",
		"table Agents | (labels A)":                               "dyvms_agent_info",
		"table Agents | (labels B)":                               "dyvms_agent_status",
		"table Agents | Answered today":                           "dyvms_agent_today_answered",
		"table Agents | Daily limit":                              "dyvms_agent_call_limit",
		"table Agents | Limit used":                               "dyvms:agent_call_limit_usage:ratio",
		"table Agents | Answered today (enterprise)":              "dyvms_agent_enterprise_today_answered",
		"table Agents | Daily limit (enterprise)":                 "dyvms_agent_enterprise_call_limit",
		"table Agents | Offered":                                  "dyvms_agent_called",
		"table Agents | Answered":                                 "dyvms_agent_bridged",
		"table Agents | Not answered":                             "dyvms:agent_non_answer:ratio",
		"table Agents | Avg talk time":                            "dyvms_agent_average_bridge_duration_seconds",
		"table Agents | Avg idle time":                            "dyvms_agent_average_idle_duration_seconds",
		"table Agents | Answered within 2 s":                      "dyvms_agent_bridge_in_2s_ratio",
		"timeseries Average talk time per agent | ":               "dyvms_agent_average_bridge_duration_seconds{removed=\"false\"}",
		"timeseries Average idle time per agent | ":               "dyvms_agent_average_idle_duration_seconds{removed=\"false\"}",
		"timeseries Agent non-answer ratio | ":                    "dyvms:agent_non_answer:ratio{removed=\"false\"}",
		"bargauge Answered within 2 s | ":                         "dyvms_agent_bridge_in_2s_ratio{removed=\"false\"}",
	},
}
