package dedup

import (
	"sync"
	"testing"
)

func TestNote(t *testing.T) {
	m := New[string, string](0)
	steps := []struct {
		k, v string
		news bool
	}{
		{"a", "x", true},  // first time
		{"a", "x", false}, // same again
		{"a", "y", true},  // changed
		{"a", "y", false},
		{"b", "y", true}, // another key, same value
		{"a", "x", true}, // back to the first value is a change too
	}
	for i, s := range steps {
		if got := m.Note(s.k, s.v); got != s.news {
			t.Fatalf("step %d: Note(%q, %q) = %v, want %v", i, s.k, s.v, got, s.news)
		}
	}
	if v, ok := m.Forget("a"); !ok || v != "x" {
		t.Fatalf("Forget(a) = %q, %v; want x, true", v, ok)
	}
	if _, ok := m.Forget("a"); ok {
		t.Fatal("Forget of a forgotten key reports it remembered")
	}
	if !m.Note("a", "x") {
		t.Fatal("a key forgotten is not news again")
	}
}

// The memory never holds more than its size, and a key seen before it was
// emptied is news once more, but not twice.
func TestBounded(t *testing.T) {
	const size = 3
	m := New[int, struct{}](size)
	for k := range 3 {
		if !m.Note(k, struct{}{}) {
			t.Fatalf("key %d not news", k)
		}
	}
	if m.Len() != size {
		t.Fatalf("Len = %d after %d keys, want %d", m.Len(), size, size)
	}
	if m.Note(2, struct{}{}) {
		t.Fatal("a remembered key is news while the memory is full")
	}
	if !m.Note(3, struct{}{}) {
		t.Fatal("a fourth key is not news")
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d after the memory was full, want 1 (emptied, then the new key)", m.Len())
	}
	if !m.Note(0, struct{}{}) || m.Note(0, struct{}{}) {
		t.Fatal("a key forgotten by the emptying is not news exactly once")
	}
	for k := range 1000 {
		m.Note(k, struct{}{})
		if m.Len() > size {
			t.Fatalf("Len = %d > %d", m.Len(), size)
		}
	}
	if New[int, int](-1).size != DefaultSize {
		t.Error("size <= 0 does not give DefaultSize")
	}
}

func TestConcurrent(t *testing.T) {
	m := New[int, int](10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	news := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m.Note(1, 1) {
				mu.Lock()
				news++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if news != 1 {
		t.Fatalf("%d goroutines were told the same key was news, want 1", news)
	}
}
