package collector

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	// klauspost's flate: half the CPU of compress/flate at BestSpeed on
	// this text, in 480 KiB of state against 1.2 MiB, the same format.
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The gzip answer is built while the tasks are still being fetched, so that
// after the last task answered only its own share is left to render and
// compress (docs/benchmarks.md, "Now: the answer is rendered and compressed
// during the fetch").
//
// The text format wants every family contiguous, and families come one
// after the other; tasks finish in any order. So one assembler goroutine
// takes the tasks in configuration order as they are read, renders each
// into lines grouped by family, feeds each family's lines to that family's
// segment, and drops the task's samples. A task waiting for an earlier one
// holds only its compact samples, as every task did until the end before.
// Every segment is a run of non-final deflate blocks ending on a byte
// boundary (a sync flush), and such runs concatenate into one valid deflate
// stream: the answer is a single gzip member (header, the segments in
// family order, an empty final block, and the CRC-32 of the whole text
// combined from the segments' CRCs). No client has to read multi-member
// gzip, and the text after decompression is byte for byte what writeText
// writes.

// segment is one family's share of the answer. While it is small it is
// kept as text and compressed at the end (one compressor then serves every
// small segment in turn); once it outgrows streamAbove it gets a compressor
// of its own, which it feeds as it grows. So a scrape holds compressors
// only for its big families (the per-agent ones of a large scrape), and the
// text of small ones, a few hundred KiB at most each.
type segment struct {
	fw     *flate.Writer
	text   []byte       // not compressed yet (no fw)
	out    bytes.Buffer // compressed
	crc    uint32       // of the text written
	n      int64        // bytes of text written
	header []byte       // HELP and TYPE, written before the first line
}

// streamAbove is the text a segment buffers before it compresses as it
// grows: 1,000 tasks make 80 KiB of a task-level family (buffered: 2 ms to
// compress at the end for all of them) and 5-40 MiB of an agent family.
const streamAbove = 256 << 10

// Write appends text; it never fails (the output is a bytes.Buffer).
func (s *segment) Write(p []byte) (int, error) {
	s.write(p)
	return len(p), nil
}

func (s *segment) write(p []byte) {
	s.crc = crc32.Update(s.crc, crc32.IEEETable, p)
	s.n += int64(len(p))
	if s.fw != nil {
		s.fw.Write(p) // a bytes.Buffer does not fail
		return
	}
	s.text = append(s.text, p...)
	if len(s.text) >= streamAbove {
		s.compressText()
	}
}

func (s *segment) compressText() {
	s.fw = flateWriters.Get().(*flate.Writer)
	s.fw.Reset(&s.out)
	s.fw.Write(s.text)
	s.text = nil
}

// finish compresses what is left and flushes the segment to a byte
// boundary, and gives its compressor back.
func (s *segment) finish() {
	if s.fw == nil && len(s.text) > 0 {
		s.compressText()
	}
	if s.fw == nil {
		return
	}
	s.fw.Flush()
	s.fw.Reset(io.Discard)
	flateWriters.Put(s.fw)
	s.fw = nil
}

// flateWriters recycles compressors: each holds about half a megabyte of
// tables, and a large answer uses one per big family. BestSpeed: with
// compress/flate, 80 MiB of text (1,000 tasks × 50 agents) took 0.42 s of
// CPU at the default level and 0.15 s at BestSpeed, for 3.1 against 3.7 MiB
// on the wire (docs/benchmarks.md); klauspost's level 1 is faster still.
var flateWriters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
	return fw
}}

// compressedAnswer runs the scrape and returns its gzip answer, head (the
// process-wide families, gathered after the tasks were read) first, as
// byte slices to send in order, and their total length.
func (e *Exporter) compressedAnswer(head func() []*dto.MetricFamily, logger log.Logger) ([][]byte, int) {
	if len(e.tasks) <= 1 {
		return e.compressedAfter(head, logger)
	}
	a := newGzipAnswer(e.newResults(), e.sel)
	finished := make(chan int, len(a.results)) // never blocks a worker
	assembled := make(chan any, 1)
	go func() {
		// A panic here would end the process, not just this answer:
		// hand it to the request's goroutine, whose server recovers it.
		defer func() { assembled <- recover() }()
		a.assemble(finished)
	}()
	e.fetch(a.results, func(i int) { finished <- i })
	if p := <-assembled; p != nil {
		panic(p)
	}
	encodeHead(&a.head, head(), logger) // its own segment, sent first
	return a.parts()
}

// compressedAfter is the answer for a single task (/probe): nothing to
// overlap with, so one compressor after the read, as cheap as it gets
// (a segment per family costs a compressor reset each: 0.4 against 1 ms
// for a 50-agent task).
func (e *Exporter) compressedAfter(head func() []*dto.MetricFamily, logger log.Logger) ([][]byte, int) {
	results := e.run()
	var out bytes.Buffer
	gz := gzipWriters.Get().(*gzip.Writer)
	gz.Reset(&out)
	defer func() { gz.Reset(io.Discard); gzipWriters.Put(gz) }()
	encodeHead(gz, head(), logger)
	if err := writeText(gz, results, e.sel); err != nil {
		level.Error(logger).Log("msg", "error compressing metrics", "err", err)
	}
	gz.Close()
	return [][]byte{out.Bytes()}, out.Len()
}

var gzipWriters = sync.Pool{New: func() any {
	gz, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return gz
}}

func encodeHead(w io.Writer, head []*dto.MetricFamily, logger log.Logger) {
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range head {
		if err := enc.Encode(mf); err != nil {
			level.Error(logger).Log("msg", "error encoding process metrics", "err", err)
			return
		}
	}
}

// gzipAnswer assembles one scrape's compressed answer.
type gzipAnswer struct {
	results []*taskResult
	sel     *selection
	head    segment   // the process-wide metrics, written first
	segs    []segment // by position in familyOrder
}

func newGzipAnswer(results []*taskResult, sel *selection) *gzipAnswer {
	a := &gzipAnswer{results: results, sel: sel, segs: make([]segment, len(familyOrder))}
	for p, f := range familyOrder {
		if !sel.skip[f] {
			a.segs[p].header = familyHeader(nil, f, sel)
		}
	}
	return a
}

// assemble appends the rendered tasks to the segments in configuration
// order as they arrive from finished, until every task is in.
func (a *gzipAnswer) assemble(finished <-chan int) {
	ready := make([]bool, len(a.results))
	var lines []byte
	off := make([]int32, len(familyOrder)+1)
	next := 0
	for next < len(a.results) {
		ready[<-finished] = true
		for ; next < len(a.results) && ready[next]; next++ {
			r := a.results[next]
			lines = r.render(lines[:0], off, a.sel)
			for p := range a.segs {
				if chunk := lines[off[p]:off[p+1]]; len(chunk) > 0 {
					s := &a.segs[p]
					if s.fw == nil && s.text == nil {
						// Sized from this task's share, rather than grown by
						// doubling: the text is garbage once compressed.
						s.text = make([]byte, 0, len(s.header)+min(len(chunk)*(len(a.results)-next), streamAbove)+len(chunk))
					}
					if s.header != nil {
						s.write(s.header)
						s.header = nil
					}
					s.write(chunk)
				}
			}
			r.samples, r.start = nil, nil
		}
	}
}

// gzipHeader is what compress/gzip writes without name, comment or time.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// finalBlock ends a deflate stream: what a compressor given nothing writes
// on Close.
var finalBlock = func() []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestSpeed)
	fw.Close()
	return b.Bytes()
}()

// parts returns the answer as byte slices to write in order, and their
// total length. Every task must be done.
func (a *gzipAnswer) parts() ([][]byte, int) {
	out := [][]byte{gzipHeader}
	crc, n := uint32(0), int64(0)
	add := func(s *segment) {
		s.finish()
		if s.n == 0 {
			return
		}
		out = append(out, s.out.Bytes())
		crc = crc32Combine(crc, s.crc, s.n)
		n += s.n
	}
	add(&a.head)
	for p := range a.segs {
		add(&a.segs[p])
	}
	trailer := make([]byte, 8)
	binary.LittleEndian.PutUint32(trailer, crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(n))
	out = append(out, finalBlock, trailer)
	total := 0
	for _, b := range out {
		total += len(b)
	}
	return out, total
}

// crc32Combine is the CRC-32 (IEEE) of A followed by B from the CRCs of A
// and B and the length of B: zlib's crc32_combine, which Go's hash/crc32
// does not offer. It applies len2 zero bytes to crc1 by repeated squaring
// of the CRC's shift operator over GF(2).
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1
	}
	var even, odd [32]uint32
	odd[0] = crc32.IEEE // the operator for one zero bit
	row := uint32(1)
	for i := 1; i < 32; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		gf2Square(&even, &odd) // the first pass: one zero byte
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for i := range square {
		square[i] = gf2Times(mat, mat[i])
	}
}
