// Package mixin renders dyvms_exporter's monitoring mixin (the jsonnet files
// in this directory) with go-jsonnet: the alerting and recording rules as
// Prometheus rule files and the Grafana dashboards as JSON.
//
// rules/dyvms.alerts.yml and rules/dyvms.rules.yml are this package's output
// with the default _config; the test TestRulesAreCurrent fails when they
// differ by a byte, and rewrites them with -update:
//
//	go test ./mixin -run TestRulesAreCurrent -update
//
// jsonnet manifests objects with sorted keys and no comments, so the rule
// files are written here instead: keys in the order people read a rule
// (alert or record, expr, for, labels, annotations), multi-line expressions
// as YAML literal blocks, and the text of each group's and rule's hidden
// `comment::` field as a YAML comment above it. The dashboards are the JSON
// files of grafana/dashboards (copied into dashboards/ so that the mixin
// directory works on its own, e.g. vendored with jsonnet-bundler), adjusted
// by _config.
package mixin

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/google/go-jsonnet"
	"gopkg.in/yaml.v3"
)

//go:embed *.libsonnet lib/*.libsonnet dashboards/*.json
var sources embed.FS

// Output is the rendered mixin.
type Output struct {
	Alerts     []byte            // the prometheusAlerts rule file
	Rules      []byte            // the prometheusRules rule file
	Dashboards map[string][]byte // grafanaDashboards by file name, as JSON
}

// renderSnippet evaluates the mixin, with the caller's jsonnet object added
// to it, into the rule groups, the comments to write above them and the
// dashboards.
const renderSnippet = `
local m = (import 'mixin.libsonnet') + (%s);
local c(o) = if std.objectHasAll(o, 'comment') then o.comment else '';
local doc(x) = {
  value: x,
  comments: { file: c(x), groups: [{ group: c(g), rules: [c(r) for r in g.rules] } for g in x.groups] },
};
{ alerts: doc(m.prometheusAlerts), rules: doc(m.prometheusRules), dashboards: m.grafanaDashboards }
`

// Render evaluates the mixin with overrides (a jsonnet object such as
// `{ _config+:: { showMultiCluster: true } }`, or "" for the defaults).
func Render(overrides string) (*Output, error) {
	if strings.TrimSpace(overrides) == "" {
		overrides = "{}"
	}
	vm := jsonnet.MakeVM()
	imp := &jsonnet.MemoryImporter{Data: map[string]jsonnet.Contents{}}
	err := fs.WalkDir(sources, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := sources.ReadFile(path)
		imp.Data[path] = jsonnet.MakeContents(string(b))
		return err
	})
	if err != nil {
		return nil, err
	}
	vm.Importer(imp)
	out, err := vm.EvaluateAnonymousSnippet("render.jsonnet", fmt.Sprintf(renderSnippet, overrides))
	if err != nil {
		return nil, err
	}
	var v struct {
		Alerts, Rules ruleDoc
		Dashboards    map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return nil, err
	}
	o := &Output{Dashboards: map[string][]byte{}}
	if o.Alerts, err = v.Alerts.yaml(); err != nil {
		return nil, fmt.Errorf("prometheusAlerts: %w", err)
	}
	if o.Rules, err = v.Rules.yaml(); err != nil {
		return nil, fmt.Errorf("prometheusRules: %w", err)
	}
	for name, raw := range v.Dashboards {
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		buf.WriteByte('\n')
		o.Dashboards[name] = buf.Bytes()
	}
	return o, nil
}

// generatedNote heads every rule file the mixin writes.
const generatedNote = "Generated from mixin/ (https://github.com/dyvms-community/dyvms_exporter/tree/main/mixin)\n" +
	"with its default _config: edit the .libsonnet files there, then run\n" +
	"  go test ./mixin -run TestRulesAreCurrent -update\n\n"

type ruleDoc struct {
	Value    any `json:"value"`
	Comments struct {
		File   string `json:"file"`
		Groups []struct {
			Group string   `json:"group"`
			Rules []string `json:"rules"`
		} `json:"groups"`
	} `json:"comments"`
}

// keyOrder is the order of the keys of rule files, as people read them; keys
// not listed follow in alphabetical order.
var keyOrder = []string{
	"groups", "name", "interval", "limit", "rules",
	"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations",
	"severity", "component", "summary", "description", "runbook_url",
}

func (d ruleDoc) yaml() ([]byte, error) {
	root, err := node(d.Value)
	if err != nil {
		return nil, err
	}
	groups := mapValue(root, "groups")
	if groups == nil || len(groups.Content) != len(d.Comments.Groups) {
		return nil, fmt.Errorf("no groups, or their comments do not match them")
	}
	for i, g := range groups.Content {
		gc := d.Comments.Groups[i]
		g.HeadComment = comment(gc.Group)
		if i > 0 {
			g.HeadComment = "\n" + g.HeadComment
		}
		rules := mapValue(g, "rules")
		if rules == nil || len(rules.Content) != len(gc.Rules) {
			return nil, fmt.Errorf("group %d: no rules, or their comments do not match them", i)
		}
		for j, r := range rules.Content {
			r.HeadComment = comment(gc.Rules[j])
			if j > 0 {
				r.HeadComment = "\n" + r.HeadComment
			}
		}
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: comment(generatedNote + d.Comments.File), Content: []*yaml.Node{root}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	// yaml.v3 indents the blank line it writes before a comment; a line of
	// spaces is noise in a diff.
	lines := strings.Split(buf.String(), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			lines[i] = ""
		}
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// comment turns text into YAML comment lines ("" stays "").
func comment(text string) string {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = "#"
		} else {
			lines[i] = "# " + l
		}
	}
	return strings.Join(lines, "\n")
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// node converts a decoded JSON value into a YAML node: mappings in keyOrder,
// strings with a line break as literal blocks.
func node(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		rank := func(k string) int {
			for i, o := range keyOrder {
				if o == k {
					return i
				}
			}
			return len(keyOrder)
		}
		sort.Slice(keys, func(i, j int) bool {
			ri, rj := rank(keys[i]), rank(keys[j])
			if ri != rj {
				return ri < rj
			}
			return keys[i] < keys[j]
		})
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range keys {
			val, err := node(x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, val)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i, e := range x {
			val, err := node(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			n.Content = append(n.Content, val)
		}
		return n, nil
	case string:
		n := &yaml.Node{}
		if err := n.Encode(x); err != nil {
			return nil, err
		}
		if strings.Contains(x, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n, nil
	case nil, bool, float64:
		n := &yaml.Node{}
		return n, n.Encode(x)
	}
	return nil, fmt.Errorf("unexpected %T", v)
}
