// Package searchtest is the contract suite every search.Index passes. It
// talks to the index only through the interface, waiting for writes to
// become visible as any caller would (search is eventually consistent).
package searchtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"messenger/search"
)

// Run runs the suite; newIndex returns an empty index of its own (cleaned
// up by the factory).
func Run(t *testing.T, newIndex func(t *testing.T) search.Index) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, search.Index)
	}{
		{"FindsByWordIgnoringCaseAndAccents", findsByWordIgnoringCaseAndAccents},
		{"CJKIsFoundAsPhrase", cjkIsFoundAsPhrase},
		{"OnlyScopedConversationsAreSearched", onlyScopedConversationsAreSearched},
		{"MessagesBeforeJoiningAreNotFound", messagesBeforeJoiningAreNotFound},
		{"EditedMessageIsFoundByNewTextOnly", editedMessageIsFoundByNewTextOnly},
		{"DeletedMessageIsNotFound", deletedMessageIsNotFound},
		{"HiddenMessageIsNotFoundByWhoHidIt", hiddenMessageIsNotFoundByWhoHidIt},
		{"HideBeforeMessageArrivesStillApplies", hideBeforeMessageArrivesStillApplies},
		{"NewestFirstPagesAreFullAndDisjoint", newestFirstPagesAreFullAndDisjoint},
		{"RelevancePagesAreDisjoint", relevancePagesAreDisjoint},
		{"ThousandsOfScopesStayExact", thousandsOfScopesStayExact},
		{"BadCursorIsRefused", badCursorIsRefused},
		{"WatermarksAreKeptAndListed", watermarksAreKeptAndListed},
		{"SyncedAtIsKeptAndNeverFound", syncedAtIsKeptAndNeverFound},
		{"UsersAreFoundByPrefix", usersAreFoundByPrefix},
		{"RebuildIsInvisibleUntilPromoted", rebuildIsInvisibleUntilPromoted},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, newIndex(t))
		})
	}
}

var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func conv() string { return fmt.Sprintf("c%08x", rand.Uint32()) }

func msg(c string, seq int64, body string) search.Message {
	return search.Message{ConversationID: c, Seq: seq, SenderID: "u-sender", Body: body, SentAt: base.Add(time.Duration(seq) * time.Second)}
}

func apply(t *testing.T, idx search.Index, b search.Batch) {
	t.Helper()
	if err := idx.Apply(context.Background(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func whole(convs ...string) []search.Scope {
	out := make([]search.Scope, len(convs))
	for i, c := range convs {
		out[i] = search.Scope{ConversationID: c}
	}
	return out
}

// keys searches and returns the hits' keys as "conv.seq".
func keys(t *testing.T, idx search.Index, q search.MessageQuery) (search.MessagePage, []string) {
	t.Helper()
	if q.First == 0 {
		q.First = 100
	}
	p, err := idx.SearchMessages(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchMessages(%q in %d scopes): %v", q.Query.Terms, len(q.Scopes), err)
	}
	var out []string
	for _, h := range p.Hits {
		out = append(out, fmt.Sprintf("%s.%d", h.ConversationID, h.Seq))
	}
	return p, out
}

// eventually retries check until it returns "" or 10 s pass.
func eventually(t *testing.T, check func() string) {
	t.Helper()
	Eventually(t, 10*time.Second, check)
}

// Eventually retries check every 50 ms until it returns "" (done) or
// within has passed; then it fails t with check's last message. Indexing
// is asynchronous, so search tests wait for it this way.
func Eventually(t testing.TB, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expect waits until the query finds exactly want (in order).
func expect(t *testing.T, idx search.Index, viewer, text string, scopes []search.Scope, want ...string) {
	t.Helper()
	eventually(t, func() string {
		_, got := keys(t, idx, search.MessageQuery{Viewer: viewer, Query: search.ParseQuery(text), Scopes: scopes})
		if !slices.Equal(got, want) {
			return fmt.Sprintf("query %q as %q found %v, want %v", text, viewer, got, want)
		}
		return ""
	})
}

func findsByWordIgnoringCaseAndAccents(t *testing.T, idx search.Index) {
	c := conv()
	apply(t, idx, search.Batch{Upserts: []search.Message{
		msg(c, 1, "Meet me at the Café Noir, it's über cool"),
		msg(c, 2, "Die Straße ist lang"),
		msg(c, 3, "Ελληνικά: καλημέρα"),
		msg(c, 4, "nothing relevant here"),
		msg(c, 5, "مَرْحَبًا بالعالم"),
	}})
	s := whole(c)
	expect(t, idx, "u1", "cafe", s, c+".1")
	expect(t, idx, "u1", "CAFÉ noir", s, c+".1")
	expect(t, idx, "u1", "Uber", s, c+".1")
	expect(t, idx, "u1", "strasse", s, c+".2")
	expect(t, idx, "u1", "ΚΑΛΗΜΕΡΑ", s, c+".3")
	expect(t, idx, "u1", "مرحبا", s, c+".5")
	// Every word must occur.
	expect(t, idx, "u1", "cafe lang", s)
	// Punctuation-only queries find nothing (and do not error).
	expect(t, idx, "u1", "?!", s)
}

func cjkIsFoundAsPhrase(t *testing.T, idx search.Index) {
	c := conv()
	apply(t, idx, search.Batch{Upserts: []search.Message{
		msg(c, 1, "明日は東京タワーに行きます"),
		msg(c, 2, "京都と東の話"),
		msg(c, 3, "서울에서 만나요"),
		msg(c, 4, "ไปกินข้าวกัน"),
	}})
	s := whole(c)
	expect(t, idx, "u1", "東京", s, c+".1")
	expect(t, idx, "u1", "タワー", s, c+".1")
	expect(t, idx, "u1", "서울에서", s, c+".3")
	expect(t, idx, "u1", "กินข้าว", s, c+".4")
}

func onlyScopedConversationsAreSearched(t *testing.T, idx search.Index) {
	a, b := conv(), conv()
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(a, 1, "secret plan"), msg(b, 1, "secret recipe")}})
	expect(t, idx, "u1", "secret", whole(a), a+".1")
	expect(t, idx, "u1", "secret", whole(b), b+".1")
	expect(t, idx, "u1", "secret", nil)
}

func messagesBeforeJoiningAreNotFound(t *testing.T, idx search.Index) {
	c := conv()
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "old news"), msg(c, 2, "old and new news"), msg(c, 3, "new news")}})
	expect(t, idx, "u1", "news", []search.Scope{{ConversationID: c, AfterSeq: 1}}, c+".3", c+".2")
	expect(t, idx, "u1", "news", []search.Scope{{ConversationID: c, AfterSeq: 3}})
}

func editedMessageIsFoundByNewTextOnly(t *testing.T, idx search.Index) {
	c := conv()
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "see you at noon")}})
	expect(t, idx, "u1", "noon", whole(c), c+".1")
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "see you at midnight")}})
	expect(t, idx, "u1", "midnight", whole(c), c+".1")
	expect(t, idx, "u1", "noon", whole(c))
}

func deletedMessageIsNotFound(t *testing.T, idx search.Index) {
	c := conv()
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "regrettable words"), msg(c, 2, "kind words")}})
	expect(t, idx, "u1", "words", whole(c), c+".2", c+".1")
	apply(t, idx, search.Batch{Deletes: []search.Key{{ConversationID: c, Seq: 1}, {ConversationID: c, Seq: 99}}})
	expect(t, idx, "u1", "words", whole(c), c+".2")
}

func hiddenMessageIsNotFoundByWhoHidIt(t *testing.T, idx search.Index) {
	c := conv()
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "embarrassing photo"), msg(c, 2, "another photo")}})
	expect(t, idx, "alice", "photo", whole(c), c+".2", c+".1")
	apply(t, idx, search.Batch{Hides: []search.Hide{{Key: search.Key{ConversationID: c, Seq: 1}, UserID: "alice"}}})
	apply(t, idx, search.Batch{Hides: []search.Hide{{Key: search.Key{ConversationID: c, Seq: 1}, UserID: "carol"}}})
	expect(t, idx, "alice", "photo", whole(c), c+".2")
	expect(t, idx, "carol", "photo", whole(c), c+".2")
	expect(t, idx, "bob", "photo", whole(c), c+".2", c+".1")
	// An edit keeps the hides.
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "embarrassing photo, cropped")}})
	expect(t, idx, "bob", "cropped", whole(c), c+".1")
	expect(t, idx, "alice", "cropped", whole(c))
}

func hideBeforeMessageArrivesStillApplies(t *testing.T, idx search.Index) {
	c := conv()
	apply(t, idx, search.Batch{Hides: []search.Hide{{Key: search.Key{ConversationID: c, Seq: 1}, UserID: "alice"}}})
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "late arrival")}})
	expect(t, idx, "bob", "arrival", whole(c), c+".1")
	expect(t, idx, "alice", "arrival", whole(c))
}
