package cassandra

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"

	"messenger/cql"
	"messenger/cql/cqltest"
	"messenger/storage"
	"messenger/storage/storagetest"
)

// testConfig points at the test run's Cassandra with a fresh random
// keyspace, or skips the test when there is none.
func testConfig(t testing.TB) Config { return cqltest.Config(t, "test_") }

// openTestStore opens a store on cfg's keyspace and drops the keyspace at
// the end of the test (when dropKeyspace is set: the last store of it).
func openTestStore(t testing.TB, cfg Config, dropKeyspace bool) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if dropKeyspace {
			cqltest.DropKeyspace(t, s.session, cfg.Keyspace)
		}
		s.Close()
	})
	return s
}

func TestContract(t *testing.T) {
	s := openTestStore(t, testConfig(t), true)
	s.SetColdTier(coldTestBlobs(t))
	storagetest.Run(t, func(t *testing.T) storage.Store { return s })
	t.Run("MemberCountOfAnOlderConversation", func(t *testing.T) { testMemberCountOfAnOlderConversation(t, s) })
}

func TestOpenIsIdempotentAndConcurrent(t *testing.T) {
	cfg := testConfig(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			s, err := Open(ctx, cfg)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	s := openTestStore(t, cfg, true)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
	}
	migrations, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.session.Query("SELECT count(*) FROM schema_version").Scan(&n); err != nil || n != len(migrations) {
		t.Fatalf("schema_version rows = %d, %v; want one per migration (%d)", n, err, len(migrations))
	}
}

func TestOpenGivesUpOnAnUnreachableCluster(t *testing.T) {
	start := time.Now()
	_, err := Open(context.Background(), Config{Hosts: []string{"127.0.0.1:1"}, StartupTimeout: 3 * time.Second, ConnectTimeout: time.Second})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Open = %v, want ErrUnavailable", err)
	}
	t.Logf("Open: %v", err)
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("Open took %s to give up, want about StartupTimeout", d)
	}
}

func newGroup(t testing.TB, s storage.Store, members ...string) storage.Conversation {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := storage.Conversation{ID: uuid.NewString(), Kind: storage.Group, Title: "g", CreatedBy: members[0], CreatedAt: now, LastActivityAt: now}
	var ms []storage.Member
	for i, u := range members {
		role := storage.RoleMember
		if i == 0 {
			role = storage.RoleOwner
		}
		ms = append(ms, storage.Member{UserID: u, Role: role, JoinedAt: now})
	}
	if _, _, err := s.CreateConversation(context.Background(), c, ms); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTwoInstancesShareOneConversation(t *testing.T) {
	cfg := testConfig(t)
	a := openTestStore(t, cfg, true)
	b := openTestStore(t, cfg, false)
	owner := uuid.NewString()
	c := newGroup(t, a, owner)

	// Each worker pair (one on a, one on b) sends the same client ids, so
	// every shared id is sent through both instances at about the same
	// time; each worker also sends ids of its own.
	const workers, shared, own = 6, 8, 4
	type result struct {
		seq     int64
		created bool
	}
	var mu sync.Mutex
	results := map[string][]result{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		for si, s := range []*Store{a, b} {
			wg.Add(1)
			go func(w, si int, s *Store) {
				defer wg.Done()
				var ids []string
				for j := 0; j < shared; j++ {
					ids = append(ids, fmt.Sprintf("shared-%d-%d", w, j))
				}
				for j := 0; j < own; j++ {
					ids = append(ids, fmt.Sprintf("own-%d-%d-%d", si, w, j))
				}
				for _, id := range ids {
					m, created, err := s.AppendMessage(context.Background(), storage.Message{
						ConversationID: c.ID, SenderID: owner, ClientMessageID: id, Body: id, SentAt: time.Now(),
					})
					if err != nil {
						t.Error(err)
						return
					}
					if m.ClientMessageID != id || m.Body != id {
						t.Errorf("send %s returned %+v", id, m)
					}
					mu.Lock()
					results[id] = append(results[id], result{m.Seq, created})
					mu.Unlock()
				}
			}(w, si, s)
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	want := workers*shared + 2*workers*own
	if len(results) != want {
		t.Fatalf("%d distinct client ids, want %d", len(results), want)
	}
	seqOf := map[int64]string{}
	for id, rs := range results {
		created := 0
		for _, r := range rs {
			if r.seq != rs[0].seq {
				t.Fatalf("client id %s got seqs %v through the two instances", id, rs)
			}
			if r.created {
				created++
			}
		}
		if created != 1 {
			t.Fatalf("client id %s: %d calls reported created, want 1 (%v)", id, created, rs)
		}
		if other, dup := seqOf[rs[0].seq]; dup {
			t.Fatalf("seq %d given to both %s and %s", rs[0].seq, id, other)
		}
		seqOf[rs[0].seq] = id
	}
	for _, s := range []*Store{a, b} {
		msgs, err := s.ListMessages(context.Background(), c.ID, owner, 0, 0, 1000, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != want {
			t.Fatalf("history has %d messages, want %d", len(msgs), want)
		}
		for i, m := range msgs {
			if m.Seq != int64(i+1) || seqOf[m.Seq] != m.ClientMessageID {
				t.Fatalf("message %d: seq %d client id %s; want seq %d with %s", i, m.Seq, m.ClientMessageID, i+1, seqOf[int64(i+1)])
			}
		}
		got, err := s.Conversations(context.Background(), []string{c.ID})
		if err != nil || got[c.ID].LastSeq != int64(want) {
			t.Fatalf("LastSeq = %d, %v; want %d", got[c.ID].LastSeq, err, want)
		}
	}
}

// claimOnly does what a send does up to the moment its process dies: the
// Paxos claim, none of the writes after it.
func claimOnly(t *testing.T, s *Store, m storage.Message) int64 {
	t.Helper()
	tp, err := s.readTip(context.Background(), m.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	m.SentAt = cql.Timestamp(m.SentAt)
	m.Seq = tp.last + 1
	attempt := gocql.MustRandomUUID()
	r := &send{m: m, idemKey: idemKey(m, attempt, 0)}
	applied, _, err := s.claimBatch(context.Background(), m.ConversationID, []*send{r}, attempt, time.Now().UnixMicro())
	if err != nil || !applied {
		t.Fatalf("claim: applied=%v err=%v", applied, err)
	}
	return m.Seq
}

func TestSendThatDiedAfterClaimingIsFinishedByTheNextSend(t *testing.T) {
	cfg := testConfig(t)
	a := openTestStore(t, cfg, true)
	b := openTestStore(t, cfg, false)
	ctx := context.Background()
	u := uuid.NewString()
	c := newGroup(t, a, u)
	mustAppend(t, a, c.ID, u, "first")
	sent := time.Now().UTC().Truncate(time.Millisecond)
	n := claimOnly(t, a, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: "died", Body: "orphan", SentAt: sent})
	if n != 2 {
		t.Fatalf("claimed seq %d, want 2", n)
	}
	if _, err := a.MessageByID(ctx, storage.MessageID(c.ID, 2)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("before the next send, message 2: %v", err)
	}
	next := mustAppend(t, b, c.ID, u, "next")
	if next.Seq != 3 {
		t.Fatalf("next send got seq %d, want 3", next.Seq)
	}
	m, err := a.MessageByID(ctx, storage.MessageID(c.ID, 2))
	if err != nil || m.Body != "orphan" || m.ClientMessageID != "died" || !m.SentAt.Equal(sent) {
		t.Fatalf("message 2 after the next send = %+v, %v", m, err)
	}
	msgs, _ := a.ListMessages(ctx, c.ID, u, 0, 0, 10, false)
	if len(msgs) != 3 {
		t.Fatalf("history = %d messages, want 3 with no gap", len(msgs))
	}
	// The client's retry of the dead send gets the same message back.
	again, created, err := b.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: "died", Body: "retry", SentAt: time.Now()})
	if err != nil || created || again.Seq != 2 || again.Body != "orphan" {
		t.Fatalf("retry = %+v created=%v err=%v; want the original seq 2", again, created, err)
	}
}

func TestRetryOfASendThatDiedAfterClaimingReturnsIt(t *testing.T) {
	cfg := testConfig(t)
	a := openTestStore(t, cfg, true)
	b := openTestStore(t, cfg, false)
	ctx := context.Background()
	u := uuid.NewString()
	c := newGroup(t, a, u)
	claimOnly(t, a, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: "died", Body: "orphan", SentAt: time.Now()})
	got, created, err := b.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: "died", Body: "retry", SentAt: time.Now()})
	if err != nil || created || got.Seq != 1 || got.Body != "orphan" {
		t.Fatalf("retry = %+v created=%v err=%v; want seq 1, the original body", got, created, err)
	}
	conv, _ := a.Conversations(ctx, []string{c.ID})
	if conv[c.ID].LastSeq != 1 {
		t.Fatalf("LastSeq = %d, want 1", conv[c.ID].LastSeq)
	}
	if _, err := a.MessageByID(ctx, storage.MessageID(c.ID, 1)); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryPagesAcrossBuckets(t *testing.T) {
	cfg := testConfig(t)
	s := openTestStore(t, cfg, true)
	ctx := context.Background()
	a, v := uuid.NewString(), uuid.NewString()
	c := newGroup(t, s, a, v)
	const total = bucketSize + bucketSize/5
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total/4; i++ {
				if _, _, err := s.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: a, ClientMessageID: uuid.NewString(), Body: "m", SentAt: time.Now()}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	hidden := map[int64]bool{bucketSize - 2: true, bucketSize - 1: true, bucketSize: true, 7: true}
	for seq := range hidden {
		if err := s.HideMessage(ctx, v, c.ID, seq); err != nil {
			t.Fatal(err)
		}
	}
	for _, newest := range []bool{false, true} {
		var seen []int64
		var after, before int64
		for {
			page, err := s.ListMessages(ctx, c.ID, v, after, before, 50, newest)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) < 50 && len(seen)+len(page) != total-len(hidden) {
				t.Fatalf("short page of %d in the middle (after %d)", len(page), len(seen))
			}
			for _, m := range page {
				seen = append(seen, m.Seq)
			}
			if newest {
				before = page[len(page)-1].Seq
			} else {
				after = page[len(page)-1].Seq
			}
		}
		if len(seen) != total-len(hidden) {
			t.Fatalf("newest=%v: paged %d messages, want %d", newest, len(seen), total-len(hidden))
		}
		for i := 1; i < len(seen); i++ {
			if newest && seen[i] >= seen[i-1] || !newest && seen[i] <= seen[i-1] {
				t.Fatalf("newest=%v: out of order at %d: %d then %d", newest, i, seen[i-1], seen[i])
			}
		}
	}
	n, err := s.CountUnread(ctx, c.ID, v, bucketSize-10)
	if err != nil || n != total-(bucketSize-10)-3 {
		t.Fatalf("CountUnread across buckets = %d, %v; want %d", n, err, total-(bucketSize-10)-3)
	}
	// A fresh store has no hint of where the newest bucket is.
	fresh := openTestStore(t, cfg, false)
	page, err := fresh.ListMessages(ctx, c.ID, a, 0, 0, 3, true)
	if err != nil || len(page) != 3 || page[0].Seq != total {
		t.Fatalf("newest page from a fresh store = %v, %v", seqs(page), err)
	}
}

func seqs(msgs []storage.Message) []int64 {
	var out []int64
	for _, m := range msgs {
		out = append(out, m.Seq)
	}
	return out
}

func mustAppend(t testing.TB, s storage.Store, conv, sender, body string) storage.Message {
	t.Helper()
	m, created, err := s.AppendMessage(context.Background(), storage.Message{
		ConversationID: conv, SenderID: sender, ClientMessageID: uuid.NewString(), Body: body, SentAt: time.Now(),
	})
	if err != nil || !created {
		t.Fatalf("AppendMessage: created=%v err=%v", created, err)
	}
	return m
}

// forget deletes a send's sequencer row, as its TTL eventually does.
func forget(t *testing.T, s *Store, conv, sender, clientID string) {
	t.Helper()
	if err := s.session.Query("DELETE FROM message_sequencer WHERE conversation_id = ? AND idem_key = ?", conv, sender+"\x00"+clientID).Exec(); err != nil {
		t.Fatal(err)
	}
}

func TestRetryAfterTheSequencerForgotFindsTheOriginal(t *testing.T) {
	cfg := testConfig(t)
	a := openTestStore(t, cfg, true)
	b := openTestStore(t, cfg, false)
	ctx := context.Background()
	u := uuid.NewString()
	c := newGroup(t, a, u)
	retry := func(s *Store, id string, wantSeq int64) {
		t.Helper()
		got, created, err := s.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: id, Body: "retry", SentAt: time.Now()})
		if err != nil || created || got.Seq != wantSeq || got.Body != "original" {
			t.Fatalf("retry of %s = seq %d %q created=%v err=%v; want the original at seq %d", id, got.Seq, got.Body, created, err, wantSeq)
		}
	}

	// Died after claiming, and is still the newest message.
	claimOnly(t, a, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: "k1", Body: "original", SentAt: time.Now()})
	forget(t, a, c.ID, u, "k1")
	retry(b, "k1", 1)

	// Died after claiming, then someone else sent after it.
	claimOnly(t, a, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: "k2", Body: "original", SentAt: time.Now()})
	forget(t, a, c.ID, u, "k2")
	mustAppend(t, b, c.ID, u, "later")
	retry(a, "k2", 2)

	// Acknowledged long ago.
	m, _, err := a.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: "k3", Body: "original", SentAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	forget(t, a, c.ID, u, "k3")
	mustAppend(t, b, c.ID, u, "later")
	retry(b, "k3", m.Seq)

	msgs, _ := a.ListMessages(ctx, c.ID, u, 0, 0, 100, false)
	if len(msgs) != 5 || msgs[4].Seq != 5 {
		t.Fatalf("history = %v, want seqs 1..5", seqs(msgs))
	}
}
