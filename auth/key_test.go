package auth_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"messenger/auth"
)

func TestTheGeneratedKeyIsKeptAcrossStartsAndLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "jwt.key")
	first, err := auth.LoadOrCreateKey(path)
	if err != nil || len(first) < 32 {
		t.Fatalf("first start: %d bytes, %v", len(first), err)
	}
	again, err := auth.LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("second start read a different key (%v): tokens from the first would stop working", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v, %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("the key dir holds %d entries, want only jwt.key", len(entries))
	}
}
