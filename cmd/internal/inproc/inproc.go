// Package inproc opens the API's embedded backends and domain inside a
// measuring tool's own process (cmd/wsmem, cmd/hashmem): a Pebble store in
// a temporary directory (no fsync), the in-process event log, a token
// issuer and the chat service, closed in the order that lets background
// work finish.
package inproc

import (
	"log/slog"
	"os"
	"strings"

	"messenger/auth"
	"messenger/chat"
	"messenger/realtime/memlog"
	"messenger/storage/pebble"
)

// Config configures Open. Zero values are the defaults.
type Config struct {
	// Name prefixes the temporary directory (default "inproc").
	Name string
	// Hashes bounds password hashing (default: chat's process-wide gate).
	Hashes *auth.HashGate
}

// API is the domain on embedded backends.
type API struct {
	Store  *pebble.Store
	Tokens *auth.Tokens
	Chat   *chat.Service
	// Logger shows errors only, so a tool's own output stays readable.
	Logger *slog.Logger
}

// Open starts the domain on fresh embedded backends; close stops the
// service before the log and the store (closing sockets still record
// presence in the background) and removes the directory.
func Open(cfg Config) (api *API, close func(), err error) {
	if cfg.Name == "" {
		cfg.Name = "inproc"
	}
	dir, err := os.MkdirTemp("", cfg.Name)
	if err != nil {
		return nil, nil, err
	}
	store, err := pebble.Open(pebble.Config{Dir: dir, NoSync: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	log := memlog.New(memlog.Config{})
	closeAll := func() {
		_ = log.Close()
		_ = store.Close()
		_ = os.RemoveAll(dir)
	}
	// A fixed key: the tools' tokens never leave the process.
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: []byte(strings.Repeat("k", 32))})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	svc, err := chat.New(chat.Config{Store: store, Log: log, Tokens: tokens, Logger: quiet, Hashes: cfg.Hashes})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return &API{Store: store, Tokens: tokens, Chat: svc, Logger: quiet}, func() {
		svc.Close()
		closeAll()
	}, nil
}
