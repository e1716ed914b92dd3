package promqlcheck

import (
	"encoding/json"
	"regexp"
	"strings"
)

// VariableQuery returns a Grafana query variable's PromQL (label_values(...)
// or a plain query). Grafana stores it either as a string or, since the
// Prometheus query editor, as an object with a "query" field; both the
// dashboard lint and the end-to-end run read variables, so both forms are
// handled here once.
func VariableQuery(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.Query
}

var (
	labelValuesRE = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)
	queryResultRE = regexp.MustCompile(`^query_result\((.+)\)$`)
)

// VariablePromQL returns the PromQL that Grafana sends to Prometheus to fill
// a query variable of one of the two forms the dashboards use:
// label_values(selector, label) needs the selector's series (as
// count by (label) (selector), one series per value), query_result(expr)
// runs expr itself. inner is the selector or expr as written, for checks of
// its matchers. ok is false for any other form.
func VariablePromQL(query string) (promql, inner string, ok bool) {
	query = strings.TrimSpace(query)
	if m := labelValuesRE.FindStringSubmatch(query); m != nil {
		return "count by (" + m[2] + ") (" + m[1] + ")", m[1], true
	}
	if m := queryResultRE.FindStringSubmatch(query); m != nil {
		return m[1], m[1], true
	}
	return "", "", false
}
