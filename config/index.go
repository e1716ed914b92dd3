package config

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// entry is one node of the file with the path a user would write for it.
type entry struct {
	path string
	key  *yaml.Node // nil for the root and for sequence items
	val  *yaml.Node
}

// index maps fields to positions. yaml.v3 reports type errors by line only,
// and validation works on decoded values that have no position; the index
// connects both to "tasks[1].task_id" and its line.
type index struct {
	list   []entry
	byPath map[string]entry
	byLine map[int][]entry // by the line of the value or the key
}

func newIndex(root *yaml.Node) *index {
	ix := &index{byPath: map[string]entry{}, byLine: map[int][]entry{}}
	if root != nil {
		ix.walk("", nil, root)
	}
	return ix
}

// walk does not follow aliases: an alias's content is reported at its
// anchor, which is where the text to fix is.
func (ix *index) walk(path string, key, n *yaml.Node) {
	e := entry{path: path, key: key, val: n}
	ix.list = append(ix.list, e)
	ix.byLine[n.Line] = append(ix.byLine[n.Line], e)
	if key != nil && key.Line != n.Line {
		ix.byLine[key.Line] = append(ix.byLine[key.Line], e)
	}
	if _, seen := ix.byPath[path]; !seen { // a repeated key: keep the first
		ix.byPath[path] = e
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			ix.walk(joinPath(path, n.Content[i].Value), n.Content[i], n.Content[i+1])
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			ix.walk(fmt.Sprintf("%s[%d]", path, i), nil, item)
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// parentPath strips the last ".key" or "[i]".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// node is the value at path, or nil when the file does not have it.
func (ix *index) node(path string) *yaml.Node {
	if e, ok := ix.byPath[path]; ok {
		return e.val
	}
	return nil
}

// has tells whether the file sets path to something other than null.
func (ix *index) has(path string) bool {
	n := ix.node(path)
	return n != nil && !isNull(n)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// line is where path is written, or else where its nearest written
// ancestor is: a missing field is reported at the mapping that lacks it.
func (ix *index) line(path string) int {
	for {
		if e, ok := ix.byPath[path]; ok {
			if e.key != nil && isNull(e.val) {
				return e.key.Line // "task_id:" with nothing after it
			}
			return e.val.Line
		}
		if path == "" {
			return 1
		}
		path = parentPath(path)
	}
}

// items is the sequence at path, or nil when it is absent or not a list.
func (ix *index) items(path string) []*yaml.Node {
	if n := ix.node(path); n != nil && n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return nil
}
