// Package task owns the one value every other package passes around: which
// call-centre task (an enterprise id and a task id) is meant. It imports
// nothing, so configuration, discovery, the collector and the service can
// all name a task without importing each other.
package task

import "strconv"

// Task names one call-centre task.
type Task struct {
	EnterpriseID int64
	TaskID       int64
}

// String renders the task as "enterprise_id/task_id", the form logs and
// errors use.
func (t Task) String() string {
	return strconv.FormatInt(t.EnterpriseID, 10) + "/" + strconv.FormatInt(t.TaskID, 10)
}
