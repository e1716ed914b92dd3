package apiclient

import (
	"encoding/json"
	"time"
)

// Response types for the two dyvmsapi operations the exporter uses.
//
// The vendor is inconsistent about JSON types (the same Status is 2 in one
// object and "2" in the next; AvgBridgeTime is a string of seconds), so every
// numeric field uses an optional type that accepts a JSON number or a numeric
// string, and treats "" and null as absent rather than zero: a missing number
// must not become a plausible-looking 0 on a dashboard.

// Int64 is an optional integer decoded from a JSON number or numeric string.
type Int64 struct {
	Value int64
	Valid bool // false when the field was absent, null or ""
}

// Float64 is an optional real number decoded from a JSON number or numeric string.
type Float64 struct {
	Value float64
	Valid bool
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
}

// TaskStatistic is the Statistic / TodayStatistic object.
type TaskStatistic struct {
	CtiLinkTaskProperty TaskProperty
	AgentCount          Int64
	CalledCount         Int64
	AnswerCount         Int64
	UncalledCount       Int64
	CallAgentCount      Int64
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
	ChannelCount           Int64
	EnterpriseChannelCount Int64
	BridgedCount           Int64
	AnswerCount            Int64
	WaitAgentCount         Int64
	WaitAnswerCount        Int64
	IvrCount               Int64
}

// AgentInfo is the AgentInfo object: agents of the task by state right now.
type AgentInfo struct {
	TotalCount     Int64
	OnlineCount    Int64
	AvailableCount Int64
	RingingCount   Int64
	BridgeCount    Int64
	WrapupCount    Int64
}

// AgentStatistic is one row of AgentStatisticList / RemovedAgentStatisticList.
type AgentStatistic struct {
	Cno                          Text
	Name                         Text
	AgentStatus                  Text // stateIdle, statePause, stateInuse, stateCalling, stateWrapup or ""
	CalledCount                  Int64
	BridgeCount                  Int64
	NoBridgeCount                Int64
	TodayAnsweredCount           Int64
	EnterpriseTodayAnsweredCount Int64
	CallLimit                    Int64   // -1: no limit configured
	EnterpriseCallLimit          Int64   // -1: no limit configured
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
