package rules

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
)

const (
	repoRoot     = ".."
	recordFile   = "dyvms.rules.yml"
	alertFile    = "dyvms.alerts.yml"
	amConfigFile = "alertmanager.yml"
	// runbookBase + the alert's name + ".md" is its runbook (docs/runbooks/
	// in the repository, written with the docs; their link test checks the
	// files exist).
	runbookBase = "https://github.com/dyvms-community/dyvms_exporter/blob/main/docs/runbooks/"
)

func readRules(t *testing.T, path string) *promqlcheck.RuleFile {
	t.Helper()
	rf, err := promqlcheck.ReadRuleFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rf
}

func allRules(t *testing.T) (records, alerts []promqlcheck.Rule) {
	t.Helper()
	for _, g := range readRules(t, recordFile).Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				t.Errorf("%s: alert %s belongs in %s", recordFile, r.Alert, alertFile)
			}
			records = append(records, r)
		}
	}
	for _, g := range readRules(t, alertFile).Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				t.Errorf("%s: recording rule %s belongs in %s", alertFile, r.Record, recordFile)
			}
			alerts = append(alerts, r)
		}
	}
	if len(records) == 0 || len(alerts) == 0 {
		t.Fatalf("found %d recording rules and %d alerts", len(records), len(alerts))
	}
	return records, alerts
}

var recordNameRE = regexp.MustCompile(`^dyvms:(task|agent|enterprise|queue)_[a-z0-9_]+:[a-z0-9_]+$`)

// lintRecord returns the problems of one recording rule.
func lintRecord(r promqlcheck.Rule, known map[string]bool) []string {
	var p []string
	if !recordNameRE.MatchString(r.Record) {
		p = append(p, fmt.Sprintf("record name %q does not follow dyvms:<level>_<metric>:<operations>", r.Record))
	}
	e, err := promqlcheck.Parse(r.Expr)
	if err != nil {
		return append(p, fmt.Sprintf("expr does not parse: %v", err))
	}
	p = append(p, promqlcheck.UnknownNames(e, known)...)
	return append(p, promqlcheck.UnguardedDivisions(e)...)
}

var (
	alertNameRE   = regexp.MustCompile(`^Dyvms[A-Z][a-z0-9]*([A-Z][a-z0-9]*)*$`)
	severities    = map[string]bool{"critical": true, "warning": true, "info": true}
	components    = map[string]bool{"exporter": true, "callcentre": true}
	absentTrapsRE = regexp.MustCompile(`\babsent(_over_time)?\s*\(|\bor\s+(on\s*\([^)]*\)\s*)?vector\s*\(`)
	// absentUpRE is the absent() the lint allows: no up series of the
	// exporter's jobs, with the job selector as rules/dyvms.alerts.yml
	// writes it (the chart replaces it).
	absentUpRE = regexp.MustCompile(`^\s*absent\(up\{job=~"dyvms\.\*"\}\)\s*$`)
)

// callCentreLabels are the labels a call-centre alert's description must
// name, so that the notification says where to look: the enterprise, and
// the queue of an alert on the queue records (dyvms:queue_*) or else the task
// of an alert on task or agent series. An alert on the enterprise's own
// series (dyvms_enterprise_agents, the inbound counters summed per
// enterprise) names the enterprise only.
func callCentreLabels(e parser.Expr) []string {
	if e == nil {
		return []string{"enterprise_id", "task_id"}
	}
	queue, task := false, false
	for _, vs := range promqlcheck.Selectors(e) {
		n := promqlcheck.MetricName(vs)
		switch {
		case strings.HasPrefix(n, "dyvms:queue_"):
			queue = true
		case promqlcheck.TaskScoped(n):
			task = true
		}
	}
	switch {
	case queue:
		return []string{"enterprise_id", "queue"}
	case task:
		return []string{"enterprise_id", "task_id"}
	}
	return []string{"enterprise_id"}
}

// lintAlert returns the problems of one alerting rule.
func lintAlert(r promqlcheck.Rule, known map[string]bool) []string {
	var p []string
	if !alertNameRE.MatchString(r.Alert) {
		p = append(p, fmt.Sprintf("alert name %q is not CamelCase with the Dyvms prefix", r.Alert))
	}
	e, err := promqlcheck.Parse(r.Expr)
	if err != nil {
		e = nil
		p = append(p, fmt.Sprintf("expr does not parse: %v", err))
	} else {
		p = append(p, promqlcheck.UnknownNames(e, known)...)
		p = append(p, promqlcheck.UnguardedDivisions(e)...)
	}
	// The one alert on missing data: no target of the exporter's jobs at
	// all (DyvmsExporterAbsent), on Prometheus' own up series with the
	// job selector. It has no job or instance to template.
	absentUp := absentUpRE.MatchString(r.Expr)
	if absentTrapsRE.MatchString(r.Expr) && !absentUp {
		p = append(p, "expr uses absent()/or vector(): missing data must not fire (or hide) an alert")
	}
	if r.For == "" {
		p = append(p, "no for: duration")
	} else if d, err := model.ParseDuration(r.For); err != nil || d <= 0 {
		p = append(p, fmt.Sprintf("bad for: %q", r.For))
	}
	if !severities[r.Labels["severity"]] {
		p = append(p, fmt.Sprintf("severity %q is not critical/warning/info", r.Labels["severity"]))
	}
	comp := r.Labels["component"]
	if !components[comp] {
		p = append(p, fmt.Sprintf("component %q is not exporter/callcentre", comp))
	}
	sum, desc := r.Annotations["summary"], r.Annotations["description"]
	if sum == "" || strings.Contains(sum, "{{") {
		p = append(p, "summary must be set and static")
	}
	if absentUp {
		if comp != "exporter" || strings.Contains(desc, "{{") {
			p = append(p, "the absent(up) alert must be an exporter alert with a static description")
		}
	} else if !strings.Contains(desc, "{{") || !strings.Contains(desc, "$value") {
		p = append(p, "description must be templated and show $value")
	}
	if absentUp {
		// nothing to name
	} else if comp == "callcentre" {
		for _, l := range callCentreLabels(e) {
			if !strings.Contains(desc, "$labels."+l) {
				p = append(p, "call-centre description does not name $labels."+l)
			}
		}
	} else if !strings.Contains(desc, "$labels.instance") {
		p = append(p, "exporter description does not name $labels.instance")
	}
	if want := runbookBase + r.Alert + ".md"; r.Annotations["runbook_url"] != want {
		p = append(p, fmt.Sprintf("runbook_url %q, want %q", r.Annotations["runbook_url"], want))
	}
	for k := range r.Annotations {
		if k != "summary" && k != "description" && k != "runbook_url" {
			p = append(p, "unexpected annotation "+k)
		}
	}
	return p
}

func knownNames(t *testing.T) map[string]bool {
	t.Helper()
	known, err := promqlcheck.KnownNames(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return known
}

func TestRecordingRules(t *testing.T) {
	records, _ := allRules(t)
	known := knownNames(t)
	seen := map[string]bool{}
	for _, r := range records {
		if seen[r.Record] {
			t.Errorf("%s recorded twice", r.Record)
		}
		seen[r.Record] = true
		for _, p := range lintRecord(r, known) {
			t.Errorf("%s: %s", r.Record, p)
		}
	}
}

func TestAlertingRules(t *testing.T) {
	_, alerts := allRules(t)
	known := knownNames(t)
	seen := map[string]bool{}
	for _, r := range alerts {
		if seen[r.Alert] {
			t.Errorf("alert %s defined twice", r.Alert)
		}
		seen[r.Alert] = true
		for _, p := range lintAlert(r, known) {
			t.Errorf("%s: %s", r.Alert, p)
		}
	}
	// A bound against alert sprawl: 16 for the outbound tasks and the
	// exporter, 4 for the inbound side of the call centre.
	if n := len(alerts); n < 8 || n > 20 {
		t.Errorf("%d alerts, want 8 to 20", n)
	}
}

// The linters must catch what they are for.
func TestLintersCatchMistakes(t *testing.T) {
	known := knownNames(t)
	good := promqlcheck.Rule{
		Alert: "DyvmsSomethingWrong", Expr: `dyvms_task_channels_ivr > 0`, For: "5m",
		Labels: map[string]string{"severity": "warning", "component": "callcentre"},
		Annotations: map[string]string{
			"summary":     "Something is wrong.",
			"description": "Task {{ $labels.task_id }} of {{ $labels.enterprise_id }}: {{ $value }}.",
			"runbook_url": runbookBase + "DyvmsSomethingWrong.md",
		},
	}
	if p := lintAlert(good, known); len(p) != 0 {
		t.Fatalf("the good alert has problems: %v", p)
	}
	alertCases := []struct {
		name   string
		change func(r *promqlcheck.Rule)
		want   string
	}{
		{"unknown metric", func(r *promqlcheck.Rule) { r.Expr = `dyvms_task_ivr_count > 0` }, `metric "dyvms_task_ivr_count"`},
		{"nameless selector", func(r *promqlcheck.Rule) { r.Expr = `{task_id="1"} > 0` }, "does not name a metric"},
		{"bad promql", func(r *promqlcheck.Rule) { r.Expr = `rate(dyvms_api_requests_total[5m]` }, "does not parse"},
		{"absent trap", func(r *promqlcheck.Rule) { r.Expr = `absent(dyvms_task_channels)` }, "absent()"},
		{"or vector trap", func(r *promqlcheck.Rule) { r.Expr = `dyvms_task_channels or vector(0)` }, "absent()"},
		{"snake name", func(r *promqlcheck.Rule) { r.Alert = "dyvms_something_wrong" }, "CamelCase"},
		{"no prefix", func(r *promqlcheck.Rule) { r.Alert = "SomethingWrong" }, "CamelCase"},
		{"no for", func(r *promqlcheck.Rule) { r.For = "" }, "no for"},
		{"bad severity", func(r *promqlcheck.Rule) { r.Labels = map[string]string{"severity": "page", "component": "callcentre"} }, "severity"},
		{"no component", func(r *promqlcheck.Rule) { r.Labels = map[string]string{"severity": "info"} }, "component"},
		{"templated summary", func(r *promqlcheck.Rule) {
			r.Annotations = copyMap(r.Annotations, "summary", "Task {{ $labels.task_id }}")
		}, "summary"},
		{"no value", func(r *promqlcheck.Rule) {
			r.Annotations = copyMap(r.Annotations, "description", "Task {{ $labels.task_id }} of {{ $labels.enterprise_id }}.")
		}, "$value"},
		{"no task", func(r *promqlcheck.Rule) {
			r.Annotations = copyMap(r.Annotations, "description", "Enterprise {{ $labels.enterprise_id }}: {{ $value }}.")
		}, "$labels.task_id"},
		{"wrong runbook", func(r *promqlcheck.Rule) {
			r.Annotations = copyMap(r.Annotations, "runbook_url", runbookBase+"other")
		}, "runbook_url"},
	}
	for _, c := range alertCases {
		t.Run("alert/"+c.name, func(t *testing.T) {
			r := good
			c.change(&r)
			if !containsProblem(lintAlert(r, known), c.want) {
				t.Errorf("lintAlert(%+v) = %v, want a problem with %q", r, lintAlert(r, known), c.want)
			}
		})
	}
	recordCases := []struct{ name, record, expr, want string }{
		{"unknown metric", "dyvms:task_x:ratio", `dyvms_task_answered / (dyvms_task_dialled > 0)`, `metric "dyvms_task_dialled"`},
		{"unguarded division", "dyvms:task_x:ratio", `dyvms_task_answered / dyvms_task_called`, "guard"},
		{"comparison with bool is no guard", "dyvms:task_x:ratio", `dyvms_task_answered / (dyvms_task_called > bool 0)`, "guard"},
		{"bad name", "task_answer_ratio", `dyvms_task_answered / (dyvms_task_called > 0)`, "record name"},
	}
	for _, c := range recordCases {
		t.Run("record/"+c.name, func(t *testing.T) {
			p := lintRecord(promqlcheck.Rule{Record: c.record, Expr: c.expr}, known)
			if !containsProblem(p, c.want) {
				t.Errorf("lintRecord(%s) = %v, want a problem with %q", c.expr, p, c.want)
			}
		})
	}
}

func copyMap(m map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

func containsProblem(problems []string, want string) bool {
	for _, p := range problems {
		if strings.Contains(p, want) {
			return true
		}
	}
	return false
}

// Every recording rule carries a comment that documents its formula.
func TestRecordingRulesDocumented(t *testing.T) {
	raw, err := os.ReadFile(recordFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	undocumented := undocumentedRules(&doc)
	if len(undocumented) > 0 {
		t.Errorf("recording rules without a comment above them: %v", undocumented)
	}
	// and the check works: strip the comments and it must complain.
	bare := regexp.MustCompile(`(?m)^\s*#.*\n`).ReplaceAll(raw, nil)
	var bareDoc yaml.Node
	if err := yaml.Unmarshal(bare, &bareDoc); err != nil {
		t.Fatal(err)
	}
	if len(undocumentedRules(&bareDoc)) == 0 {
		t.Error("undocumentedRules found nothing in a file without comments")
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func undocumentedRules(doc *yaml.Node) []string {
	var out []string
	groups := mapValue(doc, "groups")
	if groups == nil {
		return []string{"(no groups)"}
	}
	for _, g := range groups.Content {
		rules := mapValue(g, "rules")
		if rules == nil {
			continue
		}
		for _, r := range rules.Content {
			comment := r.HeadComment
			if len(r.Content) > 0 {
				comment += r.Content[0].HeadComment
			}
			if strings.TrimSpace(comment) == "" {
				name := ""
				if v := mapValue(r, "record"); v != nil {
					name = v.Value
				}
				out = append(out, name)
			}
		}
	}
	return out
}

// githubSlug is the anchor GitHub gives a Markdown heading.
// promtool unit test files, as far as the coverage check needs them.
type ruleTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name        string `yaml:"name"`
		InputSeries []struct {
			Series string `yaml:"series"`
			Values string `yaml:"values"`
		} `yaml:"input_series"`
		AlertRuleTests []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromQLExprTests []struct {
			Expr string `yaml:"expr"`
		} `yaml:"promql_expr_test"`
	} `yaml:"tests"`
}

func ruleTestFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("tests", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool test files in tests/ (%v)", err)
	}
	return files
}

// Every alert has a promtool case where it fires and one where it must not;
// every call-centre alert's test has a task whose series go stale (a failed
// scrape) and every recording rule is evaluated by a test.
func TestEveryRuleHasUnitTests(t *testing.T) {
	records, alerts := allRules(t)
	fires, quiet, stale := map[string]bool{}, map[string]bool{}, map[string]bool{}
	exprs := ""
	for _, f := range ruleTestFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tf ruleTestFile
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&tf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range tf.Tests {
			hasStale := false
			for _, s := range tc.InputSeries {
				if strings.Contains(s.Values, "stale") {
					hasStale = true
				}
			}
			for _, a := range tc.AlertRuleTests {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
				if hasStale {
					stale[a.Alertname] = true
				}
			}
			for _, e := range tc.PromQLExprTests {
				exprs += " " + e.Expr
			}
		}
	}
	for _, a := range alerts {
		if !fires[a.Alert] {
			t.Errorf("%s: no promtool case where it fires", a.Alert)
		}
		if !quiet[a.Alert] {
			t.Errorf("%s: no promtool case where it must not fire", a.Alert)
		}
		if a.Labels["component"] == "callcentre" && !stale[a.Alert] {
			t.Errorf("%s: no promtool case with a failed scrape (stale series)", a.Alert)
		}
	}
	for _, r := range records {
		if !regexp.MustCompile(`(^|[^a-z_:])` + regexp.QuoteMeta(r.Record) + `($|[^a-z0-9_:])`).MatchString(exprs) {
			t.Errorf("%s: no promql_expr_test evaluates it", r.Record)
		}
	}
}

// tool returns the path of a command-line tool; without it the test is
// skipped on a developer machine and fails in CI (CI=true installs it).
func tool(t *testing.T, name string) string {
	t.Helper()
	return testutil.Tool(t, name, "Debian: apt-get install -y prometheus prometheus-alertmanager")
}

func run(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// promtools are Debian's promtool (2.42) and, when .ci/tools.sh has built
// it (always in CI), Prometheus 3's ($DYVMS_PROMTOOL3): the rules must load
// and pass their tests on both generations.
func promtools(t *testing.T) map[string]string {
	t.Helper()
	tools := map[string]string{"prometheus2": tool(t, "promtool")}
	if p3 := os.Getenv("DYVMS_PROMTOOL3"); p3 != "" {
		tools["prometheus3"] = p3
	} else if testutil.InCI() {
		t.Fatal("DYVMS_PROMTOOL3 is not set: .ci/run exports it (source .ci/tools.sh && build_ci_tools)")
	}
	return tools
}

func TestPromtoolCheckRules(t *testing.T) {
	for gen, promtool := range promtools(t) {
		out, err := run(t, ".", promtool, "check", "rules", "--lint=all", "--lint-fatal", recordFile, alertFile)
		if err != nil {
			t.Errorf("%s: promtool check rules: %v\n%s", gen, err, out)
		}
	}
}

func TestPromtoolTestRules(t *testing.T) {
	for gen, promtool := range promtools(t) {
		args := append([]string{"test", "rules"}, ruleTestFiles(t)...)
		out, err := run(t, ".", promtool, args...)
		if err != nil {
			t.Errorf("%s: promtool test rules: %v\n%s", gen, err, out)
		}
		t.Logf("%s: %s", gen, out)
	}
}

// The promtool tests are sharp: loosen a threshold in a copy of the alerts
// and the call-centre tests must fail.
func TestPromtoolTestsCatchAChangedAlert(t *testing.T) {
	promtool := tool(t, "promtool")
	dir := t.TempDir()
	raw, err := os.ReadFile(alertFile)
	if err != nil {
		t.Fatal(err)
	}
	const from, to = "> 0.03", "> 0.3"
	if !bytes.Contains(raw, []byte(from)) {
		t.Fatalf("%s no longer contains %q: update this test", alertFile, from)
	}
	if err := os.WriteFile(filepath.Join(dir, alertFile), bytes.Replace(raw, []byte(from), []byte(to), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	test, err := os.ReadFile(filepath.Join("tests", "callcentre_alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	testPath := filepath.Join(dir, "tests", "callcentre_alerts_test.yml")
	if err := os.WriteFile(testPath, test, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, dir, promtool, "test", "rules", testPath)
	if err == nil {
		t.Fatalf("promtool test rules passed with the abandon threshold changed to %q:\n%s", to, out)
	}
	if !strings.Contains(out, "DyvmsAbandonProxyHigh") {
		t.Errorf("the failure does not name DyvmsAbandonProxyHigh:\n%s", out)
	}
}

func TestAmtoolCheckConfig(t *testing.T) {
	amtool := tool(t, "amtool")
	out, err := run(t, ".", amtool, "check-config", amConfigFile)
	if err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	for _, c := range []struct {
		labels   []string
		receiver string
	}{
		{[]string{"alertname=DyvmsExporterDown", "component=exporter", "severity=critical"}, "exporter-oncall"},
		{[]string{"alertname=DyvmsTaskScrapeFailing", "component=exporter", "severity=warning", "task_id=19"}, "exporter-oncall"},
		{[]string{"alertname=DyvmsDiscoveryFailing", "component=exporter", "severity=warning", "enterprise_id=7000002"}, "exporter-oncall"},
		{[]string{"alertname=DyvmsCallRecordsLagging", "component=exporter", "severity=warning", "enterprise_id=7000002"}, "exporter-oncall"},
		{[]string{"alertname=DyvmsCustomersWaitingNoAgentAvailable", "component=callcentre", "severity=critical"}, "callcentre-pager"},
		{[]string{"alertname=DyvmsAbandonProxyHigh", "component=callcentre", "severity=warning"}, "callcentre-team"},
		{[]string{"alertname=DyvmsAgentDailyCallLimitReached", "component=callcentre", "severity=info"}, "callcentre-info"},
		{[]string{"alertname=DyvmsInboundCallRecordsLagging", "component=exporter", "severity=warning", "enterprise_id=7000002"}, "exporter-oncall"},
		{[]string{"alertname=DyvmsQueueServiceLevelLow", "component=callcentre", "severity=warning", "enterprise_id=7000002", "queue=1000"}, "callcentre-team"},
		{[]string{"alertname=DyvmsQueueAbandonedHigh", "component=callcentre", "severity=warning", "enterprise_id=7000002", "queue=1000"}, "callcentre-team"},
		{[]string{"alertname=DyvmsNoAgentOnlineWhileCallsArrive", "component=callcentre", "severity=critical", "enterprise_id=7000002"}, "callcentre-pager"},
		{[]string{"alertname=SomethingElse"}, "callcentre-team"},
	} {
		args := append([]string{"config", "routes", "test", "--config.file=" + amConfigFile, "--verify.receivers=" + c.receiver}, c.labels...)
		out, err := run(t, ".", amtool, args...)
		if err != nil {
			t.Errorf("%v should route to %s: %v\n%s", c.labels, c.receiver, err, out)
		}
	}
	// and the route check can fail
	if out, err := run(t, ".", amtool, "config", "routes", "test", "--config.file="+amConfigFile, "--verify.receivers=callcentre-pager", "component=exporter"); err == nil {
		t.Errorf("amtool accepted a wrong receiver:\n%s", out)
	}
}

// Every inhibition targets alerts that exist, keyed on labels they carry.
func TestAlertmanagerInhibitionsMatchAlerts(t *testing.T) {
	raw, err := os.ReadFile(amConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
			Equal          []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	_, alerts := allRules(t)
	names := map[string]bool{}
	for _, a := range alerts {
		names[a.Alert] = true
	}
	if len(cfg.InhibitRules) == 0 {
		t.Fatal("no inhibit_rules")
	}
	for i, ir := range cfg.InhibitRules {
		for _, m := range ir.SourceMatchers {
			if n, ok := strings.CutPrefix(m, `alertname="`); ok && !names[strings.TrimSuffix(n, `"`)] {
				t.Errorf("inhibit rule %d: source %s is no alert of %s", i, m, alertFile)
			}
		}
		if len(ir.Equal) == 0 {
			t.Errorf("inhibit rule %d has no equal: it would mute every exporter's alerts", i)
		}
	}
}
