package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/realtime"
	"messenger/server"
	"messenger/storage"
	"messenger/storage/pebble"
)

type apiOptions struct {
	store storage.Store
	now   func() time.Time
}

// newAPI starts the whole API on embedded backends behind a real HTTP server.
func newAPI(t *testing.T, o apiOptions) string {
	t.Helper()
	if o.store == nil {
		s, err := pebble.Open(pebble.Config{Dir: t.TempDir(), NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		o.store = s
	}
	log := realtime.NewMemory(realtime.MemoryConfig{})
	t.Cleanup(func() { log.Close() })
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("t", 32))})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := chat.New(chat.Config{Store: o.store, Log: log, Tokens: tokens, Now: o.now, PasswordCost: cheapPasswords})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close) // after the server closes, before the store does
	srv := httptest.NewServer(server.New(server.Config{Chat: svc, Tokens: tokens, Playground: true}))
	t.Cleanup(srv.Close)
	return srv.URL
}
