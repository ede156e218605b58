package storage_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"messenger/storage"
)

// fakeMembers is a sorted member list that records each read's limit.
type fakeMembers struct {
	ids    []string
	limits []int
}

func (f *fakeMembers) Members(_ context.Context, _, after string, limit int) ([]storage.Member, error) {
	f.limits = append(f.limits, limit)
	i := sort.SearchStrings(f.ids, after)
	if i < len(f.ids) && f.ids[i] == after {
		i++
	}
	var out []storage.Member
	for ; i < len(f.ids) && len(out) < limit; i++ {
		out = append(out, storage.Member{UserID: f.ids[i]})
	}
	return out, nil
}

func TestEachMemberPage(t *testing.T) {
	for _, n := range []int{0, 1, storage.MemberPage - 1, storage.MemberPage, storage.MemberPage + 1, 3*storage.MemberPage + 7} {
		f := &fakeMembers{}
		for i := range n {
			f.ids = append(f.ids, fmt.Sprintf("u%06d", i))
		}
		var got []string
		err := storage.EachMemberPage(context.Background(), f, "c", func(ms []storage.Member) error {
			for _, m := range ms {
				got = append(got, m.UserID)
			}
			return nil
		})
		if err != nil || len(got) != n {
			t.Fatalf("%d members: got %d, %v", n, len(got), err)
		}
		for i := range got {
			if got[i] != f.ids[i] {
				t.Fatalf("%d members: #%d is %s", n, i, got[i])
			}
		}
		for _, l := range f.limits {
			if l != storage.MemberPage {
				t.Fatalf("a read asked for %d members", l)
			}
		}
	}
}
