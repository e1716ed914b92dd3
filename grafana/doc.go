// Package grafana generates the Grafana dashboards of dyvms_exporter
// (dashboards/*.json) from Go, so every panel gets the datasource variable,
// the job/instance/enterprise/task matchers, a unit and a description by
// construction. The committed JSON files are the product; the tests check
// they are current and lint them. Regenerate with
//
//	go test ./grafana -run TestDashboardsAreCurrent -update
//
// provisioning/ holds Grafana provisioning files; see README.md.
package grafana
