package apiclient

import (
	"reflect"
	"sort"
	"strings"
	"sync"
)

// An unreadable value is absent, not an error, so one odd field never fails
// its task; its field type marks it (Int64.bad, Text's textMarks, …), and
// the decode functions walk the result once to turn the marks into
// Unreadable and clear them. The walk follows the response types by
// reflection, so the wire names below come from the same struct
// definitions encoding/json reads and cannot drift from them.

// leaf says which field type a planned field is.
type leaf uint8

const (
	leafNone leaf = iota // a struct or slice of structs: see sub
	leafInt64
	leafFloat64
	leafText
	leafTime
)

var leafTypes = map[reflect.Type]leaf{
	reflect.TypeFor[Int64]():   leafInt64,
	reflect.TypeFor[Float64](): leafFloat64,
	reflect.TypeFor[Text]():    leafText,
	reflect.TypeFor[Time]():    leafTime,
}

// fieldPlan is one field of a response struct: where it is, its wire path
// below Data (rows of a list share their list's path: a path per row would
// be unbounded), and what to do with it.
type fieldPlan struct {
	index int
	path  string
	leaf  leaf
	slice bool        // a slice of the struct described by sub
	sub   []fieldPlan // leafNone only
}

func planOf(t reflect.Type, prefix string) []fieldPlan {
	var plans []fieldPlan
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := fieldPlan{index: i, path: prefix + name}
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			p.slice, ft = true, ft.Elem()
		}
		if l, ok := leafTypes[ft]; ok && !p.slice {
			p.leaf = l
		} else if ft.Kind() == reflect.Struct {
			p.sub = planOf(ft, p.path+".")
		} else {
			continue // plain Go types (string, RawMessage) fail the decode instead
		}
		plans = append(plans, p)
	}
	return plans
}

var (
	monitorPlan = sync.OnceValue(func() []fieldPlan { return planOf(reflect.TypeFor[MonitorData](), "") })
	pagePlan    = sync.OnceValue(func() []fieldPlan { return planOf(reflect.TypeFor[TaskPage](), "") })
)

func leafPaths(plans []fieldPlan, out []string) []string {
	for _, p := range plans {
		if p.leaf != leafNone {
			out = append(out, p.path)
		} else {
			out = leafPaths(p.sub, out)
		}
	}
	return out
}

// MonitorDataFields lists, sorted, every Field an UnreadableField of a
// CloudMonitorTask answer can name: a fixed set, so a consumer may index it.
func MonitorDataFields() []string {
	paths := leafPaths(monitorPlan(), nil)
	sort.Strings(paths)
	return paths
}

// unreadable collects the marks below v (a struct described by plans),
// clears them, and returns them counted per field, sorted by field.
func unreadable(v reflect.Value, plans []fieldPlan) []UnreadableField {
	var out []UnreadableField
	walkMarks(v, plans, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func walkMarks(v reflect.Value, plans []fieldPlan, out *[]UnreadableField) {
	for i := range plans {
		p := &plans[i]
		f := v.Field(p.index)
		var bad jsonKind
		switch p.leaf {
		case leafInt64:
			x := f.Addr().Interface().(*Int64)
			bad, x.bad = x.bad, kindNone
		case leafFloat64:
			x := f.Addr().Interface().(*Float64)
			bad, x.bad = x.bad, kindNone
		case leafTime:
			x := f.Addr().Interface().(*Time)
			bad, x.bad = x.bad, kindNone
		case leafText:
			x := f.Addr().Interface().(*Text)
			if bad = textMark(*x); bad != kindNone {
				*x = ""
			}
		default:
			if p.slice {
				for j := range f.Len() {
					walkMarks(f.Index(j), p.sub, out)
				}
			} else {
				walkMarks(f, p.sub, out)
			}
		}
		if bad != kindNone {
			addUnreadable(out, p.path, bad)
		}
	}
}

func addUnreadable(out *[]UnreadableField, path string, bad jsonKind) {
	for i := range *out {
		if (*out)[i].Field == path {
			(*out)[i].Count++
			return
		}
	}
	*out = append(*out, UnreadableField{Field: path, Count: 1, Got: kindNames[bad]})
}
