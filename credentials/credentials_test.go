package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	alicred "github.com/aliyun/credentials-go/credentials"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

const (
	testID     = "LTAI5tTestKeyId0000000"
	testSecret = "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3t" // 30 characters, like a real one
	testToken  = "CAIS-sts-token-very-secret-value"
)

// isolateChain makes the vendor chain see nothing of this machine: no
// metadata service (never 100.100.100.200 from a test), an empty home, and
// none of the variables it reads.
func isolateChain(t *testing.T) string {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
		"ALIBABA_CLOUD_OIDC_TOKEN", "ALIBABA_CLOUD_CONFIG_FILE", "ALIBABA_CLOUD_PROFILE",
		"ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "ALIBABA_CLOUD_CREDENTIALS_FILE",
		"ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_CREDENTIALS_URI",
	} {
		t.Setenv(v, "")
	}
	return home
}

// assertNoSecret fails when any of the test secrets shows up in s.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testSecret, testToken, "S3cr3t", "very-secret"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s leaks a secret: %q", what, s)
		}
	}
}

func TestStatic(t *testing.T) {
	p := NewStatic(testID, testSecret, testToken)
	c, err := p.Credentials(failFast(t))
	if err != nil {
		t.Fatal(err)
	}
	want := apiclient.Credentials{AccessKeyID: testID, AccessKeySecret: testSecret, SecurityToken: testToken}
	if c != want {
		t.Errorf("got %#v", c)
	}
	var zero Static
	if _, err := zero.Credentials(failFast(t)); err == nil {
		t.Error("zero Static gave credentials")
	}
}

func TestProvidersNeverFormatSecrets(t *testing.T) {
	dir := t.TempDir()
	files, err := NewFiles(FilesConfig{AccessKeyID: testID, AccessKeySecret: testSecret, SecurityToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, testToken)
	mixed, err := NewFiles(FilesConfig{AccessKeyID: testID, AccessKeySecret: testSecret, SecurityTokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mixed.Credentials(failFast(t)); err != nil { // fill the cache
		t.Fatal(err)
	}
	isolateChain(t)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret)
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", testToken)
	chain := NewChain()
	if _, err := chain.Credentials(failFast(t)); err != nil { // holds a vendor credential now
		t.Fatal(err)
	}
	cfg := FilesConfig{AccessKeyID: testID, AccessKeySecret: testSecret, SecurityToken: testToken}

	values := map[string]any{
		"*Static": NewStatic(testID, testSecret, testToken), "Static": *NewStatic(testID, testSecret, testToken),
		"*Files": files, "Files": *files, "*Files(mixed)": mixed, "Files(mixed)": *mixed,
		"*Chain": chain, "Chain": *chain, "FilesConfig": cfg, "*FilesConfig": &cfg,
		// Inside another struct fmt cannot call the methods of unexported
		// fields; the pointer indirection keeps the secret out of reach.
		"wrapped Static": struct{ s Static }{*NewStatic(testID, testSecret, testToken)},
		"wrapped *Files": struct{ f *Files }{mixed},
		"wrapped Chain":  struct{ c Chain }{*chain},
		"wrapped iface":  struct{ p apiclient.CredentialsProvider }{files},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			assertNoSecret(t, name+" "+verb, out)
			if verb == "%v" {
				t.Logf("%s %%v = %s", name, out)
			}
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestFilesRotation(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, secretFile, "first-secret-000000000000000000\n")
	writeFile(t, tokenFile, "first-token")
	now := time.Unix(1_700_000_000, 0)
	p, err := newFiles(FilesConfig{AccessKeyID: testID, AccessKeySecretFile: secretFile, SecurityTokenFile: tokenFile},
		func() time.Time { return now }, os.Open)
	if err != nil {
		t.Fatal(err)
	}
	ctx := failFast(t)

	get := func() apiclient.Credentials {
		t.Helper()
		c, err := p.Credentials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := get(); c.AccessKeySecret != "first-secret-000000000000000000" || c.SecurityToken != "first-token" || c.AccessKeyID != testID {
		t.Fatalf("first read: %#v / %q %q", c, c.AccessKeySecret, c.SecurityToken)
	}

	// Same length, new mtime: a rotation of a real key looks like this.
	writeFile(t, secretFile, "second-secret-00000000000000000\n")
	mtime := time.Now().Add(time.Hour)
	if err := os.Chtimes(secretFile, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if c := get(); c.AccessKeySecret != "second-secret-00000000000000000" {
		t.Errorf("rotation by mtime not picked up: %q", c.AccessKeySecret)
	}

	// Atomic replacement by rename (how Kubernetes and most tools do it).
	tmp := filepath.Join(dir, "token.new")
	writeFile(t, tmp, "second-token")
	if err := os.Rename(tmp, tokenFile); err != nil {
		t.Fatal(err)
	}
	if c := get(); c.SecurityToken != "second-token" {
		t.Errorf("rotation by rename not picked up: %q", c.SecurityToken)
	}

	// Same size and same mtime: invisible to stat, so only the periodic
	// re-read finds it.
	info, _ := os.Stat(secretFile)
	writeFile(t, secretFile, "third-secret-000000000000000000\n")
	if err := os.Chtimes(secretFile, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	if c := get(); c.AccessKeySecret != "second-secret-00000000000000000" {
		t.Errorf("cache not used for an unchanged-looking file: %q", c.AccessKeySecret)
	}
	now = now.Add(rereadAfter)
	if c := get(); c.AccessKeySecret != "third-secret-000000000000000000" {
		t.Errorf("periodic re-read missing: %q", c.AccessKeySecret)
	}
}

func TestFilesErrors(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	writeFile(t, secretFile, testSecret)
	p, err := NewFiles(FilesConfig{AccessKeyID: testID, AccessKeySecretFile: secretFile})
	if err != nil {
		t.Fatal(err)
	}
	ctx := failFast(t)
	if c, err := p.Credentials(ctx); err != nil || c.AccessKeySecret != testSecret || c.SecurityToken != "" {
		t.Fatalf("got %q %q, %v", c.AccessKeySecret, c.SecurityToken, err)
	}

	if err := os.Remove(secretFile); err != nil {
		t.Fatal(err)
	}
	_, err = p.Credentials(ctx)
	want := "credentials: access_key_secret_file " + secretFile + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("missing file: got %v, want %q", err, want)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file error does not wrap os.ErrNotExist: %v", err)
	}

	writeFile(t, secretFile, " \n")
	_, err = p.Credentials(ctx)
	want = "credentials: access_key_secret_file " + secretFile + " is empty"
	if err == nil || err.Error() != want {
		t.Errorf("empty file: got %v, want %q", err, want)
	}

	writeFile(t, secretFile, strings.Repeat(testSecret, 3000))
	_, err = p.Credentials(ctx)
	if err == nil || !strings.Contains(err.Error(), "larger than 64 KiB") {
		t.Errorf("huge file: got %v", err)
	}
	assertNoSecret(t, "huge file error", err.Error())

	if err := os.Remove(secretFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(secretFile, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = p.Credentials(ctx)
	if err == nil || err.Error() != "credentials: access_key_secret_file "+secretFile+": not a regular file" {
		t.Errorf("directory: got %v", err)
	}

	if _, err := NewFiles(FilesConfig{AccessKeyID: testID}); err == nil {
		t.Error("NewFiles without a secret succeeded")
	}
	if _, err := NewFiles(FilesConfig{AccessKeySecret: testSecret}); err == nil {
		t.Error("NewFiles without an id succeeded")
	}
}

// TestFilesKeyIDRotation: the id is a file source like the secret, so a
// rotated id file is picked up by the next request.
func TestFilesKeyIDRotation(t *testing.T) {
	dir := t.TempDir()
	idFile, secretFile := filepath.Join(dir, "id"), filepath.Join(dir, "secret")
	writeFile(t, idFile, "LTAI5tFirstKeyId000000\n")
	writeFile(t, secretFile, testSecret)
	p, err := NewFiles(FilesConfig{AccessKeyIDFile: idFile, AccessKeySecretFile: secretFile})
	if err != nil {
		t.Fatal(err)
	}
	ctx := failFast(t)
	if c, err := p.Credentials(ctx); err != nil || c.AccessKeyID != "LTAI5tFirstKeyId000000" || c.AccessKeySecret != testSecret {
		t.Fatalf("first read: %v, %v", c, err)
	}
	tmp := filepath.Join(dir, "id.new")
	writeFile(t, tmp, "LTAI5tSecondKeyId00000")
	if err := os.Rename(tmp, idFile); err != nil {
		t.Fatal(err)
	}
	if c, err := p.Credentials(ctx); err != nil || c.AccessKeyID != "LTAI5tSecondKeyId00000" {
		t.Errorf("rotated id not picked up: %v, %v", c, err)
	}
	if s := p.String(); !strings.Contains(s, "access_key_id_file="+idFile) {
		t.Errorf("String %q does not name the id file", s)
	}
}

// TestFilesKeyIDErrors: a missing or empty id file fails the request with
// the path, never the content, and the id last read is not reused.
func TestFilesKeyIDErrors(t *testing.T) {
	dir := t.TempDir()
	idFile, secretFile := filepath.Join(dir, "id"), filepath.Join(dir, "secret")
	writeFile(t, idFile, testID)
	writeFile(t, secretFile, testSecret)
	p, err := NewFiles(FilesConfig{AccessKeyIDFile: idFile, AccessKeySecretFile: secretFile})
	if err != nil {
		t.Fatal(err)
	}
	ctx := failFast(t)
	if _, err := p.Credentials(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(idFile); err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(ctx)
	if want := "credentials: access_key_id_file " + idFile + ": no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("missing id file: got %v (%v), want %q", err, c, want)
	}
	writeFile(t, idFile, "\n")
	_, err = p.Credentials(ctx)
	if want := "credentials: access_key_id_file " + idFile + " is empty"; err == nil || err.Error() != want {
		t.Errorf("empty id file: got %v, want %q", err, want)
	}
	// A secret pasted into the id file by mistake stays out of the error.
	writeFile(t, idFile, strings.Repeat(testSecret, 3000))
	_, err = p.Credentials(ctx)
	if err == nil || !strings.Contains(err.Error(), idFile) {
		t.Errorf("huge id file: got %v", err)
	} else {
		assertNoSecret(t, "huge id file error", err.Error())
	}
	if _, err := NewFiles(FilesConfig{AccessKeySecretFile: secretFile}); err == nil {
		t.Error("NewFiles with neither id nor id file succeeded")
	}
}

// TestFilesReadAsOneSet lays the files out as the kubelet does for a Secret
// volume (id -> ..data/id, ..data -> a versioned directory) and swaps
// ..data to a new version after the id is opened and before the secret is:
// the request must still be signed with one version's id and secret.
func TestFilesReadAsOneSet(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, v, "access_key_id"), "LTAI5tKeyId"+v+"000000")
		writeFile(t, filepath.Join(dir, v, "access_key_secret"), "secret-of-"+v)
	}
	if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"access_key_id", "access_key_secret"} {
		if err := os.Symlink(filepath.Join("..data", k), filepath.Join(dir, k)); err != nil {
			t.Fatal(err)
		}
	}
	swap := func() {
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink("v2", tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	idFile, secretFile := filepath.Join(dir, "access_key_id"), filepath.Join(dir, "access_key_secret")
	swapped := false
	open := func(name string) (*os.File, error) {
		if name == secretFile && !swapped {
			swapped = true
			swap()
		}
		return os.Open(name)
	}
	p, err := newFiles(FilesConfig{AccessKeyIDFile: idFile, AccessKeySecretFile: secretFile}, time.Now, open)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(failFast(t))
	if err != nil {
		t.Fatal(err)
	}
	if !swapped {
		t.Fatal("the secret file was never opened")
	}
	if c.AccessKeyID != "LTAI5tKeyIdv2000000" || c.AccessKeySecret != "secret-of-v2" {
		t.Errorf("got id %q with secret %q, want both of v2", c.AccessKeyID, c.AccessKeySecret)
	}
}

func TestChainEnvironment(t *testing.T) {
	isolateChain(t)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret)
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", testToken)
	c, err := NewChain().Credentials(failFast(t))
	if err != nil {
		t.Fatal(err)
	}
	want := apiclient.Credentials{AccessKeyID: testID, AccessKeySecret: testSecret, SecurityToken: testToken}
	if c != want {
		t.Errorf("got %#v", c)
	}
}

func TestChainProfileFile(t *testing.T) {
	home := isolateChain(t)
	if err := os.MkdirAll(filepath.Join(home, ".alibabacloud"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".alibabacloud", "credentials"),
		"[default]\ntype = access_key\naccess_key_id = "+testID+"\naccess_key_secret = "+testSecret+"\n")
	c, err := NewChain().Credentials(failFast(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != testID || c.AccessKeySecret != testSecret || c.SecurityToken != "" {
		t.Errorf("got %#v", c)
	}
}

// TestVendorChainStaysFailed pins down the vendor behaviour that Chain works
// around. If it starts failing after a credentials-go upgrade, the vendor has
// fixed the pitfall; Chain's rebuild stays harmless either way.
func TestVendorChainStaysFailed(t *testing.T) {
	isolateChain(t)
	cred, err := alicred.NewCredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetCredential(); err == nil {
		t.Fatal("isolated vendor chain found credentials")
	}
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret)
	if _, err := cred.GetCredential(); err == nil {
		t.Skip("the vendor chain now recovers by itself; Chain's rebuild is no longer needed")
	}
}

// failFast is a context for a call that must not block: a lock never
// released makes the test fail in seconds with a deadline error, instead
// of hanging until the test binary's timeout (a test that hangs is a
// failing test that takes ten minutes).
func failFast(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestChainFailsThenRecovers(t *testing.T) {
	home := isolateChain(t)
	chain := NewChain()
	ctx := failFast(t)

	_, err := chain.Credentials(ctx)
	if err == nil {
		t.Fatal("isolated chain found credentials")
	}
	want := "credentials: the default credential chain found no usable credentials: sources tried: " +
		"environment ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET: not set; " +
		"OIDC/RRSA (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE): not set; " +
		"CLI profile " + home + "/.aliyun/config.json: not found; " +
		"credentials file " + home + "/.alibabacloud/credentials: not found; " +
		"ECS RAM role: disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED=true; " +
		"ALIBABA_CLOUD_CREDENTIALS_URI: not set"
	if err.Error() != want {
		t.Errorf("error\n got: %s\nwant: %s", err, want)
	}

	// Half-fixed environment: the error says which half is missing.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", testID)
	_, err = chain.Credentials(ctx)
	if err == nil || !strings.Contains(err.Error(), "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not") {
		t.Errorf("half-set environment: %v", err)
	}

	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret)
	c, err := chain.Credentials(ctx)
	if err != nil {
		t.Fatalf("chain did not recover after the environment was fixed: %v", err)
	}
	if c.AccessKeyID != testID || c.AccessKeySecret != testSecret {
		t.Errorf("got %#v", c)
	}
}

// TestChainErrorsNeverQuoteFiles: the vendor's CLI-profile reader puts the
// whole file into its error when the JSON does not parse. Chain must not.
func TestChainErrorsNeverQuoteFiles(t *testing.T) {
	home := isolateChain(t)
	if err := os.MkdirAll(filepath.Join(home, ".aliyun"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(home, ".aliyun", "config.json")
	writeFile(t, cfgPath, `{"profiles": [{"name": "default", "mode": "AK", "access_key_id": "`+testID+
		`", "access_key_secret": "`+testSecret+`", "sts_token": "`+testToken+`"`) // truncated JSON
	t.Setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", filepath.Join(home, "no-such-token"))
	t.Setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1:oidc-provider/x")
	t.Setenv("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/x")
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", testToken)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret) // id missing: env source fails

	// Prove the premise: the vendor's own error does quote the secret.
	cred, _ := alicred.NewCredential(nil)
	if _, verr := cred.GetCredential(); verr == nil || !strings.Contains(verr.Error(), testSecret) {
		t.Logf("vendor error no longer quotes the file (fine): %v", verr != nil)
	} else {
		t.Log("as expected, the vendor's own error quotes the secret")
	}

	_, err := NewChain().Credentials(failFast(t))
	if err == nil {
		t.Fatal("chain found credentials")
	}
	assertNoSecret(t, "chain error", err.Error())
	for _, want := range []string{
		"CLI profile " + cfgPath + `: present, but no usable credentials (unreadable, malformed, or profile "current" missing or incomplete)`,
		"OIDC/RRSA: token file " + filepath.Join(home, "no-such-token") + " not found",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

// fakeCredential lets the tests below control timing and results without
// the vendor's sources.
type fakeCredential struct {
	alicred.Credential // nil: only GetCredential is called
	get                func() (*alicred.CredentialModel, error)
}

func (f fakeCredential) GetCredential() (*alicred.CredentialModel, error) { return f.get() }

func model(id, secret string) *alicred.CredentialModel {
	return &alicred.CredentialModel{AccessKeyId: &id, AccessKeySecret: &secret}
}

func TestChainSerialisesAndRebuilds(t *testing.T) {
	isolateChain(t)
	var (
		mu              sync.Mutex
		inside, maxSeen int
		builds          int
		fail            = true
	)
	chain := newChain(func() (alicred.Credential, error) {
		mu.Lock()
		builds++
		mu.Unlock()
		return fakeCredential{get: func() (*alicred.CredentialModel, error) {
			mu.Lock()
			inside++
			if inside > maxSeen {
				maxSeen = inside
			}
			f := fail
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			if f {
				return nil, errors.New("vendor says no: " + testSecret)
			}
			return model(testID, testSecret), nil
		}}, nil
	})
	ctx := failFast(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := chain.Credentials(ctx)
			if err == nil {
				t.Error("failing chain gave credentials")
				return
			}
			assertNoSecret(t, "chain error", err.Error())
		}()
	}
	wg.Wait()
	mu.Lock()
	if maxSeen != 1 {
		t.Errorf("%d calls overlapped inside the vendor chain", maxSeen)
	}
	if builds != 8 {
		t.Errorf("chain built %d times for 8 failures, want 8 (one fresh chain after every failure)", builds)
	}
	fail = false
	mu.Unlock()
	for range 3 {
		if _, err := chain.Credentials(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if builds != 9 {
		t.Errorf("healthy chain rebuilt: %d builds", builds)
	}
}

func TestChainHonoursContext(t *testing.T) {
	isolateChain(t)
	release := make(chan struct{})
	chain := newChain(func() (alicred.Credential, error) {
		return fakeCredential{get: func() (*alicred.CredentialModel, error) {
			<-release
			return model(testID, testSecret), nil
		}}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := chain.Credentials(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow chain: %v", err)
	}
	// A second caller waiting for the lock gives up as well.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := chain.Credentials(ctx2); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting") {
		t.Errorf("waiting caller: %v", err)
	}
	close(release)
	c, err := chain.Credentials(failFast(t))
	if err != nil || c.AccessKeyID != testID {
		t.Errorf("after release: %v %v (a deadline here: the lock of the first, abandoned call was never released)", c, err)
	}
}

func TestChainEmptyAnswerAndPanic(t *testing.T) {
	isolateChain(t)
	n := 0
	chain := newChain(func() (alicred.Credential, error) {
		n++
		return fakeCredential{get: func() (*alicred.CredentialModel, error) {
			if n == 1 {
				return model(testID, ""), nil
			}
			panic("vendor bug " + testSecret)
		}}, nil
	})
	_, err := chain.Credentials(failFast(t))
	if err == nil || !strings.Contains(err.Error(), "empty access key id or secret") {
		t.Errorf("empty secret: %v", err)
	}
	_, err = chain.Credentials(failFast(t))
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("panic: %v", err)
	}
	assertNoSecret(t, "panic error", err.Error())
	if n != 2 {
		t.Errorf("builds = %d, want 2", n)
	}
}

// TestChainTimeoutIsNotACredentialsError: a scrape whose deadline ends
// while the chain is still looking (or while it waits for the chain's
// lock) counts as timeout, and one that is cancelled as canceled, not as
// "credentials", which means the chain found none. Through the real client
// on loopback, since that is where the code is decided.
func TestChainTimeoutIsNotACredentialsError(t *testing.T) {
	isolateChain(t)
	release := make(chan struct{})
	defer close(release)
	slow := newChain(func() (alicred.Credential, error) {
		return fakeCredential{get: func() (*alicred.CredentialModel, error) {
			<-release
			return model(testID, testSecret), nil
		}}, nil
	})
	none := newChain(func() (alicred.Credential, error) {
		return fakeCredential{get: func() (*alicred.CredentialModel, error) { return nil, errors.New("no provider") }}, nil
	})
	client := func(p apiclient.CredentialsProvider) *apiclient.Client {
		// The endpoint is never reached: every call fails at the credentials.
		c, err := apiclient.New(apiclient.Options{Endpoint: "http://127.0.0.1:1", Credentials: p})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	timedOut, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	for _, c := range []struct {
		name  string
		p     apiclient.CredentialsProvider
		ctx   context.Context
		wantC string
	}{
		{"slow chain, deadline", slow, timedOut, "timeout"},
		{"deadline already passed when asked", slow, timedOut, "timeout"},
		{"slow chain, cancelled", slow, cancelled, "canceled"},
		{"chain that finds none", none, context.Background(), "credentials"},
	} {
		_, err := client(c.p).CloudMonitorTask(c.ctx, 1, 1)
		if got := apiclient.ErrorCode(err); got != c.wantC {
			t.Errorf("%s: code %q (%v), want %q", c.name, got, err, c.wantC)
		}
		if c.wantC != "credentials" && (apiclient.IsConfigError(err) || apiclient.IsRetryable(err)) {
			t.Errorf("%s: config error %v, retryable %v; want neither", c.name, apiclient.IsConfigError(err), apiclient.IsRetryable(err))
		}
	}
}
