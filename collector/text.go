package collector

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// familyOrder is the index of every family sorted by name, the order in
// which Prometheus' own encoder writes families.
var familyOrder = func() []int {
	o := make([]int, len(families))
	for i := range o {
		o[i] = i
	}
	sort.Slice(o, func(a, b int) bool { return families[o[a]].name < families[o[b]].name })
	return o
}()

// WriteText runs the scrape and writes its metrics in the Prometheus text
// format (version 0.0.4) straight from the compact per-task samples.
//
// This is the /metrics hot path. Building a const metric per sample and
// letting a registry gather, sort and hash them costs ~250 bytes and ~20
// allocations a sample: for 1,000 tasks × 50 agents that is about a
// gigabyte at peak. Writing the text directly keeps only the 24-byte
// samples; the Collector (Collect) stays for /probe-style registries and
// tests, and a test checks that both produce the same series.
func (e *Exporter) WriteText(w io.Writer) error {
	return writeText(w, e.run(), e.sel)
}

// writers recycles the output buffers: one 64 KiB buffer per scrape is
// cheap, one per /probe of a small task is most of its allocation. line
// holds one task's lines of one family (40 KiB for the state set of 50
// agents), grown once rather than on every scrape.
var writers = sync.Pool{New: func() any { return &textWriter{bw: bufio.NewWriterSize(nil, 64<<10)} }}

type textWriter struct {
	bw   *bufio.Writer
	line []byte
}

func writeText(w io.Writer, results []*taskResult, sel *selection) error {
	tw := writers.Get().(*textWriter)
	bw := tw.bw
	bw.Reset(w)
	defer func() { bw.Reset(nil); writers.Put(tw) }()
	for _, f := range familyOrder {
		if sel.skip[f] {
			continue
		}
		header := false
		for _, r := range results {
			tw.line = r.appendFamily(tw.line[:0], f)
			if len(tw.line) == 0 {
				continue
			}
			if !header {
				n := len(tw.line)
				tw.line = familyHeader(tw.line, f, sel)
				if _, err := bw.Write(tw.line[n:]); err != nil {
					return err
				}
				tw.line = tw.line[:n]
				header = true
			}
			if _, err := bw.Write(tw.line); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// familyHeader appends the HELP and TYPE lines of family f.
func familyHeader(b []byte, f int, sel *selection) []byte {
	b = append(b, "# HELP "...)
	b = append(b, families[f].name...)
	b = append(b, ' ')
	b = appendEscaped(b, sel.help(f), false)
	b = append(b, "\n# TYPE "...)
	b = append(b, families[f].name...)
	return append(b, " gauge\n"...)
}

// appendFamily appends the task's lines of family f (not excluded).
func (r *taskResult) appendFamily(b []byte, f int) []byte {
	fam := &families[f]
	switch f {
	case famScrapeSuccess:
		return r.appendSample(b, fam, nil, boolFloat(r.ok))
	case famScrapeDuration:
		return r.appendSample(b, fam, nil, r.duration)
	}
	ss := r.family(f)
	for i := range ss {
		b = r.appendSample(b, fam, &ss[i], ss[i].value)
	}
	return b
}

// render appends the task's lines of every family to b, by position p
// in familyOrder: b[off[p]:off[p+1]]. off must have len(familyOrder)+1
// entries.
func (r *taskResult) render(b []byte, off []int32, sel *selection) []byte {
	for p, f := range familyOrder {
		off[p] = int32(len(b))
		if !sel.skip[f] {
			b = r.appendFamily(b, f)
		}
	}
	off[len(familyOrder)] = int32(len(b))
	return b
}

// appendSample appends `name{labels} value\n` from the pre-rendered labels.
func (r *taskResult) appendSample(b []byte, fam *family, s *sample, v float64) []byte {
	b = append(b, fam.name...)
	b = append(b, '{')
	switch fam.kind {
	case kindTask:
		b = append(b, r.text...)
	case kindTaskInfo:
		b = append(b, r.text...)
		b = append(b, r.infoText...)
	case kindTaskState, kindTaskField:
		b = append(b, r.text...)
		b = append(b, fam.stateText[s.state]...)
	case kindAgent:
		b = append(b, s.agent.text...)
	case kindAgentInfo:
		b = append(b, s.agent.text...)
		b = append(b, s.agent.nameText...)
	case kindAgentState:
		b = append(b, s.agent.text...)
		b = append(b, fam.stateText[s.state]...)
	}
	b = append(b, "} "...)
	b = appendFloat(b, v)
	return append(b, '\n')
}

// appendLabel appends sep (none when 0), name="escaped value".
func appendLabel(b []byte, sep byte, name, value string) []byte {
	if sep != 0 {
		b = append(b, sep)
	}
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendEscaped escapes as the text format requires: backslash and newline
// everywhere, the double quote in label values. Invalid UTF-8 (a garbled
// agent name) becomes U+FFFD rather than breaking the whole exposition.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !strings.ContainsAny(s, "\\\n\"") && utf8.ValidString(s) {
		return append(b, s...)
	}
	for _, c := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, string(c)...)
		}
	}
	return b
}

func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
