//go:build race

package testutil

// raceEnabled: the tests run with -race, so the binaries they build do too.
const raceEnabled = true
