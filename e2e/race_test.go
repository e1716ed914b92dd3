//go:build linux && race

package e2e

// raceEnabled: the test runs under -race, so the exporter is built with
// -race too (sharing the race-instrumented packages go test just compiled)
// and its log is checked for data race reports.
const raceEnabled = true
