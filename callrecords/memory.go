package callrecords

import (
	"hash/maphash"
	"math"
	"slices"
	"strings"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// memory is one enterprise's de-duplication memory. It follows the
// record, not the window: a record is remembered at its own EndTime (its
// place), and the memory keeps one promise, whatever the server sends:
//
//	every counted record whose place is after forgotten is remembered.
//
// So a record that is not remembered and ends after forgotten was never
// counted, and is counted now; one that ends at or before forgotten may
// have been counted and forgotten since, and is not counted (it is
// reported as too_old). Nothing can be counted twice, whichever windows
// return a record and however often.
//
// Identity. A record is remembered under each of its ids (UniqueId, CallId
// and Id, each in its own namespace) and is the same call as a remembered
// one when any of them matches. No precedence can flip between two answers
// that spell a call's ids differently: one answer may leave UniqueId empty
// and the next fill it, and the call is still found by its CallId or Id.
// A value the decoder could not read as text (an object, a boolean) is no
// id. Ids are kept as 64-bit hashes under a per-process random seed: about
// 60 bytes a record instead of the ids' text; two distinct calls collide
// with a probability of about max_tracked × 3 / 2^64, and a server cannot
// aim at a collision without the seed.
type memory struct {
	seed maphash.Seed
	// ids maps a hashed id to its record's place<<32 | seq<<1 | primary.
	// One alias of each record is primary: len counts records by it.
	ids map[uint64]uint64
	n   int    // records remembered
	seq uint64 // the last read order given (31 bits)
	// forgotten: see the promise above. It starts at the start of
	// counting less one second, and moves only up (prune, evict) or down
	// by a clock step (rewind).
	forgotten int64
	// deleted is the latest place ever removed from ids (MinInt64: none);
	// the promise holds with any forgotten at or above it, which is how far
	// a clock step can take forgotten back.
	deleted int64
	// tie: evict removed some but maybe not all records of place
	// forgotten, while the window tie names was still being read. Records
	// of that place read later in the same window (past where the window
	// stood then) were never read, as long as the server pages forward in
	// EndTime order (the cursor notes when it does not): so many calls in
	// one second that they fill max_tracked are all counted. A list that
	// shifts by more than the memory still holds of that second between
	// two pages could have one counted twice. See admit.
	tie      *cursor
	tiePlace int64
}

func newMemory(forgotten int64) *memory {
	return &memory{seed: maphash.MakeSeed(), ids: map[uint64]uint64{}, forgotten: forgotten, deleted: math.MinInt64}
}

// keys are a predictive record's hashed ids; see idKeys.
func (m *memory) keys(r *apiclient.CallRecord) (k [3]uint64, n int) {
	return m.idKeys([3]apiclient.Text{r.UniqueID, r.CallID, r.ID})
}

// idKeys are a record's hashed ids, each field in its own namespace; n of
// them are set, 0 when it has none.
func (m *memory) idKeys(ids [3]apiclient.Text) (k [3]uint64, n int) {
	for i, id := range ids {
		s := strings.TrimSpace(string(id))
		if s == "" {
			continue
		}
		var h maphash.Hash
		h.SetSeed(m.seed)
		h.WriteByte(byte('u' + i)) // each field its own namespace
		h.WriteString(s)
		k[n] = h.Sum64()
		n++
	}
	return k, n
}

// has reports whether a record with keys k is remembered.
func (m *memory) has(k [3]uint64, n int) bool {
	for _, key := range k[:n] {
		if _, ok := m.ids[key]; ok {
			return true
		}
	}
	return false
}

// admit remembers a record that has is false for, read by window cur and
// placed at end, and reports whether it is new; false: it ended too long
// ago for the memory to tell, and is not counted.
func (m *memory) admit(k [3]uint64, n int, end int64, cur *cursor) bool {
	if end < m.forgotten || end == m.forgotten && (m.tie == nil || m.tie != cur || m.tiePlace != end || cur.unordered) {
		return false
	}
	if m.seq == 1<<31-1 {
		m.renumber()
	}
	m.seq++
	for i, key := range k[:n] {
		v := uint64(uint32(end))<<32 | m.seq<<1
		if i == 0 {
			v |= 1
		}
		m.ids[key] = v
	}
	m.n++
	return true
}

func place(v uint64) int64 { return int64(v >> 32) }

// prune forgets the records placed before below: no window reaches them.
func (m *memory) prune(below int64) {
	if below-1 <= m.forgotten {
		return
	}
	for k, v := range m.ids {
		if p := place(v); p < below {
			delete(m.ids, k)
			if v&1 == 1 {
				m.n--
			}
			m.deleted = max(m.deleted, p)
			m.forgotten = max(m.forgotten, p)
		}
	}
	if m.forgotten > m.tiePlace {
		m.tie = nil
	}
}

// evict brings the memory back to at most limit records, forgetting the
// oldest first (place, then read order), a quarter of limit more than
// needed so that the sort does not run on every page. It returns how many
// were forgotten. cur is the window being read.
func (m *memory) evict(limit int, cur *cursor) int {
	over := m.n - limit
	if over <= 0 {
		return 0
	}
	order := make([]uint64, 0, m.n)
	for _, v := range m.ids {
		if v&1 == 1 {
			order = append(order, v)
		}
	}
	slices.Sort(order) // place, then seq
	cut := order[min(len(order)-1, over-1+limit/4)]
	n := 0
	for k, v := range m.ids {
		if v <= cut|1 {
			delete(m.ids, k)
			if v&1 == 1 {
				n++
			}
		}
	}
	m.n -= n
	p := place(cut)
	m.deleted = max(m.deleted, p)
	if p >= m.forgotten {
		m.tie, m.tiePlace = cur, p
	}
	m.forgotten = max(m.forgotten, p)
	return n
}

// rewind lowers forgotten as far as the promise allows, to to at the
// lowest: after the clock stepped back, the windows read before are
// read again, and what the memory still holds keeps them from counting
// twice.
func (m *memory) rewind(to int64) {
	if f := max(to, m.deleted); f < m.forgotten {
		m.forgotten = f
		m.tie = nil
	}
}

// renumber gives the records read orders from 1 again, in order, when
// the 31 bits of seq run out.
func (m *memory) renumber() {
	order := make([]uint64, 0, m.n)
	for _, v := range m.ids {
		if v&1 == 1 {
			order = append(order, v)
		}
	}
	slices.Sort(order)
	newSeq := make(map[uint64]uint64, len(order)) // old place|seq -> new seq
	for i, v := range order {
		newSeq[v&^1] = uint64(i + 1)
	}
	for k, v := range m.ids {
		m.ids[k] = v&^(1<<32-1) | newSeq[v&^1]<<1 | v&1
	}
	m.seq = uint64(len(order))
}
