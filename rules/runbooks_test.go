package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runbookDir holds one runbook per alert, docs/runbooks/<AlertName>.md,
// and its Chinese version under docs/zh-CN/runbooks/.
const (
	runbookDir   = "../docs/runbooks"
	runbookZhDir = "../docs/zh-CN/runbooks"
	alertsPage   = "../docs/alerts.md"
	alertsZhPage = "../docs/zh-CN/alerts.md"
)

// Every alert has its runbook, in English and Chinese, headed with its name,
// and every runbook file belongs to an alert (each alert's runbook_url,
// runbookBase + its name, is checked by the alert lint); the tables of
// docs/alerts.md and docs/zh-CN/alerts.md list every alert with the
// severity and component of its rule.
func TestRunbookPerAlert(t *testing.T) {
	_, alerts := allRules(t)
	if len(alerts) < 10 {
		t.Fatalf("only %d alerts found", len(alerts))
	}
	want := map[string]bool{}
	for _, a := range alerts {
		want[a.Alert+".md"] = true
		for _, dir := range []string{runbookDir, runbookZhDir} {
			raw, err := os.ReadFile(filepath.Join(dir, a.Alert+".md"))
			if err != nil {
				t.Errorf("%s: no runbook: %v", a.Alert, err)
				continue
			}
			if first, _, _ := strings.Cut(string(raw), "\n"); first != "# "+a.Alert {
				t.Errorf("%s/%s.md begins %q, want the heading %q", dir, a.Alert, first, "# "+a.Alert)
			}
		}
	}
	for _, dir := range []string{runbookDir, runbookZhDir} {
		files, err := filepath.Glob(filepath.Join(dir, "*.md"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !want[filepath.Base(f)] {
				t.Errorf("%s belongs to no alert of %s", f, alertFile)
			}
		}
	}
	row := regexp.MustCompile(`(?m)^\| (Dyvms\w+) \| (\w+) \| (\w+) \|`)
	for _, pagePath := range []string{alertsPage, alertsZhPage} {
		page, err := os.ReadFile(pagePath)
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string][2]string{}
		for _, m := range row.FindAllStringSubmatch(string(page), -1) {
			listed[m[1]] = [2]string{m[2], m[3]}
		}
		for _, a := range alerts {
			got, ok := listed[a.Alert]
			if !ok {
				t.Errorf("%s is not in the table of %s", a.Alert, pagePath)
				continue
			}
			if w := [2]string{a.Labels["severity"], a.Labels["component"]}; got != w {
				t.Errorf("%s: %s says severity %s, component %s; the rule says %s, %s", a.Alert, pagePath, got[0], got[1], w[0], w[1])
			}
			delete(listed, a.Alert)
		}
		for name := range listed {
			t.Errorf("%s lists %s, which is not an alert of %s", pagePath, name, alertFile)
		}
	}
}
