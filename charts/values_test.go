package charts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// schemaObjects walks values.schema.json and returns the paths (in --set
// form) of every object that refuses unknown keys: the levels the chart
// owns.
func schemaObjects(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(path string, s map[string]any)
	walk = func(path string, s map[string]any) {
		if ap, ok := s["additionalProperties"]; ok {
			switch ap := ap.(type) {
			case bool:
				if !ap {
					paths = append(paths, path)
				}
			case map[string]any:
				walk(join(path, "SomeName"), ap)
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for k, p := range props {
				walk(join(path, k), p.(map[string]any))
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(path+"[0]", items)
		}
	}
	walk("", root)
	slices.Sort(paths)
	return paths
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// TestChartSchemaRefusesUnknownKeys: at every level the chart owns, a key
// values.yaml does not know fails helm template and names the key (the
// misspelt serviceMonitor.enable first of all); and every key of
// values.yaml is one the schema knows.
func TestChartSchemaRefusesUnknownKeys(t *testing.T) {
	paths := schemaObjects(t)
	for _, want := range []string{"", "config", "config.tasks[0]", "config.api", "serviceMonitor", "prometheusRule.alertOverrides.SomeName", "accounts[0]", "accounts[0].role", "webConfig", "networkPolicy", "image"} {
		if !slices.Contains(paths, want) {
			t.Errorf("values.schema.json does not close %q to unknown keys (closed: %q)", want, paths)
		}
	}
	cases := [][]string{{"--set", "serviceMonitor.enable=true"}}
	for _, p := range paths {
		cases = append(cases, []string{"--set", join(p, "bogusKey") + "=1"})
	}
	for _, args := range cases {
		t.Run(args[1], func(t *testing.T) {
			key := strings.TrimSuffix(args[1][strings.LastIndex(args[1], ".")+1:], "=true")
			key = strings.TrimSuffix(key, "=1")
			out, err := render(t, append(minimalArgs(), args...)...)
			if err == nil {
				t.Fatalf("%s rendered:\n%.1000s", args[1], out)
			}
			var he *helmError
			if !errors.As(err, &he) || !strings.Contains(he.stderr, "values don't meet the specifications of the schema") || !strings.Contains(he.stderr, key) {
				t.Errorf("%s: the error does not come from the schema or does not name %q: %v", args[1], key, err)
			}
		})
	}

	// Every key of values.yaml is known to the schema (the defaults pass
	// it, which helm lint --strict checks too), and so is every key of
	// the test values sets: they render in TestChartRendersStrictly.
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.Unmarshal(b, &vals); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if p == "" || strings.ContainsAny(p, "[") || strings.Contains(p, "SomeName") || strings.HasPrefix(p, "config") {
			continue
		}
		if _, ok := value(vals, p).(map[string]any); !ok {
			t.Errorf("values.schema.json describes %s, which values.yaml does not have", p)
		}
	}
}

// TestChartBigIDs: ids above 2^53 reach the exporter unchanged, quoted in
// a values file or given with --set (which keeps integers); an unquoted
// one in a values file, which Helm has already rounded, is refused with
// the advice to quote it.
func TestChartBigIDs(t *testing.T) {
	check := func(t *testing.T, out string, want map[string]string) {
		t.Helper()
		o := decodeStrict(t, out)
		cfg := o.ConfigMaps[o.Deployment.Name].Data["config.yml"]
		var doc struct {
			Tasks []struct {
				EnterpriseID yaml.Node `yaml:"enterprise_id"`
				TaskID       yaml.Node `yaml:"task_id"`
			} `yaml:"tasks"`
			Discovery []struct {
				EnterpriseID yaml.Node `yaml:"enterprise_id"`
			} `yaml:"discovery"`
		}
		if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		if len(doc.Tasks) > 0 {
			got["enterprise_id"], got["task_id"] = doc.Tasks[0].EnterpriseID.Value, doc.Tasks[0].TaskID.Value
		}
		if len(doc.Discovery) > 0 {
			got["discovery"] = doc.Discovery[0].EnterpriseID.Value
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q in the rendered config.yml, want %q:\n%s", k, got[k], v, cfg)
			}
		}
		checkConfig(t, cfg, expect{})
	}
	t.Run("quoted in a values file", func(t *testing.T) {
		out, err := render(t, "-f", filepath.Join("testdata", "bigid.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, out, map[string]string{"enterprise_id": "9007199254740993", "task_id": "18014398509481985", "discovery": "9223372036854775807"})
	})
	t.Run("--set", func(t *testing.T) {
		out, err := render(t, "--set", "config.tasks[0].enterprise_id=9007199254740993", "--set", "config.tasks[0].task_id=9007199254740995")
		if err != nil {
			t.Fatal(err)
		}
		check(t, out, map[string]string{"enterprise_id": "9007199254740993", "task_id": "9007199254740995"})
	})
	t.Run("unquoted in a values file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "values.yaml")
		writeFile(t, f, "config:\n  tasks:\n    - enterprise_id: 7000002\n      task_id: 9007199254740993\n")
		_, err := render(t, "-f", f)
		var he *helmError
		if !errors.As(err, &he) || !strings.Contains(he.stderr, "config.tasks[0].task_id:") || !strings.Contains(he.stderr, `quote it, e.g. task_id: "9007199254740993"`) {
			t.Errorf("an unquoted id above 2^53 was not refused with the advice to quote it: %v", err)
		}
	})
	t.Run("unquoted account enterprise", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "values.yaml")
		writeFile(t, f, "config:\n  tasks: [{enterprise_id: 1, task_id: 2}]\naccounts:\n  - name: b\n    enterprises: [9007199254740993]\n    secret: {name: b}\n")
		_, err := render(t, "-f", f)
		var he *helmError
		if !errors.As(err, &he) || !strings.Contains(he.stderr, "accounts[0].enterprises[0]:") {
			t.Errorf("an unquoted account enterprise above 2^53 was not refused: %v", err)
		}
	})
}

// TestChartTwoReleases: two releases in one cluster, everything on, share
// no object, rule group, dashboard uid or dashboard title: two names in
// one namespace, or one name in two namespaces (Prometheus and the
// Grafana sidecar read every namespace).
func TestChartTwoReleases(t *testing.T) {
	for _, pair := range [][2][2]string{
		{{"dyvms-a", namespace}, {"dyvms-b", namespace}},
		{{"dyvms", "callcentre-a"}, {"dyvms", "callcentre-b"}},
	} {
		t.Run(pair[0][0]+"."+pair[0][1]+"+"+pair[1][0]+"."+pair[1][1], func(t *testing.T) { twoReleases(t, pair) })
	}
}

func twoReleases(t *testing.T, pair [2][2]string) {
	type seen struct{ objects, groups, uids, titles []string }
	var all []seen
	for _, r := range pair {
		rel, ns := r[0], r[1]
		// full.yaml's namespaceOverride would put both in one namespace.
		out, err := runHelm(t, "template", rel, chartDir, "--namespace", ns, "-f", filepath.Join("testdata", "full.yaml"), "--set", "namespaceOverride="+ns)
		if err != nil {
			t.Fatal(err)
		}
		o := decodeStrict(t, out)
		var s seen
		for _, id := range o.all {
			s.objects = append(s.objects, o.namespaces[id]+"/"+id)
		}
		if o.PrometheusRule == nil || len(o.ConfigMaps) < 2 {
			t.Fatalf("%s: no PrometheusRule or dashboards", rel)
		}
		for _, g := range o.PrometheusRule.Spec.Groups {
			s.groups = append(s.groups, g.Name)
		}
		for _, cm := range o.ConfigMaps {
			for k, v := range cm.Data {
				if !strings.HasSuffix(k, ".json") {
					continue
				}
				var d struct{ UID, Title string }
				if err := json.Unmarshal([]byte(v), &d); err != nil {
					t.Fatal(err)
				}
				s.uids = append(s.uids, d.UID)
				s.titles = append(s.titles, d.Title)
			}
		}
		all = append(all, s)
	}
	for what, pair := range map[string][2][]string{
		"object": {all[0].objects, all[1].objects}, "rule group": {all[0].groups, all[1].groups},
		"dashboard uid": {all[0].uids, all[1].uids}, "dashboard title": {all[0].titles, all[1].titles},
	} {
		if len(pair[0]) == 0 {
			t.Errorf("no %s rendered", what)
		}
		for _, x := range pair[0] {
			if slices.Contains(pair[1], x) {
				t.Errorf("%s %q rendered by both releases", what, x)
			}
		}
	}
}

// TestChartAlertOverridesUnderPromtool: the override of full.yaml
// (DyvmsAbandonProxyHigh: threshold 3 % -> 5 %, for 30m, severity
// critical, plus the team label of every alert) behaves so under
// promtool: 4 % of abandons (above the shipped 3 %) raises nothing, 6 %
// fires only after 30 minutes, with the labels.
func TestChartAlertOverridesUnderPromtool(t *testing.T) {
	out, err := render(t, "-f", filepath.Join("testdata", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o := decodeStrict(t, out)
	var expr string
	for _, g := range o.PrometheusRule.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "DyvmsAbandonProxyHigh" {
				expr = r.Expr.String()
			}
		}
	}
	if !strings.Contains(expr, "> 0.05") || strings.Contains(expr, "> 0.03") {
		t.Errorf("DyvmsAbandonProxyHigh's expression does not hold the overridden threshold > 0.05:\n%s", expr)
	}
	dir := t.TempDir()
	writeRenderedRules(t, o, dir)
	series := func(name, task, values string) string {
		return fmt.Sprintf("      - series: '%s{job=\"dyvms\",instance=\"exp:10681\",enterprise_id=\"7000002\",task_id=\"%s\"}'\n        values: '%s'\n", name, task, values)
	}
	var in strings.Builder
	for _, task := range []struct{ id, agentCalls string }{{"1", "960"}, {"2", "940"}} {
		in.WriteString(series("dyvms_task_today_answered", task.id, "1000x60"))
		in.WriteString(series("dyvms_task_today_agent_calls", task.id, task.agentCalls+"x60"))
		in.WriteString(fmt.Sprintf("      - series: 'dyvms_task_status{job=\"dyvms\",instance=\"exp:10681\",enterprise_id=\"7000002\",task_id=\"%s\",status=\"running\"}'\n        values: '1x60'\n", task.id))
	}
	firing := `'ALERTS{alertname="DyvmsAbandonProxyHigh",alertstate="firing",component="callcentre",severity="critical",team="callcentre",job="dyvms",instance="exp:10681",enterprise_id="7000002",task_id="2"}'`
	test := fmt.Sprintf(`rule_files: [../dyvms.alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: ALERTS{alertname="DyvmsAbandonProxyHigh"}
        eval_time: 20m
        exp_samples:
          - labels: 'ALERTS{alertname="DyvmsAbandonProxyHigh",alertstate="pending",component="callcentre",severity="critical",team="callcentre",job="dyvms",instance="exp:10681",enterprise_id="7000002",task_id="2"}'
            value: 1
      - expr: ALERTS{alertname="DyvmsAbandonProxyHigh",alertstate="firing"}
        eval_time: 45m
        exp_samples:
          - labels: %s
            value: 1
`, in.String(), firing)
	writeFile(t, filepath.Join(dir, "tests", "override_test.yml"), test)
	for _, promtool := range promtools(t) {
		if out, err := exec.Command(promtool, "test", "rules", filepath.Join(dir, "tests", "override_test.yml")).CombinedOutput(); err != nil {
			t.Errorf("%s test rules: %v\n%s", promtool, err, out)
		}
	}
}

// TestChartMonitorFields: the serviceMonitor values of full.yaml reach
// the ServiceMonitor (relabelings after the chart's job, metric
// relabelings, target labels, sample limit, its namespace and labels),
// and with webConfig's TLS the sharded ScrapeConfig reads /sd and scrapes
// /probe over HTTPS with the same TLS settings.
func TestChartMonitorFields(t *testing.T) {
	out, err := render(t, "-f", filepath.Join("testdata", "full.yaml"), "--set", "scrapeConfig.enabled=true")
	if err != nil {
		t.Fatal(err)
	}
	o := decodeStrict(t, out)
	sm := o.ServiceMonitor
	if sm == nil || o.ScrapeConfig == nil {
		t.Fatal("no ServiceMonitor or ScrapeConfig")
	}
	if sm.Namespace != "monitoring" || sm.Labels["release"] != "kube-prometheus-stack" || sm.Labels["team"] != "callcentre" {
		t.Errorf("ServiceMonitor in %q with labels %v", sm.Namespace, sm.Labels)
	}
	ep := sm.Spec.Endpoints[0]
	var targets []string
	for _, r := range ep.RelabelConfigs {
		targets = append(targets, r.TargetLabel)
	}
	if !slices.Equal(targets, []string{"job", "cluster"}) {
		t.Errorf("relabelings set %v, want job then cluster", targets)
	}
	if len(ep.MetricRelabelConfigs) != 1 || ep.MetricRelabelConfigs[0].Action != "drop" {
		t.Errorf("metricRelabelings %+v, want the drop of full.yaml", ep.MetricRelabelConfigs)
	}
	if !slices.Equal(sm.Spec.TargetLabels, []string{"team"}) || sm.Spec.SampleLimit == nil || *sm.Spec.SampleLimit != 200000 {
		t.Errorf("targetLabels %v, sampleLimit %v", sm.Spec.TargetLabels, sm.Spec.SampleLimit)
	}
	if ep.TLSConfig == nil || ep.TLSConfig.InsecureSkipVerify == nil || !*ep.TLSConfig.InsecureSkipVerify {
		t.Errorf("tlsConfig %+v, want full.yaml's", ep.TLSConfig)
	}
	sc := o.ScrapeConfig.Spec
	if sc.Scheme == nil || sc.Scheme.String() != "https" || sc.TLSConfig == nil || len(sc.HTTPSDConfigs) != 1 ||
		!strings.HasPrefix(string(sc.HTTPSDConfigs[0].URL), "https://") || sc.HTTPSDConfigs[0].TLSConfig == nil {
		t.Errorf("ScrapeConfig with webConfig TLS: scheme %v, tlsConfig %v, http_sd %+v", sc.Scheme, sc.TLSConfig, sc.HTTPSDConfigs)
	}
}

// TestChartArtifactHubImages: the image Artifact Hub lists is the one the
// chart runs by default.
func TestChartArtifactHubImages(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		Icon        string            `yaml:"icon"`
		Annotations map[string]string `yaml:"annotations"`
	}
	if err := yaml.Unmarshal(b, &chart); err != nil {
		t.Fatal(err)
	}
	var images []struct{ Name, Image string }
	if err := yaml.Unmarshal([]byte(chart.Annotations["artifacthub.io/images"]), &images); err != nil || len(images) != 1 {
		t.Fatalf("artifacthub.io/images %q: %v", chart.Annotations["artifacthub.io/images"], err)
	}
	out, err := render(t, minimalArgs()...)
	if err != nil {
		t.Fatal(err)
	}
	if got := container(t, decodeStrict(t, out).Deployment).Image; got != images[0].Image {
		t.Errorf("Artifact Hub lists %s, the chart runs %s", images[0].Image, got)
	}
	if !strings.HasSuffix(chart.Icon, "/charts/dyvms-exporter/icon.svg") {
		t.Errorf("icon %q is not the chart's icon.svg", chart.Icon)
	}
	if _, err := os.Stat(filepath.Join(chartDir, "icon.svg")); err != nil {
		t.Error(err)
	}
}

// TestChartAccounts: accounts.yaml's two accounts reach the configuration
// as the exporter's accounts: section: the Secret's keys as files in its
// mount, the role's settings under their configuration names, the quoted
// enterprise id as the integer, the optional endpoint and api only where
// given.
func TestChartAccounts(t *testing.T) {
	out, err := render(t, "-f", filepath.Join("testdata", "accounts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o := decodeStrict(t, out)
	var doc struct {
		Accounts []map[string]any `yaml:"accounts"`
	}
	if err := yaml.Unmarshal([]byte(o.ConfigMaps[o.Deployment.Name].Data["config.yml"]), &doc); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"name": "client-b", "enterprises": []any{7000003},
			"credentials": map[string]any{
				"access_key_id_file":     "../accounts/client-b/access_key_id",
				"access_key_secret_file": "../accounts/client-b/access_key_secret",
				"security_token_file":    "../accounts/client-b/security_token"},
			"api": map[string]any{"requests_per_second": 10, "burst": 10, "concurrency": 4}},
		{"name": "group_sub", "enterprises": []any{7000004, 7000005}, "endpoint": "https://dyvmsapi.aliyuncs.com",
			"credentials": map[string]any{
				"role_arn": "acs:ram::1234567890123456:role/dyvms-reader", "external_id": "dyvms-7f3a",
				"role_session_name": "dyvms-exporter-group", "region": "cn-hangzhou"}},
	}
	if !reflect.DeepEqual(doc.Accounts, want) {
		g, _ := yaml.Marshal(doc.Accounts)
		t.Errorf("accounts in config.yml:\n%s\nwant %v", g, want)
	}
}
