//go:build linux

package e2e

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
)

// These run without Prometheus or Alertmanager: they check the test's own
// plumbing, so that a skipped end-to-end run still vets it.

func TestNoonZone(t *testing.T) {
	for h := range 24 {
		now := time.Date(2026, 3, 1, h, 37, 0, 0, time.UTC)
		name, off := noonZone(now)
		loc := mustZone(t, name)
		if got := now.In(loc).Hour(); got != 12 {
			t.Errorf("%02d:37 UTC: %s (UTC%+d) gives %02d h local, want 12", h, name, off, got)
		}
	}
}

func TestShortFor(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		2 * time.Minute: 3 * time.Second, 5 * time.Minute: 5 * time.Second,
		10 * time.Minute: 10 * time.Second, 30 * time.Minute: 10 * time.Second,
	} {
		if got := shortFor(in); got != want {
			t.Errorf("shortFor(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestAdaptRules(t *testing.T) {
	root := ".."
	dir := t.TempDir()
	cc := callCentreRules(t, readRuleFiles(t, filepath.Join(root, "rules"))...)
	shortened := 0
	for _, f := range []string{"dyvms.rules.yml", "dyvms.alerts.yml"} {
		src, dst := filepath.Join(root, "rules", f), filepath.Join(dir, f)
		longest := adaptRules(t, src, dst)
		orig, err := promqlcheck.ReadRuleFile(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := promqlcheck.ReadRuleFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Groups) != len(orig.Groups) {
			t.Fatalf("%s: %d groups, want %d", f, len(got.Groups), len(orig.Groups))
		}
		for i, g := range got.Groups {
			if orig.Groups[i].Interval != "" && g.Interval != "1s" {
				t.Errorf("%s: group %s interval %q, want 1s", f, g.Name, g.Interval)
			}
			for j, r := range g.Rules {
				o := orig.Groups[i].Rules[j]
				want := o.Expr
				if cc[o.Name()] {
					want = shortenRanges(o.Expr)
					if strings.Contains(r.Expr, "[15m]") {
						t.Errorf("%s: call-centre rule %s keeps a 15-minute range: %s", f, o.Name(), r.Expr)
					}
					if r.Expr != o.Expr {
						shortened++
					}
				}
				if r.Expr != want || r.Name() != o.Name() || !reflect.DeepEqual(r.Labels, o.Labels) || !reflect.DeepEqual(r.Annotations, o.Annotations) {
					t.Errorf("%s: %s changed beyond for:", f, o.Name())
				}
				if o.For == "" {
					continue
				}
				d, err := model.ParseDuration(r.For)
				if err != nil || time.Duration(d) < 3*time.Second || time.Duration(d) > longest {
					t.Errorf("%s: %s for: %q (was %s)", f, r.Alert, r.For, o.For)
				}
			}
		}
		if f == "dyvms.alerts.yml" && longest != 10*time.Second {
			t.Errorf("longest for: %v, want 10s", longest)
		}
	}
	// The service-level rules are among the call-centre rules, and not a
	// task rule is.
	for _, name := range []string{"dyvms:queue_inbound_offered:increase15m", "dyvms:queue_service_level:ratio15m"} {
		if !cc[name] {
			t.Errorf("%s is not taken for a call-centre rule", name)
		}
	}
	for name := range cc {
		if strings.HasPrefix(name, "dyvms:task_") {
			t.Errorf("%s is taken for a call-centre rule", name)
		}
	}
	if shortened < 4 {
		t.Errorf("only %d call-centre rules had their 15-minute range shortened", shortened)
	}
}

func TestShortenRanges(t *testing.T) {
	in := `sum without (le) (increase(dyvms_inbound_answer_wait_seconds_bucket{le=~"20|20[.]0"}[15m]) and on (queue) (x == 20)) / increase(y[1h])`
	want := `sum without (le) (increase(dyvms_inbound_answer_wait_seconds_bucket{le=~"20|20[.]0"}[30s]) and on (queue) (x == 20)) / increase(y[1h])`
	if got := shortenRanges(in); got != want {
		t.Errorf("shortenRanges:\n got %s\nwant %s", got, want)
	}
}

func TestAdaptAlertmanager(t *testing.T) {
	src := filepath.Join("..", "rules", "alertmanager.yml")
	dst := filepath.Join(t.TempDir(), "alertmanager.yml")
	adaptAlertmanager(t, src, dst, "http://127.0.0.1:1")
	orig, got := readYAML(t, src), readYAML(t, dst)
	if !reflect.DeepEqual(orig["inhibit_rules"], got["inhibit_rules"]) {
		t.Error("inhibit_rules changed")
	}
	var walk func(o, g map[string]any, path string)
	walk = func(o, g map[string]any, path string) {
		for k, v := range o {
			switch k {
			case "group_wait", "group_interval", "repeat_interval":
				if !strings.HasSuffix(g[k].(string), "s") && !strings.HasSuffix(g[k].(string), "h") {
					t.Errorf("%s.%s = %v", path, k, g[k])
				}
			case "routes":
				for i := range v.([]any) {
					walk(v.([]any)[i].(map[string]any), g[k].([]any)[i].(map[string]any), path+".routes")
				}
			default:
				if !reflect.DeepEqual(v, g[k]) {
					t.Errorf("%s.%s changed: %v -> %v", path, k, v, g[k])
				}
			}
		}
	}
	walk(orig["route"].(map[string]any), got["route"].(map[string]any), "route")
	for _, r := range got["receivers"].([]any) {
		rec := r.(map[string]any)
		for _, c := range rec["webhook_configs"].([]any) {
			if u := c.(map[string]any)["url"]; u != "http://127.0.0.1:1/"+rec["name"].(string) {
				t.Errorf("receiver %s: url %v", rec["name"], u)
			}
		}
	}
}

func TestDashboardQueriesSubstituted(t *testing.T) {
	qs := dashboardQueries(t, "..")
	if len(qs) < 50 {
		t.Fatalf("only %d dashboard queries", len(qs))
	}
	for _, q := range qs {
		if strings.Contains(q.expr, "$") || strings.Contains(q.expr, "[[") {
			t.Errorf("%s: not fully substituted: %s", q.key, q.expr)
		}
		if _, err := promqlcheck.Parse(q.expr); err != nil {
			t.Errorf("%s: %v", q.key, err)
		}
	}
}
