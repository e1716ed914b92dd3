//go:build linux

package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/internal/testutil"
	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The enterprises of the accounts test, one account each.
const (
	entDefault = 7400001 // the default account, by keys (tasks 1 and 2)
	entKeys    = 7400002 // account keys-b, by its own keys (tasks 3, 5-9)
	entRole    = 7400003 // account role-c, through a role the default key assumes (task 4)
	roleUID    = "4000000000000003"
)

// roleLifetime is what the simulator's STS issues. The vendor's library
// renews a key once 180 s or less of it remain, so each key is used for
// about 10 s and then replaced: several renewals within the test, each
// before the key expires.
const roleLifetime = 190 * time.Second

// Two accounts besides the default one, end to end: one by its own keys,
// one through an assumed role whose key is renewed several times, each
// time before it expires. Every account's tasks reach Prometheus; the
// gateway rejects no request but those the test throttles (it would
// refuse an enterprise read with another account's key, or an expired
// token); throttling one account leaves the others' scrape times and rates
// as they were, and one account answering too slowly for any scrape costs
// the others no scrape.
func TestAccountsEndToEnd(t *testing.T) {
	skipShort(t)
	requireTool(t, "go", "the Go toolchain builds the exporter")
	exporterBin := testutil.BuildExporter(t)
	forEachGeneration(t, func(t *testing.T, g generation) {
		accountsEndToEnd(t, g, exporterBin)
	})
}

func accountsEndToEnd(t *testing.T, g generation, exporterBin string) {
	began := time.Now()
	dir := t.TempDir()
	credA := simulator.Credential{AccessKeyID: "LTAIacct" + randomHex(t, 8), AccessKeySecret: randomHex(t, 16)}
	credB := simulator.Credential{AccessKeyID: "LTAIacctb" + randomHex(t, 8), AccessKeySecret: randomHex(t, 16)}
	external := "e2e-" + randomHex(t, 4)
	d := func(v time.Duration) simulator.Duration { return simulator.Duration(v) }
	small := func(id int64) simulator.Task {
		return simulator.Task{ID: id, Name: fmt.Sprintf("e2e accounts %d", id), StartedAgo: d(time.Minute), Numbers: intp(100000), Agents: intp(5)}
	}
	simCfg := simulator.Config{
		Seed: 5, Speed: 1, Timezone: "Asia/Shanghai", Credentials: []simulator.Credential{credA},
		Accounts: []simulator.Account{
			{Name: "keys-b", UID: "4000000000000002", Enterprises: []int64{entKeys}, Credentials: []simulator.Credential{credB}},
			{Name: "role-c", UID: roleUID, Enterprises: []int64{entRole}, Roles: []simulator.Role{
				{Name: "dyvms-reader", ExternalID: external, Trust: []string{simulator.DefaultAccount}, Lifetime: d(roleLifetime)}}},
		},
		Enterprises: []simulator.Enterprise{
			{ID: entDefault, Channels: 10, Tasks: []simulator.Task{small(1), small(2)}},
			{ID: entKeys, Channels: 10, Tasks: []simulator.Task{small(3), small(5), small(6), small(7), small(8), small(9)}},
			{ID: entRole, Channels: 10, Tasks: []simulator.Task{small(4)}},
		},
	}
	sim, simURL := startSimulator(t, simCfg)
	stsAddr := startSTS(t, sim, dir)

	secretFile := filepath.Join(dir, "access_key_secret")
	writeFile(t, secretFile, []byte(credA.AccessKeySecret+"\n"), 0o600)
	secretB := filepath.Join(dir, "b_secret")
	writeFile(t, secretB, []byte(credB.AccessKeySecret+"\n"), 0o600)
	// keys-b's six tasks come first, more than a fan-out of 2 can read
	// within the deadline while they are throttled: were the accounts'
	// fan-outs shared, the other accounts' tasks would wait behind them
	// and miss the deadline.
	var keysTasks string
	for _, id := range []int{3, 5, 6, 7, 8, 9} {
		keysTasks += fmt.Sprintf("  - {enterprise_id: %d, task_id: %d}\n", entKeys, id)
	}
	exporterCfg := filepath.Join(dir, "exporter.yml")
	writeFile(t, exporterCfg, []byte(fmt.Sprintf(`endpoint: %s
timezone: Asia/Shanghai
credentials: {access_key_id: %s, access_key_secret_file: %s}
api: {requests_per_second: 20, burst: 20, concurrency: 2, max_retries: 2}
accounts:
  - name: keys-b
    enterprises: [%d]
    credentials: {access_key_id: %s, access_key_secret_file: %s}
    api: {requests_per_second: 10, burst: 10, concurrency: 2, max_retries: 2}
  - name: role-c
    enterprises: [%d]
    credentials:
      role_arn: acs:ram::%s:role/dyvms-reader
      external_id: %s
      sts_endpoint: %s
tasks:
%s  - {enterprise_id: %d, task_id: 1}
  - {enterprise_id: %d, task_id: 2}
  - {enterprise_id: %d, task_id: 4}
`, simURL, credA.AccessKeyID, secretFile, entKeys, credB.AccessKeyID, secretB, entRole, roleUID, external, stsAddr,
		keysTasks, entDefault, entDefault, entRole)), 0o600)
	exporter, exporterAddr := startServer(t, dir, "exporter", exporterBin, func(addr string) []string {
		return []string{"--config.file=" + exporterCfg, "--web.listen-address=" + addr, "--log.level=info", "--scrape.timeout-offset=100ms"}
	}, "/-/ready")
	promCfg := prometheusConfig(t, dir, exporterAddr, freeAddr(t))
	_, promAddr := startServer(t, dir, "prometheus", g.prometheus, func(addr string) []string {
		return []string{"--config.file=" + promCfg, "--storage.tsdb.path=" + filepath.Join(dir, "prometheus-data"),
			"--web.listen-address=" + addr, "--log.level=info"}
	}, "/-/ready")
	prom := promAPI{base: "http://" + promAddr}
	query := func(q string) []sample {
		t.Helper()
		res, err := prom.query(q)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// Every account's tasks reach Prometheus, and the enterprises are
	// joined to their accounts.
	testutil.Eventually(t, 30*time.Second, 250*time.Millisecond, "every account's tasks in Prometheus", func() (bool, string) {
		ok := query(fmt.Sprintf(`dyvms_task_scrape_success{job=%q} == 1`, jobName))
		info := query(`dyvms_enterprise_info`)
		return len(ok) == 9 && len(info) == 3, fmt.Sprintf("%d of 9 tasks read, %d enterprise_info series", len(ok), len(info))
	})
	for _, s := range query(`dyvms_enterprise_info`) {
		want := map[string]string{strconv.Itoa(entDefault): "default", strconv.Itoa(entKeys): "keys-b", strconv.Itoa(entRole): "role-c"}[s.Metric["enterprise_id"]]
		if s.Metric["account"] != want {
			t.Errorf("dyvms_enterprise_info %v, want account %q", s.Metric, want)
		}
	}
	t.Logf("%-52s %6.1fs", "every account's tasks in Prometheus", time.Since(began).Seconds())

	// Baseline, then keys-b throttled on every request: the others'
	// scrape times and rates stay as they were.
	const window = 20 * time.Second
	time.Sleep(window)
	duration := func(ent int) float64 {
		t.Helper()
		res := query(fmt.Sprintf(`avg(avg_over_time(dyvms_task_scrape_duration_seconds{enterprise_id="%d"}[%ds]))`, ent, int(window.Seconds())))
		if len(res) != 1 {
			t.Fatalf("scrape duration of %d: %v", ent, res)
		}
		v, _ := strconv.ParseFloat(res[0].value(), 64)
		return v
	}
	baseA, baseC := duration(entDefault), duration(entRole)
	if err := sim.SetFaults(simulator.Faults{Rules: []simulator.FaultRule{
		{Kind: simulator.FaultThrottle, Enterprise: entKeys, TimeLeft: d(200 * time.Millisecond)},
	}}); err != nil {
		t.Fatal(err)
	}
	throttledAt := time.Now()
	testutil.Eventually(t, 30*time.Second, 250*time.Millisecond, "keys-b throttled and slowed down", func() (bool, string) {
		th := query(`sum(dyvms_api_throttled_total{account="keys-b"})`)
		rate := query(`dyvms_api_rate_limit_requests_per_second{account="keys-b"}`)
		return len(th) == 1 && th[0].value() != "0" && len(rate) == 1 && rate[0].value() != "10",
			fmt.Sprintf("throttled %v, rate %v", th, rate)
	})
	time.Sleep(window - time.Since(throttledAt) + time.Second)
	nowA, nowC := duration(entDefault), duration(entRole)
	for _, c := range []struct {
		name        string
		base, under float64
	}{{"default", baseA, nowA}, {"role-c", baseC, nowC}} {
		// "Unchanged": within noise of a loaded machine, far below the
		// 200 ms per retry a throttled call would add.
		if c.under > 2*c.base+0.05 {
			t.Errorf("account %s: task scrape time %.3fs while keys-b is throttled, %.3fs before", c.name, c.under, c.base)
		}
	}
	for _, acct := range []struct {
		name string
		rate string
	}{{"default", "20"}, {"role-c", "20"}} {
		res := query(fmt.Sprintf(`dyvms_api_rate_limit_requests_per_second{account=%q}`, acct.name))
		if len(res) != 1 || res[0].value() != acct.rate {
			t.Errorf("rate of %s while keys-b is throttled: %v, want %s", acct.name, res, acct.rate)
		}
		if res := query(fmt.Sprintf(`sum(dyvms_api_throttled_total{account=%q})`, acct.name)); len(res) != 1 || res[0].value() != "0" {
			t.Errorf("account %s throttled: %v", acct.name, res)
		}
	}
	if ok := query(fmt.Sprintf(`dyvms_task_scrape_success{enterprise_id=~"%d|%d"} == 1`, entDefault, entRole)); len(ok) != 3 {
		t.Errorf("the other accounts' tasks while keys-b is throttled: %v", ok)
	}
	t.Logf("task scrape time, before / while keys-b throttled: default %.3fs / %.3fs, role-c %.3fs / %.3fs", baseA, nowA, baseC, nowC)

	// keys-b so slow that none of its calls answers within a scrape: its
	// six tasks, listed first, never hold a worker the other accounts'
	// tasks need (each account has a fan-out of its own), so those are
	// read at every scrape.
	if err := sim.SetFaults(simulator.Faults{Rules: []simulator.FaultRule{
		{Kind: simulator.FaultLatency, Enterprise: entKeys, Latency: d(1500 * time.Millisecond)},
	}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(8 * time.Second)
	// A window of 6 s is about six scrapes; on a loaded machine a whole
	// scrape can miss Prometheus' timeout, and then the window holds no
	// sample at all (the series are stale, not 0). Wait for a window with
	// every series; its values are then judged strictly.
	var others, slow []sample
	testutil.Eventually(t, 30*time.Second, 500*time.Millisecond, "a 6 s window with every task's series while keys-b is slow", func() (bool, string) {
		others = query(fmt.Sprintf(`min_over_time(dyvms_task_scrape_success{enterprise_id=~"%d|%d"}[6s])`, entDefault, entRole))
		slow = query(fmt.Sprintf(`max_over_time(dyvms_task_scrape_success{enterprise_id="%d"}[6s])`, entKeys))
		return len(others) == 3 && len(slow) == 6, fmt.Sprintf("%v / %v", others, slow)
	})
	for _, s := range others {
		if s.value() != "1" {
			t.Errorf("task %s/%s failed a scrape while keys-b was slow", s.Metric["enterprise_id"], s.Metric["task_id"])
		}
	}
	for _, s := range slow {
		if s.value() != "0" {
			t.Errorf("keys-b's task %s was read in time with every call taking 1.5 s: the fault did not bite", s.Metric["task_id"])
		}
	}
	if err := sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}

	// No request was ever rejected: every code the gateway answered is OK
	// or the injected throttling; the role's key was renewed several times.
	st := sim.Stats()
	for code, n := range st.Codes {
		if code != "OK" && code != "Throttling.User" {
			t.Errorf("the simulator answered %s %d times", code, n)
		}
	}
	if st.Faults[simulator.FaultThrottle] != st.Codes["Throttling.User"] {
		t.Errorf("%d throttled answers, %d injected", st.Codes["Throttling.User"], st.Faults[simulator.FaultThrottle])
	}
	renewals := st.Actions["AssumeRole"]
	if renewals < 3 {
		t.Errorf("the role was assumed %d times in %.0fs; want a renewal about every %v", renewals, time.Since(began).Seconds(), roleLifetime-180*time.Second)
	}
	if log := exporter.log(); strings.Contains(log, "WARNING: DATA RACE") || strings.Contains(log, "InvalidSecurityToken") || strings.Contains(log, "Forbidden.RAM") {
		t.Errorf("the exporter's log:\n%s", exporter.tail(40))
	}
	t.Logf("%d requests, %d AssumeRole (keys renewed before expiry), codes %v; whole test %.1fs",
		st.Requests, renewals, st.Codes, time.Since(began).Seconds())
}

// startSTS serves the simulator's STS over https on loopback and makes the
// exporter (a child process, which inherits the variable) trust it
// through SSL_CERT_FILE.
func startSTS(t *testing.T, sim *simulator.Simulator, dir string) string {
	t.Helper()
	cert, pemBytes, err := simulator.LoopbackCertificate()
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "sts-ca.pem")
	writeFile(t, caFile, pemBytes, 0o600)
	t.Setenv("SSL_CERT_FILE", caFile)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sim.STSHandler(), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
