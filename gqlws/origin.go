package gqlws

import (
	"net/http"
	"strings"
)

// SameHost accepts requests without an Origin header (non-browser clients)
// and those whose Origin's host equals the request's Host.
func SameHost(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	_, host, ok := strings.Cut(o, "://")
	return ok && strings.EqualFold(host, r.Host)
}

// AllowOrigins returns an origin check accepting SameHost requests and the
// listed origins ("https://app.example.com"; "*" accepts any).
func AllowOrigins(origins []string) func(*http.Request) bool {
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[strings.ToLower(strings.TrimRight(o, "/"))] = true
	}
	return func(r *http.Request) bool {
		return allowed["*"] || SameHost(r) || allowed[strings.ToLower(r.Header.Get("Origin"))]
	}
}
