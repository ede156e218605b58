// Package searchtest is the contract suite every search.Index passes. It
// talks to the index only through the interface, waiting for writes to
// become visible as any caller would (search is eventually consistent).
package searchtest

import (
	"context"
	"errors"
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

func newestFirstPagesAreFullAndDisjoint(t *testing.T, idx search.Index) {
	a, b := conv(), conv()
	var ms []search.Message
	var want []string
	for i := int64(1); i <= 25; i++ {
		c := a
		if i%2 == 0 {
			c = b
		}
		ms = append(ms, msg(c, i, fmt.Sprintf("status report number %d", i)))
		want = append([]string{fmt.Sprintf("%s.%d", c, i)}, want...)
	}
	ms = append(ms, msg(a, 100, "unrelated"))
	apply(t, idx, search.Batch{Upserts: ms})
	q := search.MessageQuery{Viewer: "u", Query: search.ParseQuery("report"), Scopes: whole(a, b), First: 10}
	eventually(t, func() string {
		if p, _ := keys(t, idx, q); p.Total != 25 {
			return fmt.Sprintf("total = %d, want 25", p.Total)
		}
		return ""
	})
	var got []string
	for page := 0; ; page++ {
		p, ks := keys(t, idx, q)
		if p.Total != 25 {
			t.Fatalf("page %d: total = %d, want 25", page, p.Total)
		}
		got = append(got, ks...)
		if wantLen := min(10, 25-page*10); len(ks) != wantLen {
			t.Fatalf("page %d has %d hits, want %d", page, len(ks), wantLen)
		}
		if !p.HasNext {
			break
		}
		q.After = p.Hits[len(p.Hits)-1].Cursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged newest first:\n got %v\nwant %v", got, want)
	}
}

func relevancePagesAreDisjoint(t *testing.T, idx search.Index) {
	c := conv()
	var ms []search.Message
	for i := int64(1); i <= 12; i++ {
		body := "lunch with the whole team at the usual place near the office"
		if i%3 == 0 {
			body = "lunch?"
		}
		ms = append(ms, msg(c, i, body))
	}
	apply(t, idx, search.Batch{Upserts: ms})
	q := search.MessageQuery{Viewer: "u", Query: search.ParseQuery("lunch"), Scopes: whole(c), First: 5, Order: search.Relevance}
	eventually(t, func() string {
		if p, _ := keys(t, idx, q); p.Total != 12 {
			return fmt.Sprintf("total = %d, want 12", p.Total)
		}
		return ""
	})
	seen := map[string]bool{}
	var first []string
	for {
		p, ks := keys(t, idx, q)
		for _, k := range ks {
			if seen[k] {
				t.Fatalf("%s returned twice", k)
			}
			seen[k] = true
		}
		if first == nil {
			first = ks
		}
		if !p.HasNext {
			break
		}
		q.After = p.Hits[len(p.Hits)-1].Cursor
	}
	if len(seen) != 12 {
		t.Fatalf("paged %d hits, want 12", len(seen))
	}
	// The short messages rank first (BM25 on both backends).
	for _, k := range first[:4] {
		var seq int
		fmt.Sscanf(k[len(c)+1:], "%d", &seq)
		if seq%3 != 0 {
			t.Fatalf("relevance order starts with %v", first)
		}
	}
}

func thousandsOfScopesStayExact(t *testing.T, idx search.Index) {
	// 3,000 conversations, 1,000 of them joined late (so the query needs
	// several chunks); one matching message in every tenth.
	var scopes []search.Scope
	var ms []search.Message
	want := 0
	for i := range 3000 {
		c := conv()
		s := search.Scope{ConversationID: c}
		if i%3 == 0 {
			s.AfterSeq = 1
		}
		scopes = append(scopes, s)
		if i%10 == 0 {
			ms = append(ms, msg(c, 1, "needle early"), msg(c, 2, "needle late"))
			want += 2
			if s.AfterSeq == 1 {
				want--
			}
		}
	}
	outside := conv()
	ms = append(ms, msg(outside, 1, "needle outside"))
	apply(t, idx, search.Batch{Upserts: ms})
	q := search.MessageQuery{Viewer: "u", Query: search.ParseQuery("needle"), Scopes: scopes, First: 100}
	eventually(t, func() string {
		if p, _ := keys(t, idx, q); p.Total != want {
			return fmt.Sprintf("total = %d, want %d", p.Total, want)
		}
		return ""
	})
	n := 0
	for {
		p, ks := keys(t, idx, q)
		n += len(ks)
		if !p.HasNext {
			break
		}
		if len(ks) != 100 {
			t.Fatalf("a middle page has %d hits", len(ks))
		}
		q.After = p.Hits[len(p.Hits)-1].Cursor
	}
	if n != want {
		t.Fatalf("paged %d hits, want %d", n, want)
	}
}

func badCursorIsRefused(t *testing.T, idx search.Index) {
	for _, c := range []string{"garbage!", "eyJvIjoiTkVXRVNUIn0"} {
		_, err := idx.SearchMessages(context.Background(), search.MessageQuery{Query: search.ParseQuery("x"), Scopes: whole("c"), First: 1, After: c})
		if !errors.Is(err, search.ErrBadCursor) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor", c, err)
		}
	}
}

func watermarksAreKeptAndListed(t *testing.T, idx search.Index) {
	ctx := context.Background()
	wms := map[string]int64{}
	for i := range 25 {
		wms[fmt.Sprintf("wmconv%03d", i)] = int64(i + 1)
	}
	apply(t, idx, search.Batch{Watermarks: wms})
	apply(t, idx, search.Batch{Watermarks: map[string]int64{"wmconv000": 40}})
	got, err := idx.Watermarks(ctx, []string{"wmconv000", "wmconv007", "unknown"})
	if err != nil || got["wmconv000"] != 40 || got["wmconv007"] != 8 || len(got) != 2 {
		t.Fatalf("Watermarks = %v, %v", got, err)
	}
	eventually(t, func() string {
		var all []string
		after := ""
		for {
			ids, err := idx.WatermarkedConversations(ctx, after, 10)
			if err != nil {
				return err.Error()
			}
			all = append(all, ids...)
			if len(ids) < 10 {
				break
			}
			after = ids[len(ids)-1]
		}
		if len(all) != 25 || !slices.IsSorted(all) || all[0] != "wmconv000" {
			return fmt.Sprintf("listed %v", all)
		}
		return ""
	})
}

func syncedAtIsKeptAndNeverFound(t *testing.T, idx search.Index) {
	ctx := context.Background()
	if at, err := idx.SyncedAt(ctx); err != nil || !at.IsZero() {
		t.Fatalf("SyncedAt of a new index = %v, %v; want the zero time", at, err)
	}
	c := conv()
	first := base.Add(time.Hour).Add(123 * time.Millisecond)
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "sync marker")}, Watermarks: map[string]int64{c: 1}, SyncedAt: first})
	later := first.Add(time.Minute)
	apply(t, idx, search.Batch{SyncedAt: later})
	if at, err := idx.SyncedAt(ctx); err != nil || !at.Equal(later) {
		t.Fatalf("SyncedAt = %v, %v; want %v", at, err, later)
	}
	expect(t, idx, "bob", "sync", whole(c), c+".1")
	eventually(t, func() string {
		if ids, err := idx.WatermarkedConversations(ctx, "", 1000); err != nil || !slices.Equal(ids, []string{c}) {
			return fmt.Sprintf("WatermarkedConversations = %v, %v; want only %s", ids, err, c)
		}
		return ""
	})
}

func usersAreFoundByPrefix(t *testing.T, idx search.Index) {
	ctx := context.Background()
	p := fmt.Sprintf("z%04d", rand.IntN(10000))
	apply(t, idx, search.Batch{Users: []search.User{
		{ID: "u1", Username: p + "_anna", DisplayName: "Anna Łukasiewicz"},
		{ID: "u2", Username: p + "_bob", DisplayName: "Bob Jönsson"},
		{ID: "u3", Username: "other", DisplayName: "José Ramírez " + p + "x"},
		{ID: "u4", Username: p + "_carl", DisplayName: "Carl"},
	}})
	find := func(prefix string, first int, after string) search.UserPage {
		pg, err := idx.SearchUsers(ctx, search.UserQuery{Prefix: prefix, First: first, After: after})
		if err != nil {
			t.Fatalf("SearchUsers(%q): %v", prefix, err)
		}
		return pg
	}
	// Ordered by username: "other" sorts before "z…".
	all := []string{"u3", "u1", "u2", "u4"}
	eventually(t, func() string {
		if got := find(p, 10, "").IDs; !slices.Equal(got, all) {
			return fmt.Sprintf("prefix %q found %v", p, got)
		}
		return ""
	})
	if got := find("jons", 10, "").IDs; !slices.Equal(got, []string{"u2"}) {
		t.Errorf("jons found %v", got)
	}
	if got := find("RAMI", 10, "").IDs; !slices.Equal(got, []string{"u3"}) {
		t.Errorf("RAMI found %v", got)
	}
	if got := find("anna luk", 10, "").IDs; !slices.Equal(got, []string{"u1"}) {
		t.Errorf("'anna luk' found %v", got)
	}
	if got := find(p+"_b", 10, "").IDs; !slices.Equal(got, []string{"u2"}) {
		t.Errorf("%s_b found %v", p, got)
	}
	first := find(p, 3, "")
	if len(first.IDs) != 3 || !first.HasNext {
		t.Fatalf("first page %+v", first)
	}
	rest := find(p, 3, first.Cursors[2])
	if got := append(first.IDs, rest.IDs...); !slices.Equal(got, all) || rest.HasNext {
		t.Fatalf("paged %v (hasNext %v)", got, rest.HasNext)
	}
}

func rebuildIsInvisibleUntilPromoted(t *testing.T, idx search.Index) {
	r, ok := idx.(search.Rebuilder)
	if !ok {
		t.Skip("index is not a Rebuilder")
	}
	ctx := context.Background()
	c := conv()
	apply(t, idx, search.Batch{Upserts: []search.Message{msg(c, 1, "old generation")},
		Hides: []search.Hide{{Key: search.Key{ConversationID: c, Seq: 1}, UserID: "alice"}}})
	expect(t, idx, "bob", "generation", whole(c), c+".1")
	expect(t, idx, "alice", "generation", whole(c))
	var hides []search.Hide
	eventually(t, func() string {
		hides = nil
		if err := r.Hides(ctx, func(h search.Hide) error { hides = append(hides, h); return nil }); err != nil {
			return err.Error()
		}
		if len(hides) != 1 || hides[0].UserID != "alice" || hides[0].ConversationID != c {
			return fmt.Sprintf("Hides = %+v", hides)
		}
		return ""
	})
	g, err := r.NewGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Apply(ctx, search.Batch{Upserts: []search.Message{msg(c, 2, "new generation")}, Hides: hides,
		Watermarks: map[string]int64{c: 2}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // longer than a refresh: the new data would show if it leaked
	expect(t, idx, "bob", "generation", whole(c), c+".1")
	if err := g.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, idx, "bob", "generation", whole(c), c+".2")
	if wm, err := idx.Watermarks(ctx, []string{c}); err != nil || wm[c] != 2 {
		t.Fatalf("watermark after promote = %v, %v", wm, err)
	}
}
