package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

type requestInfoKey struct{}

// requestInfo is what the API knows of a request before GraphQL runs.
type requestInfo struct {
	id string
	ip string
}

// withRequestInfo gives every request an id (the client's X-Request-Id
// when it is sane, else a new one), echoed in the response, put in error
// extensions as requestId and in log lines; and the client's IP (from
// ipHeader when set, for a trusted proxy in front). It also continues the
// caller's trace (W3C traceparent) when tracing is on.
func withRequestInfo(ipHeader string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			id = newID()
		}
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		if ipHeader != "" {
			if h := r.Header.Get(ipHeader); h != "" {
				ip, _, _ = strings.Cut(h, ",")
				ip = strings.TrimSpace(ip)
			}
		}
		// Refusals written before GraphQL runs read the id back from this
		// header (see writeRefusal), so it is set before anything else.
		w.Header().Set("X-Request-Id", id)
		// With tracing off the global propagator is a no-op.
		base := r.Context()
		if r.Header.Get("Upgrade") != "" {
			base = socketBase(base)
		}
		ctx := otel.GetTextMapPropagator().Extract(base, propagation.HeaderCarrier(r.Header))
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, requestInfoKey{}, requestInfo{id: id, ip: ip})))
	})
}

// socketBase returns a context holding ctx's net/http values but not the
// HTTP server's per-connection and per-request cancel contexts. A websocket
// keeps its upgrade request's context (detached from cancellation) for its
// whole life, and those contexts, their done channels and the connection's
// map of children cost ≈ 400 bytes per idle socket (issue #24). Nothing on
// an upgrade request waits on the request's cancellation: the handshake is
// answered at once and the socket is then closed by gqlws.
func socketBase(ctx context.Context) context.Context {
	base := context.Background()
	for _, k := range []any{http.ServerContextKey, http.LocalAddrContextKey} {
		if v := ctx.Value(k); v != nil {
			base = context.WithValue(base, k, v)
		}
	}
	return base
}

func saneID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestID is the id of the request ctx belongs to ("" outside one).
func requestID(ctx context.Context) string {
	ri, _ := ctx.Value(requestInfoKey{}).(requestInfo)
	return ri.id
}

func clientIP(ctx context.Context) string {
	ri, _ := ctx.Value(requestInfoKey{}).(requestInfo)
	return ri.ip
}
