// Package arms renders the project's rules in the forms Alibaba Cloud
// Managed Service for Prometheus (ARMS) takes them, which are not
// PrometheusRule objects: an instance's RecordingRule.yaml (recording rules
// only) and the spec of a PrometheusRule pasted into the console's batch
// import of alert rule templates. The files here are generated from rules/
// by go generate and tested equal to it; docs/arms.md says where each goes.
package arms

//go:generate go run ./gen
