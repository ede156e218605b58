package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"messenger/apitest"
	"messenger/gqlws"
	"messenger/server"
	"messenger/storage"
)

// accountsDownStore is a chat store whose user lookups fail while err is
// set: the account behind a token cannot be looked up.
type accountsDownStore struct {
	storage.Store
	err atomic.Pointer[error]
}

func (s *accountsDownStore) Users(ctx context.Context, ids []string) (map[string]storage.User, error) {
	if err := s.err.Load(); err != nil {
		return nil, *err
	}
	return s.Store.Users(ctx, ids)
}

// While accounts cannot be looked up, a token that is not known to be good
// is answered "retry" (UNAVAILABLE over HTTP, 1013 on a websocket), never
// "your token is bad" (UNAUTHENTICATED, 4403): the client keeps its token.
// Once the store is back the same token works.
func TestTokensAreToldToRetryWhileAccountsCannotBeLookedUp(t *testing.T) {
	outages := []struct {
		name string
		err  error
	}{
		{"store unavailable", fmt.Errorf("cassandra: read users: %w", storage.ErrUnavailable)},
		{"store fails otherwise", errors.New("read users: connection reset by peer")},
	}
	const me = `{ me { id } }`
	transports := []struct {
		name string
		// refused asserts the answer while accounts are down; served the
		// answer once they are back.
		refused, served func(t *testing.T, api, token string)
	}{
		{"POST", func(t *testing.T, api, token string) {
			expectRetry(t, do(t, http.MethodPost, api+"/graphql", jsonBody(t, map[string]any{"query": me}),
				map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}))
		}, func(t *testing.T, api, token string) {
			expectServed(t, do(t, http.MethodPost, api+"/graphql", jsonBody(t, map[string]any{"query": me}),
				map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}))
		}},
		{"GET", func(t *testing.T, api, token string) {
			expectRetry(t, do(t, http.MethodGet, api+"/graphql?query="+url.QueryEscape(me), nil,
				map[string]string{"Accept": "application/graphql-response+json", "Authorization": "Bearer " + token}))
		}, func(t *testing.T, api, token string) {
			expectServed(t, do(t, http.MethodGet, api+"/graphql?query="+url.QueryEscape(me), nil,
				map[string]string{"Accept": "application/graphql-response+json", "Authorization": "Bearer " + token}))
		}},
		{"websocket, token in connection_init", func(t *testing.T, api, token string) {
			s := dialRaw(t, api, nil)
			s.send(`{"type":"connection_init","payload":{"Authorization":"Bearer ` + token + `"}}`)
			expectClose(t, s, gqlws.CloseTryAgainLater, "accounts unavailable")
		}, func(t *testing.T, api, token string) {
			acked(t, api, token)
		}},
		{"websocket, token on the upgrade request", func(t *testing.T, api, token string) {
			s := dialRaw(t, api, upgradeWithToken(token))
			s.send(`{"type":"connection_init"}`)
			expectClose(t, s, gqlws.CloseTryAgainLater, "accounts unavailable")
		}, func(t *testing.T, api, token string) {
			s := dialRaw(t, api, upgradeWithToken(token))
			s.send(`{"type":"connection_init"}`)
			if m := s.next(); m.Type != "connection_ack" {
				t.Fatalf("want connection_ack, got %+v", m)
			}
		}},
	}
	for _, outage := range outages {
		t.Run(outage.name, func(t *testing.T) {
			store := &accountsDownStore{Store: embeddedStore(t)}
			e := newEmbedded(t, apiOptions{store: store})
			_, api := e.serve(t, server.Config{})
			alice := apitest.SignUp(t, api, "alice")
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) {
					e.Tokens.Forget(rawID(t, alice.UserID)) // not confirmed lately: its account must be looked up
					store.err.Store(&outage.err)
					tr.refused(t, api, alice.Token)
					store.err.Store(nil)
					tr.served(t, api, alice.Token)
				})
			}
		})
	}
}

func upgradeWithToken(token string) *websocket.DialOptions {
	return &websocket.DialOptions{Subprotocols: []string{gqlws.Subprotocol}, HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}}
}

// expectRetry asserts a 503 whose error says UNAVAILABLE, with the
// request's id like every error.
func expectRetry(t *testing.T, r rawResponse) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || r.Code() != "UNAVAILABLE" {
		t.Fatalf("status %d %s, want 503 UNAVAILABLE", r.Status, r.Body)
	}
	if id, _ := r.Errors[0].Extensions["requestId"].(string); id == "" || id != r.Header.Get("X-Request-Id") {
		t.Fatalf("error without the request's id (%q): %s", r.Header.Get("X-Request-Id"), r.Body)
	}
}

func expectServed(t *testing.T, r rawResponse) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("status %d %s, want the caller's data", r.Status, r.Body)
	}
}
