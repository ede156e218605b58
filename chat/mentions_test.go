package chat_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

func TestMentionsUserIsByNameOrEveryoneButNeverTheSender(t *testing.T) {
	at := time.Now()
	cases := []struct {
		name string
		m    storage.Message
		user string
		want bool
	}{
		{"named", storage.Message{SenderID: "a", MessageRefs: storage.MessageRefs{Mentions: []string{"b"}}}, "b", true},
		{"not named", storage.Message{SenderID: "a", MessageRefs: storage.MessageRefs{Mentions: []string{"c"}}}, "b", false},
		{"everyone", storage.Message{SenderID: "a", MessageRefs: storage.MessageRefs{MentionAll: true}}, "b", true},
		{"sender's own @all", storage.Message{SenderID: "a", MessageRefs: storage.MessageRefs{MentionAll: true}}, "a", false},
		{"sender named themself", storage.Message{SenderID: "a", MessageRefs: storage.MessageRefs{Mentions: []string{"a"}}}, "a", false},
		{"recalled", storage.Message{SenderID: "a", DeletedAt: &at, MessageRefs: storage.MessageRefs{Mentions: []string{"b"}}}, "b", false},
	}
	for _, c := range cases {
		if got := chat.MentionsUser(c.m, c.user); got != c.want {
			t.Errorf("%s: MentionsUser = %v; want %v", c.name, got, c.want)
		}
	}
}

// TestMentionEveryonePermissionMatrix: in a group of at most 32 members
// anyone may mention everyone; above, only owners and admins (others get
// FORBIDDEN, and nothing is sent); to an outsider the group does not exist.
func TestMentionEveryonePermissionMatrix(t *testing.T) {
	ctx := context.Background()
	want := map[string]map[string]fault.Code{
		"small": {"owner": "", "admin": "", "member": "", "outsider": fault.NotFound},
		"large": {"owner": "", "admin": "", "member": fault.Forbidden, "outsider": fault.NotFound},
	}
	for _, size := range []string{"small", "large"} {
		d := newDomain(t, nil)
		n := 32
		if size == "large" {
			n = 33
		}
		u := d.users(t, n+1)
		owner, admin, member, outsider := u[0], u[1], u[2], u[n]
		conv := d.group(t, owner, u[1:n]...)
		if _, err := d.svc.SetRole(ctx, owner, conv, admin, storage.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"owner", "admin", "member", "outsider"} {
			t.Run(size+"/"+role, func(t *testing.T) {
				actor := map[string]string{"owner": owner, "admin": admin, "member": member, "outsider": outsider}[role]
				before, _ := d.svc.Conversation(ctx, owner, conv)
				m, err := d.svc.SendWith(ctx, actor, conv, newClientID(), "all hands", chat.SendRefs{MentionAll: true})
				if got := code(err); got != want[size][role] {
					t.Fatalf("got %q (%v); want %q", got, err, want[size][role])
				}
				after, _ := d.svc.Conversation(ctx, owner, conv)
				if err != nil && after.LastSeq != before.LastSeq {
					t.Fatalf("a refused @all was sent")
				}
				if err == nil && (!m.MentionAll || !chat.MentionsUser(m, u[3])) {
					t.Fatalf("sent @all does not mention everyone: %+v", m.MessageRefs)
				}
			})
		}
	}
}

func TestBadMentionsAreRefusedAndSendNothing(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, nil)
	u := d.users(t, 3)
	alice, bob, stranger := u[0], u[1], u[2]
	conv := d.group(t, alice, bob)
	tooMany := make([]string, storage.MaxMentions+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("user-%d", i)
	}
	cases := map[string][]string{
		"too many":     tooMany,
		"not a member": {bob, stranger},
		"unknown user": {"user-nobody"},
	}
	for name, mentions := range cases {
		t.Run(name, func(t *testing.T) {
			before, _ := d.svc.Conversation(ctx, alice, conv)
			_, err := d.svc.SendWith(ctx, alice, conv, newClientID(), "hi", chat.SendRefs{Mentions: mentions})
			if code(err) != fault.BadUserInput {
				t.Fatalf("got %v; want BAD_USER_INPUT", err)
			}
			after, _ := d.svc.Conversation(ctx, alice, conv)
			if after.LastSeq != before.LastSeq {
				t.Fatalf("a refused send wrote a message")
			}
		})
	}
	// Duplicates are one mention.
	m := mustSendWith(t, d, alice, conv, chat.SendRefs{Mentions: []string{bob, bob}})
	if !slices.Equal(m.Mentions, []string{bob}) {
		t.Fatalf("mentions = %v", m.Mentions)
	}
}

func TestUnreadMentionCountsFollowTheReadCursorAndNeverDrift(t *testing.T) {
	ctx := context.Background()
	d := newDomain(t, nil)
	u := d.users(t, 3)
	alice, bob, carol := u[0], u[1], u[2]
	conv := d.group(t, alice, bob, carol)
	dm := d.group(t, alice, bob)
	m1 := mustSendWith(t, d, alice, conv, chat.SendRefs{Mentions: []string{bob}})
	m2 := mustSendWith(t, d, carol, conv, chat.SendRefs{MentionAll: true, Mentions: []string{bob}})
	mustSendWith(t, d, alice, conv, chat.SendRefs{})
	m4 := mustSendWith(t, d, alice, dm, chat.SendRefs{Mentions: []string{bob}})
	// A retry is the same message: no second mention.
	if _, err := d.svc.SendWith(ctx, alice, conv, m1.ClientMessageID, "hello", chat.SendRefs{Mentions: []string{bob}}); err != nil {
		t.Fatal(err)
	}
	counts := func() (map[string]int, int) {
		t.Helper()
		c, err := d.svc.UnreadMentionCounts(ctx, bob, []string{conv, dm})
		if err != nil {
			t.Fatal(err)
		}
		total, err := d.svc.TotalUnreadMentions(ctx, bob)
		if err != nil {
			t.Fatal(err)
		}
		return c, total
	}
	if c, total := counts(); c[conv] != 2 || c[dm] != 1 || total != 3 {
		t.Fatalf("counts = %v, total %d; want 2, 1, 3", c, total)
	}
	page, err := d.svc.UnreadMentions(ctx, bob, conv, 10, nil)
	if err != nil || !slices.Equal(seqsOf(page.Messages), []int64{m1.Seq, m2.Seq}) {
		t.Fatalf("UnreadMentions = %v, %v", seqsOf(page.Messages), err)
	}
	if _, err := d.svc.MarkRead(ctx, bob, conv, m1.Seq); err != nil {
		t.Fatal(err)
	}
	if c, total := counts(); c[conv] != 1 || total != 2 {
		t.Fatalf("after reading m1: %v, total %d", c, total)
	}
	// A recall drops the mention.
	if _, err := d.svc.Delete(ctx, carol, m2.ID, true); err != nil {
		t.Fatal(err)
	}
	if c, _ := counts(); c[conv] != 0 {
		t.Fatalf("after recalling m2: %v", c)
	}
	// Hiding drops my own mention.
	if _, err := d.svc.Delete(ctx, bob, m4.ID, false); err != nil {
		t.Fatal(err)
	}
	if c, _ := counts(); c[dm] != 0 {
		t.Fatalf("after hiding m4: %v", c)
	}
	// An edit may change whom a message mentions; only the sender may.
	m5 := mustSendWith(t, d, alice, conv, chat.SendRefs{})
	if _, err := d.svc.EditWithMentions(ctx, carol, m5.ID, "now", []string{bob}, false); code(err) != fault.Forbidden {
		t.Fatalf("someone else's edit: %v", err)
	}
	if _, err := d.svc.EditWithMentions(ctx, alice, m5.ID, "", []string{bob}, false); code(err) != fault.BadUserInput {
		t.Fatalf("empty body: %v", err)
	}
	if c, _ := counts(); c[conv] != 0 {
		t.Fatalf("a refused edit changed the mentions: %v", c)
	}
	edited, err := d.svc.EditWithMentions(ctx, alice, m5.ID, "now with @bob", []string{bob}, false)
	if err != nil || !chat.MentionsUser(edited, bob) || edited.Body != "now with @bob" {
		t.Fatalf("edit = %+v, %v", edited, err)
	}
	if c, _ := counts(); c[conv] != 1 {
		t.Fatalf("after the edit: %v", c)
	}
}
