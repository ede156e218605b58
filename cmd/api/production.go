package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"messenger/persisted"
	"messenger/persisted/memcache"
	"messenger/persisted/rediscache"
	"messenger/ratelimit"
	"messenger/ratelimit/redislimit"
	"messenger/server"
)

// loadProductionConfig reads the limits, partner and websocket settings.
func loadProductionConfig(c *config, get func(string) string) error {
	var err error
	c.AllowedOrigins = list(get("MESSENGER_ALLOWED_ORIGINS"))
	c.TrustedDocuments = get("MESSENGER_TRUSTED_DOCUMENTS")
	c.ClientIPHeader = get("MESSENGER_CLIENT_IP_HEADER")
	c.PartnerKeys = map[string]string{}
	for _, p := range list(get("MESSENGER_PARTNER_KEYS")) {
		name, key, ok := strings.Cut(p, ":")
		if !ok || name == "" || len(key) < 16 {
			return fmt.Errorf("MESSENGER_PARTNER_KEYS: want name:key with keys of 16+ characters, got %q", name)
		}
		c.PartnerKeys[key] = name
	}
	if c.RateLimits, err = strconv.ParseBool(get("MESSENGER_RATE_LIMITS")); err != nil {
		return fmt.Errorf("MESSENGER_RATE_LIMITS: %w", err)
	}
	for k, r := range map[string]*ratelimit.Rule{"MESSENGER_RATE_SEND": &c.RateSend, "MESSENGER_RATE_EDIT": &c.RateEdit, "MESSENGER_RATE_REACT": &c.RateReact,
		"MESSENGER_RATE_TYPING": &c.RateTyping, "MESSENGER_RATE_AUTH": &c.RateAuth, "MESSENGER_RATE_EXPENSIVE": &c.RateExpensive} {
		rate, burst, ok := strings.Cut(get(k), ",")
		r.Rate, err = strconv.ParseFloat(strings.TrimSpace(rate), 64)
		if err == nil {
			r.Burst, err = strconv.Atoi(strings.TrimSpace(burst))
		}
		if !ok || err != nil || r.Rate <= 0 || r.Burst < 1 {
			return fmt.Errorf("%s: want rate,burst (e.g. 20,40), got %q", k, get(k))
		}
	}
	for k, n := range map[string]*int{"MESSENGER_MAX_DEPTH": &c.MaxDepth, "MESSENGER_MAX_COMPLEXITY": &c.MaxComplexity, "MESSENGER_WS_MAX_OPERATIONS": &c.WSMaxOperations,
		"MESSENGER_MAX_BATCH": &c.MaxBatch} {
		if *n, err = strconv.Atoi(get(k)); err != nil || *n < 1 {
			return fmt.Errorf("%s: want a positive number, got %q", k, get(k))
		}
	}
	for k, d := range map[string]*time.Duration{"MESSENGER_REQUEST_TIMEOUT": &c.RequestTimeout, "MESSENGER_WS_PING_INTERVAL": &c.WSPingInterval, "MESSENGER_WS_INIT_TIMEOUT": &c.WSInitTimeout} {
		if *d, err = time.ParseDuration(get(k)); err != nil || *d <= 0 {
			return fmt.Errorf("%s: want a duration, got %q", k, get(k))
		}
	}
	return nil
}

// production fills the handler's production settings: limits, partners,
// the APQ cache and rate limits (in Redis when Redis is configured, so
// every instance shares them), websocket timings. It returns a close func
// for the Redis client it opened.
func production(ctx context.Context, cfg config, sc *server.Config) (func() error, error) {
	sc.Production = cfg.Env == "production"
	sc.AllowedOrigins = cfg.AllowedOrigins
	sc.PartnerKeys = cfg.PartnerKeys
	sc.ClientIPHeader = cfg.ClientIPHeader
	sc.Limits = server.Limits{MaxDepth: cfg.MaxDepth, MaxComplexity: cfg.MaxComplexity, MaxBatch: cfg.MaxBatch, Timeout: cfg.RequestTimeout}
	if cfg.RateLimits {
		sc.Limits.Send, sc.Limits.Auth, sc.Limits.Expensive, sc.Limits.ExpensiveCost = cfg.RateSend, cfg.RateAuth, cfg.RateExpensive, 1000
		sc.Limits.Edit, sc.Limits.React, sc.Limits.Typing = cfg.RateEdit, cfg.RateReact, cfg.RateTyping
	}
	sc.HideMetrics = !cfg.MetricsPublic
	sc.APQMaxDocumentBytes = cfg.APQMaxDocument
	sc.APQCache = memcache.New(memcache.Config[string]{MaxBytes: cfg.APQCacheBytes})
	sc.WebSocket.PingInterval, sc.WebSocket.InitTimeout, sc.WebSocket.MaxOperations = cfg.WSPingInterval, cfg.WSInitTimeout, cfg.WSMaxOperations
	sc.WebSocket.DisableCompression = !cfg.WSCompression
	if cfg.TrustedDocuments != "" {
		m, err := persisted.LoadManifest(cfg.TrustedDocuments)
		if err != nil {
			return nil, err
		}
		sc.Trusted = m
	}
	if len(cfg.RedisAddrs) == 0 {
		return func() error { return nil }, nil
	}
	// APQ documents and rate-limit buckets live on the first address (or
	// the whole cluster); event streams shard over every address.
	var rdb redis.UniversalClient
	if cfg.RedisCluster {
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.RedisAddrs})
	} else {
		rdb = redis.NewClient(&redis.Options{Addr: cfg.RedisAddrs[0]})
	}
	if sc.Observer != nil {
		rdb.AddHook(sc.Observer.RedisHook()) // command latency and errors on /metrics
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis %v (APQ cache, rate limits): %w", cfg.RedisAddrs, err)
	}
	sc.APQCache = &rediscache.Cache{Client: rdb, Logger: sc.Logger, MaxBytes: cfg.APQCacheBytes}
	sc.Limits.Limiter = &redislimit.Redis{Client: rdb}
	ready := sc.Ready
	sc.Ready = func(ctx context.Context) error {
		if ready != nil {
			if err := ready(ctx); err != nil {
				return err
			}
		}
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		return nil
	}
	return rdb.Close, nil
}
