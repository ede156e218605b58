package chat_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"messenger/chat"
	"messenger/storage"
)

// watcher is one user's chat subscription, read up to a marker.
type watcher struct {
	user   string
	events <-chan chat.Event
}

func watch(t *testing.T, e *rulesEnv, user string) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub, err := e.chat.Subscribe(ctx, user, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &watcher{user: user, events: sub.Events}
}

// until returns the events received up to now (a marker appended through
// the service), or, when stop is set, as soon as stop says so or after a
// two seconds without it (presence announcements run in the background, so a
// wrong one gets that long to arrive).
func (w *watcher) until(t *testing.T, e *rulesEnv, stop func(chat.Event) bool) []chat.Event {
	t.Helper()
	if stop == nil {
		e.chat.Publish(context.Background(), []string{w.user}, &chat.MemberLeft{UserID: markerUser})
	}
	wait := 5 * time.Second
	if stop != nil {
		wait = 2 * time.Second
	}
	var out []chat.Event
	for {
		select {
		case ev, ok := <-w.events:
			if !ok {
				t.Fatal("subscription ended")
			}
			if ml, ok := ev.(*chat.MemberLeft); ok && ml.UserID == markerUser {
				return out
			}
			out = append(out, ev)
			if stop != nil && stop(ev) {
				return out
			}
		case <-time.After(wait):
			if stop != nil {
				return out
			}
			t.Fatal("the marker did not arrive")
		}
	}
}

// about reports whether ev is of type T and about user.
func about[T chat.Event](user string, id func(T) string) func(chat.Event) bool {
	return func(ev chat.Event) bool {
		v, ok := ev.(T)
		return ok && id(v) == user
	}
}

// observe tells whether viewer sees field of subject in conv, after
// subject acts (comes online, types, reads m).
type observe func(t *testing.T, e *rulesEnv, viewer, subject string, conv storage.Conversation, m storage.Message) bool

var privacyFields = map[string]observe{
	"User.presence": func(t *testing.T, e *rulesEnv, viewer, subject string, _ storage.Conversation, _ storage.Message) bool {
		watch(t, e, subject)
		online, _ := e.chat.PresenceFor(context.Background(), viewer, subject)
		return online
	},
	"PresenceUpdated": func(t *testing.T, e *rulesEnv, viewer, subject string, _ storage.Conversation, _ storage.Message) bool {
		w := watch(t, e, viewer)
		watch(t, e, subject)
		// Only an event that shows something counts: "offline, never
		// seen" is what hidden presence looks like.
		seen := about(subject, func(p *chat.PresenceUpdated) string {
			if !p.Online && p.LastSeenAt == nil {
				return ""
			}
			return p.UserID
		})
		return slices.ContainsFunc(w.until(t, e, seen), seen)
	},
	"TypingUpdated": func(t *testing.T, e *rulesEnv, viewer, subject string, c storage.Conversation, _ storage.Message) bool {
		w := watch(t, e, viewer)
		if err := e.chat.SetTyping(context.Background(), subject, c.ID, true); err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(w.until(t, e, nil), about(subject, func(p *chat.TypingUpdated) string { return p.UserID }))
	},
	"ReadCursorMoved": func(t *testing.T, e *rulesEnv, viewer, subject string, c storage.Conversation, m storage.Message) bool {
		w := watch(t, e, viewer)
		read(t, e, subject, c, m)
		return slices.ContainsFunc(w.until(t, e, nil), about(subject, func(p *chat.ReadCursorMoved) string { return p.UserID }))
	},
	"readBy": func(t *testing.T, e *rulesEnv, viewer, subject string, c storage.Conversation, m storage.Message) bool {
		read(t, e, subject, c, m)
		rs, _, err := e.chat.ReceiptsFor(context.Background(), viewer, m, storage.Read, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(rs, func(r storage.Receipt) bool { return r.UserID == subject })
	},
	"receipt": func(t *testing.T, e *rulesEnv, viewer, subject string, c storage.Conversation, m storage.Message) bool {
		read(t, e, subject, c, m)
		r, err := e.chat.ReceiptFor(context.Background(), viewer, m, subject)
		if err != nil {
			t.Fatal(err)
		}
		return r.ReadAt != nil
	},
	"readCount": func(t *testing.T, e *rulesEnv, viewer, _ string, c storage.Conversation, _ storage.Message) bool {
		ok, err := e.chat.ReceiptsVisible(context.Background(), viewer, c)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	},
}

func read(t *testing.T, e *rulesEnv, who string, c storage.Conversation, m storage.Message) {
	t.Helper()
	if _, err := e.chat.MarkRead(context.Background(), who, c.ID, m.Seq); err != nil {
		t.Fatal(err)
	}
}

func audience(a storage.Audience) *storage.Audience { return &a }
func off() *bool                                    { f := false; return &f }

// TestEveryPrivacySettingIsEnforcedInEveryField: one row per setting x
// field; the viewer shares the conversation (direct or group) with the
// subject, who comes online, types and reads the viewer's message.
func TestEveryPrivacySettingIsEnforcedInEveryField(t *testing.T) { everyPrivacySetting(t, nil) }

// everyPrivacySetting runs the table on the backends tweak picks (nil: the
// embedded ones).
func everyPrivacySetting(t *testing.T, tweak func(*chat.Config)) {
	ctx := context.Background()
	all := []string{"User.presence", "PresenceUpdated", "TypingUpdated", "ReadCursorMoved", "readBy", "receipt", "readCount"}
	settings := []struct {
		name   string
		group  bool
		apply  func(e *rulesEnv, viewer, subject string) error
		hidden []string
	}{
		{"defaults (direct)", false, nil, nil},
		{"defaults (group)", true, nil, nil},
		{"subject lastSeen NOBODY", false, func(e *rulesEnv, _, s string) error {
			_, err := e.chat.UpdatePrivacy(ctx, s, chat.PrivacyUpdate{LastSeen: audience(storage.AudienceNobody)})
			return err
		}, []string{"User.presence", "PresenceUpdated"}},
		{"subject lastSeen CONTACTS, viewer a contact", true, func(e *rulesEnv, _, s string) error {
			_, err := e.chat.UpdatePrivacy(ctx, s, chat.PrivacyUpdate{LastSeen: audience(storage.AudienceContacts)})
			return err
		}, nil},
		{"subject typing off", true, func(e *rulesEnv, _, s string) error {
			_, err := e.chat.UpdatePrivacy(ctx, s, chat.PrivacyUpdate{Typing: off()})
			return err
		}, []string{"TypingUpdated"}},
		{"subject read receipts off (direct)", false, func(e *rulesEnv, _, s string) error {
			_, err := e.chat.UpdatePrivacy(ctx, s, chat.PrivacyUpdate{ReadReceipts: off()})
			return err
		}, []string{"ReadCursorMoved", "readBy", "receipt", "readCount"}},
		{"subject read receipts off (group keeps counts)", true, func(e *rulesEnv, _, s string) error {
			_, err := e.chat.UpdatePrivacy(ctx, s, chat.PrivacyUpdate{ReadReceipts: off()})
			return err
		}, []string{"ReadCursorMoved", "readBy", "receipt"}},
		{"viewer read receipts off (direct: reciprocal)", false, func(e *rulesEnv, v, _ string) error {
			_, err := e.chat.UpdatePrivacy(ctx, v, chat.PrivacyUpdate{ReadReceipts: off()})
			return err
		}, []string{"ReadCursorMoved", "readBy", "receipt", "readCount"}},
		{"viewer read receipts off (group: not reciprocal)", true, func(e *rulesEnv, v, _ string) error {
			_, err := e.chat.UpdatePrivacy(ctx, v, chat.PrivacyUpdate{ReadReceipts: off()})
			return err
		}, nil},
		{"viewer blocks subject (direct)", false, func(e *rulesEnv, v, s string) error {
			_, err := e.chat.BlockUser(ctx, v, s)
			return err
		}, all},
		{"subject blocks viewer (group)", true, func(e *rulesEnv, v, s string) error {
			_, err := e.chat.BlockUser(ctx, s, v)
			return err
		}, []string{"User.presence", "PresenceUpdated", "TypingUpdated", "ReadCursorMoved", "readBy", "receipt"}},
	}
	for _, st := range settings {
		for _, field := range all {
			t.Run(st.name+"/"+field, func(t *testing.T) {
				e := newRulesEnv(t, tweak)
				viewer, subject, third := e.user(t, "viewer"), e.user(t, "subject"), e.user(t, "third")
				conv, err := e.chat.CreateDirect(ctx, viewer, subject)
				if st.group {
					conv, err = e.chat.CreateGroup(ctx, viewer, "g", []string{subject, third})
				}
				if err != nil {
					t.Fatal(err)
				}
				m, err := e.chat.Send(ctx, viewer, conv.ID, "m", "hello")
				if err != nil {
					t.Fatal(err)
				}
				if st.apply != nil {
					if err := st.apply(e, viewer, subject); err != nil {
						t.Fatal(err)
					}
				}
				want := !slices.Contains(st.hidden, field)
				if got := privacyFields[field](t, e, viewer, subject, conv, m); got != want {
					t.Fatalf("viewer sees %s: %v, want %v", field, got, want)
				}
			})
		}
	}
}

// TestContactsOnlySettingsKeepStrangersOut: lastSeen CONTACTS hides
// presence from someone sharing no conversation, and directConversations
// CONTACTS refuses them a new direct conversation (a contact still may).
func TestContactsOnlySettingsKeepStrangersOut(t *testing.T) {
	ctx := context.Background()
	e := newRulesEnv(t, nil)
	subject, stranger, contact := e.user(t, "subject"), e.user(t, "stranger"), e.user(t, "contact")
	if _, err := e.chat.CreateGroup(ctx, subject, "g", []string{contact}); err != nil {
		t.Fatal(err)
	}
	p, err := e.chat.UpdatePrivacy(ctx, subject, chat.PrivacyUpdate{LastSeen: audience(storage.AudienceContacts), DirectConversations: audience(storage.AudienceContacts)})
	if err != nil || p.LastSeen != storage.AudienceContacts || p.DirectConversations != storage.AudienceContacts || p.HideTyping || p.HideReadReceipts {
		t.Fatalf("UpdatePrivacy = %+v, %v", p, err)
	}
	watch(t, e, subject)
	if online, _ := e.chat.PresenceFor(ctx, stranger, subject); online {
		t.Fatal("a stranger sees the presence of a CONTACTS user")
	}
	if online, _ := e.chat.PresenceFor(ctx, contact, subject); !online {
		t.Fatal("a contact does not see the presence of a CONTACTS user")
	}
	if online, _ := e.chat.PresenceFor(ctx, subject, subject); !online {
		t.Fatal("one's own presence is always visible")
	}
	if _, err := e.chat.CreateDirect(ctx, stranger, subject); code(err) != "FORBIDDEN" {
		t.Fatalf("a stranger starts a direct conversation: %v, want FORBIDDEN", err)
	}
	if _, err := e.chat.CreateDirect(ctx, contact, subject); err != nil {
		t.Fatalf("a contact starts a direct conversation: %v", err)
	}
}

// TestHidingPresenceTellsWhoSawIt: a contact who saw me online learns that
// I now show as offline when I hide my last seen or block them.
func TestHidingPresenceTellsWhoSawIt(t *testing.T) {
	ctx := context.Background()
	for _, hide := range []string{"lastSeen NOBODY", "block"} {
		t.Run(hide, func(t *testing.T) {
			e := newRulesEnv(t, nil)
			me, contact := e.user(t, "hider"), e.user(t, "contact")
			if _, err := e.chat.CreateDirect(ctx, me, contact); err != nil {
				t.Fatal(err)
			}
			w := watch(t, e, contact)
			watch(t, e, me)
			online := func(ev chat.Event) bool { p, ok := ev.(*chat.PresenceUpdated); return ok && p.UserID == me && p.Online }
			if !slices.ContainsFunc(w.until(t, e, online), online) {
				t.Fatal("the contact never saw me online")
			}
			var err error
			if hide == "block" {
				_, err = e.chat.BlockUser(ctx, me, contact)
			} else {
				_, err = e.chat.UpdatePrivacy(ctx, me, chat.PrivacyUpdate{LastSeen: audience(storage.AudienceNobody)})
			}
			if err != nil {
				t.Fatal(err)
			}
			offline := func(ev chat.Event) bool {
				p, ok := ev.(*chat.PresenceUpdated)
				return ok && p.UserID == me && !p.Online
			}
			if !slices.ContainsFunc(w.until(t, e, offline), offline) {
				t.Fatal("the contact was not told I show as offline now")
			}
		})
	}
}
