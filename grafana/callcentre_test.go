package grafana

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
)

// The boards link one click away to each other where a supervisor goes
// next: the call-centre board to the outbound boards and back, keeping the
// time range and the variables (enterprise_id is the same name on each).
func TestBoardLinks(t *testing.T) {
	boards := map[string]Dashboard{}
	for _, d := range Dashboards() {
		boards[d.UID] = d
	}
	uidOf := map[string]bool{}
	for _, uid := range wantUIDs {
		uidOf[uid] = true
	}
	for from, tos := range map[string][]string{
		"dyvms-callcentre": {"dyvms-overview", "dyvms-task"},
		"dyvms-overview":   {"dyvms-callcentre"},
	} {
		d, ok := boards[from]
		if !ok {
			t.Fatalf("no board %s", from)
		}
		links := map[string]map[string]any{}
		for _, l := range d.Links {
			m := l.(map[string]any)
			if url, _ := m["url"].(string); url != "" {
				uid, ok := strings.CutPrefix(url, "/d/")
				if !ok || !uidOf[uid] {
					t.Errorf("%s: link %q to %q, which is no board of this repository", from, m["title"], url)
				}
				links[uid] = m
			}
		}
		for _, to := range tos {
			m, ok := links[to]
			switch {
			case !ok:
				t.Errorf("%s: no link to %s", from, to)
			case m["type"] != "link" || m["includeVars"] != true || m["keepTime"] != true:
				t.Errorf("%s: the link to %s must be of type link and keep the time and variables: %v", from, to, m)
			}
			if !hasVariable(boards[to], "enterprise_id") || !hasVariable(d, "enterprise_id") {
				t.Errorf("%s → %s: enterprise_id does not carry over", from, to)
			}
		}
	}
}

func hasVariable(d Dashboard, name string) bool {
	for _, v := range d.Templating["list"].([]Variable) {
		if v.Name == name {
			return true
		}
	}
	return false
}

// callCentreKey is the key of an enterprises: entry that makes the exporter
// write a call-centre series (docs/call-centre.md), "" for other series.
func callCentreKey(name string) string {
	switch {
	case strings.HasPrefix(name, "dyvms_enterprise_agent"):
		return "online_agents"
	case strings.HasPrefix(name, "dyvms_inbound_"):
		return "inbound_calls"
	case strings.HasPrefix(name, "dyvms_queue_"):
		return "queues"
	}
	return ""
}

// TestCallCentrePanelsNameTheirConfigKey: every part of the call-centre view
// is off unless an enterprise's entry turns it on, so a panel that reads
// its series (directly or through recording rules) names, in place of "No
// data", a key it needs; the exporter's own series need none.
func TestCallCentrePanelsNameTheirConfigKey(t *testing.T) {
	checked := 0
	eachQueryPanel(func(file string, p Panel, read map[string]bool) {
		need := map[string]bool{}
		for n := range read {
			if k := callCentreKey(n); k != "" {
				need[k] = true
			}
		}
		if len(need) == 0 {
			return
		}
		checked++
		noValue, _ := p.FieldConfig.Defaults["noValue"].(string)
		named := false
		for k := range need {
			named = named || strings.Contains(noValue, k)
		}
		if !named {
			t.Errorf("%s: panel %q reads series of %v but its no-value text %q names none of them", file, p.Title, promqlcheck.Sorted(need), noValue)
		}
	}, sourceReader(t))
	if checked < 15 {
		t.Errorf("only %d call-centre panels found", checked)
	}
}

// The lint's call-centre rules: the queue variable shows names, and every
// per-queue selector filters on it.
func TestLinterCatchesCallCentreMistakes(t *testing.T) {
	known := knownNames(t)
	raw := string(dashboardFiles(t)["dyvms-callcentre.json"])
	if p := lintDashboard([]byte(raw), known); len(p) != 0 {
		t.Fatalf("the call-centre board has problems: %q", p)
	}
	var d struct {
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Regex string `json:"regex"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatal(err)
	}
	regex := ""
	for _, v := range d.Templating.List {
		if v.Name == "queue" {
			regex = v.Regex
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as Render writes it
	if err := enc.Encode(regex); err != nil {
		t.Fatal(err)
	}
	quoted := bytes.TrimSpace(buf.Bytes())
	checkLintCatches(t, raw, known, []lintMistake{
		{"queue rule without the queue matcher", `dyvms:queue_service_level:ratio15m{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\", queue=~\"$queue\"}`,
			`dyvms:queue_service_level:ratio15m{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\"}`, `lacks queue=~"$queue"`},
		{"histogram without the queue matcher", `dyvms_inbound_answer_wait_seconds_bucket{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\", queue=~\"$queue\"}`,
			`dyvms_inbound_answer_wait_seconds_bucket{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\", queue=~\"$queue\"}`, `lacks enterprise_id=~"$enterprise_id"`},
		{"poller lag without the enterprise matcher", `dyvms_inbound_call_records_lag_seconds{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\", enterprise_id=~\"$enterprise_id\"})`,
			`dyvms_inbound_call_records_lag_seconds{cluster=~\"$cluster\", job=~\"$job\", instance=~\"$instance\"})`, `lacks enterprise_id=~"$enterprise_id"`},
		{"queue numbers without names", `"regex": ` + string(quoted), `"regex": ""`, `must show queue names`},
		{"no queue variable", `"name": "queue"`, `"name": "queues"`, `no template variable "queue"`},
	})
}

// TestQueueNamesJoin runs the board's per-queue join (queueNamed) and the
// queue variable's query in promtool: a queue on the queue list gets its
// name (its new one after a rename), one missing from it its number, one
// whose list is gone for minutes (an exporter restart) its last name, two
// exporters reading the same queue give one series (not two, nor their
// sum), and the variable's regular expression takes the number as the
// value and "name · number" as the text.
func TestQueueNamesJoin(t *testing.T) {
	promtool := testutil.Tool(t, "promtool", "Debian: apt-get install -y prometheus")
	vars := map[string]string{"cluster": ".*", "job": ".+", "instance": ".+", "enterprise_id": ".+", "queue": ".+"}
	panel, _ := promqlcheck.SubstituteWith(queueNamed(perQueue(queueSel("dyvms:queue_service_level:ratio15m"))), vars)
	variable, _, ok := promqlcheck.VariablePromQL(queueVariable().Definition)
	if !ok {
		t.Fatalf("queue variable %q", queueVariable().Definition)
	}
	variable, _ = promqlcheck.SubstituteWith(variable, vars)
	const ent = `job="dyvms", enterprise_id="7000002"`
	file := map[string]any{
		"evaluation_interval": "1m",
		"tests": []map[string]any{{
			"interval": "1m",
			"input_series": []map[string]string{
				{"series": `dyvms:queue_service_level:ratio15m{instance="a:9116", ` + ent + `, queue="1001"}`, "values": "0.75x10"},
				{"series": `dyvms:queue_service_level:ratio15m{instance="b:9116", ` + ent + `, queue="1001"}`, "values": "0.75x10"},
				{"series": `dyvms:queue_service_level:ratio15m{instance="a:9116", ` + ent + `, queue="1002"}`, "values": "0.9x2"},
				{"series": `dyvms:queue_service_level:ratio15m{instance="a:9116", ` + ent + `, queue="1003"}`, "values": "0.5x10"},
				{"series": `dyvms_queue_info{instance="a:9116", ` + ent + `, queue="1001", queue_name="旧名"}`, "values": "1 1 1"},
				{"series": `dyvms_queue_info{instance="a:9116", ` + ent + `, queue="1001", queue_name="售后"}`, "values": "_ _ _ 1x7"},
				{"series": `dyvms_queue_info{instance="b:9116", ` + ent + `, queue="1001", queue_name="售后"}`, "values": "_ _ _ 1x7"},
				{"series": `dyvms_queue_info{instance="a:9116", ` + ent + `, queue="1003", queue_name="投诉"}`, "values": "1 1 1"},
				{"series": `dyvms_inbound_calls_total{instance="a:9116", ` + ent + `, queue="1002", outcome="answered"}`, "values": "3x10"},
				{"series": `dyvms_inbound_calls_total{instance="a:9116", ` + ent + `, queue="none", outcome="ivr_only"}`, "values": "1x10"},
			},
			"promql_expr_test": []map[string]any{
				{"expr": panel, "eval_time": "10m", "exp_samples": []map[string]any{
					{"labels": `{enterprise_id="7000002", queue="1001", queue_name="售后", queue_display="售后 · 1001"}`, "value": 0.75},
					{"labels": `{enterprise_id="7000002", queue="1003", queue_name="投诉", queue_display="投诉 · 1003"}`, "value": 0.5},
				}},
				{"expr": panel, "eval_time": "1m", "exp_samples": []map[string]any{
					{"labels": `{enterprise_id="7000002", queue="1001", queue_name="旧名", queue_display="旧名 · 1001"}`, "value": 0.75},
					{"labels": `{enterprise_id="7000002", queue="1002", queue_display="1002"}`, "value": 0.9},
					{"labels": `{enterprise_id="7000002", queue="1003", queue_name="投诉", queue_display="投诉 · 1003"}`, "value": 0.5},
				}},
				{"expr": variable, "eval_time": "10m", "exp_samples": []map[string]any{
					{"labels": `{enterprise_id="7000002", queue="1001", queue_name="售后", queue_display="售后 · 1001"}`, "value": 1},
					{"labels": `{enterprise_id="7000002", queue="1002", queue_display="1002"}`, "value": 3},
				}},
			},
		}},
	}
	b, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "queues_test.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s\n%s", err, out, b)
	}
	// Grafana's query_result shows each series as {labels, sorted} value
	// time; the variable's regex must take the number and the display.
	re := regexp.MustCompile(strings.Trim(queueVariable().Regex, "/"))
	for line, want := range map[string][2]string{
		`{enterprise_id="7000002", queue="1001", queue_display="售后 · 1001", queue_name="售后"} 1 1700000000000`: {"1001", "售后 · 1001"},
		`{enterprise_id="7000002", queue="1002", queue_display="1002"} 3 1700000000000`:                       {"1002", "1002"},
	} {
		m := re.FindStringSubmatch(line)
		if m == nil || m[re.SubexpIndex("value")] != want[0] || m[re.SubexpIndex("text")] != want[1] {
			t.Errorf("regex %s on %s: %q, want value %q text %q", re, line, m, want[0], want[1])
		}
	}
}
