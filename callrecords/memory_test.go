package callrecords

import (
	"fmt"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

func memRec(u, c, id string) *apiclient.CallRecord {
	return &apiclient.CallRecord{UniqueID: apiclient.Text(u), CallID: apiclient.Text(c), ID: apiclient.Text(id)}
}

// The memory's promise through admit, prune, evict, rewind and renumber:
// every admitted record placed after forgotten is found again by any of
// its ids, and nothing at or before forgotten is admitted.
func TestMemoryKeepsItsPromise(t *testing.T) {
	m := newMemory(99)
	cur := &cursor{}
	admit := func(r *apiclient.CallRecord, end int64) string {
		k, n := m.keys(r)
		switch {
		case n == 0:
			return "no id"
		case m.has(k, n):
			return "dup"
		case !m.admit(k, n, end, cur):
			return "too old"
		}
		return "new"
	}
	for _, c := range []struct {
		r    *apiclient.CallRecord
		end  int64
		want string
	}{
		{memRec("u1", "c1", "1"), 100, "new"},
		{memRec("", "c1", ""), 100, "dup"},           // UniqueId gone: found by CallId
		{memRec(" u1 ", "", "9"), 150, "dup"},        // spaces, another place: the same call
		{memRec("", "", "1"), 100, "dup"},            // by Id alone
		{memRec("c1", "", ""), 100, "new"},           // a UniqueId equal to another's CallId is not that id
		{memRec("", "", ""), 100, "no id"},           //
		{memRec("u2", "c2", "2"), 99, "too old"},     // at forgotten
		{memRec("u3", "c3", "3"), 5000, "new"},       //
		{memRec("u4", "", "4"), 200, "new"},          //
		{memRec("u5", "c5", "5"), 300, "new"},        //
		{memRec("u6", "c6", "6"), 300, "new"},        //
		{memRec("u7", "c7", "7"), 300, "new"},        //
		{memRec("u8", "c8", "8"), 300, "new"},        //
		{memRec("x", "y", "z"), 101, "new"},          //
		{memRec("u9", "c9", "19"), 100, "new"},       //
		{memRec("u10", "c10", "10"), 100, "new"},     //
		{memRec("u11", "c11", "11"), 1 << 31, "new"}, // a place far ahead still fits
	} {
		if got := admit(c.r, c.end); got != c.want {
			t.Fatalf("%+v at %d: %s, want %s", *c.r, c.end, got, c.want)
		}
	}
	if m.n != 12 {
		t.Fatalf("%d records, want 12", m.n)
	}
	m.prune(150) // forgets places < 150
	if m.forgotten != 101 || admit(memRec("x", "", ""), 101) != "too old" || admit(memRec("u4", "", ""), 200) != "dup" {
		t.Fatalf("after prune: forgotten %d", m.forgotten)
	}
	// Evicting to max 4 from 7 records (places 200, 300×4, 5000, 2^31) with a
	// quarter of slack forgets 3+1: 200 and the first three of place 300 go, the
	// others of that second stay, and a record of that second is new only
	// in the window being read.
	if n := m.evict(4, cur); n != 4 || m.n != 3 || m.forgotten != 300 {
		t.Fatalf("evicted %d, %d left, forgotten %d", n, m.n, m.forgotten)
	}
	if admit(memRec("u8", "", ""), 300) != "dup" || admit(memRec("u5", "", ""), 300) != "new" {
		t.Fatal("the tie of the window being read: u8 is remembered, u5 is new in this window")
	}
	cur = &cursor{} // another window
	if admit(memRec("u12", "", ""), 300) != "too old" {
		t.Fatal("a record of the cut second in another window was admitted")
	}
	// Rewind: no further back than the latest place deleted.
	m.rewind(0)
	if m.forgotten != 300 {
		t.Fatalf("rewound to %d past a deleted place", m.forgotten)
	}
	// Renumbering keeps the order and every alias.
	m.seq = 1<<31 - 1
	for i := range 3 {
		if admit(memRec(fmt.Sprint("r", i), fmt.Sprint("rc", i), ""), 400) != "new" {
			t.Fatal("admit after renumber")
		}
	}
	for _, id := range []string{"u3", "u11", "r0", "rc2"} {
		r := memRec(id, "", "")
		if id[:2] == "rc" {
			r = memRec("", id, "")
		}
		if k, n := m.keys(r); !m.has(k, n) {
			t.Fatalf("%s lost by renumbering", id)
		}
	}
	if m.seq > 10 {
		t.Fatalf("seq %d after renumbering", m.seq)
	}
}
