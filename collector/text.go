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
// cheap, one per /probe of a small task is most of its allocation.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

func writeText(w io.Writer, results []*taskResult, sel *selection) error {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() { bw.Reset(nil); writers.Put(bw) }()
	var line []byte
	for _, f := range familyOrder {
		fam := &families[f]
		if sel.skip[f] {
			continue
		}
		header := false
		for _, r := range results {
			var n int
			switch f {
			case famScrapeSuccess, famScrapeDuration:
				n = 1
			default:
				n = len(r.family(f))
			}
			if n == 0 {
				continue
			}
			if !header {
				line = append(line[:0], "# HELP "...)
				line = append(line, fam.name...)
				line = append(line, ' ')
				line = appendEscaped(line, sel.help(f), false)
				line = append(line, "\n# TYPE "...)
				line = append(line, fam.name...)
				line = append(line, " gauge\n"...)
				if _, err := bw.Write(line); err != nil {
					return err
				}
				header = true
			}
			switch f {
			case famScrapeSuccess:
				line = r.appendSample(line[:0], fam, nil, boolFloat(r.ok))
				if _, err := bw.Write(line); err != nil {
					return err
				}
			case famScrapeDuration:
				line = r.appendSample(line[:0], fam, nil, r.duration)
				if _, err := bw.Write(line); err != nil {
					return err
				}
			default:
				ss := r.family(f)
				for i := range ss {
					line = r.appendSample(line[:0], fam, &ss[i], ss[i].value)
					if _, err := bw.Write(line); err != nil {
						return err
					}
				}
			}
		}
	}
	return bw.Flush()
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
	case kindTaskState:
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
