//go:build unix

package config

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// A credential file that is a FIFO is refused at once: the check never
// opens it for a read that would wait for a writer.
func TestCredentialFileFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(dir+"/secret", 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan string, 1)
	go func() {
		done <- parseErrAt(t, dir+"/c.yml", "credentials:\n  access_key_id: LTAI5tTestKeyId0000000\n  access_key_secret_file: secret\ntasks:\n  - {enterprise_id: 7, task_id: 19}\n")
	}()
	select {
	case got := <-done:
		if want := "credentials.access_key_secret_file: " + dir + "/secret is not a regular file"; !strings.Contains(got, want) {
			t.Errorf("got\n%s\nwant %s", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the configuration check blocked on a FIFO")
	}
}
