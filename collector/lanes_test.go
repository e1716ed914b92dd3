package collector

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// Tasks of a lane whose calls hang until the deadline (an account being
// throttled) take no worker from another lane: the other lane's tasks are
// all read. Without lanes, the same two workers are both stuck on the
// slow enterprise and the fast one's tasks miss the deadline.
func TestLanesIsolateSlowTasks(t *testing.T) {
	api := &fakeAPI{answers: map[Task]*apiclient.CloudMonitorTaskResponse{}, block: map[Task]bool{}}
	var tasks []Task
	for i := int64(1); i <= 4; i++ {
		tasks = append(tasks, Task{EnterpriseID: 1, TaskID: i}, Task{EnterpriseID: 2, TaskID: i})
		api.block[Task{EnterpriseID: 1, TaskID: i}] = true
		api.answers[Task{EnterpriseID: 2, TaskID: i}] = smallAnswer()
	}
	lanes := &Lanes{
		Of:          func(t Task) string { return map[int64]string{1: "slow", 2: "fast"}[t.EnterpriseID] },
		Concurrency: map[string]int{"slow": 2, "fast": 2},
	}
	read := func(o Options) (fast, slow int) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		mfs := gather(t, New(ctx, api, tasks, o))
		for i := int64(1); i <= 4; i++ {
			fast += int(seriesOfTask(mfs, "2", strconv.FormatInt(i, 10))["dyvms_task_scrape_success{}"])
			slow += int(seriesOfTask(mfs, "1", strconv.FormatInt(i, 10))["dyvms_task_scrape_success{}"])
		}
		return fast, slow
	}
	if fast, slow := read(Options{Concurrency: 4, Lanes: lanes}); fast != 4 || slow != 0 {
		t.Errorf("with lanes: %d fast and %d slow tasks read, want 4 and 0", fast, slow)
	}
	if m := api.maxSeen.Load(); m > 4 {
		t.Errorf("%d calls at once, want at most the lanes' 2+2", m)
	}
	if fast, _ := read(Options{Concurrency: 2}); fast == 4 {
		t.Errorf("without lanes every fast task was read; the test does not show what lanes fix")
	}
}
