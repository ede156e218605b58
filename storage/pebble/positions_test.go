package pebble

import (
	"context"
	"fmt"
	"math/rand/v2"
	"messenger/pebblekv"
	"testing"
	"time"

	"messenger/storage"
)

// countByReadingMembers is ReceiptCounts the slow, obvious way.
func countByReadingMembers(t *testing.T, s *Store, conv string, seqs []int64) map[int64]storage.MessageCounts {
	t.Helper()
	ctx := context.Background()
	msgs, err := s.Messages(ctx, conv, seqs)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := s.Members(ctx, conv, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]storage.MessageCounts{}
	for _, seq := range seqs {
		var c storage.MessageCounts
		for _, mem := range ms {
			if mem.UserID == msgs[seq].SenderID || mem.JoinedSeq >= seq {
				continue
			}
			if mem.ReadSeq >= seq {
				c.Read++
			}
			if mem.DeliveredSeq >= seq {
				c.Delivered++
			}
		}
		out[seq] = c
	}
	return out
}

// TestReceiptCountsMatchTheMembers drives a group through random sends,
// cursor moves, joins, leaves and rejoins, and checks after every step that
// the counts from the position histogram equal a count over the members;
// then that a conversation stored before the histogram existed gets the
// same counts.
func TestReceiptCountsMatchTheMembers(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	users := make([]string, 12)
	var members []storage.Member
	for i := range users {
		users[i] = fmt.Sprintf("u%02d", i)
		if i < 8 {
			members = append(members, storage.Member{UserID: users[i], Role: storage.RoleMember})
		}
	}
	const conv = "c"
	if _, _, err := s.CreateConversation(ctx, storage.Conversation{ID: conv, Kind: storage.Group, CreatedAt: now}, members); err != nil {
		t.Fatal(err)
	}
	var last int64
	check := func(step int) {
		t.Helper()
		if last == 0 {
			return
		}
		var seqs []int64
		for seq := int64(1); seq <= last; seq++ {
			seqs = append(seqs, seq)
		}
		got, err := s.ReceiptCounts(ctx, conv, seqs)
		if err != nil {
			t.Fatal(err)
		}
		want := countByReadingMembers(t, s, conv, seqs)
		for _, seq := range seqs {
			if got[seq] != want[seq] {
				t.Fatalf("step %d, seq %d: counts %+v, members say %+v", step, seq, got[seq], want[seq])
			}
		}
	}
	for step := range 400 {
		u := users[rnd.IntN(len(users))]
		_, err := s.Member(ctx, conv, u)
		member := err == nil
		switch op := rnd.IntN(10); {
		case op < 3 && member:
			m, _, err := s.AppendMessage(ctx, storage.Message{ConversationID: conv, SenderID: u, ClientMessageID: fmt.Sprint(step), Body: "x", SentAt: now})
			if err != nil {
				t.Fatal(err)
			}
			last = m.Seq
		case op < 7 && member && last > 0:
			kind := storage.Read
			if op%2 == 0 {
				kind = storage.Delivered
			}
			if _, err := s.AdvanceCursor(ctx, conv, u, kind, 1+rnd.Int64N(last), now); err != nil {
				t.Fatal(err)
			}
		case op < 9 && !member:
			if _, err := s.AddMembers(ctx, conv, []storage.Member{{UserID: u, Role: storage.RoleMember}}, now); err != nil {
				t.Fatal(err)
			}
		case member:
			if err := s.RemoveMember(ctx, conv, u, now); err != nil {
				t.Fatal(err)
			}
		}
		check(step)
	}

	// A conversation from before the histogram: drop it and its marker.
	b := s.db.NewBatch()
	if err := b.DeleteRange(pebblekv.Prefix("pos", conv), pebblekv.Upper(pebblekv.Prefix("pos", conv)), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(pebblekv.Key("posbuilt", conv), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(s.wo); err != nil {
		t.Fatal(err)
	}
	check(-1)
	if kept, _ := s.positionsKept(conv); !kept {
		t.Fatal("the histogram was not rebuilt")
	}
	for step := range 50 {
		u := users[rnd.IntN(len(users))]
		if _, err := s.AdvanceCursor(ctx, conv, u, storage.Read, 1+rnd.Int64N(last), now); err != nil && err != storage.ErrNotFound {
			t.Fatal(err)
		}
		check(1000 + step)
	}
}
