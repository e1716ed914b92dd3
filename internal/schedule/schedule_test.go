package schedule

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	now := time.Unix(1000, 0)
	entries := map[int64]time.Time{
		1: now.Add(time.Second),  // not yet
		2: now,                   // due now
		3: now.Add(-time.Minute), // overdue: first
		4: now,                   // due now, after 2
	}
	got := Due(now, entries, func(t time.Time) time.Time { return t })
	if fmt.Sprint(got) != "[3 2 4]" {
		t.Fatalf("Due = %v, want [3 2 4]", got)
	}
	if got := Due(now, map[int64]time.Time{}, func(t time.Time) time.Time { return t }); len(got) != 0 {
		t.Fatalf("no entries: %v", got)
	}
}

// Run does what is due, sleeps until the next is, wakes on an update and
// stops with its context.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{}, 1)
	done := make(chan int64, 10)
	rounds := 0
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		Run(ctx, wake, func() []int64 {
			rounds++
			if rounds == 1 {
				return []int64{7, 8}
			}
			return nil
		}, func(_ context.Context, id int64) { done <- id }, func() (time.Duration, bool) { return time.Hour, true })
	}()
	if a, b := <-done, <-done; a != 7 || b != 8 {
		t.Fatalf("did %d, %d; want 7, 8 in order", a, b)
	}
	wake <- struct{}{} // an update: another round at once, nothing due
	cancel()
	select {
	case <-finished:
	case <-time.After(time.Minute):
		t.Fatal("Run did not stop with its context")
	}
}
