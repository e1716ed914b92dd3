package pacer

import (
	"context"
	"fmt"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

const opCdr = apiclient.OpCloudQueryPredictiveCallCdr

// CloudQueryPredictiveCallCdrPage asks for one page of call records, with
// a token per attempt and the retries of any call, like the scrapes and
// from the same bucket. It is neither coalesced nor reused: one poller per
// enterprise asks, and its windows move.
func (p *Pacer) CloudQueryPredictiveCallCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.CallRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dyvmsapi %s: not sent: %w", opCdr, context.Cause(ctx))
	}
	// A flight of one: the attempts run under the caller's own deadline
	// and stop when the caller stops waiting, as a shared call would.
	f := newFlight(ctx, newWaiter(ctx))
	stop := context.AfterFunc(ctx, func() { f.ctx.end(ctx.Err()) })
	v, err := p.call(f.ctx, opCdr, func(ctx context.Context) (any, error) {
		return p.api.CloudQueryPredictiveCallCdrPage(ctx, q)
	})
	stop()
	f.ctx.end(context.Canceled)
	p.metrics.Call(opCdr, ErrorCode(err))
	if err != nil {
		return nil, err
	}
	return v.([]apiclient.CallRecord), nil
}
