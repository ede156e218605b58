package paging

import (
	"errors"
	"testing"

	"messenger/search"
)

// FuzzCursors: search cursors from clients decode to a sort key that
// encodes back to the same key, or are ErrBadCursor; never a panic.
func FuzzCursors(f *testing.F) {
	f.Add(encodeCursor(search.Newest, SortKey{ID: "c.1"}), UserCursor("alice"))
	f.Add("", "")
	f.Add("e30", "dTo")
	f.Add("!!", "!!")
	f.Fuzz(func(t *testing.T, msg, user string) {
		for _, o := range []search.Order{search.Newest, search.Relevance} {
			k, err := decodeCursor(o, msg)
			if err != nil {
				if !errors.Is(err, search.ErrBadCursor) {
					t.Fatalf("decodeCursor(%q) = %v", msg, err)
				}
				continue
			}
			if k == nil {
				continue
			}
			k2, err := decodeCursor(o, encodeCursor(o, *k))
			if err != nil || k2 == nil || k2.ID != k.ID {
				t.Fatalf("round trip of %q: %+v -> %+v, %v", msg, k, k2, err)
			}
		}
		if key, err := ParseUserCursor(user); err != nil {
			if !errors.Is(err, search.ErrBadCursor) {
				t.Fatalf("ParseUserCursor(%q) = %v", user, err)
			}
		} else if back, err := ParseUserCursor(UserCursor(key)); user != "" && (err != nil || back != key) {
			t.Fatalf("round trip of user cursor %q: %q, %v", user, back, err)
		}
	})
}
