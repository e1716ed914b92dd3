//go:build unix

package credentials

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

var errBlocked = errors.New("blocked")

// credentialsWithin runs p.Credentials with a deadline and fails the test,
// instead of hanging it, when the call outlives the deadline by far (it may
// run on any goroutine: it does not stop the test).
func credentialsWithin(t *testing.T, p *Files, deadline time.Duration) (apiclient.Credentials, time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	type result struct {
		c   apiclient.Credentials
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		c, err := p.Credentials(ctx)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, time.Since(start), r.err
	case <-time.After(deadline + 5*time.Second):
		t.Errorf("Credentials still blocked %s after its %s deadline", 5*time.Second, deadline)
		return apiclient.Credentials{}, time.Since(start), errBlocked
	}
}

// releaseFIFO opens path for writing, which lets a reader blocked in
// open(2) on it go on; it keeps a failed test from leaving a goroutine stuck
// in the kernel.
func releaseFIFO(t *testing.T, path string) {
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

// A credential path naming a FIFO (a secret agent's named pipe) fails the
// request at once with "not a regular file": opening a FIFO for reading
// waits for a writer, which may never come.
func TestFilesFIFONeverBlocks(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "secret")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	releaseFIFO(t, fifo)
	p, err := NewFiles(FilesConfig{AccessKeyID: testID, AccessKeySecretFile: fifo})
	if err != nil {
		t.Fatal(err)
	}
	_, took, err := credentialsWithin(t, p, 2*time.Second)
	want := "credentials: access_key_secret_file " + fifo + ": not a regular file"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	if took > time.Second {
		t.Errorf("took %s to refuse a FIFO", took)
	}
}

// A path that is a symbolic link to a good file, swapped to a FIFO after a
// first good read (a rotation gone wrong, or an attack), is refused at once
// too, and the next request is not held up either.
func TestFilesSymlinkSwappedToFIFO(t *testing.T) {
	dir := t.TempDir()
	good, fifo, link := filepath.Join(dir, "good"), filepath.Join(dir, "fifo"), filepath.Join(dir, "secret")
	writeFile(t, good, testSecret)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	releaseFIFO(t, fifo)
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	p, err := NewFiles(FilesConfig{AccessKeyID: testID, AccessKeySecretFile: link})
	if err != nil {
		t.Fatal(err)
	}
	if c, _, err := credentialsWithin(t, p, 2*time.Second); err != nil || c.AccessKeySecret != testSecret {
		t.Fatalf("first read: %v", err)
	}
	tmp := link + ".tmp"
	if err := os.Symlink(fifo, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		_, took, err := credentialsWithin(t, p, 2*time.Second)
		if err == nil || !strings.HasSuffix(err.Error(), ": not a regular file") {
			t.Errorf("request %d: got %v, want not a regular file", i, err)
		}
		if took > time.Second {
			t.Errorf("request %d took %s", i, took)
		}
	}
}

// When reading the files does block (a hung network file system), every
// request still ends at its own deadline, the one reading and those
// waiting for it alike: none waits on the others without a limit.
func TestFilesHonourContext(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	writeFile(t, secretFile, testSecret)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	open := func(name string) (*os.File, error) {
		<-release // as an open on a dead NFS server would
		return os.Open(name)
	}
	p, err := newFiles(FilesConfig{AccessKeyID: testID, AccessKeySecretFile: secretFile}, time.Now, open)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			_, took, err := credentialsWithin(t, p, 300*time.Millisecond)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("request %d: got %v, want the deadline", i, err)
			}
			if took > 2*time.Second {
				t.Errorf("request %d took %s past a 300ms deadline", i, took)
			}
		})
	}
	wg.Wait()
	once.Do(func() { close(release) })
	// Once the file system answers, requests succeed again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := credentialsWithin(t, p, time.Second)
		if err == nil && c.AccessKeySecret == testSecret {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %v", err)
		}
	}
}
