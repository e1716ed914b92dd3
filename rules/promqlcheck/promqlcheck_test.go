package promqlcheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSubstitute(t *testing.T) {
	vars := map[string]bool{"job": true, "task_id": true}
	for _, c := range []struct {
		in, want string
		unknown  []string
	}{
		{`rate(x{job=~"$job"}[$__rate_interval])`, `rate(x{job=~"__var_job__"}[4242s])`, nil},
		{`x{task_id=~"${task_id}",a=~"[[job]]"}`, `x{task_id=~"__var_task_id__",a=~"__var_job__"}`, nil},
		{`x{t=~"${task_id:regex}"}[$__range] offset $__interval`, `x{t=~"__var_task_id__"}[3607s] offset 61s`, nil},
		{`label_replace(x, "a", "$1", "b", "(.*)")`, `label_replace(x, "a", "$1", "b", "(.*)")`, nil},
		{`x{instance=~"$instance"}`, `x{instance=~"$instance"}`, []string{"instance"}},
	} {
		got, unknown := Substitute(c.in, vars)
		if got != c.want || !reflect.DeepEqual(unknown, c.unknown) {
			t.Errorf("Substitute(%s) = %s, %v; want %s, %v", c.in, got, unknown, c.want, c.unknown)
		}
	}
}

func TestSubstituteWith(t *testing.T) {
	values := map[string]string{"job": "dyvms", "task_id": ".+", "__rate_interval": "1m"}
	got, missing := SubstituteWith(`rate(x{job=~"$job",task_id=~"${task_id:regex}",i=~"[[instance]]"}[$__rate_interval]) + label_replace(y, "a", "$1", "b", "(.*)")`, values)
	want := `rate(x{job=~"dyvms",task_id=~".+",i=~"[[instance]]"}[1m]) + label_replace(y, "a", "$1", "b", "(.*)")`
	if got != want || !reflect.DeepEqual(missing, []string{"instance"}) {
		t.Errorf("SubstituteWith = %s, %v; want %s, [instance]", got, missing, want)
	}
}

func TestSelectorsAndNames(t *testing.T) {
	e, err := Parse(`sum(rate(a_total{job="j"}[5m])) / on() group_left b + max_over_time(c[5m:1m]) + {__name__="d"} + {job="x"}`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, vs := range Selectors(e) {
		names = append(names, MetricName(vs))
	}
	if want := []string{"a_total", "b", "c", "d", ""}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %q, want %q", names, want)
	}
	p := UnknownNames(e, map[string]bool{"a_total": true, "b": true, "d": true})
	if len(p) != 2 || !strings.Contains(p[0], `"c"`) || !strings.Contains(p[1], "does not name a metric") {
		t.Errorf("UnknownNames = %q", p)
	}
	if _, err := Parse(`sum(rate(a[5m])`); err == nil {
		t.Error("Parse accepted a broken expression")
	}
}

func TestRateRanges(t *testing.T) {
	e, err := Parse(`rate(a[4242s]) + increase(b[5m]) + irate(c[4242s]) + avg_over_time(d[5m])`)
	if err != nil {
		t.Fatal(err)
	}
	got := RateRanges(e)
	if len(got) != 3 || got[0].Range != RateInterval || got[1].Func != "increase" || got[1].Range == RateInterval || got[2].Range != RateInterval {
		t.Errorf("RateRanges = %+v", got)
	}
}

func TestUnguardedDivisions(t *testing.T) {
	for expr, want := range map[string]int{
		`a / (b > 0)`:      0,
		`a / (b >= 100)`:   0,
		`a / 60`:           0,
		`a / b`:            1,
		`a / (b > bool 0)`: 1,
		`a / (b >= 0)`:     1,
		`a / 0`:            1,
		`sum(a) / on(x) (max by (x) (b) > 0) + c / d`: 1,
	} {
		e, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := UnguardedDivisions(e); len(got) != want {
			t.Errorf("UnguardedDivisions(%s) = %q, want %d problems", expr, got, want)
		}
	}
}

func TestNamesFromExposition(t *testing.T) {
	const expo = `# HELP dyvms_task_channels Calls.
# TYPE dyvms_task_channels gauge
dyvms_task_channels{enterprise_id="1",task_id="2"} 3
dyvms_exporter_build_info{version="x"} 1
h_bucket{le="+Inf"} 1
h_sum 2
up 1 1700000000000
`
	got, err := NamesFromExposition(strings.NewReader(expo))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dyvms_exporter_build_info", "dyvms_task_channels", "h_bucket", "h_sum", "up"}
	if !reflect.DeepEqual(Sorted(got), want) {
		t.Errorf("NamesFromExposition = %v, want %v", Sorted(got), want)
	}
	if _, err := NamesFromExposition(strings.NewReader("{a=\"b\"} 1\n")); err == nil {
		t.Error("a sample without a name was accepted")
	}
}

func TestExporterMetricNames(t *testing.T) {
	names, err := ExporterMetricNames("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"dyvms_task_scrape_success", "dyvms_task_channels_waiting_agent", "dyvms_agent_status", "dyvms_api_requests_total"} {
		if !names[n] {
			t.Errorf("%s missing from the exporter's names", n)
		}
	}
	for n := range names {
		if !strings.HasPrefix(n, "dyvms_") {
			t.Errorf("%s is not an exporter metric", n)
		}
	}
}

// The hand-written list stays short: a name the golden file has does not
// belong in it.
func TestExporterOwnMetricsNotInGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("../..", GoldenExposition))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	golden, err := NamesFromExposition(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(golden) < 30 {
		t.Fatalf("%s has only %d metric names", GoldenExposition, len(golden))
	}
	seen := map[string]bool{}
	for _, n := range ExporterOwnMetrics {
		if golden[n] {
			t.Errorf("%s is in %s: drop it from ExporterOwnMetrics", n, GoldenExposition)
		}
		if seen[n] {
			t.Errorf("%s listed twice in ExporterOwnMetrics", n)
		}
		seen[n] = true
	}
}

func TestKnown(t *testing.T) {
	exporter := map[string]bool{"dyvms_task_channels": true}
	known, err := Known("../..", exporter)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"dyvms_task_channels", "dyvms:task_answer_ratio:today", "up"} {
		if !known[n] {
			t.Errorf("Known lacks %s", n)
		}
	}
	if known["dyvms_task_called"] || len(exporter) != 1 {
		t.Errorf("Known invented exporter names or changed its argument: %v", exporter)
	}
}

func TestScopes(t *testing.T) {
	for _, c := range []struct {
		name             string
		task, enterprise bool
	}{
		{"dyvms_task_channels", true, true},
		{"dyvms_agent_called", true, true},
		{"dyvms_enterprise_channels", true, true},
		{"dyvms:task_answer_ratio:today", true, true},
		{"dyvms:enterprise_channels_ivr:sum", false, true},
		{"dyvms_discovery_tasks", false, true},
		{"dyvms_discovery_errors_total", false, true},
		{"dyvms_calls_abandoned_total", true, true},
		{"dyvms_call_answer_to_agent_wait_seconds_bucket", true, true},
		{"dyvms:task_calls_abandoned:ratio_24h", true, true},
		{"dyvms_call_records_lag_seconds", false, true},
		{"dyvms_enterprise_agents", false, true},
		{"dyvms_enterprise_agent_state", false, true},
		{"dyvms_enterprise_agents_scrape_success", false, true},
		{"dyvms_inbound_calls_total", false, true},
		{"dyvms_inbound_call_records_lag_seconds", false, true},
		{"dyvms_queue_info", false, true},
		{"dyvms:queue_service_level:ratio15m", false, true},
		{"dyvms:enterprise_agent_occupancy:ratio", false, true},
		{"dyvms_api_calls_total", false, false},
		{"dyvms_exporter_build_info", false, false},
		{"up", false, false},
	} {
		if got := TaskScoped(c.name); got != c.task {
			t.Errorf("TaskScoped(%s) = %v", c.name, got)
		}
		if got := EnterpriseScoped(c.name); got != c.enterprise {
			t.Errorf("EnterpriseScoped(%s) = %v", c.name, got)
		}
	}
}

func TestVariableQuery(t *testing.T) {
	for raw, want := range map[string]string{
		`"label_values(up, job)"`: "label_values(up, job)",
		`{"query": "label_values(dyvms_task_scrape_success, job)", "refId": "A"}`: "label_values(dyvms_task_scrape_success, job)",
		`{"refId": "A"}`: "",
		`42`:             "",
	} {
		if got := VariableQuery(json.RawMessage(raw)); got != want {
			t.Errorf("VariableQuery(%s) = %q, want %q", raw, got, want)
		}
	}
}

func TestMetricsRead(t *testing.T) {
	got, err := MetricsRead(`sum(rate(dyvms_calls_abandoned_total{task_id=~"$task"}[$__rate_interval])) / on() group_left dyvms_task_info{job="$job"}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dyvms_calls_abandoned_total", "dyvms_task_info"}; !slices.Equal(got, want) {
		t.Errorf("MetricsRead = %v, want %v", got, want)
	}
	if _, err := MetricsRead(`sum(dyvms_task_info`); err == nil {
		t.Error("MetricsRead accepted an unclosed parenthesis")
	}
}
