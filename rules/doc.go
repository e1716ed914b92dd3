// Package rules holds the Prometheus recording rules (dyvms.rules.yml) and
// alerting rules (dyvms.alerts.yml), rendered from the monitoring mixin in
// mixin/ (go test ./mixin -run TestRulesAreCurrent -update), with their
// promtool unit tests (tests/) and an example Alertmanager configuration
// (alertmanager.yml) for dyvms_exporter. Each alert's runbook is
// docs/runbooks/<alert name>.md. The Go code here is tests only.
package rules
