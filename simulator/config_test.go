package simulator

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const minimalYAML = `
credentials: [{access_key_id: id, access_key_secret: shh-secret}]
enterprises: [{id: 1, channels: 5, tasks: [{id: 2}]}]
`

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig([]byte(minimalYAML))
	if err != nil {
		t.Fatal(err)
	}
	task := c.Enterprises[0].Tasks[0]
	if c.Listen != DefaultListen || c.Speed != 1 || c.Timezone != "Asia/Shanghai" || *c.Enterprises[0].CallLimit != -1 ||
		task.Type != 1 || *task.Status != 1 || *task.Agents != 10 || *task.CallLimit != -1 || task.Concurrency != 5 ||
		time.Duration(task.TalkMean) != 90*time.Second || task.Name != "task-2" {
		t.Fatalf("defaults: %+v %+v", c, task)
	}
}

func TestParseConfigRejects(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"", "empty document"},
		{"seeed: 1\n" + minimalYAML, "field seeed not found"},
		{"enterprises: [{id: 1, channels: 5, tasks: [{id: 2}]}]", "no credentials"},
		{"credentials: [{access_key_id: id}]\nenterprises: [{id: 1, channels: 5}]", "access_key_secret is empty"},
		{minimalYAML + "timezone: Mars/Base", `timezone "Mars/Base"`},
		{minimalYAML + "speed: -1", "speed must be"},
		{strings.Replace(minimalYAML, "channels: 5", "channels: 0", 1), "enterprises[0] (id 1): channels must be at least 1"},
		{strings.Replace(minimalYAML, "{id: 2}", "{id: 2}, {id: 2}", 1), "tasks[1] (id 2): id repeats tasks[0]"},
		{strings.Replace(minimalYAML, "{id: 2}", "{id: 2, type: 3}", 1), "type must be 1 (predictive) or 2 (automatic), got 3"},
		{strings.Replace(minimalYAML, "{id: 2}", "{id: 2, status: 5}", 1), "status must be 0"},
		{strings.Replace(minimalYAML, "{id: 2}", "{id: 2, status: 0, started_ago: 1h}", 1), "started_ago needs a task that has started"},
		{strings.Replace(minimalYAML, "{id: 2}", "{id: 2, talk_mean: 90}", 1), "write it with a unit"},
		{strings.Replace(minimalYAML, "{id: 2}", "{id: 2, answer_probability: 1.5}", 1), "answer_probability must be in [0, 1]"},
		{strings.Replace(minimalYAML, "{id: 2}", "{id: 2, call_limit: -2}", 1), "call_limit must be -1 (none) or >= 0"},
		{minimalYAML + "fixtures: [{enterprise: 1, task: 2}]", "give exactly one of file and body"},
		{minimalYAML + "faults: {rules: [{kind: boom}]}", `kind "boom" is not one of`},
		{minimalYAML + "scenarios: [{enterprise: 1, task: 3, name: agents_pause}]", "no task 3 in enterprise 1"},
		{minimalYAML + "generate: {enterprises: 0, tasks_per_enterprise: 1}", "generate: enterprises must be between 1 and 1000"},
	} {
		_, err := ParseConfig([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to mention %q", tc.yaml, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "shh-secret") {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

func TestCredentialNeverPrinted(t *testing.T) {
	c, err := ParseConfig([]byte(minimalYAML + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Credentials = append(c.Credentials, Credential{AccessKeyID: "STS.x", AccessKeySecret: "shh-secret-2", SecurityToken: "shh-token"})
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, c)
		if strings.Contains(out, "shh") || !strings.Contains(out, "STS.x") {
			t.Errorf("%s prints %s", f, out)
		}
	}
}

func TestGenerate(t *testing.T) {
	c, err := ParseConfig([]byte(`
seed: 3
credentials: [{access_key_id: id, access_key_secret: s}]
enterprises: [{id: 7000002, channels: 5, tasks: [{id: 1}]}]
generate: {enterprises: 2, tasks_per_enterprise: 50, agents_per_task: 20}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Enterprises) != 3 || len(c.Enterprises[1].Tasks) != 50 || c.Enterprises[2].ID != 8000002 || c.Generate != nil {
		t.Fatalf("generated %d enterprises", len(c.Enterprises))
	}
	statuses := map[int]int{}
	for _, tk := range c.Enterprises[1].Tasks {
		statuses[*tk.Status]++
	}
	if len(statuses) < 3 {
		t.Fatalf("generated statuses %v lack variety", statuses)
	}
	s, err := New(c, NewFakeClock(t0)) // normalize again: idempotent
	if err != nil {
		t.Fatal(err)
	}
	if len(s.enterprises) != 3 {
		t.Fatalf("New re-expanded or lost enterprises: %d", len(s.enterprises))
	}
	c2, _ := ParseConfig([]byte(`
seed: 3
credentials: [{access_key_id: id, access_key_secret: s}]
enterprises: [{id: 7000002, channels: 5, tasks: [{id: 1}]}]
generate: {enterprises: 2, tasks_per_enterprise: 50, agents_per_task: 20}
`))
	if !reflect.DeepEqual(c2.Enterprises, c.Enterprises) {
		t.Fatal("the generator is not deterministic")
	}
}

func TestLoadConfigResolvesFixtures(t *testing.T) {
	dir := t.TempDir()
	body := `{"Code":"OK"}`
	if err := os.WriteFile(filepath.Join(dir, "f.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sim.yml")
	if err := os.WriteFile(path, []byte(minimalYAML+"fixtures: [{enterprise: 1, task: 99, file: f.json}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := NewFakeClock(t0)
	c.Credentials = []Credential{testCred}
	sim, err := New(c, clock)
	if err != nil {
		t.Fatal(err)
	}
	if rec := ask(sim, clock, 1, 99); rec.Body.String() != body {
		t.Fatalf("fixture body %q", rec.Body)
	}
}

func TestDemoConfig(t *testing.T) {
	cfg := DemoConfig(Credential{AccessKeyID: "testid", AccessKeySecret: "testsecret"})
	s, clock := newTestSim(t, cfg)
	statuses := map[int]bool{}
	for _, ent := range cfg.Enterprises {
		for _, task := range ent.Tasks {
			if *task.Agents < 5 && task.Type == 1 || *task.Agents > 30 {
				t.Errorf("task %d has %d agents", task.ID, *task.Agents)
			}
			m, _ := monitor(t, s, clock, ent.ID, task.ID)
			statuses[statusOf(t, m.Data.Statistic.CtiLinkTaskProperty, false)] = true
		}
	}
	if len(statuses) != 4 {
		t.Fatalf("demo statuses %v, want all four", statuses)
	}
	before, _ := monitor(t, s, clock, 7000002, 19)
	clock.Advance(5 * time.Minute)
	after, _ := monitor(t, s, clock, 7000002, 19)
	if after.Data.Statistic.CalledCount <= before.Data.Statistic.CalledCount {
		t.Fatal("the demo does not move")
	}
}
