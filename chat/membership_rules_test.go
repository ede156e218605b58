package chat_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"messenger/chat"
	"messenger/fault"
	"messenger/storage"
)

// TestMembershipPermissionMatrix checks each new operation for each role of
// the actor: group details are for owners and admins, ownership for the
// owner, per-member state for every member (their own), and to an outsider
// the group does not exist.
func TestMembershipPermissionMatrix(t *testing.T) {
	ctx := context.Background()
	type op func(e *rulesEnv, actor, conv, target string) error
	ops := map[string]op{
		"updateConversation": func(e *rulesEnv, actor, conv, _ string) error {
			d := "about us"
			_, err := e.chat.UpdateConversation(ctx, actor, conv, chat.GroupChange{Description: &d})
			return err
		},
		"transferOwnership": func(e *rulesEnv, actor, conv, target string) error {
			_, err := e.chat.TransferOwnership(ctx, actor, conv, target)
			return err
		},
		"updateMembership": func(e *rulesEnv, actor, conv, _ string) error {
			_, err := e.chat.UpdateMembership(ctx, actor, conv, chat.MembershipChange{Archived: yes()})
			return err
		},
		"markUnread": func(e *rulesEnv, actor, conv, _ string) error {
			_, err := e.chat.MarkUnread(ctx, actor, conv)
			return err
		},
		"saveDraft": func(e *rulesEnv, actor, conv, _ string) error {
			_, err := e.chat.SaveDraft(ctx, actor, conv, "draft")
			return err
		},
	}
	want := map[string]map[string]fault.Code{
		"owner":    {"updateConversation": "", "transferOwnership": "", "updateMembership": "", "markUnread": "", "saveDraft": ""},
		"admin":    {"updateConversation": "", "transferOwnership": fault.Forbidden, "updateMembership": "", "markUnread": "", "saveDraft": ""},
		"member":   {"updateConversation": fault.Forbidden, "transferOwnership": fault.Forbidden, "updateMembership": "", "markUnread": "", "saveDraft": ""},
		"outsider": {"updateConversation": fault.NotFound, "transferOwnership": fault.NotFound, "updateMembership": fault.NotFound, "markUnread": fault.NotFound, "saveDraft": fault.NotFound},
	}
	for role, byOp := range want {
		for name, wantCode := range byOp {
			t.Run(role+"/"+name, func(t *testing.T) {
				e := newRulesEnv(t, nil)
				owner, admin, member, target, outsider := e.user(t, "owner"), e.user(t, "admin"), e.user(t, "member"), e.user(t, "target"), e.user(t, "outsider")
				g, err := e.chat.CreateGroup(ctx, owner, "team", []string{admin, member, target})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.chat.SetRole(ctx, owner, g.ID, admin, storage.RoleAdmin); err != nil {
					t.Fatal(err)
				}
				mustSend(t, e, target, g.ID) // something to mark unread
				actor := map[string]string{"owner": owner, "admin": admin, "member": member, "outsider": outsider}[role]
				err = ops[name](e, actor, g.ID, target)
				if got := code(err); got != wantCode {
					t.Fatalf("%s %s: got %q (%v), want %q", role, name, got, err, wantCode)
				}
				if err != nil {
					d, _ := e.chat.Description(ctx, g.ID)
					m, _ := e.chat.Membership(ctx, owner, g.ID)
					if d != "" || m.Role != storage.RoleOwner {
						t.Fatalf("a refused %s changed the group: description %q, owner's role %s", name, d, m.Role)
					}
				}
			})
		}
	}
}

// TestBadMembershipInputIsRefusedAndChangesNothing sends each new mutation
// bad input: BAD_USER_INPUT naming the field, and nothing changed.
func TestBadMembershipInputIsRefusedAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	me, other := e.user(t, "me"), e.user(t, "other")
	g, _ := e.chat.CreateGroup(ctx, me, "team", []string{other})
	past := e.clock().Add(-time.Hour)
	future := e.clock().Add(time.Hour)
	level := storage.NotificationLevel("LOUD")
	long := func(n int) *string { s := strings.Repeat("x", n); return &s }
	blank, bidi := "   ", "evil\u202Eeman"
	cases := []struct {
		name, field string
		do          func() error
	}{
		{"profile: empty display name", "displayName", func() error {
			_, err := e.chat.UpdateProfile(ctx, me, chat.ProfileChange{DisplayName: &blank})
			return err
		}},
		{"profile: bidi override in display name", "displayName", func() error {
			_, err := e.chat.UpdateProfile(ctx, me, chat.ProfileChange{DisplayName: &bidi})
			return err
		}},
		{"profile: bio over 160", "bio", func() error {
			_, err := e.chat.UpdateProfile(ctx, me, chat.ProfileChange{DisplayName: long(5), Bio: long(161)})
			return err
		}},
		{"group: description over 255", "description", func() error {
			_, err := e.chat.UpdateConversation(ctx, me, g.ID, chat.GroupChange{Title: long(5), Description: long(256)})
			return err
		}},
		{"group: empty title", "title", func() error {
			_, err := e.chat.UpdateConversation(ctx, me, g.ID, chat.GroupChange{Title: &blank})
			return err
		}},
		{"transfer to myself", "userId", func() error {
			_, err := e.chat.TransferOwnership(ctx, me, g.ID, me)
			return err
		}},
		{"mute until the past", "mutedUntil", func() error {
			_, err := e.chat.UpdateMembership(ctx, me, g.ID, chat.MembershipChange{Archived: yes(), MutedUntil: &past})
			return err
		}},
		{"mute until and unmute at once", "mutedUntil", func() error {
			_, err := e.chat.UpdateMembership(ctx, me, g.ID, chat.MembershipChange{MutedUntil: &future, Muted: no()})
			return err
		}},
		{"unknown notification level", "notificationLevel", func() error {
			_, err := e.chat.UpdateMembership(ctx, me, g.ID, chat.MembershipChange{Pinned: yes(), NotificationLevel: &level})
			return err
		}},
		{"mark unread with nothing from others", "conversationId", func() error {
			_, err := e.chat.MarkUnread(ctx, me, g.ID)
			return err
		}},
		{"draft over the body limit", "body", func() error {
			_, err := e.chat.SaveDraft(ctx, me, g.ID, *long(4001))
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			var fe *fault.Error
			if code(err) != fault.BadUserInput || !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
			u, _ := e.chat.User(ctx, me)
			bio, _ := e.chat.Bio(ctx, me)
			d, _ := e.chat.Description(ctx, g.ID)
			c, _ := e.chat.Conversation(ctx, me, g.ID)
			m, _ := e.chat.MyMembership(ctx, me, g.ID)
			mem, _ := e.chat.Membership(ctx, me, g.ID)
			draft, _ := e.chat.Draft(ctx, me, g.ID)
			if u.DisplayName != "me" || bio != "" || d != "" || c.Title != "team" || m != (chat.MyMembership{ConversationID: g.ID}) || mem.Role != storage.RoleOwner || draft != nil {
				t.Fatalf("refused input changed something: user %+v bio %q description %q conv %+v state %+v draft %+v", u, bio, d, c, m, draft)
			}
		})
	}
}
