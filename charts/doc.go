// Package charts holds the tests of the Helm chart in dyvms-exporter/: it
// lints and renders the chart with several values sets (testdata/) and
// decodes every rendered object strictly into its upstream Go type
// (k8s.io/api, the Prometheus Operator's monitoring API), checks the
// rendered exporter configuration with the exporter's --config.check, the
// rendered rules with promtool (check rules, the repository's rule tests
// and an override's own case), the web configuration's probes against the
// running exporter, the schema's refusal of unknown keys at every level it
// closes, and that the PrometheusRule and the dashboard ConfigMaps carry
// exactly rules/ and grafana/dashboards/ with the values applied. The chart
// README's values and alerts tables are generated here (-update).
//
// Helm is the binary .ci/run builds (DYVMS_HELM, or its cache directory):
// without it the tests skip, unless CI is set, where they fail. The Go code
// is tests only: k8s.io/api and the operator's types are test imports and
// never reach the exporter's binary.
package charts
