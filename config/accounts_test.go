package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const accountsGood = `endpoint: https://dyvmsapi.aliyuncs.com
credentials:
  access_key_id: LTAIdefault
  access_key_secret: NotARealSecretButTreatItAsOne
api: {requests_per_second: 7, burst: 7, concurrency: 3, max_retries: 5, min_interval: 10s}
accounts:
  - name: client-b
    enterprises: [7000003, 7000004]
    endpoint: http://127.0.0.1:9915
    credentials:
      access_key_id: LTAIb
      access_key_secret: NotARealSecretButTreatItAsOne
    api: {requests_per_second: 10, burst: 10, concurrency: 4}
  - name: group_c
    enterprises: [7000005]
    credentials:
      role_arn: acs:ram::1234567890123456:role/dyvms-reader
      external_id: abc-123
      sts_endpoint: https://sts.cn-hangzhou.aliyuncs.com
tasks:
  - {enterprise_id: 7000002, task_id: 19}
  - {enterprise_id: 7000003, task_id: 31}
  - {enterprise_id: 7000005, task_id: 51}
`

func TestAccountsParse(t *testing.T) {
	cfg, err := Parse([]byte(accountsGood), "a.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %v", cfg.Warnings)
	}
	if len(cfg.Accounts) != 2 {
		t.Fatalf("accounts %+v", cfg.Accounts)
	}
	b, c := cfg.Accounts[0], cfg.Accounts[1]
	// Keys an account's api leaves out come from the top level's.
	if b.Name != "client-b" || b.Endpoint != "http://127.0.0.1:9915" || b.API.RequestsPerSecond != 10 || b.API.Concurrency != 4 ||
		b.API.MaxRetries != 5 || b.API.MinInterval != 10*time.Second || b.Credentials.AccessKeyID != "LTAIb" || b.Credentials.RoleARN != "" {
		t.Errorf("client-b: %+v api %+v", b, *b.API)
	}
	// Absent endpoint and api: the top level's.
	if c.Endpoint != cfg.Endpoint || *c.API != cfg.API || c.API == &cfg.API {
		t.Errorf("group_c endpoint %q api %+v; want the top level's, as a copy", c.Endpoint, *c.API)
	}
	cr := c.Credentials
	if cr.HasKeys() || cr.RoleARN != "acs:ram::1234567890123456:role/dyvms-reader" || cr.ExternalID != "abc-123" ||
		cr.STSEndpoint != "sts.cn-hangzhou.aliyuncs.com" || cr.RoleSessionName != "dyvms-exporter-group_c" {
		t.Errorf("group_c credentials %#v: %q %q %q", cr, cr.STSEndpoint, cr.RoleSessionName, cr.ExternalID)
	}
	for ent, want := range map[int64]string{7000002: "default", 7000003: "client-b", 7000004: "client-b", 7000005: "group_c", 1: "default"} {
		if got := cfg.AccountOf(ent); got != want {
			t.Errorf("AccountOf(%d) = %q, want %q", ent, got, want)
		}
	}
	if o := cfg.Owners(); len(o) != 3 || o[7000005] != "group_c" {
		t.Errorf("Owners %v", o)
	}
	// Printing never shows a secret or the external id.
	for _, s := range []string{fmt.Sprint(cfg.Accounts), fmt.Sprintf("%+v", cfg.Accounts), fmt.Sprintf("%#v", cfg.Accounts), fmt.Sprintf("%s", cr), fmt.Sprintf("%v", *cr)} {
		assertNoSecret(t, "printed accounts", s)
		if strings.Contains(s, "abc-123") {
			t.Errorf("printed accounts show the external id: %s", s)
		}
	}
}

// A configuration without accounts means what it always meant: every
// enterprise belongs to the default account.
func TestNoAccountsIsDefault(t *testing.T) {
	cfg, err := Parse([]byte("tasks: [{enterprise_id: 1, task_id: 2}]\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != 0 || cfg.AccountOf(1) != DefaultAccountName || len(cfg.Owners()) != 0 {
		t.Errorf("accounts %+v", cfg.Accounts)
	}
}

func TestAccountsErrors(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "s")
	if err := os.WriteFile(secret, []byte("NotARealSecretButTreatItAsOne\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const head = "tasks: [{enterprise_id: 1, task_id: 2}]\naccounts:\n"
	keys := "    credentials: {access_key_id: LTAIx, access_key_secret: NotARealSecretButTreatItAsOne}\n"
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"enterprise owned twice", "  - name: a\n    enterprises: [5, 6]\n" + keys + "  - name: b\n    enterprises:\n      - 7\n      - 5\n" + keys,
			[]string{`x.yml:9: accounts[1].enterprises[1]: enterprise 5 is owned by two accounts: "a" at line 4 and "b" at line 9; an enterprise belongs to exactly one account`}},
		{"enterprise twice in one account", "  - name: a\n    enterprises: [5, 5]\n" + keys,
			[]string{`x.yml:4: accounts[0].enterprises[1]: enterprise 5 is listed twice in account "a" (lines 4 and 4)`}},
		{"duplicate name", "  - name: a\n    enterprises: [5]\n" + keys + "  - name: a\n    enterprises: [6]\n" + keys,
			[]string{`x.yml:6: accounts[1].name: account "a" is already defined at line 3`}},
		{"malformed name", "  - name: Client B\n    enterprises: [5]\n" + keys,
			[]string{`x.yml:3: accounts[0].name: "Client B" is not a valid account name: use only lower-case letters, digits, '-' and '_'`}},
		{"reserved name", "  - name: default\n    enterprises: [5]\n" + keys,
			[]string{`x.yml:3: accounts[0].name: "default" is the name of the top-level credentials' account; choose another`}},
		{"missing name", "  - enterprises: [5]\n" + keys,
			[]string{`x.yml:3: accounts[0].name: required: a name of lower-case letters, digits, '-' and '_', shown in logs and in the account label`}},
		{"role without source identity", "  - name: a\n    enterprises: [5]\n    credentials:\n      role_arn: acs:ram::123:role/r\n      access_key_id: LTAIx\n",
			[]string{`x.yml:6: accounts[0].credentials: the role's source identity is incomplete: access_key_secret or access_key_secret_file is required with the other key parts (or give no key, to assume the role with the default account's identity)`}},
		{"role settings without a role", "  - name: a\n    enterprises: [5]\n    credentials:\n      external_id: e\n",
			[]string{
				`x.yml:6: accounts[0].credentials: one of access_key_id or access_key_id_file is required, or role_arn to assume a role`,
				`x.yml:6: accounts[0].credentials: one of access_key_secret or access_key_secret_file is required, or role_arn to assume a role`,
				`x.yml:6: accounts[0].credentials.external_id: is a setting of an assumed role, but role_arn is not set`,
			}},
		{"no credentials", "  - name: a\n    enterprises: [5]\n",
			[]string{`x.yml:3: accounts[0]: credentials: required: an access key (access_key_id and access_key_secret, inline or *_file) or a role (role_arn); an account without its own identity would read its enterprises as the default account`}},
		{"not an ARN", "  - name: a\n    enterprises: [5]\n    credentials:\n      role_arn: arn:aws:iam::123:role/r\n",
			[]string{`x.yml:6: accounts[0].credentials.role_arn: "arn:aws:iam::123:role/r" is not a RAM role ARN; write acs:ram::<account uid>:role/<role name>`}},
		{"ARN without uid", "  - name: a\n    enterprises: [5]\n    credentials:\n      role_arn: acs:ram:::role/r\n",
			[]string{`x.yml:6: accounts[0].credentials.role_arn: "acs:ram:::role/r" is not a RAM role ARN; write acs:ram::<account uid>:role/<role name>`}},
		{"inline and file", "  - name: a\n    enterprises: [5]\n    credentials:\n      access_key_id: LTAIx\n      access_key_secret: NotARealSecretButTreatItAsOne\n      access_key_secret_file: " + secret + "\n",
			[]string{`x.yml:8: accounts[0].credentials.access_key_secret_file: set either access_key_secret or access_key_secret_file, not both`}},
		{"sts endpoint and region", "  - name: a\n    enterprises: [5]\n    credentials:\n      role_arn: acs:ram::123:role/r\n      sts_endpoint: sts.aliyuncs.com\n      region: cn-hangzhou\n",
			[]string{`x.yml:8: accounts[0].credentials.region: set either sts_endpoint or region, not both`}},
		{"sts endpoint over http", "  - name: a\n    enterprises: [5]\n    credentials:\n      role_arn: acs:ram::123:role/r\n      sts_endpoint: http://127.0.0.1:1\n",
			[]string{`x.yml:7: accounts[0].credentials.sts_endpoint: must be a host name with an optional port, such as sts.cn-hangzhou.aliyuncs.com (STS is always reached over https)`}},
		{"bad account endpoint and api", "  - name: a\n    enterprises: [5]\n    endpoint: ftp://x\n    api: {burst: 0}\n" + keys,
			[]string{
				`x.yml:5: accounts[0].endpoint: scheme must be https (or http for a loopback test endpoint), not "ftp"`,
				`x.yml:6: accounts[0].api.burst: must be at least 1, got 0`,
			}},
		{"unknown key", "  - name: a\n    enterprises: [5]\n    region: cn-hangzhou\n" + keys,
			[]string{`x.yml:5: accounts[0].region: unknown key; valid keys: name, enterprises, endpoint, credentials, api`}},
		{"secret pasted as a key", "  - name: a\n    enterprises: [5]\n    credentials:\n      role_arn: acs:ram::123:role/r\n      NotARealSecretButTreatItAsOne: 1\n",
			[]string{`x.yml:7: accounts[0].credentials: unknown key (name not shown: it does not look like a key and may be a secret); valid keys: access_key_id, access_key_id_file, access_key_secret, access_key_secret_file, security_token, security_token_file, role_arn, external_id, role_session_name, sts_endpoint, region`}},
		{"external id with a space", "  - name: a\n    enterprises: [5]\n    credentials:\n      role_arn: acs:ram::123:role/r\n      external_id: 'a b'\n",
			[]string{`x.yml:7: accounts[0].credentials.external_id: must be 2 to 1224 letters, digits or = , . @ : / - _ (STS's ExternalId; value not shown)`}},
		{"enterprise not an id", "  - name: a\n    enterprises: [0]\n" + keys,
			[]string{`x.yml:4: accounts[0].enterprises[0]: must be a positive integer (an enterprise id), got 0`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(head+tc.body), "x.yml")
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			assertNoSecret(t, "error", err.Error())
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

// An account owning no enterprises loads, with a warning at its line.
func TestAccountWithoutEnterprisesWarns(t *testing.T) {
	src := "tasks: [{enterprise_id: 1, task_id: 2}]\naccounts:\n  - name: idle\n    credentials: {role_arn: 'acs:ram::123:role/r'}\n"
	cfg, err := Parse([]byte(src), "w.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || cfg.Warnings[0].Error() != `w.yml:3: accounts[0]: account "idle" owns no enterprises: nothing is read with it; list its enterprise ids in enterprises` {
		t.Errorf("warnings %v", cfg.Warnings)
	}
}

// Key files of an account resolve against the config file's directory and
// are checked at load, as at the top level.
func TestAccountKeyFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b.secret"), []byte("NotARealSecretButTreatItAsOne\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "tasks: [{enterprise_id: 1, task_id: 2}]\naccounts:\n  - name: b\n    enterprises: [5]\n    credentials:\n      access_key_id: LTAIb\n      access_key_secret_file: b.secret\n"
	cfg, err := Parse([]byte(src), filepath.Join(dir, "c.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Accounts[0].Credentials.AccessKeySecretFile; got != filepath.Join(dir, "b.secret") {
		t.Errorf("secret file %q", got)
	}
	_, err = Parse([]byte(strings.Replace(src, "b.secret", "missing", 1)), filepath.Join(dir, "c.yml"))
	if err == nil || !strings.Contains(err.Error(), ":7: accounts[0].credentials.access_key_secret_file: cannot read") {
		t.Errorf("err %v", err)
	}
}
