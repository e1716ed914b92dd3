package credentials

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// A credential file with a line break (or any control character) inside
// its value is a configuration problem naming the path: before, the id was
// handed to the client, which failed to send the request and reported a
// transient network error, retried for ever with nothing pointing at the
// file.
func TestFilesLineBreakInside(t *testing.T) {
	dir := t.TempDir()
	idFile, secretFile := filepath.Join(dir, "id"), filepath.Join(dir, "secret")
	writeFile(t, secretFile, testSecret+"\n")
	for _, c := range []struct{ name, id string }{
		{"newline", "LTAI5tTestKey\nId0000000\n"},
		{"carriage return", "LTAI5tTestKey\rId0000000"},
		{"tab", "LTAI5tTestKey\tId0000000"},
		{"space", "LTAI5tTestKey Id0000000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			writeFile(t, idFile, c.id)
			p, err := NewFiles(FilesConfig{AccessKeyIDFile: idFile, AccessKeySecretFile: secretFile})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Credentials(context.Background())
			want := "credentials: access_key_id_file " + idFile + ": white space or a control character inside the value (a credential file holds one line, without spaces)"
			if err == nil || err.Error() != want {
				t.Fatalf("got %v, want %q", err, want)
			}
			// Through the API client it is a credentials problem, not
			// the network.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("a request was sent: %s", r.URL)
			}))
			defer srv.Close()
			cl, err := apiclient.New(apiclient.Options{Endpoint: srv.URL, Credentials: p})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.CloudMonitorTask(context.Background(), 7000002, 19)
			if code := apiclient.ErrorCode(err); code != "credentials" || !strings.Contains(err.Error(), idFile) {
				t.Errorf("code %q, err %v: want credentials naming %s", code, err, idFile)
			}
		})
	}
	// The same goes for the secret, whose content is never shown.
	writeFile(t, idFile, testID)
	writeFile(t, secretFile, testSecret[:10]+"\n"+testSecret[10:])
	p, _ := NewFiles(FilesConfig{AccessKeyIDFile: idFile, AccessKeySecretFile: secretFile})
	_, err := p.Credentials(context.Background())
	if err == nil || !strings.Contains(err.Error(), "access_key_secret_file "+secretFile+": white space") {
		t.Errorf("secret with a line break: %v", err)
	}
	assertNoSecret(t, "error", err.Error())
}
