// Package playground serves the GraphiQL playground of the messenger API.
//
// The page is a static build of GraphiQL 5 (React + Monaco editor and its web
// workers) produced by Vite from the sources in this directory and committed
// under dist/, which is embedded into the binary: running the server needs
// neither npm nor internet access. Rebuild dist/ with ./build.sh after changing
// src/ or package.json.
//
// The page talks to the API on its own origin only: POST /graphql for queries
// and mutations (with "Authorization: Bearer <token>" once signed in) and
// ws(s)://<host>/graphql (graphql-ws, subprotocol graphql-transport-ws) for
// subscriptions. Responses carry a Content-Security-Policy that forbids loading
// or connecting to any other origin.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var distFS embed.FS

// Prefix is the URL path under which Handler serves the page and its assets.
const Prefix = "/playground"

// Handler returns an http.Handler serving the playground page at /playground
// and /playground/ and its assets under /playground/assets/.
//
// Mount it for both patterns, e.g.
//
//	h := playground.Handler()
//	mux.Handle("/playground", h)
//	mux.Handle("/playground/", h)
//
// Requests whose prefix was already stripped (http.StripPrefix("/playground",
// h)) are served too. Hashed assets are cacheable for a year; index.html is
// revalidated on every load (Cache-Control: no-cache, with an ETag). Text
// assets are gzip-compressed when the client accepts it.
func Handler() http.Handler {
	sub, err := fs.Sub(distFS, "dist")
	if err != nil {
		panic("playground: embedded dist missing: " + err.Error())
	}
	h := &handler{files: map[string]*file{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		h.files[p] = &file{
			name:        p,
			src:         sub,
			size:        len(data),
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
			contentType: contentType(p, data),
			immutable:   strings.HasPrefix(p, "assets/"),
		}
		return nil
	})
	if err != nil {
		panic("playground: reading embedded dist: " + err.Error())
	}
	if h.files["index.html"] == nil {
		panic("playground: dist/index.html missing; run web/playground/build.sh")
	}
	return h
}

type handler struct {
	files map[string]*file
}

type file struct {
	name string
	// src holds the content, read on each request: embed.FS.ReadFile
	// copies, and keeping the copies cost 6.8 MB of heap per handler for
	// the life of the process (issue #24), for a page a developer opens.
	src         fs.FS
	size        int
	etag        string
	contentType string
	immutable   bool // content-hashed name: cache forever

	gzOnce sync.Once
	gz     []byte // gzip of data, nil when not worth it
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := h.resolve(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f := h.files[name]

	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Content-Security-Policy", csp(r))
	if f.immutable {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "no-cache")
	}

	body, etag := []byte(nil), f.etag
	if gz := f.gzipped(); gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	if body == nil {
		var err error
		if body, err = f.content(); err != nil {
			http.Error(w, "playground asset unreadable", http.StatusInternalServerError)
			return
		}
	}
	hdr.Set("ETag", etag)
	// ServeContent handles HEAD, If-None-Match (304) and Range requests.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// resolve maps a request path to a file name in dist.
func (h *handler) resolve(p string) (string, bool) {
	if rest, ok := strings.CutPrefix(p, Prefix); ok {
		if rest != "" && rest[0] != '/' { // e.g. /playgroundX
			return "", false
		}
		p = rest
	}
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" || p == "." {
		p = "index.html"
	}
	_, ok := h.files[p]
	return p, ok
}

// content reads the file's bytes from the embedded dist (a fresh copy).
func (f *file) content() ([]byte, error) { return fs.ReadFile(f.src, f.name) }

func (f *file) gzipped() []byte {
	f.gzOnce.Do(func() {
		if f.size < 1024 || !compressible(f.contentType) {
			return
		}
		data, err := f.content()
		if err != nil {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(data)
		_ = zw.Close()
		if buf.Len() < len(data)*9/10 {
			f.gz = buf.Bytes()
		}
	})
	return f.gz
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") ||
		strings.HasPrefix(ct, "application/json") ||
		strings.HasPrefix(ct, "image/svg+xml") ||
		ct == "font/ttf"
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".ttf":   "font/ttf",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

func contentType(name string, data []byte) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return ct
	}
	return http.DetectContentType(data)
}

// csp builds the Content-Security-Policy: everything from this origin only.
// Monaco and GraphiQL set inline style attributes, hence 'unsafe-inline' for
// styles (never for scripts). Websockets are allowed to the same host
// explicitly, since not every browser treats 'self' as covering ws(s)://.
func csp(r *http.Request) string {
	connect := "'self'"
	if host := r.Host; host != "" && validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; worker-src 'self'; " +
		"style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
		"connect-src " + connect + "; object-src 'none'; base-uri 'self'; " +
		"form-action 'self'; frame-ancestors 'self'"
}

func validHost(h string) bool {
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}
