package apiclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	// The exporter ships in a scratch image without /usr/share/zoneinfo;
	// embedding the database keeps Asia/Shanghai loadable there.
	_ "time/tzdata"
)

// TimeLayout is the vendor's wall-clock layout. It carries no zone.
const TimeLayout = "2006-01-02 15:04:05"

// maxQuotedValue bounds how much of a rejected JSON value an error repeats:
// enough to recognise it, not enough to flood a log line.
const maxQuotedValue = 40

// defaultLocation is the call centre's zone (China Standard Time), used when
// a caller does not configure one.
var defaultLocation = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// Unreachable with time/tzdata linked in; a fixed +08:00 is the
		// same for this zone, which has had no DST since 1991.
		return time.FixedZone("CST", 8*60*60)
	}
	return loc
})

var stringType = reflect.TypeFor[string]()

// unreadableSeen counts, process-wide, the values the field types could not
// read and marked instead. A decode compares it before and after: when it
// has not moved, no value of this answer carries a mark and the walk that
// collects and clears marks is skipped, so a normal answer pays nothing for
// it. Another decode's mark in between only costs an unneeded walk.
var unreadableSeen atomic.Uint64

func marked(k jsonKind) jsonKind {
	unreadableSeen.Add(1)
	return k
}

// UnmarshalJSON accepts a JSON number or a numeric string so that the
// vendor's habit of switching between 2 and "2" does not break a scrape.
// An integral float (3.0, "3e2") is accepted because some gateways
// re-serialise every number as a double. Anything else (true, "abc", 7.9,
// an object) is not an error, which would fail the whole answer: the value
// is absent and marked, and DecodeCloudMonitorTask / DecodeCloudQueryTask
// report the field in Unreadable.
func (n *Int64) UnmarshalJSON(b []byte) error {
	v, ok, bad := decodeNumber(b, parseInt)
	*n = Int64{Value: v, Valid: ok, bad: bad}
	return nil
}

// UnmarshalJSON accepts a JSON number or a numeric string; see Int64.
// NaN and infinities are unreadable: JSON cannot carry them, so a string
// spelling one is a vendor bug, not a measurement.
func (f *Float64) UnmarshalJSON(b []byte) error {
	v, ok, bad := decodeNumber(b, parseFloat)
	*f = Float64{Value: v, Valid: ok, bad: bad}
	return nil
}

// decodeNumber is the one rule of Int64 and Float64: null and "" are
// absent, a number or numeric string is parsed, anything else is absent
// and marked with the kind of value it was. A number that is not an integer
// (or out of int64's range) where one is required is kindNotInteger, so the
// log can say why a plain-looking 7.9 was refused.
func decodeNumber[T int64 | float64](b []byte, parse func([]byte) (T, bool)) (T, bool, jsonKind) {
	kind, s := scalar(b)
	switch kind {
	case kindNull:
		return 0, false, kindNone
	case kindString, kindNumber:
		s = bytes.TrimSpace(s)
		if len(s) == 0 && kind == kindString {
			return 0, false, kindNone
		}
		if v, ok := parse(s); ok {
			return v, true, kindNone
		}
		if _, isInt := any(T(0)).(int64); isInt {
			if _, ok := parseFloat(s); ok {
				kind = kindNotInteger
			}
		}
	}
	return 0, false, marked(kind)
}

// textOf is the rule of Text: a string, or a number's literal text (a Cno
// sent as 1111 reads the same as "1111"); null is "". Anything else is
// returned as the kind that could not be read.
func textOf(b []byte) (Text, jsonKind) {
	kind, s := scalar(b)
	switch kind {
	case kindNull:
		return "", kindNone
	case kindString, kindNumber:
		return Text(s), kindNone
	}
	return "", kind
}

// textMarks are the values an unreadable Text holds until the decode
// functions clear it: a leading 0xFF byte, which no decoded JSON string
// contains (invalid UTF-8 becomes U+FFFD), followed by the kind's name. Text
// is a plain string type, so this is the only place it has for a mark.
var textMarks = func() (m [len(kindNames)]Text) {
	for k, name := range kindNames {
		m[k] = Text("\xff" + name)
	}
	return m
}()

// textMark returns the kind an unreadable Text was marked with, or kindNone.
func textMark(t Text) jsonKind {
	if len(t) == 0 || t[0] != 0xff {
		return kindNone
	}
	for k := range textMarks {
		if t == textMarks[k] {
			return jsonKind(k)
		}
	}
	return kindNone
}

// UnmarshalJSON keeps a number's literal text and treats null as "". A
// bool, object or array is unreadable: see Int64.
func (t *Text) UnmarshalJSON(b []byte) error {
	v, bad := textOf(b)
	if bad != kindNone {
		v = textMarks[marked(bad)]
	}
	*t = v
	return nil
}

// strictText is Text for the envelope, where a value that cannot be read
// is an error: a marked Code must never be taken for the API's.
type strictText string

func (t *strictText) UnmarshalJSON(b []byte) error {
	v, bad := textOf(b)
	if bad != kindNone {
		return typeError(b, stringType)
	}
	*t = strictText(v)
	return nil
}

// UnmarshalJSON parses the vendor layout as a UTC wall clock; the decode
// functions then move that wall clock into the configured location, because
// a JSON unmarshaler has no way to receive it. A value in another layout is
// unreadable: see Int64.
func (t *Time) UnmarshalJSON(b []byte) error {
	kind, s := scalar(b)
	switch kind {
	case kindNull:
		*t = Time{}
		return nil
	case kindString:
		s = bytes.TrimSpace(s)
		// MySQL's zero date is how some back ends spell "never".
		if len(s) == 0 || string(s) == "0000-00-00 00:00:00" {
			*t = Time{}
			return nil
		}
		if v, err := time.Parse(TimeLayout, string(s)); err == nil {
			*t = Time{Time: v, Valid: true}
			return nil
		}
	}
	*t = Time{bad: marked(kind)}
	return nil
}

// in reinterprets the decoded wall clock in loc (not a conversion: 10:00
// stays 10:00, only the zone changes).
func (t *Time) in(loc *time.Location) {
	if !t.Valid {
		return
	}
	y, mo, d := t.Time.Date()
	h, mi, s := t.Time.Clock()
	t.Time = time.Date(y, mo, d, h, mi, s, t.Time.Nanosecond(), loc)
}

// jsonKind classifies a JSON value; as a field type's mark it says what an
// unreadable value was, and its zero value means "not marked".
type jsonKind uint8

const (
	kindNone jsonKind = iota
	kindInvalid
	kindNull
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
	kindNotInteger // a number, but not an integer in int64's range
)

var kindNames = [...]string{"", "invalid JSON", "null", "string", "number", "bool", "object", "array", "non-integral or out-of-range number"}

// scalar classifies one JSON value and returns the text of a string
// (unescaped) or a number (verbatim). The text aliases b when nothing needed
// unescaping: most values are parsed and dropped, and not copying them
// saves an allocation per field.
func scalar(b []byte) (jsonKind, []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return kindInvalid, nil
	}
	switch b[0] {
	case 'n':
		if string(b) == "null" {
			return kindNull, nil
		}
	case 't', 'f':
		if string(b) == "true" || string(b) == "false" {
			return kindBool, nil
		}
	case '{':
		return kindObject, nil
	case '[':
		return kindArray, nil
	case '"':
		if s, ok := plainString(b); ok {
			return kindString, s
		}
		var s string
		if json.Unmarshal(b, &s) == nil {
			return kindString, []byte(s)
		}
	default:
		if isNumber(b, false) {
			return kindNumber, b
		}
	}
	return kindInvalid, nil
}

// plainString is the allocation-free path for the common string with
// nothing to unescape; anything else goes through encoding/json.
func plainString(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[len(b)-1] != '"' {
		return nil, false
	}
	inner := b[1 : len(b)-1]
	ascii := true
	for _, c := range inner {
		if c < 0x20 || c == '"' || c == '\\' {
			return nil, false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD; leave that to it.
	return inner, ascii || utf8.Valid(inner)
}

// isNumber reports whether s is a decimal number: optional sign, digits
// with an optional fraction, optional exponent. It exists because
// strconv.ParseFloat also takes "NaN", "Inf", hex floats and underscores,
// none of which is a number on this wire. relaxed additionally allows a
// leading '+', leading zeros and a bare "3." or ".5", which a numeric
// string may contain even though a JSON number may not.
func isNumber(s []byte, relaxed bool) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || (relaxed && s[i] == '+')) {
		i++
	}
	intDigits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		intDigits++
	}
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		expDigits := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseInt and parseFloat take bytes and convert at the call into strconv,
// where the string does not escape and the compiler keeps it on the stack.
func parseInt(s []byte) (int64, bool) {
	if !isNumber(s, true) {
		return 0, false
	}
	if v, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		return v, true
	}
	// "3.000": drop a zero fraction so that large values keep full
	// precision instead of going through float64.
	if dot := bytes.IndexByte(s, '.'); dot > 0 && len(bytes.Trim(s[dot+1:], "0")) == 0 {
		if v, err := strconv.ParseInt(string(s[:dot]), 10, 64); err == nil {
			return v, true
		}
		return 0, false
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

func parseFloat(s []byte) (float64, bool) {
	if !isNumber(s, true) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	// Underflow rounds to zero, which is fine; overflow is ±Inf, which is not.
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// typeError returns a *json.UnmarshalTypeError so that encoding/json adds
// the field path (Data.Statistic.AgentCount) to the message on its way out.
func typeError(b []byte, t reflect.Type) error {
	kind, s := scalar(b)
	var v string
	switch kind {
	case kindString:
		v = "string " + strconv.Quote(truncateUTF8(string(s), maxQuotedValue))
	case kindInvalid:
		v = "invalid JSON " + strconv.Quote(truncateUTF8(string(bytes.TrimSpace(b)), maxQuotedValue))
	default:
		v = kindNames[kind] + " " + oneLine(truncateUTF8(string(bytes.TrimSpace(b)), maxQuotedValue))
	}
	return &json.UnmarshalTypeError{Value: v, Type: t}
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune and
// marks the cut.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// oneLine makes untrusted text safe for a single log line: control
// characters and invalid UTF-8 become spaces, runs of spaces collapse.
func oneLine(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	space := false
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				r = ' '
			}
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		sb.WriteRune(r)
	}
	return strings.TrimSpace(sb.String())
}

// envelope is the part every dyvmsapi answer shares, success or error.
// strictText rather than string so that a malformed error body (a Code
// sent as a number, a success schema it does not fit) still yields its
// Code; strict, so that a value that cannot be read fails instead.
type envelope struct {
	RequestID strictText `json:"RequestId"`
	HostID    strictText `json:"HostId"`
	Code      strictText
	Message   strictText
	Recommend strictText
}

func (e *envelope) apiError(op string) *Error {
	return &Error{
		Operation: op,
		Code:      string(e.Code),
		Message:   string(e.Message),
		RequestID: string(e.RequestID),
		HostID:    string(e.HostID),
		Recommend: string(e.Recommend),
	}
}

// decodeResponse unmarshals body into v and makes sure Code is "OK". A
// non-OK Code wins over a decoding error: an error body need not match the
// success schema, and the Code is what the caller acts on.
func decodeResponse(op string, body []byte, v any, code *string) error {
	err := json.Unmarshal(body, v)
	if err == nil && *code == "OK" {
		return nil
	}
	var env envelope
	if json.Unmarshal(body, &env) == nil && env.Code != "" && env.Code != "OK" {
		return env.apiError(op)
	}
	if err != nil {
		return &requestError{Operation: op, class: classBadResponse, msg: "cannot decode response: " + err.Error()}
	}
	return &requestError{Operation: op, class: classBadResponse, msg: "response has no Code"}
}

// DecodeCloudMonitorTask parses a CloudMonitorTask response body, placing
// its wall-clock times in loc (nil means Asia/Shanghai). A Code other than
// "OK" is returned as *Error; a body that is not the answer's shape (not
// JSON, truncated, Data missing or not an object, a block such as
// ChannelInfo not an object, Code not a string) is an error for which
// ErrorCode reports "bad_response". A single value that cannot be read is
// not: it is absent, and Data.Unreadable names its field.
func DecodeCloudMonitorTask(body []byte, loc *time.Location) (*CloudMonitorTaskResponse, error) {
	const op = OpCloudMonitorTask
	var r CloudMonitorTaskResponse
	seen := unreadableSeen.Load()
	if err := decodeResponse(op, body, &r, &r.Code); err != nil {
		return nil, err
	}
	if r.Data == nil {
		// A success without Data would otherwise reach the collector as
		// a task with no numbers at all.
		return nil, &requestError{Operation: op, class: classBadResponse, msg: "response has Code OK but no Data"}
	}
	if unreadableSeen.Load() != seen {
		r.Data.Unreadable = unreadable(reflect.ValueOf(r.Data).Elem(), monitorPlan())
	}
	if loc == nil {
		loc = defaultLocation()
	}
	for _, p := range []*TaskProperty{&r.Data.Statistic.CtiLinkTaskProperty, &r.Data.TodayStatistic.CtiLinkTaskProperty} {
		p.StartTime.in(loc)
		p.OverTime.in(loc)
	}
	return &r, nil
}

// DecodeCloudQueryTask parses one page of a CloudQueryTask response; see
// DecodeCloudMonitorTask. A missing Data or TaskProperties is an empty page,
// which is how an empty listing may come back. An unreadable task Id fails
// the page (bad_response) rather than leaving the row out: naming tasks is
// what a listing is for, and a failed listing keeps the previous list in
// use and is counted and logged, where a silently shorter one would stop
// monitoring a task without a word.
func DecodeCloudQueryTask(body []byte, loc *time.Location) (*CloudQueryTaskResponse, error) {
	const op = OpCloudQueryTask
	var r CloudQueryTaskResponse
	seen := unreadableSeen.Load()
	if err := decodeResponse(op, body, &r, &r.Code); err != nil {
		return nil, err
	}
	if r.Data == nil {
		r.Data = &TaskPage{}
	}
	if unreadableSeen.Load() != seen {
		r.Data.Unreadable = unreadable(reflect.ValueOf(r.Data).Elem(), pagePlan())
		for _, u := range r.Data.Unreadable {
			if u.Field == "TaskProperties.Id" {
				return nil, &requestError{Operation: op, class: classBadResponse,
					msg: fmt.Sprintf("cannot decode response: %d task Id values could not be read (the first: %s)", u.Count, u.Got)}
			}
		}
	}
	if loc == nil {
		loc = defaultLocation()
	}
	for i := range r.Data.TaskProperties {
		r.Data.TaskProperties[i].CreateTime.in(loc)
	}
	return &r, nil
}
