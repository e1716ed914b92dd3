//go:build !race

package testutil

// raceEnabled: see race.go.
const raceEnabled = false
