package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/auth"
	"messenger/chat"
	"messenger/netcut"
	"messenger/realtime/memlog"
	"messenger/search"
	"messenger/search/bleve"
	"messenger/search/indexer"
	"messenger/search/opensearch"
	"messenger/search/searchtest"
	"messenger/server"
	"messenger/storage"
	"messenger/storage/pebble"
)

// searchAPI is the whole API with search: the embedded store, and bleve or
// a real OpenSearch (own index prefix per test) fed by a running Indexer.
type searchAPI struct {
	URL    string
	Chat   *chat.Service
	Store  storage.Store
	Tokens *auth.Tokens
	Index  search.Index
	hook   *searchtest.Hook
	// osURL is the OpenSearch URL the index talks to (through proxy when set).
	osURL string
	proxy *netcut.Proxy
}

type searchAPIConfig struct {
	backend string // "bleve" or "opensearch"
	// viaProxy puts a TCP proxy between the API and OpenSearch, so a test
	// can cut the connection.
	viaProxy bool
}

// withSearchBackends runs fn against bleve and, when MESSENGER_OPENSEARCH_URL
// is set, against OpenSearch.
func withSearchBackends(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range []string{"bleve", "opensearch"} {
		t.Run(b, func(t *testing.T) {
			if b == "opensearch" && os.Getenv("MESSENGER_OPENSEARCH_URL") == "" {
				t.Skip("MESSENGER_OPENSEARCH_URL is not set: start one with `eval \"$(scripts/services.sh up opensearch)\"`")
			}
			fn(t, b)
		})
	}
}

func startSearchAPI(t testing.TB, cfg searchAPIConfig) *searchAPI {
	t.Helper()
	a := &searchAPI{hook: &searchtest.Hook{}}
	db, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a.Store = db
	a.Index = a.openIndex(t, cfg)
	log := memlog.New(memlog.Config{})
	t.Cleanup(func() { log.Close() })
	if a.Tokens, err = auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("t", 32))}); err != nil {
		t.Fatal(err)
	}
	a.Chat, err = chat.New(chat.Config{Store: db, Log: log, Tokens: a.Tokens, PasswordCost: cheapPasswords, Indexer: a.hook, Search: a.Index})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Chat.Close) // after the server closes, before the store does
	a.startIndexer(t)
	srv := httptest.NewServer(server.New(server.Config{Chat: a.Chat, Tokens: a.Tokens, Loaders: db}))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

func (a *searchAPI) openIndex(t testing.TB, cfg searchAPIConfig) search.Index {
	t.Helper()
	if cfg.backend == "bleve" {
		idx, err := bleve.Open(bleve.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.viaProxy {
			// No network to cut: a wrapper refuses writes while "down".
			f := &flakyIndex{Index: idx}
			t.Cleanup(func() { f.Close() })
			return f
		}
		t.Cleanup(func() { idx.Close() })
		return idx
	}
	a.osURL = os.Getenv("MESSENGER_OPENSEARCH_URL")
	if cfg.viaProxy {
		a.proxy = netcut.New(t, strings.TrimPrefix(a.osURL, "http://"))
		a.osURL = "http://" + a.proxy.Addr()
	}
	idx, err := opensearch.Open(context.Background(), opensearch.Config{
		URLs: []string{a.osURL}, Prefix: fmt.Sprintf("e2e-%08x-", rand.Uint32()), RequestTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a.proxy != nil {
			a.proxy.SetUp(true)
		}
		idx.DeleteAll(context.Background())
		idx.Close()
	})
	return idx
}

// startIndexer starts a fresh Indexer (as a restarted process would) and
// points the domain's hook at it; the previous one, if any, keeps running
// until stopIndexer.
func (a *searchAPI) startIndexer(t testing.TB) (stop func()) {
	ix, err := indexer.New(indexer.Config{Index: a.Index, Source: a.Store, FlushDelay: 20 * time.Millisecond, ScanInterval: 500 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(ctx) }()
	a.hook.Set(ix)
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// flakyIndex is the embedded index with a switch that makes writes fail
// as an unreachable server's would (bleve has no network to cut).
type flakyIndex struct {
	search.Index
	down atomic.Bool
}

func (f *flakyIndex) Apply(ctx context.Context, b search.Batch) error {
	if f.down.Load() {
		return fmt.Errorf("flaky: %w", search.ErrUnavailable)
	}
	return f.Index.Apply(ctx, b)
}

func (f *flakyIndex) Watermarks(ctx context.Context, ids []string) (map[string]int64, error) {
	if f.down.Load() {
		return nil, fmt.Errorf("flaky: %w", search.ErrUnavailable)
	}
	return f.Index.Watermarks(ctx, ids)
}

func (f *flakyIndex) WatermarkedConversations(ctx context.Context, after string, limit int) ([]string, error) {
	if f.down.Load() {
		return nil, fmt.Errorf("flaky: %w", search.ErrUnavailable)
	}
	return f.Index.WatermarkedConversations(ctx, after, limit)
}

func (a *searchAPI) signUp(t testing.TB, prefix string) *apitest.Client {
	return apitest.SignUp(t, a.URL, prefix)
}

const searchQuery = `query($q: String!, $c: ID, $o: SearchOrder, $f: Int, $a: String) {
  searchMessages(query: $q, conversationId: $c, orderBy: $o, first: $f, after: $a) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { highlights message { id seq body } conversation { id } } }
  }
}`

type searchResult struct {
	SearchMessages struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   string
		}
		Edges []struct {
			Cursor string
			Node   struct {
				Highlights []string
				Message    struct {
					ID, Body string
					Seq      int
				}
				Conversation struct{ ID string }
			}
		}
	}
}

func (r searchResult) bodies() []string {
	out := []string{}
	for _, e := range r.SearchMessages.Edges {
		out = append(out, e.Node.Message.Body)
	}
	return out
}

func searchMessages(t testing.TB, c *apitest.Client, vars map[string]any) searchResult {
	t.Helper()
	var r searchResult
	c.Must(t, searchQuery, vars, &r)
	return r
}

// eventuallyFinds waits (search is eventually consistent) until c's search
// for q finds exactly want, newest first.
func eventuallyFinds(t testing.TB, c *apitest.Client, q string, want ...string) searchResult {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := searchMessages(t, c, map[string]any{"q": q, "f": 100})
		got := r.bodies()
		if slices.Equal(got, want) && r.SearchMessages.TotalCount == len(want) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s searching %q found %q (total %d), want %q", c.Username, q, got, r.SearchMessages.TotalCount, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSearchFindsOnlyConversationsIAmAMemberOfNow(t *testing.T) {
	withSearchBackends(t, func(t *testing.T, backend string) {
		a := startSearchAPI(t, searchAPIConfig{backend: backend})
		alice, bob, carol, dave, erin := a.signUp(t, "alice"), a.signUp(t, "bob"), a.signUp(t, "carol"), a.signUp(t, "dave"), a.signUp(t, "erin")
		group := createGroup(t, alice, "plans", bob, carol, dave)
		sendMsg(t, alice, group, "s1", "the launch is on Friday")
		sendMsg(t, bob, group, "s2", "Friday works for the launch party")
		both := []string{"Friday works for the launch party", "the launch is on Friday"}
		eventuallyFinds(t, alice, "launch", both...)
		eventuallyFinds(t, carol, "LAUNCH friday", both...)

		// Left: immediately nothing, whatever the index's lag.
		carol.Must(t, `mutation($c: ID!) { leaveConversation(conversationId: $c) }`, map[string]any{"c": group}, nil)
		if got := searchMessages(t, carol, map[string]any{"q": "launch"}); len(got.bodies()) != 0 || got.SearchMessages.TotalCount != 0 {
			t.Fatalf("carol left but found %q", got.bodies())
		}
		// Removed: the same.
		alice.Must(t, `mutation($c: ID!, $u: ID!) { removeMember(conversationId: $c, userId: $u) { id } }`, map[string]any{"c": group, "u": dave.UserID}, nil)
		if got := searchMessages(t, dave, map[string]any{"q": "launch"}); len(got.bodies()) != 0 {
			t.Fatalf("dave was removed but found %q", got.bodies())
		}
		// Never a member: nothing, and naming the conversation is NOT_FOUND.
		if got := searchMessages(t, erin, map[string]any{"q": "launch"}); len(got.bodies()) != 0 {
			t.Fatalf("erin was never a member but found %q", got.bodies())
		}
		erin.Refused(t, "NOT_FOUND", searchQuery, map[string]any{"q": "launch", "c": group})

		// Added later: only what was sent after joining.
		alice.Must(t, `mutation($c: ID!, $u: [ID!]!) { addMembers(conversationId: $c, userIds: $u) { id } }`, map[string]any{"c": group, "u": []string{erin.UserID}}, nil)
		sendMsg(t, alice, group, "s3", "launch moved to Monday")
		eventuallyFinds(t, erin, "launch", "launch moved to Monday")
		eventuallyFinds(t, bob, "launch", append([]string{"launch moved to Monday"}, both...)...)

		// Scoped to one conversation.
		dm := startDirect(t, alice, bob)
		sendMsg(t, alice, dm, "d1", "launch gossip")
		eventuallyFinds(t, bob, "launch", append([]string{"launch gossip", "launch moved to Monday"}, both...)...)
		r := searchMessages(t, bob, map[string]any{"q": "launch", "c": dm})
		if got := r.bodies(); !slices.Equal(got, []string{"launch gossip"}) || r.SearchMessages.Edges[0].Node.Conversation.ID != dm {
			t.Fatalf("search in the direct conversation found %+v", r)
		}
	})
}

func TestSearchReflectsEditsAndDeletes(t *testing.T) {
	withSearchBackends(t, func(t *testing.T, backend string) {
		a := startSearchAPI(t, searchAPIConfig{backend: backend})
		alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
		dm := startDirect(t, alice, bob)
		m1 := sendMsg(t, alice, dm, "e1", "Dinner at Café Müller at 8?")
		m2 := sendMsg(t, alice, dm, "e2", "dinner is cancelled, sorry")
		m3 := sendMsg(t, bob, dm, "e3", "what about dinner tomorrow")
		r := eventuallyFinds(t, bob, "dinner", "what about dinner tomorrow", "dinner is cancelled, sorry", "Dinner at Café Müller at 8?")
		if hl := r.SearchMessages.Edges[2].Node.Highlights; len(hl) != 1 || hl[0] != "<mark>Dinner</mark> at Café Müller at 8?" {
			t.Fatalf("highlights = %q", hl)
		}
		eventuallyFinds(t, bob, "cafe muller", "Dinner at Café Müller at 8?")

		// Edited: found by the new text only.
		alice.Must(t, `mutation($m: ID!, $b: String!) { editMessage(messageId: $m, body: $b) { id } }`, map[string]any{"m": m1.SendMessage.ID, "b": "Lunch at Café Müller at 1?"}, nil)
		eventuallyFinds(t, bob, "lunch", "Lunch at Café Müller at 1?")
		eventuallyFinds(t, bob, "dinner", "what about dinner tomorrow", "dinner is cancelled, sorry")

		// Deleted for me: gone for me, not for alice.
		bob.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: false) { id } }`, map[string]any{"m": m3.SendMessage.ID}, nil)
		eventuallyFinds(t, bob, "dinner", "dinner is cancelled, sorry")
		eventuallyFinds(t, alice, "dinner", "what about dinner tomorrow", "dinner is cancelled, sorry")

		// Deleted for everyone: gone for both.
		alice.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: true) { id } }`, map[string]any{"m": m2.SendMessage.ID}, nil)
		eventuallyFinds(t, bob, "dinner")
		eventuallyFinds(t, alice, "dinner", "what about dinner tomorrow")
	})
}

func TestSearchPagesAreFullAndOrdered(t *testing.T) {
	withSearchBackends(t, func(t *testing.T, backend string) {
		a := startSearchAPI(t, searchAPIConfig{backend: backend})
		alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
		dm := startDirect(t, alice, bob)
		var want []string
		for i := 1; i <= 23; i++ {
			body := fmt.Sprintf("standup note %d", i)
			sendMsg(t, alice, dm, fmt.Sprint("p", i), body)
			want = append([]string{body}, want...)
			// A message bob hid does not leave a hole in his pages.
			if i == 7 {
				m := sendMsg(t, alice, dm, "hidden", "standup note hidden")
				bob.Must(t, `mutation($m: ID!) { deleteMessage(messageId: $m, forEveryone: false) { id } }`, map[string]any{"m": m.SendMessage.ID}, nil)
			}
		}
		eventuallyFinds(t, bob, "standup", want...)
		var got []string
		vars := map[string]any{"q": "standup", "f": 10}
		for {
			r := searchMessages(t, bob, vars)
			if r.SearchMessages.TotalCount != 23 {
				t.Fatalf("totalCount = %d", r.SearchMessages.TotalCount)
			}
			if n := len(r.SearchMessages.Edges); n != min(10, 23-len(got)) {
				t.Fatalf("page after %d hits has %d", len(got), n)
			}
			got = append(got, r.bodies()...)
			if !r.SearchMessages.PageInfo.HasNextPage {
				break
			}
			vars["a"] = r.SearchMessages.PageInfo.EndCursor
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paged %q", got)
		}
		r := searchMessages(t, bob, map[string]any{"q": "standup note 17", "o": "RELEVANCE", "f": 5})
		if len(r.bodies()) != 1 || r.bodies()[0] != "standup note 17" {
			t.Fatalf("relevance search found %q", r.bodies())
		}
		bob.Refused(t, "BAD_USER_INPUT", searchQuery, map[string]any{"q": "standup", "a": "not-a-cursor"})
		bob.Refused(t, "BAD_USER_INPUT", searchQuery, map[string]any{"q": "   "})
	})
}
