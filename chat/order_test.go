package chat_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"messenger/chat"
	"messenger/storage"
)

// backends are the two ways to run the service: one process on the
// embedded backends, and a fleet of two instances sharing Redis.
var backends = []struct {
	name  string
	start func(t *testing.T, adjust func(*chat.Config)) []*domain
}{
	{"in-process", func(t *testing.T, adjust func(*chat.Config)) []*domain {
		return []*domain{newDomain(t, adjust)}
	}},
	{"two instances on Redis", func(t *testing.T, adjust func(*chat.Config)) []*domain {
		return newFleet(t, 2, adjust)
	}},
}

// inSeqOrder fails t unless msgs are exactly seqs from..to, in order.
func inSeqOrder(t *testing.T, who string, msgs []storage.Message, from, to int64) {
	t.Helper()
	var seqs []int64
	for _, m := range msgs {
		seqs = append(seqs, m.Seq)
	}
	ok := int64(len(seqs)) == to-from+1
	for i, s := range seqs {
		ok = ok && s == from+int64(i)
	}
	if !ok {
		t.Fatalf("%s received seqs %v, want %d..%d in order, each once", who, seqs, from, to)
	}
}

// Eight members send 25 messages each into their group at once (through
// both instances of a fleet): every member's stream has every message, in
// seq order, none twice.
func TestEveryMemberSeesAGroupsMessagesInSeqOrderUnderConcurrentSenders(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			fleet := b.start(t, nil)
			u := fleet[0].users(t, 8)
			conv := fleet[0].group(t, u[0], u[1:]...)
			streams := make([]*stream, len(u))
			for i, id := range u {
				streams[i] = open(t, fleet[i%len(fleet)].log, id)
			}
			const each = 25
			var wg sync.WaitGroup
			for i, sender := range u {
				svc := fleet[i%len(fleet)].svc
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range each {
						if _, err := svc.Send(context.Background(), sender, conv, fmt.Sprint("k", j), fmt.Sprint("message ", j)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			for i, st := range streams {
				inSeqOrder(t, fmt.Sprint("member ", i), st.messages(t, fleet[0].svc), 1, int64(len(u)*each))
			}
		})
	}
}

// A sender that made its message durable and died before fanning it out
// (its write is all that happened) stalls its conversation only for the
// patience of the next sender, which delivers the orphan first: members
// get both, in order. A later sweep of the outbox adds nothing.
func TestASenderThatDiedAfterItsWriteDelaysItsConversationOnlyBriefly(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			fleet := b.start(t, func(c *chat.Config) { c.FanOutPatience, c.FanOutGrace = time.Second, time.Nanosecond })
			d, other := fleet[0], fleet[len(fleet)-1]
			u := d.users(t, 3)
			ctx := context.Background()
			for _, first := range []bool{true, false} { // the orphan opens the conversation, or follows a message
				conv := d.group(t, u[0], u[1], u[2])
				carol := open(t, other.log, u[2])
				var want int64
				if !first {
					send(t, d.svc, u[0], conv, "before")
					want++
				}
				orphan(t, d.store, u[1], conv)
				send(t, other.svc, u[0], conv, "after the orphan")
				inSeqOrder(t, "carol", carol.messages(t, d.svc), 1, want+2)
				if _, err := d.svc.SweepFanOuts(ctx); err != nil {
					t.Fatal(err)
				}
				if got := carol.messages(t, d.svc); len(got) != 0 {
					t.Fatalf("the sweep delivered again: %+v", got)
				}
			}
		})
	}
}

// A conversation whose last sender died is not stalled for good: the
// outbox sweeper delivers the orphan and marks it done, and the next send
// is delivered after it.
func TestTheSweeperUnblocksAConversationWhoseLastSenderDied(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// A patience no test reaches: only the sweep can let the send through.
			fleet := b.start(t, func(c *chat.Config) { c.FanOutPatience, c.FanOutGrace = time.Hour, time.Nanosecond })
			d := fleet[0]
			u := d.users(t, 2)
			conv := d.group(t, u[0], u[1])
			bob := open(t, d.log, u[1])
			send(t, d.svc, u[0], conv, "first")
			orphan(t, d.store, u[0], conv)
			if n, err := d.svc.SweepFanOuts(context.Background()); err != nil || n == 0 {
				t.Fatalf("SweepFanOuts = %d, %v; want the orphan replayed", n, err)
			}
			send(t, fleet[len(fleet)-1].svc, u[0], conv, "third")
			inSeqOrder(t, "bob", bob.messages(t, d.svc), 1, 3)
		})
	}
}

func send(t *testing.T, svc *chat.Service, me, conv, body string) storage.Message {
	t.Helper()
	m, err := svc.Send(context.Background(), me, conv, fmt.Sprintf("k-%d", time.Now().UnixNano()), body)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// orphan writes a message as a sender that died right after its durable
// write would have: never fanned out (sent a few milliseconds ago, so
// that the sweeper, whose grace is a nanosecond here, may replay it).
func orphan(t *testing.T, store storage.Store, sender, conv string) storage.Message {
	t.Helper()
	m, created, err := store.AppendMessage(context.Background(), storage.Message{
		ConversationID: conv, SenderID: sender, ClientMessageID: "orphan", Body: "written, never fanned out",
		SentAt: time.Now().Add(-10 * time.Millisecond).UTC().Truncate(time.Millisecond),
	})
	if err != nil || !created {
		t.Fatalf("AppendMessage: created=%v err=%v", created, err)
	}
	return m
}
