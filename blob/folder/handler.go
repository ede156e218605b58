package folder

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"messenger/blob"
)

// Handler serves the store's presigned URLs under Config.Prefix:
//
//	GET  <prefix>o/<key>?exp=&ct=&cd=&sig=   download (Range supported)
//	POST <prefix>upload                       form upload (fields, then "file")
//
// Like S3 it answers 403 for a bad or expired signature, 404 for a missing
// object, 400 EntityTooLarge / EntityTooSmall for a body outside the
// policy, and 204 after an upload.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, s.cfg.Prefix)
		switch {
		case ok && strings.HasPrefix(rest, "o/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			s.serveGet(w, r, strings.TrimPrefix(rest, "o/"))
		case ok && rest == "upload" && r.Method == http.MethodPost:
			s.servePost(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func (s *Store) serveGet(w http.ResponseWriter, r *http.Request, key string) {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	want := s.sign("GET", key, q.Get("exp"), q.Get("ct"), q.Get("cd"))
	if err != nil || !hmac.Equal([]byte(want), []byte(q.Get("sig"))) || s.cfg.Now().Unix() > exp {
		http.Error(w, "AccessDenied: bad or expired signature", http.StatusForbidden)
		return
	}
	rc, info, err := s.Get(r.Context(), key)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrBadKey) {
			code = http.StatusNotFound
		}
		http.Error(w, http.StatusText(code), code)
		return
	}
	defer rc.Close()
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
		http.ServeContent(w, r, "", info.ModTime, rs)
		return
	}
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	_, _ = io.Copy(w, rc)
}

func (s *Store) servePost(w http.ResponseWriter, r *http.Request) {
	// The policy's own limit applies to the file part while it streams;
	// this cap bounds the fields and framing before the policy is known.
	r.Body = http.MaxBytesReader(w, r.Body, 1<<30)
	mr, err := r.MultipartReader()
	if err != nil {
		http.Error(w, "MalformedPOSTRequest", http.StatusBadRequest)
		return
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err != nil {
			http.Error(w, "MalformedPOSTRequest: no file part", http.StatusBadRequest)
			return
		}
		if part.FormName() != "file" {
			if len(fields) > 32 {
				http.Error(w, "MalformedPOSTRequest: too many fields", http.StatusBadRequest)
				return
			}
			v, err := io.ReadAll(io.LimitReader(part, 8<<10))
			if err != nil {
				http.Error(w, "MalformedPOSTRequest", http.StatusBadRequest)
				return
			}
			fields[part.FormName()] = string(v)
			continue
		}
		var p policy
		raw, _ := base64.StdEncoding.DecodeString(fields["policy"])
		want := s.sign("POST", fields["policy"])
		if !hmac.Equal([]byte(want), []byte(fields["x-signature"])) || json.Unmarshal(raw, &p) != nil ||
			p.Key != fields["key"] || time.Unix(p.Expires, 0).Before(s.cfg.Now()) {
			http.Error(w, "AccessDenied: bad or expired policy", http.StatusForbidden)
			return
		}
		n, err := s.Put(r.Context(), p.Key, part, p.Max, part.Header.Get("Content-Type"))
		switch {
		case errors.Is(err, blob.ErrTooLarge):
			http.Error(w, "EntityTooLarge: the file exceeds the policy's content-length-range", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "InternalError", http.StatusInternalServerError)
			return
		case n == 0:
			_ = s.Delete(r.Context(), p.Key)
			http.Error(w, "EntityTooSmall: the file is empty", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
}
