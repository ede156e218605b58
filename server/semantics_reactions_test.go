package server_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"messenger/apitest"
)

// Reactions: several emoji per user, one emoji per reaction, a cap per message.

func TestReactionsSeveralEmojiPerUserSameOneTwiceIsANoOp(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	conv := startDirect(t, alice, bob)
	id := sendMsg(t, bob, conv, "1", "react to me").SendMessage.ID
	bobEvents := subscribe(t, bob)

	for _, e := range []string{"👍", "❤️", "😂"} {
		clk.Advance(time.Second)
		alice.Must(t, addReactionOp, map[string]any{"m": id, "e": e}, nil)
		if ev := bobEvents.NextOfType(t, "ReactionUpdated"); ev.Emoji != e || !ev.Added || ev.User.ID != alice.UserID {
			t.Fatalf("reaction event %s", ev.Raw)
		}
	}
	alice.Must(t, addReactionOp, map[string]any{"m": id, "e": "👍"}, nil)
	bob.Must(t, addReactionOp, map[string]any{"m": id, "e": "👍"}, nil)
	if evs := ofType(bobEvents.Collect(t, quiet), "ReactionUpdated"); len(evs) != 1 || evs[0].User.ID != bob.UserID {
		t.Fatalf("adding 👍 twice must be a no-op without an event; got %d events", len(evs))
	}

	check := func(who *apitest.Client, want string) {
		t.Helper()
		var got []string
		for _, r := range message(t, who, id).Reactions {
			got = append(got, fmt.Sprintf("%s%d%v", r.Emoji, r.Count, r.ReactedByMe))
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("%s sees reactions %q, want %q", who.Username, strings.Join(got, " "), want)
		}
	}
	check(alice, "👍2true ❤️1true 😂1true")
	check(bob, "👍2true ❤️1false 😂1false")

	// users pages by one.
	q := `query($m: ID!, $a: String) { node(id: $m) { ... on Message { reactions { emoji users(first: 1, after: $a) { edges { cursor node { at user { id } } } pageInfo { hasNextPage endCursor } } } } } }`
	var page1, page2 struct {
		Node struct{ Reactions []reactionView }
	}
	alice.Must(t, q, map[string]any{"m": id}, &page1)
	first := page1.Node.Reactions[0].Users
	if len(first.Edges) != 1 || !first.PageInfo.HasNextPage || first.Edges[0].Node.At == "" {
		t.Fatalf("first page of 👍 users: %+v", first)
	}
	alice.Must(t, q, map[string]any{"m": id, "a": *first.PageInfo.EndCursor}, &page2)
	second := page2.Node.Reactions[0].Users
	if len(second.Edges) != 1 || second.PageInfo.HasNextPage {
		t.Fatalf("second page of 👍 users: %+v", second)
	}
	got := []string{first.Edges[0].Node.User.ID, second.Edges[0].Node.User.ID}
	if want := []string{alice.UserID, bob.UserID}; !slices.Equal(got, want) && !slices.Equal(got, []string{bob.UserID, alice.UserID}) {
		t.Fatalf("👍 users = %v", got)
	}

	alice.Must(t, dropReactionOp, map[string]any{"m": id, "e": "😂"}, nil)
	alice.Must(t, dropReactionOp, map[string]any{"m": id, "e": "😂"}, nil)
	alice.Must(t, dropReactionOp, map[string]any{"m": id, "e": "🎉"}, nil)
	check(bob, "👍2true ❤️1false")
	if evs := ofType(bobEvents.Collect(t, quiet), "ReactionUpdated"); len(evs) != 1 || evs[0].Added || evs[0].Emoji != "😂" {
		t.Fatalf("removals sent %d events, want one for 😂", len(evs))
	}
}

func TestReactionsAcceptOneEmojiOnly(t *testing.T) {
	clk := newClock()
	api := startAPI(t, testAPIConfig{now: clk.Now})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	conv := startDirect(t, alice, bob)
	id := sendMsg(t, bob, conv, "1", "react to me").SendMessage.ID
	accepted := []string{"👍", "👩‍👩‍👧", "👍🏽", "🇫🇷", "1️⃣", "#️⃣", "❤️", "🏳️‍🌈", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "☺️", "🫶"}
	for _, e := range accepted {
		clk.Advance(time.Second)
		alice.Must(t, addReactionOp, map[string]any{"m": id, "e": e}, nil)
	}
	refused := []string{"ok", "👍👍", "", " ", "a👍", "👍a", "👍 ", "1", "é", "\u200d", "🇫🇷🇩🇪", "👩‍👩‍👧👍", strings.Repeat("😀", 40)}
	for _, e := range refused {
		alice.Refused(t, "BAD_USER_INPUT", addReactionOp, map[string]any{"m": id, "e": e})
	}
	var got []string
	for _, r := range message(t, bob, id).Reactions {
		got = append(got, r.Emoji)
		if r.Count != 1 {
			t.Fatalf("%s has count %d", r.Emoji, r.Count)
		}
	}
	if !slices.Equal(got, accepted) {
		t.Fatalf("reactions are %q, want %q in the order first used (refusals must write nothing)", got, accepted)
	}
}

// fiftyOneEmoji are 51 distinct single emoji.
func fiftyOneEmoji() []string {
	var out []string
	for r := rune(0x1F600); len(out) < 51; r++ {
		out = append(out, string(r))
	}
	return out
}

func TestReactionsAreCappedAt50DistinctEmoji(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	conv := startDirect(t, alice, bob)
	id := sendMsg(t, bob, conv, "1", "react to me").SendMessage.ID
	emoji := fiftyOneEmoji()
	for _, e := range emoji[:50] {
		alice.Must(t, addReactionOp, map[string]any{"m": id, "e": e}, nil)
	}
	alice.Refused(t, "BAD_USER_INPUT", addReactionOp, map[string]any{"m": id, "e": emoji[50]})
	bob.Refused(t, "BAD_USER_INPUT", addReactionOp, map[string]any{"m": id, "e": emoji[50]})
	bob.Must(t, addReactionOp, map[string]any{"m": id, "e": emoji[0]}, nil) // joining an existing emoji is fine
	m := message(t, bob, id)
	if len(m.Reactions) != 50 || m.Reactions[0].Count != 2 {
		t.Fatalf("%d distinct emoji, first has count %d", len(m.Reactions), m.Reactions[0].Count)
	}
}

func TestReactionCapHoldsUnderConcurrentAdds(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob := api.signUp(t, "alice"), api.signUp(t, "bob")
	conv := startDirect(t, alice, bob)
	id := sendMsg(t, bob, conv, "1", "react to me").SendMessage.ID
	var emoji []string
	for r := rune(0x1F600); len(emoji) < 80; r++ {
		emoji = append(emoji, string(r))
	}
	var mu sync.Mutex
	ok := 0
	parallel(len(emoji), 16, func(i int) {
		who := alice
		if i%2 == 1 {
			who = bob
		}
		r := who.Do(t, addReactionOp, map[string]any{"m": id, "e": emoji[i]})
		if len(r.Errors) == 0 {
			mu.Lock()
			ok++
			mu.Unlock()
		} else if r.Code() != "BAD_USER_INPUT" {
			t.Errorf("concurrent add: %+v", r.Errors)
		}
	})
	if n := len(message(t, alice, id).Reactions); n != 50 || ok != 50 {
		t.Fatalf("80 concurrent adds of distinct emoji: %d accepted, %d stored; the cap is 50", ok, n)
	}
}

func TestReactionByANonMemberIsNotFound(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	alice, bob, eve := api.signUp(t, "alice"), api.signUp(t, "bob"), api.signUp(t, "eve")
	conv := startDirect(t, alice, bob)
	id := sendMsg(t, bob, conv, "1", "private").SendMessage.ID
	eve.Refused(t, "NOT_FOUND", addReactionOp, map[string]any{"m": id, "e": "👍"})
	alice.Must(t, addReactionOp, map[string]any{"m": id, "e": "👍"}, nil)
	eve.Refused(t, "NOT_FOUND", dropReactionOp, map[string]any{"m": id, "e": "👍"})
	if m := message(t, eve, id); m != nil {
		t.Fatalf("a non-member can read the message: %+v", m)
	}
	if r := message(t, bob, id).Reactions; len(r) != 1 || r[0].Count != 1 {
		t.Fatalf("reactions after a non-member tried: %+v", r)
	}
}
