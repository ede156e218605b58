// Package relay serves another blob.Store's objects through the API with
// signed URLs, adding the headers object stores cannot set per request
// (X-Content-Type-Options: nosniff and a sandboxing CSP). The folder store
// serves all its downloads this way; with S3 the API relays documents,
// which must never be sniffed into something a browser renders.
package relay

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"messenger/blob"
)

// Config configures a Relay. Zero values are documented defaults.
type Config struct {
	// Store holds the objects. Required.
	Store blob.Store
	// Secret signs the URLs (32+ bytes). Required.
	Secret []byte
	// BaseURL is the API's public URL (scheme://host[:port][/path], no
	// trailing slash) that every signed URL starts with; never taken from
	// a request. Default "" gives host-relative URLs.
	BaseURL string
	// Prefix is the path Handler is mounted under (default "/blobs/relay/").
	Prefix string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Relay signs download URLs pointing at the API and serves them.
type Relay struct {
	cfg Config
}

// New returns a Relay.
func New(cfg Config) (*Relay, error) {
	if cfg.Store == nil || len(cfg.Secret) < 32 {
		return nil, errors.New("relay: Config.Store and a 32-byte Config.Secret are required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/blobs/relay/"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Relay{cfg: cfg}, nil
}

// Sign is the hex HMAC-SHA256 of parts, each followed by a zero byte.
func Sign(secret []byte, parts ...string) string {
	h := hmac.New(sha256.New, secret)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PresignGet signs key, expiry and response headers into a URL served by
// Handler, with the contract of blob.Store.PresignGet.
func (r *Relay) PresignGet(ctx context.Context, key string, ttl time.Duration, opts blob.GetOptions) (string, error) {
	if err := blob.ValidKey(key); err != nil {
		return "", fmt.Errorf("relay: presign %q: %w", key, err)
	}
	exp := strconv.FormatInt(r.cfg.Now().Add(ttl).Unix(), 10)
	q := url.Values{}
	q.Set("exp", exp)
	if opts.ContentType != "" {
		q.Set("ct", opts.ContentType)
	}
	if opts.ContentDisposition != "" {
		q.Set("cd", opts.ContentDisposition)
	}
	q.Set("sig", Sign(r.cfg.Secret, "GET", key, exp, opts.ContentType, opts.ContentDisposition))
	return r.cfg.BaseURL + r.cfg.Prefix + "o/" + key + "?" + q.Encode(), nil
}

// Handler serves GET and HEAD <prefix>o/<key>?exp=&ct=&cd=&sig=. Like S3
// it answers 403 for a bad or expired signature and 404 for a missing
// object; Range requests are honoured when the store's reader can seek.
func (r *Relay) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rest, ok := strings.CutPrefix(req.URL.Path, r.cfg.Prefix)
		key, isObj := strings.CutPrefix(rest, "o/")
		if !ok || !isObj || (req.Method != http.MethodGet && req.Method != http.MethodHead) {
			http.NotFound(w, req)
			return
		}
		r.serveGet(w, req, key)
	})
}

func (r *Relay) serveGet(w http.ResponseWriter, req *http.Request, key string) {
	q := req.URL.Query()
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	want := Sign(r.cfg.Secret, "GET", key, q.Get("exp"), q.Get("ct"), q.Get("cd"))
	if err != nil || !hmac.Equal([]byte(want), []byte(q.Get("sig"))) || r.cfg.Now().Unix() > exp {
		http.Error(w, "AccessDenied: bad or expired signature", http.StatusForbidden)
		return
	}
	rc, info, err := r.cfg.Store.Get(req.Context(), key)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrBadKey) {
			code = http.StatusNotFound
		}
		http.Error(w, http.StatusText(code), code)
		return
	}
	defer func() { _ = rc.Close() }()
	h := w.Header()
	ct := q.Get("ct")
	if ct == "" {
		ct = info.ContentType
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	if cd := q.Get("cd"); cd != "" {
		h.Set("Content-Disposition", cd)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("Cache-Control", "private, max-age=300")
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, req, "", info.ModTime, rs)
		return
	}
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	if req.Method == http.MethodHead {
		return
	}
	_, _ = io.Copy(w, rc)
}
