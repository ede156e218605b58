package server

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"messenger/gqlws"
)

// CORS answers for /graphql, so that a page on another origin can call
// the API over HTTP, with the same allowlist as websockets.
const (
	corsMethods = "GET, POST, OPTIONS"
	// corsHeaders are the request headers a browser may send: those of
	// Apollo Client and urql, the upload spec's preflight headers, partner
	// keys, and request ids and trace context.
	corsHeaders = "Accept, Authorization, Content-Type, Apollo-Require-Preflight, GraphQL-Require-Preflight, " +
		"X-Apollo-Operation-Name, Apollographql-Client-Name, Apollographql-Client-Version, X-Api-Key, " +
		"X-Request-Id, Traceparent, Tracestate"
	// corsExpose are the response headers a page may read.
	corsExpose = "X-Request-Id, Retry-After"
	// corsMaxAge is how long a browser may keep a preflight's answer, in
	// seconds (Chromium caps it at 2 h).
	corsMaxAge = 7200
)

// origins decides which browser origins may call the API: the API's own
// host, the listed origins (any when the list holds "*"), and in
// development http://localhost, http://127.0.0.1 and http://[::1] on any
// port. A request without Origin (not a browser) is always allowed.
type origins struct {
	any       bool
	listed    map[string]bool
	localhost bool
}

func newOrigins(list []string, localhost bool) origins {
	o := origins{listed: map[string]bool{}, localhost: localhost}
	for _, s := range list {
		s = strings.ToLower(strings.TrimRight(strings.TrimSpace(s), "/"))
		if s == "*" {
			o.any = true
		} else if s != "" {
			o.listed[s] = true
		}
	}
	return o
}

// allows reports whether r may be answered for its Origin.
func (o origins) allows(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		return true
	case o.listed[strings.ToLower(origin)]:
		return true
	case origin == "null": // sandboxed frames and files: only when listed
		return false
	case o.any, gqlws.SameHost(r):
		return true
	}
	return o.localhost && isLocalhost(origin)
}

// isLocalhost reports whether origin is http on the loopback host by name
// or address, with any port or none.
func isLocalhost(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Opaque != "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	switch host := u.Hostname(); host {
	case "localhost":
		return true
	default:
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback() && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
	}
}

// withCORS answers preflights for allowed origins and marks the responses
// to allowed origins readable. It echoes the request's own origin, never
// "*", and never allows credentials: the API reads its caller from the
// Authorization header, never from a cookie. A preflight from an origin
// that is not allowed gets 403 and no CORS headers; an actual request from
// one still runs (a browser will not let the page read the answer, and
// without cookies it carries no authority the page did not already have).
// Websocket upgrades are left to the websocket origin check.
func withCORS(o origins, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		allowed := origin != "" && o.allows(r)
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				http.Error(w, "origin "+origin+" may not call this API: add it to MESSENGER_ALLOWED_ORIGINS", http.StatusForbidden)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", corsExpose)
		}
		next.ServeHTTP(w, r)
	})
}
