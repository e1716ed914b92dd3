// Package charts holds the tests of the Helm chart in dyvms-exporter/: it
// lints and renders the chart with several values sets (testdata/) and
// decodes every rendered object strictly into its upstream Go type
// (k8s.io/api, the Prometheus Operator's monitoring API), checks the
// rendered exporter configuration with the exporter's --config.check and
// the rendered rules with promtool, and proves that the PrometheusRule and
// the dashboard ConfigMaps carry exactly rules/ and grafana/dashboards/.
//
// Helm is the binary .ci/run builds (DYVMS_HELM, or its cache directory):
// without it the tests skip, unless CI is set, where they fail. The Go code
// is tests only: k8s.io/api and the operator's types are test imports and
// never reach the exporter's binary.
package charts
