package pacer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// cdrAPI adds call-record pages to fakeAPI: page n of a window holds
// limit records until total, and the script's errors come first.
type cdrAPI struct {
	fakeAPI
	total int
	pages []int64 // Start of each attempt
}

func (f *cdrAPI) CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	f.pages = append(f.pages, q.Start)
	if err := f.next(); err != nil {
		return nil, err
	}
	var out []apiclient.CallRecord
	for i := int(q.Start); i < min(int(q.Start)+q.Limit, f.total); i++ {
		out = append(out, apiclient.CallRecord{UniqueID: apiclient.Text(string(rune('a'+i%26)) + time.Duration(i).String())})
	}
	return out, nil
}

func TestCallRecordPagesArePacedAndRetriedOneByOne(t *testing.T) {
	api := &cdrAPI{total: 25}
	// The second page is throttled once: only it is asked again.
	api.script = []error{nil, apiErr("Throttling.User", 300*time.Millisecond)}
	p, clock, m := newTestPacer(api, LimiterConfig{RequestsPerSecond: 1, Burst: 1}, Config{MaxRetries: 2})
	ctx := deadline(t, clock, time.Minute)
	// The caller (the poller) pages; the pacer paces and retries a page.
	records, pages := 0, 0
	for start := int64(0); ; start += 10 {
		list, err := p.CloudQueryPredictiveCallCdrPage(ctx, apiclient.CdrQuery{EnterpriseID: 1, StartTime: clock.Now(), EndTime: clock.Now(), Start: start, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		records, pages = records+len(list), pages+1
		if len(list) < 10 {
			break
		}
	}
	if records != 25 || pages != 3 {
		t.Fatalf("%d records in %d pages", records, pages)
	}
	if want := []int64{0, 10, 10, 20}; len(api.pages) != len(want) || api.pages[1] != 10 || api.pages[2] != 10 || api.pages[3] != 20 {
		t.Fatalf("attempts at Start %v, want %v", api.pages, want)
	}
	// Four attempts at one token a second: the bucket paced them (and the
	// throttled answer slowed it down).
	if m.calls[opCdr+"/OK"] != 3 || m.retries[opCdr+"/Throttling.User"] != 1 || m.throttled != 1 {
		t.Fatalf("metrics: calls %v retries %v throttled %d", m.calls, m.retries, m.throttled)
	}
	var waited time.Duration
	for _, d := range clock.Sleeps() {
		waited += d
	}
	if waited < 3*time.Second {
		t.Fatalf("waited %v for 4 attempts at 1 request/s", waited)
	}
}

func TestCallRecordsNeedAnAPIThatHasThem(t *testing.T) {
	p, clock, _ := newTestPacer(&fakeAPI{}, LimiterConfig{RequestsPerSecond: 10, Burst: 1}, Config{})
	_, err := p.CloudQueryPredictiveCallCdrPage(deadline(t, clock, time.Second), apiclient.CdrQuery{EnterpriseID: 1})
	if err == nil {
		t.Fatal("a client without call records answered")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&Pacer{api: &cdrAPI{}}).CloudQueryPredictiveCallCdrPage(ctx, apiclient.CdrQuery{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// blockingCdr holds every page until the call's context ends.
type blockingCdr struct {
	fakeAPI
	started  chan struct{}
	attempts int
}

func (b *blockingCdr) CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	b.attempts++
	b.started <- struct{}{}
	<-ctx.Done()
	return nil, context.Cause(ctx)
}

// A page whose caller cancels (a plain cancellation, no deadline: the
// poller stopping) ends at once with the cancellation, counted as such,
// and is not retried.
func TestCallRecordPageCancelled(t *testing.T) {
	api := &blockingCdr{started: make(chan struct{}, 4)}
	p, _, m := newTestPacer(api, roomy, Config{MaxRetries: 3})
	p.now, p.sleep = time.Now, sleepContext
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.CloudQueryPredictiveCallCdrPage(ctx, apiclient.CdrQuery{EnterpriseID: 1, Limit: 10})
		done <- err
	}()
	<-api.started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || ErrorCode(err) != "canceled" {
			t.Fatalf("cancelled page: %v (code %s), want the cancellation", err, ErrorCode(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled page did not end")
	}
	if api.attempts != 1 || m.calls[opCdr+"/canceled"] != 1 {
		t.Fatalf("%d attempts, calls %v; want one attempt counted as canceled", api.attempts, m.calls)
	}
}
