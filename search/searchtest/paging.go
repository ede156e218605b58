package searchtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"messenger/search"
)

// Cases on paging: full, disjoint pages in both orders, over thousands of
// scopes, and cursors.

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
