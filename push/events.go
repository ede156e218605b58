package push

import (
	"context"

	"messenger/chat"
	"messenger/storage"
)

// Settings is the API's view of a user's notification settings: the
// default level spelled out, the preview as a positive choice.
type Settings struct {
	DefaultLevel storage.NotificationLevel `json:"defaultLevel"`
	ShowPreview  bool                      `json:"showPreview"`
}

// view turns stored settings into what the API shows.
func view(ns storage.NotificationSettings) Settings {
	s := Settings{DefaultLevel: ns.DefaultLevel, ShowPreview: !ns.HidePreview}
	if s.DefaultLevel == "" {
		s.DefaultLevel = storage.NotifyAll
	}
	return s
}

// SettingsChanged is the event telling a user's devices that their
// notification settings changed. It travels through chat's event logs.
type SettingsChanged struct {
	Cursor    string   `json:"-"`
	Ephemeral bool     `json:"-"`
	Settings  Settings `json:"settings"`
}

// EventType implements chat.Event.
func (*SettingsChanged) EventType() string { return "NotificationSettingsChanged" }

// WithCursor implements chat.Event.
func (e SettingsChanged) WithCursor(c string) chat.Event {
	e.Cursor, e.Ephemeral = c, c == ""
	return &e
}

func init() { chat.RegisterEvent(func() chat.Event { return &SettingsChanged{} }) }

// Publisher appends durable events to users' event logs (chat.Service).
type Publisher interface {
	Publish(ctx context.Context, userIDs []string, e chat.Event)
}
