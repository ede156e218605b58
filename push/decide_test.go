package push_test

import (
	"testing"

	"messenger/push"
	"messenger/storage"
)

func TestWhoHearsWhat(t *testing.T) {
	const (
		all, mentions, none = storage.NotifyAll, storage.NotifyMentions, storage.NotifyNone
	)
	cases := []struct {
		name string
		f    push.Facts
		want push.Verdict
	}{
		{"defaults notify", push.Facts{}, push.Notify},
		{"own message", push.Facts{Own: true}, push.Own},
		{"joined after it", push.Facts{JoinedLater: true}, push.JoinedLater},
		{"level NONE", push.Facts{Level: none, Mentioned: true}, push.LevelNone},
		{"account default NONE", push.Facts{DefaultLevel: none}, push.LevelNone},
		{"member ALL beats account NONE", push.Facts{Level: all, DefaultLevel: none}, push.Notify},
		{"MENTIONS, not mentioned", push.Facts{Level: mentions}, push.NotMentioned},
		{"MENTIONS, mentioned", push.Facts{Level: mentions, Mentioned: true}, push.Notify},
		{"account MENTIONS, mentioned", push.Facts{DefaultLevel: mentions, Mentioned: true}, push.Notify},
		{"muted", push.Facts{Muted: true}, push.NotMentioned},
		{"muted, mentioned", push.Facts{Muted: true, Mentioned: true}, push.Notify},
		{"muted NONE, mentioned", push.Facts{Muted: true, Level: none, Mentioned: true}, push.LevelNone},
		{"sender blocked", push.Facts{Blocked: true, Mentioned: true}, push.SenderBlock},
		{"connected", push.Facts{Connected: true}, push.Online},
	}
	for _, c := range cases {
		if got := push.Decide(c.f); got != c.want {
			t.Errorf("%s: %s; want %s", c.name, got, c.want)
		}
	}
}
