package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"messenger/auth"
	"messenger/chat"
	"messenger/realtime/memlog"
	"messenger/server"
	"messenger/storage/pebble"
)

// startInProcess runs the API on embedded backends inside this process,
// wired as cmd/api wires them with no MESSENGER_* set (NoSync on),
// listening on addr (the -url's host and port). It exists for -cpuprofile:
// the API has no profiling endpoint, and a profile of this process shows
// the server's hot paths (the load generator's own share is visible in it
// and easy to exclude: its functions are in package main and in
// gorilla/websocket).
func startInProcess(ctx context.Context, addr, dir string) (string, func(), error) {
	cleanupDir := func() {}
	if dir == "" {
		d, err := os.MkdirTemp("", "loadgen-api-")
		if err != nil {
			return "", nil, err
		}
		dir, cleanupDir = d, func() { os.RemoveAll(d) }
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := pebble.Open(pebble.Config{Dir: filepath.Join(dir, "store"), NoSync: true})
	if err != nil {
		cleanupDir()
		return "", nil, err
	}
	log := memlog.New(memlog.Config{})
	key, err := auth.LoadOrCreateKey(filepath.Join(dir, "jwt.key"))
	if err != nil {
		return "", nil, err
	}
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: key, TTL: 168 * time.Hour})
	if err != nil {
		return "", nil, err
	}
	svc, err := chat.New(chat.Config{Store: store, Log: log, Tokens: tokens, RecallWindow: 24 * time.Hour, Logger: logger})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	baseCtx, cancel := context.WithCancel(context.Background())
	h := server.New(server.Config{Chat: svc, Tokens: tokens, Loaders: store, Logger: logger})
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "in-process API:", err)
		}
	}()
	return "http://" + ln.Addr().String(), func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
		h.Shutdown() // websockets: the HTTP server no longer tracks them
		// Closing sockets end subscriptions, which record presence in the
		// background: let that settle before the service and store close.
		for n, i := runtime.NumGoroutine(), 0; i < 50; i++ {
			time.Sleep(50 * time.Millisecond)
			m := runtime.NumGoroutine()
			if m == n {
				break
			}
			n = m
		}
		svc.Close()
		cancel()
		log.Close()
		store.Close()
		cleanupDir()
	}, nil
}
