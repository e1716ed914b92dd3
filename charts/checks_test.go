package charts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

// chartValues are the values the checks read, as Helm would merge them:
// values.yaml, then the values set's file over it (maps merge, the rest
// replaces).
func chartValues(t *testing.T, valuesFile string) map[string]any {
	t.Helper()
	read := func(path string) map[string]any {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	vals := read(filepath.Join(chartDir, "values.yaml"))
	if valuesFile != "" {
		mergeValues(vals, read(filepath.Join("testdata", valuesFile)))
	}
	return vals
}

func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// value reads a dotted path of the values.
func value(vals map[string]any, path string) any {
	var cur any = vals
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func stringMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

// checkNamespaces: every object in the release's namespace (or
// namespaceOverride), the monitor where serviceMonitor.namespace puts it.
func checkNamespaces(t *testing.T, o objects, want expect) {
	t.Helper()
	for _, id := range o.all {
		ns := o.namespaces[id]
		wantNS := want.ns()
		if (strings.Contains(id, "/ServiceMonitor/") || strings.Contains(id, "/PodMonitor/")) && want.monitorNamespace != "" {
			wantNS = want.monitorNamespace
		}
		if ns != wantNS {
			t.Errorf("%s: namespace %q, want %q", id, ns, wantNS)
		}
	}
}

// checkPolicies checks the PodDisruptionBudget and the NetworkPolicy
// against the pod they are for.
func checkPolicies(t *testing.T, o objects, want expect) {
	t.Helper()
	podLabels := o.Deployment.Spec.Template.Labels
	if (o.PDB != nil) != want.pdb {
		t.Errorf("PodDisruptionBudget rendered: %v, want %v", o.PDB != nil, want.pdb)
	}
	if o.PDB != nil {
		for k, v := range o.PDB.Spec.Selector.MatchLabels {
			if podLabels[k] != v {
				t.Errorf("PodDisruptionBudget selects %s=%s, the pod has %q", k, v, podLabels[k])
			}
		}
		if o.PDB.Spec.MaxUnavailable == nil && o.PDB.Spec.MinAvailable == nil {
			t.Error("PodDisruptionBudget with neither maxUnavailable nor minAvailable")
		}
	}
	np := o.NetworkPolicy
	if (np != nil) != want.networkPolicy {
		t.Fatalf("NetworkPolicy rendered: %v, want %v", np != nil, want.networkPolicy)
	}
	if np == nil {
		return
	}
	for k, v := range np.Spec.PodSelector.MatchLabels {
		if podLabels[k] != v {
			t.Errorf("NetworkPolicy selects %s=%s, the pod has %q", k, v, podLabels[k])
		}
	}
	if !slices.Contains(np.Spec.PolicyTypes, "Ingress") || !slices.Contains(np.Spec.PolicyTypes, "Egress") {
		t.Errorf("NetworkPolicy policyTypes %v: want both Ingress and Egress", np.Spec.PolicyTypes)
	}
	// The first ingress rule: Prometheus' pods, on the exporter's port only.
	if len(np.Spec.Ingress) == 0 {
		t.Fatal("NetworkPolicy without ingress rules lets nothing scrape")
	}
	in := np.Spec.Ingress[0]
	if len(in.From) != 1 || in.From[0].PodSelector == nil || len(in.From[0].PodSelector.MatchLabels)+len(in.From[0].PodSelector.MatchExpressions) == 0 {
		t.Errorf("ingress from %+v: want Prometheus' pods by a non-empty selector", in.From)
	}
	if len(in.Ports) != 1 || in.Ports[0].Port == nil || in.Ports[0].Port.String() != "http-metrics" {
		t.Errorf("ingress ports %+v: want http-metrics only", in.Ports)
	}
	// Egress: DNS and HTTPS, nothing else by default.
	var ports []string
	for _, e := range np.Spec.Egress {
		for _, p := range e.Ports {
			ports = append(ports, fmt.Sprintf("%s/%s", p.Port, *p.Protocol))
		}
	}
	slices.Sort(ports)
	if want := []string{"443/TCP", "53/TCP", "53/UDP"}; !slices.Equal(ports, want) {
		t.Errorf("egress ports %v, want %v", ports, want)
	}
}

// scopedGroupName is the name the chart gives a group of rules/: scoped
// to the release, so that two releases never render the same group.
func scopedGroupName(ns, fullname, group string) string {
	return ns + "/" + fullname + "/" + group
}

// wantRuleGroups computes, independently of the template, the groups the
// PrometheusRule must hold for these values: rules/ with the job selector
// replaced, the disabled alerts left out, each override applied, the
// alert labels added, the group names scoped.
func wantRuleGroups(t *testing.T, vals map[string]any, ns, fullname string) []any {
	t.Helper()
	sel, _ := vals["jobSelector"].(string)
	pr := stringMap(vals["prometheusRule"])
	var disabled []string
	for _, d := range pr["disabledAlerts"].([]any) {
		disabled = append(disabled, d.(string))
	}
	overrides := stringMap(pr["alertOverrides"])
	alertLabels := stringMap(pr["alertLabels"])
	var groups []any
	for _, f := range []string{"dyvms.rules.yml", "dyvms.alerts.yml"} {
		b, err := os.ReadFile(filepath.Join("..", "rules", f))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if f == "dyvms.alerts.yml" {
			if !strings.Contains(text, defaultSelector) {
				t.Fatalf("rules/%s no longer holds %s, the selector the chart replaces", f, defaultSelector)
			}
			text = strings.ReplaceAll(text, defaultSelector, fmt.Sprintf("job=~%q", sel))
		}
		var doc struct {
			Groups []map[string]any `yaml:"groups"`
		}
		if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
			t.Fatal(err)
		}
		for _, g := range doc.Groups {
			var rules []any
			for _, r := range g["rules"].([]any) {
				rule := r.(map[string]any)
				name, _ := rule["alert"].(string)
				if name == "" {
					rules = append(rules, rule)
					continue
				}
				if slices.Contains(disabled, name) {
					continue
				}
				ov := stringMap(overrides[name])
				if f, ok := ov["for"]; ok {
					rule["for"] = f
				}
				for cmp, n := range stringMap(ov["thresholds"]) {
					op := strings.Fields(cmp)[0]
					rule["expr"] = strings.ReplaceAll(rule["expr"].(string), cmp, fmt.Sprintf("%s %v", op, n))
				}
				labels := map[string]any{}
				maps.Copy(labels, stringMap(rule["labels"]))
				maps.Copy(labels, alertLabels)
				maps.Copy(labels, stringMap(ov["labels"]))
				if len(labels) > 0 {
					rule["labels"] = labels
				}
				rules = append(rules, rule)
			}
			if len(rules) == 0 {
				continue
			}
			g["rules"] = rules
			g["name"] = scopedGroupName(ns, fullname, g["name"].(string))
			groups = append(groups, any(g))
		}
	}
	return groups
}

func checkRules(t *testing.T, o objects, want expect, valuesFile string) {
	t.Helper()
	pr := o.PrometheusRule
	if (pr != nil) != want.prometheusRule {
		t.Fatalf("PrometheusRule rendered: %v, want %v", pr != nil, want.prometheusRule)
	}
	if pr == nil {
		return
	}
	vals := chartValues(t, valuesFile)
	wantGroups := wantRuleGroups(t, vals, want.ns(), o.Deployment.Name)
	if len(pr.Spec.Groups) == 0 || !reflect.DeepEqual(o.rawRuleGroups, any(wantGroups)) {
		g, _ := yaml.Marshal(o.rawRuleGroups)
		w, _ := yaml.Marshal(wantGroups)
		t.Errorf("the PrometheusRule's groups are not those of rules/ with the values applied:\n---- rendered\n%.4000s\n---- want\n%.4000s", g, w)
	}
	var sawSelector bool
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "DyvmsExporterDown" {
				sawSelector = strings.Contains(r.Expr.String(), fmt.Sprintf("up{job=~%q}", want.jobSelector))
			}
			for _, d := range value(vals, "prometheusRule.disabledAlerts").([]any) {
				if r.Alert == d {
					t.Errorf("disabled alert %s rendered", d)
				}
			}
		}
	}
	if !sawSelector {
		t.Errorf("DyvmsExporterDown does not select up{job=~%q}", want.jobSelector)
	}
	// promtool (check, then every repository test, on both generations) is
	// most of the chart tests' time: -short runs it on one values set, the
	// full run (the README's test command, CI) on every one.
	if testing.Short() && promtoolRanShort.Swap(true) {
		return
	}
	dir := t.TempDir()
	writeRenderedRules(t, o, dir)
	for _, promtool := range promtools(t) {
		if out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "dyvms.rules.yml"), filepath.Join(dir, "dyvms.alerts.yml")).CombinedOutput(); err != nil {
			t.Errorf("%s check rules: %v\n%s", promtool, err, out)
		}
	}
	runRepositoryRuleTests(t, dir, vals, want.jobSelector)
}

// promtoolRanShort tells whether a -short run has put one values set's
// rules through promtool already.
var promtoolRanShort atomic.Bool

func promtools(t *testing.T) []string {
	t.Helper()
	tools := []string{testutil.Tool(t, "promtool", "Debian: apt-get install -y prometheus")}
	if p3 := os.Getenv("DYVMS_PROMTOOL3"); p3 != "" {
		tools = append(tools, p3)
	}
	return tools
}

// writeRenderedRules writes the PrometheusRule's groups back into the two
// files of rules/, by the group names they were scoped from, so that the
// repository's promtool tests can run on them.
func writeRenderedRules(t *testing.T, o objects, dir string) {
	t.Helper()
	files := map[string][]any{}
	for _, g := range o.rawRuleGroups.([]any) {
		// A group of recording rules came from dyvms.rules.yml (it holds
		// every one), whatever its name.
		f := "dyvms.alerts.yml"
		if rs, _ := g.(map[string]any)["rules"].([]any); len(rs) > 0 {
			if _, ok := rs[0].(map[string]any)["record"]; ok {
				f = "dyvms.rules.yml"
			}
		}
		files[f] = append(files[f], g)
	}
	for _, f := range []string{"dyvms.rules.yml", "dyvms.alerts.yml"} {
		b, err := yaml.Marshal(map[string]any{"groups": files[f]})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f), string(b))
	}
}

// runRepositoryRuleTests runs rules/tests/*.yml on the rendered rules:
// the cases of alerts the values leave untouched must pass as they do on
// rules/ (with the alert labels added to what they expect); the cases of
// disabled or overridden alerts are left out (they test the shipped
// thresholds), and so are those of the alerts that select jobs by the
// shipped selector when jobSelector changed (their series carry the
// shipped job names).
func runRepositoryRuleTests(t *testing.T, dir string, vals map[string]any, jobSelector string) {
	t.Helper()
	changed := map[string]bool{}
	for _, d := range value(vals, "prometheusRule.disabledAlerts").([]any) {
		changed[d.(string)] = true
	}
	for a := range stringMap(value(vals, "prometheusRule.alertOverrides")) {
		changed[a] = true
	}
	if jobSelector != "dyvms.*" {
		for _, a := range alertsSelectingJobs(t) {
			changed[a] = true
		}
	}
	alertLabels := stringMap(value(vals, "prometheusRule.alertLabels"))
	tests, err := filepath.Glob(filepath.Join("..", "rules", "tests", "*.yml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rules/tests: %v", err)
	}
	var files []string
	for _, f := range tests {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, tc := range doc["tests"].([]any) {
			tcm := tc.(map[string]any)
			art, _ := tcm["alert_rule_test"].([]any)
			var kept []any
			for _, a := range art {
				am := a.(map[string]any)
				if changed[am["alertname"].(string)] {
					continue
				}
				exp, _ := am["exp_alerts"].([]any)
				for _, e := range exp {
					em := e.(map[string]any)
					l := stringMap(em["exp_labels"])
					maps.Copy(l, alertLabels)
					em["exp_labels"] = l
				}
				kept = append(kept, am)
			}
			if art != nil {
				tcm["alert_rule_test"] = kept
			}
		}
		out, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, "tests", filepath.Base(f))
		writeFile(t, name, string(out))
		files = append(files, name)
	}
	for _, promtool := range promtools(t) {
		if out, err := exec.Command(promtool, append([]string{"test", "rules"}, files...)...).CombinedOutput(); err != nil {
			t.Errorf("%s test rules on the rendered rules: %v\n%s", promtool, err, out)
		}
	}
}

// dashboardScope is what the chart appends to a dashboard's uid (a hash
// of namespace/release) and title.
func dashboardScope(ns, rel string) (uidSuffix, titleSuffix string) {
	sum := sha256.Sum256([]byte(ns + "/" + rel))
	return "-" + hex.EncodeToString(sum[:])[:8], " (" + ns + "/" + rel + ")"
}

// scopeDashboard applies to a parsed dashboard what the chart does to its
// text: its uid and title scoped, links to the other dashboards following
// their uids.
func scopeDashboard(d map[string]any, uids map[string]string, titleSuffix string) {
	d["uid"] = uids[d["uid"].(string)]
	d["title"] = d["title"].(string) + titleSuffix
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			for old, nu := range uids {
				x = regexp.MustCompile(`/d/`+regexp.QuoteMeta(old)+`([?/"]|$)`).ReplaceAllString(x, "/d/"+nu+"$1")
			}
			return x
		}
		return v
	}
	for k, v := range d {
		if k != "uid" && k != "title" {
			d[k] = walk(v)
		}
	}
}

func checkDashboards(t *testing.T, o objects, want expect, valuesFile string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in grafana/dashboards: %v", err)
	}
	vals := chartValues(t, valuesFile)
	str := func(p string) string { s, _ := value(vals, p).(string); return s }
	label, labelValue := str("dashboards.label"), str("dashboards.labelValue")
	folderAnnotation, folder := str("dashboards.folderAnnotation"), str("dashboards.folder")
	uidSuffix, titleSuffix := dashboardScope(want.ns(), release)
	sources := map[string]map[string]any{}
	uids := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		sources[filepath.Base(f)] = d
		uid := d["uid"].(string)
		if len(uid) > 31 {
			uid = uid[:31]
		}
		uids[d["uid"].(string)] = uid + uidSuffix
	}
	found := map[string]bool{}
	for name, cm := range o.ConfigMaps {
		if cm.Labels[label] == "" {
			continue
		}
		if !want.dashboards {
			t.Errorf("ConfigMap %s labelled as a dashboard without dashboards.enabled", name)
		}
		if got := cm.Labels[label]; got != labelValue {
			t.Errorf("%s: label %s=%q, want %q", name, label, got, labelValue)
		}
		if got := cm.Annotations[folderAnnotation]; got != folder {
			t.Errorf("%s: annotation %s=%q, want %q", name, folderAnnotation, got, folder)
		}
		if len(cm.Data) != 1 {
			t.Errorf("%s: %d files, want one dashboard", name, len(cm.Data))
		}
		for key, data := range cm.Data {
			src, ok := sources[key]
			if !ok {
				t.Errorf("%s: %s is not in grafana/dashboards", name, key)
				continue
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(data), &got); err != nil {
				t.Errorf("%s: %s is not JSON: %v", name, key, err)
				continue
			}
			wantD := deepCopyJSON(t, src)
			scopeDashboard(wantD, uids, titleSuffix)
			if !reflect.DeepEqual(got, wantD) {
				t.Errorf("%s: %s is not grafana/dashboards/%s with its uid (%s), title and links scoped to the release", name, key, key, uids[src["uid"].(string)])
			}
			if u := got["uid"].(string); len(u) > 40 {
				t.Errorf("%s: uid %q is longer than Grafana's 40 characters", name, u)
			}
			found[key] = true
		}
	}
	if want.dashboards {
		for _, f := range files {
			if !found[filepath.Base(f)] {
				t.Errorf("grafana/dashboards/%s has no ConfigMap", filepath.Base(f))
			}
		}
	}
}

func deepCopyJSON(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// probeOf returns what the kubelet would do for a probe: "tcp" or the
// scheme and path of a GET.
func probeOf(p *corev1.Probe) string {
	switch {
	case p == nil:
		return ""
	case p.TCPSocket != nil:
		return "tcp"
	case p.HTTPGet != nil:
		return strings.ToLower(string(p.HTTPGet.Scheme)) + " " + p.HTTPGet.Path
	}
	return "?"
}

// alertsSelectingJobs are the alerts of rules/ whose expression holds the
// job selector jobSelector replaces.
func alertsSelectingJobs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "rules", "dyvms.alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			if strings.Contains(r.Expr, defaultSelector) {
				out = append(out, r.Alert)
			}
		}
	}
	return out
}
