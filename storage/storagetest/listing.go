package storagetest

import (
	"context"
	"slices"
	"testing"

	"messenger/storage"
)

// testListing: every conversation and every user is listed exactly once
// when paging through ConversationIDs and UserIDs, whatever the page size,
// and a page shorter than its limit is the last. The store may hold other
// tests' records (a shared keyspace): only this test's own are asserted.
func testListing(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var users []string
	for range 5 {
		users = append(users, mustUser(t, s).ID)
	}
	var convs []string
	for i := range 5 {
		c := mustGroup(t, s, users[i], users[(i+1)%len(users)])
		convs = append(convs, c.ID)
	}
	mustSend(t, s, convs[0], users[0], "a conversation with a message is listed like any other")

	for _, l := range []struct {
		what string
		list func(ctx context.Context, afterID string, limit int) ([]string, error)
		mine []string
	}{
		{"ConversationIDs", s.ConversationIDs, convs},
		{"UserIDs", s.UserIDs, users},
	} {
		t.Run(l.what, func(t *testing.T) {
			all := pageAll(t, l.what, l.list, 1000)
			for _, limit := range []int{1, 2, 3} {
				paged := pageAll(t, l.what, l.list, limit)
				if !slices.Equal(paged, all) {
					t.Fatalf("%s in pages of %d listed %d ids, in pages of 1000 %d: the order must be stable and pages must not overlap or skip", l.what, limit, len(paged), len(all))
				}
			}
			seen := map[string]bool{}
			for _, id := range all {
				seen[id] = true
			}
			for _, id := range l.mine {
				if !seen[id] {
					t.Fatalf("%s never listed %s", l.what, id)
				}
			}
			if got, err := l.list(ctx, all[len(all)-1], 10); err != nil || len(got) != 0 {
				t.Fatalf("%s after the last id = %q, %v; want an empty page", l.what, got, err)
			}
			if got, err := l.list(ctx, "", 0); err != nil || len(got) != 0 {
				t.Fatalf("%s with limit 0 = %q, %v; want an empty page", l.what, got, err)
			}
		})
	}
}

// pageAll pages through a listing with the given page size, failing on a
// repeated id or an over-long page.
func pageAll(t *testing.T, what string, list func(ctx context.Context, afterID string, limit int) ([]string, error), limit int) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	after := ""
	for {
		page, err := list(context.Background(), after, limit)
		if err != nil {
			t.Fatalf("%s(after %q, %d): %v", what, after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("%s(limit %d) returned %d ids", what, limit, len(page))
		}
		for _, id := range page {
			if seen[id] {
				t.Fatalf("%s in pages of %d listed %s twice", what, limit, id)
			}
			seen[id] = true
		}
		out = append(out, page...)
		if len(page) < limit {
			return out
		}
		after = page[len(page)-1]
	}
}
