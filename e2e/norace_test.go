//go:build linux && !race

package e2e

// raceEnabled: see race_test.go.
const raceEnabled = false
