// Package e2e is the end-to-end test of the monitoring chain, on loopback
// only: the simulator (in-process) → dyvms_exporter (the real binary, built
// from this module) → Prometheus (scraping every second, with
// rules/dyvms.rules.yml and rules/dyvms.alerts.yml) → Alertmanager (with
// rules/alertmanager.yml) → a webhook receiver run by the test.
//
// One enterprise's task is found by task discovery (CloudQueryTask) rather
// than listed, and the simulator throttles that first listing once, so that
// the exporter retries: the metrics that exist only with discovery entries
// or after a retry are in the scrape as well.
//
// It checks that every dashboard query of grafana/dashboards returns data,
// that every metric name the rules and dashboards read is in a real scrape
// of the exporter (or recorded by a rule), that an operator's scenario
// (all agents of a task pause while customers wait) pages the right
// receiver with DyvmsCustomersWaitingNoAgentAvailable and resolves when the
// agents come back, and that nothing else fires.
//
// The run also reads a whole call centre (callcentre_test.go): an
// enterprise of a second simulator, running in real time, through its
// enterprises entry (online agents, inbound calls, queues) and an account
// of its own. While burstTask's scenario runs, that call centre's whole
// floor pauses: its inbound callers wait, abandon and overflow, the
// queues' service level falls below 80 % and DyvmsQueueServiceLevelLow
// reaches the team's webhook; when the floor resumes, it resolves. The
// run's copy of the rules shortens for: and, in the call-centre rules
// only, the 15-minute ranges (docs/call-centre.md, "End to end").
//
// The exporter also polls the simulator's call records (call_records).
// calls_test.go runs a second, faster chain for them: when all agents of a
// task pause its abandoned-call rate passes 3 % and DyvmsCallsAbandonedHigh
// reaches the webhook, while the other task's rate stays at 0.
//
// The scenario runs once per generation of Prometheus and Alertmanager
// (forEachGeneration): the Debian packages' binaries (Prometheus 2.42,
// Alertmanager 0.25; `apt-get install prometheus prometheus-alertmanager`,
// which .ci/run does) and Prometheus 3 with Alertmanager 0.34, which
// .ci/run builds into its cache and names in DYVMS_PROMETHEUS3 and
// DYVMS_ALERTMANAGER3. Prometheus scrapes through a recorder of the
// negotiation (Accept, Content-Type), and every dashboard query and rule
// must come back without a warning or info annotation. Without a
// generation's binaries its subtest skips, unless CI is set, where it
// fails. It runs on Linux only (process groups and the parent-death signal
// keep it from leaving processes behind).
//
// The Go code is tests only.
package e2e
