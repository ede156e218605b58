package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"messenger/gqlws"
	"messenger/server"
)

func TestCORSAnswersAllowedOriginsOnly(t *testing.T) {
	const app = "https://app.example.com"
	dev := startProd(t, prodOptions{config: func(c *server.Config) { c.AllowedOrigins = []string{app} }})
	prod := startProd(t, prodOptions{config: func(c *server.Config) { c.AllowedOrigins = []string{app}; c.Production = true }})
	wildcard := startProd(t, prodOptions{config: func(c *server.Config) { c.AllowedOrigins = []string{"*"}; c.Production = true }})
	wantHeaders := []string{"content-type", "authorization", "apollo-require-preflight", "graphql-require-preflight",
		"x-apollo-operation-name", "apollographql-client-name", "apollographql-client-version", "x-api-key", "accept"}

	preflight := func(api *prodAPI, origin string) rawResponse {
		return do(t, http.MethodOptions, api.URL+"/graphql", nil, map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,authorization",
		})
	}
	actual := func(api *prodAPI, origin string) rawResponse {
		return post(t, api, map[string]any{"query": `{ __typename }`}, map[string]string{"Origin": origin})
	}
	for _, tc := range []struct {
		name    string
		api     *prodAPI
		origin  string
		allowed bool
	}{
		{"listed origin", dev, app, true},
		{"listed origin in production", prod, app, true},
		{"listed origin, other case and trailing slash in the list", dev, "https://APP.example.com", true},
		{"unlisted origin", dev, "https://evil.example", false},
		{"unlisted origin in production", prod, "https://evil.example", false},
		{"localhost in development", dev, "http://localhost:5173", true},
		{"127.0.0.1 in development", dev, "http://127.0.0.1:3000", true},
		{"localhost without a port in development", dev, "http://localhost", true},
		{"localhost in production", prod, "http://localhost:5173", false},
		{"127.0.0.1 in production", prod, "http://127.0.0.1:3000", false},
		{"a look-alike of localhost", dev, "http://localhost.evil.example:5173", false},
		{"localhost over https is not the default", dev, "https://localhost:5173", false},
		{"the null origin", dev, "null", false},
		{"any origin allowed by *", wildcard, "https://whoever.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for kind, r := range map[string]rawResponse{"preflight": preflight(tc.api, tc.origin), "request": actual(tc.api, tc.origin)} {
				if r.Header.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("%s: allows credentials", kind)
				}
				if !strings.Contains(r.Header.Get("Vary"), "Origin") {
					t.Errorf("%s: no Vary: Origin (%v)", kind, r.Header)
				}
				acao := r.Header.Get("Access-Control-Allow-Origin")
				if !tc.allowed {
					if acao != "" {
						t.Errorf("%s: an origin that is not allowed got Access-Control-Allow-Origin %q", kind, acao)
					}
					continue
				}
				if acao != tc.origin {
					t.Errorf("%s: Access-Control-Allow-Origin %q, want the exact origin %q", kind, acao, tc.origin)
				}
			}
			r := preflight(tc.api, tc.origin)
			if !tc.allowed {
				if r.Status != http.StatusForbidden {
					t.Errorf("preflight of an origin not allowed: %d", r.Status)
				}
				return
			}
			if r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Max-Age") == "" {
				t.Errorf("preflight: %d, max-age %q", r.Status, r.Header.Get("Access-Control-Max-Age"))
			}
			for _, m := range []string{"GET", "POST", "OPTIONS"} {
				if !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), m) {
					t.Errorf("preflight: methods %q lack %s", r.Header.Get("Access-Control-Allow-Methods"), m)
				}
			}
			allowHeaders := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers"))
			for _, h := range wantHeaders {
				if !strings.Contains(", "+allowHeaders+",", ", "+h+",") {
					t.Errorf("preflight: allowed headers %q lack %s", allowHeaders, h)
				}
			}
			a := actual(tc.api, tc.origin)
			if a.Status != http.StatusOK || !strings.Contains(a.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
				t.Errorf("request: %d, exposes %q: %.200s", a.Status, a.Header.Get("Access-Control-Expose-Headers"), a.Body)
			}
		})
	}
}

// TestWebsocketsAndHTTPShareTheOriginPolicy: localhost pages may open a
// websocket in development, not in production.
func TestWebsocketsAndHTTPShareTheOriginPolicy(t *testing.T) {
	dev := startProd(t, prodOptions{})
	prod := startProd(t, prodOptions{config: func(c *server.Config) { c.Production = true }})
	for _, tc := range []struct {
		api  *prodAPI
		want int
	}{{dev, http.StatusSwitchingProtocols}, {prod, http.StatusForbidden}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, resp, _ := websocket.Dial(ctx, "ws"+strings.TrimPrefix(tc.api.URL, "http")+"/graphql", &websocket.DialOptions{
			Subprotocols: []string{gqlws.Subprotocol}, HTTPHeader: http.Header{"Origin": {"http://localhost:5173"}}})
		cancel()
		if c != nil {
			c.CloseNow()
		}
		if resp == nil || resp.StatusCode != tc.want {
			t.Errorf("websocket from http://localhost:5173: %v, want %d", resp, tc.want)
		}
	}
}
