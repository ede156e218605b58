package indexer_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"messenger/search"
	"messenger/search/bleve"
	"messenger/search/indexer"
	"messenger/search/opensearch"
	"messenger/storage"
	"messenger/storage/pebble"
)

// withBackends runs fn against bleve and, when MESSENGER_OPENSEARCH_URL is
// set, OpenSearch.
func withBackends(t *testing.T, fn func(t *testing.T, idx search.Rebuilder)) {
	t.Run("bleve", func(t *testing.T) {
		idx, err := bleve.Open(bleve.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idx.Close() })
		fn(t, idx)
	})
	t.Run("opensearch", func(t *testing.T) {
		if os.Getenv("MESSENGER_OPENSEARCH_URL") == "" {
			t.Skip("MESSENGER_OPENSEARCH_URL is not set")
		}
		fn(t, newOpenSearch(t))
	})
}

func openStore(t *testing.T) storage.Store {
	t.Helper()
	s, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// world is what a test writes straight into the store, as the API would
// while no indexer hears of it (a crashed process, one that never started).
type world struct {
	users []storage.User
	convs []string
}

func writeWorld(t *testing.T, s storage.Store, convs, msgsPerConv int, word string) world {
	t.Helper()
	return writeWorldAt(t, s, convs, msgsPerConv, word, time.Now())
}

// writeWorldAt is writeWorld with every user, conversation and message
// created at the time at.
func writeWorldAt(t *testing.T, s storage.Store, convs, msgsPerConv int, word string, at time.Time) world {
	t.Helper()
	ctx := context.Background()
	var w world
	now := at.UTC().Truncate(time.Millisecond)
	for i := range 3 {
		id := fmt.Sprintf("u%08x", rand.Uint32())
		u := storage.User{ID: id, Username: fmt.Sprintf("%s_%d_%s", word, i, id), UsernameKey: fmt.Sprintf("%s_%d_%s", word, i, id), DisplayName: "Someone", CreatedAt: now}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		w.users = append(w.users, u)
	}
	for i := range convs {
		c := storage.Conversation{ID: fmt.Sprintf("c%08x", rand.Uint32()), Kind: storage.Group, CreatedBy: w.users[0].ID, CreatedAt: now, LastActivityAt: now}
		if _, _, err := s.CreateConversation(ctx, c, []storage.Member{{UserID: w.users[0].ID, Role: storage.RoleOwner}}); err != nil {
			t.Fatal(err)
		}
		for j := range msgsPerConv {
			if _, _, err := s.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: w.users[0].ID, ClientMessageID: fmt.Sprint(j),
				Body: fmt.Sprintf("%s message %d of conversation %d", word, j, i), SentAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		w.convs = append(w.convs, c.ID)
	}
	return w
}

// found returns how many messages of the scopes match word.
func found(t *testing.T, idx search.Index, word string, convs []string) int {
	t.Helper()
	var scopes []search.Scope
	for _, c := range convs {
		scopes = append(scopes, search.Scope{ConversationID: c})
	}
	p, err := idx.SearchMessages(context.Background(), search.MessageQuery{Viewer: "v", Query: search.ParseQuery(word), Scopes: scopes, First: 1})
	if err != nil {
		t.Fatalf("search %q: %v", word, err)
	}
	return p.Total
}

func usersFound(t *testing.T, idx search.Index, prefix string) []string {
	t.Helper()
	p, err := idx.SearchUsers(context.Background(), search.UserQuery{Prefix: prefix, First: 100})
	if err != nil {
		t.Fatalf("search users %q: %v", prefix, err)
	}
	return p.IDs
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runIndexer runs an indexer of s into idx until the test ends.
func runIndexer(t *testing.T, idx search.Index, s storage.Store) {
	t.Helper()
	ix, err := indexer.New(indexer.Config{Index: idx, Source: s, FlushDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestIndexerStartFindsWhatNoIndexerWasToldOf: conversations, messages and
// users written while no indexer ran (the process crashed before indexing
// them; the index had never heard of these conversations) are searchable
// once an indexer starts.
func TestIndexerStartFindsWhatNoIndexerWasToldOf(t *testing.T) {
	withBackends(t, func(t *testing.T, idx search.Rebuilder) {
		s := openStore(t)
		word := fmt.Sprintf("orphan%d", rand.IntN(1e6))
		w := writeWorld(t, s, 3, 4, word)
		if n := found(t, idx, word, w.convs); n != 0 {
			t.Fatalf("found %d messages before any indexing", n)
		}
		runIndexer(t, idx, s)
		waitFor(t, "12 messages found", func() bool { return found(t, idx, word, w.convs) == 12 })
		waitFor(t, "3 users found", func() bool { return len(usersFound(t, idx, word)) == 3 })
	})
}

// TestIndexerWritesEveryMessageAcrossItsReadChunks: the worker reads the
// store at most readChunk (64) messages per call (batch.go); conversations
// longer than a chunk, beside short ones, are searchable to the last
// message.
func TestIndexerWritesEveryMessageAcrossItsReadChunks(t *testing.T) {
	withBackends(t, func(t *testing.T, idx search.Rebuilder) {
		s := openStore(t)
		word := fmt.Sprintf("chunked%d", rand.IntN(1e6))
		long := writeWorld(t, s, 2, 101, word)
		short := writeWorld(t, s, 5, 1, word)
		runIndexer(t, idx, s)
		all := append(slices.Clone(long.convs), short.convs...)
		waitFor(t, "207 messages found", func() bool { return found(t, idx, word, all) == 207 })
		for _, c := range long.convs {
			if n := found(t, idx, fmt.Sprintf("%s message 100", word), []string{c}); n != 1 {
				t.Fatalf("the last message of %s: found %d", c, n)
			}
		}
	})
}

// TestRebuildCoversEveryConversationAndUserOfTheStore: `reindex` rebuilds
// from the store's own listing, so it also restores conversations and
// users the live index never had, and keeps the live index's hides.
func TestRebuildCoversEveryConversationAndUserOfTheStore(t *testing.T) {
	withBackends(t, func(t *testing.T, idx search.Rebuilder) {
		ctx := context.Background()
		s := openStore(t)
		word := fmt.Sprintf("rebuilt%d", rand.IntN(1e6))
		w := writeWorld(t, s, 3, 2, word)
		hide := search.Hide{Key: search.Key{ConversationID: w.convs[0], Seq: 1}, UserID: "v"}
		if err := idx.Apply(ctx, search.Batch{Hides: []search.Hide{hide}}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the hide to be listed", func() bool {
			n := 0
			idx.Hides(ctx, func(search.Hide) error { n++; return nil })
			return n == 1
		})
		before := time.Now()
		st, err := indexer.Rebuild(ctx, idx, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Conversations != 3 || st.Messages != 6 || st.Users != 3 || st.Hides != 1 {
			t.Fatalf("rebuild stats %+v", st)
		}
		// The viewer "v" hid one message.
		waitFor(t, "5 messages found", func() bool { return found(t, idx, word, w.convs) == 5 })
		waitFor(t, "3 users found", func() bool { return len(usersFound(t, idx, word)) == 3 })
		wms, err := idx.Watermarks(ctx, w.convs)
		if err != nil || len(wms) != 3 || wms[w.convs[2]] != 2 {
			t.Fatalf("watermarks after rebuild = %v, %v", wms, err)
		}
		if at, err := idx.SyncedAt(ctx); err != nil || at.Before(before.Add(-time.Second)) {
			t.Fatalf("SyncedAt after rebuild = %v, %v; want the rebuild's start", at, err)
		}
		got := usersFound(t, idx, word)
		var want []string
		for _, u := range w.users {
			want = append(want, u.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("users found %v, want %v", got, want)
		}
	})
}

// newOpenSearch returns an index with its own random prefix on the server
// at MESSENGER_OPENSEARCH_URL, deleted after the test.
func newOpenSearch(t testing.TB) *opensearch.Index {
	t.Helper()
	idx, err := opensearch.Open(context.Background(), opensearch.Config{
		URLs: []string{os.Getenv("MESSENGER_OPENSEARCH_URL")}, Prefix: fmt.Sprintf("test-%08x-", rand.Uint32()),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		idx.DeleteAll(context.Background())
		idx.Close()
	})
	return idx
}
