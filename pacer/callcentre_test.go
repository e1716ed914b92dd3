package pacer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// The call-centre operations of the test doubles: fakeAPI answers them
// from its script (ccAPI below counts and pages); the others have none.

var errNotUsed = errors.New("not used")

func (f *fakeAPI) CloudListOnlineAgent(ctx context.Context, ent int64) (*apiclient.OnlineAgents, error) {
	f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := f.next(); err != nil {
		return nil, err
	}
	return &apiclient.OnlineAgents{AgentStatuses: []apiclient.OnlineAgent{{Cno: "1001"}}}, nil
}

func (f *fakeAPI) CloudListQueue(ctx context.Context, ent int64, pageSize int) (*apiclient.QueueList, error) {
	f.queries.Add(1)
	if err := f.next(); err != nil {
		return nil, err
	}
	return &apiclient.QueueList{Queues: []apiclient.Queue{{Qno: "1"}}, Pages: 3}, nil
}

func (f *fakeAPI) CloudQueryIbCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.InboundRecord, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	var out []apiclient.InboundRecord
	for i := int(q.Start); i < min(int(q.Start)+q.Limit, 25); i++ {
		out = append(out, apiclient.InboundRecord{UniqueID: apiclient.Text(time.Duration(i).String())})
	}
	return out, nil
}

func (f apiFunc) CloudListOnlineAgent(ctx context.Context, ent int64) (*apiclient.OnlineAgents, error) {
	f(ctx)
	return &apiclient.OnlineAgents{}, nil
}

func (f apiFunc) CloudListQueue(ctx context.Context, ent int64, pageSize int) (*apiclient.QueueList, error) {
	f(ctx)
	return &apiclient.QueueList{}, nil
}

func (f apiFunc) CloudQueryIbCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.InboundRecord, error) {
	f(ctx)
	return nil, nil
}

func (s *slowAPI) CloudListOnlineAgent(context.Context, int64) (*apiclient.OnlineAgents, error) {
	return nil, errNotUsed
}

func (s *slowAPI) CloudListQueue(context.Context, int64, int) (*apiclient.QueueList, error) {
	return nil, errNotUsed
}

func (s *slowAPI) CloudQueryIbCdrPage(context.Context, apiclient.CdrQuery) ([]apiclient.InboundRecord, error) {
	return nil, errNotUsed
}

// Two scrapes asking for an enterprise's online agents at once share one
// request, and a throttled answer is retried, counted under its own
// operation.
func TestOnlineAgentsCoalescedAndRetried(t *testing.T) {
	api := &fakeAPI{gate: make(chan struct{}), script: []error{apiErr("Throttling.User", 100*time.Millisecond)}}
	p, clock, m := newTestPacer(api, roomy, Config{MaxRetries: 2})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.CloudListOnlineAgent(deadline(t, clock, time.Minute), 7000002)
		}()
	}
	for m.coalesced.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(api.gate)
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if n := api.calls.Load(); n != 2 {
		t.Fatalf("%d requests for two scrapes (one throttled and retried): want 2", n)
	}
	if m.calls[apiclient.OpCloudListOnlineAgent+"/OK"] != 1 || m.retries[apiclient.OpCloudListOnlineAgent+"/Throttling.User"] != 1 {
		t.Fatalf("calls %v retries %v", m.calls, m.retries)
	}
}

// A queue listing of three pages takes its first token before and is
// charged two more after.
func TestQueueListingChargedPerPage(t *testing.T) {
	api := &fakeAPI{}
	p, clock, _ := newTestPacer(api, LimiterConfig{RequestsPerSecond: 1, Burst: 3}, Config{})
	if _, err := p.CloudListQueue(deadline(t, clock, time.Minute), 1, 0); err != nil {
		t.Fatal(err)
	}
	if tok := p.lim.TokensAt(clock.Now()); tok > 0.01 {
		t.Fatalf("%.2f tokens left after a listing of 3 pages from a bucket of 3", tok)
	}
}

func TestInboundPagesPaced(t *testing.T) {
	api := &fakeAPI{script: []error{nil, apiErr("Throttling.User", 300*time.Millisecond)}}
	p, clock, m := newTestPacer(api, LimiterConfig{RequestsPerSecond: 10, Burst: 1}, Config{MaxRetries: 2})
	res, err := p.CloudQueryIbCdr(deadline(t, clock, time.Minute), apiclient.CdrQuery{EnterpriseID: 1, StartTime: clock.Now(), EndTime: clock.Now(), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 25 || res.Pages != 3 || m.calls[apiclient.OpCloudQueryIbCdr+"/OK"] != 3 || m.retries[apiclient.OpCloudQueryIbCdr+"/Throttling.User"] != 1 {
		t.Fatalf("%d records, %d pages; calls %v retries %v", len(res.Records), res.Pages, m.calls, m.retries)
	}
}
