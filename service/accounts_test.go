package service

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dyvms-community/dyvms_exporter/simulator"
)

// The accounts of these tests: the default key owns 8000001; account b
// (its own key) owns 8000002; account c owns 8000003 and is reached only
// through its role, which the default key assumes with an external id.
const (
	keyB      = "LTAIaccountb"
	secretB   = "account-b-secret"
	uidC      = "3000000000000003"
	externalC = "ext-c"
)

type accountsEnv struct {
	*testEnv
	stsAddr string
}

func newAccountsEnv(t *testing.T, roleLifetime time.Duration) *accountsEnv {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	cfg, err := simulator.ParseConfig([]byte(fmt.Sprintf(`credentials: [{access_key_id: %s, access_key_secret: %s}]
accounts:
  - {name: b, uid: "3000000000000002", enterprises: [8000002], credentials: [{access_key_id: %s, access_key_secret: %s}]}
  - name: c
    uid: "%s"
    enterprises: [8000003]
    roles: [{name: reader, external_id: %s, trust: [default], lifetime: %s}]
%s`, simKeyID, simSecret, keyB, secretB, uidC, externalC, roleLifetime, simAccount)))
	if err != nil {
		t.Fatal(err)
	}
	sim, err := simulator.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cert, pemBytes, err := simulator.LoopbackCertificate()
	if err != nil {
		t.Fatal(err)
	}
	sts := httptest.NewUnstartedServer(sim.STSHandler())
	sts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	sts.StartTLS()
	t.Cleanup(sts.Close)
	// The vendor's credential library clones http.DefaultTransport.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	tr := http.DefaultTransport.(*http.Transport)
	old := tr.TLSClientConfig
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	t.Cleanup(func() { tr.TLSClientConfig = old })

	e := &accountsEnv{
		testEnv: &testEnv{t: t, sim: sim, simURL: srv.URL, cfgPath: filepath.Join(t.TempDir(), "config.yml"), reg: prometheus.NewRegistry()},
		stsAddr: strings.TrimPrefix(sts.URL, "https://"),
	}
	e.writeAccounts("")
	e.svc, err = New(Options{ConfigFile: e.cfgPath, Registerer: e.reg, Gatherer: e.reg})
	if err != nil {
		t.Fatal(err)
	}
	if e.handler, err = e.svc.Handler(HTTPOptions{}, make(chan chan error)); err != nil {
		t.Fatal(err)
	}
	return e
}

// writeAccounts writes a configuration that reads every enterprise by
// task, discovery and call records, with apiB as account b's api section.
func (e *accountsEnv) writeAccounts(apiB string) {
	e.t.Helper()
	if apiB == "" {
		apiB = "{requests_per_second: 10, burst: 10}"
	}
	body := fmt.Sprintf(`endpoint: %s
credentials: {access_key_id: %s, access_key_secret: %s}
accounts:
  - name: b
    enterprises: [8000002]
    credentials: {access_key_id: %s, access_key_secret: %s}
    api: %s
  - name: c
    enterprises: [8000003]
    credentials: {role_arn: "acs:ram::%s:role/reader", external_id: %s, sts_endpoint: "%s"}
discovery:
  - {enterprise_id: 8000002, types: [1]}
  - {enterprise_id: 8000003, types: [1]}
call_records:
  - {enterprise_id: 8000003, interval: 10s, lateness: 1m, settle: 1s}
  - {enterprise_id: 8000001, interval: 10s, lateness: 1m, settle: 1s}
tasks:
  - {enterprise_id: 8000001, task_id: 1}
  - {enterprise_id: 8000002, task_id: 1}
  - {enterprise_id: 8000003, task_id: 1}
`, e.simURL, simKeyID, simSecret, keyB, secretB, apiB, uidC, externalC, e.stsAddr)
	if err := os.WriteFile(e.cfgPath, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// assertNoRejection: the simulator rejects a key used for an enterprise
// its account does not own (Forbidden.RAM), so every answer being OK
// shows that every request went with its owner's identity.
func (e *accountsEnv) assertNoRejection() {
	e.t.Helper()
	st := e.sim.Stats()
	for code, n := range st.Codes {
		if code != "OK" {
			e.t.Errorf("the simulator answered %s %d times (codes %v)", code, n, st.Codes)
		}
	}
}

// Every request for an enterprise goes with its owner's identity, and only
// that: scraped tasks, discovery, call records, /probe and /sd.
func TestAccountsEveryRequestWithItsOwner(t *testing.T) {
	e := newAccountsEnv(t, time.Hour)
	_, _, body := e.get("/metrics", nil)
	if ok := lines(body, "dyvms_task_scrape_success{"); len(ok) != 3 || strings.Contains(strings.Join(ok, "\n"), "} 0") {
		t.Fatalf("tasks: %v", ok)
	}
	e.refresh()
	for deadline := time.Now().Add(10 * time.Second); e.sim.Stats().Actions["CloudQueryPredictiveCallCdr"] < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("call records not polled in 10 s: %+v", e.sim.Stats())
		}
		time.Sleep(300 * time.Millisecond)
		if err := e.svc.PollCallRecords(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	_, _, body = e.get("/metrics", nil)
	if n := len(lines(body, "dyvms_task_scrape_success{")); n != 9 {
		t.Errorf("%d tasks after discovery, want 3 static + 3 more discovered in each of 8000002 and 8000003", n)
	}
	for _, want := range []string{
		`dyvms_enterprise_info{account="default",enterprise_id="8000001"} 1`,
		`dyvms_enterprise_info{account="b",enterprise_id="8000002"} 1`,
		`dyvms_enterprise_info{account="c",enterprise_id="8000003"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if code, _, pb := e.get("/probe?enterprise_id=8000003&task_id=2", nil); code != 200 || !strings.Contains(pb, `dyvms_task_scrape_success{enterprise_id="8000003",task_id="2"} 1`) {
		t.Errorf("/probe of the role account's task: %d\n%s", code, pb)
	}
	if code, _, sd := e.get("/sd", nil); code != 200 || strings.Count(sd, `"__param_enterprise_id":"8000003"`) != 4 {
		t.Errorf("/sd: %d %s", code, sd)
	}
	st := e.sim.Stats()
	if st.Actions["CloudQueryPredictiveCallCdr"] == 0 || st.Enterprises["8000003"] == 0 || st.Actions["AssumeRole"] != 1 {
		t.Errorf("stats %+v", st)
	}
	e.assertNoRejection()
}

// Editing one account rebuilds only its client and pacer; the others keep
// theirs (their buckets, caches and calls in flight). A removed account
// leaves the router, and its enterprises fall back to the default.
func TestAccountsReloadRebuildsOnlyTheEditedAccount(t *testing.T) {
	e := newAccountsEnv(t, time.Hour)
	e.get("/metrics", nil)
	before := map[string]any{}
	for n, a := range e.svc.accounts {
		before[n] = a.api
	}
	e.writeAccounts("{requests_per_second: 5, burst: 5}")
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	e.get("/metrics", nil)
	for n, a := range e.svc.accounts {
		if kept := before[n] == any(a.api); kept == (n == "b") {
			t.Errorf("account %s: pacer kept = %v after editing account b", n, kept)
		}
	}
	if got := e.svc.accounts["b"].api.Limiter().Rate(); got != 5 {
		t.Errorf("account b's rate after the reload: %v", got)
	}
	e.assertNoRejection()
	if n := e.sim.Stats().Actions["AssumeRole"]; n != 1 {
		t.Errorf("the role was assumed %d times; a reload that did not touch account c must keep its credentials", n)
	}
}

// One account throttled never slows another: its own limiter halves its
// rate, the others keep theirs and read every task; every dyvms_api_*
// series says which account it is about. A removed account's series
// disappear.
func TestAccountsThrottledAloneAndRemoved(t *testing.T) {
	e := newAccountsEnv(t, time.Hour)
	if err := e.sim.SetFaults(simulator.Faults{Rules: []simulator.FaultRule{
		{Kind: simulator.FaultThrottle, Enterprise: 8000002, TimeLeft: simulator.Duration(10 * time.Millisecond)},
	}}); err != nil {
		t.Fatal(err)
	}
	// Two scrapes: the self-metrics then show at least the first one's
	// calls, whenever they are gathered.
	// Two scrapes, each one call with two retries; the self-metrics of an
	// answer include its own scrape's requests.
	e.get("/metrics", nil)
	_, _, body := e.get("/metrics", nil)
	for _, want := range []string{
		`dyvms_task_scrape_success{enterprise_id="8000001",task_id="1"} 1`,
		`dyvms_task_scrape_success{enterprise_id="8000002",task_id="1"} 0`,
		`dyvms_task_scrape_success{enterprise_id="8000003",task_id="1"} 1`,
		`dyvms_api_throttled_total{account="default",operation="CloudMonitorTask"} 0`,
		`dyvms_api_throttled_total{account="c",operation="CloudMonitorTask"} 0`,
		`dyvms_api_rate_limit_requests_per_second{account="default"} 20`,
		`dyvms_api_rate_limit_requests_per_second{account="c"} 20`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s in\n%s", want, strings.Join(append(lines(body, `dyvms_api_calls_total{account="b"`), lines(body, `dyvms_api_requests_total{account="b"`)...), "\n"))
		}
	}
	if l := lines(body, `dyvms_api_throttled_total{account="b",operation="CloudMonitorTask"}`); len(l) != 1 || strings.HasSuffix(l[0], " 0") {
		t.Errorf("account b's throttled answers: %v", l)
	}
	if l := lines(body, `dyvms_api_rate_limit_requests_per_second{account="b"}`); len(l) != 1 || strings.HasSuffix(l[0], " 10") {
		t.Errorf("account b's rate after throttling: %v, want below its 10", l)
	}
	for _, l := range lines(body, "dyvms_api_") {
		if !strings.Contains(l, `account="`) {
			t.Errorf("a dyvms_api_ series without the account label: %s", l)
		}
	}

	// Account c removed: its enterprise falls back to the default
	// account (whose key the gateway refuses there), its series go.
	if err := e.sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(e.cfgPath)
	cut := strings.Replace(string(raw), "  - name: c\n", "  - name: gone\n", 1)
	cut = strings.Replace(cut, "    enterprises: [8000003]\n", "    enterprises: []\n", 1)
	if err := os.WriteFile(e.cfgPath, []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	_, _, body = e.get("/metrics", nil)
	if l := lines(body, `dyvms_api_requests_total{account="c"`); len(l) != 0 {
		t.Errorf("the removed account's series are still there: %v", l)
	}
	if !strings.Contains(body, `dyvms_enterprise_info{account="default",enterprise_id="8000003"} 1`) || strings.Contains(body, `account="c"`) {
		t.Errorf("after removing account c:\n%s", strings.Join(lines(body, "dyvms_enterprise_info"), "\n"))
	}
	if !strings.Contains(body, `dyvms_task_scrape_success{enterprise_id="8000003",task_id="1"} 0`) || e.sim.Stats().Codes["Forbidden.RAM"] == 0 {
		t.Errorf("8000003 read with the default key after account c went: the gateway should refuse it (Forbidden.RAM)")
	}
}

func (l *logLines) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// An AssumeRole failure fails that account's tasks only, with STS's code
// and a log line naming the account and the role ARN (never a secret),
// and a transient one is retried like any other.
func TestAccountsAssumeRoleFailure(t *testing.T) {
	e := newAccountsEnv(t, time.Hour)
	logs := &logLines{}
	e.svc.logger, e.svc.errLog.logger = logs, logs
	if err := e.sim.SetFaults(simulator.Faults{Rules: []simulator.FaultRule{{Kind: simulator.FaultUnavailable, Action: "AssumeRole"}}}); err != nil {
		t.Fatal(err)
	}
	// Two scrapes, each one call with two retries; the self-metrics of an
	// answer include its own scrape's requests.
	e.get("/metrics", nil)
	_, _, body := e.get("/metrics", nil)
	for _, want := range []string{
		`dyvms_task_scrape_success{enterprise_id="8000001",task_id="1"} 1`,
		`dyvms_task_scrape_success{enterprise_id="8000002",task_id="1"} 1`,
		`dyvms_task_scrape_success{enterprise_id="8000003",task_id="1"} 0`,
		`dyvms_api_calls_total{account="c",code="ServiceUnavailable",operation="CloudMonitorTask"} 2`,
		`dyvms_api_retries_total{account="c",code="ServiceUnavailable",operation="CloudMonitorTask"} 4`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("missing %s in\n%s", want, strings.Join(lines(body, `dyvms_api_calls_total{account="c"`), "\n"))
		}
	}
	if n := e.sim.Stats().Actions["AssumeRole"]; n < 3 {
		t.Errorf("AssumeRole tried %d times in a scrape with 2 retries", n)
	}
	// The call-record poller's failures are counted under the account.
	const pollErr = `dyvms_call_records_errors_total{account="c",code="ServiceUnavailable",enterprise_id="8000003"}`
	for deadline := time.Now().Add(10 * time.Second); ; {
		_ = e.svc.PollCallRecords(context.Background())
		if _, _, b := e.get("/metrics", nil); strings.Contains(b, pollErr) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s", pollErr)
		}
		time.Sleep(300 * time.Millisecond)
	}
	log := logs.all()
	if !strings.Contains(log, "account c") || !strings.Contains(log, "acs:ram::"+uidC+":role/reader") || !strings.Contains(log, "ServiceUnavailable") {
		t.Errorf("the log does not name the account, the role and the code:\n%s", log)
	}
	for _, secret := range []string{simSecret, secretB, externalC} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows %q", secret)
		}
	}
	// STS back: the next scrape reads the account's task.
	if err := e.sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	if _, _, body := e.get("/metrics", nil); !strings.Contains(body, `dyvms_task_scrape_success{enterprise_id="8000003",task_id="1"} 1`) {
		t.Errorf("account c not read once STS answers again")
	}
	// A refusal (a wrong external id) is a configuration error: not
	// retried, and the code says what STS said.
	raw, _ := os.ReadFile(e.cfgPath)
	if err := os.WriteFile(e.cfgPath, []byte(strings.Replace(string(raw), "external_id: "+externalC, "external_id: wrong", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetStats()
	e.get("/metrics", nil)
	_, _, body = e.get("/metrics", nil)
	if !strings.Contains(body, `dyvms_api_calls_total{account="c",code="NoPermission",operation="CloudMonitorTask"} 2`) || e.sim.Stats().Actions["AssumeRole"] != 2 {
		t.Errorf("a refused role: %v, %d AssumeRole in 2 scrapes (want 1 each, no retry)", lines(body, `dyvms_api_calls_total{account="c"`), e.sim.Stats().Actions["AssumeRole"])
	}
	// Account c removed, its enterprise still polled (now as the default
	// account's): the poller's errors under account c go with it.
	raw, _ = os.ReadFile(e.cfgPath)
	cut := strings.Replace(string(raw), "  - name: c\n    enterprises: [8000003]\n", "  - name: gone\n    enterprises: []\n", 1)
	if err := os.WriteFile(e.cfgPath, []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, _, body := e.get("/metrics", nil); strings.Contains(body, `account="c"`) {
		t.Errorf("series of the removed account c:\n%s", strings.Join(lines(body, "dyvms_call_records_errors_total"), "\n"))
	}
}

// With the default account on the vendor's chain, a task of another
// account whose key file went missing is told to fix that file, not that
// no credentials are configured.
func TestAccountCredentialsHint(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, v := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
		"ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_ECS_METADATA"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	e := newTestEnv(t, defaultExporterConfig, HTTPOptions{})
	dir := t.TempDir()
	secret := filepath.Join(dir, "b.secret")
	writeTestFile(t, secret, "x\n")
	cfg := filepath.Join(dir, "config.yml")
	writeTestFile(t, cfg, "endpoint: "+e.simURL+"\naccounts:\n  - name: b\n    enterprises: [8000002]\n    credentials: {access_key_id: LTAIb, access_key_secret_file: "+secret+"}\n"+
		"tasks: [{enterprise_id: 8000001, task_id: 1}, {enterprise_id: 8000002, task_id: 1}]\n")
	logs := &logLines{}
	reg := prometheus.NewRegistry()
	svc, err := New(Options{ConfigFile: cfg, Logger: logs, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if e.handler, err = svc.Handler(HTTPOptions{}, make(chan chan error)); err != nil {
		t.Fatal(err)
	}
	os.Remove(secret)
	e.get("/metrics", nil)
	for _, l := range logs.lines {
		if !strings.Contains(l, "task scrape failed") {
			continue
		}
		switch {
		case strings.Contains(l, "enterprise_id8000001task_id1") && !strings.Contains(l, "no credentials are configured"):
			t.Errorf("default account's task: %s", l)
		case strings.Contains(l, "enterprise_id8000002task_id1") && (!strings.Contains(l, "cannot be read") || strings.Contains(l, "no credentials are configured")):
			t.Errorf("account b's task: %s", l)
		}
	}
	if !strings.Contains(logs.all(), "enterprise_id8000002task_id1") {
		t.Errorf("account b's failure not logged:\n%s", logs.all())
	}
}

// Without top-level credentials the default account is the vendor's
// chain (on ACK with RRSA, the pod's own role); a keyless role is assumed
// with whatever the chain finds: here, the environment's key.
func TestAccountsRoleAssumedWithTheDefaultChain(t *testing.T) {
	e := newAccountsEnv(t, time.Hour)
	t.Setenv("HOME", t.TempDir())
	for _, v := range []string{"ALIBABA_CLOUD_SECURITY_TOKEN", "ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ROLE_ARN",
		"ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_PROFILE"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", simKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", simSecret)
	raw, _ := os.ReadFile(e.cfgPath)
	body := strings.Replace(string(raw), fmt.Sprintf("credentials: {access_key_id: %s, access_key_secret: %s}\n", simKeyID, simSecret), "", 1)
	if body == string(raw) {
		t.Fatal("the top-level credentials were not removed")
	}
	if err := os.WriteFile(e.cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Reload(); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetStats()
	_, _, b := e.get("/metrics", nil)
	for _, ent := range []string{"8000001", "8000002", "8000003"} {
		if !strings.Contains(b, `dyvms_task_scrape_success{enterprise_id="`+ent+`",task_id="1"} 1`) {
			t.Errorf("enterprise %s not read", ent)
		}
	}
	if st := e.sim.Stats(); st.Actions["AssumeRole"] != 1 {
		t.Errorf("the role was assumed %d times after the default identity changed, want once more", st.Actions["AssumeRole"])
	}
	e.assertNoRejection()
}
