package playground

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIndexServed(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/playground", "/playground/", "/playground/index.html"} {
		res := get(t, h, p, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", p, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", p, ct)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", p, cc)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", p, csp)
		}
		if b := body(t, res); !strings.Contains(b, `<div id="root">`) {
			t.Errorf("GET %s: body is not the playground page:\n%s", p, b)
		}
	}
}

func TestIndexRevalidates(t *testing.T) {
	h := Handler()
	res := get(t, h, "/playground/", nil)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on index.html")
	}
	res = get(t, h, "/playground/", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d, want 304", res.StatusCode)
	}
}

var assetRef = regexp.MustCompile(`(?:src|href)="([^"]+)"`)

func TestAssetsReferencedByIndexServed(t *testing.T) {
	h := Handler()
	index := body(t, get(t, h, "/playground", nil))
	refs := assetRef.FindAllStringSubmatch(index, -1)
	if len(refs) == 0 {
		t.Fatal("index.html references no assets")
	}
	var sawJS, sawCSS bool
	for _, m := range refs {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") {
			continue // inline, e.g. the empty favicon
		}
		if !strings.HasPrefix(ref, "/playground/assets/") {
			t.Errorf("index.html references %q, want a /playground/assets/ path", ref)
			continue
		}
		res := get(t, h, ref, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", ref, res.StatusCode)
			continue
		}
		ct := res.Header.Get("Content-Type")
		switch {
		case strings.HasSuffix(ref, ".js"):
			sawJS = true
			if ct != "text/javascript; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q", ref, ct)
			}
		case strings.HasSuffix(ref, ".css"):
			sawCSS = true
			if ct != "text/css; charset=utf-8" {
				t.Errorf("GET %s: Content-Type %q", ref, ct)
			}
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("GET %s: Cache-Control %q, want long-lived immutable", ref, cc)
		}
		if len(body(t, res)) == 0 {
			t.Errorf("GET %s: empty body", ref)
		}
	}
	if !sawJS || !sawCSS {
		t.Errorf("index.html should reference a script and a stylesheet (js=%v css=%v)", sawJS, sawCSS)
	}
}

func TestGzip(t *testing.T) {
	h := Handler()
	index := body(t, get(t, h, "/playground", nil))
	var script string
	for _, m := range assetRef.FindAllStringSubmatch(index, -1) {
		if strings.HasSuffix(m[1], ".js") && strings.Contains(m[1], "/index-") {
			script = m[1]
		}
	}
	if script == "" {
		t.Fatal("no entry script in index.html")
	}
	plain := body(t, get(t, h, script, nil))
	res := get(t, h, script, map[string]string{"Accept-Encoding": "br, gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("GET %s with Accept-Encoding gzip: Content-Encoding %q", script, res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	unz, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unz, []byte(plain)) {
		t.Fatal("gzip body differs from the plain asset")
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/playground/nope.js", "/playground/assets/", "/playgroundx", "/playground/../go.mod"} {
		if res := get(t, h, p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, res.StatusCode)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/playground", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
}

func TestStripPrefixMount(t *testing.T) {
	h := http.StripPrefix("/playground", Handler())
	if res := get(t, h, "/playground/", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("StripPrefix mount: status %d", res.StatusCode)
	}
}

// Patterns that would make the browser load a script, stylesheet, font,
// worker or module from another host.
var remoteLoads = map[string]*regexp.Regexp{
	".html": regexp.MustCompile(`(?i)(?:src|href)\s*=\s*["']?\s*(?:https?:)?//`),
	".css":  regexp.MustCompile(`(?i)(?:url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?\s*(?:https?:)?//)`),
	".js": regexp.MustCompile(`(?:\bimport\s*\(\s*|\bfrom\s*|\bimportScripts\s*\(\s*|\bnew\s+(?:Shared)?Worker\s*\(\s*)` +
		"[\"'`]\\s*(?:https?:)?//"),
}

// CDN hosts must not appear anywhere in dist, not even as strings.
var cdnHosts = []string{"unpkg.com", "jsdelivr", "esm.sh", "cdnjs", "googleapis.com", "gstatic.com", "skypack", "jspm"}

func TestDistLoadsNothingRemote(t *testing.T) {
	sub, err := fs.Sub(distFS, "dist")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		lower := strings.ToLower(string(data))
		for _, host := range cdnHosts {
			if i := strings.Index(lower, host); i >= 0 {
				t.Errorf("%s mentions CDN %q: …%s…", p, host, excerpt(lower, i))
			}
		}
		for ext, re := range remoteLoads {
			if !strings.HasSuffix(p, ext) {
				continue
			}
			if loc := re.FindIndex(data); loc != nil {
				t.Errorf("%s loads from a remote host: …%s…", p, excerpt(string(data), loc[0]))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("dist holds only %d files; run web/playground/build.sh", n)
	}
}

func excerpt(s string, i int) string {
	lo, hi := max(0, i-40), min(len(s), i+80)
	return s[lo:hi]
}
