package cassandra

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

// sent is what one AppendMessage call answered.
type sent struct {
	id      string
	seq     int64
	body    string
	created bool
}

// checkHistory asserts the conversation holds exactly seqs 1..n with no
// hole, that every client id has one seq and one message, that exactly one
// call per client id reported created, and that every call got its id's
// message.
func checkHistory(t *testing.T, s *Store, conv, viewer string, results []sent) {
	t.Helper()
	ctx := context.Background()
	byID := map[string][]sent{}
	for _, r := range results {
		byID[r.id] = append(byID[r.id], r)
	}
	msgs, err := s.ListMessages(ctx, conv, viewer, 0, 0, 10000, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(byID) {
		t.Fatalf("history has %d messages for %d client ids", len(msgs), len(byID))
	}
	seqOf := map[string]int64{}
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: a hole or a duplicate (%v)", i, m.Seq, seqs(msgs))
		}
		if _, dup := seqOf[m.ClientMessageID]; dup {
			t.Fatalf("client id %s stored twice", m.ClientMessageID)
		}
		seqOf[m.ClientMessageID] = m.Seq
		if m.Body != m.ClientMessageID {
			t.Fatalf("message %d: body %q, want %q", m.Seq, m.Body, m.ClientMessageID)
		}
	}
	for id, rs := range byID {
		created := 0
		for _, r := range rs {
			if r.seq != seqOf[id] || r.body != id {
				t.Fatalf("a send of %s returned seq %d %q; stored at seq %d", id, r.seq, r.body, seqOf[id])
			}
			if r.created {
				created++
			}
		}
		if created != 1 {
			t.Fatalf("client id %s: %d calls reported created, want 1", id, created)
		}
	}
	got, err := s.Conversations(ctx, []string{conv})
	if err != nil || got[conv].LastSeq != int64(len(msgs)) {
		t.Fatalf("LastSeq = %d, %v; want %d", got[conv].LastSeq, err, len(msgs))
	}
}

// sender is one goroutine of sendAtOnce: the client ids it sends, in
// order, through its store.
type sender struct {
	store *Store
	ids   []string
}

// numbered is n client ids: prefix0, prefix1, ...
func numbered(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + strconv.Itoa(i)
	}
	return ids
}

// sendAtOnce runs every sender at once (body = client id) and returns what
// each call answered; a failed send fails the test.
func sendAtOnce(t *testing.T, conv, u string, workers []sender) []sent {
	var mu sync.Mutex
	var results []sent
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range w.ids {
				m, created, err := w.store.AppendMessage(context.Background(), storage.Message{ConversationID: conv, SenderID: u, ClientMessageID: id, Body: id, SentAt: time.Now()})
				if err != nil {
					t.Errorf("send %s: %v", id, err)
					return
				}
				mu.Lock()
				results = append(results, sent{id, m.Seq, m.Body, created})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
}

// TestGroupCommit runs the group-commit cases on two store instances of
// one keyspace (two API processes): one keyspace for all, as creating one
// is the slowest step on a shared node.
func TestGroupCommit(t *testing.T) {
	cfg := testConfig(t)
	a := openTestStore(t, cfg, true)
	b := openTestStore(t, cfg, false)
	t.Run("SendsInOneProcessShareOneClaim", func(t *testing.T) { testSendsInOneProcessShareOneClaim(t, a) })
	t.Run("TwoInstancesRacingWithRetriesNeverDuplicateOrSkip", func(t *testing.T) { testTwoInstancesRacing(t, a, b) })
	t.Run("SenderPausedBetweenClaimAndWritesLosesNothing", func(t *testing.T) { testSenderPaused(t, a, b) })
	t.Run("BusyConversationOnTwoInstancesTakesTurns", func(t *testing.T) { testBusyOnTwoInstances(t, a, b) })
}

// testBusyOnTwoInstances keeps both instances claiming one conversation
// back to back: every send must succeed. (When a lost claim read the
// winner's durable mark before trying again, the loser was always one
// round trip late and gave up after 100 lost claims with UNAVAILABLE.)
func testBusyOnTwoInstances(t *testing.T, a, b *Store) {
	u := uuid.NewString()
	c := newGroup(t, a, u)
	const each = 250
	var workers []sender
	for w, s := range []*Store{a, b, a, b} {
		workers = append(workers, sender{store: s, ids: numbered(fmt.Sprintf("w%d-", w), each)})
	}
	results := sendAtOnce(t, c.ID, u, workers)
	if t.Failed() {
		return
	}
	checkHistory(t, a, c.ID, u, results)
}

func testSendsInOneProcessShareOneClaim(t *testing.T, s *Store) {
	u := uuid.NewString()
	c := newGroup(t, s, u)
	// The first claim takes whatever had queued when it started (one send,
	// or all of them if the goroutines all queued first: CI's race run did
	// that) and then waits until every other send queued behind it, so the
	// next batch holds all the rest: at most two claims, whatever the
	// scheduling.
	const senders = 32
	var claims, firstBatch atomic.Int64
	s.afterClaim = func(conv string, first, last int64) {
		if claims.Add(1) > 1 {
			return
		}
		k := last - first + 1
		firstBatch.Store(k)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			s.sends.mu.Lock()
			n := len(s.sends.queues[conv])
			s.sends.mu.Unlock()
			if int64(n) == senders-k {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Errorf("only some sends queued behind the first claim")
	}
	defer func() { s.afterClaim = nil }()
	workers := make([]sender, senders)
	for w := range workers {
		workers[w] = sender{store: s, ids: []string{fmt.Sprintf("w%d", w)}}
	}
	results := sendAtOnce(t, c.ID, u, workers)
	if t.Failed() {
		return
	}
	checkHistory(t, s, c.ID, u, results)
	want := int64(2) // the first batch, then all the others
	if firstBatch.Load() == senders {
		want = 1
	}
	if n := claims.Load(); n != want {
		t.Fatalf("%d claims for %d messages (the first claimed %d), want %d", n, senders, firstBatch.Load(), want)
	}
}

func testTwoInstancesRacing(t *testing.T, a, b *Store) {
	u := uuid.NewString()
	c := newGroup(t, a, u)
	// Every client id is sent twice through each instance, by goroutines
	// running at once (a client retrying through both instances, as a
	// load balancer would send it), and the ids of the rounds overlap.
	const rounds, ids = 6, 10
	var workers []sender
	for r := 0; r < rounds; r++ {
		for _, s := range []*Store{a, b, a, b} {
			workers = append(workers, sender{store: s, ids: numbered(fmt.Sprintf("r%d-", r), ids)})
		}
	}
	results := sendAtOnce(t, c.ID, u, workers)
	if t.Failed() {
		return
	}
	checkHistory(t, a, c.ID, u, results)
	checkHistory(t, b, c.ID, u, results)
}

func testSenderPaused(t *testing.T, a, b *Store) {
	ctx := context.Background()
	u := uuid.NewString()
	c := newGroup(t, a, u)

	// a's first batch stops after its Paxos claim, as a process paused by
	// GC or SIGSTOP would, until b has gone on past it.
	type claimed struct{ first, last int64 }
	paused := make(chan claimed, 1)
	resume := make(chan struct{})
	var once sync.Once
	a.afterClaim = func(_ string, first, last int64) {
		once.Do(func() {
			paused <- claimed{first, last}
			<-resume
		})
	}
	defer func() { a.afterClaim = nil }()
	var mu sync.Mutex
	var results []sent
	record := func(id string, m storage.Message, created bool) {
		mu.Lock()
		results = append(results, sent{id, m.Seq, m.Body, created})
		mu.Unlock()
	}
	send := func(s *Store, id string) {
		m, created, err := s.AppendMessage(ctx, storage.Message{ConversationID: c.ID, SenderID: u, ClientMessageID: id, Body: id, SentAt: time.Now()})
		if err != nil {
			t.Error(err)
			return
		}
		record(id, m, created)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); send(a, fmt.Sprintf("a-%d", i)) }()
	}
	var p claimed
	select {
	case p = <-paused:
	case <-time.After(60 * time.Second):
		close(resume)
		t.Fatal("a never claimed")
	}
	// While a is paused: b sends (and so writes a's claimed batch from the
	// sequencer tip before claiming past it), and retries every one of a's
	// client ids, from both sides of the batch.
	for i := 0; i < 5; i++ {
		send(b, fmt.Sprintf("b-%d", i))
	}
	for i := 0; i < 8; i++ {
		send(b, fmt.Sprintf("a-%d", i))
	}
	mid, err := b.ListMessages(ctx, c.ID, u, 0, 0, 100, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(mid); int64(n) < p.last || mid[n-1].Seq != int64(n) {
		t.Fatalf("while a was paused after claiming %d-%d: history %v", p.first, p.last, seqs(mid))
	}
	close(resume)
	wg.Wait()
	if t.Failed() {
		return
	}
	// a's late writes (same cells, same timestamps) changed nothing, and a
	// goes on after b.
	for i := 0; i < 3; i++ {
		send(a, fmt.Sprintf("after-%d", i))
	}
	checkHistory(t, a, c.ID, u, results)
}
