// Package schedule holds what the background loops of discovery and the
// call-record poller share: which of their entries are due.
package schedule

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// Due returns the ids of the entries whose next time is not after now,
// the earliest first (ties by id, so that the order is stable).
func Due[E any](now time.Time, entries map[int64]E, next func(E) time.Time) []int64 {
	var ids []int64
	for id, e := range entries {
		if !next(e).After(now) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b int64) int {
		if c := next(entries[a]).Compare(next(entries[b])); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return ids
}

// Run is the loop of a background manager: it calls do for each id due
// returns, one after another (the calls share the account's quota with the
// scrapes, and nothing is gained by bursting), then sleeps until next says
// the earliest entry is due (false: no entries, an hour) or wake fires
// (an update), until ctx ends.
func Run(ctx context.Context, wake <-chan struct{}, due func() []int64, do func(context.Context, int64), next func() (time.Duration, bool)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		for _, id := range due() {
			if ctx.Err() != nil {
				return
			}
			do(ctx, id)
		}
		wait, ok := next()
		if !ok {
			wait = time.Hour // no entries: sleep until an update wakes us
		}
		timer.Reset(max(wait, 0)) // Go 1.23+: Reset drops a stale tick
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
	}
}
