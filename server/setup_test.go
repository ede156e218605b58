package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/realtime"
	"messenger/realtime/memlog"
	"messenger/server"
	"messenger/storage"
	"messenger/storage/pebble"
)

// apiOptions are what a test changes in the API on embedded backends;
// zero values are the defaults.
type apiOptions struct {
	// store is the chat store. Default: pebble in a temporary folder.
	store storage.Store
	// log is the realtime log. Default: in memory.
	log realtime.Log
	// now is the domain's clock. Default: time.Now.
	now func() time.Time
	// tokenTTL is how long access tokens last. Default: auth's.
	tokenTTL time.Duration
	// chat, when set, adjusts the domain's configuration before it starts
	// (wrapped backends, sweeps).
	chat func(*chat.Config)
}

// embedded is the domain on embedded backends, ready to be served: tests
// that need more than newAPI give it to their own handler (media, an
// observer, limits) with serve.
type embedded struct {
	Store  storage.Store
	Tokens *auth.Tokens
	Chat   *chat.Service
}

// newEmbedded starts the domain; it closes when tb ends, after the server
// (see serve) and before the backends.
func newEmbedded(tb testing.TB, o apiOptions) *embedded {
	tb.Helper()
	if o.store == nil {
		o.store = embeddedStore(tb)
	}
	if o.log == nil {
		mem := memlog.New(memlog.Config{})
		tb.Cleanup(func() { mem.Close() })
		o.log = mem
	}
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("t", 32)), TTL: o.tokenTTL})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := chat.Config{Store: o.store, Log: o.log, Tokens: tokens, Now: o.now, PasswordCost: cheapPasswords}
	if o.chat != nil {
		o.chat(&cfg)
	}
	svc, err := chat.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close) // after the server closes, before the store does
	return &embedded{Store: o.store, Tokens: tokens, Chat: svc}
}

// serve starts the handler of cfg, with the domain's Chat and Tokens (and
// its store as the dataloaders' source unless cfg names one), behind a real HTTP server that stops when tb ends, and returns the
// handler and the server's URL.
func (e *embedded) serve(tb testing.TB, cfg server.Config) (*server.Handler, string) {
	cfg.Chat, cfg.Tokens = e.Chat, e.Tokens
	if cfg.Loaders == nil {
		cfg.Loaders = e.Store
	}
	h := server.New(cfg)
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	tb.Cleanup(h.Shutdown)
	return h, srv.URL
}

// embeddedStore opens a chat store in a temporary folder, closed when tb
// ends.
func embeddedStore(tb testing.TB) *pebble.Store {
	tb.Helper()
	s, err := pebble.Open(pebble.Config{Dir: tb.TempDir(), NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// newAPI starts the whole API on embedded backends behind a real HTTP
// server, with the playground, and returns its URL.
func newAPI(t *testing.T, o apiOptions) string {
	t.Helper()
	_, url := newEmbedded(t, o).serve(t, server.Config{Playground: true})
	return url
}
