package credentials

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/config"
)

// FromConfig picks the provider by where the parts are: none (the default
// chain), all inline (Static), any in a file (Files, re-read at use).
func TestFromConfig(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	const id, secret, token = "LTAI5tExampleKeyId0000000", "NotARealSecretButTreatItAsOne", "NotARealTokenButTreatItAsOne"
	dir := t.TempDir()
	for name, content := range map[string]string{"id": "LTAI5tFromAFile000000\n", "secret": secret, "token": token} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	load := func(creds string) *config.Config {
		t.Helper()
		cfg, err := config.Parse([]byte(creds+"tasks: [{enterprise_id: 1, task_id: 2}]\n"), filepath.Join(dir, "config.yml"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	for _, c := range []struct {
		name, creds, wantType string
		wantID, wantToken     string
	}{
		{"none", "", "*credentials.Chain", "", ""},
		{"inline", fmt.Sprintf("credentials: {access_key_id: %s, access_key_secret: %s, security_token: %s}\n", id, secret, token), "*credentials.Static", id, token},
		{"secret and token in files", fmt.Sprintf("credentials: {access_key_id: %s, access_key_secret_file: secret, security_token_file: token}\n", id), "*credentials.Files", id, token},
		{"secret in a file, token inline", fmt.Sprintf("credentials: {access_key_id: %s, access_key_secret_file: secret, security_token: %s}\n", id, token), "*credentials.Files", id, token},
		{"id in a file", fmt.Sprintf("credentials: {access_key_id_file: id, access_key_secret: %s}\n", secret), "*credentials.Files", "LTAI5tFromAFile000000", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := FromConfig(load(c.creds).Credentials)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", p); got != c.wantType {
				t.Fatalf("provider is %s, want %s", got, c.wantType)
			}
			if c.wantID == "" {
				return
			}
			got, err := p.Credentials(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got.AccessKeyID != c.wantID || got.AccessKeySecret != secret || got.SecurityToken != c.wantToken {
				t.Errorf("credentials %q, secret ok %v, token %q; want %q, true, %q", got.AccessKeyID, got.AccessKeySecret == secret, got.SecurityToken, c.wantID, c.wantToken)
			}
			for _, verb := range []string{"%v", "%+v", "%#v"} {
				if s := fmt.Sprintf(verb, p); strings.Contains(s, secret) || strings.Contains(s, token) {
					t.Errorf("%s of the provider shows a secret: %s", verb, s)
				}
			}
		})
	}
}
