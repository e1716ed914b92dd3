package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// parser collects the problems of one file.
type parser struct {
	file string
	ix   *index
	errs Error
	// more counts the problems not kept past MaxProblems.
	more int
	// warns are problems that do not stop the file from loading.
	warns []Problem
	// poisoned paths failed to decode; their values (and those below them)
	// are zero or default, so validation must not judge them a second time.
	poisoned map[string]bool
}

// MaxProblems bounds the problems one error lists. A file at the size cap
// can hold tens of thousands of mistakes (one per task); past the first
// hundred the list stops helping, and it must not cost a reload its memory.
const MaxProblems = 100

func (p *parser) add(line int, field, format string, args ...any) {
	if len(p.errs.Problems) >= MaxProblems {
		p.more++
		return
	}
	p.errs.Problems = append(p.errs.Problems, Problem{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// addAt reports a problem at the line of path.
func (p *parser) addAt(path, format string, args ...any) {
	if p.isPoisoned(path) {
		return
	}
	p.add(p.ix.line(path), displayPath(path), format, args...)
}

func (p *parser) poison(path string) { p.poisoned[path] = true }

// isPoisoned tells whether path or one of its ancestors failed to decode.
func (p *parser) isPoisoned(path string) bool {
	for {
		if p.poisoned[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = parentPath(path)
	}
}

// MaxFileSize caps a configuration file (2 MiB). Ten thousand tasks take
// about 430 KB and load in about 0.1 s (BenchmarkLoad10000Tasks); a file
// at the cap, some 48,000 tasks, in about 0.4 s (BenchmarkLoadAtSizeCap). A bigger file is
// refused before it is parsed: past the cap it is no longer a task list
// anybody maintains but a mistake (a log or a dump given as --config.file),
// and parsing it would stall --config.check and every reload.
const MaxFileSize = 2 << 20

// readFile reads a configuration file, refusing one larger than
// MaxFileSize without reading more than that.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
		return nil, tooLarge(path, fmt.Sprintf("%d bytes", fi.Size()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(path, fmt.Sprintf("more than %d bytes", MaxFileSize))
	}
	return data, nil
}

func tooLarge(file, size string) error {
	return fmt.Errorf("%s: the file is %s, over the limit of %d bytes (%d MiB) for a configuration file", file, size, MaxFileSize, MaxFileSize>>20)
}

// Parse parses and validates a configuration file's content. filename is
// used in messages and to resolve relative secret file paths; it is not
// read.
func Parse(data []byte, filename string) (*Config, error) {
	if filename == "" {
		filename = "config"
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(filename, fmt.Sprintf("%d bytes", len(data)))
	}
	p := &parser{file: filename, poisoned: map[string]bool{}}

	root, ok := p.parseNodes(data)
	if !ok {
		return nil, p.result()
	}
	p.ix = newIndex(root)
	if p.repeatedKeys() > maxRepeatPairs {
		p.add(0, "", "keys are repeated (below); the rest of the file is checked once no key is repeated")
		return nil, p.result()
	}
	data = p.readIDs(data)

	// The typed decode runs on the same bytes (yaml.v3 offers KnownFields
	// only on a Decoder, not on Node.Decode).
	cfg := defaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&cfg)
	var te *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF):
	case errors.As(err, &te):
		for _, msg := range te.Errors {
			p.typeError(msg)
		}
	default:
		p.add(0, "", "%s", scrub(strings.TrimPrefix(err.Error(), "yaml: ")))
		p.poison("")
	}

	p.checkIntegers()
	p.validate(&cfg, filename)
	env := p.environmentVariables()
	if len(p.errs.Problems) > 0 {
		// A path such as $HOME/secret is refused as missing: the warning
		// says why it is missing.
		for _, w := range env {
			p.add(w.Line, w.Field, "%s", w.Msg)
		}
	} else {
		p.warns = append(p.warns, env...)
	}
	if err := p.result(); err != nil {
		return nil, err
	}
	sort.SliceStable(p.warns, func(i, j int) bool { return p.warns[i].Line < p.warns[j].Line })
	if n := len(p.warns) - MaxProblems; n > 0 { // logged at every load: bounded like the errors
		p.warns = append(p.warns[:MaxProblems], Problem{File: p.file, Msg: fmt.Sprintf("%d more warnings not listed", n)})
	}
	cfg.Warnings = p.warns
	return &cfg, nil
}

func (p *parser) result() error {
	if len(p.errs.Problems) == 0 {
		return nil
	}
	p.errs.sort()
	e := p.errs
	if p.more > 0 {
		e.Problems = append(e.Problems, Problem{File: p.file, Msg: fmt.Sprintf("%d more problems not listed; fix the ones above first", p.more)})
	}
	return &e
}

var reYAMLLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parseNodes reads the node tree, for positions, and insists on a single
// document: yaml.v3 would silently ignore everything after a second "---".
func (p *parser) parseNodes(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true // empty, or only comments
		}
		p.syntaxError(data, err)
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		p.add(line, "", "a second YAML document starts here; the file must hold exactly one")
		return nil, false
	case !errors.Is(err, io.EOF):
		p.syntaxError(data, err)
		return nil, false
	}
	if len(doc.Content) == 0 {
		return nil, true
	}
	return doc.Content[0], true
}

func (p *parser) syntaxError(data []byte, err error) {
	line, msg := splitYAMLError(err)
	if !strings.Contains(msg, "end of stream") {
		line = locateSyntaxError(data, msg, line)
	}
	for _, m := range indentationMessages {
		if msg == m {
			msg += "; check the indentation of this line against the lines above it"
		}
	}
	p.add(line, "", "invalid YAML: %s", scrub(msg))
}

// indentationMessages are yaml.v3's words for a line indented wrongly.
var indentationMessages = []string{
	"did not find expected key",
	"did not find expected '-' indicator",
	"mapping values are not allowed in this context",
	"block sequence entries are not allowed in this context",
	"found a tab character that violates indentation",
}

// splitYAMLError parts yaml.v3's "yaml: line N: message".
func splitYAMLError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := reYAMLLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, msg
}

// locateSyntaxError finds the line a syntax error is on. yaml.v3 reports
// the line where the enclosing block starts (its context mark, counted from
// 0) rather than the token it stumbled on, so "tasks:" is blamed for a
// mis-indented key 30,000 lines further down. The first line is found as
// the shortest run of whole lines, from the start of the file, that fails
// with the same message: the parser fails on reading the offending token,
// so that run ends on the offending line. Cut short before it, a file
// either parses or fails with a different message (an unclosed quote or
// bracket at the cut), hence the comparison of messages, and the search by
// halves: about 16 parses of ever shorter prefixes, some 8 parses of the
// whole file, spent only on a file that is refused anyway. Errors about the end of the stream are left as reported: a cut
// inside a long quoted string fails the same way. The parser that finds the
// error is the one that locates it, so the line cannot disagree with the
// message, as a second YAML library's could.
func locateSyntaxError(data []byte, msg string, reported int) int {
	starts := lineStarts(data)
	lines := len(starts)
	if starts[lines-1] == len(data) {
		lines-- // the file ends with a newline
	}
	fails := func(k int) bool {
		end := len(data)
		if k < len(starts) {
			end = starts[k]
		}
		dec := yaml.NewDecoder(bytes.NewReader(data[:end]))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if err == nil {
				continue
			}
			if errors.Is(err, io.EOF) {
				return false
			}
			_, m := splitYAMLError(err)
			return m == msg
		}
	}
	lo, hi := max(reported, 1), lines
	if lo > hi || !fails(hi) {
		return reported
	}
	for lo < hi { // the first k in [lo, hi] that fails; hi always fails
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

var (
	reCannot     = regexp.MustCompile("^cannot unmarshal (\\S+)(?: `(.*)`)? into (\\S+)$")
	reNotFound   = regexp.MustCompile(`^field (.+) not found in type \S+$`)
	reDupKey     = regexp.MustCompile(`^mapping key (".*") already defined at line (\d+)$`)
	reBackquoted = regexp.MustCompile("`[^`]*`")
)

// typeError turns one of yaml.v3's "line N: ..." messages into a Problem
// with a field path, worded without the offending value where that value
// could be a secret.
func (p *parser) typeError(raw string) {
	m := reYAMLLine.FindStringSubmatch(raw)
	if m == nil {
		p.add(0, "", "%s", scrub(raw))
		p.poison("")
		return
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]

	if m := reCannot.FindStringSubmatch(msg); m != nil {
		tag, shown, goType := m[1], m[2], m[3]
		e, ok := p.ix.valueAt(line, tag, shown)
		if !ok {
			p.add(line, "", "must be %s, got %s", describeGoType(goType), describeTag(tag))
			return
		}
		if p.poisoned[e.path] {
			return // readIDs said why
		}
		p.poison(e.path)
		if isIDPath(e.path) {
			if e.val.Style&yaml.TaggedStyle != 0 { // !!str 19
				p.add(line, displayPath(e.path), "%s", idPlainOnly)
				return
			}
			p.add(line, displayPath(e.path), "%s (quoted or not), got %s", idWanted, p.shown(e))
			return
		}
		if e.path == "" {
			p.add(line, "", "the top level must be a mapping with keys such as tasks, got %s", describeTag(tag))
			return
		}
		p.add(line, displayPath(e.path), "must be %s, got %s", describeGoType(goType), p.shown(e))
		return
	}
	if m := reNotFound.FindStringSubmatch(msg); m != nil {
		e, ok := p.ix.keyAt(line, m[1])
		if !ok {
			p.add(line, "", "unknown key")
			return
		}
		parent := parentPath(e.path)
		if sensitive(e.path) && !keyLike(m[1]) {
			p.add(line, displayPath(parent), "unknown key (name not shown: it does not look like a key and may be a secret); valid keys: %s", validKeys(parent))
			return
		}
		p.add(line, displayPath(e.path), "unknown key; valid keys: %s", validKeys(parent))
		return
	}
	if reDupKey.MatchString(msg) {
		return // repeatedKeys reported it, once per key
	}
	p.add(line, "", "%s", scrub(msg))
}

// valueAt finds the node a "cannot unmarshal" message is about: on that
// line, with that tag and, when yaml.v3 showed it (up to 7 characters and
// "..."), that value. Several fields on one line happen in flow style.
func (ix *index) valueAt(line int, tag, shown string) (entry, bool) {
	var cands []entry
	for _, e := range ix.byLine[line] {
		if e.val.Line == line && e.val.ShortTag() == tag {
			cands = append(cands, e)
		}
	}
	for _, e := range cands {
		if prefix, cut := strings.CutSuffix(shown, "..."); cut && strings.HasPrefix(e.val.Value, prefix) || e.val.Value == shown {
			return e, true
		}
	}
	if len(cands) > 0 {
		return cands[0], true
	}
	return entry{}, false
}

// keyAt finds the key a message is about. For a repeated key on one line
// (flow style) the last one is the repetition.
func (ix *index) keyAt(line int, name string) (entry, bool) {
	var found entry
	ok := false
	for _, e := range ix.byLine[line] {
		if e.key != nil && e.key.Line == line && e.key.Value == name {
			found, ok = e, true
		}
	}
	return found, ok
}

// sensitive paths are under credentials, where a mistyped line can be a
// secret pasted as a key or a value.
func sensitive(path string) bool {
	_, rest := credentialsSection(path)
	return rest != "-"
}

// credentialsSection splits a path under a credentials block (the top
// level's or an account's) into the block and what follows it ("" for the
// block itself); rest is "-" when path is not under one.
func credentialsSection(path string) (section, rest string) {
	section = "credentials"
	if strings.HasPrefix(path, "accounts[") {
		i := strings.Index(path, "].credentials")
		if i < 0 {
			return "", "-"
		}
		section, path = path[:i+len("].credentials")], "credentials"+path[i+len("].credentials"):]
	}
	switch {
	case path == "credentials":
		return section, ""
	case strings.HasPrefix(path, "credentials."):
		return section, strings.TrimPrefix(path, "credentials.")
	}
	return "", "-"
}

var reKeyLike = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)

// keyLike: lower-case words with underscores look like a mistyped key;
// anything else under credentials may be a secret pasted in the wrong place.
func keyLike(s string) bool { return reKeyLike.MatchString(s) }

// displayPath keeps unknown names under credentials out of messages.
func displayPath(path string) string {
	if section, rest := credentialsSection(path); rest != "" && rest != "-" && !keyLike(rest) {
		return section
	}
	return path
}

// scrub removes values that yaml.v3 quotes in backticks.
func scrub(msg string) string { return reBackquoted.ReplaceAllString(msg, "(value not shown)") }

// shown is how a wrong value appears in a message: a short scalar as
// written (quoted if it is a string), anything else or anything under
// credentials by its kind only.
func (p *parser) shown(e entry) string {
	v := e.val.Value
	if e.val.Kind != yaml.ScalarNode || sensitive(e.path) || utf8.RuneCountInString(v) > 40 {
		return describeTag(e.val.ShortTag())
	}
	if e.val.ShortTag() == "!!str" {
		return strconv.Quote(v)
	}
	return v
}

// checkIntegers catches what yaml.v3 lets through: it truncates a float
// into an integer field, so "task_id: 19.5" would quietly become task 19.
func (p *parser) checkIntegers() {
	for _, e := range p.ix.list {
		if e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!float" || p.isPoisoned(e.path) {
			continue
		}
		if t := goTypeAt(e.path); t != nil && t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64 {
			p.poison(e.path)
			if isIDPath(e.path) {
				p.add(e.val.Line, displayPath(e.path), "%s (quoted or not), got %s", idWanted, p.shown(e))
				continue
			}
			p.add(e.val.Line, displayPath(e.path), "must be an integer, got %s", p.shown(e))
		}
	}
}

var rePathPart = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// goTypeAt resolves a path such as "tasks[1].task_id" against the Config
// type, following the yaml tags; nil when nothing is there.
func goTypeAt(path string) reflect.Type {
	t := reflect.TypeFor[Config]()
	for _, part := range rePathPart.FindAllString(path, -1) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if strings.HasPrefix(part, "[") {
			if t.Kind() != reflect.Slice {
				return nil
			}
			t = t.Elem()
			continue
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		var next reflect.Type
		for f := range t.Fields() {
			if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == part {
				next = f.Type
			}
		}
		if next == nil {
			return nil
		}
		t = next
	}
	return t
}

func describeGoType(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "time.Duration":
		return "a duration with a unit, such as 30s, 5m or 1h30m"
	case t == "string" || t == "config.Secret":
		return "a string"
	case t == "float64" || t == "float32":
		return "a number"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "an integer"
	case t == "bool":
		return "true or false"
	default:
		return "a mapping"
	}
}

func describeTag(tag string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	default:
		return "a value tagged " + tag
	}
}

// validKeys lists the keys of the section at path, from the yaml tags, so
// that the list cannot drift from the types.
// yamlKeys lists the keys of a struct type, following inlined structs.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" && strings.Contains(opts, "inline") {
			keys = append(keys, yamlKeys(f.Type)...)
		} else if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

func validKeys(path string) string {
	var t reflect.Type
	switch {
	case path == "":
		t = reflect.TypeFor[Config]()
	case path == "credentials":
		t = reflect.TypeFor[Credentials]()
	case path == "api":
		t = reflect.TypeFor[APIConfig]()
	case path == "metrics":
		t = reflect.TypeFor[Metrics]()
	case strings.HasPrefix(path, "discovery["):
		t = reflect.TypeFor[Discovery]()
	case strings.HasPrefix(path, "tasks["):
		t = reflect.TypeFor[Task]()
	case strings.HasPrefix(path, "call_records["):
		t = reflect.TypeFor[CallRecords]()
	case strings.HasPrefix(path, "enterprises[") && strings.HasSuffix(path, "].inbound_calls"):
		t = reflect.TypeFor[InboundCalls]()
	case strings.HasPrefix(path, "enterprises[") && strings.HasSuffix(path, "].queues"):
		t = reflect.TypeFor[Queues]()
	case strings.HasPrefix(path, "enterprises["):
		t = reflect.TypeFor[Enterprise]()
	case strings.HasPrefix(path, "accounts[") && strings.HasSuffix(path, "].credentials"):
		t = reflect.TypeFor[AccountCredentials]()
	case strings.HasPrefix(path, "accounts[") && strings.HasSuffix(path, "].api"):
		t = reflect.TypeFor[APIConfig]()
	case strings.HasPrefix(path, "accounts["):
		t = reflect.TypeFor[Account]()
	default:
		return "(none: this is not a mapping)"
	}
	return strings.Join(yamlKeys(t), ", ")
}

// isIDPath tells whether path is an id: an int64 field (the project's type
// for ids, as counts are int and durations their own type), or an integer
// field whose key ends in _id or _ids, so that every id (enterprise_id,
// task_id, an account's enterprises, any id a later section adds) is read
// and judged the same way without a list to keep.
func isIDPath(path string) bool {
	t := goTypeAt(path)
	if t == nil {
		return false
	}
	if t == reflect.TypeFor[int64]() {
		return true
	}
	name := path[strings.LastIndexByte(path, '.')+1:]
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	return (strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_ids")) && t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64
}

var reDecimalID = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// idWanted is the start of most messages about an id that is not one.
const idWanted = "must be an id: decimal digits, such as 19"

// idPlainOnly is for the quoted or tagged forms that readIDs does not read.
const idPlainOnly = `must be an id: write it as digits only, such as 19 or "19" (escapes, anchors and tags are not read as an id)`

// readIDs makes a quoted id a number. Tools that write YAML for ids above
// 2^53 (Helm, anything going through a JSON number) must quote them or the
// id changes on the way, so "9007199254740993" has to mean that id, exactly.
// yaml.v3 decodes a quoted scalar only into a string and KnownFields works
// only on a Decoder reading bytes, so the quotes are blanked in a copy of
// the bytes ("19" becomes 19 and two spaces: lines and columns stay where
// they were, for every later message) and the node is retagged for the
// validation that re-decodes nodes. Only a quoted run of plain digits is
// read; the other ways YAML can spell an integer (017 is 15, 0x13 and 1_9
// are 19) are refused in an id, where they can only be a mistake.
func (p *parser) readIDs(data []byte) []byte {
	var lineStart []int
	out := data
	for _, e := range p.ix.list {
		n := e.val
		if n.Kind != yaml.ScalarNode || !isIDPath(e.path) {
			continue
		}
		v := n.Value
		quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
		switch {
		case n.ShortTag() == "!!int" && !quoted:
			if reDecimalID.MatchString(v) {
				continue
			}
			p.poison(e.path)
			read, _ := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 0, 64) // as yaml.v3 reads it
			if strings.HasPrefix(strings.TrimLeft(v, "+-"), "0") && strings.Trim(v, "+-0123456789") == "" {
				p.add(n.Line, displayPath(e.path), "must be an id: decimal digits without a leading 0, such as 19 (%s would be read as %d), got %s", v, read, v)
			} else {
				p.add(n.Line, displayPath(e.path), "%s (%s would be read as %d), got %s", idWanted, v, read, v)
			}
		case n.ShortTag() == "!!str" && quoted && n.Style&yaml.TaggedStyle == 0:
			if v == "" || strings.Trim(v, "0123456789") != "" {
				continue // the typed decode reports it (typeError)
			}
			if len(v) > 1 && v[0] == '0' {
				p.poison(e.path)
				p.add(n.Line, displayPath(e.path), "must be an id: decimal digits without a leading 0, such as 19, got %q", v)
				continue
			}
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				p.poison(e.path)
				p.add(n.Line, displayPath(e.path), "%s, at most %d, got %q", idWanted, int64(math.MaxInt64), v)
				continue
			}
			if lineStart == nil {
				lineStart = lineStarts(data)
			}
			off, ok := scalarOffset(data, lineStart, n.Line, n.Column)
			q := len(v) + 1
			if !ok || off+q >= len(data) || data[off] != data[off+q] || (data[off] != '"' && data[off] != '\'') || string(data[off+1:off+q]) != v {
				p.poison(e.path)
				p.add(n.Line, displayPath(e.path), "%s", idPlainOnly)
				continue
			}
			if &out[0] == &data[0] {
				out = bytes.Clone(data)
			}
			copy(out[off:], v)
			out[off+q-1], out[off+q] = ' ', ' '
			n.Tag, n.Style = "!!int", 0
		}
	}
	return out
}

// lineStarts is the byte offset of each line's first byte.
func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// scalarOffset turns yaml.v3's 1-based line and column, which counts
// characters, into a byte offset.
func scalarOffset(data []byte, lineStart []int, line, column int) (int, bool) {
	if line < 1 || line > len(lineStart) || column < 1 {
		return 0, false
	}
	off := lineStart[line-1]
	for c := 1; c < column; c++ {
		if off >= len(data) || data[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	return off, true
}

// maxRepeatPairs is how many pairs of equal keys the typed decode may meet.
// yaml.v3 writes a message for every pair (n²/2 of them for a key written
// n times: 8 million strings, 55 s and 3.8 GB for 4,000 repeats), so past a
// few the rest of the file waits until the repetition is fixed.
const maxRepeatPairs = 100

// repeatedKeys reports each key repeated within a mapping once, at its
// second occurrence, with how many times it is written, in time linear in
// the file; it returns the number of equal pairs yaml.v3 would report. A
// mapping that repeats a key is poisoned: yaml.v3 gives up on all of it.
func (p *parser) repeatedKeys() int {
	pairs := 0
	type seen struct {
		first, second *yaml.Node
		n             int
	}
	for _, e := range p.ix.list {
		m := e.val
		if m.Kind != yaml.MappingNode || len(m.Content) < 4 {
			continue
		}
		keys := make(map[string]*seen, len(m.Content)/2)
		var order []*seen
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if k.Kind != yaml.ScalarNode {
				continue // yaml.v3 compares kind and value; only scalars are ever equal here
			}
			s := keys[k.Value]
			switch {
			case s == nil:
				keys[k.Value] = &seen{first: k, n: 1}
			default:
				if s.n == 1 {
					s.second = k
					order = append(order, s)
				}
				pairs += s.n
				s.n++
			}
		}
		if len(order) == 0 {
			continue
		}
		p.poison(e.path)
		for _, s := range order {
			name := s.first.Value
			path := joinPath(e.path, name)
			times := ""
			if s.n > 2 {
				times = fmt.Sprintf("; written %d times in this mapping", s.n)
			}
			if sensitive(path) && !keyLike(name) {
				p.add(s.second.Line, displayPath(e.path), "a key is repeated, first defined at line %d%s", s.first.Line, times)
				continue
			}
			p.add(s.second.Line, displayPath(path), "duplicate key, first defined at line %d%s", s.first.Line, times)
		}
	}
	return pairs
}

var (
	reEnvWhole = regexp.MustCompile(`^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$`)
	reEnvPart  = regexp.MustCompile(`\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)`)
)

// credentialKeys are the keys that hold a credential itself, wherever a
// credentials block is (the top level's, an account's).
var credentialKeys = map[string]bool{"access_key_id": true, "access_key_secret": true, "security_token": true}

// environmentVariables warns about a credential or path written as an
// environment variable (${ALIBABA_CLOUD_ACCESS_KEY_ID}, $HOME/secret). The
// file does not expand variables, by choice: a secret or a path may hold a
// "$" of its own, which expansion would silently change, and the vendor's
// default credential chain already reads the access key from the
// environment (remove the credentials block), the one way it is documented
// everywhere else. Loading such a value is allowed, since it could be
// meant, but it would fail every request as InvalidAccessKeyId.NotFound
// with nothing pointing here. A secret is named only when the whole value
// is a variable's name, which then is no secret.
func (p *parser) environmentVariables() []Problem {
	var found []Problem
	warn := func(path, format string, args ...any) {
		found = append(found, Problem{File: p.file, Line: p.ix.line(path), Field: displayPath(path), Msg: fmt.Sprintf(format, args...)})
	}
	const chain = "to take the access key from the environment, remove the credentials block and the default credential chain reads ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN"
	for _, e := range p.ix.list {
		if e.key == nil || e.val.Kind != yaml.ScalarNode || e.val.ShortTag() != "!!str" {
			continue
		}
		name, v := e.key.Value, e.val.Value
		switch {
		case credentialKeys[name]:
			m := reEnvWhole.FindStringSubmatch(v)
			if m == nil {
				continue
			}
			warn(e.path, "is the text %q, not the value of %s: this file does not expand environment variables; %s", v, m[1]+m[2], chain)
		case strings.HasSuffix(name, "_file"):
			if m := reEnvPart.FindString(v); m != "" {
				warn(e.path, "the path has %q in it, which is read as written: this file does not expand environment variables; write the path out (a relative path is taken from this file's directory)", m)
			}
		}
	}
	return found
}
