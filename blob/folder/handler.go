package folder

import (
	"bufio"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"messenger/blob"
)

// Handler serves the store's presigned URLs under Config.Prefix:
//
//	GET  <prefix>o/<key>?exp=&ct=&cd=&sig=   download (blob/relay: Range, nosniff)
//	POST <prefix>upload                       form upload (fields, then "file")
//	PUT  <prefix>part?key=&u=&n=&size=&exp=&sig= one part of a multipart upload
//
// Like S3 it answers 403 for a bad or expired signature, 404 for a missing
// object, 400 EntityTooLarge / EntityTooSmall for a body outside the
// policy, and 204 after an upload.
func (s *Store) Handler() http.Handler {
	get := s.dl.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, s.cfg.Prefix)
		switch {
		case ok && strings.HasPrefix(rest, "o/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			get.ServeHTTP(w, r)
		case ok && rest == "upload" && r.Method == http.MethodPost:
			s.servePost(w, r)
		case ok && rest == "part" && r.Method == http.MethodPut:
			s.servePart(w, r) // multipart.go
		default:
			http.NotFound(w, r)
		}
	})
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
		// Like S3, a POST replaces what an earlier one stored; a refused
		// one (too large, empty) leaves it.
		body := bufio.NewReader(part)
		if _, err := body.Peek(1); errors.Is(err, io.EOF) {
			http.Error(w, "EntityTooSmall: the file is empty", http.StatusBadRequest)
			return
		} else if err != nil {
			http.Error(w, "MalformedPOSTRequest", http.StatusBadRequest)
			return
		}
		_, err = s.write(r.Context(), p.Key, body, p.Max, part.Header.Get("Content-Type"), true)
		switch {
		case errors.Is(err, blob.ErrTooLarge):
			http.Error(w, "EntityTooLarge: the file exceeds the policy's content-length-range", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "InternalError", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
}
