package bleve_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/search"
	"messenger/search/bleve"
)

// populated is an index directory with one persisted message, made once
// and copied by each test (persisting takes the persister's nap).
var populated struct {
	once sync.Once
	dir  string
	err  error
}

func populatedIndex(t *testing.T) string {
	t.Helper()
	populated.once.Do(func() {
		populated.dir, populated.err = persistedIndex()
	})
	if populated.err != nil {
		t.Fatal(populated.err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", populated.dir+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy index: %v: %s", err, out)
	}
	if len(segments(dir)) == 0 {
		t.Fatal("the populated index has no segment file to damage")
	}
	return dir
}

// persistedIndex writes one message and one user and returns the index's
// directory once a reopen finds them: unsafe batches reach disk only after
// the persister's nap, and Close does not wait for it.
func persistedIndex() (string, error) {
	dir, err := os.MkdirTemp("", "bleve-populated-")
	if err != nil {
		return "", err
	}
	for attempt := 0; attempt < 10; attempt++ {
		idx, err := bleve.Open(bleve.Config{Dir: dir})
		if err != nil {
			return dir, err
		}
		if n, err := count(idx, "persisted"); err != nil || n == 1 {
			idx.Close()
			return dir, err
		}
		err = idx.Apply(context.Background(), search.Batch{
			Upserts:    []search.Message{{ConversationID: "c1", Seq: 1, SenderID: "u1", Body: "hello persisted world", SentAt: time.Now()}},
			Users:      []search.User{{ID: "u1", Username: "ann", DisplayName: "Ann"}},
			Watermarks: map[string]int64{"c1": 1},
		})
		if err == nil {
			time.Sleep(3 * time.Second)
		}
		idx.Close()
		if err != nil {
			return dir, err
		}
	}
	return dir, fmt.Errorf("the message was not on disk after 10 attempts")
}

func count(idx search.Index, word string) (int, error) {
	p, err := idx.SearchMessages(context.Background(), search.MessageQuery{Query: search.ParseQuery(word), Scopes: []search.Scope{{ConversationID: "c1"}}, First: 10})
	return p.Total, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if populated.dir != "" {
		os.RemoveAll(populated.dir)
	}
	os.Exit(code)
}

// live returns the live generation's directory.
func live(t *testing.T, dir string) string {
	t.Helper()
	cur, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, strings.TrimSpace(string(cur)))
}

func segments(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*", "messages.bleve", "store", "*.zap"))
	return m
}

func setAside(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.broken-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func hits(t *testing.T, idx search.Index, word string) int {
	t.Helper()
	n, err := count(idx, word)
	if err != nil {
		t.Fatalf("search %q: %v", word, err)
	}
	return n
}

// TestUnusableIndexIsSetAsideAndReplacedByAnEmptyOne: whatever state a
// crash, a bad disk or a hand edit leaves the index in, Open succeeds with
// an empty index (which the indexer rebuilds from the store), keeps the
// unusable one aside for inspection, and says so in the log.
func TestUnusableIndexIsSetAsideAndReplacedByAnEmptyOne(t *testing.T) {
	overwrite := func(path string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A segment that cannot be loaded makes bleve open the snapshot before
	// it, when there is one: an earlier, consistent state of the index
	// (documents and watermarks go back together), repaired by the indexer
	// like the tail a crash loses. Every other case sets the index aside.
	rollsBack := map[string]bool{"garbage segment": true, "deleted segment": true}
	cases := []struct {
		name    string
		corrupt func(t *testing.T, dir, gen string)
	}{
		{"truncated index metadata", func(t *testing.T, dir, gen string) {
			os.Truncate(filepath.Join(gen, "messages.bleve", "index_meta.json"), 5)
		}},
		{"deleted index metadata", func(t *testing.T, dir, gen string) {
			os.Remove(filepath.Join(gen, "messages.bleve", "index_meta.json"))
		}},
		{"deleted root holding the mapping", func(t *testing.T, dir, gen string) {
			os.Remove(filepath.Join(gen, "messages.bleve", "store", "root.bolt"))
		}},
		{"truncated root", func(t *testing.T, dir, gen string) {
			os.Truncate(filepath.Join(gen, "messages.bleve", "store", "root.bolt"), 100)
		}},
		{"garbage segment", func(t *testing.T, dir, gen string) {
			for _, s := range segments(dir) {
				overwrite(s, bytes.Repeat([]byte("garbage!"), 512))
			}
		}},
		{"segment with a flipped byte", func(t *testing.T, dir, gen string) {
			for _, s := range segments(dir) {
				b, _ := os.ReadFile(s)
				b[len(b)/3] ^= 0x5a
				overwrite(s, b)
			}
		}},
		{"deleted segment", func(t *testing.T, dir, gen string) {
			for _, s := range segments(dir) {
				os.Remove(s)
			}
		}},
		{"deleted users index", func(t *testing.T, dir, gen string) {
			os.RemoveAll(filepath.Join(gen, "users.bleve"))
		}},
		{"empty generation directory", func(t *testing.T, dir, gen string) {
			os.RemoveAll(gen)
			os.Mkdir(gen, 0o755)
		}},
		{"CURRENT names a missing generation", func(t *testing.T, dir, gen string) {
			os.RemoveAll(gen)
		}},
		{"CURRENT is garbage", func(t *testing.T, dir, gen string) {
			overwrite(filepath.Join(dir, "CURRENT"), []byte("\x00\x17../.."))
		}},
		{"CURRENT is empty", func(t *testing.T, dir, gen string) {
			overwrite(filepath.Join(dir, "CURRENT"), nil)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := populatedIndex(t)
			c.corrupt(t, dir, live(t, dir))
			var logs bytes.Buffer
			idx, err := bleve.Open(bleve.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatalf("open after %s: %v", c.name, err)
			}
			defer idx.Close()
			if n := hits(t, idx, "persisted"); n != 0 {
				t.Fatalf("the replacement index found %d messages; want an empty index", n)
			}
			if wm, err := idx.Watermarks(context.Background(), []string{"c1"}); err != nil || len(wm) != 0 {
				t.Fatalf("watermarks of the replacement = %v, %v; want none (so the indexer rebuilds)", wm, err)
			}
			if at, err := idx.SyncedAt(context.Background()); err != nil || !at.IsZero() {
				t.Fatalf("SyncedAt of the replacement = %v, %v; want zero (never in sync)", at, err)
			}
			if err := idx.Apply(context.Background(), search.Batch{Upserts: []search.Message{{ConversationID: "c1", Seq: 2, SenderID: "u", Body: "written after recovery", SentAt: time.Now()}}}); err != nil {
				t.Fatal(err)
			}
			if n := hits(t, idx, "recovery"); n != 1 {
				t.Fatalf("found %d messages written after recovery, want 1", n)
			}
			if !rollsBack[c.name] && !strings.Contains(logs.String(), "set aside") {
				t.Fatalf("the log does not say the index was set aside:\n%s", logs.String())
			}
			if _, err := os.Stat(filepath.Join(live(t, dir), "messages.bleve")); err != nil {
				t.Fatalf("CURRENT does not name the new generation: %v", err)
			}
		})
	}
}

// TestEverySetAsideIndexIsKeptUpToTwo: repeated failures do not fill the
// disk: the two newest set-aside indexes are kept.
func TestEverySetAsideIndexIsKeptUpToTwo(t *testing.T) {
	dir := populatedIndex(t)
	for i := range 4 {
		os.Remove(filepath.Join(live(t, dir), "messages.bleve", "index_meta.json"))
		idx, err := bleve.Open(bleve.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		idx.Close()
		if got, want := len(setAside(t, dir)), min(i+1, 2); got != want {
			t.Fatalf("after %d failures %d indexes are set aside, want %d", i+1, got, want)
		}
		time.Sleep(2 * time.Millisecond) // set-aside names carry milliseconds
	}
}

// TestHealthyIndexReopensWithItsDataAndUnfinishedGenerationsGo: a good
// index opens with its documents, nothing is set aside, and a generation a
// crashed rebuild left behind is removed.
func TestHealthyIndexReopensWithItsDataAndUnfinishedGenerationsGo(t *testing.T) {
	dir := populatedIndex(t)
	orphan := filepath.Join(dir, "v1_20000101T000000.000000000")
	if err := os.MkdirAll(filepath.Join(orphan, "messages.bleve"), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	idx, err := bleve.Open(bleve.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if n := hits(t, idx, "persisted"); n != 1 {
		t.Fatalf("reopened index finds %d messages, want 1", n)
	}
	if wm, err := idx.Watermarks(context.Background(), []string{"c1"}); err != nil || wm["c1"] != 1 {
		t.Fatalf("watermarks after reopen = %v, %v", wm, err)
	}
	if a := setAside(t, dir); len(a) != 0 || strings.Contains(logs.String(), "set aside") {
		t.Fatalf("a healthy index was set aside: %v\n%s", a, logs.String())
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("the unfinished generation is still there: %v", err)
	}
}

// TestFirstStartCrashLeavesNothingThatBlocksTheNext: a crash during the
// first start, after the generation was made but before CURRENT named it,
// leaves a directory without CURRENT; the next Open starts afresh.
func TestFirstStartCrashLeavesNothingThatBlocksTheNext(t *testing.T) {
	dir := populatedIndex(t)
	if err := os.Remove(filepath.Join(dir, "CURRENT")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "CURRENT.tmp"), []byte("v1_2"), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := bleve.Open(bleve.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if n := hits(t, idx, "persisted"); n != 0 {
		t.Fatalf("found %d messages in a fresh index", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // CURRENT and the new generation
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("index directory holds %v, want CURRENT and one generation", names)
	}
}
