package collector

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// agentLabels are one agent row's label values, shared by its samples,
// with their text-format rendering made once rather than per sample.
type agentLabels struct {
	cno, removed, name string
	text               string // `enterprise_id="…",task_id="…",cno="…",removed="…"`
	nameText           string // `,agent_name="…"`
}

// sample is one value of one family: 24 bytes, so a scrape of 1,000 tasks
// × 50 agents (a million samples) holds about 24 MiB of them instead of the
// ~250 MiB that a million const metrics cost.
type sample struct {
	value float64
	agent *agentLabels // agent families only
	fam   uint8
	state uint8 // index into the family's states, state sets only
}

// taskResult is what one task contributed to a scrape.
type taskResult struct {
	task       Task
	ent, id    string // label values
	name, desc string // dyvms_task_info labels
	text       string // `enterprise_id="…",task_id="…"`
	infoText   string // `,task_name="…",status_description="…"`
	ok         bool
	duration   float64
	samples    []sample // grouped by family: samples[start[f]:start[f+1]]
	start      []int32
}

// fill maps one successful answer; the samples end up grouped by family so
// the text writer can emit a family at a time without sorting.
func (r *taskResult) fill(d *apiclient.MonitorData, sel *selection) {
	// About 45 task samples and 18 per agent: one allocation, not a dozen.
	s := make([]sample, 0, 64+18*(len(d.AgentStatisticList)+len(d.RemovedAgentStatisticList)))
	add := func(fam int, v float64, a *agentLabels, state int) {
		if !sel.skip[fam] {
			s = append(s, sample{value: v, agent: a, fam: uint8(fam), state: uint8(state)})
		}
	}

	prop, today := &d.Statistic.CtiLinkTaskProperty, &d.TodayStatistic.CtiLinkTaskProperty
	r.name, r.desc = labelText(prop.Name), labelText(prop.StatusDescription)
	if r.name == "" {
		r.name = labelText(today.Name)
	}
	if r.desc == "" {
		r.desc = labelText(today.StatusDescription)
	}
	r.infoText = string(appendLabel(appendLabel(nil, ',', "task_name", r.name), ',', "status_description", r.desc))
	add(famTaskInfo, 1, nil, 0)

	status := prop.Status
	if !status.Valid {
		status = today.Status
	}
	current := taskStateUnknown
	if status.Valid && status.Value >= 0 && status.Value < taskStateUnknown {
		current = int(status.Value)
	}
	for i := range taskStates {
		add(famTaskStatus, boolFloat(i == current), nil, i)
	}
	startT, endT := prop.StartTime, prop.OverTime
	if !startT.Valid {
		startT = today.StartTime
	}
	if !endT.Valid {
		endT = today.OverTime
	}
	if startT.Valid {
		add(famTaskStart, float64(startT.Time.Unix()), nil, 0)
	}
	if endT.Valid {
		add(famTaskEnd, float64(endT.Time.Unix()), nil, 0)
	}
	for _, u := range d.Unreadable {
		if i, ok := unreadableIndex[u.Field]; ok {
			add(famUnreadable, float64(u.Count), nil, i)
		}
	}
	for f := famFirstTaskGauge; f < len(families); f++ {
		if get := families[f].task; get != nil {
			if v := get(d); v.Valid {
				add(f, v.Value, nil, 0)
			}
		}
	}

	dropped := 0
	for _, list := range [2]struct {
		rows    []apiclient.AgentStatistic
		removed string
	}{{d.AgentStatisticList, "false"}, {d.RemovedAgentStatisticList, "true"}} {
		if len(list.rows) == 0 {
			continue
		}
		var labels []agentLabels
		if sel.agents {
			labels = make([]agentLabels, len(list.rows))
		}
		seen := make(map[apiclient.Text]struct{}, len(list.rows))
		for i := range list.rows {
			a := &list.rows[i]
			if _, dup := seen[a.Cno]; dup {
				dropped++
				continue
			}
			seen[a.Cno] = struct{}{}
			if !sel.agents {
				continue // only the duplicate count, a task-level family, is wanted
			}
			l := &labels[i]
			*l = agentLabels{cno: labelText(a.Cno), removed: list.removed, name: labelText(a.Name)}
			l.text = string(appendLabel(appendLabel(append([]byte(r.text), ','), 0, "cno", l.cno), ',', "removed", l.removed))
			l.nameText = string(appendLabel(nil, ',', "agent_name", l.name))
			add(famAgentInfo, 1, l, 0)
			state := agentState(a.AgentStatus)
			if sel.current {
				add(famAgentStatus, 1, l, int(state))
			} else {
				for k := range agentStates {
					add(famAgentStatus, boolFloat(k == int(state)), l, k)
				}
			}
			for f := famFirstTaskGauge; f < len(families); f++ {
				if get := families[f].agent; get != nil {
					if v, ok := get(a); ok {
						add(f, v, l, 0)
					}
				}
			}
		}
	}
	add(famDuplicateAgents, float64(dropped), nil, 0)
	r.group(s)
}

// group counting-sorts s by family into r.samples and r.start, keeping the
// order within a family (agents in the API's order).
func (r *taskResult) group(s []sample) {
	start := make([]int32, len(families)+1)
	for i := range s {
		start[s[i].fam+1]++
	}
	for f := 1; f < len(start); f++ {
		start[f] += start[f-1]
	}
	out := make([]sample, len(s))
	next := append([]int32(nil), start[:len(families)]...)
	for _, x := range s {
		out[next[x.fam]] = x
		next[x.fam]++
	}
	r.samples, r.start = out, start
}

// family returns the samples of family f.
func (r *taskResult) family(f int) []sample {
	if r.start == nil {
		return nil
	}
	return r.samples[r.start[f]:r.start[f+1]]
}

// labelValues renders a sample's label values in the order of its
// family's descriptor.
func (r *taskResult) labelValues(f *family, s *sample) []string {
	switch f.kind {
	case kindTaskInfo:
		return []string{r.ent, r.id, r.name, r.desc}
	case kindTaskState, kindTaskField:
		return []string{r.ent, r.id, f.states[s.state]}
	case kindAgent:
		return []string{r.ent, r.id, s.agent.cno, s.agent.removed}
	case kindAgentInfo:
		return []string{r.ent, r.id, s.agent.cno, s.agent.removed, s.agent.name}
	case kindAgentState:
		return []string{r.ent, r.id, s.agent.cno, s.agent.removed, f.states[s.state]}
	}
	return []string{r.ent, r.id}
}

// collect sends the task's samples as const metrics, success and duration last.
func (r *taskResult) collect(ch chan<- prometheus.Metric, sel *selection) {
	for f := range families {
		fam := &families[f]
		desc := sel.desc(f)
		for i := range r.family(f) {
			s := &r.family(f)[i]
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.value, r.labelValues(fam, s)...)
		}
	}
	ch <- prometheus.MustNewConstMetric(families[famScrapeSuccess].desc, prometheus.GaugeValue, boolFloat(r.ok), r.ent, r.id)
	if !sel.skip[famScrapeDuration] {
		ch <- prometheus.MustNewConstMetric(families[famScrapeDuration].desc, prometheus.GaugeValue, r.duration, r.ent, r.id)
	}
}

func newResult(t Task) *taskResult {
	r := &taskResult{task: t, ent: strconv.FormatInt(t.EnterpriseID, 10), id: strconv.FormatInt(t.TaskID, 10)}
	r.text = string(appendLabel(appendLabel(nil, 0, "enterprise_id", r.ent), ',', "task_id", r.id))
	return r
}

// labelText makes an API string a valid label value: Prometheus rejects
// invalid UTF-8, and one garbled agent name must not fail the scrape.
func labelText(t apiclient.Text) string {
	s := string(t)
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
