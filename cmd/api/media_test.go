package main

import "testing"

// Signed file URLs start with MESSENGER_PUBLIC_URL; unset, a development
// server derives one from its listen address, and production refuses to
// start rather than hand out URLs nobody else can reach.
func TestPublicURLIsConfiguredOrDerivedInDevelopment(t *testing.T) {
	for _, tc := range []struct {
		env, addr, public string
		want              string // "" = an error
	}{
		{"development", ":8080", "", "http://localhost:8080"},
		{"development", "0.0.0.0:9000", "", "http://localhost:9000"},
		{"development", "[::]:9000", "", "http://localhost:9000"},
		{"development", "127.0.0.1:9000", "", "http://127.0.0.1:9000"},
		{"production", ":8080", "", ""},
		{"production", ":8080", "https://api.example.com/", "https://api.example.com"},
		{"development", ":8080", "https://example.com/api", "https://example.com/api"},
		{"development", ":8080", "api.example.com", ""},
		{"development", ":8080", "ftp://api.example.com", ""},
		{"development", ":8080", "https://api.example.com/?x=1", ""},
		{"development", ":8080", "https://user:pw@api.example.com", ""},
	} {
		got, err := publicURL(config{Env: tc.env, HTTPAddr: tc.addr, PublicURL: tc.public})
		if (tc.want == "") != (err != nil) || got != tc.want {
			t.Errorf("publicURL(%s, %q, %q) = %q, %v; want %q", tc.env, tc.addr, tc.public, got, err, tc.want)
		}
	}
}
