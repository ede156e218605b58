package textrules

import (
	"net/url"
	"strings"
	"testing"
)

func TestFirstURLFindsTheFirstLinkInRunningText(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"no link here", ""},
		{"see https://example.com/a?b=c#frag.", "https://example.com/a?b=c"},
		{"(look: http://Example.COM)", "http://example.com/"},
		{"wiki https://en.wikipedia.org/wiki/Go_(language), nice", "https://en.wikipedia.org/wiki/Go_(language)"},
		{"first ftp://x.example then HTTPS://b.example/x and https://c.example", "https://b.example/x"},
		{"nothttps://a.example https://b.example", "https://b.example/"},
		{"creds https://user:pw@a.example/ then https://b.example/ok", "https://b.example/ok"},
		{"bare https:// nothing", ""},
		{"<https://a.example/x>", "https://a.example/x"},
		{"https://" + strings.Repeat("a", MaxURLBytes) + ".example", ""},
	} {
		if got := FirstURL(tc.body); got != tc.want {
			t.Errorf("FirstURL(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func FuzzFirstURL(f *testing.F) {
	for _, s := range []string{"https://a.example/x", "http://[::1]:80/", "x http://a.b/(c)).", "https://%zz", "HTTP://A.B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		u := FirstURL(body)
		if u == "" {
			return
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Hostname() == "" || p.User != nil || len(u) > MaxURLBytes {
			t.Fatalf("FirstURL(%q) = %q: not a clean http(s) URL (%v)", body, u, err)
		}
	})
}
