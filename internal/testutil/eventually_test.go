package testutil

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func TestEventually(t *testing.T) {
	n := 0
	took := Eventually(t, time.Second, 0, "three calls", func() (bool, string) { n++; return n == 3, "" })
	if n != 3 || took <= 0 || took > time.Second {
		t.Fatalf("cond called %d times, took %v", n, took)
	}
	// A condition never met fails the test after the timeout, naming it.
	rec := &fatalRecorder{TB: t}
	start := time.Now()
	func() {
		defer func() {
			if r := recover(); r != rec {
				t.Fatalf("Eventually did not fail the test: %v", r)
			}
		}()
		Eventually(rec, 50*time.Millisecond, 10*time.Millisecond, "never", func() (bool, string) { return false, "still no" })
	}()
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %v, want just past the 50 ms timeout", d)
	}
	if !strings.Contains(rec.msg, "timed out after 50ms waiting for never; last: still no") {
		t.Errorf("failure message %q", rec.msg)
	}
}
