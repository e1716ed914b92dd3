package config

import (
	"fmt"
	"time"
)

// CallRecords polls one enterprise's call detail records
// (CloudQueryPredictiveCallCdr) in the background, for the call-outcome
// metrics: true abandonment within 2 s, wait and talk time, per task. Off
// unless listed.
type CallRecords struct {
	EnterpriseID int64 `yaml:"enterprise_id"`
	// Interval is how often the records are polled.
	Interval time.Duration `yaml:"interval"`
	// Lateness is how far back each poll reaches before what the last one
	// read completely, to catch records the API publishes late; they are
	// de-duplicated by their unique id. Longer costs more records per poll.
	Lateness time.Duration `yaml:"lateness"`
	// Settle is how far behind now each poll stops: a call that ended a
	// moment ago may not have its record yet.
	Settle time.Duration `yaml:"settle"`
	// MaxTracked bounds the records kept for de-duplication (about 95
	// bytes each, all of a record's ids). Past it the oldest are forgotten
	// and a record ending before what is remembered is reported as not
	// counted (invalid, too_old), never counted twice; what shrinks is the
	// time late records may take (docs/call-records-poller.md).
	MaxTracked int `yaml:"max_tracked"`
}

// Bounds and defaults of call_records entries, each with its reason.
var (
	// DefaultCallRecords: a minute is the resolution of a dashboard of
	// 24-hour rates; 15 minutes of lateness and a minute of settling cover
	// a record store that lags by minutes, at the cost of reading each
	// record about 16 times (see docs/call-outcomes.md for the API cost).
	DefaultCallRecords = CallRecords{Interval: time.Minute, Lateness: 15 * time.Minute, Settle: time.Minute, MaxTracked: 200_000}
)

const (
	// MinCallRecordsInterval keeps polling from eating the account's quota.
	MinCallRecordsInterval = 10 * time.Second
	// MaxCallRecordsInterval: a longer interval leaves the 24-hour
	// abandonment rate behind the calls by more than its alert's for:.
	MaxCallRecordsInterval = time.Hour
	// MaxCallRecordsLateness: every poll re-reads this much; a day of it
	// would re-read a day of records every interval.
	MaxCallRecordsLateness = 6 * time.Hour
	// MaxCallRecordsSettle: the counters lag the calls by settle.
	MaxCallRecordsSettle = 30 * time.Minute
	// MaxCallRecordsTracked bounds the de-duplication memory at about
	// 70 MB per entry.
	MaxCallRecordsTracked = 1_000_000
)

// UnmarshalYAML: see Config.UnmarshalYAML.
func (c *CallRecords) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultCallRecords
	type plain CallRecords
	return unmarshal((*plain)(c))
}

// validateCallRecords checks each entry where it is written.
func (p *parser) validateCallRecords() {
	first := map[int64]int{}
	for i, item := range p.ix.items("call_records") {
		path := fmt.Sprintf("call_records[%d]", i)
		if p.isPoisoned(path) {
			continue
		}
		var c CallRecords
		_ = item.Decode(&c) // already reported by the strict decode
		p.onePerEnterprise(path, c.EnterpriseID, first, "a call_records entry", "")
		p.durationIn(path+".interval", c.Interval, MinCallRecordsInterval, MaxCallRecordsInterval, "polling spends the account's quota")
		p.durationIn(path+".lateness", c.Lateness, 0, MaxCallRecordsLateness, "every poll reads it again")
		p.durationIn(path+".settle", c.Settle, time.Second, MaxCallRecordsSettle, "the counters lag the calls by it")
		if c.MaxTracked < 1000 || c.MaxTracked > MaxCallRecordsTracked {
			p.addAt(path+".max_tracked", "must be between 1000 and %d, got %d", MaxCallRecordsTracked, c.MaxTracked)
		}
	}
}

// onePerEnterprise checks the entry's enterprise_id at path: positive, and
// the first entry of what (a list of entries per enterprise) for it; first
// maps an enterprise to the line of its first entry. hint ends the message.
func (p *parser) onePerEnterprise(path string, id int64, first map[int64]int, what, hint string) {
	if !p.positiveID(path+".enterprise_id", id) || p.isPoisoned(path+".enterprise_id") {
		return
	}
	if line, dup := first[id]; dup {
		p.addAt(path+".enterprise_id", "enterprise %d already has %s at line %d%s", id, what, line, hint)
		return
	}
	first[id] = p.ix.line(path + ".enterprise_id")
}

func (p *parser) durationIn(path string, d, lo, hi time.Duration, why string) {
	if p.isPoisoned(path) || d >= lo && d <= hi {
		return
	}
	p.addAt(path, "must be between %s and %s (%s), got %s", lo, hi, why, d)
}
