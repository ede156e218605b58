package server_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/auth"
	"messenger/server"
	"messenger/storage"
)

// testAPI is the whole API on embedded backends, like newAPI, for tests and
// benchmarks that need more: many accounts (passwords are hashed with a
// cheap argon2id cost, so 1,000 sign-ups take a second instead of a minute),
// a clock they control, and a count of the store reads each request makes.
type testAPI struct {
	URL   string
	Store *countingStore
}

type testAPIConfig struct {
	// now is the domain's clock (default time.Now).
	now func() time.Time
}

// cheapPasswords is argon2id at its smallest cost: sign-up still runs the
// real hash through the real API, it just does not spend 64 MiB on it.
var cheapPasswords = auth.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

func startAPI(tb testing.TB, cfg testAPIConfig) *testAPI {
	tb.Helper()
	store := &countingStore{Store: embeddedStore(tb)}
	_, url := newEmbedded(tb, apiOptions{store: store, now: cfg.now}).serve(tb, server.Config{})
	return &testAPI{URL: url, Store: store}
}

// signUp creates one user.
func (a *testAPI) signUp(tb testing.TB, prefix string) *apitest.Client {
	tb.Helper()
	return apitest.SignUp(tb, a.URL, prefix)
}

// signUpMany creates n users through the API, 8 at a time.
func (a *testAPI) signUpMany(tb testing.TB, prefix string, n int) []*apitest.Client {
	tb.Helper()
	out := make([]*apitest.Client, n)
	parallel(n, 8, func(i int) { out[i] = apitest.SignUp(tb, a.URL, prefix) })
	for _, c := range out {
		if c == nil || c.Token == "" {
			tb.FailNow()
		}
	}
	return out
}

// parallel runs fn(0..n-1) with at most width calls at a time.
func parallel(n, width int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, width)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}

// clock is a domain clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward and returns the new time.
func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// subscribe opens c's events subscription and returns once it is live: the
// API reports c online only after its event stream is registered, so
// nothing sent afterwards can be missed.
func subscribe(t testing.TB, c *apitest.Client) *apitest.Events {
	t.Helper()
	ev := c.Subscribe(context.Background(), t, "")
	waitPresence(t, c, c.UserID, true)
	return ev
}

func waitPresence(t testing.TB, asker *apitest.Client, userID string, online bool) (lastSeenAt *string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out struct {
			User struct {
				Presence struct {
					Online     bool
					LastSeenAt *string
				}
			}
		}
		asker.Must(t, `query($u: ID!) { user(id: $u) { presence { online lastSeenAt } } }`, map[string]any{"u": userID}, &out)
		if out.User.Presence.Online == online {
			return out.User.Presence.LastSeenAt
		}
		if time.Now().After(deadline) {
			t.Fatalf("user %s: online is %v, want %v", userID, out.User.Presence.Online, online)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// countingStore counts the calls a request makes to each reading method
// of the store. Writes pass through uncounted.
type countingStore struct {
	storage.Store
	mu    sync.Mutex
	calls map[string]*atomic.Int64
}

func (s *countingStore) count(method string) {
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[string]*atomic.Int64{}
	}
	c, ok := s.calls[method]
	if !ok {
		c = new(atomic.Int64)
		s.calls[method] = c
	}
	s.mu.Unlock()
	c.Add(1)
}

// Reset zeroes the counts.
func (s *countingStore) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Counts returns the calls per method since the last Reset.
func (s *countingStore) Counts() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for m, c := range s.calls {
		out[m] = c.Load()
	}
	return out
}

// Summary renders counts divided by n, e.g. "Members=1 Messages=1".
func summary(counts map[string]int64, n int) string {
	var parts []string
	for m, c := range counts {
		parts = append(parts, fmt.Sprintf("%s=%.3g", m, float64(c)/float64(n)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func (s *countingStore) UserByUsername(ctx context.Context, key string) (storage.User, error) {
	s.count("UserByUsername")
	return s.Store.UserByUsername(ctx, key)
}

func (s *countingStore) Users(ctx context.Context, ids []string) (map[string]storage.User, error) {
	s.count("Users")
	return s.Store.Users(ctx, ids)
}

func (s *countingStore) Conversations(ctx context.Context, ids []string) (map[string]storage.Conversation, error) {
	s.count("Conversations")
	return s.Store.Conversations(ctx, ids)
}

func (s *countingStore) Member(ctx context.Context, conversationID, userID string) (storage.Member, error) {
	s.count("Member")
	return s.Store.Member(ctx, conversationID, userID)
}

func (s *countingStore) Members(ctx context.Context, conversationID, afterUserID string, limit int) ([]storage.Member, error) {
	s.count("Members")
	return s.Store.Members(ctx, conversationID, afterUserID, limit)
}

func (s *countingStore) UserConversationIDs(ctx context.Context, userID string) ([]string, error) {
	s.count("UserConversationIDs")
	return s.Store.UserConversationIDs(ctx, userID)
}

func (s *countingStore) Messages(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.Message, error) {
	s.count("Messages")
	return s.Store.Messages(ctx, conversationID, seqs)
}

func (s *countingStore) MessageByID(ctx context.Context, id string) (storage.Message, error) {
	s.count("MessageByID")
	return s.Store.MessageByID(ctx, id)
}

func (s *countingStore) ListMessages(ctx context.Context, conversationID, viewerID string, afterSeq, beforeSeq int64, limit int, newestFirst bool) ([]storage.Message, error) {
	s.count("ListMessages")
	return s.Store.ListMessages(ctx, conversationID, viewerID, afterSeq, beforeSeq, limit, newestFirst)
}

func (s *countingStore) CountUnread(ctx context.Context, conversationID, userID string, afterSeq int64) (int, error) {
	s.count("CountUnread")
	return s.Store.CountUnread(ctx, conversationID, userID, afterSeq)
}

func (s *countingStore) ReceiptTime(ctx context.Context, conversationID, userID string, kind storage.CursorKind, seq int64) (time.Time, bool, error) {
	s.count("ReceiptTime")
	return s.Store.ReceiptTime(ctx, conversationID, userID, kind, seq)
}

func (s *countingStore) Receipts(ctx context.Context, conversationID string, seq int64, kind storage.CursorKind, afterUserID string, limit int) ([]storage.Receipt, error) {
	s.count("Receipts")
	return s.Store.Receipts(ctx, conversationID, seq, kind, afterUserID, limit)
}

func (s *countingStore) ReceiptCounts(ctx context.Context, conversationID string, seqs []int64) (map[int64]storage.MessageCounts, error) {
	s.count("ReceiptCounts")
	return s.Store.ReceiptCounts(ctx, conversationID, seqs)
}

func (s *countingStore) Reactions(ctx context.Context, conversationID string, seqs []int64) (map[int64][]storage.ReactionSummary, error) {
	s.count("Reactions")
	return s.Store.Reactions(ctx, conversationID, seqs)
}

func (s *countingStore) ReactionsBy(ctx context.Context, conversationID string, seqs []int64, userID string) (map[int64][]string, error) {
	s.count("ReactionsBy")
	return s.Store.ReactionsBy(ctx, conversationID, seqs, userID)
}

func (s *countingStore) ReactionUsers(ctx context.Context, conversationID string, seq int64, emoji, afterUserID string, limit int) ([]storage.Receipt, error) {
	s.count("ReactionUsers")
	return s.Store.ReactionUsers(ctx, conversationID, seq, emoji, afterUserID, limit)
}
