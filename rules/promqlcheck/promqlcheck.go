// Package promqlcheck holds the checks shared by the tests of rules/ and
// grafana/: parsing PromQL (after Grafana template variables are replaced by
// stand-ins), listing the metric names a query reads, and knowing which names
// exist (exported by dyvms_exporter, recorded by rules/dyvms.rules.yml, or
// written by Prometheus itself).
//
// It is test support: nothing in the exporter binary imports it.
package promqlcheck

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// Stand-ins for Grafana's template variables. The label-valued ones are
// distinctive strings so a lint can tell `job=~"$job"` (becomes
// job=~"__var_job__") from a hard-coded `job="dyvms"`; the durations are odd
// values that no one writes by hand, so a range of RateInterval proves the
// query used $__rate_interval.
const (
	RateInterval = 4242 * time.Second
	Interval     = 61 * time.Second
	Range        = 3607 * time.Second
)

// VarValue is the stand-in for a label-valued template variable.
func VarValue(name string) string { return "__var_" + name + "__" }

// GrafanaBuiltins are Grafana's global variables a Prometheus query may use,
// with their stand-ins.
var GrafanaBuiltins = map[string]string{
	"__rate_interval": fmtDuration(RateInterval),
	"__interval":      fmtDuration(Interval),
	"__range":         fmtDuration(Range),
}

func fmtDuration(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }

// Grafana's three spellings: $var, ${var} or ${var:format}, [[var]] or [[var:format]].
var varRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\]\]`)

// Substitute replaces template variables in q: the Grafana built-ins by their
// stand-in durations, the names in vars by VarValue(name). It returns the
// names of variables that are neither (a query using an undefined variable is
// an error on the dashboard too).
func Substitute(q string, vars map[string]bool) (string, []string) {
	var unknown []string
	out := varRE.ReplaceAllStringFunc(q, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if strings.Trim(name, "0123456789") == "" {
			return m // $1: a regular expression group reference, not a variable
		}
		if v, ok := GrafanaBuiltins[name]; ok {
			return v
		}
		if vars[name] {
			return VarValue(name)
		}
		unknown = append(unknown, name)
		return m
	})
	return out, unknown
}

// SubstituteWith replaces the template variables in q by the text values
// gives for their names (Grafana built-ins included, e.g. "__rate_interval":
// "1m"), the way Grafana interpolates a query before sending it, and returns
// the names it has no value for (left as they are).
func SubstituteWith(q string, values map[string]string) (string, []string) {
	var missing []string
	out := varRE.ReplaceAllStringFunc(q, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if strings.Trim(name, "0123456789") == "" {
			return m // $1: a regular expression group reference
		}
		if v, ok := values[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	return out, missing
}

// Parse parses a PromQL expression with the default (non-experimental)
// feature set, the one a stock Prometheus server accepts.
func Parse(expr string) (parser.Expr, error) {
	return parser.NewParser(parser.Options{}).ParseExpr(expr)
}

// Selectors returns every vector selector of e, including those inside
// range selectors and subqueries, in source order.
func Selectors(e parser.Expr) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// MetricName is the metric name a selector reads ("" when it selects by
// other labels only, or by a __name__ regular expression).
func MetricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// MetricsRead returns the metric names expr reads, in source order, with
// every Grafana variable in it replaced by a stand-in first: what a query
// depends on, whatever the dashboard's variables are set to.
func MetricsRead(expr string) ([]string, error) {
	_, unknown := Substitute(expr, nil)
	vars := make(map[string]bool, len(unknown))
	for _, v := range unknown {
		vars[v] = true
	}
	sub, _ := Substitute(expr, vars)
	e, err := Parse(sub)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, vs := range Selectors(e) {
		names = append(names, MetricName(vs))
	}
	return names, nil
}

// Matcher returns the matcher of vs on label name, or nil.
func Matcher(vs *parser.VectorSelector, name string) *labels.Matcher {
	for _, m := range vs.LabelMatchers {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// UnknownNames checks that every selector of e names a metric in known and
// returns one problem per selector that does not.
func UnknownNames(e parser.Expr, known map[string]bool) []string {
	var problems []string
	for _, vs := range Selectors(e) {
		name := MetricName(vs)
		switch {
		case name == "":
			problems = append(problems, fmt.Sprintf("selector %s does not name a metric", vs))
		case !known[name]:
			problems = append(problems, fmt.Sprintf("metric %q is neither exported by the exporter nor recorded by a rule", name))
		}
	}
	return problems
}

// UnguardedDivisions returns one problem per division in e whose divisor can
// be 0: the divisor must be a non-zero number or a filter such as "x > 0" or
// "x >= 100" (without bool), so that a zero divisor drops the sample instead
// of producing NaN or ±Inf.
func UnguardedDivisions(e parser.Expr) []string {
	var problems []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		b, ok := n.(*parser.BinaryExpr)
		if ok && b.Op == parser.DIV && !nonZero(b.RHS) {
			problems = append(problems, fmt.Sprintf("division by %s is not guarded against 0 (filter the divisor with > 0)", b.RHS))
		}
		return nil
	})
	return problems
}

func nonZero(e parser.Expr) bool {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	switch x := e.(type) {
	case *parser.NumberLiteral:
		return x.Val != 0
	case *parser.BinaryExpr:
		lit, ok := x.RHS.(*parser.NumberLiteral)
		if !ok || x.ReturnBool {
			return false
		}
		return (x.Op == parser.GTR && lit.Val >= 0) || (x.Op == parser.GTE && lit.Val > 0)
	}
	return false
}

// RateFunctions are the functions whose range must be $__rate_interval in a
// dashboard (counter functions; Grafana's guidance for range functions on
// counters).
var RateFunctions = map[string]bool{"rate": true, "irate": true, "increase": true}

// RateRanges returns, for every call of a RateFunctions function in e, the
// function name and the range of its range selector (0 for a subquery or
// anything unusual).
func RateRanges(e parser.Expr) []RateCall {
	var out []RateCall
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		c, ok := n.(*parser.Call)
		if !ok || !RateFunctions[c.Func.Name] {
			return nil
		}
		rc := RateCall{Func: c.Func.Name}
		for _, a := range c.Args {
			if ms, ok := a.(*parser.MatrixSelector); ok {
				rc.Range = ms.Range
			}
		}
		out = append(out, rc)
		return nil
	})
	return out
}

// RateCall is one call of a counter function.
type RateCall struct {
	Func  string
	Range time.Duration
}

// PrometheusSeries are series Prometheus writes itself for every target.
var PrometheusSeries = []string{
	"up",
	"scrape_duration_seconds",
	"scrape_samples_scraped",
	"scrape_samples_post_metric_relabeling",
	"scrape_series_added",
}

var metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// NamesFromExposition returns the names of the samples of a Prometheus text
// exposition (as a golden file or a live /metrics answer has them; histogram
// and summary samples keep their _bucket/_sum/_count suffix).
func NamesFromExposition(r io.Reader) (map[string]bool, error) {
	names := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		end := strings.IndexAny(line, "{ \t")
		if end <= 0 {
			return nil, fmt.Errorf("line %d: no sample in %q", n, line)
		}
		name := line[:end]
		if !metricNameRE.MatchString(name) {
			return nil, fmt.Errorf("line %d: %q is not a metric name", n, name)
		}
		names[name] = true
	}
	return names, sc.Err()
}

// GoldenExposition is the collector's golden file, relative to the
// repository root: the exposition of the vendor's example answer, written by
// the collector's golden test. It has every task and agent metric except
// dyvms_task_scrape_duration_seconds, whose value varies.
const GoldenExposition = "collector/testdata/golden.prom"

// ExporterOwnMetrics are the exporter's metrics that the golden file cannot
// hold: those of the process (API request counters and the pacer's metrics
// of collector/apimetrics.go, discovery's of discovery/, build info, config
// reload gauges) and the per-task scrape duration. Histograms are listed by
// the sample names queries read (_bucket, _sum, _count). Keep the list
// short: it is the only hand-written part of the name checks, and the
// end-to-end test (e2e/) asserts that each of these names is in a real
// scrape of the exporter, so a renamed metric fails there. Two groups exist
// only under conditions the end-to-end run creates on purpose:
// dyvms_api_retries_total from the first retry on (the run has the
// simulator throttle one CloudQueryTask request), and dyvms_discovery_*
// only for enterprises with a discovery entry (the run discovers one).
var ExporterOwnMetrics = []string{
	"dyvms_api_requests_total",
	"dyvms_api_request_duration_seconds_bucket",
	"dyvms_api_request_duration_seconds_sum",
	"dyvms_api_request_duration_seconds_count",
	"dyvms_api_calls_total",
	"dyvms_api_retries_total",
	"dyvms_api_throttled_total",
	"dyvms_api_rate_limiter_wait_seconds_bucket",
	"dyvms_api_rate_limiter_wait_seconds_sum",
	"dyvms_api_rate_limiter_wait_seconds_count",
	"dyvms_api_coalesced_calls_total",
	"dyvms_api_cache_hits_total",
	"dyvms_api_rate_limit_requests_per_second",
	"dyvms_discovery_tasks",
	"dyvms_discovery_last_success_timestamp_seconds",
	"dyvms_discovery_errors_total",
	"dyvms_discovery_refresh_duration_seconds",
	"dyvms_exporter_build_info",
	"dyvms_exporter_config_last_reload_successful",
	"dyvms_exporter_config_last_reload_success_timestamp_seconds",
	"dyvms_task_scrape_duration_seconds",
}

// CallRecordMetrics are the call-outcome series of callrecords/, exported
// only for enterprises with a call_records entry (the end-to-end run has
// them), with the histograms' sample names. Every name here is exported by
// the poller; callrecords' own test checks them against a real gather.
var CallRecordMetrics = []string{
	"dyvms_calls_dialled_total",
	"dyvms_calls_not_answered_total",
	"dyvms_calls_live_answered_total",
	"dyvms_calls_machine_answered_total",
	"dyvms_calls_connected_total",
	"dyvms_calls_abandoned_total",
	"dyvms_call_answer_to_agent_wait_seconds_bucket",
	"dyvms_call_answer_to_agent_wait_seconds_sum",
	"dyvms_call_answer_to_agent_wait_seconds_count",
	"dyvms_call_talk_duration_seconds_bucket",
	"dyvms_call_talk_duration_seconds_sum",
	"dyvms_call_talk_duration_seconds_count",
	"dyvms_call_duration_seconds_bucket",
	"dyvms_call_duration_seconds_sum",
	"dyvms_call_duration_seconds_count",
	"dyvms_call_records_last_success_timestamp_seconds",
	"dyvms_call_records_watermark_timestamp_seconds",
	"dyvms_call_records_counting_since_timestamp_seconds",
	"dyvms_call_records_lag_seconds",
	"dyvms_call_records_read_total",
	"dyvms_call_records_pages_total",
	"dyvms_call_records_duplicates_total",
	"dyvms_call_records_late_total",
	"dyvms_call_records_tracked",
	"dyvms_call_records_forgotten_total",
}

// CallCentreMetrics are the call-centre series the rules read that only an
// enterprise's inbound_calls (callrecords' inbound poller), queues
// (CloudListQueue) and online_agents (CloudListOnlineAgent) export, with the
// histograms' sample names. They are not in the golden exposition;
// service's TestCallCentreAPICost and the end-to-end run (which configures
// an enterprises entry) check every name here against a real scrape.
var CallCentreMetrics = []string{
	"dyvms_enterprise_agents",
	"dyvms_inbound_calls_total",
	"dyvms_inbound_answer_wait_seconds_bucket",
	"dyvms_inbound_answer_wait_seconds_sum",
	"dyvms_inbound_answer_wait_seconds_count",
	"dyvms_inbound_abandon_wait_seconds_bucket",
	"dyvms_inbound_abandon_wait_seconds_sum",
	"dyvms_inbound_abandon_wait_seconds_count",
	"dyvms_inbound_call_records_lag_seconds",
	"dyvms_queue_info",
	"dyvms_queue_service_level_seconds",
}

// ExporterMetricNames is THE source of the exporter's metric names for the
// name checks of rules/ and grafana/: the names in the golden exposition
// (GoldenExposition under root) plus ExporterOwnMetrics. The end-to-end test
// checks the same queries against a live scrape instead (see Known).
func ExporterMetricNames(root string) (map[string]bool, error) {
	f, err := os.Open(filepath.Join(root, GoldenExposition))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := NamesFromExposition(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", GoldenExposition, err)
	}
	for _, n := range ExporterOwnMetrics {
		names[n] = true
	}
	for _, n := range CallRecordMetrics {
		names[n] = true
	}
	for _, n := range CallCentreMetrics {
		names[n] = true
	}
	return names, nil
}

// RuleFile is the part of a Prometheus rule file the checks read.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is one group of a rule file.
type RuleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is a recording or alerting rule.
type Rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Name is the recorded metric or the alert name.
func (r Rule) Name() string { return r.Record + r.Alert }

// ReadRuleFile reads a rule file strictly (unknown fields are errors).
func ReadRuleFile(path string) (*RuleFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var rf RuleFile
	if err := dec.Decode(&rf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rf, nil
}

// RecordingRulesFile is the recording rules file, relative to the repository root.
const RecordingRulesFile = "rules/dyvms.rules.yml"

// RecordedNames returns the metric names recorded in the rule file at path.
func RecordedNames(path string) (map[string]bool, error) {
	rf, err := ReadRuleFile(path)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				names[r.Record] = true
			}
		}
	}
	return names, nil
}

// KnownNames is every metric name a query of this repository may read: the
// exporter's (ExporterMetricNames), the recording rules', and Prometheus' own
// per-target series. root is the repository root.
func KnownNames(root string) (map[string]bool, error) {
	exporter, err := ExporterMetricNames(root)
	if err != nil {
		return nil, err
	}
	return Known(root, exporter)
}

// Known is exporter (the names of an exposition, e.g. a live scrape) plus
// the names recorded by the recording rules under root and Prometheus' own
// per-target series. exporter is not modified.
func Known(root string, exporter map[string]bool) (map[string]bool, error) {
	recorded, err := RecordedNames(filepath.Join(root, RecordingRulesFile))
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(exporter)+len(recorded)+len(PrometheusSeries))
	for n := range exporter {
		known[n] = true
	}
	for n := range recorded {
		known[n] = true
	}
	for _, n := range PrometheusSeries {
		known[n] = true
	}
	return known, nil
}

// Sorted returns the keys of m in order (for stable messages).
func Sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TaskScoped reports whether a metric carries the enterprise_id and task_id
// labels (every task and agent metric of the exporter, and the task- and
// agent-level recording rules), and EnterpriseScoped whether it carries at
// least enterprise_id (those, the enterprise-level recording rules and the
// discovery metrics, one series per discovery entry).
func TaskScoped(name string) bool {
	if strings.HasPrefix(name, "dyvms_call_records_") || callCentreFamily(name) {
		return false // the poller's health, the call centre's: per enterprise
	}
	for _, p := range []string{"dyvms_task_", "dyvms_agent_", "dyvms_enterprise_", "dyvms_calls_", "dyvms_call_", "dyvms:task_", "dyvms:agent_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// EnterpriseScoped: see TaskScoped.
func EnterpriseScoped(name string) bool {
	return TaskScoped(name) || strings.HasPrefix(name, "dyvms:enterprise_") || strings.HasPrefix(name, "dyvms_discovery_") ||
		strings.HasPrefix(name, "dyvms_call_records_") || callCentreFamily(name) || strings.HasPrefix(name, "dyvms:queue_")
}

// callCentreFamily reports whether a family is one of the call-centre
// view's (enterprises:): per enterprise, and per queue or agent, never per
// task, although dyvms_enterprise_agents shares the prefix of the task
// families' dyvms_enterprise_channels.
func callCentreFamily(name string) bool {
	for _, p := range []string{"dyvms_enterprise_agent", "dyvms_inbound_", "dyvms_queue_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
