package indexer_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"messenger/search"
	"messenger/search/bleve"
	"messenger/search/indexer"
)

// TestUnusableIndexIsRebuiltFromTheStoreAfterRestart: an embedded index
// that cannot be opened after a crash is replaced by an empty one at
// start; the indexer reports that it is rebuilding and refills it from the
// store with every message and every user it held.
func TestUnusableIndexIsRebuiltFromTheStoreAfterRestart(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	word := fmt.Sprintf("survivor%d", rand.IntN(1e6))
	// Written two days ago: the users are older than any recheck window.
	w := writeWorldAt(t, s, 3, 4, word, time.Now().Add(-48*time.Hour))
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))

	// A first life: everything indexed and on disk.
	idx, err := bleve.Open(bleve.Config{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := indexer.New(indexer.Config{Index: idx, Source: s, Logger: quiet, FlushDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(runCtx) }()
	waitFor(t, "12 messages found", func() bool { return found(t, idx, word, w.convs) == 12 })
	waitFor(t, "the rebuild of the new index to end", func() bool { return !ix.Rebuilding() })
	stop()
	<-done
	idx.Close()

	// The mapping is lost (what a kill during the first second did).
	gens, _ := filepath.Glob(filepath.Join(dir, "v*", "messages.bleve", "store", "root.bolt"))
	if len(gens) != 1 {
		t.Fatalf("found %v, want one generation", gens)
	}
	if err := os.Remove(gens[0]); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	idx, err = bleve.Open(bleve.Config{Dir: dir, Logger: logger})
	if err != nil {
		t.Fatalf("the API would not start: %v", err)
	}
	t.Cleanup(func() { idx.Close() })
	if n := found(t, idx, word, w.convs); n != 0 {
		t.Fatalf("the replacement index already finds %d messages", n)
	}
	ix, err = indexer.New(indexer.Config{Index: idx, Source: s, Logger: logger, FlushDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The start scan queues the rebuild; until it is written, it is reported.
	if err := ix.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if !ix.Rebuilding() {
		t.Fatal("Rebuilding is false after the scan of an empty index queued its rebuild")
	}
	runCtx, stop = context.WithCancel(ctx)
	done = make(chan struct{})
	go func() { defer close(done); ix.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	waitFor(t, "12 messages found again", func() bool { return found(t, idx, word, w.convs) == 12 })
	waitFor(t, "3 users found again", func() bool { return len(usersFound(t, idx, word)) == 3 })
	waitFor(t, "the rebuild to be reported done", func() bool { return !ix.Rebuilding() })
	for _, want := range []string{"set aside", "rebuilding it from the store", "rebuilt from the store"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs.String())
		}
	}
}

// TestIndexInSyncIsNotRebuilt: a restart on an index that was in sync
// reports no rebuild.
func TestIndexInSyncIsNotRebuilt(t *testing.T) {
	withBackends(t, func(t *testing.T, idx search.Rebuilder) {
		ctx := context.Background()
		if err := idx.Apply(ctx, search.Batch{SyncedAt: time.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ix, err := indexer.New(indexer.Config{Index: idx, Source: openStore(t)})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "SyncedAt to be readable", func() bool { at, _ := idx.SyncedAt(ctx); return !at.IsZero() })
		if err := ix.Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if ix.Rebuilding() {
			t.Fatal("an index that was in sync is reported as rebuilding")
		}
	})
}
