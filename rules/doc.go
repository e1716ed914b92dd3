// Package rules holds the Prometheus recording rules (dyvms.rules.yml),
// alerting rules (dyvms.alerts.yml) with their promtool unit tests (tests/),
// the runbook (in the README) and an example Alertmanager configuration
// (alertmanager.yml) for dyvms_exporter. The Go code here is tests only.
package rules
