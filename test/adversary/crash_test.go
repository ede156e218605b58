package adversary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/apitest"
)

// randomMoment is a random duration in [lo, hi).
func randomMoment(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(mrand.Int64N(int64(hi-lo)))
}

// A process killed with SIGKILL at any moment of its first start-up (the
// store, the search index, the signing key and the blob folder half
// created), even several times in a row, starts again and works: sign-up,
// a message, and search finding it.
func TestKill9DuringStartUpLeavesAServerThatStarts(t *testing.T) {
	t.Parallel()
	for crashes := 1; crashes <= 3; crashes++ {
		t.Run(fmt.Sprintf("embedded/%d crashes", crashes), func(t *testing.T) {
			crashDuringStartUp(t, crashes, 30*time.Second, embedded())
		})
	}
	t.Run("cassandra+redis/1 crash", func(t *testing.T) {
		// A migrator killed while holding the schema lease keeps the next
		// start waiting until the lease expires (60 s).
		crashDuringStartUp(t, 1, 100*time.Second, distributed(t))
	})
}

func crashDuringStartUp(t *testing.T, crashes int, ready time.Duration, env []string) {
	in := newTestInstance(t, "startup", env...)
	for i := 0; i < crashes; i++ {
		if err := in.launch(); err != nil {
			t.Fatal(err)
		}
		at := randomMoment(0, 1500*time.Millisecond)
		time.Sleep(at)
		in.kill9(t)
		t.Logf("kill -9 %v after start %d", at, i+1)
	}
	began := time.Now()
	in.mustStart(t, ready)
	t.Logf("ready %v after the restart", time.Since(began).Round(100*time.Millisecond))
	worksEndToEnd(t, in)
}

// worksEndToEnd signs two users up, sends a message with a unique word
// between them, and finds it by search.
func worksEndToEnd(t *testing.T, in *instance) {
	t.Helper()
	a, b := signUp(t, in, "alive"), signUp(t, in, "alive")
	conv := direct(t, a, b)
	word := "phoenix" + randomHex(4)
	a.Must(t, sendMutation, sendInput(conv, "k1", "risen from the ashes: "+word), nil)
	if h := history(t, b, conv); len(h) != 1 || !strings.Contains(h[0].Body, word) {
		t.Fatalf("history after the crash = %+v", h)
	}
	err := eventually(context.Background(), 20*time.Second, func() error {
		var out struct {
			SearchMessages struct{ TotalCount int }
		}
		r := b.Do(t, `query($q: String!) { searchMessages(query: $q) { totalCount } }`, map[string]any{"q": word})
		if len(r.Errors) > 0 {
			return fmt.Errorf("searchMessages: %+v", r.Errors)
		}
		_ = json.Unmarshal(r.Data, &out)
		if out.SearchMessages.TotalCount != 1 {
			return fmt.Errorf("%w: search finds %d messages", errNotReady, out.SearchMessages.TotalCount)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("search after the crash: %v", err)
	}
}

// loadEnv lets the senders go as fast as they can and replays unconfirmed
// fan-outs quickly after the restart.
var loadEnv = []string{"MESSENGER_RATE_LIMITS=false", "MESSENGER_FANOUT_GRACE=1s", "MESSENGER_FANOUT_SWEEP=300ms"}

// Members of a group send concurrently while every member is subscribed;
// the server is killed with SIGKILL at a random moment and restarted. Every
// acknowledged message is in history exactly once with the seq its
// acknowledgement gave, seqs are contiguous, a send retried with its
// clientMessageId after the crash is stored once, and every member's
// subscription resumed from its last cursor receives every acknowledged
// message it missed, none twice (on the embedded store, whose event log
// lives in the process, the resume may instead answer CURSOR_EXPIRED, as
// documented: never a silent gap).
func TestAcknowledgedMessagesSurviveKill9UnderLoad(t *testing.T) {
	t.Parallel()
	t.Run("embedded", func(t *testing.T) {
		crashUnderLoad(t, false, embedded(loadEnv...))
	})
	t.Run("cassandra+redis", func(t *testing.T) {
		crashUnderLoad(t, true, distributed(t, loadEnv...))
	})
}

// sender is one member sending as fast as it can until the server dies.
type sender struct {
	c       *apitest.Client
	acked   map[string]int // clientMessageId -> seq of its acknowledgement
	pending string         // the send in flight when the server died ("" if none)
}

func (s *sender) run(ctx context.Context, conv string) {
	for i := 1; ctx.Err() == nil; i++ {
		id := fmt.Sprintf("%s-%d", s.c.Username, i)
		r, err := post(ctx, s.c.URL, s.c.Token, nil, op(sendMutation, sendInput(conv, id, "load "+id)))
		var out struct{ SendMessage struct{ Seq int } }
		if err != nil || len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || out.SendMessage.Seq == 0 {
			s.pending = id // not acknowledged: it may or may not be stored
			return
		}
		s.acked[id] = out.SendMessage.Seq
	}
}

func crashUnderLoad(t *testing.T, resumable bool, env []string) {
	ctx := context.Background()
	in := startInstance(t, "load", 60*time.Second, env...)
	members := make([]*apitest.Client, 4)
	for i := range members {
		members[i] = signUp(t, in, fmt.Sprintf("load%d", i))
	}
	conv := group(t, members[0], members[1:]...)

	// Every member subscribes; a first message reaching every stream shows
	// the subscriptions are live before the load starts.
	streams := make([]*stream, len(members))
	for i, m := range members {
		s, err := subscribe(ctx, in.URL, m.Token, messagesQuery, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		streams[i] = s
	}
	acked := awaitLive(t, members[0], conv, streams)

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	senders := make([]*sender, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		senders[i] = &sender{c: m, acked: map[string]int{}}
		wg.Add(1)
		go func() { defer wg.Done(); senders[i].run(loadCtx, conv) }()
	}
	at := randomMoment(300*time.Millisecond, 2*time.Second)
	time.Sleep(at)
	in.kill9(t)
	wg.Wait()
	stopLoad()
	for _, s := range streams {
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Fatal("a subscription stayed open after its server was killed")
		}
	}
	var pending []string
	for _, s := range senders {
		for id, seq := range s.acked {
			acked[id] = seq
		}
		if s.pending != "" {
			pending = append(pending, s.pending)
		}
	}
	t.Logf("kill -9 after %v of load: %d acknowledged, %d in flight", at, len(acked), len(pending))

	in.mustStart(t, 60*time.Second)

	// A client retries what was in flight, with the same clientMessageId.
	for _, s := range senders {
		if s.pending == "" {
			continue
		}
		var out struct{ SendMessage struct{ Seq int } }
		s.c.Must(t, sendMutation, sendInput(conv, s.pending, "load "+s.pending), &out)
		acked[s.pending] = out.SendMessage.Seq
	}

	checkHistory(t, history(t, members[1], conv), acked)

	// Each member resumes from its last cursor.
	for i, m := range members {
		before := streams[i].messages(conv)
		missed := map[string]bool{}
		for id := range acked {
			missed[id] = true
		}
		for _, e := range before {
			delete(missed, e.Message.ClientMessageID)
		}
		cursor := streams[i].lastCursor()
		s, err := subscribe(ctx, in.URL, m.Token, messagesQuery, map[string]any{"after": cursor})
		if err != nil {
			t.Fatalf("member %d resuming: %v", i, err)
		}
		defer s.close()
		err = s.await(30*time.Second, hasMessages(conv, missed))
		_, errs := s.snapshot()
		switch {
		case err == nil:
			t.Logf("member %d resumed after %d messages and received the %d it missed", i, len(before), len(missed))
		case !resumable && errors.Is(err, errStreamEnded) && len(errs) > 0 && errs[0].Code() == "CURSOR_EXPIRED":
			t.Logf("member %d: the embedded log answers CURSOR_EXPIRED to a cursor from before the crash (resync by history, checked above)", i)
			continue
		default:
			t.Errorf("member %d resumed after %d of %d messages and missed %d acknowledged ones: %v",
				i, len(before), len(acked), len(missed), err)
			continue
		}
		// Wait a little for strays, then check nothing came twice.
		_ = s.await(500*time.Millisecond, func([]live) bool { return false })
		seen := map[string]int{}
		for _, e := range append(before, s.messages(conv)...) {
			seen[e.Message.ClientMessageID]++
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("member %d received %s %d times across the crash", i, id, n)
			}
		}
	}
}

// checkHistory: seqs run 1..n without a gap, each clientMessageId once,
// every acknowledged message present with the seq it was acknowledged
// with, and nothing that was never sent.
func checkHistory(t *testing.T, h []historyMessage, acked map[string]int) {
	t.Helper()
	byID := map[string][]int{}
	for i, m := range h {
		if m.Seq != i+1 {
			t.Errorf("history position %d has seq %d: seqs are not contiguous", i+1, m.Seq)
		}
		byID[m.ClientMessageID] = append(byID[m.ClientMessageID], m.Seq)
	}
	var lost, dup, phantom []string
	for id, seq := range acked {
		switch seqs := byID[id]; {
		case len(seqs) == 0:
			lost = append(lost, id)
		case len(seqs) > 1:
			dup = append(dup, fmt.Sprintf("%s at %v", id, seqs))
		case seqs[0] != seq:
			t.Errorf("%s was acknowledged with seq %d but history has it at %d", id, seq, seqs[0])
		}
	}
	for id := range byID {
		if _, ok := acked[id]; !ok {
			phantom = append(phantom, id)
		}
	}
	sort.Strings(lost)
	sort.Strings(dup)
	sort.Strings(phantom)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged messages are not in history: %v", len(lost), lost)
	}
	if len(dup) > 0 {
		t.Errorf("messages stored more than once: %v", dup)
	}
	if len(phantom) > 0 {
		t.Errorf("history holds messages nobody sent or retried: %v", phantom)
	}
}
