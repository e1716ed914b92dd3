package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The fake secrets used throughout testdata. Neither may ever appear in an
// error message or in a printed Config.
const (
	fakeSecret = "NotARealSecretButTreatItAsOne"
	fakeToken  = "NotARealTokenButTreatItAsOne"
)

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{fakeSecret, fakeToken, "NotAReal"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows a secret:\n%s", what, s)
		}
	}
}

// badCases lists every file under testdata/bad with its exact error.
var badCases = []struct {
	file string
	want []string // one line each, in order
}{
	{"empty.yml", []string{
		"testdata/bad/empty.yml:1: nothing to scrape: no tasks, discovery, enterprises or call_records entries; list at least one",
	}},
	{"comments_only.yml", []string{
		"testdata/bad/comments_only.yml:1: nothing to scrape: no tasks, discovery, enterprises or call_records entries; list at least one",
	}},
	{"no_tasks.yml", []string{
		"testdata/bad/no_tasks.yml:2: tasks: nothing to scrape: no tasks, discovery, enterprises or call_records entries; list at least one",
	}},
	{"syntax.yml", []string{
		"testdata/bad/syntax.yml:3: invalid YAML: mapping values are not allowed in this context; check the indentation of this line against the lines above it",
	}},
	{"alias_unknown.yml", []string{
		"testdata/bad/alias_unknown.yml:1: invalid YAML: unknown anchor 'undefined' referenced",
	}},
	{"multi_document.yml", []string{
		"testdata/bad/multi_document.yml:5: a second YAML document starts here; the file must hold exactly one",
	}},
	{"not_a_mapping.yml", []string{
		"testdata/bad/not_a_mapping.yml:1: the top level must be a mapping with keys such as tasks, got a list",
	}},
	{"unknown_key.yml", []string{
		"testdata/bad/unknown_key.yml:1: endpiont: unknown key; valid keys: endpoint, timezone, credentials, api, discovery, tasks, metrics, call_records, enterprises, accounts",
		"testdata/bad/unknown_key.yml:3: api.rate: unknown key; valid keys: requests_per_second, burst, concurrency, min_interval, max_retries",
		"testdata/bad/unknown_key.yml:5: tasks[0].task_id: required (a positive integer)",
		"testdata/bad/unknown_key.yml:6: tasks[0].taskid: unknown key; valid keys: enterprise_id, task_id",
	}},
	{"duplicate_key.yml", []string{
		"testdata/bad/duplicate_key.yml:3: api.burst: duplicate key, first defined at line 2",
	}},
	{"wrong_types.yml", []string{
		"testdata/bad/wrong_types.yml:1: timezone: must be a string, got a list",
		`testdata/bad/wrong_types.yml:3: api.requests_per_second: must be a number, got "fast"`,
		"testdata/bad/wrong_types.yml:4: api.burst: must be an integer, got 2.5",
		"testdata/bad/wrong_types.yml:5: api.min_interval: must be a duration with a unit, such as 30s, 5m or 1h30m, got 0",
		"testdata/bad/wrong_types.yml:9: tasks[1]: must be a mapping, got 20",
		`testdata/bad/wrong_types.yml:10: tasks[2].task_id: must be an id: decimal digits, such as 19 (quoted or not), got "0x"`,
		"testdata/bad/wrong_types.yml:12: tasks[3].task_id: must be a positive integer, got -4",
		"testdata/bad/wrong_types.yml:14: tasks[4].task_id: must be an id: decimal digits, such as 19 (quoted or not), got 19.5",
	}},
	{"duplicate_task.yml", []string{
		"testdata/bad/duplicate_task.yml:6: tasks[1].task_id: duplicate task (enterprise_id 7000002, task_id 19), first listed at line 4",
	}},
	{"missing_ids.yml", []string{
		"testdata/bad/missing_ids.yml:2: tasks[0].task_id: required (a positive integer)",
		"testdata/bad/missing_ids.yml:3: tasks[1].enterprise_id: required (a positive integer)",
		"testdata/bad/missing_ids.yml:4: tasks[2].enterprise_id: must be a positive integer, got 0",
		"testdata/bad/missing_ids.yml:5: tasks[2].task_id: required (a positive integer)",
	}},
	{"credentials_empty.yml", []string{
		"testdata/bad/credentials_empty.yml:1: credentials: is empty; remove the key to use the default credential chain, or set access_key_id and access_key_secret",
	}},
	{"secret_and_file.yml", []string{
		"testdata/bad/secret_and_file.yml:4: credentials.access_key_secret_file: set either access_key_secret or access_key_secret_file, not both",
	}},
	{"token_and_file.yml", []string{
		"testdata/bad/token_and_file.yml:5: credentials.security_token_file: set either security_token or security_token_file, not both",
	}},
	{"no_secret.yml", []string{
		"testdata/bad/no_secret.yml:2: credentials: one of access_key_secret or access_key_secret_file is required (or remove credentials to use the default credential chain)",
	}},
	{"no_access_key_id.yml", []string{
		"testdata/bad/no_access_key_id.yml:2: credentials: one of access_key_id or access_key_id_file is required (or remove credentials to use the default credential chain)",
	}},
	{"id_and_file.yml", []string{
		"testdata/bad/id_and_file.yml:3: credentials.access_key_id_file: set either access_key_id or access_key_id_file, not both",
	}},
	{"id_empty.yml", []string{
		"testdata/bad/id_empty.yml:2: credentials.access_key_id: must not be empty",
	}},
	{"id_file_missing.yml", []string{
		"testdata/bad/id_file_missing.yml:2: credentials.access_key_id_file: cannot read testdata/bad/does-not-exist.id: no such file or directory",
	}},
	{"id_file_empty.yml", []string{
		"testdata/bad/id_file_empty.yml:2: credentials.access_key_id_file: testdata/bad/empty.secret is empty",
	}},
	{"secret_file_missing.yml", []string{
		"testdata/bad/secret_file_missing.yml:3: credentials.access_key_secret_file: cannot read testdata/bad/does-not-exist.secret: no such file or directory",
	}},
	{"secret_file_empty.yml", []string{
		"testdata/bad/secret_file_empty.yml:3: credentials.access_key_secret_file: testdata/bad/empty.secret is empty",
	}},
	{"token_file_missing.yml", []string{
		"testdata/bad/token_file_missing.yml:4: credentials.security_token_file: cannot read /nonexistent/dyvms/token: no such file or directory",
	}},
	{"secret_wrong_type.yml", []string{
		"testdata/bad/secret_wrong_type.yml:4: credentials.access_key_secret: must be a string, got a list",
		"testdata/bad/secret_wrong_type.yml:5: credentials.security_token: must be a string, got a mapping",
	}},
	{"secret_as_key.yml", []string{
		"testdata/bad/secret_as_key.yml:2: credentials: one of access_key_secret or access_key_secret_file is required (or remove credentials to use the default credential chain)",
		"testdata/bad/secret_as_key.yml:3: credentials: unknown key (name not shown: it does not look like a key and may be a secret); valid keys: access_key_id, access_key_id_file, access_key_secret, access_key_secret_file, security_token, security_token_file",
		"testdata/bad/secret_as_key.yml:4: credentials.acces_key_secret: unknown key; valid keys: access_key_id, access_key_id_file, access_key_secret, access_key_secret_file, security_token, security_token_file",
	}},
	{"secret_whitespace.yml", []string{
		"testdata/bad/secret_whitespace.yml:2: credentials.access_key_id: must not contain spaces",
		"testdata/bad/secret_whitespace.yml:3: credentials.access_key_secret: has leading or trailing white space (value not shown)",
	}},
	{"unknown_timezone.yml", []string{
		`testdata/bad/unknown_timezone.yml:1: timezone: unknown time zone "Asia/Shangai"; use an IANA name such as Asia/Shanghai or UTC`,
	}},
	{"empty_strings.yml", []string{
		"testdata/bad/empty_strings.yml:1: endpoint: must not be empty; remove the key to use https://dyvmsapi.aliyuncs.com",
		"testdata/bad/empty_strings.yml:2: timezone: must not be empty; remove the key to use Asia/Shanghai",
	}},
	{"endpoint_not_url.yml", []string{
		"testdata/bad/endpoint_not_url.yml:1: endpoint: must be an absolute URL such as https://dyvmsapi.aliyuncs.com",
	}},
	{"endpoint_http_remote.yml", []string{
		`testdata/bad/endpoint_http_remote.yml:1: endpoint: http:// is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not "dyvmsapi.aliyuncs.com": requests carry credentials, which must never cross a network unencrypted; use https://`,
	}},
	{"endpoint_http_lookalike.yml", []string{
		`testdata/bad/endpoint_http_lookalike.yml:1: endpoint: http:// is allowed only for a loopback host (localhost, 127.0.0.0/8, ::1), not "localhost.example.com": requests carry credentials, which must never cross a network unencrypted; use https://`,
	}},
	{"endpoint_path_query.yml", []string{
		`testdata/bad/endpoint_path_query.yml:1: endpoint: must not have a path ("/v1"): the API is served at / of its host`,
		"testdata/bad/endpoint_path_query.yml:1: endpoint: must not have a query string: requests set their own",
	}},
	{"endpoint_userinfo.yml", []string{
		"testdata/bad/endpoint_userinfo.yml:1: endpoint: must not contain a user name or password",
	}},
	{"endpoint_scheme.yml", []string{
		`testdata/bad/endpoint_scheme.yml:1: endpoint: scheme must be https (or http for a loopback test endpoint), not "ftp"`,
		"testdata/bad/endpoint_scheme.yml:1: endpoint: port must be between 1 and 65535, not 70000",
	}},
	{"bad_api.yml", []string{
		"testdata/bad/bad_api.yml:2: api.requests_per_second: must be a positive number, got 0",
		"testdata/bad/bad_api.yml:3: api.burst: must be at least 1, got 0",
		"testdata/bad/bad_api.yml:4: api.concurrency: must be at least 1, got -1",
		"testdata/bad/bad_api.yml:5: api.min_interval: must not be negative (0s turns it off), got -5s",
		"testdata/bad/bad_api.yml:6: api.max_retries: must be between 0 and 10 (each retry spends the account's quota again), got 11",
	}},
	{"api_infinite.yml", []string{
		"testdata/bad/api_infinite.yml:2: api.requests_per_second: must be a positive number, got +Inf",
		"testdata/bad/api_infinite.yml:3: api.max_retries: must be between 0 and 10 (each retry spends the account's quota again), got -1",
	}},
	{"bad_duration.yml", []string{
		`testdata/bad/bad_duration.yml:2: api.min_interval: must be a duration with a unit, such as 30s, 5m or 1h30m, got "1d"`,
		`testdata/bad/bad_duration.yml:6: discovery[0].refresh_interval: must be a duration with a unit, such as 30s, 5m or 1h30m, got "soon"`,
	}},
	{"bad_discovery.yml", []string{
		"testdata/bad/bad_discovery.yml:3: discovery[0].types: required: list 1 (predictive), 2 (automatic) or both",
		"testdata/bad/bad_discovery.yml:4: discovery[0].statuses[1]: must be 0 (initial), 1 (running), 2 (paused) or 3 (finished), got 7",
		"testdata/bad/bad_discovery.yml:4: discovery[0].statuses[2]: 1 is listed twice",
		"testdata/bad/bad_discovery.yml:5: discovery[0].refresh_interval: must be at least 30s (listing tasks spends the account's quota), got 10s",
		"testdata/bad/bad_discovery.yml:6: discovery[1].enterprise_id: required (a positive integer)",
		"testdata/bad/bad_discovery.yml:6: discovery[1].types[0]: must be 1 (predictive) or 2 (automatic), got 3",
		"testdata/bad/bad_discovery.yml:6: discovery[1].types[2]: 2 is listed twice",
		"testdata/bad/bad_discovery.yml:7: discovery[2].enterprise_id: enterprise 7000002 already has a discovery entry at line 2; put all its types and statuses in one entry",
		"testdata/bad/bad_discovery.yml:9: discovery[3].types: required: list 1 (predictive), 2 (automatic) or both",
	}},
	{"discovery_wrong_types.yml", []string{
		"testdata/bad/discovery_wrong_types.yml:3: discovery[0].types: must be a list, got 1",
		`testdata/bad/discovery_wrong_types.yml:4: discovery[0].statuses[0]: must be an integer, got "running"`,
		"testdata/bad/discovery_wrong_types.yml:5: discovery[1].enterprise_id: enterprise 7000002 already has a discovery entry at line 2; put all its types and statuses in one entry",
		"testdata/bad/discovery_wrong_types.yml:6: discovery[1].typo: unknown key; valid keys: enterprise_id, types, statuses, refresh_interval",
	}},
}

func TestBadFiles(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range badCases {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata", "bad", tc.file))
			if err == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("returned a config along with the error")
			}
			want := strings.Join(tc.want, "\n")
			if err.Error() != want {
				t.Errorf("error\n got:\n%s\nwant:\n%s", err, want)
			}
			assertNoSecret(t, "error", err.Error())
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) != len(tc.want) {
				t.Errorf("not an *Error with %d problems: %#v", len(tc.want), err)
			}
		})
	}
	files, _ := filepath.Glob("testdata/bad/*.yml")
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no expected error in badCases", f)
		}
	}
}

func TestFullFile(t *testing.T) {
	cfg, err := Load("testdata/good/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Endpoint: "http://127.0.0.1:18080",
		Timezone: "UTC",
		Location: time.UTC,
		Credentials: &Credentials{
			AccessKeyID:         "LTAI5tExampleKeyId0000000",
			AccessKeySecretFile: filepath.Join("testdata", "good", "secret.txt"),
			SecurityTokenFile:   filepath.Join("testdata", "good", "token.txt"),
		},
		API: APIConfig{RequestsPerSecond: 2.5, Burst: 5, Concurrency: 3, MinInterval: 10 * time.Second, MaxRetries: 0},
		Discovery: []Discovery{
			{EnterpriseID: 7000002, Types: []int{1, 2}, Statuses: []int{0, 1, 2, 3}, RefreshInterval: 90 * time.Minute},
			{EnterpriseID: 7000003, Types: []int{2}, RefreshInterval: 5 * time.Minute},
		},
		Tasks:   []Task{{7000002, 19}, {7000002, 20}, {7000003, 19}},
		Metrics: DefaultMetrics,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %s\nwant %s", dump(cfg), dump(want))
	}
}

// TestAccessKeyIDFile: the id alone may come from a file, relative to the
// configuration's directory; the provider then reads it, and the key's
// name (logs, rate limiter) is the file, not a value that may rotate.
func TestAccessKeyIDFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"id": "LTAI5tFromAFile000000\n", "secret": fakeSecret} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	src := "credentials:\n  access_key_id_file: id\n  access_key_secret: " + fakeSecret + "\ntasks: [{enterprise_id: 1, task_id: 2}]\n"
	cfg, err := Parse([]byte(src), filepath.Join(dir, "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(dir, "id")
	if cfg.Credentials.AccessKeyIDFile != idFile || cfg.Credentials.AccessKeyID != "" {
		t.Errorf("access_key_id_file %q (id %q), want %s", cfg.Credentials.AccessKeyIDFile, cfg.Credentials.AccessKeyID, idFile)
	}
	if got, want := cfg.Credentials.KeyName(), "access_key_id_file "+idFile; got != want {
		t.Errorf("KeyName %q, want %q", got, want)
	}
	if got, want := fmt.Sprint(*cfg.Credentials), "access_key_id_file="+idFile+" access_key_secret=<secret>"; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
	inline, err := Load("testdata/good/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := inline.Credentials.KeyName(); got != "LTAI5tExampleKeyId0000000" {
		t.Errorf("KeyName of an inline id: %q", got)
	}
}

func dump(c *Config) string {
	b, _ := json.Marshal(c)
	return fmt.Sprintf("%s location=%v", b, c.Location)
}

func TestDefaults(t *testing.T) {
	cfg, err := Load("testdata/good/minimal.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "https://dyvmsapi.aliyuncs.com" || cfg.Timezone != "Asia/Shanghai" || cfg.Location.String() != "Asia/Shanghai" {
		t.Errorf("endpoint/timezone defaults: %q %q %v", cfg.Endpoint, cfg.Timezone, cfg.Location)
	}
	wantAPI := APIConfig{RequestsPerSecond: 20, Burst: 20, Concurrency: 8, MinInterval: 0, MaxRetries: 2}
	if cfg.API != wantAPI {
		t.Errorf("api defaults: %+v", cfg.API)
	}
	if cfg.Credentials != nil || cfg.Discovery != nil {
		t.Errorf("credentials/discovery should be absent: %+v %+v", cfg.Credentials, cfg.Discovery)
	}

	// Partial sections keep the defaults of the keys they leave out.
	_, err = Parse([]byte("api: {burst: 3}\napi_x: 1\n"), "x.yml")
	if err == nil || !strings.Contains(err.Error(), "api_x: unknown key") {
		t.Fatalf("unknown top-level key: %v", err)
	}
	cfg, err = Parse([]byte("api:\n  burst: 3\ndiscovery:\n  - {enterprise_id: 1, types: [2]}\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (APIConfig{RequestsPerSecond: 20, Burst: 3, Concurrency: 8, MaxRetries: 2}); cfg.API != want {
		t.Errorf("partial api: %+v", cfg.API)
	}
	if cfg.Discovery[0].RefreshInterval != 5*time.Minute || cfg.Discovery[0].Statuses != nil {
		t.Errorf("discovery defaults: %+v", cfg.Discovery[0])
	}
	// An empty api section is the defaults, not zeros.
	cfg, err = Parse([]byte("api:\ntasks: [{enterprise_id: 1, task_id: 2}]\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API != wantAPI {
		t.Errorf("null api: %+v", cfg.API)
	}
}

func TestGoodVariants(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, endpoint string
	}{
		{"localhost", "endpoint: http://localhost:8080\n", "http://localhost:8080"},
		{"ipv6 loopback", "endpoint: http://[::1]:9/\n", "http://[::1]:9"},
		{"127/8", "endpoint: http://127.8.9.10\n", "http://127.8.9.10"},
		{"upper-case https", "endpoint: HTTPS://dyvmsapi.aliyuncs.com\n", "https://dyvmsapi.aliyuncs.com"},
		{"https anywhere", "endpoint: https://10.0.0.1:8443\n", "https://10.0.0.1:8443"},
		{"anchors and merge keys", "base: &b {enterprise_id: 7}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.yaml + "tasks:\n  - {enterprise_id: 7000002, task_id: 19}\n"
			if tc.name == "anchors and merge keys" {
				src = "tasks:\n  - &t {enterprise_id: 7000002, task_id: 19}\n  - <<: *t\n    task_id: 20\n"
			}
			cfg, err := Parse([]byte(src), "v.yml")
			if err != nil {
				t.Fatal(err)
			}
			if tc.endpoint != "" && cfg.Endpoint != tc.endpoint {
				t.Errorf("endpoint %q, want %q", cfg.Endpoint, tc.endpoint)
			}
			if tc.name == "anchors and merge keys" && !reflect.DeepEqual(cfg.Tasks, []Task{{7000002, 19}, {7000002, 20}}) {
				t.Errorf("tasks %+v", cfg.Tasks)
			}
		})
	}
}

func TestRootExampleLoads(t *testing.T) {
	cfg, err := Load("../config.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != DefaultEndpoint || cfg.Timezone != DefaultTimezone || cfg.API != DefaultAPIConfig || !reflect.DeepEqual(cfg.Metrics, DefaultMetrics) {
		t.Errorf("the example should show the defaults: %s", dump(cfg))
	}
	if !reflect.DeepEqual(cfg.Tasks, []Task{{EnterpriseID: 7000002, TaskID: 19}}) || cfg.Discovery != nil || cfg.Credentials != nil {
		t.Errorf("the example should list task 7000002/19 and use the default chain: %s", dump(cfg))
	}
	// Every key of every section is mentioned, so the example documents all.
	raw, err := os.ReadFile("../config.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"", "credentials", "api", "discovery[0]", "tasks[0]", "metrics", "call_records[0]", "accounts[0]", "accounts[0].credentials", "accounts[0].api"} {
		for _, key := range strings.Split(validKeys(section), ", ") {
			if !strings.Contains(string(raw), key+":") {
				t.Errorf("config.yml does not mention %s", joinPath(section, key))
			}
		}
	}
}

func TestInlineSecretsNeverShown(t *testing.T) {
	cfg, err := Load("testdata/good/inline_secret.yml")
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.Credentials.AccessKeySecret) != fakeSecret || string(cfg.Credentials.SecurityToken) != fakeToken {
		t.Fatalf("inline secrets not loaded")
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		assertNoSecret(t, verb+" of *Config", fmt.Sprintf(verb, cfg))
		assertNoSecret(t, verb+" of Config", fmt.Sprintf(verb, *cfg))
		assertNoSecret(t, verb+" of Credentials", fmt.Sprintf(verb, *cfg.Credentials))
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "YAML", string(y))
	if !strings.Contains(string(y), "access_key_secret: <secret>") {
		t.Errorf("YAML dump does not mark the secret:\n%s", y)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "JSON", string(j))
}

func TestReadErrorNamesFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yml")
	if err == nil || err.Error() != "reading config file: open testdata/does-not-exist.yml: no such file or directory" {
		t.Errorf("got %v", err)
	}
}

func TestRelativeSecretPathFollowsConfigFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s"), []byte(fakeSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "credentials:\n  access_key_id: LTAI5tX\n  access_key_secret_file: s\ntasks: [{enterprise_id: 1, task_id: 1}]\n"
	if err := os.WriteFile(filepath.Join(dir, "c.yml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Credentials.AccessKeySecretFile != filepath.Join(dir, "s") {
		t.Errorf("secret file resolved to %q", cfg.Credentials.AccessKeySecretFile)
	}
	if _, err := Parse([]byte(src), ""); err == nil || !strings.HasPrefix(err.Error(), "config:3: credentials.access_key_secret_file: cannot read s:") {
		t.Errorf("Parse without a file name: %v", err)
	}
}

// FuzzParse: no input may panic, every problem must be well formed, and
// nothing incomplete may be accepted. (Secrets in errors are covered by the
// table above: a fuzzed secret can legitimately land in, say, timezone.)
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/bad/*.yml", "testdata/good/*.yml", "../config.yml"} {
		files, _ := filepath.Glob(dir)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "f.yml")
		if err == nil {
			if cfg == nil || cfg.Location == nil || (len(cfg.Tasks) == 0 && len(cfg.Discovery) == 0) {
				t.Fatalf("accepted an incomplete config: %+v", cfg)
			}
			return
		}
		var ce *Error
		if !errors.As(err, &ce) || len(ce.Problems) == 0 {
			t.Fatalf("not a config.Error: %v", err)
		}
		for _, p := range ce.Problems {
			if p.File != "f.yml" || p.Msg == "" {
				t.Fatalf("malformed problem %#v", p)
			}
		}
	})
}

// TestHTTPOnlyForLoopback: http:// (credentials and signatures in the
// clear) is refused for every address that leaves the machine, private
// ranges and link-local included, however it is spelled, and accepted for
// loopback only.
func TestHTTPOnlyForLoopback(t *testing.T) {
	for _, host := range []string{
		"10.0.0.1", "10.255.255.254", // 10/8
		"172.16.0.1", "172.31.255.254", "172.20.1.2", // 172.16/12
		"192.168.0.1", "192.168.255.254", // 192.168/16
		"[fc00::1]", "[fd12:3456:789a::1]", "[fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]", // fc00::/7
		"169.254.169.254", "169.254.0.1", "[fe80::1]", "[fe80::1%25eth0]", // link-local (the metadata service)
		"0.0.0.0", "[::]", // unspecified: "any address", not loopback
		"[::ffff:10.0.0.1]", "[::ffff:192.168.1.1]", // IPv4-mapped private
		"100.64.0.1", "8.8.8.8", "[2001:db8::1]", // shared and public
		"127.0.0.1.nip.io", "localhost.", "localhost.localdomain", "0x7f000001", "2130706433", "127.1", "[::1%25lo]", // loopback look-alikes
	} {
		t.Run(host, func(t *testing.T) {
			src := "endpoint: http://" + host + ":8080\ntasks:\n  - {enterprise_id: 7000002, task_id: 19}\n"
			_, err := Parse([]byte(src), "h.yml")
			if err == nil || !strings.Contains(err.Error(), "h.yml:1: endpoint: http:// is allowed only for a loopback host") {
				t.Errorf("http://%s: err = %v, want the loopback refusal", host, err)
			}
			// https is fine anywhere.
			if _, err := Parse([]byte(strings.Replace(src, "http://", "https://", 1)), "h.yml"); err != nil && !strings.Contains(host, "%") {
				t.Errorf("https://%s: %v", host, err)
			}
		})
	}
	for _, host := range []string{"127.0.0.1", "127.0.0.2", "127.255.255.254", "[::1]", "localhost", "LocalHost", "[::ffff:127.0.0.1]"} {
		t.Run("loopback "+host, func(t *testing.T) {
			src := "endpoint: http://" + host + ":8080\ntasks:\n  - {enterprise_id: 7000002, task_id: 19}\n"
			cfg, err := Parse([]byte(src), "h.yml")
			if err != nil {
				t.Fatalf("http://%s refused: %v", host, err)
			}
			if cfg.Endpoint != "http://"+host+":8080" {
				t.Errorf("endpoint %q", cfg.Endpoint)
			}
		})
	}
}

// A call-centre view or call outcomes alone are something to scrape: an
// exporter may watch only the inbound side of a call centre.
func TestViewsAloneAreSomethingToScrape(t *testing.T) {
	for name, src := range map[string]string{
		"enterprises":  "enterprises:\n  - {enterprise_id: 7000002, online_agents: true}\n",
		"call_records": "call_records:\n  - enterprise_id: 7000002\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Parse([]byte(src), "v.yml")
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Tasks) != 0 || len(cfg.Enterprises)+len(cfg.CallRecords) != 1 {
				t.Errorf("tasks %v, enterprises %v, call_records %v", cfg.Tasks, cfg.Enterprises, cfg.CallRecords)
			}
		})
	}
}
