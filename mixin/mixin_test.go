package mixin

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the dashboards' zone, whatever the machine has

	"gopkg.in/yaml.v3"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite rules/*.yml from the mixin")

// The rule files the mixin renders with its default _config, by the field
// of Output that holds them.
var ruleFiles = map[string]func(*Output) []byte{
	"../rules/dyvms.alerts.yml": func(o *Output) []byte { return o.Alerts },
	"../rules/dyvms.rules.yml":  func(o *Output) []byte { return o.Rules },
}

func render(t *testing.T, overrides string) *Output {
	t.Helper()
	o, err := Render(overrides)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// rules/*.yml are the mixin's output with the defaults, byte for byte.
func TestRulesAreCurrent(t *testing.T) {
	o := render(t, "")
	for path, get := range ruleFiles {
		want := get(o)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the mixin renders; edit mixin/*.libsonnet and run: go test ./mixin -run TestRulesAreCurrent -update\n%s", path, firstDifference(got, want))
		}
	}
}

func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n  file:  " + gl + "\n  mixin: " + wl
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// The dashboards are grafana/dashboards/*.json with the defaults.
func TestDashboardsAreTheJSONFiles(t *testing.T) {
	o := render(t, "")
	paths, err := filepath.Glob("../grafana/dashboards/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards (%v)", err)
	}
	if len(o.Dashboards) != len(paths) {
		t.Errorf("the mixin has %d dashboards, grafana/dashboards %d", len(o.Dashboards), len(paths))
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := o.Dashboards[filepath.Base(p)]
		if !ok {
			t.Errorf("the mixin has no %s", filepath.Base(p))
			continue
		}
		var a, b any
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the mixin's dashboard differs from the file", filepath.Base(p))
		}
	}
}

// A changed _config reaches every place it is meant to.
func TestConfigIsApplied(t *testing.T) {
	o := render(t, `{ _config+:: {
		dyvmsSelector: 'job="callcentre"',
		showMultiCluster: true,
		clusterLabel: 'k8s_cluster',
		dashboardTimezone: 'Europe/London',
		runbookURLPattern: 'https://wiki.example.com/runbooks/%s',
		alertFor+: { DyvmsExporterDown: '1h', DyvmsAgentOccupancyHigh: '45m' },
		abandonRatioLimit: 0.05,
		occupancyHigh: 0.85,
	} }`)
	alerts := string(o.Alerts)
	for _, want := range []string{
		`up{job="callcentre"}`, `absent(up{job="callcentre"})`,
		"for: 1h", "for 1 hour", "More than 5 % of today", "> 0.05", "> 0.85", "busy for 45 minutes",
		"runbook_url: https://wiki.example.com/runbooks/DyvmsExporterAbsent",
	} {
		if !strings.Contains(alerts, want) {
			t.Errorf("the alerts do not contain %q", want)
		}
	}
	for _, gone := range []string{`dyvms.*"`, "> 0.03", "> 0.9\n", "github.com/dyvms-community/dyvms_exporter/blob"} {
		if strings.Contains(alerts, gone) {
			t.Errorf("the alerts still contain %q", gone)
		}
	}
	for name, raw := range o.Dashboards {
		var d struct {
			Timezone   string `json:"timezone"`
			Templating struct {
				List []struct {
					Name string `json:"name"`
					Hide int    `json:"hide"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if d.Timezone != "Europe/London" {
			t.Errorf("%s: timezone %q", name, d.Timezone)
		}
		shown := false
		for _, v := range d.Templating.List {
			shown = shown || v.Name == "cluster" && v.Hide == 0
		}
		if !shown {
			t.Errorf("%s: showMultiCluster did not show the cluster variable", name)
		}
		if s := string(raw); strings.Contains(s, `cluster=~\"$cluster\"`) && !strings.Contains(s, `k8s_cluster=~\"$cluster\"`) ||
			strings.Count(s, `k8s_cluster=~\"$cluster\"`) < 10 || strings.Contains(s, `, cluster)`) {
			t.Errorf("%s: the cluster label was not renamed in every query", name)
		}
	}
}

// Every alert links its runbook under docs/runbooks, named after the alert;
// the docs' link test checks that the files exist.
func TestRunbookURLs(t *testing.T) {
	var doc struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(render(t, "").Alerts, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			n++
			want := "https://github.com/dyvms-community/dyvms_exporter/blob/main/docs/runbooks/" + r.Alert + ".md"
			if got := r.Annotations["runbook_url"]; got != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, got, want)
			}
		}
	}
	if n == 0 {
		t.Fatal("no alerts")
	}
}

// The rules rendered with a changed _config are still valid rule files.
func TestChangedConfigPassesPromtool(t *testing.T) {
	promtool := testutil.Tool(t, "promtool", "Debian: apt-get install -y prometheus")
	o := render(t, `{ _config+:: { dyvmsSelector: 'job=~"callcentre_.*"', alertFor+: { DyvmsExporterAbsent: '1h' }, answerRateLow: 0.1 } }`)
	dir := t.TempDir()
	for name, b := range map[string][]byte{"alerts.yml": o.Alerts, "rules.yml": o.Rules} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "check", "rules", p).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules %s: %v\n%s", name, err, out)
		}
	}
}

// The example of docs/mixin.md renders, and does what it says.
func TestDocExample(t *testing.T) {
	raw, err := os.ReadFile("../docs/mixin.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "```jsonnet\n")
	if i < 0 {
		t.Fatal("docs/mixin.md has no jsonnet example")
	}
	block := doc[i+len("```jsonnet\n"):]
	block = block[:strings.Index(block, "```")]
	const head = "(import 'mixin/mixin.libsonnet') + "
	j := strings.Index(block, head)
	if j < 0 {
		t.Fatalf("the example does not start from %q:\n%s", head, block)
	}
	o := render(t, block[j+len(head):])
	if !strings.Contains(string(o.Alerts), `up{job=~"callcentre-.*"}`) || !strings.Contains(string(o.Alerts), "> 0.02") {
		t.Errorf("the example's selector or threshold is not in the alerts")
	}
}

// A misspelt alert name in alertFor is an error, not a silent no-op.
func TestUnknownAlertForIsRefused(t *testing.T) {
	_, err := Render(`{ _config+:: { alertFor+: { DyvmsExporterDwn: '1m' } } }`)
	if err == nil || !strings.Contains(err.Error(), "DyvmsExporterDwn") {
		t.Fatalf("Render with a misspelt alertFor key: %v, want an error naming it", err)
	}
}

// The call-centre settings reach the inbound alerts and the "today" rules,
// and the rules they render are valid rule files.
func TestCallCentreConfigIsApplied(t *testing.T) {
	o := render(t, `{ _config+:: {
		serviceLevelTarget: 0.9,
		serviceLevelMinOffered: 20,
		queueAbandonRatioHigh: 0.05,
		callCentreUTCOffsetHours: -5,
		alertFor+: { DyvmsQueueServiceLevelLow: '20m' },
	} }`)
	alerts, rules := string(o.Alerts), string(o.Rules)
	for _, want := range []string{
		"(dyvms:queue_service_level:ratio15m < 0.9)", "(dyvms:queue_inbound_offered:increase15m >= 20)",
		"(dyvms:queue_inbound_abandon:ratio15m > 0.05)", "fewer than 90 % of its calls", "(target 90 %), for 20 minutes",
		"More than 5 % of the calls offered",
	} {
		if !strings.Contains(alerts, want) {
			t.Errorf("the alerts do not contain %q", want)
		}
	}
	// UTC-5: local midnight is 05:00 UTC, floor((t - 18000) / 86400) * 86400 + 18000.
	if want := "(floor((vector(time()) - 18000) / 86400) * 86400 + 18000)"; strings.Count(rules, want) != 2 {
		t.Errorf("the today rules do not compute the midnight as %s (%d times)", want, strings.Count(rules, want))
	}
	if strings.Contains(rules, "28800") || !strings.Contains(rules, "midnight (UTC-5,") {
		t.Error("the today rules or their comment still name UTC+8")
	}
	for _, bad := range []string{"5.5", "15", "-13", "'8'"} {
		if _, err := Render(`{ _config+:: { callCentreUTCOffsetHours: ` + bad + ` } }`); err == nil || !strings.Contains(err.Error(), "callCentreUTCOffsetHours") {
			t.Errorf("callCentreUTCOffsetHours %s: %v, want an error naming it", bad, err)
		}
	}
	promtool := testutil.Tool(t, "promtool", "Debian: apt-get install -y prometheus")
	p := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(p, o.Rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", p).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}

// With the defaults, the "today" rules' midnight is the dashboards' time
// zone's: both are the call centre's.
func TestTodayRulesMatchTheDashboardZone(t *testing.T) {
	o := render(t, "")
	m := regexp.MustCompile(`floor\(\(vector\(time\(\)\) \+ (\d+)\) / 86400\)`).FindStringSubmatch(string(o.Rules))
	if m == nil {
		t.Fatal("no midnight in the today rules")
	}
	offset, _ := strconv.Atoi(m[1])
	for name, raw := range o.Dashboards {
		var d struct {
			Timezone string `json:"timezone"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		loc, err := time.LoadLocation(d.Timezone)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// A winter and a summer day: a zone with daylight saving time
		// differs from a fixed offset on one of them.
		for _, day := range []time.Time{time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC)} {
			if _, zoneOffset := day.In(loc).Zone(); zoneOffset != offset {
				t.Errorf("%s: time zone %s is UTC%+d h on %s, the today rules count from UTC%+d h", name, d.Timezone, zoneOffset/3600, day.Format("2006-01-02"), offset/3600)
			}
		}
	}
}
