// Package server assembles the HTTP API: GraphQL over HTTP (POST and GET)
// and over websockets (graphql-transport-ws) on /graphql, the playground,
// health endpoints and /metrics.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"

	"messenger/auth"
	"messenger/chat"
	"messenger/gqlws"
	"messenger/graph"
	"messenger/lifecycle"
	"messenger/loaders"
	"messenger/observe"
	"messenger/persisted"
	"messenger/persisted/memcache"
	"messenger/push"
	"messenger/ratelimit"
	"messenger/resolvers"
	"messenger/web/playground"
)

// Config configures the handler. Zero values are the documented defaults.
type Config struct {
	// Chat is the domain. Required.
	Chat *chat.Service
	// Notifications registers push devices and keeps notification
	// settings (nil: those operations answer UNAVAILABLE).
	Notifications *push.Service
	// Lifecycle deletes accounts and exports data (nil: deleteAccount,
	// requestDataExport and dataExport answer UNAVAILABLE).
	Lifecycle *lifecycle.Service
	// Loaders is what the dataloaders read: the store's batch lookups (the
	// opened store, wrapped by the Observer to time them). Required.
	Loaders loaders.Source
	// Tokens verifies bearer tokens. Required.
	Tokens *auth.Tokens
	// Logger receives request errors (default slog.Default()).
	Logger *slog.Logger
	// Playground serves /playground when true.
	Playground bool
	// Production turns introspection and field suggestions off.
	Production bool
	// Ready reports whether dependencies are reachable (default: always ready).
	Ready func(ctx context.Context) error
	// Degraded lists what works in a reduced way while the server is ready,
	// one line each (e.g. "search: rebuilding ..."): /readyz answers 200
	// with them after "ready" (default: nothing).
	Degraded func() []string
	// MaxBodyBytes caps a request body (default 1 MiB).
	MaxBodyBytes int64
	// ComplexityLimit caps a query's complexity (default Limits.MaxComplexity).
	ComplexityLimit int
	// Limits bound operations: depth, complexity, aliases, tokens, timeout
	// and rate limits (rate limits are off unless their rules are set).
	Limits Limits
	// AllowedOrigins are the browser origins (besides the API's own host)
	// that may open websockets and call /graphql over HTTP (CORS); "*"
	// allows any. Unless Production, http://localhost, http://127.0.0.1 and
	// http://[::1] on any port are allowed too. Requests without Origin
	// (non-browser clients) are always allowed.
	AllowedOrigins []string
	// WebSocket tunes the websocket transport (its zero values are gqlws's
	// defaults; Init and OnStreamEnd are set here).
	WebSocket gqlws.Config
	// APQCache stores automatic persisted queries (default: in memory,
	// 16 MiB).
	APQCache graphql.Cache[string]
	// APQMaxDocumentBytes caps a document APQ registers (default 64 KiB).
	APQMaxDocumentBytes int
	// QueryCacheBytes bounds the cache of parsed documents (default 32 MiB).
	QueryCacheBytes int64
	// Trusted is the manifest of trusted documents partners may run.
	Trusted *persisted.Manifest
	// PartnerKeys maps partner API keys (X-Api-Key, or apiKey in
	// connection_init) to partner names.
	PartnerKeys map[string]string
	// ClientIPHeader names a header set by a trusted proxy with the client's
	// IP (e.g. X-Real-IP); default: the connection's address.
	ClientIPHeader string
	// Uploads enables attachments and stories (see uploads.go).
	Uploads Uploads
	// Observer holds the metrics served on /metrics; pass the one that
	// wrapped the backends (default: a new one, seeing only GraphQL and
	// websockets).
	Observer *observe.Observer
	// HideMetrics takes /metrics off this handler (default: served); serve
	// Observer.MetricsHandler on a private listener instead.
	HideMetrics bool
}

// Handler is the API's HTTP handler.
type Handler struct {
	http.Handler
	ws *gqlws.Transport
	// sockets closes the websockets of sessions that end.
	sockets *sessionSockets
}

// Shutdown closes every websocket with 1001 (going away); clients
// reconnect elsewhere and resume from their cursors.
func (h *Handler) Shutdown() {
	h.sockets.watch()
	h.ws.Shutdown()
}

// New returns the API's HTTP handler. It panics when a required field of
// cfg is missing: a wiring mistake, found at start-up.
func New(cfg Config) *Handler {
	if cfg.Chat == nil || cfg.Tokens == nil || cfg.Loaders == nil {
		panic("server: Config.Chat, Config.Tokens and Config.Loaders are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Limits.MaxComplexity <= 0 {
		cfg.Limits.MaxComplexity = cfg.ComplexityLimit
	}
	rates := cfg.Limits.anyRate()
	cfg.Limits.defaults()
	if !rates {
		cfg.Limits.Limiter = unlimited{}
	}
	if cfg.APQCache == nil {
		cfg.APQCache = memcache.New(memcache.Config[string]{})
	}
	if cfg.QueryCacheBytes <= 0 {
		cfg.QueryCacheBytes = 32 << 20
	}

	root := &resolvers.Resolver{Chat: cfg.Chat, Media: cfg.Uploads.Media, Lifecycle: cfg.Lifecycle, Notifications: cfg.Notifications}
	gql := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: root}))
	wsCfg := cfg.WebSocket
	wsCfg.Init = wsInit(cfg)
	wsCfg.OnStreamEnd = streamEnd(cfg.Logger)
	sockets := newSessionSockets()
	wsCfg.OnAck = sockets.onAck
	if wsCfg.Logger == nil {
		wsCfg.Logger = cfg.Logger
	}
	allowed := newOrigins(cfg.AllowedOrigins, !cfg.Production)
	if wsCfg.CheckOrigin == nil {
		wsCfg.CheckOrigin = allowed.allows
	}
	obs := cfg.Observer
	if obs == nil {
		obs = observe.New()
	}
	m := obs.GraphQL(observe.GraphQLConfig{RequestID: requestID, ErrorCode: errorCode})
	wsCfg.OnReuse = m.Reused
	ws := gqlws.New(wsCfg)
	sockets.watch = cfg.Chat.WatchEndedSessions(sockets.ended)
	root.Push = ws // subscriptions push their events to the socket
	obs.WatchWebsockets(ws)
	store := cfg.Loaders
	gql.AddTransport(ws)
	gql.AddTransport(httpTransport{multipart: cfg.Uploads.transport(), maxJSON: cfg.MaxBodyBytes, maxBatch: cfg.Limits.MaxBatch, timeout: cfg.Limits.Timeout})
	gql.SetQueryCache(newQueryCache(cfg.QueryCacheBytes))
	gql.SetParserTokenLimit(cfg.Limits.MaxTokens)
	gql.SetDisableSuggestion(cfg.Production)
	gql.Use(m.Tracer()) // first: its span covers the other extensions
	gql.Use(guard{limits: cfg.Limits, introspection: !cfg.Production, onLimiterErr: func(err error) {
		cfg.Logger.Warn("rate limiter unavailable: letting the request through", "err", err)
	}})
	// After the guard: a document is registered for APQ only once it has
	// parsed, validated and passed the limits.
	gql.Use(persisted.Extension{Cache: cfg.APQCache, Trusted: cfg.Trusted, MaxDocumentBytes: cfg.APQMaxDocumentBytes})
	gql.SetErrorPresenter(presenter(cfg.Logger))
	gql.SetRecoverFunc(recoverer(cfg.Logger))
	gql.AroundResponses(m.Responses)
	gql.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		// A subscription lives for hours: each event gets fresh loaders (so
		// it shows current names) that fetch at once (a batching timer
		// would only add latency), made only if the event resolves a
		// related object, so an idle subscription holds none.
		if rc := graphql.GetOperationContext(ctx); rc != nil && rc.Operation != nil && rc.Operation.Operation == ast.Subscription {
			ctx = loaders.Lazy(ctx, store, loaders.Options{Immediate: true})
		}
		return next(ctx)
	})
	gql.AroundFields(m.Fields)
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// Queries batch their loads (a page of 50 conversations, one store
		// call per kind). A mutation loads one object at a time: it fetches
		// at once, since a batching timer would only add latency.
		// Every operation gets its own loaders, also on a websocket, where
		// one socket runs many operations over hours.
		op := graphql.GetOperationContext(ctx).Operation
		switch op.Operation {
		case ast.Subscription:
			return next(ctx) // loaders come per event (below)
		case ast.Mutation:
			ctx = loaders.Lazy(ctx, store, loaders.Options{Immediate: true})
		default:
			ctx = loaders.With(ctx, loaders.New(store, loaders.Options{}))
		}
		// A query or mutation has Limits.Timeout; a subscription lives on.
		ctx, cancel := context.WithTimeout(ctx, cfg.Limits.Timeout)
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			defer cancel()
			return h(ctx)
		}
	})

	mux := http.NewServeMux()
	api := withAuth(cfg.Tokens, presenter(cfg.Logger), withPartner(cfg.PartnerKeys, gql))
	mux.Handle("/graphql", withCORS(allowed, cfg.Uploads.wrap(limitBody(cfg.MaxBodyBytes, api), api)))
	cfg.Uploads.mount(mux)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := cfg.Ready(ctx); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
		if cfg.Degraded != nil {
			for _, line := range cfg.Degraded() {
				_, _ = w.Write([]byte(line + "\n"))
			}
		}
	})
	if !cfg.HideMetrics {
		mux.Handle("/metrics", obs.MetricsHandler())
	}
	if cfg.Playground {
		pg := playground.Handler() // one: each holds the bundle's index
		mux.Handle("/playground", pg)
		mux.Handle("/playground/", pg)
		mux.Handle("/{$}", http.RedirectHandler("/playground", http.StatusFound))
	}
	return &Handler{Handler: withRequestInfo(cfg.ClientIPHeader, mux), ws: ws, sockets: sockets}
}

func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			writeRefusal(w, mediaJSON, http.StatusRequestEntityTooLarge, codeBadRequest, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// unlimited is the limiter when no rate rule is configured.
type unlimited struct{}

func (unlimited) AllowN(context.Context, string, ratelimit.Rule, int) (bool, time.Duration, error) {
	return true, 0, nil
}
