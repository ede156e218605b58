// Package server assembles the HTTP API: GraphQL over HTTP (POST and GET)
// and over websockets (graphql-transport-ws) on /graphql, the playground,
// and health endpoints.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"messenger/auth"
	"messenger/chat"
	"messenger/graph"
	"messenger/loaders"
	"messenger/resolvers"
	"messenger/web/playground"
)

// Config configures the handler. Zero values are the documented defaults.
type Config struct {
	// Chat is the domain. Required.
	Chat *chat.Service
	// Tokens verifies bearer tokens. Required.
	Tokens *auth.Tokens
	// Logger receives request errors (default slog.Default()).
	Logger *slog.Logger
	// Playground serves /playground when true.
	Playground bool
	// Ready reports whether dependencies are reachable (default: always ready).
	Ready func(ctx context.Context) error
	// MaxBodyBytes caps a request body (default 1 MiB).
	MaxBodyBytes int64
	// ComplexityLimit caps a query's complexity (default 5,000).
	ComplexityLimit int
}

// New returns the API's HTTP handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.ComplexityLimit <= 0 {
		cfg.ComplexityLimit = 5000
	}
	gql := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &resolvers.Resolver{Chat: cfg.Chat}}))
	gql.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      20 * time.Second,
		InitFunc:              wsInit(cfg),
	})
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.Use(extension.Introspection{})
	gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	gql.Use(extension.FixedComplexityLimit(cfg.ComplexityLimit))
	gql.SetErrorPresenter(presenter(cfg.Logger))
	gql.SetRecoverFunc(recoverer(cfg.Logger))
	gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// Queries batch their loads (a page of 50 conversations, one store
		// call per kind). A mutation or a subscription event loads one object
		// at a time: they fetch at once, since a batching timer would only
		// add latency. A subscription lives for hours, so it does not cache
		// either: every event shows current names.
		if op := graphql.GetOperationContext(ctx); op.Operation != nil {
			switch op.Operation.Operation {
			case ast.Subscription:
				ctx = loaders.With(ctx, loaders.New(cfg.Chat.Store(), loaders.Options{NoCache: true, Immediate: true}))
			case ast.Mutation:
				ctx = loaders.With(ctx, loaders.New(cfg.Chat.Store(), loaders.Options{Immediate: true}))
			}
		}
		return next(ctx)
	})

	mux := http.NewServeMux()
	api := loaders.Middleware(cfg.Chat.Store(), withAuth(cfg.Tokens, gql))
	mux.Handle("/graphql", limitBody(cfg.MaxBodyBytes, api))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.Ready != nil {
			if err := cfg.Ready(r.Context()); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if cfg.Playground {
		mux.Handle("/playground", playground.Handler())
		mux.Handle("/playground/", playground.Handler())
		mux.Handle("/{$}", http.RedirectHandler("/playground", http.StatusFound))
	}
	return mux
}

func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			http.Error(w, `{"errors":[{"message":"request body too large","extensions":{"code":"BAD_USER_INPUT"}}]}`, http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// withAuth puts the bearer token's identity in the request context. A
// missing or invalid token leaves the request anonymous: signUp and logIn
// work, everything else answers UNAUTHENTICATED.
func withAuth(tokens *auth.Tokens, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" {
			if id, exp, err := tokens.Verify(h); err == nil {
				r = r.WithContext(auth.WithIdentity(r.Context(), auth.Identity{UserID: id, Expires: exp}))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// wsInit authenticates a websocket from its connection_init payload
// ("Authorization" or "authorization", with or without "Bearer "). A refused
// token closes the socket with 4403. The connection's context ends when the
// token expires, which closes the socket.
func wsInit(cfg Config) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		tok := p.Authorization()
		if tok == "" {
			tok, _ = p["authorization"].(string)
		}
		if tok == "" {
			tok, _ = p["token"].(string)
		}
		id, exp, err := cfg.Tokens.Verify(strings.TrimSpace(tok))
		if err != nil {
			return transport.WithWebsocketCloseCode(ctx, 4403), nil, &chat.Error{Code: chat.Forbidden, Message: "Forbidden"}
		}
		ctx = auth.WithIdentity(ctx, auth.Identity{UserID: id, Expires: exp})
		ctx, cancel := context.WithDeadline(ctx, exp)
		_ = cancel // released when the deadline passes or the connection ends
		ctx = resolvers.WithStreamEnd(ctx, func(err error) {
			cfg.Logger.Info("closing websocket: event stream ended", "user", id, "reason", err)
			cancel()
		})
		return ctx, nil, nil
	}
}
