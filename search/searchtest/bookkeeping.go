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

// Cases on what the indexer keeps in the index beside messages
// (watermarks, SyncedAt), users, and rebuilds.

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
