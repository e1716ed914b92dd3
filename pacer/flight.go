package pacer

import (
	"context"
	"sync"
	"time"
)

// flight is one shared call and the callers waiting for it. waiters and
// the deadline they give ctx are guarded by Pacer.mu; val and err are
// written once, before done is closed.
type flight struct {
	done    chan struct{}
	ctx     *flightCtx
	waiters map[*waiter]struct{}
	val     any
	err     error
}

// waiter is one caller's claim on a flight: its deadline, if any.
type waiter struct {
	dl    time.Time
	hasDL bool
}

func newWaiter(ctx context.Context) *waiter {
	w := &waiter{}
	w.dl, w.hasDL = ctx.Deadline()
	return w
}

// newFlight starts the bookkeeping of a call for its first caller. The
// call keeps that caller's values, none of its cancellation.
func newFlight(ctx context.Context, w *waiter) *flight {
	f := &flight{done: make(chan struct{}), ctx: newFlightCtx(context.WithoutCancel(ctx)), waiters: map[*waiter]struct{}{w: {}}}
	f.ctx.setDeadline(w.dl, w.hasDL)
	return f
}

// join adds w and moves the call's deadline to the latest of all the
// waiters'. It fails, changing nothing, when the call can no longer serve
// w with its deadline: its context has ended, or its outcome is settled
// (see flightCtx.settle). The caller then starts a call of its own.
func (f *flight) join(w *waiter) bool {
	f.waiters[w] = struct{}{}
	dl, ok := f.latest()
	if !f.ctx.setDeadline(dl, ok) {
		delete(f.waiters, w)
		return false
	}
	return true
}

// leave removes w, which stopped waiting because of why (its context's
// error). The call's deadline shrinks to that of the remaining waiters, so
// that it never outlives the longest of them; when none is left it ends
// with why (a timeout when the last waiter's deadline passed), and leave
// reports true.
func (f *flight) leave(w *waiter, why error) (last bool) {
	delete(f.waiters, w)
	if len(f.waiters) == 0 {
		if why == nil {
			why = context.Canceled
		}
		f.ctx.end(why)
		return true
	}
	f.ctx.setDeadline(f.latest())
	return false
}

// latest is the latest deadline of the waiters; none if one has none.
func (f *flight) latest() (time.Time, bool) {
	var dl time.Time
	for w := range f.waiters {
		if !w.hasDL {
			return time.Time{}, false
		}
		if w.dl.After(dl) {
			dl = w.dl
		}
	}
	return dl, true
}

// flightCtx is the lifetime of a shared call. The call itself runs under
// ctx, an ordinary context with no deadline, so that it keeps the
// context contract (Deadline answers the same every time). The call's
// deadline is kept here instead: it follows the waiters (flight.join,
// flight.leave), the pacer's decisions read it (deadline), and a timer
// cancels ctx, with context.DeadlineExceeded as its cause, when it passes.
// So an HTTP request already on the wire, a wait for a token, or a backoff
// started for a caller with a short deadline goes on for a caller with a
// longer one who joined meanwhile, and stops when the last waiter stops
// waiting. The deadline only moves while the call may still serve a new
// waiter.
type flightCtx struct {
	ctx    context.Context // the first caller's values, no deadline
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	dl     time.Time
	hasDL  bool
	timer  *time.Timer
	gen    int // of the timer in force; an older one that fires is ignored
	frozen bool
	ended  bool
}

func newFlightCtx(values context.Context) *flightCtx {
	c := &flightCtx{}
	c.ctx, c.cancel = context.WithCancelCause(context.WithValue(values, callKeyCtx{}, c))
	return c
}

type callKeyCtx struct{}

// CallDeadline is the deadline of the call ctx belongs to: for a call the
// pacer makes, the latest deadline of the callers waiting for it now
// (ctx itself has none: it is cancelled, with context.DeadlineExceeded as
// the cause, when that passes); for any other context, its Deadline.
// Unlike a context's Deadline it may move, later when a caller with more
// time joins, earlier when one leaves.
func CallDeadline(ctx context.Context) (time.Time, bool) {
	if c, ok := ctx.Value(callKeyCtx{}).(*flightCtx); ok {
		return c.deadline()
	}
	return ctx.Deadline()
}

// deadline is the call's deadline in force: the latest of its waiters'.
func (c *flightCtx) deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dl, c.hasDL
}

// setDeadline replaces the deadline (ok false: none), unless the call has
// ended or is frozen; it reports whether it did.
func (c *flightCtx) setDeadline(dl time.Time, ok bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.frozen {
		return false
	}
	c.dl, c.hasDL = dl, ok
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.gen++
	if ok {
		gen := c.gen
		c.timer = time.AfterFunc(time.Until(dl), func() { c.expire(gen) })
	}
	return true
}

func (c *flightCtx) expire(gen int) {
	c.mu.Lock()
	stale := gen != c.gen
	c.mu.Unlock()
	if !stale {
		c.end(context.DeadlineExceeded)
	}
}

// end ends the call with cause (context.Canceled or DeadlineExceeded);
// only the first call counts.
func (c *flightCtx) end(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ended = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.cancel(cause)
}

// freeze stops the deadline from moving: the call's outcome is decided,
// and a caller who comes now must start a call of its own rather than be
// handed an outcome its own deadline had no part in.
func (c *flightCtx) freeze() {
	c.mu.Lock()
	c.frozen = true
	c.mu.Unlock()
}

// settle is freeze for a decision taken against the deadline (dl, ok) as
// read before: to give up because too little time is left. If a waiter
// with a later deadline has joined since, nothing is frozen and settle
// reports false: decide again with the new deadline. Checking and freezing
// under one lock leaves no moment in which a caller could join a call
// that has already given up on its behalf.
func (c *flightCtx) settle(dl time.Time, ok bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if later := !c.hasDL && ok || c.hasDL && ok && c.dl.After(dl); later && !c.ended {
		return false
	}
	c.frozen = true
	return true
}
