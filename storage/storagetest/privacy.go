package storagetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"messenger/storage"
)

func testBlocks(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b, c := id(), id(), id()
	at := now()
	created, err := s.Block(ctx, storage.Block{BlockerID: a, BlockedID: b, At: at})
	if err != nil || !created {
		t.Fatalf("Block: created=%v err=%v", created, err)
	}
	created, err = s.Block(ctx, storage.Block{BlockerID: a, BlockedID: b, At: at.Add(time.Hour)})
	if err != nil || created {
		t.Fatalf("second Block: created=%v err=%v, want a no-op", created, err)
	}
	if _, err := s.Block(ctx, storage.Block{BlockerID: a, BlockedID: c, At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Block(ctx, storage.Block{BlockerID: c, BlockedID: b, At: at}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     bool
	}{{a, b, true}, {b, a, false}, {a, c, true}, {c, a, false}, {c, b, true}, {b, c, false}} {
		got, err := s.IsBlocking(ctx, tc.from, tc.to)
		if err != nil || got != tc.want {
			t.Errorf("IsBlocking(%s, %s) = %v, %v; want %v", tc.from, tc.to, got, err, tc.want)
		}
	}
	list, err := s.BlockedUsers(ctx, a, "", 0)
	if err != nil || len(list) != 2 || list[0].BlockedID > list[1].BlockedID {
		t.Fatalf("BlockedUsers = %+v, %v: want both, ordered by id", list, err)
	}
	for _, bl := range list {
		if bl.BlockedID == b && !bl.At.Equal(at) {
			t.Errorf("block of b At = %v, want the first block's %v", bl.At, at)
		}
	}
	page, err := s.BlockedUsers(ctx, a, list[0].BlockedID, 1)
	if err != nil || len(page) != 1 || page[0].BlockedID != list[1].BlockedID {
		t.Fatalf("BlockedUsers after the first = %+v, %v", page, err)
	}
	blockers, err := s.Blockers(ctx, b)
	want := []string{a, c}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	if err != nil || !reflect.DeepEqual(blockers, want) {
		t.Fatalf("Blockers(b) = %v, %v; want %v", blockers, err, want)
	}
	removed, err := s.Unblock(ctx, a, b)
	if err != nil || !removed {
		t.Fatalf("Unblock: removed=%v err=%v", removed, err)
	}
	removed, err = s.Unblock(ctx, a, b)
	if err != nil || removed {
		t.Fatalf("second Unblock: removed=%v err=%v, want a no-op", removed, err)
	}
	if got, _ := s.IsBlocking(ctx, a, b); got {
		t.Fatal("still blocking after Unblock")
	}
	if blockers, _ := s.Blockers(ctx, b); !reflect.DeepEqual(blockers, []string{c}) {
		t.Fatalf("Blockers(b) after unblock = %v, want only c", blockers)
	}
}

func testPrivacySettings(t *testing.T, s storage.Store) {
	ctx := context.Background()
	a, b := id(), id()
	got, err := s.PrivacySettings(ctx, []string{a, b})
	if err != nil || len(got) != 0 {
		t.Fatalf("PrivacySettings of users who never set any = %+v, %v; want none", got, err)
	}
	p := storage.PrivacySettings{LastSeen: storage.AudienceNobody, HideReadReceipts: true, HideTyping: true, DirectConversations: storage.AudienceContacts, UpdatedAt: now()}
	if err := s.SetPrivacySettings(ctx, a, p); err != nil {
		t.Fatal(err)
	}
	got, err = s.PrivacySettings(ctx, []string{a, b})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[a], p) {
		t.Fatalf("PrivacySettings = %+v, %v; want only a's %+v", got, err, p)
	}
	p2 := storage.PrivacySettings{LastSeen: storage.AudienceContacts, UpdatedAt: now()}
	if err := s.SetPrivacySettings(ctx, a, p2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PrivacySettings(ctx, []string{a}); !reflect.DeepEqual(got[a], p2) {
		t.Fatalf("settings are replaced as a whole: got %+v, want %+v", got[a], p2)
	}
}

func testForgetPrivacy(t *testing.T, s storage.Store) {
	ctx := context.Background()
	gone, a, b := id(), id(), id()
	for _, bl := range []storage.Block{{BlockerID: gone, BlockedID: a}, {BlockerID: b, BlockedID: gone}, {BlockerID: b, BlockedID: a}} {
		bl.At = now()
		if _, err := s.Block(ctx, bl); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetPrivacySettings(ctx, gone, storage.PrivacySettings{HideTyping: true, UpdatedAt: now()}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := s.ForgetPrivacy(ctx, gone); err != nil {
			t.Fatalf("ForgetPrivacy (%d): %v", i+1, err)
		}
	}
	if l, _ := s.BlockedUsers(ctx, gone, "", 0); len(l) != 0 {
		t.Fatalf("blocks by the forgotten user remain: %+v", l)
	}
	if l, _ := s.Blockers(ctx, gone); len(l) != 0 {
		t.Fatalf("blocks of the forgotten user remain: %v", l)
	}
	if l, _ := s.Blockers(ctx, a); !reflect.DeepEqual(l, []string{b}) {
		t.Fatalf("Blockers(a) = %v: others' blocks must stay", l)
	}
	if l, _ := s.BlockedUsers(ctx, b, "", 0); len(l) != 1 || l[0].BlockedID != a {
		t.Fatalf("BlockedUsers(b) = %+v: want only a", l)
	}
	if got, _ := s.PrivacySettings(ctx, []string{gone}); len(got) != 0 {
		t.Fatalf("settings remain: %+v", got)
	}
}

func testReports(t *testing.T, s storage.Store) {
	ctx := context.Background()
	reporter, other := id(), id()
	// Reports are global: list from just before this test's first one,
	// and keep only this test's.
	start := now()
	edited := start.Add(-time.Minute)
	var want []storage.Report
	for i := 0; i < 5; i++ {
		r := storage.Report{ID: uuid.NewString(), ReporterID: reporter, UserID: other, Reason: "SPAM", Note: "note", CreatedAt: start.Add(time.Duration(i) * time.Millisecond)}
		if i == 2 {
			r.ConversationID, r.MessageID, r.MessageSeq, r.MessageBody = id(), id(), 7, "evidence"
			r.MessageSentAt, r.MessageEditedAt = start.Add(-time.Hour), &edited
		}
		if err := s.AddReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	if err := s.AddReport(ctx, want[0]); err != nil {
		t.Fatalf("adding a report again: %v", err)
	}
	if n, err := s.CountReportsBy(ctx, reporter, start.Add(2*time.Millisecond)); err != nil || n != 3 {
		t.Fatalf("CountReportsBy since the third = %d, %v; want 3", n, err)
	}
	if n, err := s.CountReportsBy(ctx, other, start); err != nil || n != 0 {
		t.Fatalf("CountReportsBy(another user) = %d, %v; want 0", n, err)
	}
	var got []storage.Report
	afterAt, afterID := start.Add(-time.Millisecond), ""
	for pages := 0; pages < 100; pages++ {
		page, err := s.Reports(ctx, afterAt, afterID, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if r.ReporterID == reporter {
				got = append(got, r)
			}
		}
		if len(page) < 2 {
			break
		}
		afterAt, afterID = page[len(page)-1].CreatedAt, page[len(page)-1].ID
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Reports paged = %+v\nwant %+v (oldest first, each once, snapshot kept)", got, want)
	}
}

// testReportsAcrossMonths: paging walks month boundaries (Cassandra keeps
// a partition per month) without skipping or repeating a report.
func testReportsAcrossMonths(t *testing.T, s storage.Store) {
	ctx := context.Background()
	reporter := id()
	// A year of its own, far from other tests' reports (which are "now").
	year := 2001 + int(uuid.New()[0])%50
	times := []time.Time{
		time.Date(year, 1, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(year, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(year, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(year, 7, 15, 12, 0, 0, 0, time.UTC),
	}
	var want []string
	for _, at := range times {
		r := storage.Report{ID: uuid.NewString(), ReporterID: reporter, UserID: id(), Reason: "SPAM", CreatedAt: at}
		if err := s.AddReport(ctx, r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r.ID)
	}
	if want[1] > want[2] { // same instant: ordered by id
		want[1], want[2] = want[2], want[1]
	}
	var got []string
	afterAt, afterID := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), ""
	for pages := 0; pages < 50; pages++ {
		page, err := s.Reports(ctx, afterAt, afterID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 || page[0].CreatedAt.Year() > year {
			break
		}
		if page[0].ReporterID == reporter {
			got = append(got, page[0].ID)
		}
		afterAt, afterID = page[0].CreatedAt, page[0].ID
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("paged one at a time across months: %v, want %v", got, want)
	}
}
