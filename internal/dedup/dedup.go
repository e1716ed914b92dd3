// Package dedup owns the one way the exporter keeps a log line from
// repeating: a bounded memory of what was last said per key, so that a
// condition that persists (a failing task, an unreadable field, an unknown
// error code) is logged when it starts or changes, not on every scrape,
// and a stream of new keys cannot grow the memory past its bound.
package dedup

import "sync"

// DefaultSize bounds a Memory made with size <= 0. Keys are small (a task,
// a field path, a code): 4,096 of them cost well under a MiB.
const DefaultSize = 4096

// Memory remembers, per key, the last value noted. When it holds size keys
// and a new one comes, it forgets them all: after that many other keys, a
// key may be reported as new once more. It never holds more than size.
// A Memory is safe for concurrent use.
type Memory[K, V comparable] struct {
	mu   sync.Mutex
	size int
	last map[K]V
}

// New returns a Memory of at most size keys (DefaultSize when size <= 0).
func New[K, V comparable](size int) *Memory[K, V] {
	if size <= 0 {
		size = DefaultSize
	}
	return &Memory[K, V]{size: size, last: make(map[K]V)}
}

// Note records v for k and reports whether that is news: k was not
// remembered, or was remembered with another value. The caller logs news
// loudly and the rest quietly, or not at all.
func (m *Memory[K, V]) Note(k K, v V) (news bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, ok := m.last[k]
	if ok && prev == v {
		return false
	}
	if !ok && len(m.last) >= m.size {
		clear(m.last)
	}
	m.last[k] = v
	return true
}

// Forget drops k and returns the value it had, if it was remembered: a
// condition that ended (a task that recovered) is news again next time.
func (m *Memory[K, V]) Forget(k K) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.last[k]
	delete(m.last, k)
	return v, ok
}

// Len is how many keys are remembered now.
func (m *Memory[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.last)
}
