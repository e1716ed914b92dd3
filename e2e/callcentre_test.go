//go:build linux

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/rules/promqlcheck"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The whole call centre end to end: an enterprise read only through
// enterprises: (online_agents, inbound_calls, queues; none of its tasks is
// in tasks:), whose inbound callers are answered by the agents of its one
// outbound task. When that whole floor pauses (agents_pause with task 0),
// callers wait, abandon and overflow, the queues' service level falls
// below the target and DyvmsQueueServiceLevelLow reaches the webhook; when
// the agents resume, it recovers and the alert resolves.
//
// The call centre has a simulator of its own, read through the account
// callCentreAccount (its own endpoint and key pair), because it runs in
// real time while the outbound scenario's runs at simSpeed: the waits the
// service level judges against its thresholds are then real seconds, as
// the shortened rule ranges are. Its call centre is therefore sized in
// real seconds: short calls, many of them.
const (
	callCentreEnterprise = 7100003
	callCentreTask       = 13
	callCentreAccount    = "callcentre"
	// ccRange replaces the 15-minute range of the call-centre rules in the
	// run's copy (shortenRanges): about 25 calls offered to each queue.
	ccRange = 30 * time.Second
	// slAlert is the alert the call-centre scenario must raise, and
	// slReceiver where rules/alertmanager.yml routes it (warning,
	// component callcentre: the team's channel).
	slAlert    = "DyvmsQueueServiceLevelLow"
	slReceiver = "callcentre-team"
	// abandonAlert may fire with it: most callers of the paused floor
	// abandon before the queue's timeout.
	abandonAlert = "DyvmsQueueAbandonedHigh"
)

// ccQueues are the call centre's queues: their service-level thresholds
// are answer-wait bucket edges (20 s, 30 s), as the rules need.
var ccQueues = []string{"3001", "3002"}

// callCentreSimConfig is the call centre of the scenario, in real time:
//   - 40 agents, no breaks, shared by an outbound task that keeps them
//     little busy (one customer dialled per idle agent, 10 % answer) and
//     two queues offered a call every 1.2 s each (calls_per_hour 18,000:
//     the simulator's arrivals are at least a second apart, so about
//     3,000 an hour); an inbound call holds an agent about 10 s (ringing
//     1 to 6 s, talk at least 5 s, 1 s wrap-up), so the floor is less
//     than half busy and a caller
//     finds an idle agent at once: the wait is the IVR (2 s on average)
//     and the ringing, within the 20 s threshold for all but a few calls
//     in a thousand;
//   - a caller who finds no agent abandons after 9 s on average or
//     overflows at the queue's 10 s timeout, so that once the floor
//     pauses, the calls offered from then on miss the threshold and their
//     records come within seconds.
func callCentreSimConfig(cred simulator.Credential, zone string) simulator.Config {
	d := func(v time.Duration) simulator.Duration { return simulator.Duration(v) }
	return simulator.Config{
		Seed:        3,
		Speed:       1,
		Timezone:    zone,
		Credentials: []simulator.Credential{cred},
		Enterprises: []simulator.Enterprise{{ID: callCentreEnterprise, Channels: 20, Tasks: []simulator.Task{
			{ID: callCentreTask, Name: "e2e 呼入坐席外呼", StartedAgo: d(5 * time.Minute), Numbers: intp(1_000_000),
				Agents: intp(40), Concurrency: 10, DialRatio: 1, AnswerProbability: floatp(0.1),
				TalkMean: d(10 * time.Second), WrapupMean: durp(time.Second), PauseEvery: d(1000 * time.Hour),
				AgentFastAnswer: floatp(1), AgentMiss: floatp(0)},
		}, Inbound: &simulator.Inbound{
			TalkMean: d(5 * time.Second), IVRMean: d(time.Second), IVROnly: floatp(0.02),
			Queues: []simulator.InboundQueue{
				{Qno: ccQueues[0], Name: "e2e 售后", Hotline: "4008003001", CallsPerHour: 18000,
					ServiceLevel: d(20 * time.Second), Timeout: d(10 * time.Second), Patience: d(8 * time.Second)},
				{Qno: ccQueues[1], Name: "e2e 投诉", Hotline: "4008003002", CallsPerHour: 18000,
					ServiceLevel: d(30 * time.Second), Timeout: d(10 * time.Second), Patience: d(8 * time.Second)},
			},
		}}},
	}
}

// callCentreConfig is the exporter's configuration for the call centre:
// the account that owns it (the call centre's simulator and key pair), its
// enterprises entry with every part on and the per-agent series
// (metrics.enterprise_agents, which the call-centre board's agent table
// reads), polled as often as the
// configuration allows: inbound_calls every 10 s (the least interval)
// with 1 s settle (the least; the simulator writes a record when the
// call ends, so nothing is later than that) and 30 s lateness (the
// overlap every poll reads again: duplicates, not delay), queues every
// minute (the least).
func callCentreConfig(simURL, secretFile string, cred simulator.Credential) (accounts, enterprises string) {
	accounts = fmt.Sprintf("accounts:\n  - name: %s\n    enterprises: [%d]\n    endpoint: %s\n"+
		"    credentials: {access_key_id: %s, access_key_secret_file: %s}\n",
		callCentreAccount, callCentreEnterprise, simURL, cred.AccessKeyID, secretFile)
	enterprises = fmt.Sprintf("enterprises:\n  - enterprise_id: %d\n    online_agents: true\n"+
		"    inbound_calls: {interval: 10s, lateness: 30s, settle: 1s}\n    queues: {refresh_interval: 1m}\n"+
		"metrics:\n  enterprise_agents: true\n",
		callCentreEnterprise)
	return accounts, enterprises
}

// isCallCentreMetric tells the series only an enterprises entry exports
// (promqlcheck.CallCentreMetrics and the agent state sets of
// online_agents).
func isCallCentreMetric(name string) bool {
	for _, n := range promqlcheck.CallCentreMetrics {
		if n == name {
			return true
		}
	}
	for _, p := range []string{"dyvms_inbound_", "dyvms_queue_", "dyvms_enterprise_agent"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// callCentreRules returns the names of the recording rules (of both files,
// in order) that read a call-centre series, directly or through another
// such rule, and marks with them the alerts that do (by alert name).
func callCentreRules(t *testing.T, files ...promqlcheck.RuleFile) map[string]bool {
	t.Helper()
	cc := map[string]bool{}
	for _, rf := range files {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				read, err := promqlcheck.MetricsRead(r.Expr)
				if err != nil {
					t.Fatalf("%s: %v", r.Name(), err)
				}
				for _, n := range read {
					if cc[n] || isCallCentreMetric(n) {
						cc[r.Name()] = true
						break
					}
				}
			}
		}
	}
	return cc
}

// shortenRanges rewrites the 15-minute ranges of a call-centre rule's
// expression to ccRange. The rules' logic (which outcomes count as
// offered, the threshold's bucket, the ratio, the least offered calls, the
// comparison with the target) is untouched: only the span they count over
// shrinks, as for: shrinks (shortFor), so that a pause of the floor shows
// within seconds. The recorded names keep their "15m".
func shortenRanges(expr string) string {
	return strings.ReplaceAll(expr, "[15m]", "["+model.Duration(ccRange).String()+"]")
}

// floorScenario switches every agent of the call centre through its
// simulator's admin endpoint (task 0: the whole floor).
func floorScenario(t *testing.T, ccURL, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := postJSON(ctx, ccURL+"/admin/scenario", simulator.Scenario{Enterprise: callCentreEnterprise, Name: name}); err != nil {
		t.Fatal(err)
	}
}

// isCallCentreExpected tells the alerts the floor's pause may raise: slAlert
// (which it must) and abandonAlert, for the call centre's queues.
func isCallCentreExpected(labels map[string]string) bool {
	return (labels["alertname"] == slAlert || labels["alertname"] == abandonAlert) &&
		labels["enterprise_id"] == strconv.Itoa(callCentreEnterprise)
}

// slNotified reports, for status "firing", whether the webhook received
// slAlert firing for some queue of the call centre, and for "resolved",
// whether every queue it fired for was last notified resolved: through
// slReceiver, with the labels of the rule.
func slNotified(t *testing.T, hook *webhook, status string) (bool, string) {
	t.Helper()
	got, err := hook.notifications()
	if err != nil {
		t.Fatalf("the webhook received something it cannot read: %v", err)
	}
	last := map[string]string{} // queue -> latest status
	for _, n := range got {
		for _, a := range n.Alerts {
			if a.Labels["alertname"] != slAlert {
				continue
			}
			if !isCallCentreExpected(a.Labels) {
				t.Fatalf("%s for another enterprise: %v", slAlert, a.Labels)
			}
			if n.Receiver != slReceiver || n.Path != "/"+slReceiver {
				t.Fatalf("%s went to receiver %s (%s), want %s", slAlert, n.Receiver, n.Path, slReceiver)
			}
			if a.Labels["severity"] != "warning" || a.Labels["component"] != "callcentre" || a.Labels["job"] != jobName ||
				(a.Labels["queue"] != ccQueues[0] && a.Labels["queue"] != ccQueues[1]) {
				t.Fatalf("%s labels: %v", slAlert, a.Labels)
			}
			last[a.Labels["queue"]] = a.Status
		}
	}
	if len(last) == 0 {
		return false, fmt.Sprintf("%d notifications, none of %s", len(got), slAlert)
	}
	for _, st := range last {
		if st == status {
			if status == "firing" {
				return true, ""
			}
		} else if status == "resolved" {
			return false, fmt.Sprintf("latest %s per queue: %v", slAlert, last)
		}
	}
	return status == "resolved", fmt.Sprintf("latest %s per queue: %v", slAlert, last)
}

// checkCallCentreStats asserts through the call centre's /admin/stats that
// the exporter used the three operations and got nothing but OK.
func checkCallCentreStats(t *testing.T, ccURL string) {
	t.Helper()
	var st simulator.Stats
	if err := getJSON(ccURL+"/admin/stats", &st); err != nil {
		t.Fatal(err)
	}
	for code, n := range st.Codes {
		if code != "OK" {
			t.Errorf("the call centre's simulator answered %s %d times", code, n)
		}
	}
	for _, op := range []string{"CloudListOnlineAgent", "CloudQueryIbCdr", "CloudListQueue"} {
		if st.Actions[op] == 0 {
			t.Errorf("the exporter never called %s: %v", op, st.Actions)
		}
	}
	t.Logf("call-centre simulator: %d requests, %v", st.Requests, st.Actions)
}

// serviceLevels returns the recorded service level of each call-centre
// queue, and for the log each queue's level with the calls answered within
// the threshold and offered (the recorded 15-minute rules, over ccRange).
func serviceLevels(t *testing.T, prom promAPI) (map[string]float64, string) {
	t.Helper()
	get := func(rec string) map[string]string {
		res, err := prom.query(fmt.Sprintf(`%s{enterprise_id="%d"}`, rec, callCentreEnterprise))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, s := range res {
			out[s.Metric["queue"]] = s.value()
		}
		return out
	}
	sl := get("dyvms:queue_service_level:ratio15m")
	within := get("dyvms:queue_inbound_answered_within_threshold:increase15m")
	offered := get("dyvms:queue_inbound_offered:increase15m")
	out := map[string]float64{}
	var desc []string
	for _, q := range ccQueues {
		v, err := strconv.ParseFloat(sl[q], 64)
		if err != nil {
			continue
		}
		out[q] = v
		desc = append(desc, fmt.Sprintf("%s %.2f (%s of %s)", q, v, within[q], offered[q]))
	}
	return out, strings.Join(desc, ", ")
}

// awaitCallCentre waits until the exporter's scrape has the call
// centre: its agents, its queues listed (with their thresholds) and
// answered inbound calls counted in each of them. Every call-centre
// family then has its series (a listed queue's are written at 0).
func awaitCallCentre(t *testing.T, metricsURL string) {
	t.Helper()
	t0 := time.Now()
	ent := strconv.Itoa(callCentreEnterprise)
	testutil.Eventually(t, 60*time.Second, 250*time.Millisecond, "the call centre's agents, queues and inbound calls in the exporter's scrape", func() (bool, string) {
		samples := scrapeSamples(t, metricsURL)
		var missing []string
		for _, q := range ccQueues {
			if samples[`dyvms_queue_service_level_seconds{enterprise_id="`+ent+`",queue="`+q+`"}`] == "" {
				missing = append(missing, "queue "+q+" listed")
			}
			if v, _ := strconv.ParseFloat(samples[`dyvms_inbound_calls_total{enterprise_id="`+ent+`",outcome="answered",queue="`+q+`"}`], 64); v == 0 {
				missing = append(missing, "answered calls of queue "+q)
			}
		}
		if samples[`dyvms_enterprise_agents_scrape_success{enterprise_id="`+ent+`"}`] != "1" {
			missing = append(missing, "agents read")
		}
		return len(missing) == 0, fmt.Sprintf("not yet: %v", missing)
	})
	t.Logf("%-52s %6.1fs", "call centre: agents, queues, inbound calls counted", time.Since(t0).Seconds())
}

// requireAlerts fails at once when a rule file lacks an alert the run
// waits for, rather than after the scenario's timeout.
func requireAlerts(t *testing.T, path string, names ...string) {
	t.Helper()
	rf, err := promqlcheck.ReadRuleFile(path)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			have[r.Alert] = true
		}
	}
	for _, n := range names {
		if !have[n] {
			t.Fatalf("%s has no alert %s, which the scenario waits for", path, n)
		}
	}
}

// sinceMidnight returns the call-centre recording rules counted since the
// call centre's midnight (named ...today): sums of per-minute increases,
// each the difference with the sample a minute earlier, so they have a
// value only once Prometheus has more than a minute of history (up to two
// with the subquery's alignment to whole minutes), which the run's early
// checks do not wait for.
func sinceMidnight(t *testing.T, root string) map[string]bool {
	t.Helper()
	files := readRuleFiles(t, filepath.Join(root, "rules"))
	cc := callCentreRules(t, files...)
	out := map[string]bool{}
	for _, g := range files[0].Groups {
		for _, r := range g.Rules {
			if r.Record != "" && cc[r.Record] && strings.HasSuffix(r.Record, "today") {
				out[r.Record] = true
			}
		}
	}
	return out
}

// splitSinceMidnight separates the dashboard queries that read a rule of
// later (directly) from the others.
func splitSinceMidnight(t *testing.T, queries []dashQuery, later map[string]bool) (now, end []dashQuery) {
	t.Helper()
	for _, q := range queries {
		read, err := promqlcheck.MetricsRead(q.expr)
		if err != nil {
			t.Fatalf("%s: %v", q.key, err)
		}
		late := false
		for _, n := range read {
			late = late || later[n]
		}
		if late {
			end = append(end, q)
		} else {
			now = append(now, q)
		}
	}
	return now, end
}

// checkSinceMidnight waits until the rules since midnight (later) and the
// dashboard queries that read them have data.
func checkSinceMidnight(t *testing.T, prom promAPI, later map[string]bool, queries []dashQuery) {
	t.Helper()
	t0 := time.Now()
	testutil.Eventually(t, 150*time.Second, time.Second, "the rules since midnight and the dashboard queries reading them have data", func() (bool, string) {
		var empty []string
		for _, rec := range promqlcheck.Sorted(later) {
			res, err := prom.query(rec)
			if err != nil {
				t.Fatalf("%s: %v", rec, err)
			}
			if len(res) == 0 {
				empty = append(empty, rec)
			}
		}
		for _, q := range queries {
			res, err := prom.query(q.expr)
			if err != nil {
				t.Fatalf("%s: %v\n%s", q.key, err, q.expr)
			}
			if len(res) == 0 {
				empty = append(empty, q.key)
			}
		}
		return len(empty) == 0, fmt.Sprintf("no data yet: %v", empty)
	})
	t.Logf("%d rules since midnight and %d dashboard queries reading them have data (waited %.1fs)", len(later), len(queries), time.Since(t0).Seconds())
}
