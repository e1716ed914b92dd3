package credentials

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/dyvms-community/dyvms_exporter/apiclient"
)

// maxFileSize bounds what is read from a credential file. An access key
// secret is 30 bytes and an STS token a few KiB; anything much larger is the
// wrong file, and reading it on every request would be wasteful.
const maxFileSize = 64 << 10

// rereadAfter is how long a file's content is trusted while its mtime and
// size stay the same. Access key secrets all have the same length, and some
// file systems keep mtime in whole seconds, so a rotation within one second
// can look like no change at all; re-reading now and then bounds how long
// such a rotation goes unnoticed.
const rereadAfter = time.Minute

// FilesConfig says where each part of an access key comes from. A part with
// a file set is read from that file; otherwise the inline value is used, so a
// fixed secret can be combined with an STS token that a sidecar rotates.
type FilesConfig struct {
	AccessKeyID         string // used only when AccessKeyIDFile is empty
	AccessKeyIDFile     string
	AccessKeySecret     string // used only when AccessKeySecretFile is empty
	AccessKeySecretFile string
	SecurityToken       string // used only when SecurityTokenFile is empty; optional
	SecurityTokenFile   string // optional
}

// String shows the key id and the paths, never the inline values.
func (c FilesConfig) String() string {
	var b strings.Builder
	if c.AccessKeyIDFile != "" {
		b.WriteString("access_key_id_file=" + c.AccessKeyIDFile)
	} else {
		b.WriteString("access_key_id=" + c.AccessKeyID)
	}
	switch {
	case c.AccessKeySecretFile != "":
		b.WriteString(" access_key_secret_file=" + c.AccessKeySecretFile)
	case c.AccessKeySecret != "":
		b.WriteString(" access_key_secret=" + redacted)
	}
	switch {
	case c.SecurityTokenFile != "":
		b.WriteString(" security_token_file=" + c.SecurityTokenFile)
	case c.SecurityToken != "":
		b.WriteString(" security_token=" + redacted)
	}
	return b.String()
}

// GoString makes %#v as safe as %v.
func (c FilesConfig) GoString() string { return "credentials.FilesConfig{" + c.String() + "}" }

// Format keeps every verb away from the inline values.
func (c FilesConfig) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, c.String(), c.GoString())
}

// Files reads the id, the secret and/or the token from files, and reads them
// again whenever a file changes (another inode, mtime or size), so that a
// rotated key is picked up on the next request without reloading the
// exporter. It opens each file on every call: one open and fstat per API
// request is cheap next to an HTTPS round trip, and it is the only way to
// notice a rotation without a watcher goroutine.
//
// The parts are read as one set: after opening every file, Files checks
// that each path still names the file it opened, and reads the set again if
// one changed meanwhile (up to maxSetReads times). So when the files are
// replaced in one atomic step, as the kubelet does for a Secret volume (each
// key is a symbolic link through ..data, and an update swaps that one link),
// a request never pairs the old id with the new secret or token. Files
// replaced one after another (two renames, an editor saving each) have a
// moment in which the old id and the new secret are both current; a request
// in that moment is signed with a mismatched pair, fails with the vendor's
// credentials error, and the next request reads the set again. A file
// rewritten in place keeps its inode and is noticed by mtime or size, or
// within rereadAfter when neither changes.
//
// A file that is missing, unreadable or empty at use time is an error for
// that request (naming the path, never the content); the last good value is
// deliberately not reused, since a vanished secret usually means the operator
// revoked it.
type Files struct {
	sealed
}

type filesState struct {
	// sem guards the sources' caches. It is a channel rather than a mutex so
	// that a request waiting for another one's read gives up at its own
	// deadline.
	sem    chan struct{}
	id     fileSource
	secret fileSource
	token  fileSource
	now    func() time.Time
	open   func(name string) (*os.File, error) // openNonblocking; a test hooks it
}

// maxSetReads bounds how often one request reads the set of files again
// because one changed while it was read. A rotation takes one swap; files
// still changing after that are used as read, and the next request tries
// again.
const maxSetReads = 3

// fileSource is one credential part: inline, or a file with a cached copy.
type fileSource struct {
	field  string // the configuration key, for messages
	inline string
	path   string

	info   fs.FileInfo // of the cached read; nil when nothing is cached
	value  string
	readAt time.Time
}

// NewFiles checks the shape of cfg; the files themselves are read at first
// use, so that a file mounted a moment after start-up is no problem.
func NewFiles(cfg FilesConfig) (*Files, error) { return newFiles(cfg, time.Now, openNonblocking) }

// openNonblocking opens a credential file for reading without waiting: a
// FIFO opened for reading waits for a writer, for ever if none comes (a
// secret agent's named pipe, a symbolic link swapped to one). O_NONBLOCK
// lets the open return at once, and read refuses anything but a regular
// file before reading a byte; on a regular file the flag changes nothing.
// O_NOCTTY keeps a terminal device from becoming the process's.
func openNonblocking(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}

// newFiles takes the clock and the open function, which tests replace.
func newFiles(cfg FilesConfig, now func() time.Time, open func(string) (*os.File, error)) (*Files, error) {
	if cfg.AccessKeyID == "" && cfg.AccessKeyIDFile == "" {
		return nil, errors.New("credentials: neither access_key_id nor access_key_id_file is set")
	}
	if cfg.AccessKeySecret == "" && cfg.AccessKeySecretFile == "" {
		return nil, errors.New("credentials: neither access_key_secret nor access_key_secret_file is set")
	}
	st := &filesState{
		id:     fileSource{field: "access_key_id_file", inline: cfg.AccessKeyID, path: cfg.AccessKeyIDFile},
		secret: fileSource{field: "access_key_secret_file", inline: cfg.AccessKeySecret, path: cfg.AccessKeySecretFile},
		token:  fileSource{field: "security_token_file", inline: cfg.SecurityToken, path: cfg.SecurityTokenFile},
		sem:    make(chan struct{}, 1),
		now:    now,
		open:   open,
	}
	return &Files{sealed{creds: st.credentials, desc: "file credentials " + cfg.String()}}, nil
}

// credentials reads the set on its own goroutine and returns at ctx's end
// whichever comes first: an open or read that blocks all the same (a hung
// network file system) then costs a goroutine and holds up the requests
// behind it only until their own deadlines, never the scrape for ever.
func (st *filesState) credentials(ctx context.Context) (apiclient.Credentials, error) {
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return apiclient.Credentials{}, fmt.Errorf("credentials: waiting for another request reading the credential files: %w", ctx.Err())
	}
	type result struct {
		c   apiclient.Credentials
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-st.sem }()
		c, err := st.readSet()
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-ctx.Done():
		return apiclient.Credentials{}, fmt.Errorf("credentials: reading the credential files: %w", ctx.Err())
	}
}

// readSet reads every part, as one set; the caller holds st.sem.
func (st *filesState) readSet() (apiclient.Credentials, error) {
	sources := []*fileSource{&st.id, &st.secret, &st.token}
	values := make([]string, len(sources))
	for range maxSetReads {
		now := st.now()
		for i, s := range sources {
			v, err := s.get(now, st.open)
			if err != nil {
				return apiclient.Credentials{}, err
			}
			values[i] = v
		}
		if !changedSince(sources) {
			break
		}
	}
	return apiclient.Credentials{AccessKeyID: values[0], AccessKeySecret: values[1], SecurityToken: values[2]}, nil
}

// changedSince tells whether a file path names another file, or the same
// file changed, since it was opened for this set.
func changedSince(sources []*fileSource) bool {
	for _, s := range sources {
		if s.path == "" {
			continue
		}
		info, err := os.Stat(s.path)
		if err != nil || !s.same(info) {
			return true
		}
	}
	return false
}

func (s *fileSource) get(now time.Time, open func(string) (*os.File, error)) (string, error) {
	if s.path == "" {
		return s.inline, nil
	}
	v, err := s.read(now, open)
	if err != nil {
		s.info, s.value = nil, ""
		return "", err
	}
	return v, nil
}

// same tells whether info is the file of the cached read, unchanged.
func (s *fileSource) same(info fs.FileInfo) bool {
	return s.info != nil && os.SameFile(s.info, info) && s.info.ModTime().Equal(info.ModTime()) && s.info.Size() == info.Size()
}

// read opens the file once and compares the open file's identity with the
// cached one, so that a rename between a stat and a read cannot pair new
// content with old metadata.
func (s *fileSource) read(now time.Time, open func(string) (*os.File, error)) (string, error) {
	fh, err := open(s.path)
	if err != nil {
		return "", s.fileErr(err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return "", s.fileErr(err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("credentials: %s %s: not a regular file", s.field, s.path)
	}
	if s.same(info) && now.Sub(s.readAt) < rereadAfter {
		return s.value, nil
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return "", s.fileErr(err)
	}
	if len(b) > maxFileSize {
		return "", fmt.Errorf("credentials: %s %s: larger than %d KiB, not a credential file", s.field, s.path, maxFileSize>>10)
	}
	// A trailing newline (echo, most editors) is never part of a key;
	// Kubernetes secrets usually have none. Accept both.
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("credentials: %s %s is empty", s.field, s.path)
	}
	// No access key id, secret or STS token has white space or a control
	// character inside; a file with one (two values pasted, a CRLF in the
	// middle) would be sent as is, and the request would fail before it
	// left as a transient network error, never pointing at this file.
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", fmt.Errorf("credentials: %s %s: white space or a control character inside the value (a credential file holds one line, without spaces)", s.field, s.path)
	}
	s.info, s.value, s.readAt = info, v, now
	return v, nil
}

// fileErr keeps the operating system's reason but states the path once and
// the configuration key that points at it.
func (s *fileSource) fileErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("credentials: %s %s: %w", s.field, s.path, err)
}

// GoString makes %#v as safe as %v.
func (f Files) GoString() string { return "credentials.Files{" + f.String() + "}" }

// Format keeps every verb away from the secrets.
func (f Files) Format(s fmt.State, verb rune) { formatRedacted(s, verb, f.String(), f.GoString()) }
