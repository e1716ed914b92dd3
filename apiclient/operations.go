package apiclient

// The dyvmsapi operations the exporter calls, by their Action names.
const (
	OpCloudMonitorTask            = "CloudMonitorTask"
	OpCloudQueryTask              = "CloudQueryTask"
	OpCloudQueryPredictiveCallCdr = "CloudQueryPredictiveCallCdr"
	OpCloudListOnlineAgent        = "CloudListOnlineAgent"
	OpCloudListQueue              = "CloudListQueue"
	OpCloudQueryIbCdr             = "CloudQueryIbCdr"
)

// Operations is every operation the client calls. It is the one list the
// operation label of the exporter's own metrics takes its values from
// (package apimetrics), so that an operation added here is counted under
// its own name everywhere at once.
func Operations() []string {
	return []string{OpCloudMonitorTask, OpCloudQueryTask, OpCloudQueryPredictiveCallCdr,
		OpCloudListOnlineAgent, OpCloudListQueue, OpCloudQueryIbCdr}
}
