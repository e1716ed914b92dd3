package pacer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
)

// ctxAPI hands each call's context to the test and holds the call until
// released (or its context ends).
type ctxAPI struct {
	fakeAPI
	started chan context.Context
	release chan struct{}
}

func (a *ctxAPI) CloudMonitorTask(ctx context.Context, e, t int64) (*apiclient.CloudMonitorTaskResponse, error) {
	a.started <- ctx
	select {
	case <-a.release:
		return &apiclient.CloudMonitorTaskResponse{Code: "OK", RequestID: "r", Data: &apiclient.MonitorData{}}, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// The context a shared call runs under keeps the context contract (its
// Deadline returns the same every time) while the call still lives until
// the latest deadline of its waiters: a waiter with a later deadline who
// joins keeps it going past the first's, and it ends, as a timeout, at
// the latest one. It used to be a context whose Deadline moved with the
// waiters.
func TestSharedCallContextKeepsTheContract(t *testing.T) {
	// In a bubble: the deadlines are of a fake clock that moves only when
	// every goroutine waits, so the test takes no real time and cannot
	// flake under load.
	synctest.Test(t, func(t *testing.T) {
		api := &ctxAPI{started: make(chan context.Context, 1), release: make(chan struct{})}
		p := New(api, NewLimiter(roomy), Config{}, nil)

		short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancelShort()
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.CloudMonitorTask(short, 1, 1)
			errs <- err
		}()
		callCtx := <-api.started
		dl1, ok1 := callCtx.Deadline()

		long, cancelLong := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancelLong()
		longDL, _ := long.Deadline()
		wg.Add(1)
		longErr := make(chan error, 1)
		go func() {
			defer wg.Done()
			_, err := p.CloudMonitorTask(long, 1, 1)
			longErr <- err
		}()
		testutil.WaitFor(t, func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			for _, f := range p.flights {
				if len(f.waiters) == 2 {
					return true
				}
			}
			return false
		})
		if dl2, ok2 := callCtx.Deadline(); dl2 != dl1 || ok2 != ok1 {
			t.Fatalf("the shared call's context changed its Deadline from (%v, %v) to (%v, %v) when a waiter joined", dl1, ok1, dl2, ok2)
		}
		if err := <-errs; err == nil {
			t.Fatal("the short caller got an answer that was never sent")
		}
		select {
		case <-callCtx.Done():
			t.Fatalf("the shared call ended with the first caller's deadline (%v), while a later one still waits", context.Cause(callCtx))
		case <-time.After(200 * time.Millisecond):
		}
		if dl3, ok3 := callCtx.Deadline(); dl3 != dl1 || ok3 != ok1 {
			t.Fatalf("the shared call's context changed its Deadline from (%v, %v) to (%v, %v) when a waiter left", dl1, ok1, dl3, ok3)
		}
		select {
		case <-callCtx.Done():
			if !errors.Is(context.Cause(callCtx), context.DeadlineExceeded) {
				t.Errorf("the shared call ended with %v, want a deadline", context.Cause(callCtx))
			}
			if late := time.Since(longDL); late < 0 {
				t.Errorf("the shared call ended %v before the latest waiter's deadline", -late)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the shared call outlived its latest waiter's deadline by 10 s")
		}
		if err := <-longErr; err == nil {
			t.Error("the long caller got an answer that was never given")
		}
		wg.Wait()
	})
}

// A call whose every waiter left is cancelled (nobody would read its
// answer), as a cancellation, not a timeout.
func TestSharedCallEndsWhenAllWaitersLeave(t *testing.T) {
	// In a bubble: the deadlines are of a fake clock that moves only when
	// every goroutine waits, so the test takes no real time and cannot
	// flake under load.
	synctest.Test(t, func(t *testing.T) {
		api := &ctxAPI{started: make(chan context.Context, 1), release: make(chan struct{})}
		p := New(api, NewLimiter(roomy), Config{}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		done := make(chan error, 1)
		go func() {
			_, err := p.CloudMonitorTask(ctx, 1, 1)
			done <- err
		}()
		callCtx := <-api.started
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("caller's error %v, want its cancellation", err)
		}
		select {
		case <-callCtx.Done():
			if c := context.Cause(callCtx); !errors.Is(c, context.Canceled) {
				t.Errorf("the call ended with %v, want a cancellation", c)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the shared call went on for 10 s after its only waiter left")
		}
	})
}

// CallDeadline reads the call's deadline in force through the context the
// call runs under, and a plain context's own deadline otherwise.
func TestCallDeadline(t *testing.T) {
	now := time.Now()
	f := newFlight(context.Background(), &waiter{dl: now.Add(time.Hour), hasDL: true})
	defer f.ctx.end(context.Canceled)
	if dl, ok := CallDeadline(f.ctx.ctx); !ok || !dl.Equal(now.Add(time.Hour)) {
		t.Fatalf("CallDeadline = %v, %v; want the first waiter's", dl, ok)
	}
	if !f.join(&waiter{dl: now.Add(2 * time.Hour), hasDL: true}) {
		t.Fatal("join refused")
	}
	if dl, ok := CallDeadline(f.ctx.ctx); !ok || !dl.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("CallDeadline = %v, %v after a later waiter joined; want its deadline", dl, ok)
	}
	if _, ok := f.ctx.ctx.Deadline(); ok {
		t.Fatal("the call's context has a deadline of its own")
	}
	plain, cancel := context.WithDeadline(context.Background(), now.Add(time.Minute))
	defer cancel()
	if dl, ok := CallDeadline(plain); !ok || !dl.Equal(now.Add(time.Minute)) {
		t.Fatalf("CallDeadline of a plain context = %v, %v", dl, ok)
	}
	if _, ok := CallDeadline(context.Background()); ok {
		t.Fatal("CallDeadline of Background has a deadline")
	}
}
