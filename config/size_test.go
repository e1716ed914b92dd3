package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A file over MaxFileSize is refused with its name, its size and the cap,
// before parsing; a file of exactly MaxFileSize is parsed.
func TestFileSizeCap(t *testing.T) {
	dir := t.TempDir()
	valid := manyTasks(1)
	pad := func(n int) []byte { // valid YAML of n bytes: the config, then a comment
		b := []byte(valid + "#" + strings.Repeat("x", n-len(valid)-2) + "\n")
		if len(b) != n {
			t.Fatalf("padded to %d bytes, want %d", len(b), n)
		}
		return b
	}
	atCap := filepath.Join(dir, "at-cap.yml")
	if err := os.WriteFile(atCap, pad(MaxFileSize), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(atCap); err != nil {
		t.Errorf("a file of exactly MaxFileSize: %v", err)
	}

	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, pad(MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big)
	if err == nil {
		t.Fatal("a file over MaxFileSize was accepted")
	}
	for _, want := range []string{big, strconv.Itoa(MaxFileSize+1) + " bytes", strconv.Itoa(MaxFileSize), "limit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := Parse(pad(MaxFileSize+1), "inline.yml"); err == nil || !strings.Contains(err.Error(), "inline.yml") || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Parse of MaxFileSize+1 bytes: %v", err)
	}
}
