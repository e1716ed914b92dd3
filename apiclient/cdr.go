package apiclient

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// CloudQueryPredictiveCallCdr returns the call detail records of
// predictive dialling, as the vendor's typed Go SDK for dyvmsapi
// 2017-05-25 models them (there is no page of the vendor's documentation
// for this operation).
//
// Personal data. A record carries the customer's number, the caller ids
// shown, the customer's province and city, the agent's phone, recordings
// and caller-defined fields. None of them has a field in CallRecord, so
// encoding/json skips them without keeping a byte, and no error can quote
// them: the decoder's messages name only fields it decodes, and a body that
// cannot be read is never quoted for this operation (see bodyIsPersonal).
// The vendor's filters on those fields (CustomerNumber, Clid, …) are not
// offered either.

const (
	opCdr = OpCloudQueryPredictiveCallCdr

	// MaxCdrPageSize is the largest Limit CloudQueryPredictiveCallCdr accepts.
	MaxCdrPageSize = 1000
	// maxCdrPages stops the paging against a server that never returns a
	// short page: a million records in one window is beyond any call centre
	// polled every few minutes.
	maxCdrPages = 1000
)

// Time range types: which of a call's times a CdrQuery window applies to.
const (
	CdrByStartTime = 1 // the API's default
	CdrByEndTime   = 2
)

// CdrQuery selects call records. StartTime and EndTime are whole Unix
// seconds and both inclusive (inferred: the vendor documents neither
// bound). CloudQueryPredictiveCallCdr pages with Start and Limit itself;
// CloudQueryPredictiveCallCdrPage asks for exactly the page given.
type CdrQuery struct {
	EnterpriseID       int64
	TaskID             int64 // 0: every task of the enterprise
	StartTime, EndTime time.Time
	TimeRangeType      int64 // CdrByStartTime or CdrByEndTime; 0 leaves it to the API (start time)
	Start              int64 // offset of the page's first record
	Limit              int   // records per page, 1..MaxCdrPageSize; 0 means MaxCdrPageSize
	// Location is the zone whose calendar months a window may not cross:
	// the API's, the call centre's. nil means Asia/Shanghai, whatever zone
	// the client reads wall-clock times in (config's timezone is for
	// display; a window split at its midnight crosses the API's month).
	Location *time.Location
}

// CallRecord is one call, with the fields the call-outcome metrics need.
// Times are Unix seconds; the API writes 0 or nothing for a time that
// never came (an unanswered call has no AnswerTime), which At reports.
type CallRecord struct {
	// UniqueID identifies the call; CallID and ID are the vendor's other
	// ids, for a record that lacks it (see Key).
	UniqueID Text  `json:"UniqueId"`
	CallID   Text  `json:"CallId"`
	ID       Text  `json:"Id"`
	TaskID   Int64 `json:"TaskId"`

	StartTime         Int64 // entered the system
	CalleeRingingTime Int64 // the customer's phone rang
	AnswerTime        Int64 // the system saw an answer
	RealAnswerTime    Int64 // a live person answered
	DetailRingingTime Int64 // the agent's phone rang
	BridgeTime        Int64 // the agent answered
	EndTime           Int64

	WaitDuration   Int64 // seconds the customer waited (for an agent, inferred)
	BridgeDuration Int64 // seconds of talk with the agent
	TotalDuration  Int64

	StatusCode   Int64 // 40 not answered, 41 customer answered, 42 dialled, 43 customer and agent answered
	IsRealAnswer Int64 // 1 a live person, 0 not; absent when the API left it empty
	EndReason    Int64 // 1000 main channel hung up, 1001 other channel, 1002 torn down
}

// At is a record time as Unix seconds, and whether there is one: 0 and
// absent both mean the moment never came.
func At(t Int64) (int64, bool) { return t.Value, t.Valid && t.Value > 0 }

// Key is the record's identity for de-duplication: UniqueId, else CallId,
// else Id; "" when the record has none.
func (r *CallRecord) Key() string {
	for _, k := range []Text{r.UniqueID, r.CallID, r.ID} {
		if k != "" {
			return string(k)
		}
	}
	return ""
}

// CloudQueryPredictiveCallCdrResponse is one page of the answer.
type CloudQueryPredictiveCallCdrResponse struct {
	RequestID string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Data      *CdrPage
}

// CdrPage is the Data object.
type CdrPage struct {
	List []CallRecord
}

// DecodeCloudQueryPredictiveCallCdr parses one page; see
// DecodeCloudMonitorTask. A missing Data or List is an empty page.
func DecodeCloudQueryPredictiveCallCdr(body []byte) (*CloudQueryPredictiveCallCdrResponse, error) {
	var r CloudQueryPredictiveCallCdrResponse
	if err := decodeResponse(opCdr, body, &r, &r.Code); err != nil {
		return nil, err
	}
	if r.Data == nil {
		r.Data = &CdrPage{}
	}
	// An id the decoder could not read as text (an object, a boolean) is
	// no id: its mark is the same for every such record, and would make
	// distinct calls one (Key then falls back to the next id).
	for i := range r.Data.List {
		c := &r.Data.List[i]
		for _, id := range []*Text{&c.UniqueID, &c.CallID, &c.ID} {
			if textMark(*id) != kindNone {
				*id = ""
			}
		}
	}
	return &r, nil
}

// CloudQueryPredictiveCallCdrPage asks for one page: q's window as given
// (it must not cross a month), from q.Start, q.Limit records.
func (c *Client) CloudQueryPredictiveCallCdrPage(ctx context.Context, q CdrQuery) ([]CallRecord, error) {
	params, err := windowParams(opCdr, q)
	if err != nil {
		return nil, err
	}
	if q.TaskID != 0 {
		params.Set("TaskId", strconv.FormatInt(q.TaskID, 10))
	}
	var list []CallRecord
	err = c.call(ctx, opCdr, params, func(body []byte) error {
		r, err := DecodeCloudQueryPredictiveCallCdr(body)
		if err == nil {
			list = r.Data.List
		}
		return err
	})
	var ae *Error
	if errors.As(err, &ae) && IsConfigError(err) && configHint(ae.Code) == hintParameter {
		err = &WindowRefusedError{Err: ae, Start: q.StartTime.Unix(), End: q.EndTime.Unix()}
	}
	return list, err
}

// WindowRefusedError is a page whose parameters the API refused. The
// enterprise id may be wrong, but the window is the usual cause: the API
// refuses one that crosses a calendar month of the call centre (its own
// zone, Asia/Shanghai, whatever the display timezone), so the hint of
// *Error ("check enterprise and task ids") would mislead. Unwrap gives the
// *Error, whose Code the metrics use.
type WindowRefusedError struct {
	Err        *Error
	Start, End int64 // the window, Unix seconds
}

func (e *WindowRefusedError) Error() string {
	msg := e.Err.Message
	if msg != "" {
		msg = ": " + msg
	}
	return fmt.Sprintf("dyvmsapi %s: %s%s (RequestId %s): the API refused the window %s .. %s (Asia/Shanghai); "+
		"a window may not cross a calendar month of the call centre, and the enterprise id must be one of the account's",
		e.Err.Operation, e.Err.Code, msg, e.Err.RequestID,
		time.Unix(e.Start, 0).In(defaultLocation()).Format(time.DateTime), time.Unix(e.End, 0).In(defaultLocation()).Format(time.DateTime))
}

func (e *WindowRefusedError) Unwrap() error { return e.Err }

// CloudQueryPredictiveCallCdr reads every record of q's window: split at
// the call centre's month boundaries (the API refuses a window across
// one), each part paged until a short page. See QueryCallRecords.
func (c *Client) CloudQueryPredictiveCallCdr(ctx context.Context, q CdrQuery) (*CdrResult, error) {
	return QueryCallRecords(ctx, c, q)
}

// CdrPager asks for one page; *Client does, and so does a pacer in front
// of it, which is why the paging is a function over this interface: the
// pacer paces and retries each page, and a retry repeats one page, not
// the window.
type CdrPager interface {
	CloudQueryPredictiveCallCdrPage(ctx context.Context, q CdrQuery) ([]CallRecord, error)
}

// CdrResult is what a window gave.
type CdrResult struct {
	// Records in the order the pages gave them. A record may appear twice
	// when the list shifted between pages; callers de-duplicate by Key.
	Records []CallRecord
	Pages   int
	// Through is the end of the part of the window read completely: the
	// window's end on success; on failure the end of the last month part
	// read completely, or the zero time if none was.
	Through time.Time
}

// QueryCallRecords reads q's window through p: split into calendar months
// of q.Location (nil: Asia/Shanghai), each part paged with Start/Limit
// until a page comes back shorter than Limit (the API returns no total).
// On failure it returns what it read with the error: the records of the
// pages that came back (real records, which a caller that de-duplicates may
// count) and Through, which tells how far the window is complete.
func QueryCallRecords(ctx context.Context, p CdrPager, q CdrQuery) (*CdrResult, error) {
	limit, err := windowLimit(opCdr, q)
	if err != nil {
		return nil, err
	}
	if q.EndTime.Before(q.StartTime) {
		return nil, &requestError{Operation: opCdr, class: classInvalidArgument, config: true,
			msg: fmt.Sprintf("window ends (%d) before it starts (%d)", q.EndTime.Unix(), q.StartTime.Unix())}
	}
	q.Limit = limit
	res := &CdrResult{}
	for _, part := range SplitByMonth(q.StartTime, q.EndTime, q.Location) {
		pq := q
		pq.StartTime, pq.EndTime = part[0], part[1]
		var prevFirst, prevLast string
		for page := 0; ; page++ {
			if page == maxCdrPages {
				return res, &requestError{Operation: opCdr, class: classBadResponse,
					msg: fmt.Sprintf("no short page after %d pages of %d records", maxCdrPages, limit)}
			}
			pq.Start = int64(page * limit)
			list, err := p.CloudQueryPredictiveCallCdrPage(ctx, pq)
			if err != nil {
				return res, err
			}
			res.Pages++
			if len(list) > 0 {
				first, last := list[0].Key(), list[len(list)-1].Key()
				if page > 0 && first != "" && first == prevFirst && last == prevLast {
					return res, &requestError{Operation: opCdr, class: classBadResponse,
						msg: fmt.Sprintf("page at Start=%d repeats the previous page; the server seems to ignore Start", pq.Start)}
				}
				prevFirst, prevLast = first, last
			}
			res.Records = append(res.Records, list...)
			if len(list) < limit {
				break
			}
		}
		res.Through = part[1]
	}
	return res, nil
}

// SplitByMonth cuts the inclusive window [from, to] (whole seconds) into
// inclusive parts that each lie in one calendar month of loc (nil:
// Asia/Shanghai). An empty window (to before from) has no parts.
func SplitByMonth(from, to time.Time, loc *time.Location) [][2]time.Time {
	if loc == nil {
		loc = defaultLocation()
	}
	from, to = time.Unix(from.Unix(), 0).In(loc), time.Unix(to.Unix(), 0).In(loc)
	var parts [][2]time.Time
	for !to.Before(from) {
		next := time.Date(from.Year(), from.Month()+1, 1, 0, 0, 0, 0, loc)
		end := next.Add(-time.Second)
		if to.Before(end) {
			end = to
		}
		parts = append(parts, [2]time.Time{from, end})
		from = next
	}
	return parts
}
