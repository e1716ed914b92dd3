package promqlcheck

import "encoding/json"

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
