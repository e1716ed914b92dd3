//go:build linux

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The task the scenario pauses, and the job name Prometheus scrapes the
// exporter as (the alerts select job=~"dyvms.*").
const (
	burstEnterprise = 7100001
	burstTask       = 11
	jobName         = "dyvms"
)

// discoveredEnterprise's tasks are not named in the exporter's
// configuration: a discovery entry lists them with CloudQueryTask, so the
// run proves that a discovered task is scraped like a listed one, and the
// dyvms_discovery_* series (which exist only for discovery entries) are in
// the scrape the metric names are checked against.
//
// The simulator throttles the first CloudQueryTask (simConfig's fault
// rule; throttleOnce switches it off once that answer is counted), so that
// the exporter retries once and dyvms_api_retries_total, which appears only
// with the first retry, exists too. The answer advertises throttleTimeLeft,
// which the exporter waits before retrying: ample time to switch the fault
// off. All of it happens before Prometheus starts, so no rate() sees the
// throttled answer and DyvmsApiThrottled has nothing to fire on.
const (
	discoveredEnterprise = 7100002
	throttleTimeLeft     = 2 * time.Second
	// discoveryInterval is the shortest refresh_interval the
	// configuration accepts: a few more listings during the run.
	discoveryInterval = 30 * time.Second
)

// simSpeed slows simulated time down. The simulator overflows a customer
// who finds no free agent to the IVR after 2 simulated seconds, so once all
// agents of a task pause, "customers waiting and no agent available" lasts
// only while the calls already dialled keep being answered: with
// burstTask's settings, at least 6 simulated seconds from the pause in each
// of 200 seeds tried (driving the model with a fake clock). At a quarter of
// real time that is at least 24 real seconds, ample for the shortened for:
// (3 s) at 1 s scrapes and evaluations; the test checks that the alert still
// fires when the agents resume, so its resolution is the agents' doing.
const simSpeed = 0.25

func intp(v int) *int                          { return &v }
func floatp(v float64) *float64                { return &v }
func durp(v time.Duration) *simulator.Duration { d := simulator.Duration(v); return &d }

// noonZone returns an IANA zone (Etc/GMT±N) in which it is now between
// 12:00 and 13:00. The call centre's "today" counters start at local
// midnight; with half an hour of simulated history and a run of a few
// minutes in the middle of the local day, they never reset during the test
// and are never small, whatever the time the test runs at. (A reset, or a
// run just after midnight, would make the abandon proxy of burstTask jump
// after the pause and fire DyvmsAbandonProxyHigh.)
func noonZone(now time.Time) (string, int) {
	off := 12 - now.UTC().Hour() // hours east of UTC
	if off < -12 {
		off += 24
	}
	if off > 14 {
		off -= 24
	}
	if off == 0 {
		return "UTC", 0
	}
	// The Etc zones are named the POSIX way: Etc/GMT-8 is UTC+8.
	return fmt.Sprintf("Etc/GMT%+d", -off), off
}

// simConfig is a call centre in which no alert condition holds in steady
// state:
//   - every task runs with far more numbers left than it can dial;
//   - each task has more agents than channels (concurrency) and agents take
//     no breaks (pause_every 1000h), so at least agents - concurrency -
//     agents in wrap-up are available at every moment: no customer ever
//     waits without an available agent, none is left unrouted (abandon
//     proxy 0), occupancy stays well below 90 %;
//   - answer rates are 40 % to 100 %;
//   - call limits (task and enterprise) exist, for the dashboards' limit
//     panels, but are far out of reach.
//
// burstTask over-dials (dial ratio 20, every customer answers) so that its
// channels are always full of customers about to answer: when its agents
// pause, dozens of them answer into an empty floor.
//
// One fault rule throttles discoveredEnterprise's CloudQueryTask until
// throttleOnce removes it after the first throttled answer.
func simConfig(cred simulator.Credential, zone string) simulator.Config {
	d := func(v time.Duration) simulator.Duration { return simulator.Duration(v) }
	noBreaks := d(1000 * time.Hour)
	c := simulator.Config{
		Seed:        1,
		Speed:       simSpeed,
		Timezone:    zone,
		Credentials: []simulator.Credential{cred},
		Faults: simulator.Faults{Rules: []simulator.FaultRule{{
			Kind: simulator.FaultThrottle, Action: "CloudQueryTask", Enterprise: discoveredEnterprise,
			TimeLeft: d(throttleTimeLeft),
		}}},
		Enterprises: []simulator.Enterprise{
			{ID: burstEnterprise, Channels: 100, Tasks: []simulator.Task{
				{ID: burstTask, Name: "e2e 回访 burst", StartedAgo: d(30 * time.Minute), Numbers: intp(1_000_000),
					Agents: intp(60), Concurrency: 50, DialRatio: 20, AnswerProbability: floatp(1),
					TalkMean: d(3 * time.Second), WrapupMean: durp(0), PauseEvery: noBreaks},
				{ID: 12, Name: "e2e steady", StartedAgo: d(20 * time.Minute), Numbers: intp(100_000),
					Agents: intp(10), RemovedAgents: 1, Concurrency: 4, DialRatio: 1.5, AnswerProbability: floatp(0.5),
					TalkMean: d(20 * time.Second), WrapupMean: durp(2 * time.Second), PauseEvery: noBreaks,
					CallLimit: intp(100_000)},
			}},
			{ID: discoveredEnterprise, Channels: 10, CallLimit: intp(100_000), Tasks: []simulator.Task{
				{ID: 21, Name: "e2e limits", StartedAgo: d(10 * time.Minute), Numbers: intp(100_000),
					Agents: intp(8), Concurrency: 3, DialRatio: 1.5, AnswerProbability: floatp(0.4),
					TalkMean: d(15 * time.Second), WrapupMean: durp(3 * time.Second), PauseEvery: noBreaks,
					CallLimit: intp(100_000)},
			}},
		},
	}
	fastAgents(&c)
	return c
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b, 0o644)
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// exporterConfig writes the exporter's configuration (the secret in its own
// 0600 file, as an operator would) and returns its path. Every task is
// listed under tasks except discoveredEnterprise's, which a discovery
// entry finds. The call centre (callcentre_test.go) is an account of its
// own, on the simulator at ccURL, read through its enterprises entry only.
func exporterConfig(t *testing.T, dir, endpoint, zone string, cred simulator.Credential, cfg simulator.Config, ccURL string, ccCred simulator.Credential) string {
	t.Helper()
	secretFile := filepath.Join(dir, "access_key_secret")
	writeFile(t, secretFile, []byte(cred.AccessKeySecret+"\n"), 0o600)
	ccSecretFile := filepath.Join(dir, "callcentre_access_key_secret")
	writeFile(t, ccSecretFile, []byte(ccCred.AccessKeySecret+"\n"), 0o600)
	accounts, enterprises := callCentreConfig(ccURL, ccSecretFile, ccCred)
	var b strings.Builder
	fmt.Fprintf(&b, "endpoint: %s\ntimezone: %s\n", endpoint, zone)
	fmt.Fprintf(&b, "credentials:\n  access_key_id: %s\n  access_key_secret_file: %s\n", cred.AccessKeyID, secretFile)
	fmt.Fprintf(&b, "discovery:\n  - enterprise_id: %d\n    types: [1]\n    refresh_interval: %s\n",
		discoveredEnterprise, model.Duration(discoveryInterval))
	b.WriteString("tasks:\n")
	for _, e := range cfg.Enterprises {
		if e.ID == discoveredEnterprise {
			continue
		}
		for _, task := range e.Tasks {
			fmt.Fprintf(&b, "  - enterprise_id: %d\n    task_id: %d\n", e.ID, task.ID)
		}
	}
	b.WriteString(callRecordsConfig(cfg))
	b.WriteString(accounts)
	b.WriteString(enterprises)
	path := filepath.Join(dir, "exporter.yml")
	writeFile(t, path, []byte(b.String()), 0o600)
	return path
}

// shortFor maps a production for: to the test's: a minute there is a second
// here, at least 3 s (so an alert still needs 4 evaluations in a row) and at
// most 10 s (so the steady state outlasts every for: in a short run).
func shortFor(d time.Duration) time.Duration {
	return min(max(d/60, 3*time.Second), 10*time.Second)
}

// adaptRules copies a rule file with every for: shortened (shortFor),
// every group interval set to 1 s, and the 15-minute ranges of the
// call-centre rules (those that read what only an enterprises entry
// exports, directly or through another such rule: callCentreRules, over
// both rule files of src's directory) set to ccRange (shortenRanges);
// every other expression, range window, label and annotation is untouched.
// It returns the longest for: of the copy.
func adaptRules(t *testing.T, src, dst string) time.Duration {
	t.Helper()
	cc := callCentreRules(t, readRuleFiles(t, filepath.Dir(src))...)
	doc := readYAML(t, src)
	groups, ok := doc["groups"].([]any)
	if !ok || len(groups) == 0 {
		t.Fatalf("%s: no groups", src)
	}
	var longest time.Duration
	for _, g := range groups {
		group := g.(map[string]any)
		if _, ok := group["interval"]; ok {
			group["interval"] = "1s"
		}
		for _, r := range group["rules"].([]any) {
			rule := r.(map[string]any)
			name, _ := rule["record"].(string)
			if a, ok := rule["alert"].(string); ok {
				name = a
			}
			if expr, ok := rule["expr"].(string); ok && cc[name] {
				rule["expr"] = shortenRanges(expr)
			}
			f, ok := rule["for"].(string)
			if !ok {
				continue
			}
			d, err := model.ParseDuration(f)
			if err != nil {
				t.Fatalf("%s: %s: for %q: %v", src, rule["alert"], f, err)
			}
			short := shortFor(time.Duration(d))
			rule["for"] = model.Duration(short).String()
			longest = max(longest, short)
		}
	}
	writeYAML(t, dst, doc)
	return longest
}

// readRuleFiles reads the two rule files of dir, recording rules first.
func readRuleFiles(t *testing.T, dir string) []promqlcheck.RuleFile {
	t.Helper()
	var out []promqlcheck.RuleFile
	for _, f := range []string{"dyvms.rules.yml", "dyvms.alerts.yml"} {
		rf, err := promqlcheck.ReadRuleFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *rf)
	}
	return out
}

// adaptAlertmanager copies the Alertmanager configuration with every
// receiver's webhook URL pointed at hookURL + "/" + receiver name and the
// grouping timers shortened; routes, matchers, group_by, inhibitions and
// send_resolved are kept.
func adaptAlertmanager(t *testing.T, src, dst, hookURL string) {
	t.Helper()
	doc := readYAML(t, src)
	route, ok := doc["route"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no route", src)
	}
	shortenRoute(route, true)
	receivers, _ := doc["receivers"].([]any)
	if len(receivers) == 0 {
		t.Fatalf("%s: no receivers", src)
	}
	for _, r := range receivers {
		rec := r.(map[string]any)
		name, _ := rec["name"].(string)
		for key, v := range rec {
			if key == "name" {
				continue
			}
			if key != "webhook_configs" {
				t.Fatalf("%s: receiver %s has %s; the e2e test can only redirect webhook_configs to its receiver", src, name, key)
			}
			for _, c := range v.([]any) {
				c.(map[string]any)["url"] = hookURL + "/" + name
			}
		}
	}
	writeYAML(t, dst, doc)
}

func shortenRoute(r map[string]any, root bool) {
	for k, v := range map[string]string{"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"} {
		if _, ok := r[k]; ok || root {
			r[k] = v
		}
	}
	if routes, ok := r["routes"].([]any); ok {
		for _, sub := range routes {
			shortenRoute(sub.(map[string]any), false)
		}
	}
}

// prometheusConfig writes prometheus.yml: 1 s scrapes and evaluations of
// the exporter as job "dyvms", the given rule files, alerts to amAddr.
func prometheusConfig(t *testing.T, dir, exporterAddr, amAddr string, ruleFiles ...string) string {
	t.Helper()
	cfg := map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
		"rule_files": ruleFiles,
		"alerting": map[string]any{"alertmanagers": []any{
			map[string]any{"static_configs": []any{map[string]any{"targets": []string{amAddr}}}},
		}},
		"scrape_configs": []any{map[string]any{
			"job_name":       jobName,
			"static_configs": []any{map[string]any{"targets": []string{exporterAddr}}},
		}},
	}
	path := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, path, cfg)
	return path
}
