package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/config"
	"github.com/dyvms-community/dyvms_exporter/service"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// TestDemoIsARealConfiguration: the generated file passes the strict loader,
// keeps the secret out of the config file itself, and every demo task is
// read successfully through the exporter's real handler.
func TestDemoIsARealConfiguration(t *testing.T) {
	d, err := Start(1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		dir := d.dir
		if err := d.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("demo directory %s left behind", dir)
		}
	}()
	cfg, err := config.Load(d.ConfigFile)
	if err != nil {
		t.Fatalf("generated config does not load: %v", err)
	}
	if len(cfg.Tasks) != 6 || cfg.Credentials == nil || cfg.Credentials.AccessKeySecretFile == "" {
		t.Fatalf("generated config: %d tasks, credentials %v", len(cfg.Tasks), cfg.Credentials)
	}
	// Two accounts, one of them through a role.
	if len(cfg.Accounts) != 1 || cfg.Accounts[0].Credentials.RoleARN == "" || cfg.AccountOf(7000003) != cfg.Accounts[0].Name {
		t.Fatalf("the demo's accounts: %v", cfg.Accounts)
	}
	if len(cfg.CallRecords) != 3 {
		t.Fatalf("the demo polls the call records of %d enterprises, want all 3", len(cfg.CallRecords))
	}
	// The whole call centre: agents everywhere, inbound calls and queues
	// where there is inbound traffic.
	if len(cfg.Enterprises) != 3 || !cfg.Metrics.EnterpriseAgents {
		t.Fatalf("the demo reads the call centre of %d enterprises, want all 3, per agent too (%v)", len(cfg.Enterprises), cfg.Metrics.EnterpriseAgents)
	}
	for _, e := range cfg.Enterprises {
		inbound := e.EnterpriseID == 7000002
		if !e.OnlineAgents || (e.InboundCalls != nil) != inbound || (e.Queues != nil) != inbound {
			t.Errorf("enterprise %d: online_agents %v, inbound_calls %+v, queues %+v", e.EnterpriseID, e.OnlineAgents, e.InboundCalls, e.Queues)
		}
		if inbound && (e.InboundCalls.Interval > 30*time.Second || e.Queues.RefreshInterval > time.Minute) {
			t.Errorf("enterprise %d: inbound calls every %v, queues every %v: too slow for a demo", e.EnterpriseID, e.InboundCalls.Interval, e.Queues.RefreshInterval)
		}
	}
	raw, _ := os.ReadFile(d.ConfigFile)
	secret, _ := os.ReadFile(cfg.Credentials.AccessKeySecretFile)
	if s := strings.TrimSpace(string(secret)); s == "" || bytes.Contains(raw, []byte(s)) {
		t.Error("the secret is missing from its file or written into the config file")
	}

	// The admin address the exporter logs answers, with the list of endpoints.
	resp, err := http.Get(d.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	index, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(index), "/admin/scenario") {
		t.Errorf("GET %s answered %d:\n%s", d.AdminURL, resp.StatusCode, index)
	}

	reg := prometheus.NewRegistry()
	svc, err := service.New(service.Options{ConfigFile: d.ConfigFile, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	h, err := svc.Handler(service.HTTPOptions{}, make(chan chan error))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{h: http.Header{}}
	req, _ := http.NewRequest("GET", "/metrics", nil)
	h.ServeHTTP(rec, req)
	body := rec.b.String()
	if n := strings.Count(body, "dyvms_task_scrape_success{"); n != 6 {
		t.Fatalf("%d tasks scraped, want 6", n)
	}
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "dyvms_task_scrape_success{") && !strings.HasSuffix(l, " 1") {
			t.Errorf("demo task failed: %s", l)
		}
	}
	if !strings.Contains(body, `dyvms_enterprise_info{account="client-b",enterprise_id="7000003"} 1`) {
		t.Errorf("enterprise 7000003 is not shown in account client-b")
	}
	// Every enterprise's agents are read on the scrape (7000003's through
	// the role), and 7000002's agents are those of its tasks.
	for _, ent := range []string{"7000002", "7000003", "7000004"} {
		if !strings.Contains(body, `dyvms_enterprise_agents_scrape_success{enterprise_id="`+ent+`"} 1`) {
			t.Errorf("the agents of enterprise %s are not read:\n%s", ent, grep(body, "dyvms_enterprise_agents"))
		}
	}
	if online := sumOf(body, `dyvms_enterprise_agents{enterprise_id="7000002",`); online < 10 {
		t.Errorf("%v agents online in enterprise 7000002, want those of its tasks", online)
	} else if perAgent := sumOf(grep(body, `enterprise_id="7000002"`), `dyvms_enterprise_agent_state{`); perAgent != online {
		t.Errorf("%v agents in the per-agent state series of enterprise 7000002, %v online", perAgent, online)
	}
	// The queues and the inbound calls, once their pollers have run.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc.RefreshQueues(ctx)
	if err := svc.PollInboundCalls(ctx); err != nil {
		t.Fatal(err)
	}
	rec = &recorder{h: http.Header{}}
	h.ServeHTTP(rec, req)
	body = rec.b.String()
	for _, q := range simulator.DemoInbound().Queues {
		want := fmt.Sprintf(`dyvms_queue_service_level_seconds{enterprise_id="7000002",queue="%s"} %d`, q.Qno, time.Duration(q.ServiceLevel)/time.Second)
		if !strings.Contains(body, want) {
			t.Errorf("missing %s in:\n%s", want, grep(body, "dyvms_queue_"))
		}
		if !strings.Contains(body, fmt.Sprintf(`dyvms_inbound_calls_total{enterprise_id="7000002",outcome="answered",queue="%s"}`, q.Qno)) {
			t.Errorf("no inbound calls series for queue %s:\n%s", q.Qno, grep(body, "dyvms_inbound_calls_total"))
		}
	}
	// Every request went with its owner's identity: the simulator rejects
	// any other (Forbidden.RAM); the role was assumed from its STS.
	st := d.Sim.Stats()
	for code, n := range st.Codes {
		if code != "OK" {
			t.Errorf("the simulator answered %s %d times", code, n)
		}
	}
	if st.Actions["AssumeRole"] != 1 {
		t.Errorf("AssumeRole called %d times, want 1", st.Actions["AssumeRole"])
	}
}

// grep returns the lines of body that contain what.
func grep(body, what string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, what) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// sumOf adds up the values of the samples whose line starts with prefix.
func sumOf(body, prefix string) float64 {
	var sum float64
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			if i := strings.LastIndexByte(l, ' '); i > 0 {
				v, _ := strconv.ParseFloat(l[i+1:], 64)
				sum += v
			}
		}
	}
	return sum
}

type recorder struct {
	h http.Header
	b bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(int)             {}
func (r *recorder) Write(p []byte) (int, error) { return r.b.Write(p) }
