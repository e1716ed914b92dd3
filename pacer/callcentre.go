package pacer

import (
	"context"
	"fmt"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// CloudListOnlineAgent returns every online agent of the enterprise. It is
// read on every scrape like CloudMonitorTask and paced like it: coalesced
// with a concurrent identical call (an HA pair's two scrapes) and reused
// within min_interval. The answer may be shared: do not modify it.
func (p *Pacer) CloudListOnlineAgent(ctx context.Context, enterpriseID int64) (*apiclient.OnlineAgents, error) {
	v, err := p.do(ctx, callKey{op: apiclient.OpCloudListOnlineAgent, enterprise: enterpriseID}, func(ctx context.Context) (any, error) {
		return p.api.CloudListOnlineAgent(ctx, enterpriseID)
	})
	if err != nil {
		return nil, err
	}
	return v.(*apiclient.OnlineAgents), nil
}

// CloudListQueue lists the enterprise's queues. apiclient pages by
// itself, so, as for CloudQueryTask, the listing takes one token and is
// charged its further pages afterwards. The answer may be shared.
func (p *Pacer) CloudListQueue(ctx context.Context, enterpriseID int64, pageSize int) (*apiclient.QueueList, error) {
	k := callKey{op: apiclient.OpCloudListQueue, enterprise: enterpriseID, pageSize: pageSize}
	v, err := p.do(ctx, k, func(ctx context.Context) (any, error) {
		l, err := p.api.CloudListQueue(ctx, enterpriseID, pageSize)
		if err == nil && l.Pages > 1 {
			p.lim.charge(p.now(), l.Pages-1)
		}
		return l, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*apiclient.QueueList), nil
}

// CloudQueryIbCdrPage asks for one page of inbound records, paced and
// retried as CloudQueryPredictiveCallCdrPage is.
func (p *Pacer) CloudQueryIbCdrPage(ctx context.Context, q apiclient.CdrQuery) ([]apiclient.InboundRecord, error) {
	const op = apiclient.OpCloudQueryIbCdr
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dyvmsapi %s: not sent: %w", op, context.Cause(ctx))
	}
	f := newFlight(ctx, newWaiter(ctx))
	stop := context.AfterFunc(ctx, func() { f.ctx.end(ctx.Err()) })
	v, err := p.call(f.ctx, op, func(ctx context.Context) (any, error) {
		return p.api.CloudQueryIbCdrPage(ctx, q)
	})
	stop()
	f.ctx.end(context.Canceled)
	p.metrics.Call(op, ErrorCode(err))
	if err != nil {
		return nil, err
	}
	return v.([]apiclient.InboundRecord), nil
}

// CloudQueryIbCdr reads a whole window of inbound records, page by page
// through CloudQueryIbCdrPage.
func (p *Pacer) CloudQueryIbCdr(ctx context.Context, q apiclient.CdrQuery) (*apiclient.IbCdrResult, error) {
	return apiclient.QueryInboundRecords(ctx, p, q)
}
