package testutil

import (
	"testing"
	"time"
)

// Eventually is the tests' one polling loop: it calls cond until it
// reports done and returns how long that took, or fails the test after
// timeout with what and cond's last status. It polls every interval; 0
// starts at a millisecond and backs off to 100 ms, quick for what is
// about to happen and cheap for what takes a while.
func Eventually(t testing.TB, timeout, interval time.Duration, what string, cond func() (done bool, status string)) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	wait := interval
	if wait <= 0 {
		wait = time.Millisecond
	}
	for {
		done, status := cond()
		if done {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			if status != "" {
				status = "; last: " + status
			}
			t.Fatalf("timed out after %v waiting for %s%s", timeout, what, status)
		}
		time.Sleep(wait)
		if interval <= 0 {
			wait = min(2*wait, 100*time.Millisecond)
		}
	}
}

// EventuallyTrue is Eventually for a condition with nothing to report.
func EventuallyTrue(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Eventually(t, timeout, 0, what, func() (bool, string) { return cond(), "" })
}

// WaitFor is EventuallyTrue within 10 s, for what a test has just set in
// motion.
func WaitFor(t testing.TB, cond func() bool) {
	t.Helper()
	EventuallyTrue(t, 10*time.Second, "the condition", cond)
}
