package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"messenger/auth"
	"messenger/fault"
	"messenger/gqlws"
	"messenger/persisted"
)

// verifyTimeout bounds the account lookup of one token check, as
// auth.Tokens.Verify bounds its own: a store that hangs must not hold a
// request or a socket's connection_init longer.
const verifyTimeout = 5 * time.Second

// verify checks a token within ctx (see auth.Tokens.VerifyIdentity).
func verify(ctx context.Context, tokens *auth.Tokens, token string) (auth.Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	return tokens.VerifyIdentity(ctx, token)
}

// accountsDownKey marks a websocket upgrade whose Authorization header
// could not be checked because accounts could not be looked up.
type accountsDownKey struct{}

// accountsDown refuses a connection_init whose token could not be checked
// because accounts could not be looked up: 1013 tells the client to
// reconnect later with the same token (graphql-ws does so by itself),
// where 4403 would tell it to drop the token.
var accountsDown = &gqlws.CloseError{Code: gqlws.CloseTryAgainLater, Reason: "accounts unavailable: reconnect shortly with the same token"}

// withAuth puts the bearer token's identity in the request context. A
// missing or invalid token leaves the request anonymous: signUp and logIn
// work, everything else answers UNAUTHENTICATED. A token whose account
// cannot be looked up now (the store is down) is refused with 503 and
// UNAVAILABLE, worded by the error presenter, so the client retries with
// the same token; a websocket upgrade goes on, and wsInit refuses it.
func withAuth(tokens *auth.Tokens, present graphql.ErrorPresenterFunc, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(auth.WithClientIP(r.Context(), clientIP(r.Context())))
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		id, err := verify(r.Context(), tokens, h)
		switch {
		case err == nil:
			r = r.WithContext(auth.WithIdentity(r.Context(), id))
		case errors.Is(err, auth.ErrAccountsUnavailable) && r.Header.Get("Upgrade") != "":
			r = r.WithContext(context.WithValue(r.Context(), accountsDownKey{}, true))
		case errors.Is(err, auth.ErrAccountsUnavailable):
			media, ok := negotiate(r.Header.Get("Accept"))
			if !ok {
				media = mediaJSON
			}
			writeResponse(w, media, http.StatusServiceUnavailable, &graphql.Response{Errors: gqlerror.List{present(r.Context(), err)}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withPartner marks requests carrying a partner's X-Api-Key; an unknown
// key is refused with 401. A websocket may instead send apiKey in its
// connection_init payload.
func withPartner(keys map[string]string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := r.Header.Get("X-Api-Key"); k != "" {
			name, ok := keys[k]
			if !ok {
				writeRefusal(w, mediaJSON, http.StatusUnauthorized, string(fault.Unauthenticated), "unknown API key")
				return
			}
			r = r.WithContext(persisted.WithPartner(r.Context(), name))
		}
		next.ServeHTTP(w, r)
	})
}

// wsInit authenticates a websocket from its connection_init payload: a
// token ("Authorization" or "authorization", with or without "Bearer ")
// and optionally a partner's "apiKey", or else the upgrade request's
// Authorization header. A refused token or key, or none at all, closes
// the socket with 4403; the socket closes with 4403 when the token
// expires, or when its session ends (see sessionSockets). A token whose account cannot be looked up now closes it with
// 1013 (try again later).
func wsInit(cfg Config) gqlws.InitFunc {
	return func(ctx context.Context, p map[string]any) (context.Context, time.Time, error) {
		if k, _ := p["apiKey"].(string); k != "" {
			name, ok := cfg.PartnerKeys[k]
			if !ok {
				return nil, time.Time{}, &fault.Error{Code: fault.Forbidden, Message: "unknown API key"}
			}
			ctx = persisted.WithPartner(ctx, name)
		}
		tok, _ := p["Authorization"].(string)
		if tok == "" {
			tok, _ = p["authorization"].(string)
		}
		if tok == "" {
			tok, _ = p["token"].(string)
		}
		tok = strings.TrimSpace(tok)
		if tok == "" {
			if id, ok := auth.FromContext(ctx); ok {
				return ctx, id.Expires, nil // authenticated by the upgrade request's header
			}
			if down, _ := ctx.Value(accountsDownKey{}).(bool); down {
				return nil, time.Time{}, accountsDown // the upgrade's header could not be checked
			}
			return ctx, time.Time{}, &fault.Error{Code: fault.Unauthenticated, Message: "connection_init needs a token"}
		}
		id, err := verify(ctx, cfg.Tokens, tok)
		if errors.Is(err, auth.ErrAccountsUnavailable) {
			return nil, time.Time{}, accountsDown
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		return auth.WithIdentity(ctx, id), id.Expires, nil
	}
}
