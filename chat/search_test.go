package chat_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/netcut"
	"messenger/realtime/memlog"
	"messenger/search"
	"messenger/search/bleve"
	"messenger/search/indexer"
	"messenger/search/opensearch"
	"messenger/search/searchtest"
	"messenger/storage"
	"messenger/storage/pebble"
)

// TestSearchShowsOnlyCurrentTextAfterAnOutageAndARestart edits, deletes and
// hides messages, sends new ones, starts a conversation and signs a user up
// while the search index is unreachable, then lets the indexer's process
// die (its memory of those changes is lost) and starts a new one before
// the index is back: every change must show in search, and no stale text
// may be found. Against OpenSearch the index is cut off by a TCP proxy;
// with MESSENGER_TEST_OUTAGE=1 the shared server is really stopped and
// started again.
func TestSearchShowsOnlyCurrentTextAfterAnOutageAndARestart(t *testing.T) {
	for _, backend := range []string{"bleve", "opensearch"} {
		t.Run(backend, func(t *testing.T) {
			if backend == "opensearch" && os.Getenv("MESSENGER_OPENSEARCH_URL") == "" {
				t.Skip("MESSENGER_OPENSEARCH_URL is not set: start one with `eval \"$(scripts/services.sh up opensearch)\"`")
			}
			testOutageAndRestart(t, backend)
		})
	}
}

func testOutageAndRestart(t *testing.T, backend string) {
	ctx := context.Background()
	e := newSearchEnv(t, backend, os.Getenv("MESSENGER_TEST_OUTAGE") == "1")
	alice, bob := e.signUp(t, "alice"), e.signUp(t, "bob")
	dm, err := e.chat.CreateDirect(ctx, alice, bob)
	if err != nil {
		t.Fatal(err)
	}
	meeting := e.send(t, alice, dm.ID, "the meeting is on monday")
	plan := e.send(t, alice, dm.ID, "secret plan alpha")
	lunch := e.send(t, alice, dm.ID, "lunch at noon")
	e.eventuallyFinds(t, bob, "monday", meeting.ID)
	e.eventuallyFinds(t, bob, "lunch", lunch.ID)

	e.setDown(t, true)
	if _, err := e.chat.Edit(ctx, alice, meeting.ID, "the meeting moved to tuesday"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Delete(ctx, alice, plan.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Delete(ctx, bob, lunch.ID, false); err != nil {
		t.Fatal(err)
	}
	budget := e.send(t, alice, dm.ID, "new budget numbers")
	group, err := e.chat.CreateGroup(ctx, alice, "retro", []string{bob})
	if err != nil {
		t.Fatal(err)
	}
	kickoff := e.send(t, alice, group.ID, "retro kickoff thursday")
	carolName := fmt.Sprintf("carol%06d", rand.IntN(1000000))
	carol := e.signUpAs(t, carolName)

	// The process dies with those changes only in its memory; a new one
	// starts while the index is still unreachable.
	e.stopIndexer()
	e.startIndexer(t)
	e.setDown(t, false)

	e.eventuallyFinds(t, bob, "tuesday", meeting.ID)
	e.eventuallyFinds(t, bob, "monday")
	e.eventuallyFinds(t, bob, "alpha")
	e.eventuallyFinds(t, alice, "alpha")
	e.eventuallyFinds(t, bob, "budget", budget.ID)
	e.eventuallyFinds(t, bob, "kickoff", kickoff.ID)
	// Only bob hid the lunch message: alice still finds it, bob never does
	// again, and his search repairs the stale document.
	e.eventuallyFinds(t, alice, "lunch", lunch.ID)
	e.eventuallyFinds(t, bob, "lunch")
	eventually(t, func() string {
		u, err := e.chat.SearchUsers(ctx, bob, carolName, 10, "")
		if err != nil {
			return err.Error()
		}
		if len(u.Users) != 1 || u.Users[0].ID != carol {
			return fmt.Sprintf("searching users for %q found %v, want %s", carolName, u.Users, carol)
		}
		return ""
	})
}

// searchEnv is the chat service with the embedded store and a search
// index whose connection a test can cut, fed by an Indexer that a test can
// kill and replace as a restarted process would.
type searchEnv struct {
	chat  *chat.Service
	store storage.Store
	index search.Index
	hook  *searchtest.Hook
	// setDown cuts or restores the index.
	setDown func(t *testing.T, down bool)
	stop    func()
}

func newSearchEnv(t *testing.T, backend string, realOutage bool) *searchEnv {
	t.Helper()
	e := &searchEnv{hook: &searchtest.Hook{}}
	db, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.store = db
	switch {
	case backend == "bleve":
		idx, err := bleve.Open(bleve.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		// No network to cut: a wrapper fails every call while "down".
		f := &unreachableIndex{Index: idx}
		t.Cleanup(func() { idx.Close() })
		e.index, e.setDown = f, func(_ *testing.T, down bool) { f.down.Store(down) }
	default:
		url := os.Getenv("MESSENGER_OPENSEARCH_URL")
		var proxy *netcut.Proxy
		if !realOutage {
			proxy = netcut.New(t, strings.TrimPrefix(url, "http://"))
			url = "http://" + proxy.Addr()
		}
		idx, err := opensearch.Open(context.Background(), opensearch.Config{
			URLs: []string{url}, Prefix: fmt.Sprintf("chat-%08x-", rand.Uint32()), RequestTimeout: 2 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		e.index = idx
		stopped := false
		e.setDown = func(t *testing.T, down bool) {
			if proxy != nil {
				proxy.SetUp(!down)
				return
			}
			cmd := "start"
			if down {
				cmd = "stop"
			}
			if out, err := exec.Command("../scripts/services.sh", cmd, "opensearch").CombinedOutput(); err != nil {
				t.Fatalf("services.sh %s opensearch: %v\n%s", cmd, err, out)
			}
			stopped = down
		}
		t.Cleanup(func() {
			if stopped {
				e.setDown(t, false)
			}
			if proxy != nil {
				proxy.SetUp(true)
			}
			idx.DeleteAll(context.Background())
			idx.Close()
		})
	}
	log := memlog.New(memlog.Config{})
	t.Cleanup(func() { log.Close() })
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	e.chat, err = chat.New(chat.Config{
		Store: db, Log: log, Tokens: tokens, Indexer: e.hook, Search: e.index,
		PasswordCost: auth.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.chat.Close)
	e.startIndexer(t)
	return e
}

// startIndexer starts a new Indexer (a new process's) and sends the
// domain's notifications to it.
func (e *searchEnv) startIndexer(t *testing.T) {
	ix, err := indexer.New(indexer.Config{
		Index: e.index, Source: e.store, FlushDelay: 20 * time.Millisecond, ScanInterval: time.Second, MaxBackoff: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ix.Run(ctx) }()
	e.hook.Set(ix)
	var once sync.Once
	e.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(e.stop)
}

// stopIndexer kills the running Indexer: what it had not written is lost,
// and notifications go nowhere until startIndexer.
func (e *searchEnv) stopIndexer() {
	e.hook.Set(nil)
	e.stop()
}

func (e *searchEnv) signUp(t *testing.T, prefix string) string {
	return e.signUpAs(t, fmt.Sprintf("%s%06d", prefix, rand.IntN(1000000)))
}

func (e *searchEnv) signUpAs(t *testing.T, username string) string {
	t.Helper()
	s, err := e.chat.SignUp(context.Background(), username, "correct horse battery", strings.ToUpper(username[:1])+username[1:])
	if err != nil {
		t.Fatal(err)
	}
	return s.User.ID
}

func (e *searchEnv) send(t *testing.T, me, conversationID, body string) storage.Message {
	t.Helper()
	m, err := e.chat.Send(context.Background(), me, conversationID, fmt.Sprintf("k%x", rand.Uint64()), body)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// eventuallyFinds waits (search is eventually consistent) until me's
// search for text finds exactly the messages want, newest first, and the
// engine counts no other (a stale document would still be counted).
func (e *searchEnv) eventuallyFinds(t *testing.T, me, text string, want ...string) {
	t.Helper()
	eventually(t, func() string {
		p, err := e.chat.SearchMessages(context.Background(), me, chat.SearchArgs{Query: text, First: 50})
		if err != nil {
			return err.Error()
		}
		var got []string
		for _, h := range p.Hits {
			got = append(got, h.Message.ID)
		}
		if !slices.Equal(got, want) || p.Total != len(want) {
			return fmt.Sprintf("searching %q found %v (total %d), want %v", text, got, p.Total, want)
		}
		return ""
	})
}

// eventually retries check until it returns "" or 30 s pass.
func eventually(t *testing.T, check func() string) {
	t.Helper()
	searchtest.Eventually(t, 30*time.Second, check)
}

// unreachableIndex is the embedded index with a switch that makes every
// call fail as an unreachable server's would.
type unreachableIndex struct {
	search.Index
	down atomic.Bool
}

func (f *unreachableIndex) err() error {
	if f.down.Load() {
		return fmt.Errorf("unreachable: %w", search.ErrUnavailable)
	}
	return nil
}

func (f *unreachableIndex) Apply(ctx context.Context, b search.Batch) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Index.Apply(ctx, b)
}

func (f *unreachableIndex) Watermarks(ctx context.Context, ids []string) (map[string]int64, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Index.Watermarks(ctx, ids)
}

func (f *unreachableIndex) SyncedAt(ctx context.Context) (time.Time, error) {
	if err := f.err(); err != nil {
		return time.Time{}, err
	}
	return f.Index.SyncedAt(ctx)
}

func (f *unreachableIndex) SearchMessages(ctx context.Context, q search.MessageQuery) (search.MessagePage, error) {
	if err := f.err(); err != nil {
		return search.MessagePage{}, err
	}
	return f.Index.SearchMessages(ctx, q)
}
