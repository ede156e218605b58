package chat_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

// chanFixture is a channel with an owner, an admin and a member who joined
// by invite link, one message by the owner, and an outsider.
type chanFixture struct {
	e                              *rulesEnv
	channel, code, msgID           string
	owner, admin, member, outsider string
}

func newChanFixture(t *testing.T) *chanFixture {
	t.Helper()
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	f := &chanFixture{e: e, owner: e.user(t, "owner"), admin: e.user(t, "admin"), member: e.user(t, "member"), outsider: e.user(t, "outsider")}
	c, err := e.chat.CreateChannel(ctx, f.owner, "news", "what is new")
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != storage.Channel {
		t.Fatalf("kind %q", c.Kind)
	}
	f.channel = c.ID
	l, err := e.chat.CreateInviteLink(ctx, f.owner, c.ID, chat.InviteLinkInput{})
	if err != nil {
		t.Fatal(err)
	}
	f.code = l.Code
	for _, u := range []string{f.admin, f.member} {
		if j, err := e.chat.JoinByInvite(ctx, u, l.Code); err != nil || j.Status != chat.Joined {
			t.Fatalf("join: %+v, %v", j, err)
		}
	}
	if _, err := e.chat.SetRole(ctx, f.owner, c.ID, f.admin, storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	m, err := e.chat.Send(ctx, f.owner, c.ID, "c0", "first post")
	if err != nil {
		t.Fatal(err)
	}
	f.msgID = m.ID
	return f
}

// TestChannelPermissions is the role x operation table of a channel: only
// the owner and admins post; members read, react and mark read; outsiders
// see nothing but may join by link.
func TestChannelPermissions(t *testing.T) {
	ctx := context.Background()
	ops := map[string]func(f *chanFixture, me string) error{
		"send": func(f *chanFixture, me string) error {
			_, err := f.e.chat.Send(ctx, me, f.channel, "c-"+me, "hello")
			return err
		},
		"react": func(f *chanFixture, me string) error {
			_, err := f.e.chat.AddReaction(ctx, me, f.msgID, "👍")
			return err
		},
		"read history": func(f *chanFixture, me string) error {
			p, err := f.e.chat.History(ctx, me, f.channel, chat.HistoryArgs{})
			if err == nil && len(p.Messages) != 1 {
				t.Errorf("history of %s: %d messages", me, len(p.Messages))
			}
			return err
		},
		"mark read": func(f *chanFixture, me string) error {
			_, err := f.e.chat.MarkRead(ctx, me, f.channel, 1)
			return err
		},
		"rename": func(f *chanFixture, me string) error {
			title := "renamed"
			_, err := f.e.chat.UpdateConversation(ctx, me, f.channel, chat.GroupChange{Title: &title})
			return err
		},
		"create invite link": func(f *chanFixture, me string) error {
			_, err := f.e.chat.CreateInviteLink(ctx, me, f.channel, chat.InviteLinkInput{})
			return err
		},
	}
	const ok = fault.Code("")
	want := map[string]map[string]fault.Code{
		"owner":    {"send": ok, "react": ok, "read history": ok, "mark read": ok, "rename": ok, "create invite link": ok},
		"admin":    {"send": ok, "react": ok, "read history": ok, "mark read": ok, "rename": ok, "create invite link": ok},
		"member":   {"send": fault.Forbidden, "react": ok, "read history": ok, "mark read": ok, "rename": fault.Forbidden, "create invite link": fault.Forbidden},
		"outsider": {"send": fault.NotFound, "react": fault.NotFound, "read history": fault.NotFound, "mark read": fault.NotFound, "rename": fault.NotFound, "create invite link": fault.NotFound},
	}
	for role, row := range want {
		for op, wantCode := range row {
			t.Run(role+"/"+op, func(t *testing.T) {
				f := newChanFixture(t)
				me := map[string]string{"owner": f.owner, "admin": f.admin, "member": f.member, "outsider": f.outsider}[role]
				if got := code(ops[op](f, me)); got != wantCode {
					t.Fatalf("%s %s: got %q, want %q", role, op, got, wantCode)
				}
			})
		}
	}
}

// TestChannelMemberSendChangesNothing checks a refused post leaves the
// channel as it was, and that a member who joined by link reads it.
func TestChannelMemberSendChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newChanFixture(t)
	if _, err := f.e.chat.Send(ctx, f.member, f.channel, "m1", "may I?"); code(err) != fault.Forbidden {
		t.Fatalf("member send: %v", err)
	}
	p, err := f.e.chat.History(ctx, f.member, f.channel, chat.HistoryArgs{})
	if err != nil || len(p.Messages) != 1 || p.Messages[0].ID != f.msgID {
		t.Fatalf("history after refused send: %+v, %v", p.Messages, err)
	}
	d, err := f.e.chat.Description(ctx, f.channel)
	if err != nil || d != "what is new" {
		t.Fatalf("description %q, %v", d, err)
	}
	if n, err := f.e.chat.MemberCount(ctx, f.channel); err != nil || n != 3 {
		t.Fatalf("member count %d, %v", n, err)
	}
}

// TestCreateChannelBadInput checks every refused createChannel is
// BAD_USER_INPUT naming the field and creates nothing.
func TestCreateChannelBadInput(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	me := e.user(t, "owner")
	cases := []struct{ name, title, description, field string }{
		{"empty title", "", "", "title"},
		{"blank title", "   ", "", "title"},
		{"long title", strings.Repeat("t", 129), "", "title"},
		{"control in title", "bad\x07title", "", "title"},
		{"bidi override in title", "evil\u202etitle", "", "title"},
		{"long description", "news", strings.Repeat("d", chat.MaxDescription+1), "description"},
		{"invalid UTF-8 in description", "news", "bad\xfftext", "description"},
		{"invisible description", "news", "\u200b\u200b", "description"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.chat.CreateChannel(ctx, me, c.title, c.description)
			var fe *fault.Error
			if code(err) != fault.BadUserInput || !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("got %v, want BAD_USER_INPUT about %s", err, c.field)
			}
		})
	}
	if p, err := e.chat.Conversations(ctx, me, chat.ConversationArgs{}); err != nil || len(p.Conversations) != 0 {
		t.Fatalf("refused creations left %d conversations, %v", len(p.Conversations), err)
	}
}
