package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/auth"
	"messenger/chat"
	"messenger/ids"
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

func TestSearchUsersByPrefix(t *testing.T) {
	withSearchBackends(t, func(t *testing.T, backend string) {
		a := startSearchAPI(t, searchAPIConfig{backend: backend})
		tag := fmt.Sprintf("q%04d", rand.IntN(10000))
		me := a.signUp(t, "me")
		var names []string
		for range 5 {
			names = append(names, a.signUp(t, tag+"user").Username)
		}
		sort.Strings(names)
		query := `query($q: String!, $f: Int, $a: String) { searchUsers(query: $q, first: $f, after: $a) { pageInfo { hasNextPage endCursor } edges { node { username } } } }`
		type page struct {
			SearchUsers struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct{ Node struct{ Username string } }
			}
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			var got []string
			vars := map[string]any{"q": strings.ToUpper(tag), "f": 2}
			for {
				var p page
				me.Must(t, query, vars, &p)
				for _, e := range p.SearchUsers.Edges {
					got = append(got, e.Node.Username)
				}
				if !p.SearchUsers.PageInfo.HasNextPage {
					break
				}
				vars["a"] = p.SearchUsers.PageInfo.EndCursor
			}
			if slices.Equal(got, names) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("searchUsers(%q) paged %q, want %q", tag, got, names)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestSearchForAUserInThousandsOfConversations builds, through the domain
// (not the API, for speed), one user in 2,000 direct conversations and 300
// groups they joined after the groups' first message, then searches through
// the API: the count is exact and pages are full.
func TestSearchForAUserInThousandsOfConversations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 2,300 conversations")
	}
	withSearchBackends(t, func(t *testing.T, backend string) {
		a := startSearchAPI(t, searchAPIConfig{backend: backend})
		ctx := context.Background()
		me := a.signUp(t, "busy")
		meID, _ := ids.DecodeAs(ids.User, me.UserID)
		const directs, groups = 2000, 300
		var others []string
		for i := range directs {
			u := storage.User{ID: fmt.Sprintf("peer-%d-%d", i, rand.Uint32()), CreatedAt: time.Now()}
			u.Username, u.UsernameKey, u.DisplayName = u.ID, u.ID, u.ID
			if err := a.Store.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			others = append(others, u.ID)
		}
		want := 0
		parallel(directs, 8, func(i int) {
			c, err := a.Chat.CreateDirect(ctx, meID, others[i])
			if err != nil {
				panic(err)
			}
			if i%20 == 0 {
				if _, err := a.Chat.Send(ctx, others[i], c.ID, "k", fmt.Sprintf("quarterly numbers %d", i)); err != nil {
					panic(err)
				}
			}
		})
		want += directs / 20
		parallel(groups, 8, func(i int) {
			g, err := a.Chat.CreateGroup(ctx, others[i], fmt.Sprint("g", i), []string{others[(i+1)%directs]})
			if err != nil {
				panic(err)
			}
			if _, err := a.Chat.Send(ctx, others[i], g.ID, "before", "quarterly numbers before I joined"); err != nil {
				panic(err)
			}
			if _, err := a.Chat.AddMembers(ctx, others[i], g.ID, []string{meID}); err != nil {
				panic(err)
			}
			if _, err := a.Chat.Send(ctx, others[i], g.ID, "after", "quarterly numbers after I joined"); err != nil {
				panic(err)
			}
		})
		want += groups
		deadline := time.Now().Add(60 * time.Second)
		for {
			r := searchMessages(t, me, map[string]any{"q": "quarterly", "f": 100})
			if r.SearchMessages.TotalCount == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("totalCount = %d, want %d", r.SearchMessages.TotalCount, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
		seen := 0
		vars := map[string]any{"q": "quarterly", "f": 100}
		start := time.Now()
		for {
			r := searchMessages(t, me, vars)
			for _, b := range r.bodies() {
				if strings.Contains(b, "before") {
					t.Fatalf("found a message sent before joining: %q", b)
				}
			}
			seen += len(r.SearchMessages.Edges)
			if !r.SearchMessages.PageInfo.HasNextPage {
				break
			}
			if len(r.SearchMessages.Edges) != 100 {
				t.Fatalf("a middle page has %d hits", len(r.SearchMessages.Edges))
			}
			vars["a"] = r.SearchMessages.PageInfo.EndCursor
		}
		if seen != want {
			t.Fatalf("paged %d hits, want %d", seen, want)
		}
		t.Logf("%s: %d conversations, paged %d hits in %v", backend, directs+groups, seen, time.Since(start))
	})
}

// TestSearchCatchesUpAfterAnOutage cuts the API off the index while messages
// are sent, edited and hidden, and restarts the indexer meanwhile (as a
// crashed process would lose its memory), then checks nothing is missing.
// Against OpenSearch the cut is a TCP proxy dropping every connection; with
// MESSENGER_TEST_OUTAGE=1 it really stops and starts the server.
func TestSearchCatchesUpAfterAnOutage(t *testing.T) {
	withSearchBackends(t, func(t *testing.T, backend string) {
		real := backend == "opensearch" && os.Getenv("MESSENGER_TEST_OUTAGE") == "1"
		a := startSearchAPI(t, searchAPIConfig{backend: backend, viaProxy: !real})
		alice, bob := a.signUp(t, "alice"), a.signUp(t, "bob")
		dm := startDirect(t, alice, bob)
		first := sendMsg(t, alice, dm, "o0", "ticket opened")
		eventuallyFinds(t, bob, "ticket", "ticket opened")

		down := func(isDown bool) {
			switch {
			case real:
				cmd := "start"
				if isDown {
					cmd = "stop"
				}
				out, err := exec.Command("../scripts/services.sh", cmd, "opensearch").CombinedOutput()
				if err != nil {
					t.Fatalf("services.sh %s opensearch: %v\n%s", cmd, err, out)
				}
			case a.proxy != nil:
				a.proxy.SetUp(!isDown)
			default:
				a.Index.(*flakyIndex).down.Store(isDown)
			}
		}
		down(true)
		sendStart := time.Now()
		var want []string
		for i := 1; i <= 30; i++ {
			body := fmt.Sprintf("ticket update %d", i)
			sendMsg(t, alice, dm, fmt.Sprint("o", i), body)
			want = append([]string{body}, want...)
		}
		if d := time.Since(sendStart); d > 5*time.Second {
			t.Errorf("30 sends took %v while search was down: indexing must not slow sending", d)
		}
		alice.Must(t, `mutation($m: ID!, $b: String!) { editMessage(messageId: $m, body: $b) { id } }`, map[string]any{"m": first.SendMessage.ID, "b": "ticket reopened"}, nil)
		// The process restarts mid-outage: the new indexer knows nothing of
		// the pending messages but the watermark is behind LastSeq.
		a.startIndexer(t)
		for i := 31; i <= 40; i++ {
			body := fmt.Sprintf("ticket update %d", i)
			sendMsg(t, alice, dm, fmt.Sprint("o", i), body)
			want = append([]string{body}, want...)
		}
		down(false)
		eventuallyFinds(t, bob, "update", want...)
		// The edit made after the restart is not lost either.
		eventuallyFinds(t, bob, "reopened", "ticket reopened")
	})
}

// BenchmarkSendToSearchable measures how long a sent message takes to be
// found: sendMessage through the API, then search until it appears.
func BenchmarkSendToSearchable(b *testing.B) {
	for _, backend := range []string{"bleve", "opensearch"} {
		b.Run(backend, func(b *testing.B) {
			if backend == "opensearch" && os.Getenv("MESSENGER_OPENSEARCH_URL") == "" {
				b.Skip("MESSENGER_OPENSEARCH_URL is not set")
			}
			a := startSearchAPI(b, searchAPIConfig{backend: backend})
			alice, bob := apitest.SignUp(b, a.URL, "alice"), apitest.SignUp(b, a.URL, "bob")
			var out struct{ CreateDirectConversation struct{ ID string } }
			alice.Must(b, direct, map[string]any{"u": bob.UserID}, &out)
			dm := out.CreateDirectConversation.ID
			var delays []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				word := fmt.Sprintf("w%dx%d", i, rand.Uint32())
				start := time.Now()
				var s sent
				alice.Must(b, send, map[string]any{"c": dm, "k": word, "b": "probe " + word}, &s)
				for {
					var r searchResult
					bob.Must(b, searchQuery, map[string]any{"q": word}, &r)
					if len(r.SearchMessages.Edges) == 1 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				delays = append(delays, time.Since(start))
			}
			slices.Sort(delays)
			b.ReportMetric(float64(delays[len(delays)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(delays[len(delays)*99/100].Milliseconds()), "p99-ms")
		})
	}
}
