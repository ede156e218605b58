package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

// TestGroupPermissionMatrix checks every managing operation of a group for
// each role of the actor: owners do everything, admins manage members but
// not roles, members manage nothing, and to an outsider the group does not
// exist. A refused operation changes nothing.
func TestGroupPermissionMatrix(t *testing.T) {
	ctx := context.Background()
	type op struct {
		name string
		do   func(e *rulesEnv, actor, conv, target string) error
	}
	ops := []op{
		{"addMembers", func(e *rulesEnv, actor, conv, _ string) error {
			_, err := e.chat.AddMembers(ctx, actor, conv, []string{e.user(t, "newcomer")})
			return err
		}},
		{"removeMember", func(e *rulesEnv, actor, conv, target string) error {
			_, err := e.chat.RemoveMember(ctx, actor, conv, target)
			return err
		}},
		{"rename", func(e *rulesEnv, actor, conv, _ string) error {
			_, err := e.chat.Rename(ctx, actor, conv, "renamed")
			return err
		}},
		{"setRole", func(e *rulesEnv, actor, conv, target string) error {
			_, err := e.chat.SetRole(ctx, actor, conv, target, storage.RoleAdmin)
			return err
		}},
	}
	want := map[string]map[string]fault.Code{
		"owner":    {"addMembers": "", "removeMember": "", "rename": "", "setRole": ""},
		"admin":    {"addMembers": "", "removeMember": "", "rename": "", "setRole": fault.Forbidden},
		"member":   {"addMembers": fault.Forbidden, "removeMember": fault.Forbidden, "rename": fault.Forbidden, "setRole": fault.Forbidden},
		"outsider": {"addMembers": fault.NotFound, "removeMember": fault.NotFound, "rename": fault.NotFound, "setRole": fault.NotFound},
	}
	for _, role := range []string{"owner", "admin", "member", "outsider"} {
		for _, o := range ops {
			t.Run(role+"/"+o.name, func(t *testing.T) {
				e := newRulesEnv(t, nil)
				owner, admin, member, target, outsider := e.user(t, "owner"), e.user(t, "admin"), e.user(t, "member"), e.user(t, "target"), e.user(t, "outsider")
				g, err := e.chat.CreateGroup(ctx, owner, "team", []string{admin, member, target})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.chat.SetRole(ctx, owner, g.ID, admin, storage.RoleAdmin); err != nil {
					t.Fatal(err)
				}
				actor := map[string]string{"owner": owner, "admin": admin, "member": member, "outsider": outsider}[role]
				before, _ := e.chat.MemberCount(ctx, g.ID)
				err = o.do(e, actor, g.ID, target)
				if got := code(err); got != want[role][o.name] {
					t.Fatalf("%s %s: got %q (%v), want %q", role, o.name, got, err, want[role][o.name])
				}
				if err != nil {
					after, _ := e.chat.MemberCount(ctx, g.ID)
					c, _ := e.chat.Conversation(ctx, owner, g.ID)
					m, _ := e.chat.Membership(ctx, target, g.ID)
					if after != before || c.Title != "team" || m.Role != storage.RoleMember {
						t.Fatalf("a refused %s changed the group: members %d->%d, title %q, target role %s", o.name, before, after, c.Title, m.Role)
					}
				}
			})
		}
	}
}

func TestNobodyRemovesTheOwnerAndAdminsDoNotRemoveAdmins(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	owner, a1, a2 := e.user(t, "owner"), e.user(t, "admin"), e.user(t, "admin")
	g, err := e.chat.CreateGroup(ctx, owner, "team", []string{a1, a2})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{a1, a2} {
		if _, err := e.chat.SetRole(ctx, owner, g.ID, a, storage.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.chat.RemoveMember(ctx, a1, g.ID, owner); code(err) != fault.Forbidden {
		t.Fatalf("admin removing the owner: %v", err)
	}
	if _, err := e.chat.RemoveMember(ctx, a1, g.ID, a2); code(err) != fault.Forbidden {
		t.Fatalf("admin removing an admin: %v", err)
	}
	if _, err := e.chat.RemoveMember(ctx, owner, g.ID, a2); err != nil {
		t.Fatalf("owner removing an admin: %v", err)
	}
}

func TestRecallAfterTheWindowIsRefused(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, func(c *chat.Config) { c.RecallWindow = time.Hour })
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	dm, err := e.chat.CreateDirect(ctx, alice, bob)
	if err != nil {
		t.Fatal(err)
	}
	early, err := e.chat.Send(ctx, alice, dm.ID, "c1", "recall me")
	if err != nil {
		t.Fatal(err)
	}
	late, err := e.chat.Send(ctx, alice, dm.ID, "c2", "too late to recall")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Delete(ctx, bob, early.ID, true); code(err) != fault.Forbidden {
		t.Fatalf("a recipient recalling: %v", err)
	}
	if m, err := e.chat.Delete(ctx, alice, early.ID, true); err != nil || m.DeletedAt == nil || m.Body != "" {
		t.Fatalf("recall within the window: %+v, %v", m, err)
	}
	e.advance(time.Hour + time.Second)
	if _, err := e.chat.Delete(ctx, alice, late.ID, true); code(err) != fault.Forbidden {
		t.Fatalf("recall after the window: %v", err)
	}
	if m, err := e.chat.Message(ctx, bob, late.ID); err != nil || m.Body != "too late to recall" {
		t.Fatalf("a refused recall changed the message: %+v, %v", m, err)
	}
	// Deleting for myself has no window.
	if _, err := e.chat.Delete(ctx, bob, late.ID, false); err != nil {
		t.Fatalf("delete for me after the window: %v", err)
	}
}

func TestOnlyTheSenderEditsAndARecallIsFinal(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	dm, _ := e.chat.CreateDirect(ctx, alice, bob)
	m, err := e.chat.Send(ctx, alice, dm.ID, "c1", "original")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Edit(ctx, bob, m.ID, "forged"); code(err) != fault.Forbidden {
		t.Fatalf("a recipient editing: %v", err)
	}
	if _, err := e.chat.Delete(ctx, alice, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, err := e.chat.Edit(ctx, alice, m.ID, "back from the dead"); err == nil && got.Body != "" {
		t.Fatalf("an edit after a recall brought text back: %+v", got)
	}
}

func TestMessageLimits(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, func(c *chat.Config) { c.MaxBodyRunes = 10; c.MaxGroupMembers = 3 })
	alice, bob, carol, dave := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "dave")
	dm, _ := e.chat.CreateDirect(ctx, alice, bob)
	cases := []struct {
		name, clientID, body string
		field                string
	}{
		{"empty body", "a", "   ", "body"},
		{"over the length limit", "b", strings.Repeat("é", 11), "body"},
		{"invalid UTF-8", "c", "\xff\xfe", "body"},
		{"no client id", "", "hi", "clientMessageId"},
	}
	for _, c := range cases {
		_, err := e.chat.Send(ctx, alice, dm.ID, c.clientID, c.body)
		var fe *fault.Error
		if code(err) != fault.BadUserInput || !asFault(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: got %v, want BAD_USER_INPUT on %s", c.name, err, c.field)
		}
	}
	if got, _ := e.chat.History(ctx, alice, dm.ID, chat.HistoryArgs{Last: ten()}); len(got.Messages) != 0 {
		t.Fatalf("refused sends wrote %d messages", len(got.Messages))
	}
	// Exactly at the limit is fine: characters, not bytes.
	if _, err := e.chat.Send(ctx, alice, dm.ID, "ok", strings.Repeat("é", 10)); err != nil {
		t.Fatalf("a body at the limit: %v", err)
	}
	g, err := e.chat.CreateGroup(ctx, alice, "small", []string{bob, carol})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.AddMembers(ctx, alice, g.ID, []string{dave}); code(err) != fault.BadUserInput {
		t.Fatalf("growing past MaxGroupMembers: %v", err)
	}
}

func TestARetriedSendReturnsTheOriginal(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	dm, _ := e.chat.CreateDirect(ctx, alice, bob)
	first, err := e.chat.Send(ctx, alice, dm.ID, "same", "hello")
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.chat.Send(ctx, alice, dm.ID, "same", "hello, different text")
	if err != nil || again.ID != first.ID || again.Body != "hello" {
		t.Fatalf("retry: %+v, %v; want the original %+v", again, err, first)
	}
	if page, _ := e.chat.History(ctx, bob, dm.ID, chat.HistoryArgs{Last: ten()}); len(page.Messages) != 1 {
		t.Fatalf("a retry made %d messages", len(page.Messages))
	}
}

func TestGroupTitlesFollowTheRulesOfNames(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	for name, title := range map[string]string{
		"bidi override":  "team \u202egnp.exe",
		"control":        "team\x07",
		"line break":     "team\nname",
		"only invisible": "\u200b\u200d",
	} {
		if _, err := e.chat.CreateGroup(ctx, alice, title, []string{bob}); code(err) != fault.BadUserInput {
			t.Errorf("%s: createGroup gave %v", name, err)
		}
	}
	g, err := e.chat.CreateGroup(ctx, alice, "team", []string{bob})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.chat.Rename(ctx, alice, g.ID, "x\u2066y"); code(err) != fault.BadUserInput {
		t.Fatalf("rename with an isolate: %v", err)
	}
	if c, _ := e.chat.Conversation(ctx, alice, g.ID); c.Title != "team" {
		t.Fatalf("a refused rename changed the title to %q", c.Title)
	}
}
