package chat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

// TestBlockPermissionMatrix: who may do what between two users, with no
// block and with a block in either direction. A block refuses new and
// existing direct conversations both ways with FORBIDDEN, and leaves shared
// groups working.
func TestBlockPermissionMatrix(t *testing.T) { blockPermissionMatrix(t, nil) }

// blockPermissionMatrix runs the matrix on the backends tweak picks (nil:
// the embedded ones).
func blockPermissionMatrix(t *testing.T, tweak func(*chat.Config)) {
	type op struct {
		name string
		run  func(e *rulesEnv, a, b, dm, group string) error
	}
	// Each user sent one direct message before the block (see below).
	sentBy := func(e *rulesEnv, user, dm string) string {
		page, err := e.chat.History(context.Background(), user, dm, chat.HistoryArgs{First: ten()})
		if err != nil {
			return ""
		}
		for _, m := range page.Messages {
			if m.SenderID == user {
				return m.ID
			}
		}
		return ""
	}
	ops := []op{
		{"a starts a direct conversation with b", func(e *rulesEnv, a, b, _, _ string) error {
			_, err := e.chat.CreateDirect(context.Background(), a, b)
			return err
		}},
		{"b starts a direct conversation with a", func(e *rulesEnv, a, b, _, _ string) error {
			_, err := e.chat.CreateDirect(context.Background(), b, a)
			return err
		}},
		{"a sends in their direct conversation", func(e *rulesEnv, a, _, dm, _ string) error {
			_, err := e.chat.Send(context.Background(), a, dm, "a-dm", "hi")
			return err
		}},
		{"b sends in their direct conversation", func(e *rulesEnv, _, b, dm, _ string) error {
			_, err := e.chat.Send(context.Background(), b, dm, "b-dm", "hi")
			return err
		}},
		{"a edits their direct message", func(e *rulesEnv, a, _, dm, _ string) error {
			_, err := e.chat.Edit(context.Background(), a, sentBy(e, a, dm), "edited")
			return err
		}},
		{"b reacts to a's direct message", func(e *rulesEnv, a, b, dm, _ string) error {
			_, err := e.chat.AddReaction(context.Background(), b, sentBy(e, a, dm), "👍")
			return err
		}},
		{"a sends in a shared group", func(e *rulesEnv, a, _, _, g string) error {
			_, err := e.chat.Send(context.Background(), a, g, "a-g", "hi")
			return err
		}},
		{"b sends in a shared group", func(e *rulesEnv, _, b, _, g string) error {
			_, err := e.chat.Send(context.Background(), b, g, "b-g", "hi")
			return err
		}},
	}
	blocks := []struct {
		name string
		// want is the code per op, in ops' order.
		want    []fault.Code
		blocker func(a, b string) (string, string)
	}{
		{"no block", []fault.Code{"", "", "", "", "", "", "", ""}, nil},
		{"a blocks b", []fault.Code{fault.Forbidden, fault.Forbidden, fault.Forbidden, fault.Forbidden, fault.Forbidden, fault.Forbidden, "", ""}, func(a, b string) (string, string) { return a, b }},
		{"b blocks a", []fault.Code{fault.Forbidden, fault.Forbidden, fault.Forbidden, fault.Forbidden, fault.Forbidden, fault.Forbidden, "", ""}, func(a, b string) (string, string) { return b, a }},
	}
	for _, bl := range blocks {
		for i, o := range ops {
			t.Run(bl.name+"/"+o.name, func(t *testing.T) {
				ctx := context.Background()
				e := newRulesEnv(t, tweak)
				a, b := e.user(t, "alice"), e.user(t, "bob")
				dm, err := e.chat.CreateDirect(ctx, a, b)
				if err != nil {
					t.Fatal(err)
				}
				g, err := e.chat.CreateGroup(ctx, a, "group", []string{b})
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range []string{a, b} {
					if _, err := e.chat.Send(ctx, u, dm.ID, "before-"+u, "before the block"); err != nil {
						t.Fatal(err)
					}
				}
				if bl.blocker != nil {
					by, of := bl.blocker(a, b)
					if _, err := e.chat.BlockUser(ctx, by, of); err != nil {
						t.Fatal(err)
					}
				}
				if got := code(o.run(e, a, b, dm.ID, g.ID)); got != bl.want[i] {
					t.Fatalf("code = %q, want %q", got, bl.want[i])
				}
			})
		}
	}
}

// TestARefusedDirectMessageSaysWhoBlocked: the error is clear, not a
// silent drop, and nothing is written.
func TestARefusedDirectMessageSaysWhoBlocked(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	dm, _ := e.chat.CreateDirect(ctx, a, b)
	if _, err := e.chat.BlockUser(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	_, err := e.chat.Send(ctx, a, dm.ID, "1", "hi")
	if err == nil || !strings.Contains(err.Error(), "you blocked") {
		t.Fatalf("blocker's send: %v, want a FORBIDDEN that says they blocked", err)
	}
	_, err = e.chat.Send(ctx, b, dm.ID, "2", "hi")
	if err == nil || !strings.Contains(err.Error(), "does not accept") {
		t.Fatalf("blocked user's send: %v", err)
	}
	page, err := e.chat.History(ctx, a, dm.ID, chat.HistoryArgs{First: ten()})
	if err != nil || len(page.Messages) != 0 {
		t.Fatalf("history after refused sends: %d messages, %v", len(page.Messages), err)
	}
	if _, err := e.chat.UnblockUser(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Send(ctx, b, dm.ID, "3", "hi again"); err != nil {
		t.Fatalf("after unblock: %v", err)
	}
}

func TestBlockedUsersListAndHooks(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b, c := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	for _, u := range []string{b, c, b} {
		if _, err := e.chat.BlockUser(ctx, a, u); err != nil {
			t.Fatal(err)
		}
	}
	bs, more, err := e.chat.BlockedUsers(ctx, a, 1, "")
	if err != nil || len(bs) != 1 || !more {
		t.Fatalf("first page = %+v more=%v %v", bs, more, err)
	}
	rest, more, err := e.chat.BlockedUsers(ctx, a, 10, bs[0].BlockedID)
	if err != nil || len(rest) != 1 || more {
		t.Fatalf("second page = %+v more=%v %v", rest, more, err)
	}
	for _, pair := range [][2]string{{a, b}, {b, a}, {c, a}} {
		if blocked, err := e.chat.Blocked(ctx, pair[0], pair[1]); err != nil || !blocked {
			t.Fatalf("Blocked(%s, %s) = %v, %v; want true either way", pair[0], pair[1], blocked, err)
		}
	}
	if blocked, _ := e.chat.Blocked(ctx, b, c); blocked {
		t.Fatal("Blocked(b, c) without a block")
	}
	if err := e.chat.ForgetPrivacy(ctx, a); err != nil {
		t.Fatal(err)
	}
	if blocked, _ := e.chat.Blocked(ctx, a, b); blocked {
		t.Fatal("a's blocks remain after ForgetPrivacy")
	}
}

// TestBadInputIsRefusedAndChangesNothing: one row per mutation.
func TestBadPrivacyInputIsRefusedAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	g, _ := e.chat.CreateGroup(ctx, a, "g", []string{b})
	own, _ := e.chat.Send(ctx, a, g.ID, "own", "mine")
	nobody := storage.AudienceNobody
	bogus := storage.Audience("FRIENDS")
	cases := []struct {
		name string
		run  func() error
		want fault.Code
	}{
		{"block yourself", func() error { _, err := e.chat.BlockUser(ctx, a, a); return err }, fault.BadUserInput},
		{"block an unknown user", func() error { _, err := e.chat.BlockUser(ctx, a, "nobody"); return err }, fault.NotFound},
		{"unblock yourself", func() error { _, err := e.chat.UnblockUser(ctx, a, a); return err }, fault.BadUserInput},
		{"unblock an unknown user", func() error { _, err := e.chat.UnblockUser(ctx, a, "nobody"); return err }, fault.NotFound},
		{"lastSeen not an audience", func() error {
			_, err := e.chat.UpdatePrivacy(ctx, a, chat.PrivacyUpdate{LastSeen: &bogus})
			return err
		}, fault.BadUserInput},
		{"directConversations NOBODY", func() error {
			_, err := e.chat.UpdatePrivacy(ctx, a, chat.PrivacyUpdate{DirectConversations: &nobody})
			return err
		}, fault.BadUserInput},
		{"report with an unknown reason", func() error { _, err := e.chat.ReportUser(ctx, a, b, "BORED", ""); return err }, fault.BadUserInput},
		{"report with a note too long", func() error {
			_, err := e.chat.ReportUser(ctx, a, b, chat.ReasonSpam, strings.Repeat("x", 1001))
			return err
		}, fault.BadUserInput},
		{"report yourself", func() error { _, err := e.chat.ReportUser(ctx, a, a, chat.ReasonSpam, ""); return err }, fault.BadUserInput},
		{"report an unknown user", func() error { _, err := e.chat.ReportUser(ctx, a, "nobody", chat.ReasonSpam, ""); return err }, fault.NotFound},
		{"report your own message", func() error { _, err := e.chat.ReportMessage(ctx, a, own.ID, chat.ReasonSpam, ""); return err }, fault.BadUserInput},
		{"report a message you cannot see", func() error {
			_, err := e.chat.ReportMessage(ctx, a, storage.MessageID("elsewhere", 1), chat.ReasonSpam, "")
			return err
		}, fault.NotFound},
		{"list reports with a bad cursor", func() error { _, _, err := e.chat.ListReports(ctx, 10, "junk"); return err }, fault.BadUserInput},
		{"list reports with a bad limit", func() error { _, _, err := e.chat.ListReports(ctx, 0, ""); return err }, fault.BadUserInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.run()); got != tc.want {
				t.Fatalf("code = %q, want %q", got, tc.want)
			}
		})
	}
	if p, _ := e.chat.Privacy(ctx, a); p.LastSeen != storage.AudienceEveryone || p.DirectConversations != storage.AudienceEveryone {
		t.Fatalf("refused updates changed the settings: %+v", p)
	}
	if bs, _, _ := e.chat.BlockedUsers(ctx, a, 10, ""); len(bs) != 0 {
		t.Fatalf("refused blocks were stored: %+v", bs)
	}
	if rs, _, _ := e.chat.ListReports(ctx, 10, ""); len(rs) != 0 {
		t.Fatalf("refused reports were stored: %+v", rs)
	}
}

// TestAReportedMessageIsSnapshotted: a later edit and recall do not erase
// the evidence moderators list.
func TestAReportedMessageIsSnapshotted(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	g, _ := e.chat.CreateGroup(ctx, a, "g", []string{b})
	m, _ := e.chat.Send(ctx, b, g.ID, "m", "something nasty")
	r, err := e.chat.ReportMessage(ctx, a, m.ID, chat.ReasonHarassment, "  please look  ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.ReportUser(ctx, a, b, chat.ReasonSpam, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Edit(ctx, b, m.ID, "something nice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Delete(ctx, b, m.ID, true); err != nil {
		t.Fatal(err)
	}
	first, next, err := e.chat.ListReports(ctx, 1, "")
	if err != nil || len(first) != 1 || next == "" {
		t.Fatalf("first page: %+v next=%q %v", first, next, err)
	}
	got := first[0]
	if got.ID != r.ID || got.MessageBody != "something nasty" || got.UserID != b || got.ReporterID != a || got.Note != "please look" || got.Reason != chat.ReasonHarassment {
		t.Fatalf("listed report = %+v", got)
	}
	second, _, err := e.chat.ListReports(ctx, 10, next)
	if err != nil || len(second) != 1 || second[0].MessageID != "" || second[0].UserID != b {
		t.Fatalf("second page = %+v, %v", second, err)
	}
}

// TestReportsAreRateLimited: at most 20 an hour per reporter.
func TestReportsAreRateLimited(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	a, b := e.user(t, "alice"), e.user(t, "bob")
	for i := 0; i < 20; i++ {
		if _, err := e.chat.ReportUser(ctx, a, b, chat.ReasonSpam, fmt.Sprint(i)); err != nil {
			t.Fatalf("report %d: %v", i+1, err)
		}
		e.advance(time.Second)
	}
	if _, err := e.chat.ReportUser(ctx, a, b, chat.ReasonSpam, ""); code(err) != fault.RateLimited {
		t.Fatalf("21st report within the hour: %v, want RATE_LIMITED", err)
	}
	e.advance(time.Hour)
	if _, err := e.chat.ReportUser(ctx, a, b, chat.ReasonSpam, ""); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
}
