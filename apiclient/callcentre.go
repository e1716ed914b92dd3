package apiclient

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// The call centre as a whole (shared/api/CallCentre.md): every online
// agent of an enterprise, its queues, and its inbound call records. The
// three operations answer in the same envelope as CloudMonitorTask and are
// decoded as tolerantly: a value of the wrong JSON type is absent and named
// in Unreadable, never a failed answer.
//
// Personal data. An inbound record carries the customer's number, area
// code, province and city, the agent's phone, trunk numbers, recordings and
// caller-defined fields; an online agent carries the agent's bound phone.
// None of them has a field in the types below, so encoding/json skips them
// without keeping a byte; no filter on them is offered; and an inbound
// answer that cannot be read is never quoted in an error (bodyIsPersonal).

const (
	// MaxQueuePageSize is the largest Limit CloudListQueue accepts.
	MaxQueuePageSize = 500
	// maxQueuePages stops the paging against a server that never returns a
	// short page: 500,000 queues is beyond any call centre.
	maxQueuePages = 1000
)

// OnlineAgent is one row of CloudListOnlineAgent's Data.AgentStatuses. The
// agent's name and bound phone are not decoded: nothing the exporter shows
// needs them.
type OnlineAgent struct {
	Cno                  Text
	LoginStatus          Int64 // 0 offline, 1 online, 2 paused, 3 wrap-up
	LoginStatusDuration  Int64 // seconds in LoginStatus
	DeviceStatus         Int64 // -1 invalid, 0 idle, 1 locked, 2 calling, 3 ringing, 4 talking
	DeviceStatusDuration Int64 // seconds in DeviceStatus
	LoginTime            Int64 // Unix seconds, sent as a string
	// State is the vendor's combined state in Chinese (失效, 空闲, 置忙,
	// 整理, 呼叫中, 响铃, 通话), the fallback when the two codes are
	// missing or unknown.
	State Text
}

// OnlineAgents is the Data object of CloudListOnlineAgent.
type OnlineAgents struct {
	AgentStatuses []OnlineAgent

	// Duplicates counts rows dropped because their Cno was already listed
	// (first wins): one agent must not be counted in two states.
	Duplicates int               `json:"-"`
	Unreadable []UnreadableField `json:"-"` // as MonitorData.Unreadable
}

// CloudListOnlineAgentResponse is the answer of CloudListOnlineAgent.
type CloudListOnlineAgentResponse struct {
	RequestID string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Data      *OnlineAgents
}

var onlineAgentsPlan = sync.OnceValue(func() []fieldPlan { return planOf(reflect.TypeFor[OnlineAgents](), "") })

// DecodeCloudListOnlineAgent parses a CloudListOnlineAgent answer; see
// DecodeCloudMonitorTask. A success without Data is bad_response: it is
// live state, and an empty view would read as "nobody is online". Data
// with no AgentStatuses is an enterprise with no agent online. A row whose
// Cno repeats an earlier row's is dropped and counted in Duplicates; rows
// without a Cno are kept (they are still agents in a state).
func DecodeCloudListOnlineAgent(body []byte) (*CloudListOnlineAgentResponse, error) {
	const op = OpCloudListOnlineAgent
	var r CloudListOnlineAgentResponse
	seen := unreadableSeen.Load()
	if err := decodeResponse(op, body, &r, &r.Code); err != nil {
		return nil, err
	}
	if r.Data == nil {
		return nil, &requestError{Operation: op, class: classBadResponse, msg: "response has Code OK but no Data"}
	}
	if unreadableSeen.Load() != seen {
		r.Data.Unreadable = unreadable(reflect.ValueOf(r.Data).Elem(), onlineAgentsPlan())
	}
	list := r.Data.AgentStatuses
	cnos := make(map[Text]bool, len(list))
	kept := list[:0]
	for _, a := range list {
		if a.Cno != "" {
			if cnos[a.Cno] {
				r.Data.Duplicates++
				continue
			}
			cnos[a.Cno] = true
		}
		kept = append(kept, a)
	}
	r.Data.AgentStatuses = kept
	return &r, nil
}

// CloudListOnlineAgent returns every online agent of the enterprise, in
// one call (the operation has no paging).
func (c *Client) CloudListOnlineAgent(ctx context.Context, enterpriseID int64) (*OnlineAgents, error) {
	params := url.Values{"EnterpriseId": {strconv.FormatInt(enterpriseID, 10)}}
	var out *OnlineAgents
	err := c.call(ctx, OpCloudListOnlineAgent, params, func(body []byte) error {
		r, err := DecodeCloudListOnlineAgent(body)
		if err == nil {
			out = r.Data
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Queue is one row of CloudListQueue's Data.List: the queue's
// configuration (no operation gives a queue's live backlog).
type Queue struct {
	ID            Int64 `json:"Id"`
	Qno           Text  // the queue's number, the key inbound records use
	Description   Text  // the queue's name
	ServiceLevel  Int64 // seconds: a call answered within it met the service level
	QueueTimeout  Int64 // seconds before a waiting call overflows
	MaxLen        Int64 // most calls waiting; 0 no limit
	WrapupTime    Int64 // seconds of wrap-up after a call
	MemberTimeout Int64 // seconds an agent's phone rings before the next agent
	Weight        Int64 // priority 1..10
	Strategy      Text  // rrordered, rrmemory, fewestcalls, random, linear, leastrecent
}

// QueuePage is the Data object of CloudListQueue.
type QueuePage struct {
	List  []Queue
	Total Int64 // every queue of the enterprise; may be absent

	Unreadable []UnreadableField `json:"-"`
}

// CloudListQueueResponse is one page of CloudListQueue.
type CloudListQueueResponse struct {
	RequestID string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Data      *QueuePage
}

var queuePagePlan = sync.OnceValue(func() []fieldPlan { return planOf(reflect.TypeFor[QueuePage](), "") })

// DecodeCloudListQueue parses one page of CloudListQueue; see
// DecodeCloudMonitorTask. A missing Data or List is an empty page.
func DecodeCloudListQueue(body []byte) (*CloudListQueueResponse, error) {
	const op = OpCloudListQueue
	var r CloudListQueueResponse
	seen := unreadableSeen.Load()
	if err := decodeResponse(op, body, &r, &r.Code); err != nil {
		return nil, err
	}
	if r.Data == nil {
		r.Data = &QueuePage{}
	}
	if unreadableSeen.Load() != seen {
		r.Data.Unreadable = unreadable(reflect.ValueOf(r.Data).Elem(), queuePagePlan())
	}
	return &r, nil
}

// QueueList is what CloudListQueue gave over all pages.
type QueueList struct {
	// Queues once each by Qno (first wins); a row without a Qno is
	// dropped, since nothing could be joined to it.
	Queues []Queue
	// Dropped counts rows left out: a repeated or missing Qno.
	Dropped    int
	Pages      int
	Unreadable []UnreadableField // summed over the pages
}

// CloudListQueue lists every queue of the enterprise, paging with
// Offset/Limit (pageSize 1..500, 0 for 500) until a short page. Any failed
// page fails the listing: a partial list would look like queues vanished.
func (c *Client) CloudListQueue(ctx context.Context, enterpriseID int64, pageSize int) (*QueueList, error) {
	const op = OpCloudListQueue
	if pageSize == 0 {
		pageSize = MaxQueuePageSize
	}
	if pageSize < 1 || pageSize > MaxQueuePageSize {
		return nil, &requestError{Operation: op, class: classInvalidArgument, config: true,
			msg: fmt.Sprintf("page size %d outside 1..%d", pageSize, MaxQueuePageSize)}
	}
	params := url.Values{
		"EnterpriseId": {strconv.FormatInt(enterpriseID, 10)},
		"Limit":        {strconv.Itoa(pageSize)},
		"Order":        {"0"}, // oldest first: a queue created while paging lands at the end
	}
	out := &QueueList{}
	seen := map[Text]bool{}
	var prevFirst, prevLast Text
	for page := 0; page < maxQueuePages; page++ {
		params.Set("Offset", strconv.Itoa(page*pageSize))
		var p *QueuePage
		err := c.call(ctx, op, params, func(body []byte) error {
			r, err := DecodeCloudListQueue(body)
			if err == nil {
				p = r.Data
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		out.Pages++
		if n := len(p.List); n > 0 {
			first, last := p.List[0].Qno, p.List[n-1].Qno
			if page > 0 && first != "" && first == prevFirst && last == prevLast {
				return nil, &requestError{Operation: op, class: classBadResponse,
					msg: fmt.Sprintf("page at Offset=%d repeats the previous page; the server seems to ignore Offset", page*pageSize)}
			}
			prevFirst, prevLast = first, last
		}
		for _, u := range p.Unreadable {
			mergeUnreadable(&out.Unreadable, u)
		}
		for _, q := range p.List {
			if q.Qno == "" || seen[q.Qno] {
				out.Dropped++
				continue
			}
			seen[q.Qno] = true
			out.Queues = append(out.Queues, q)
		}
		if len(p.List) < pageSize {
			return out, nil
		}
	}
	return nil, &requestError{Operation: op, class: classBadResponse,
		msg: fmt.Sprintf("no short page after %d pages of %d queues", maxQueuePages, pageSize)}
}

func mergeUnreadable(out *[]UnreadableField, u UnreadableField) {
	for i := range *out {
		if (*out)[i].Field == u.Field {
			(*out)[i].Count += u.Count
			return
		}
	}
	*out = append(*out, u)
}

// InboundRecord is one inbound call with the fields the inbound metrics
// need. Times are Unix seconds sent as strings; 0 or nothing is a moment
// that never came (see At). A Cloud inbound record has no queue-join time:
// BridgeTime − StartTime includes the IVR (inferred).
type InboundRecord struct {
	UniqueID Text `json:"UniqueId"`
	// Qno is the queue the call reached; "" or "-1" when it reached none.
	Qno Text
	Cno Text // the agent who answered, if one did

	StartTime  Int64 // entered the system
	AnswerTime Int64 // the system answered (IVR)
	BridgeTime Int64 // an agent answered
	EndTime    Int64

	BridgeDuration Int64 // seconds with the agent
	TotalDuration  Int64

	// StatusCode: 1 answered by an agent, 2 agent did not answer, 3 IVR
	// only, 4–13 the system did not answer, 14 not queued, 15 abandoned in
	// the queue, 16 queue timeout, 17 no-agent overflow, 18 no agent and
	// not queued, 19 queue full.
	StatusCode Int64
	// LeaveQueueCode: -1 none, 1 put through, 2 abandoned, 3 timeout
	// overflow, 4 no-agent overflow. A number on the wire.
	LeaveQueueCode Int64
	EndReason      Int64 // 1000 main channel hung up, 1001 other channel, 1002 torn down
}

// Key is the record's identity for de-duplication: its UniqueId ("" when
// it has none or it could not be read).
func (r *InboundRecord) Key() string { return string(r.UniqueID) }

// Queued reports the queue the call reached, or false for none.
func (r *InboundRecord) Queued() (string, bool) {
	if r.Qno == "" || r.Qno == "-1" {
		return "", false
	}
	return string(r.Qno), true
}

// InboundPage is the Data object of CloudQueryIbCdr.
type InboundPage struct {
	List []InboundRecord

	Unreadable []UnreadableField `json:"-"`
}

// CloudQueryIbCdrResponse is one page of CloudQueryIbCdr.
type CloudQueryIbCdrResponse struct {
	RequestID string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Data      *InboundPage
}

var inboundPagePlan = sync.OnceValue(func() []fieldPlan { return planOf(reflect.TypeFor[InboundPage](), "") })

// DecodeCloudQueryIbCdr parses one page of inbound records; see
// DecodeCloudMonitorTask. A missing Data or List is an empty page. A
// UniqueId that could not be read is cleared, not left marked: the mark
// is the same for every such record and would make distinct calls one.
func DecodeCloudQueryIbCdr(body []byte) (*CloudQueryIbCdrResponse, error) {
	const op = OpCloudQueryIbCdr
	var r CloudQueryIbCdrResponse
	seen := unreadableSeen.Load()
	if err := decodeResponse(op, body, &r, &r.Code); err != nil {
		return nil, err
	}
	if r.Data == nil {
		r.Data = &InboundPage{}
	}
	if unreadableSeen.Load() != seen {
		r.Data.Unreadable = unreadable(reflect.ValueOf(r.Data).Elem(), inboundPagePlan())
	}
	return &r, nil
}

// CloudQueryIbCdrPage asks for one page of inbound records: q's window
// as given (it must not cross a month), from q.Start, q.Limit records.
// q.TaskID is not used (inbound calls belong to no task).
func (c *Client) CloudQueryIbCdrPage(ctx context.Context, q CdrQuery) ([]InboundRecord, error) {
	const op = OpCloudQueryIbCdr
	params, err := windowParams(op, q)
	if err != nil {
		return nil, err
	}
	var list []InboundRecord
	err = c.call(ctx, op, params, func(body []byte) error {
		r, err := DecodeCloudQueryIbCdr(body)
		if err == nil {
			list = r.Data.List
		}
		return err
	})
	return list, err
}

// IbCdrPager asks for one page of inbound records; *Client does, and so
// may a pacer in front of it (see CdrPager).
type IbCdrPager interface {
	CloudQueryIbCdrPage(ctx context.Context, q CdrQuery) ([]InboundRecord, error)
}

// IbCdrResult is what a window of inbound records gave; see CdrResult.
type IbCdrResult struct {
	Records []InboundRecord
	Pages   int
	Through time.Time
}

// CloudQueryIbCdr reads every inbound record of q's window; see
// QueryInboundRecords.
func (c *Client) CloudQueryIbCdr(ctx context.Context, q CdrQuery) (*IbCdrResult, error) {
	return QueryInboundRecords(ctx, c, q)
}

// QueryInboundRecords reads q's window through p as QueryCallRecords does
// for predictive records: split into calendar months of q.Location (nil:
// Asia/Shanghai), each part paged until a short page, and on failure what
// was read with Through saying how far the window is complete.
func QueryInboundRecords(ctx context.Context, p IbCdrPager, q CdrQuery) (*IbCdrResult, error) {
	if _, err := checkWindow(OpCloudQueryIbCdr, q); err != nil {
		return nil, err
	}
	recs, pages, through, err := queryWindow(ctx, OpCloudQueryIbCdr, q, p.CloudQueryIbCdrPage, (*InboundRecord).Key)
	return &IbCdrResult{Records: recs, Pages: pages, Through: through}, err
}

// queryWindow is the paging of a call-record window, for any record type:
// month parts, Start/Limit pages until a short one (the API returns no
// total), a stop after maxCdrPages pages or when a page repeats the
// previous one (a server ignoring Start).
func queryWindow[R any](ctx context.Context, op string, q CdrQuery, page func(context.Context, CdrQuery) ([]R, error),
	key func(*R) string) (records []R, pages int, through time.Time, err error) {
	limit, err := checkWindow(op, q)
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	q.Limit = limit
	for _, part := range SplitByMonth(q.StartTime, q.EndTime, q.Location) {
		pq := q
		pq.StartTime, pq.EndTime = part[0], part[1]
		var prevFirst, prevLast string
		for n := 0; ; n++ {
			if n == maxCdrPages {
				return records, pages, through, &requestError{Operation: op, class: classBadResponse,
					msg: fmt.Sprintf("no short page after %d pages of %d records", maxCdrPages, limit)}
			}
			pq.Start = int64(n * limit)
			list, err := page(ctx, pq)
			if err != nil {
				return records, pages, through, err
			}
			pages++
			if len(list) > 0 {
				first, last := key(&list[0]), key(&list[len(list)-1])
				if n > 0 && first != "" && first == prevFirst && last == prevLast {
					return records, pages, through, &requestError{Operation: op, class: classBadResponse,
						msg: fmt.Sprintf("page at Start=%d repeats the previous page; the server seems to ignore Start", pq.Start)}
				}
				prevFirst, prevLast = first, last
			}
			records = append(records, list...)
			if len(list) < limit {
				break
			}
		}
		through = part[1]
	}
	return records, pages, through, nil
}

// checkWindow refuses, before any request, a page size out of range or a
// window that ends before it starts; it returns the page size to use.
func checkWindow(op string, q CdrQuery) (int, error) {
	limit, err := windowLimit(op, q)
	if err == nil && q.EndTime.Before(q.StartTime) {
		err = &requestError{Operation: op, class: classInvalidArgument, config: true,
			msg: fmt.Sprintf("window ends (%d) before it starts (%d)", q.EndTime.Unix(), q.StartTime.Unix())}
	}
	return limit, err
}

// windowParams are the parameters every call-record page takes (both
// record operations page a time window the same way): the window in unix
// seconds, the offset, the page size (0: the largest) and the time type.
func windowParams(op string, q CdrQuery) (url.Values, error) {
	limit, err := windowLimit(op, q)
	if err != nil {
		return nil, err
	}
	params := url.Values{
		"EnterpriseId": {strconv.FormatInt(q.EnterpriseID, 10)},
		"StartTime":    {strconv.FormatInt(q.StartTime.Unix(), 10)},
		"EndTime":      {strconv.FormatInt(q.EndTime.Unix(), 10)},
		"Start":        {strconv.FormatInt(q.Start, 10)},
		"Limit":        {strconv.Itoa(limit)},
	}
	if q.TimeRangeType != 0 {
		params.Set("TimeRangeType", strconv.FormatInt(q.TimeRangeType, 10))
	}
	return params, nil
}

func windowLimit(op string, q CdrQuery) (int, error) {
	switch {
	case q.Limit == 0:
		return MaxCdrPageSize, nil
	case q.Limit < 1 || q.Limit > MaxCdrPageSize:
		return 0, &requestError{Operation: op, class: classInvalidArgument, config: true,
			msg: fmt.Sprintf("page size %d outside 1..%d", q.Limit, MaxCdrPageSize)}
	}
	return q.Limit, nil
}
