package apiclient

import (
	"encoding/json"
	"time"
)

// Response types for CloudMonitorTask and CloudQueryTask (cdr.go has
// those of CloudQueryPredictiveCallCdr).
//
// The vendor is inconsistent about JSON types (the same Status is 2 in one
// object and "2" in the next; AvgBridgeTime is a string of seconds), so every
// numeric field uses an optional type that accepts a JSON number or a numeric
// string, and treats "" and null as absent rather than zero: a missing number
// must not become a plausible-looking 0 on a dashboard. A value that cannot
// be read at all (true, "abc", an object) is absent too, and named in the
// answer's Unreadable list, instead of failing the whole answer.
//
// Counts and measures are Float64, the type a Prometheus sample has: a
// gateway that sends 7.9 where the vendor's SDK would truncate to 7 gets
// 7.9 exported as it is. Only ids and the Status enum must be integral
// (Int64), because they are used as keys, not as values.

// Int64 is an optional integer decoded from a JSON number or numeric string.
type Int64 struct {
	Value int64
	Valid bool     // false when the field was absent, null, "" or unreadable
	bad   jsonKind // set while decoding an unreadable value; cleared by the decode functions
}

// Float64 is an optional real number decoded from a JSON number or numeric string.
type Float64 struct {
	Value float64
	Valid bool
	bad   jsonKind
}

// UnreadableField is a field of an answer some value of which could not be
// read, and was therefore left absent.
type UnreadableField struct {
	// Field is the wire path below Data, e.g. "AgentInfo.TotalCount" or
	// "AgentStatisticList.CallLimit" (one path for all rows of a list).
	Field string
	Count int    // values of this field that could not be read (rows, for a list)
	Got   string // what the first of them was: "bool", "string", "object", …
}

// Text is a string that also accepts a JSON number (a Cno sent as 1111) and
// treats null as "".
type Text string

// Time is an optional wall-clock time in the vendor's "2006-01-02 15:04:05"
// layout. The JSON carries no zone; the client places it in its configured
// location after decoding. An empty string is absent.
type Time struct {
	Time  time.Time
	Valid bool
	bad   jsonKind
}

// CloudMonitorTaskResponse holds every field of a CloudMonitorTask answer.
type CloudMonitorTaskResponse struct {
	RequestID string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Data      *MonitorData
	// AccessDeniedDetail is deprecated by the vendor and kept raw: it is a
	// string here but an object in other Alibaba Cloud APIs, and a field
	// nobody reads must not be able to fail the decoding of the whole answer.
	AccessDeniedDetail json.RawMessage `json:"AccessDeniedDetail"`
}

// MonitorData is the Data object of CloudMonitorTask.
type MonitorData struct {
	Statistic                 TaskStatistic    // since the task was created
	TodayStatistic            TaskStatistic    // since local midnight
	ChannelInfo               ChannelInfo      // instantaneous channel counts
	AgentInfo                 AgentInfo        // instantaneous agent state counts
	AgentStatisticList        []AgentStatistic // agents assigned to the task
	RemovedAgentStatisticList []AgentStatistic // agents removed from the task

	// Unreadable names the fields with values that could not be read
	// (sorted by Field); nil for a clean answer.
	Unreadable []UnreadableField `json:"-"`
}

// TaskStatistic is the Statistic / TodayStatistic object.
type TaskStatistic struct {
	CtiLinkTaskProperty TaskProperty
	AgentCount          Float64
	CalledCount         Float64
	AnswerCount         Float64
	UncalledCount       Float64
	CallAgentCount      Float64
}

// TaskProperty is CtiLinkTaskProperty.
type TaskProperty struct {
	ID                Int64 `json:"Id"`
	Name              Text
	Status            Int64 // 0 initial, 1 running, 2 paused, 3 finished
	StatusDescription Text
	StartTime         Time
	OverTime          Time
}

// ChannelInfo is the ChannelInfo object: channels (calls) of the task right now.
type ChannelInfo struct {
	ChannelCount           Float64
	EnterpriseChannelCount Float64
	BridgedCount           Float64
	AnswerCount            Float64
	WaitAgentCount         Float64
	WaitAnswerCount        Float64
	IvrCount               Float64
}

// AgentInfo is the AgentInfo object: agents of the task by state right now.
type AgentInfo struct {
	TotalCount     Float64
	OnlineCount    Float64
	AvailableCount Float64
	RingingCount   Float64
	BridgeCount    Float64
	WrapupCount    Float64
}

// AgentStatistic is one row of AgentStatisticList / RemovedAgentStatisticList.
type AgentStatistic struct {
	Cno                          Text
	Name                         Text
	AgentStatus                  Text // stateIdle, statePause, stateInuse, stateCalling, stateWrapup or ""
	CalledCount                  Float64
	BridgeCount                  Float64
	NoBridgeCount                Float64
	TodayAnsweredCount           Float64
	EnterpriseTodayAnsweredCount Float64
	CallLimit                    Float64 // -1: no limit configured
	EnterpriseCallLimit          Float64 // -1: no limit configured
	AvgBridgeTime                Float64 // seconds
	AgentAvgIdleTime             Float64 // seconds
	BridgeIn2sRate               Float64
}

// CloudQueryTaskResponse is one page of a CloudQueryTask answer.
type CloudQueryTaskResponse struct {
	RequestID string `json:"RequestId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Data      *TaskPage
}

// TaskPage is the Data object of CloudQueryTask.
type TaskPage struct {
	TaskProperties []TaskSummary

	Unreadable []UnreadableField `json:"-"` // as MonitorData.Unreadable
}

// TaskQuery selects tasks for CloudQueryTask. The client pages through all
// results itself.
type TaskQuery struct {
	EnterpriseID int64
	Type         int64  // required by the API: 1 predictive, 2 automatic
	Status       *int64 // nil: any status
	Name         string // optional name filter
	PageSize     int    // 1..100; 0 means 100
}

// TaskSummary is one element of CloudQueryTask's Data.TaskProperties.
type TaskSummary struct {
	ID                Int64 `json:"Id"`
	Name              Text
	Status            Int64
	StatusDescription Text
	Type              Int64
	EnterpriseID      Int64 `json:"EnterpriseId"` // a string on the wire
	CreateTime        Time
	Concurrency       Int64
}
