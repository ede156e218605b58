package pebble

import (
	"context"
	"fmt"
	"math/rand/v2"
	"messenger/pebblekv"
	"slices"
	"sort"
	"testing"
	"time"

	"messenger/storage"
)

// TestReactionSummariesMatchTheRows adds and removes reactions at random
// and checks after every step that the kept summaries and per-user index
// say what the reaction rows say; then that a conversation stored before
// they existed gets the same answers.
func TestReactionSummariesMatchTheRows(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(3, 4))
	const conv = "c"
	users := []string{"a", "ab", "b", "c", "d"}
	emoji := []string{"👍", "❤️", "😂"}
	seqs := []int64{1, 2, 3}
	base := time.Unix(1_700_000_000, 0)

	check := func(step int) {
		t.Helper()
		got, err := s.Reactions(ctx, conv, seqs)
		if err != nil {
			t.Fatal(err)
		}
		for _, seq := range seqs {
			rows, err := s.reactionRows(ctx, conv, seq, "")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]*storage.ReactionSummary{}
			for _, r := range rows {
				w, ok := want[r.emoji]
				if !ok {
					w = &storage.ReactionSummary{MessageID: storage.MessageID(conv, seq), Emoji: r.emoji, FirstAt: r.at}
					want[r.emoji] = w
				}
				w.Count++
				if r.at.Before(w.FirstAt) {
					w.FirstAt = r.at
				}
			}
			var ws []storage.ReactionSummary
			for _, w := range want {
				ws = append(ws, *w)
			}
			sort.Slice(ws, func(i, j int) bool {
				if !ws[i].FirstAt.Equal(ws[j].FirstAt) {
					return ws[i].FirstAt.Before(ws[j].FirstAt)
				}
				return ws[i].Emoji < ws[j].Emoji
			})
			if fmt.Sprint(got[seq]) != fmt.Sprint(ws) {
				t.Fatalf("step %d seq %d: summaries %v, rows say %v", step, seq, got[seq], ws)
			}
			for _, u := range users {
				mine, err := s.ReactionsBy(ctx, conv, seqs, u)
				if err != nil {
					t.Fatal(err)
				}
				var wantMine []string
				for _, r := range rows {
					if r.user == u {
						wantMine = append(wantMine, r.emoji)
					}
				}
				slices.Sort(wantMine)
				gotMine := slices.Sorted(slices.Values(mine[seq]))
				if !slices.Equal(gotMine, wantMine) {
					t.Fatalf("step %d seq %d: %s reacted %v, rows say %v", step, seq, u, gotMine, wantMine)
				}
			}
			for _, e := range emoji {
				var all []string
				after := ""
				for {
					page, err := s.ReactionUsers(ctx, conv, seq, e, after, 2)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range page {
						all = append(all, r.UserID)
					}
					if len(page) < 2 {
						break
					}
					after = page[len(page)-1].UserID
				}
				var wantUsers []string
				for _, r := range rows {
					if r.emoji == e {
						wantUsers = append(wantUsers, r.user)
					}
				}
				if !slices.Equal(all, wantUsers) {
					t.Fatalf("step %d seq %d %s: users paged %v, rows say %v", step, seq, e, all, wantUsers)
				}
			}
		}
	}
	for step := range 300 {
		seq, u, e := seqs[rnd.IntN(len(seqs))], users[rnd.IntN(len(users))], emoji[rnd.IntN(len(emoji))]
		if rnd.IntN(3) == 0 {
			if _, err := s.RemoveReaction(ctx, conv, seq, u, e); err != nil {
				t.Fatal(err)
			}
		} else if _, err := s.AddReaction(ctx, conv, seq, u, e, base.Add(time.Duration(rnd.IntN(50))*time.Second)); err != nil {
			t.Fatal(err)
		}
		check(step)
	}

	// A conversation from before the summaries: drop them and the marker.
	b := s.db.NewBatch()
	for _, p := range [][]byte{pebblekv.Prefix("rsum", conv), pebblekv.Prefix("rby", conv)} {
		if err := b.DeleteRange(p, pebblekv.Upper(p), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(pebblekv.Key("rsumbuilt", conv), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(s.wo); err != nil {
		t.Fatal(err)
	}
	check(-1)
}
