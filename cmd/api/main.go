// Command api runs the messenger's GraphQL API. With no configuration it
// runs entirely embedded (data under ./data); MESSENGER_* variables switch
// each concern to its server (see the README's configuration table).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/auth"
	"messenger/chat"
	"messenger/observe"
	"messenger/realtime"
	"messenger/realtime/memlog"
	"messenger/server"
	"messenger/storage"
	"messenger/storage/pebble"
	"messenger/tracing"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	cmd := run
	if len(os.Args) > 1 && os.Args[1] == "reindex" {
		cmd, os.Args = runReindex, os.Args[1:]
	}
	if len(os.Args) > 1 && os.Args[1] == "manifest" {
		cmd, os.Args = runManifest, os.Args[1:]
	}
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		cmd, os.Args = runMigrate, os.Args[1:]
	}
	if len(os.Args) > 1 && os.Args[1] == "admin" {
		cmd, os.Args = runAdmin, os.Args[1:]
	}
	if len(os.Args) > 1 && os.Args[1] == "search-index" {
		cmd, os.Args = runSearchIndex, os.Args[1:]
	}
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		cmd, os.Args = runHealthcheck, os.Args[1:]
	}
	if err := cmd(os.Args[1:], logger); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(args []string, logger *slog.Logger) error {
	cfg, err := loadConfig(args)
	if err != nil {
		return err
	}
	gcTarget := tuneGC()
	memLimit, err := tuneMemoryLimit(os.LookupEnv)
	if err != nil {
		return err
	}
	logger.Info("garbage collector", "gcPercent", gcTarget, "memoryLimitMiB", memLimit>>20)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	startMemoryReturn(ctx)
	stopTracing, err := tracing.Start(ctx, tracing.Config{Endpoint: cfg.OTLPEndpoint, Logger: logger})
	if err != nil {
		return err
	}
	defer func() { // last: flush the spans of everything before, shutdown included
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(ctx); err != nil {
			logger.Error("flushing traces", "err", err)
		}
	}()
	obs := observe.New() // wraps each backend: /metrics times their calls
	if !cfg.Migrate {
		if err := requireMigrated(ctx, cfg); err != nil {
			return err
		}
	}

	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			logger.Error("closing store", "err", err)
		}
	}()
	log, err := openLog(ctx, cfg, obs.RedisHook())
	if err != nil {
		return err
	}
	defer func() { _ = log.Close() }()
	log = obs.Log(log)
	tracker, err := openPresence(ctx, cfg, obs.RedisHook())
	if err != nil {
		return err
	}
	defer func() { _ = tracker.Close() }()
	tracker = obs.Presence(tracker)

	index, err := openServingSearch(ctx, cfg, memLimit, logger)
	if err != nil {
		return err
	}
	defer func() { _ = index.Close() }()
	index = obs.Index(index)
	indexer, stopIndexer, err := startIndexer(ctx, index, store, cfg.SearchFlush, logger)
	if err != nil {
		return err
	}
	defer stopIndexer() // before the store closes

	key := []byte(cfg.JWTSecret)
	if len(key) == 0 {
		if key, err = auth.LoadOrCreateKey(filepath.Join(cfg.DataDir, "jwt.key")); err != nil {
			return err
		}
	}
	tokens, err := auth.NewTokens(auth.TokensConfig{Key: key, TTL: cfg.TokenTTL, RefreshTTL: cfg.RefreshTokenTTL})
	if err != nil {
		return err
	}
	revocations, err := openRevocations(ctx, cfg, obs.RedisHook())
	if err != nil {
		return err
	}
	defer func() { _ = revocations.Close() }() // after svc.Close below
	turns, closeTurns, err := openTurns(ctx, cfg, obs.RedisHook())
	if err != nil {
		return err
	}
	defer closeTurns() // after svc.Close below
	ports := &chatPorts{}
	notifications, closePush, err := openPush(ctx, cfg, store, ports, obs.Registerer(), logger)
	if err != nil {
		return err
	}
	defer closePush() // after svc.Close below: its last recalls are queued
	svc, err := chat.New(chat.Config{Store: store, Log: log, Tokens: tokens, RecallWindow: cfg.RecallWindow, MaxGroupMembers: cfg.MaxGroupMembers, Logger: logger,
		Indexer: indexer, Search: index, Presence: tracker, FanOutGrace: cfg.FanOutGrace, FanOutSweep: cfg.FanOutSweep, Turns: turns, LargeGroupThreshold: cfg.LargeGroupThreshold,
		Hashes: auth.NewHashGate(auth.HashGateConfig{Max: cfg.MaxHashes}), Revocations: revocations,
		Notifier: notifications, SessionEndListener: notifications})
	if err != nil {
		return err
	}
	ports.Service = svc
	notifications.Start()

	closePreviews, err := openLinkPreviews(ctx, cfg, svc, store, key, logger)
	if err != nil {
		return err
	}
	defer closePreviews() // before the store closes
	uploads, closeUploads, err := openUploads(ctx, cfg, svc, store, key, obs)
	if err != nil {
		return err
	}
	defer func() { _ = closeUploads() }()
	life, err := openLifecycle(ctx, cfg, svc, store, uploads.Media, notifications, key, logger)
	if err != nil {
		return err
	}
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); life.Run(jobsCtx) }() // resumes the jobs a previous process left
	defer func() { stopJobs(); <-jobsDone }()                // before the store closes
	stopCold, err := startColdTier(ctx, cfg, store, logger)
	if err != nil {
		return err
	}
	defer stopCold() // before the store closes

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	if cfg.DebugAddr != "" {
		closeDebug, err := serveDebug(cfg.DebugAddr, obs.MetricsHandler(), logger)
		if err != nil {
			return err
		}
		defer func() { _ = closeDebug() }()
	}
	sc := server.Config{Chat: svc, Lifecycle: life, Notifications: notifications, Tokens: tokens, Loaders: obs.Loaders(store), Logger: logger, Playground: cfg.Playground, Uploads: uploads, Observer: obs}
	sc.Degraded = searchDegraded(indexer)
	closeRedis, err := production(ctx, cfg, &sc)
	if err != nil {
		return err
	}
	defer func() { _ = closeRedis() }()
	handler := server.New(sc)
	baseCtx, cancelConns := context.WithCancel(context.Background())
	srv := server.Timeouts{}.HTTPServer(handler) // slow or idle clients cannot hold sockets; websockets are exempt
	srv.BaseContext = func(net.Listener) context.Context { return baseCtx }
	if !sc.Production {
		logger.Info("development mode: pages on http://localhost:*, http://127.0.0.1:* and http://[::1]:* may call the API (CORS and websockets); MESSENGER_ENV=production turns that off")
	}
	switch {
	case !cfg.MetricsPublic && cfg.DebugAddr == "":
		logger.Warn("/metrics is served nowhere: set MESSENGER_DEBUG_ADDR to serve it on a private listener (or MESSENGER_METRICS_PUBLIC=true)")
	case !cfg.MetricsPublic:
		logger.Info("/metrics is on the debug listener only", "debug_addr", cfg.DebugAddr)
	}
	url := "http://" + displayAddr(ln.Addr())
	fmt.Printf("messenger API listening on %s\n", ln.Addr())
	fmt.Printf("GraphQL endpoint: %s/graphql\n", url)
	if cfg.Playground {
		fmt.Printf("playground: %s/playground\n", url)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		cancelConns()
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx) // stops accepting, waits for HTTP requests
	handler.Shutdown()              // websockets close with 1001: clients reconnect elsewhere and resume
	cancelConns()
	svc.Close() // subscriptions have ended: wait for their last presence updates, then the store closes
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// displayAddr turns ":8080" into "localhost:8080" for the printed URLs.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func openStore(ctx context.Context, cfg config) (storage.Store, error) {
	if len(cfg.CassandraHosts) > 0 {
		return openCassandra(ctx, cfg)
	}
	return pebble.Open(pebble.Config{Dir: filepath.Join(cfg.DataDir, "store"), NoSync: cfg.NoSync})
}

func openLog(ctx context.Context, cfg config, hooks ...redis.Hook) (realtime.Log, error) {
	if len(cfg.RedisAddrs) > 0 {
		return openRedis(ctx, cfg, hooks...)
	}
	return memlog.New(memlog.Config{MaxEvents: cfg.EventsMaxLen, MaxAge: cfg.EventsMaxAge}), nil
}
