package adversary

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"messenger/apitest"
)

// With every member of a group sending at once, each member's live stream
// delivers the conversation's messages in seq order, each once, none
// missing: on the in-process log, and on Redis with members and senders
// spread over two instances.
func TestLiveEventsArriveInSeqOrderWithConcurrentSenders(t *testing.T) {
	t.Parallel()
	t.Run("embedded", func(t *testing.T) {
		in := shared(t)
		concurrentSenders(t, []*instance{in})
	})
	t.Run("cassandra+redis, two instances", func(t *testing.T) {
		concurrentSenders(t, fleet(t))
	})
}

func concurrentSenders(t *testing.T, fleet []*instance) {
	const members, each = 6, 20
	users := make([]*apitest.Client, members)
	for i := range users {
		users[i] = signUp(t, fleet[i%len(fleet)], fmt.Sprintf("order%d", i))
	}
	conv := group(t, users[0], users[1:]...)
	streams := make([]*stream, members)
	for i, u := range users {
		// Each member listens on the instance next to the one it sends through.
		s, err := subscribe(context.Background(), fleet[(i+1)%len(fleet)].URL, u.Token, messagesQuery, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		streams[i] = s
	}
	awaitLive(t, users[0], conv, streams)
	want := map[string]bool{}

	// Each member sends from two connections at once, as from two devices.
	const devices = 2
	var wg sync.WaitGroup
	errs := make(chan error, members*devices)
	for i, u := range users {
		for k := 1; k <= each; k++ {
			want[fmt.Sprintf("%d-%d", i, k)] = true
		}
		for d := range devices {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 1 + d; k <= each; k += devices {
					id := fmt.Sprintf("%d-%d", i, k)
					r, err := post(context.Background(), u.URL, u.Token, nil, op(sendMutation, sendInput(conv, id, "in order "+id)))
					if err == nil && len(r.Errors) > 0 {
						err = fmt.Errorf("%+v", r.Errors)
					}
					if err != nil {
						errs <- fmt.Errorf("send %s: %w", id, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	for i, s := range streams {
		if err := s.await(20*time.Second, hasMessages(conv, want)); err != nil {
			t.Errorf("member %d: %v", i, err)
			continue
		}
		_ = s.await(300*time.Millisecond, func([]live) bool { return false }) // strays
		var seqs []int
		inversions, counted := 0, 0
		for _, e := range s.messages(conv) {
			if n := len(seqs); n > 0 && e.Message.Seq <= seqs[n-1] {
				inversions++
			}
			seqs = append(seqs, e.Message.Seq)
			if want[e.Message.ClientMessageID] {
				counted++
			}
		}
		if inversions > 0 || counted != len(want) {
			t.Errorf("member %d received %d messages (want %d) with %d out of seq order: %v", i, len(seqs), len(want), inversions, seqs)
		}
	}
}
